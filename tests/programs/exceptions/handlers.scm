(import (scheme base) (scheme write))
; raise-continuable: the handler's value is returned to the raise point
(display (list 'case1
  (with-exception-handler
    (lambda (e) (* e 10))
    (lambda () (+ 1 (raise-continuable 4)))))) (newline)
; the handler runs with the outer handler installed
(display (list 'case2
  (with-exception-handler
    (lambda (e) (list 'outer e))
    (lambda ()
      (with-exception-handler
        (lambda (e) (raise-continuable (list 'inner e)))
        (lambda () (raise-continuable 'x))))))) (newline)
; escaping from a handler with a continuation
(display (list 'case3
  (call/cc
    (lambda (k)
      (with-exception-handler
        (lambda (e) (k (list 'escaped e)))
        (lambda () (raise 'problem) 'not-reached)))))) (newline)
; several raise-continuable calls in one body
(define log '())
(display (list 'case4
  (with-exception-handler
    (lambda (e) (set! log (cons e log)) (length log))
    (lambda () (let* ((x (raise-continuable 'a)) (y (raise-continuable 'b))) (list x y log)))))) (newline)
; handlers for error objects
(display (list 'case5
  (call/cc
    (lambda (k)
      (with-exception-handler
        (lambda (e) (k (error-object-message e)))
        (lambda () (error "msg from error" 1 2))))))) (newline)
