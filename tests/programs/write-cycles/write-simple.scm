(import (scheme base) (scheme write))
; write-simple never uses datum labels, even for shared structure
(define x (list 1 2))
(display "case1 ") (write-simple (list x x)) (newline)
(define v (vector 'a "b" #\c))
(display "case2 ") (write-simple (vector v v v)) (newline)
(define tail (list 'c 'd))
(display "case3 ") (write-simple (list (cons 'a tail) (cons 'b tail))) (newline)
; write-simple writes strings and characters like write does
(display "case4 ") (write-simple (list "a\"b" #\space 'sym 1/2)) (newline)
; a deeper DAG: each level doubles the printed size
(define (dag n) (if (= n 0) 'leaf (let ((d (dag (- n 1)))) (cons d d))))
(display "case5 ") (write-simple (dag 3)) (newline)
(display "case6 ") (write-shared (dag 3)) (newline)
