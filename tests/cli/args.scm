(import (scheme base) (scheme write) (scheme process-context))
(write (cdr (command-line)))
(newline)
(exit 7)
