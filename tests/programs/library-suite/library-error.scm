(import (scheme base) (scheme write) (prefix (contracts ledger) ledger:))
; an error raised inside a library procedure can be caught by the program
(define l (ledger:make-ledger "strict"))
(display (list 'case1 (guard (e ((error-object? e) (list (error-object-message e) (error-object-irritants e))))
                        (ledger:post! l 'bad 12)))) (newline)
(display (list 'case2 (ledger:entry-count l))) (newline)
; uncaught, it ends the program
(ledger:post! l 'worse "twelve")
(display "not reached") (newline)
