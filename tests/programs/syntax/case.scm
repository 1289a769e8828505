(import (scheme base) (scheme write))
(define (kind x)
  (case x
    ((1 2 3) 'small)
    ((4 5 6) 'medium)
    ((a e i o u) 'vowel)
    ((#\x #\y) 'char)
    (else 'other)))
(display (list 'case1 (kind 2) (kind 5) (kind 'e) (kind #\y) (kind 'z) (kind 100))) (newline)
; case uses eqv?: works for exact integers including large ones
(display (list 'case2 (case (* 2 3) ((2 3 5 7) 'prime) ((1 4 6 8 9) 'composite)))) (newline)
(display (list 'case3 (case 100000000000000000000 ((100000000000000000000) 'big) (else 'no)))) (newline)
; => in a clause passes the key
(display (list 'case4 (case 5 ((1 2) 'low) ((5) => (lambda (k) (* k 10))) (else 'no)))) (newline)
; else =>
(display (list 'case5 (case 'q ((a) 1) (else => (lambda (k) (list k 'unmatched)))))) (newline)
; multiple expressions in a clause
(define hits 0)
(display (list 'case6 (case 'x ((x) (set! hits (+ hits 1)) (set! hits (+ hits 1)) hits) (else 0)))) (newline)
; key expression is evaluated once
(define evals 0)
(define (next) (set! evals (+ evals 1)) evals)
(define r7 (case (next) ((5) 'five) ((1) 'one) (else 'other)))
(display (list 'case7 r7 evals)) (newline)
; booleans and empty list as data
(display (list 'case8 (case #f ((#t) 'true) ((#f) 'false)) (case '() ((()) 'empty) (else 'not)))) (newline)
; case with strings would use eqv?, so only compare symbols/numbers/chars here
(display (list 'case9 (case (car '(c d)) ((a) 'a) ((b c) 'b-or-c) (else 'none)))) (newline)
