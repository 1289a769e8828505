(import (scheme base) (scheme write))
(define (fact n) (let loop ((i 1) (acc 1)) (if (> i n) acc (loop (+ i 1) (* acc i)))))
(display (list 'case1 (fact 20) (fact 21) (fact 25))) (newline)
(display (list 'case2 (fact 100))) (newline)
(display (list 'case3 (string-length (number->string (fact 1000))))) (newline)
; sum of the digits of 100!
(define (digit-sum n) (if (= n 0) 0 (+ (remainder n 10) (digit-sum (quotient n 10)))))
(display (list 'case4 (digit-sum (fact 100)))) (newline)
; trailing zeros of 1000!
(define (trailing-zeros n) (if (= (remainder n 10) 0) (+ 1 (trailing-zeros (quotient n 10))) 0))
(display (list 'case5 (trailing-zeros (fact 1000)))) (newline)
; dividing back down
(display (list 'case6 (quotient (fact 100) (fact 98)) (= (fact 50) (* 50 (fact 49))))) (newline)
(display (list 'case7 (- (fact 30)) (* (fact 20) -1))) (newline)
