(import (scheme base) (scheme write))
; a structure nested 1,000,000 deep in the car direction, built iteratively
(define (nest n) (let loop ((i 0) (acc '())) (if (= i n) acc (loop (+ i 1) (list acc)))))
(define deep (nest 1000000))
; depth measured by non-tail recursion
(define (depth x) (if (null? x) 0 (+ 1 (depth (car x)))))
(display (list 'case1 (depth deep))) (newline)
; non-tail recursion through a helper (two frames per level)
(define (depth2 x) (if (null? x) 0 (inc (depth2 (car x)))))
(define (inc n) (+ n 1))
(display (list 'case2 (depth2 deep))) (newline)
; deep recursion with an accumulating list built on return
(define (evens-below n) (if (= n 0) '() (let ((rest (evens-below (- n 1)))) (if (even? n) (cons n rest) rest))))
(display (list 'case3 (length (evens-below 1000000)) (car (evens-below 1000000)))) (newline)
