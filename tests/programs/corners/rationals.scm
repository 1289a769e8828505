(import (scheme base) (scheme write) (scheme inexact))
(write (list 'case1 (/ 0 5) (/ 6 4) (/ -6 4) (/ 6 -3) (/ 1 3 2))) (newline)
(write (list 'case2 (inexact 1/3) (inexact 1/4) (exact .5) (exact 0.125) (exact -2.5))) (newline)
(write (list 'case3 (numerator 6/4) (denominator 6/4) (numerator -6/4) (denominator 3) (numerator 0) (denominator 0))) (newline)
; round goes to even on exact halves
(write (list 'case4 (round 7/2) (round 5/2) (round -5/2) (round -7/2) (round 7/3) (round -8/3))) (newline)
(write (list 'case5 (floor -7/2) (ceiling -7/2) (truncate -7/2) (floor 7/2) (ceiling 1/100))) (newline)
(write (list 'case6 (expt 2/3 3) (expt 2/3 -2) (expt -1/2 3) (expt 1/2 0) (square 3/5))) (newline)
(write (list 'case7 (string->number "1/3") (string->number "-6/4") (string->number "#e1.5") (string->number "#e-0.25") (string->number "#x1/A"))) (newline)
(write (list 'case8 (number->string 1/3) (number->string -5/10) (number->string 3/4 2) (number->string 255/16 16))) (newline)
; exact and inexact compare by value; eqv? also compares exactness
(write (list 'case9 (= 1/2 0.5) (eqv? 1/2 0.5) (equal? 1/2 0.5) (eqv? 1/2 (/ 2 4)) (< 1/3 0.34) (> 1/3 0.3333))) (newline)
; arithmetic that mixes exact ratios and flonums gives flonums
(write (list 'case10 (+ 1/2 0.5) (* 1/4 2.0) (- 1/2 0.25) (max 1/2 0.25) (min 1 1/2))) (newline)
; exact results that happen to be integers are integers
(write (list 'case11 (* 1/2 4) (exact-integer? (* 1/2 4)) (integer? 4/2) (+ 1/3 2/3) (exact-integer? (+ 1/3 2/3)))) (newline)
(write (list 'case12 (exact? 1/3) (inexact? 1/3) (rational? 1/3) (integer? 1/3) (number? 1/3) (real? -1/3))) (newline)
(write (list 'case13 (abs -1/2) (- 1/2) (/ 1/2) (/ -3/4) (zero? (- 1/3 1/3)) (positive? -1/5) (negative? -1/5))) (newline)
(write (list 'case14 (call-with-values (lambda () (floor/ -7 2)) list) (exact (floor 2.5)) (exact (round 2.5)) (exact (round 3.5)) (floor-quotient -7 2) (truncate-quotient -7 2))) (newline)
(write (list 'case15 (rationalize 1/3 1/100) (rationalize (exact .3) 1/10) (rationalize 3/10 1/10) (rationalize -3/10 1/10) (rationalize .3 1/10))) (newline)
(write (list 'case16 (call-with-values (lambda () (exact-integer-sqrt 17)) list) (sqrt 1/4) (sqrt 4/9) (exact (sqrt 16)))) (newline)
