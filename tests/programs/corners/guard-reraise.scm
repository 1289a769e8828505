(import (scheme base) (scheme write))
; a guard with no matching clause re-raises with raise-continuable in the dynamic environment
; of the original raise, so an outer handler can return a value to the raise-continuable point
(display (list 'case1
  (with-exception-handler
    (lambda (c) 42)
    (lambda ()
      (+ (guard (e ((string? e) 'string))
           (raise-continuable 'not-a-string))
         1))))) (newline)
; the same through two guards that both decline
(display (list 'case2
  (with-exception-handler
    (lambda (c) (* c 10))
    (lambda ()
      (guard (e ((symbol? e) 'outer-symbol))
        (guard (e ((string? e) 'inner-string))
          (list 'body (raise-continuable 5)))))))) (newline)
; an outer guard catches what the inner one declines
(display (list 'case3
  (guard (e ((number? e) (list 'outer e)))
    (guard (e ((string? e) (list 'inner e)))
      (raise 7))))) (newline)
; re-raising goes back into the body's dynamic extent: the before thunk runs again
(define log '())
(define (note x) (set! log (cons x log)))
(define result4
  (guard (e (#t (note 'outer-clause) e))
    (guard (e ((string? e) 'no))
      (dynamic-wind
        (lambda () (note 'before))
        (lambda () (raise 'sym))
        (lambda () (note 'after))))))
(display (list 'case4 result4 (reverse log))) (newline)
; when an inner clause matches, the dynamic extent is left once
(set! log '())
(define result5
  (guard (e ((symbol? e) (note 'clause) e))
    (dynamic-wind
      (lambda () (note 'before))
      (lambda () (raise 'caught))
      (lambda () (note 'after)))))
(display (list 'case5 result5 (reverse log))) (newline)
; guard's else clause catches everything
(display (list 'case6 (guard (e ((string? e) 'string) (else (list 'else e))) (raise 'x)))) (newline)
