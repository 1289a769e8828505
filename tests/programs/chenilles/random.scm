; SRFI 27's random-integer and random-real: uniform, in range, exact and inexact respectively.
(import (scheme base) (scheme write))
(define (all? pred n) (let loop ((i 0)) (or (= i n) (and (pred) (loop (+ i 1))))))
(display (all? (lambda () (let ((r (random-integer 6))) (and (exact-integer? r) (<= 0 r 5)))) 1000)) (newline)
(display (all? (lambda () (let ((x (random-real))) (and (inexact? x) (< 0 x 1)))) 1000)) (newline)
(display (all? (lambda () (< -1 (random-integer (expt 2 100)) (expt 2 100))) 100)) (newline)
(display (random-integer 1)) (newline)
; every face of a die comes up in 600 throws
(define seen (make-vector 6 #f))
(let loop ((i 0)) (when (< i 600) (vector-set! seen (random-integer 6) #t) (loop (+ i 1))))
(display seen) (newline)
(display (guard (e (#t (error-object-message e))) (random-integer 0))) (newline)
