(import (scheme base) (scheme write))
; after thunks run when an exception escapes through them to a guard
(define log '())
(define (note x) (set! log (cons x log)))
(define r
  (guard (e (#t (note 'handler) (list 'caught e)))
    (dynamic-wind
      (lambda () (note 'in))
      (lambda () (raise 'oops))
      (lambda () (note 'out)))))
(display (list 'case1 r (reverse log))) (newline)
; with-exception-handler runs the handler inside the dynamic extent of raise
(set! log '())
(define r2
  (call/cc
    (lambda (k)
      (with-exception-handler
        (lambda (e) (note 'handler) (k (list 'handled e)))
        (lambda ()
          (dynamic-wind
            (lambda () (note 'in))
            (lambda () (raise 'boom))
            (lambda () (note 'out))))))))
(display (list 'case2 r2 (reverse log))) (newline)
