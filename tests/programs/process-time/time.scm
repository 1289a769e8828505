(import (scheme base) (scheme write) (scheme time))
; only predicates are printed: the values change from run to run
(define j1 (current-jiffy))
(display (list 'case1 (exact-integer? j1))) (newline)
(define jps (jiffies-per-second))
(display (list 'case2 (exact-integer? jps) (> jps 0))) (newline)
(define s (current-second))
(display (list 'case3 (real? s) (inexact? s) (> s 1.7e9))) (newline)
; jiffies do not go backwards within a run
(define (busy n) (if (= n 0) 'done (busy (- n 1))))
(busy 100000)
(define j2 (current-jiffy))
(display (list 'case4 (>= j2 j1))) (newline)
(define elapsed (/ (- j2 j1) jps))
(display (list 'case5 (exact? elapsed) (>= elapsed 0) (< elapsed 60))) (newline)
; current-second moves forward with the clock
(define s2 (current-second))
(display (list 'case6 (>= s2 s) (< (- s2 s) 60.0))) (newline)
