(import (scheme base) (scheme write))
(write (list 'case1 (string->symbol "abc") (symbol->string 'xyz) (symbol->string 'hello-world))) (newline)
(write (list 'case2 (eq? (string->symbol "foo") 'foo) (eq? (string->symbol (string-append "f" "oo")) 'foo))) (newline)
(write (list 'case3 (symbol->string (string->symbol "round")) (string? (symbol->string 'a)))) (newline)
; symbols are case sensitive
(write (list 'case4 (eq? 'abc 'ABC) (symbol->string 'ABC) (string->symbol "MixedCase"))) (newline)
(write (list 'case5 (symbol? (string->symbol "x")) (symbol? "x") (symbol? 'x))) (newline)
; building symbols from parts
(define (make-name prefix n) (string->symbol (string-append prefix (number->string n))))
(write (list 'case6 (make-name "var" 1) (make-name "tmp-" 42) (eq? (make-name "v" 7) 'v7))) (newline)
(write (list 'case7 (string-length (symbol->string 'twelve-chars)))) (newline)
