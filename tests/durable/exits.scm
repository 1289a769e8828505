; Prints, computes, and leaves with (exit 3): the durable process is recorded as exited(3).
(import (scheme base) (scheme write) (scheme process-context))
(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))
(let loop ((i 0))
  (when (< i 31)
    (display (list i (fib i))) (newline)
    (loop (+ i 1))))
(dynamic-wind
  (lambda () (display "in") (newline))
  (lambda () (exit 3))
  (lambda () (display "out") (newline)))
