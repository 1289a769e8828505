(import (scheme base) (scheme write))
; non-tail recursion 1,000,000 deep
(define (build n) (if (= n 0) '() (cons n (build (- n 1)))))
(define (sum l) (if (null? l) 0 (+ (car l) (sum (cdr l)))))
(define big (build 1000000))
(display (list 'case1 (car big) (length big))) (newline)
(display (list 'case2 (sum big))) (newline)
; counting recursion
(define (count n) (if (= n 0) 0 (+ 1 (count (- n 1)))))
(display (list 'case3 (count 1000000))) (newline)
