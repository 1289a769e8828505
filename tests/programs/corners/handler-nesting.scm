(import (scheme base) (scheme write))
; a handler runs with the outer handler installed: raising inside it goes outward
(display (list 'case1
  (with-exception-handler
    (lambda (e) (* e 10))
    (lambda ()
      (with-exception-handler
        (lambda (e) (+ (raise-continuable (+ e 1)) 1))
        (lambda () (raise-continuable 1))))))) (newline)
; the value of raise-continuable is whatever the handler returns, used in place
(display (list 'case2
  (with-exception-handler
    (lambda (e) (if (symbol? e) 0 100))
    (lambda () (list (raise-continuable 'a) (raise-continuable "b")))))) (newline)
; a handler that escapes with a continuation instead of returning
(display (list 'case3
  (call/cc
    (lambda (k)
      (with-exception-handler
        (lambda (e) (k (list 'escaped e)))
        (lambda () (raise 'boom) 'not-reached)))))) (newline)
; guard inside a handler, catching what the handler itself raises
(display (list 'case4
  (with-exception-handler
    (lambda (e) (guard (inner (#t (list 'inner-caught inner))) (raise (list 'from-handler e))))
    (lambda () (raise-continuable 'x))))) (newline)
; an error object from error carries message and irritants through nested handlers
(display (list 'case5
  (guard (e ((error-object? e) (cons (error-object-message e) (error-object-irritants e))))
    (with-exception-handler
      (lambda (e) (raise e))
      (lambda () (error "deep:" 1 2 3)))))) (newline)
; returning from a handler for raise (not continuable) is itself an error, caught by the outer guard
(display (list 'case6
  (guard (e (#t 'secondary-error-caught))
    (with-exception-handler
      (lambda (e) 'returned)
      (lambda () (raise 'not-continuable) 'not-reached))))) (newline)
