(import (scheme base) (scheme write))
(display (list 'case1 ((lambda (x) (* x 2)) 21))) (newline)
(display (list 'case2 ((lambda () 'no-args)))) (newline)
(display (list 'case3 ((lambda args args) 1 2 3))) (newline)
(display (list 'case4 ((lambda args args)))) (newline)
(display (list 'case5 ((lambda (a b . c) (list a b c)) 1 2))) (newline)
(display (list 'case6 ((lambda (a b . c) (list a b c)) 1 2 3 4 5))) (newline)
(display (list 'case7 ((lambda (a . b) b) 'only))) (newline)
; the rest list is a fresh list that may be mutated
(define (f . xs) (set-car! xs 'changed) xs)
(display (list 'case8 (f 1 2))) (newline)
; higher-order: lambda returning lambda
(define (make-adder n) (lambda (x) (+ x n)))
(define add5 (make-adder 5))
(display (list 'case9 (add5 10) ((make-adder 100) 1))) (newline)
; lambda body with several expressions returns the last
(display (list 'case10 ((lambda (x) 1 2 (+ x 3)) 4))) (newline)
; immediately-applied lambda with a rest argument and many args
(display (list 'case11 ((lambda (a . r) (length r)) 0 1 2 3 4 5 6 7 8 9))) (newline)
; lambda as argument
(define (twice f x) (f (f x)))
(display (list 'case12 (twice (lambda (n) (* n n)) 3))) (newline)
