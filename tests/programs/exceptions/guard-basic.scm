(import (scheme base) (scheme write))
(display (list 'case1 (guard (e (#t (list 'caught e))) (raise 'oops)))) (newline)
(display (list 'case2 (guard (e ((symbol? e) (list 'sym e)) ((string? e) (list 'str e))) (raise "text")))) (newline)
(display (list 'case3 (guard (e ((number? e) (* e 2)) (else 'other)) (raise 21)))) (newline)
(display (list 'case4 (guard (e ((number? e) (* e 2)) (else (list 'else e))) (raise 'not-a-number)))) (newline)
; => passes the value of the test to a procedure
(display (list 'case5 (guard (e ((assq 'a e) => cdr) ((assq 'b e))) (raise (list (cons 'a 42)))))) (newline)
(display (list 'case6 (guard (e ((assq 'a e) => cdr) ((assq 'b e))) (raise (list (cons 'b 23)))))) (newline)
; no exception: the body's value is returned
(display (list 'case7 (guard (e (#t 'never)) (+ 1 2)))) (newline)
; raise of any object, including lists and records of data
(display (list 'case8 (guard (e ((pair? e) (length e))) (raise '(1 2 3))))) (newline)
; guard body with several expressions; code after raise is not run
(define ran #f)
(define r9 (guard (e (#t e)) (set! ran 'before) (raise 'x) (set! ran 'after)))
(display (list 'case9 r9 ran)) (newline)
