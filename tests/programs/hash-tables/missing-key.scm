(import (scheme base) (scheme write) (srfi 69))
; the thunk given to hash-table-ref runs for a missing key; here it raises an error
(define h (make-hash-table eq?))
(hash-table-set! h 'present 1)
(display (list 'case1 (hash-table-ref h 'present (lambda () (error "not reached"))))) (newline)
(hash-table-ref h 'absent (lambda () (error "no entry for key:" 'absent "in table" 1)))
(display "not reached") (newline)
