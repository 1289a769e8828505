(import (scheme base) (scheme write))
; write-shared labels every pair and vector that appears more than once, cyclic or not
(define x (list 1 2))
(display "case1 ") (write-shared (list x x)) (newline)
; write leaves the same non-cyclic sharing alone
(display "case2 ") (write (list x x)) (newline)
; labels are numbered in order of first appearance
(define y (vector 'v))
(display "case3 ") (write-shared (list y x y x)) (newline)
; a shared tail: the label sits after the dot
(define tail (list 'c 'd))
(define a (cons 'a tail))
(define b (cons 'b tail))
(display "case4 ") (write-shared (list a b)) (newline)
; cycles are labelled too
(define c (list 1 2))
(set-cdr! (cdr c) c)
(display "case5 ") (write-shared c) (newline)
; no sharing at all: no labels
(display "case6 ") (write-shared (list (list 1 2) (vector 3 (list 4)) "s")) (newline)
; a structure shared inside a shared structure
(define inner (list 'i))
(define outer (list inner inner))
(display "case7 ") (write-shared (vector outer outer)) (newline)
