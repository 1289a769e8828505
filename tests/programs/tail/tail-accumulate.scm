(import (scheme base) (scheme write))
; iterative loops with accumulators over 1,000,000 elements
(define (build-list n) (let loop ((i n) (acc '())) (if (= i 0) acc (loop (- i 1) (cons i acc)))))
(define big (build-list 1000000))
(display (list 'case1 (length big) (car big) (list-ref big 999999))) (newline)
(define (rev l) (let loop ((l l) (acc '())) (if (null? l) acc (loop (cdr l) (cons (car l) acc)))))
(display (list 'case2 (car (rev big)))) (newline)
(define (sum l) (let loop ((l l) (s 0)) (if (null? l) s (loop (cdr l) (+ s (car l))))))
(display (list 'case3 (sum big))) (newline)
; vector filled in a tail-recursive loop
(define v (make-vector 1000000 0))
(let fill ((i 0)) (when (< i 1000000) (vector-set! v i (* i 2)) (fill (+ i 1))))
(display (list 'case4 (vector-ref v 999999))) (newline)
