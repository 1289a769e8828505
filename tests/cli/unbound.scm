(import (scheme base) (scheme write))
(define (go) (+ 1 undefined-thing))
(go)
