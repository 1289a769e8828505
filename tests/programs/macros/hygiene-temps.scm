(import (scheme base) (scheme write))
; the classic my-or: the macro's t must not capture the user's t
(define-syntax my-or
  (syntax-rules ()
    ((_) #f)
    ((_ e) e)
    ((_ e r ...) (let ((t e)) (if t t (my-or r ...))))))
(define t 5)
(display (list 'case1 (my-or #f t))) (newline)
(display (list 'case2 (let ((t 7)) (my-or #f t)))) (newline)
(display (list 'case3 (my-or #f #f))) (newline)
; swap! with a user variable named tmp
(define-syntax swap!
  (syntax-rules ()
    ((_ a b) (let ((tmp a)) (set! a b) (set! b tmp)))))
(define tmp 'first)
(define other 'second)
(swap! tmp other)
(display (list 'case4 tmp other)) (newline)
(let ((tmp 1) (y 2))
  (swap! tmp y)
  (display (list 'case5 tmp y)) (newline))
; a macro introducing a loop variable that the user also uses
(define-syntax repeat
  (syntax-rules ()
    ((_ n body ...) (let loop ((i 0)) (when (< i n) body ... (loop (+ i 1)))))))
(define i 100)
(define seen '())
(repeat 3 (set! seen (cons i seen)))
(display (list 'case6 seen)) (newline)
; user code named loop inside the body is not captured either
(define (loop x) (list 'user-loop x))
(define res '())
(repeat 2 (set! res (cons (loop 'called) res)))
(display (list 'case7 res)) (newline)
; free identifiers in the template refer to the macro definition environment
(define helper (lambda (x) (list 'global-helper x)))
(define-syntax call-helper
  (syntax-rules () ((_ x) (helper x))))
(display (list 'case8 (let ((helper (lambda (x) 'local-helper))) (call-helper 1)))) (newline)
; a macro defined inside a scope refers to that scope's binding
(define r
  (let ((x 'outer))
    (let-syntax ((get-x (syntax-rules () ((_) x))))
      (let ((x 'inner))
        (get-x)))))
(display (list 'case9 r)) (newline)
