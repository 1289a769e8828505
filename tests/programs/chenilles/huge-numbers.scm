(import (scheme base) (scheme write))
;; Decimal conversion takes time quadratic in the digits: integers of more than a million decimal
;; digits are written in hexadecimal (which reads back as the same number), and decimal text that
;; long is refused. Powers are computed without reducing at every step.
(define big (expt 3 4259940))
(define text (number->string big))
(display (list 'hex (string=? (substring text 0 2) "#x") (= big (string->number text)))) (newline)
(display (list 'decimal-refused (string->number (make-string 1000001 #\7)))) (newline)
(display (list 'decimal-accepted (= 7 (remainder (string->number (make-string 1000 #\7)) 10)))) (newline)
(display (list 'ratio (expt 2/3 5) (expt -2/3 -3))) (newline)
(display (list (quote decimal-digits) (string-length (number->string (expt 10 999000))))) (newline)
