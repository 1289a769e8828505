(import (scheme base) (scheme write) (scheme eval))
(define env (environment '(scheme base)))
; errors raised in evaluated code can be caught by the program
(display (list 'case1 (guard (e ((error-object? e) (list (error-object-message e) (error-object-irritants e))))
                        (eval '(error "inside eval:" 1 2) env)))) (newline)
(display (list 'case2 (guard (e ((symbol? e) e)) (eval '(raise 'oops) env)))) (newline)
; a handler installed by the program sees raise-continuable from evaluated code
(display (list 'case3 (with-exception-handler (lambda (c) (* c 2))
                        (lambda () (eval '(+ 1 (raise-continuable 20)) env))))) (newline)
; an uncaught error in evaluated code ends the program
(eval '(error "uncaught in eval:" 'boom "now") env)
(display "not reached") (newline)
