(import (scheme base) (scheme write) (scheme inexact))
; flonums print in the shortest form that reads back as the same number
(write (list 1.5 0.1 -0.25 100.0 3.0 -3.0 0.5)) (newline)
(write (list (+ 0.1 0.2) (/ 1.0 3) (* 1.1 1.1) (sqrt 2.0) (- 0.3 0.1))) (newline)
(write (list 123456.789 1234567.0 0.001 -0.0)) (newline)
(write (list (/ 1.0 0.0) (/ -1.0 0.0))) (newline)
(display (list 2.5 -7.125)) (newline)
(write (list (* 4 (atan 1)) (sqrt 16.0) (exp 0.0) (log 1.0))) (newline)
(write (list (number->string 2.75) (string->number "1e2") (string->number "-1.5e1") (string->number ".5"))) (newline)
