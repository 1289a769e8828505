(import (scheme base) (scheme write))
; 10,000,000 iterations must run in constant stack space
(display (list 'case1 (let loop ((i 0) (acc 0)) (if (= i 10000000) acc (loop (+ i 1) (+ acc 2)))))) (newline)
; a loop written as a top-level procedure calling itself in tail position
(define (count-down n) (if (= n 0) 'done (count-down (- n 1))))
(display (list 'case2 (count-down 10000000))) (newline)
