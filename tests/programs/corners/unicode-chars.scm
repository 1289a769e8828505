(import (scheme base) (scheme write) (scheme char))
; characters are compared through char=? and code points, so no non-ASCII text is printed
(display (list 'case1 (char=? (char-upcase #\ä) #\Ä) (char->integer (char-upcase #\ä)) (char=? (char-downcase #\Ä) #\ä))) (newline)
; ß has no one-character uppercase, so char-upcase leaves it alone
(display (list 'case2 (char=? (char-upcase #\ß) #\ß) (char->integer (char-upcase #\ß)))) (newline)
(display (list 'case3 (char=? (char-downcase #\Σ) #\σ) (char=? (char-upcase #\λ) #\Λ) (char=? (char-foldcase #\Σ) #\σ))) (newline)
(display (list 'case4 (char-alphabetic? #\λ) (char-alphabetic? #\ä) (char-upper-case? #\Ä) (char-lower-case? #\ß) (char-alphabetic? #\x0664))) (newline)
; digit-value knows the decimal digits of other scripts
(display (list 'case5 (digit-value #\x0664) (digit-value #\xFF17) (digit-value #\3) (digit-value #\a) (digit-value #\x0BEF))) (newline)
; char-numeric? is true for decimal digits only: VULGAR FRACTION ONE HALF is not one
(display (list 'case6 (char-numeric? #\x0664) (char-numeric? #\x00BD) (char-whitespace? #\x00A0) (char-whitespace? #\x2003))) (newline)
(display (list 'case7 (char-ci=? #\ä #\Ä) (char-ci<? #\a #\Ä) (char<? #\z #\ä))) (newline)
; strings of non-ASCII letters: lengths count characters, not bytes
(define s "straße")
(display (list 'case8 (string-length s) (char->integer (string-ref s 4)) (string-length "日本語"))) (newline)
(display (list 'case9 (string=? (string-upcase "äöü") "ÄÖÜ") (string=? (string-downcase "ÄÖÜ") "äöü") (string-ci=? "Äpfel" "äPFEL"))) (newline)
(display (list 'case10 (map char->integer (string->list "aä€😀")) (string=? (list->string (list #\x1F600)) "😀"))) (newline)
(display (list 'case11 (string<? "a" "ä") (string=? (substring "日本語です" 1 3) "本語") (string-length (string-append "日本" "語")))) (newline)
