(import (scheme base))
(define (two a b) (+ a b))
(two 1 2 3)
