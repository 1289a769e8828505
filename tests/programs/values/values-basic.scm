(import (scheme base) (scheme write))
(display (list 'case1 (call-with-values (lambda () (values 1 2)) +))) (newline)
(display (list 'case2 (call-with-values (lambda () (values)) list) (call-with-values (lambda () (values 1 2 3)) list))) (newline)
(display (list 'case3 (call-with-values (lambda () 5) (lambda (x) (* x x))))) (newline)
(define (div-mod a b) (values (quotient a b) (remainder a b)))
(display (list 'case4 (call-with-values (lambda () (div-mod 17 5)) list))) (newline)
; values with one value is the value itself
(display (list 'case5 (+ 1 (values 41)))) (newline)
; a consumer with a rest argument
(display (list 'case6 (call-with-values (lambda () (values 'a 'b 'c)) (lambda (first . rest) (list first rest))))) (newline)
