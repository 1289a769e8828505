(import (scheme base) (scheme write) (scheme eval))
(define env (environment '(scheme base)))
(display (list 'case1 (eval '(+ 1 2) env))) (newline)
(display (list 'case2 (eval (list '* 6 7) env))) (newline)
(display (list 'case3 (eval ''quoted env) (eval "self" env) (eval 42 env))) (newline)
(display (list 'case4 (eval '(if (> 3 2) 'yes 'no) env))) (newline)
(display (list 'case5 (eval '(let loop ((i 0) (acc '())) (if (= i 4) acc (loop (+ i 1) (cons i acc)))) env))) (newline)
; eval of a lambda gives a procedure that can be called from the program
(define square (eval '(lambda (x) (* x x)) env))
(display (list 'case6 (square 12) (map square '(1 2 3)))) (newline)
; a closure made by eval keeps its own state
(define counter (eval '(let ((n 0)) (lambda () (set! n (+ n 1)) n)) env))
(counter) (counter)
(display (list 'case7 (counter))) (newline)
; evaluated code returns a procedure that takes the program's procedures
(define compose (eval '(lambda (f g) (lambda (x) (f (g x)))) env))
(display (list 'case8 ((compose (lambda (x) (+ x 100)) square) 3))) (newline)
; code built with quasiquote
(define (make-adder-code n) `(lambda (x) (+ x ,n)))
(display (list 'case9 ((eval (make-adder-code 5) env) 10))) (newline)
; derived forms inside evaluated code
(display (list 'case10 (eval '(cond ((assv 2 '((1 . one) (2 . two))) => cdr) (else 'none)) env)
                       (eval '(case (* 2 3) ((2 3 5 7) 'prime) ((1 4 6 8 9) 'composite)) env)
                       (eval '(do ((i 0 (+ i 1)) (s 0 (+ s i))) ((= i 5) s)) env))) (newline)
; multiple values come back from eval
(display (list 'case11 (call-with-values (lambda () (eval '(values 1 2 3) env)) list))) (newline)
