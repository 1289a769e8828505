(import (scheme base) (scheme write))
; results of bignum arithmetic that fit in a small integer behave like small integers
(define big (expt 2 100))
(define zero (- big big))
(display (list 'case1 zero (zero? zero) (= zero 0) (eqv? zero 0))) (newline)
(define one (quotient big big))
(display (list 'case2 one (eqv? one 1) (+ one 1))) (newline)
(define small (- (+ big 42) big))
(display (list 'case3 small (eqv? small 42) (equal? small 42) (case small ((42) 'matched) (else 'no)))) (newline)
(display (list 'case4 (* big 0) (eqv? (* big 0) 0) (remainder big 2) (even? big))) (newline)
; eqv? and equal? compare big integers by value
(display (list 'case5 (eqv? (expt 2 100) (expt 2 100)) (equal? (list (expt 3 50)) (list (expt 3 50))) (eqv? big (+ big 1)))) (newline)
(display (list 'case6 (memv (expt 2 70) (list 1 (expt 2 70) 3)) (assv (expt 5 40) (list (cons (expt 5 40) 'found))))) (newline)
; mixed comparisons
(display (list 'case7 (< 5 big) (> 5 big) (< (- big) -5) (= big 5) (max 1 big 2) (min (- big) 1))) (newline)
; a sum that crosses up and back down
(define (sum-list l) (if (null? l) 0 (+ (car l) (sum-list (cdr l)))))
(display (list 'case8 (sum-list (list big 1 (- big) 2)))) (newline)
