;; An endless loop that tries to catch whatever stops it.
(define (spin n) (spin (+ n 1))) (guard (e (#t (display "caught"))) (spin 0))
