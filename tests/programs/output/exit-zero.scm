(import (scheme base) (scheme write) (scheme process-context))
; (exit) and (exit #t) end the program successfully
(display "done early") (newline)
(exit)
(display "never printed") (newline)
