(import (scheme base) (scheme write) (scheme process-context))
; exit runs the after thunks of every dynamic-wind it leaves, innermost first,
; and is not an exception: guard and handlers do not see it
(dynamic-wind
  (lambda () (display "outer in") (newline))
  (lambda ()
    (with-exception-handler
      (lambda (e) (display "handler saw it") (newline) 0)
      (lambda ()
        (guard (e (#t (display "guard saw it") (newline)))
          (dynamic-wind
            (lambda () (display "inner in") (newline))
            (lambda () (exit 7))
            (lambda () (display "inner out") (newline)))))))
  (lambda () (display "outer out") (newline)))
(display "not reached") (newline)
