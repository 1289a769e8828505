(import (scheme base))
(define (avg total count) (quotient total count))
(avg 10 0)
