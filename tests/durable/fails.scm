; Computes, prints, then fails with an uncaught error: the process is recorded as failed, with its
; error and backtrace, and is not resumed again.
(import (scheme base) (scheme write))
(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))
(define (check n) (if (> n 29) (car n) n))
(let loop ((i 0))
  (when (< i 31)
    (display (list i (fib i))) (newline)
    (check i)
    (loop (+ i 1))))
