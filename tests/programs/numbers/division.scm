(import (scheme base) (scheme write))
; quotient truncates toward zero; remainder has the sign of the dividend;
; modulo has the sign of the divisor
(display (list 'case1 (quotient 17 5) (remainder 17 5) (modulo 17 5))) (newline)
(display (list 'case2 (quotient -17 5) (remainder -17 5) (modulo -17 5))) (newline)
(display (list 'case3 (quotient 17 -5) (remainder 17 -5) (modulo 17 -5))) (newline)
(display (list 'case4 (quotient -17 -5) (remainder -17 -5) (modulo -17 -5))) (newline)
(display (list 'case5 (quotient 15 5) (remainder -15 5) (modulo -15 5) (modulo 15 -5))) (newline)
(display (list 'case6 (quotient 0 7) (remainder 0 -7) (modulo 0 7))) (newline)
(display (list 'case7 (quotient 3 10) (remainder 3 10) (modulo -3 10) (modulo 3 -10))) (newline)
(display (list 'case8 (quotient 1 1) (quotient -1 1) (remainder 7 1) (modulo -7 1))) (newline)
; identity: n = q*d + r
(define (check n d) (= n (+ (* (quotient n d) d) (remainder n d))))
(display (list 'case9 (check 100 7) (check -100 7) (check 100 -7) (check -100 -7))) (newline)
(display (list 'case10 (abs -12345) (abs 12345))) (newline)
