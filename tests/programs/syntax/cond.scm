(import (scheme base) (scheme write))
(define (classify n)
  (cond ((< n 0) 'negative)
        ((= n 0) 'zero)
        ((< n 10) 'small)
        (else 'large)))
(display (list 'case1 (classify -3) (classify 0) (classify 5) (classify 50))) (newline)
; => passes the test value to the procedure
(display (list 'case2 (cond ((assv 'b '((a 1) (b 2))) => cadr) (else 'nope)))) (newline)
(display (list 'case3 (cond ((assv 'z '((a 1) (b 2))) => cadr) (else 'nope)))) (newline)
; clause with only a test returns the test value
(display (list 'case4 (cond ((memv 3 '(1 2 3 4))) (else 'no)))) (newline)
; multiple expressions in a clause
(define x 0)
(display (list 'case5 (cond (#f 'no) (#t (set! x 5) (* x 2))))) (newline)
; first true clause wins, later ones are not evaluated
(display (list 'case6 (cond ((= 1 1) 'first) ((error "should not be evaluated")) (else 'third)))) (newline)
; else with multiple expressions
(display (list 'case7 (cond (#f 1) (else (set! x 100) (+ x 1))))) (newline)
; => with a lambda
(display (list 'case8 (cond ((+ 1 2) => (lambda (v) (* v v)))))) (newline)
; nested cond
(define (grade n)
  (cond ((>= n 90) 'a)
        ((>= n 80) (cond ((>= n 85) 'b+) (else 'b)))
        (else 'c)))
(display (list 'case9 (grade 95) (grade 87) (grade 81) (grade 10))) (newline)
; test values that are not booleans
(display (list 'case10 (cond ('() 'empty-list-is-true) (else 'no)))) (newline)
