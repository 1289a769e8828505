(import (scheme base) (scheme write))
; write uses datum labels for cycles, numbered from 0
(define (cyclic-list . xs)
  (let ((l (apply list xs)))
    (set-cdr! (list-tail l (- (length l) 1)) l)
    l))
(write (list 'case1 (cyclic-list 1 2 3))) (newline)
; a list whose tail loops back to itself after a prefix: only the loop is labelled
(define l2 (list 0 1 2))
(set-cdr! (cddr l2) (cdr l2))
(display "case2 ") (write l2) (newline)
; a one-pair cycle through the cdr
(define l3 (list 'x))
(set-cdr! l3 l3)
(display "case3 ") (write l3) (newline)
; a cycle through the car
(define l4 (list 'a 'b))
(set-car! l4 l4)
(display "case4 ") (write l4) (newline)
; one pair whose car and cdr are both itself
(define l5 (cons 1 2))
(set-car! l5 l5)
(set-cdr! l5 l5)
(display "case5 ") (write l5) (newline)
; a list holding a cycle twice: the second occurrence is a reference
(display "case6 ") (write (list l3 l3)) (newline)
; two different cycles get labels 0 and 1 in order of appearance
(define l7 (list 'b))
(set-cdr! l7 l7)
(display "case7 ") (write (list l3 l7)) (newline)
