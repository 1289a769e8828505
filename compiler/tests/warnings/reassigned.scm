; A procedure that is reassigned or redefined may change its arity: no arity warning.
(define (f x) x)
(set! f (lambda (x y) (+ x y)))
(f 1 2)
(define (g x) x)
(define (g x y) y)
(g 1 2)
(define car (lambda args args))
(car 1 2 3)
