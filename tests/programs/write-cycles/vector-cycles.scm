(import (scheme base) (scheme write))
; a vector that contains itself
(define v1 (vector 1 2 3))
(vector-set! v1 1 v1)
(display "case1 ") (write v1) (newline)
; a cycle going through a vector and a list
(define v2 (vector 'a 'b))
(define l2 (list 'c v2))
(vector-set! v2 1 l2)
(display "case2 ") (write v2) (newline)
(display "case3 ") (write l2) (newline)
; the cycle written inside a larger, acyclic structure
(display "case4 ") (write (vector 'outer v1 "s" #\c)) (newline)
; a vector whose every slot is itself
(define v5 (make-vector 2 #f))
(vector-fill! v5 v5)
(display "case5 ") (write v5) (newline)
; a vector that is merely shared (no cycle) is not labelled by write
(define v6 (vector 1 2))
(display "case6 ") (write (list v6 v6)) (newline)
