(import (scheme base) (scheme write) (scheme process-context))
; emergency-exit does not run the after thunks (output is flushed first, since
; R7RS does not say whether emergency-exit flushes ports)
(display "start") (newline)
(dynamic-wind
  (lambda () (display "in") (newline))
  (lambda () (flush-output-port) (emergency-exit 5))
  (lambda () (display "after thunk must not run") (newline)))
(display "not reached") (newline)
