(define (f x)
  (define y (* x 2))
  (define (g z) (+ y z))
  (g 1))
