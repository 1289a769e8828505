(import (scheme base) (scheme write))
; display must not loop on cycles: it uses datum labels like write
(define l (list "a" #\b 'c))
(set-cdr! (cddr l) l)
(display "case1 ") (display l) (newline)
(display "case2 ") (write l) (newline)
(define v (vector "str" 1))
(vector-set! v 1 v)
(display "case3 ") (display v) (newline)
; display of merely shared structure uses no labels
(define s (list "x" "y"))
(display "case4 ") (display (list s s)) (newline)
; a cycle nested in a list displayed through a string port
(define p (open-output-string))
(display (list "start" l) p)
(display "case5 ") (display (get-output-string p)) (newline)
