(import (scheme base) (scheme write))
; re-entering a dynamic-wind body through a continuation runs the before thunk again
(define (test1)
  (let ((log '()) (k #f) (n 0))
    (define (note x) (set! log (cons x log)))
    (dynamic-wind
      (lambda () (note 'in))
      (lambda () (call/cc (lambda (c) (set! k c))) (note 'body))
      (lambda () (note 'out)))
    (set! n (+ n 1))
    (if (< n 3) (k 'again))
    (reverse log)))
(display (list 'case1 (test1))) (newline)
; jumping from one dynamic extent into another
(define (test2)
  (let ((log '()) (k-inner #f) (first-time #t))
    (define (note x) (set! log (cons x log)))
    (dynamic-wind
      (lambda () (note 'x-in))
      (lambda () (call/cc (lambda (c) (set! k-inner c))) (note 'x-body))
      (lambda () (note 'x-out)))
    (dynamic-wind
      (lambda () (note 'y-in))
      (lambda () (when first-time (set! first-time #f) (k-inner #f)))
      (lambda () (note 'y-out)))
    (reverse log)))
(display (list 'case2 (test2))) (newline)
