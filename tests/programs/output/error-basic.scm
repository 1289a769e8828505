(import (scheme base) (scheme write))
; output written before the error must reach stdout, then the program stops
; with a non-zero exit status and reports the message and irritants
(display "before error") (newline)
(write (list 1 2 3)) (newline)
(error "some message:" 42 'foo)
(display "never printed") (newline)
