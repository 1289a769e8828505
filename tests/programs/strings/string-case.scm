(import (scheme base) (scheme write) (scheme char))
(write (list 'case1 (string-upcase "hello") (string-downcase "HELLO") (string-upcase "MiXeD 123!"))) (newline)
(write (list 'case2 (string-downcase "Already lower") (string-upcase "") (string-downcase ""))) (newline)
(write (list 'case3 (string-foldcase "HeLLo"))) (newline)
; the argument is not modified
(define s (string-copy "abc"))
(define u (string-upcase s))
(write (list 'case4 s u)) (newline)
(write (list 'case5 (string-upcase "a-b_c.d") (string-downcase "X1Y2Z3"))) (newline)
