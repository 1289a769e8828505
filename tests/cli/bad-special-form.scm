(import (scheme base) (scheme write))
(define x 1)
(if)
