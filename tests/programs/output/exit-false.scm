(import (scheme base) (scheme write) (scheme process-context))
; (exit #f) ends the program with a failure status
(display "failing") (newline)
(exit #f)
(display "never printed") (newline)
