(import (scheme base) (scheme write) (scheme char))
; string-upcase, string-downcase and string-foldcase use the full Unicode mappings,
; so the result can be longer than the argument (char-upcase cannot do this)
(write (list 'case1 (string-upcase "straße") (string-length (string-upcase "straße")))) (newline)
(write (list 'case2 (string-foldcase "Straße") (string-length (string-foldcase "Straße")))) (newline)
; string-ci=? compares as if string-foldcase were applied first
(write (list 'case3 (string-ci=? "STRASSE" "straße") (string-ci=? "Strasse" "STRAßE"))) (newline)
; ASCII strings keep their length
(write (list 'case4 (string-upcase "Hello, World 42") (string-downcase "Hello, World 42") (string-foldcase "MiXeD"))) (newline)
(write (list 'case5 (string=? (string-upcase "ﬁx") "FIX") (string-length (string-upcase "ﬁx")))) (newline)
