(import (scheme base) (scheme write))
; a continuation captured inside nested dynamic-wind thunks: re-entering it from outside
; runs the before thunks again, outermost first, and leaving runs the afters, innermost first
(define (test1)
  (let ((log '()) (k #f) (passes 0))
    (define (note x) (set! log (cons x log)))
    (dynamic-wind
      (lambda () (note 'outer-before))
      (lambda ()
        (dynamic-wind
          (lambda () (note 'inner-before))
          (lambda () (call/cc (lambda (c) (set! k c))) (note 'body))
          (lambda () (note 'inner-after))))
      (lambda () (note 'outer-after)))
    (set! passes (+ passes 1))
    (if (< passes 2) (k 'again))
    (reverse log)))
(display (list 'case1 (test1))) (newline)
; escaping out of the middle of a body with a continuation captured outside
(define (test2)
  (let* ((log '())
         (note (lambda (x) (set! log (cons x log))))
         (result (call/cc
                   (lambda (escape)
                     (dynamic-wind
                       (lambda () (note 'before))
                       (lambda () (escape 'escaped) (note 'not-reached))
                       (lambda () (note 'after)))))))
    (list result (reverse log))))
(display (list 'case2 (test2))) (newline)
; a generator that re-enters its dynamic-wind body each time it is resumed
(define log '())
(define (note x) (set! log (cons x log)))
(define (make-gen items)
  (define return #f)
  (define resume #f)
  (define (gen)
    (call/cc
      (lambda (r)
        (set! return r)
        (if resume
            (resume 'go)
            (begin
              (dynamic-wind
                (lambda () (note 'enter))
                (lambda ()
                  (for-each (lambda (x)
                              (call/cc (lambda (here) (set! resume here) (return x))))
                            items))
                (lambda () (note 'leave)))
              (return 'done))))))
  gen)
(define (test3)
  (let* ((g (make-gen '(a b)))
         (first (g))
         (second (g))
         (third (g)))
    (list first second third (reverse log))))
(display (list 'case3 (test3))) (newline)
; the before thunk runs once per entry, however the extent is entered
(define (test4)
  (let ((entries 0) (k #f) (seen '()))
    (dynamic-wind
      (lambda () (set! entries (+ entries 1)))
      (lambda () (set! seen (cons (call/cc (lambda (c) (set! k c) 0)) seen)))
      (lambda () #f))
    (if (< (length seen) 3) (k (length seen)))
    (list entries (reverse seen))))
(display (list 'case4 (test4))) (newline)
