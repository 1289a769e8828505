;; Recurses without end, never in tail position.
(define (f n) (+ 1 (f n))) (f 0)
