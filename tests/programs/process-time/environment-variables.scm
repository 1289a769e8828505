(import (scheme base) (scheme write) (scheme process-context))
; only predicates are printed: the values depend on the machine
(display (list 'case1 (string? (get-environment-variable "PATH")))) (newline)
(display (list 'case2 (get-environment-variable "CHENILLES_SURELY_UNSET_12345"))) (newline)
(define vars (get-environment-variables))
(display (list 'case3 (list? vars) (pair? vars))) (newline)
(define (all? pred l) (or (null? l) (and (pred (car l)) (all? pred (cdr l)))))
(display (list 'case4 (all? (lambda (entry) (and (pair? entry) (string? (car entry)) (string? (cdr entry)))) vars))) (newline)
; the alist agrees with get-environment-variable
(define path-entry (assoc "PATH" vars))
(display (list 'case5 (pair? path-entry) (and path-entry (string=? (cdr path-entry) (get-environment-variable "PATH"))))) (newline)
(display (list 'case6 (assoc "CHENILLES_SURELY_UNSET_12345" vars))) (newline)
; command-line is a non-empty list of strings
(define args (command-line))
(display (list 'case7 (pair? args) (all? string? args))) (newline)
