(import (scheme base) (scheme write))
; non-tail recursion producing a large integer on the way back
(define (fact n) (if (= n 0) 1 (* n (fact (- n 1)))))
(define (digits n) (string-length (number->string n)))
(display (list 'case1 (digits (fact 3000)))) (newline)
; a deep recursive sum of big numbers
(define big (expt 10 30))
(define (sum-big n) (if (= n 0) 0 (+ big (sum-big (- n 1)))))
(display (list 'case2 (sum-big 1000000))) (newline)
