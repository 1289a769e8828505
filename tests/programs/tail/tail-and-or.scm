(import (scheme base) (scheme write))
; the last expression of and/or is in tail position
(define (all-positive? n) (or (= n 0) (and (> n 0) (all-positive? (- n 1)))))
(display (list 'case1 (all-positive? 1000000))) (newline)
(define (search n) (and (> n -1) (or (and (= n 0) 'found) (search (- n 1)))))
(display (list 'case2 (search 1000000))) (newline)
(define (countdown-or n) (or (and (= n 0) 'zero) (countdown-or (- n 1))))
(display (list 'case3 (countdown-or 1000000))) (newline)
