(import (scheme base) (scheme write))
; top-level variable and procedure definitions
(define x 10)
(define y (+ x 5))
(display (list 'case1 x y)) (newline)
(define (square n) (* n n))
(display (list 'case2 (square 7))) (newline)
(define (add3 a b c) (+ a b c))
(display (list 'case3 (add3 1 2 3))) (newline)
; procedure with rest argument
(define (first-and-rest a . rest) (list a rest))
(display (list 'case4 (first-and-rest 1) (first-and-rest 1 2 3))) (newline)
; procedure taking only rest arguments
(define (all . args) args)
(display (list 'case5 (all) (all 'a 'b))) (newline)
; redefinition replaces the binding
(define x 99)
(display (list 'case6 x y)) (newline)
; define a variable holding a procedure
(define sq2 square)
(display (list 'case7 (sq2 12))) (newline)
; forward reference inside a procedure body: later definition is visible at call time
(define (calls-later n) (later n))
(define (later n) (* n 100))
(display (list 'case8 (calls-later 3))) (newline)
; recursive definition
(define (fact n) (if (= n 0) 1 (* n (fact (- n 1)))))
(display (list 'case9 (fact 10))) (newline)
