(import (scheme base) (scheme write))
(define log '())
(define (note x) (set! log (cons x log)))
(define r (dynamic-wind (lambda () (note 'before)) (lambda () (note 'during) 'result) (lambda () (note 'after))))
(display (list 'case1 r (reverse log))) (newline)
; nested winds
(set! log '())
(dynamic-wind
  (lambda () (note 'outer-in))
  (lambda ()
    (dynamic-wind (lambda () (note 'inner-in)) (lambda () (note 'body)) (lambda () (note 'inner-out))))
  (lambda () (note 'outer-out)))
(display (list 'case2 (reverse log))) (newline)
; escaping with a continuation runs the after thunks, innermost first
(set! log '())
(define v
  (call/cc
    (lambda (k)
      (dynamic-wind
        (lambda () (note 'a-in))
        (lambda ()
          (dynamic-wind (lambda () (note 'b-in)) (lambda () (k 'escaped) (note 'not-here)) (lambda () (note 'b-out))))
        (lambda () (note 'a-out))))))
(display (list 'case3 v (reverse log))) (newline)
