(import (scheme base) (scheme write))
(define b (expt 10 30))
(define n (+ b 7))
(display (list 'case1 (quotient n 10) (remainder n 10) (modulo n 10))) (newline)
(display (list 'case2 (quotient (- n) 10) (remainder (- n) 10) (modulo (- n) 10))) (newline)
(display (list 'case3 (quotient n -10) (remainder n -10) (modulo n -10))) (newline)
(display (list 'case4 (quotient (- n) -10) (remainder (- n) -10) (modulo (- n) -10))) (newline)
; bignum divisor
(define d (+ (expt 2 70) 3))
(define m (+ (* 12345 d) 999))
(display (list 'case5 (quotient m d) (remainder m d) (modulo m d))) (newline)
(display (list 'case6 (quotient (- m) d) (remainder (- m) d) (modulo (- m) d))) (newline)
(display (list 'case7 (quotient m (- d)) (remainder m (- d)) (modulo m (- d)))) (newline)
(display (list 'case8 (quotient (- m) (- d)) (remainder (- m) (- d)) (modulo (- m) (- d)))) (newline)
; small divided by big
(display (list 'case9 (quotient 5 d) (remainder 5 d) (modulo 5 d) (modulo -5 d) (modulo 5 (- d)))) (newline)
; gcd and lcm with bignums
(display (list 'case10 (gcd (* 6 b) (* 4 b)) (lcm (expt 2 65) (expt 3 40)) (gcd (expt 2 100) (expt 6 50)))) (newline)
(display (list 'case11 (abs (- n)) (min (- n) n) (max (- n) n))) (newline)
