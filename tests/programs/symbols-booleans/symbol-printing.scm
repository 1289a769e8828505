(import (scheme base) (scheme write))
; symbols whose names are not valid identifiers are written with |...|
(write '|hello world|) (newline)
(display '|hello world|) (newline)
(write (string->symbol "")) (newline)
(write (string->symbol "has space")) (newline)
(write (list 'plain '|two words| 'x)) (newline)
(display (list 'plain '|two words| 'x)) (newline)
; |...| around an ordinary identifier is the same symbol
(write (list (eq? '|abc| 'abc) '|abc|)) (newline)
(write (list (symbol->string '|hello world|) (string-length (symbol->string '||)))) (newline)
(write (list (eq? '|a b| (string->symbol "a b")) (symbol? '||))) (newline)
; ordinary symbols with special but legal characters print plainly
(write (list 'a->b '<=? '+ '- '... '!$%&*/:<=>?^_~ 'x1)) (newline)
