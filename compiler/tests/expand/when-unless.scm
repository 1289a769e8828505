(when (> 1 0) (display "yes") (newline))
(unless (> 1 0) (display "no"))
