(import (scheme base) (scheme write) (scheme eval))
; environment can combine several libraries
(define env (environment '(scheme base) '(scheme char) '(scheme cxr)))
(display (list 'case1 (eval '(char-upcase #\a) env) (eval '(caddr '(1 2 3)) env))) (newline)
(define env2 (environment '(scheme base) '(scheme write)))
(display "case2 ")
(eval '(begin (write "from eval") (newline)) env2)
; eval of a datum read at run time
(define code (list 'let (list (list 'a 3) (list 'b 4)) '(+ (* a a) (* b b))))
(display (list 'case3 (eval code env))) (newline)
; nested eval: evaluated code calls eval itself
(define env4 (environment '(scheme base) '(scheme eval)))
(display (list 'case4 (eval '(eval '(* 7 6) (environment '(scheme base))) env4))) (newline)
