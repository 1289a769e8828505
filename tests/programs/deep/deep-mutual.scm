(import (scheme base) (scheme write))
; non-tail mutual recursion 1,000,000 deep
(define (a n) (if (= n 0) 0 (+ 1 (b (- n 1)))))
(define (b n) (if (= n 0) 0 (+ 2 (a (- n 1)))))
(display (list 'case1 (a 1000000))) (newline)
; recursion through apply and a closure
(define (f n) (if (= n 0) '() (cons n (apply f (list (- n 1))))))
(display (list 'case2 (length (f 1000000)))) (newline)
(define (g n k) (if (= n 0) (k 0) (+ 1 (g (- n 1) k))))
(display (list 'case3 (g 1000000 (lambda (x) (+ x 1))))) (newline)
