(import (scheme base) (scheme write))
(display (list 'case1 (let-values (((a b) (values 1 2)) ((c) (values 3))) (list a b c)))) (newline)
(display (list 'case2 (let-values (((a . rest) (values 1 2 3)) (all (values 4 5))) (list a rest all)))) (newline)
; let-values inits see the outer scope, let*-values sees earlier bindings
(define x 'outer)
(display (list 'case3 (let-values (((x) (values 'inner)) ((y) (values x))) (list x y)))) (newline)
(display (list 'case4 (let*-values (((x) (values 'inner)) ((y) (values x))) (list x y)))) (newline)
(display (list 'case5 (let-values () 'empty) (let-values (((a b) (floor/ -7 2))) (list a b)))) (newline)
(display (list 'case6 (let-values (((q r) (truncate/ -7 2))) (list q r)) (let-values (((s r) (exact-integer-sqrt 17))) (list s r)))) (newline)
