;; Calling with too few arguments is a runtime error naming the procedure.
(import (scheme base) (scheme write))
(define (greet name #!optional greeting) name)
(display "start") (newline)
(greet)
