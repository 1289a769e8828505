(import (scheme base) (scheme write))
(write (list 'case1 (number->string 255) (number->string 255 16) (number->string 255 2) (number->string 255 8) (number->string 255 10))) (newline)
(write (list 'case2 (number->string -255 16) (number->string -5 2) (number->string 0 2) (number->string 0 16))) (newline)
(write (list 'case3 (string->number "255") (string->number "ff" 16) (string->number "FF" 16) (string->number "11111111" 2) (string->number "377" 8))) (newline)
(write (list 'case4 (string->number "-ff" 16) (string->number "+42") (string->number "-0") (string->number "007"))) (newline)
; radix prefixes
(write (list 'case5 (string->number "#xff") (string->number "#b101") (string->number "#o17") (string->number "#d99") (string->number "#x-1a"))) (newline)
; invalid strings give #f
(write (list 'case6 (string->number "abc") (string->number "12z") (string->number "") (string->number "2" 2) (string->number "-"))) (newline)
(write (list 'case7 (string->number "1010" 2) (string->number "1010" 8) (string->number "1010" 10) (string->number "1010" 16))) (newline)
; round trips
(define (rt n r) (= n (string->number (number->string n r) r)))
(write (list 'case8 (rt 123456789 2) (rt -98765 8) (rt 4095 16) (rt 0 2))) (newline)
(write (list 'case9 (number->string 3735928559 16) (number->string 1000000 8) (number->string 1023 2))) (newline)
