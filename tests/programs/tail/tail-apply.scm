(import (scheme base) (scheme write))
; apply must call its procedure argument as a tail call
(define (loop n) (if (= n 0) 'apply-done (apply loop (list (- n 1)))))
(display (list 'case1 (loop 1000000))) (newline)
(define (loop2 n acc) (if (= n 0) acc (apply loop2 (- n 1) (list (+ acc 1)))))
(display (list 'case2 (loop2 1000000 0))) (newline)
; tail calls through a procedure held in a variable and through a lambda
(define (tramp f n) (if (= n 0) 'tramp-done (f f (- n 1))))
(display (list 'case3 (tramp tramp 1000000))) (newline)
(define (cps-count n k) (if (= n 0) (k 'cps-done) (cps-count (- n 1) k)))
(display (list 'case4 (cps-count 1000000 (lambda (v) (list v))))) (newline)
