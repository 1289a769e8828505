(import (scheme base) (scheme write))
; guard clauses with =>: the test's value is passed to the receiver
(display (list 'case1 (guard (e ((assq 'a e) => cdr) ((assq 'b e))) (raise (list (cons 'a 42)))))) (newline)
; a clause with only a test returns the test's value
(display (list 'case2 (guard (e ((assq 'a e) => cdr) ((assq 'b e))) (raise (list (cons 'b 23)))))) (newline)
(display (list 'case3 (guard (e ((memv e '(1 2 3)) => length) (else 'no)) (raise 2)))) (newline)
; => on an error object
(display (list 'case4 (guard (e ((and (error-object? e) (error-object-message e)) => string-length)) (error "four")))) (newline)
; cond and case with =>
(display (list 'case5 (cond ((assv 'b '((a 1) (b 2))) => cadr) (else 'none)))) (newline)
(display (list 'case6 (case 5 ((1 2) 'low) (else => (lambda (x) (* x 2)))))) (newline)
(display (list 'case7 (case 'b ((a b) => (lambda (x) (list x 'matched))) (else 'no)))) (newline)
; the receiver is evaluated only when the test is true
(define evaluated #f)
(display (list 'case8 (cond (#f => (begin (set! evaluated #t) car)) (else 'skipped)) evaluated)) (newline)
