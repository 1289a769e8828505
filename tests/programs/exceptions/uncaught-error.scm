(import (scheme base) (scheme write))
; caught errors do not stop the program; an uncaught one does
(display (list 'caught (guard (e ((error-object? e) (error-object-message e))) (error "first failure" 1)))) (newline)
(error "second failure:" 'unhandled "s" 7)
(display "never printed") (newline)
