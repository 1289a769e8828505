(import (scheme base) (scheme write) (scheme eval))
; the arguments of environment are import sets, so prefix and rename apply inside eval
(define env (environment '(only (scheme base) list) '(prefix (scheme base) b:)))
(display (list 'case1 (eval '(list (b:+ 1 2) (b:* 3 4)) env))) (newline)
(define env2 (environment '(rename (scheme base) (car first) (cdr rest))))
(display (list 'case2 (eval '(first (rest '(a b c))) env2))) (newline)
(define env3 (environment '(prefix (only (scheme base) car cdr) s:) '(only (scheme base) quote)))
(display (list 'case3 (eval '(s:car (s:cdr '(x y))) env3))) (newline)
