(import (scheme base) (scheme write) (scheme process-context))
; exit with a given status; buffered output must be flushed first
(display "line one") (newline)
(write-string "partial line without newline")
(exit 3)
(display "never printed") (newline)
