(import (scheme base) (scheme write) (scheme eval) (scheme repl))
; definitions evaluated in the interaction environment stay there for later evals
(define env (interaction-environment))
(eval '(define eval-test-x 10) env)
(display (list 'case1 (eval 'eval-test-x env))) (newline)
(eval '(define (eval-test-double n) (* 2 n)) env)
(display (list 'case2 (eval '(eval-test-double eval-test-x) env))) (newline)
; redefining replaces the binding
(eval '(define eval-test-x 21) env)
(display (list 'case3 (eval '(eval-test-double eval-test-x) env))) (newline)
; set! on an evaluated definition
(eval '(set! eval-test-x (+ eval-test-x 1)) env)
(display (list 'case4 (eval 'eval-test-x env))) (newline)
; a procedure defined by eval can be fetched and called directly
(define f (eval 'eval-test-double env))
(display (list 'case5 (f 50))) (newline)
; a macro defined by eval can be used by later evals
(eval '(define-syntax eval-test-swap! (syntax-rules () ((_ a b) (let ((tmp a)) (set! a b) (set! b tmp))))) env)
(eval '(define eval-test-p 1) env)
(eval '(define eval-test-q 2) env)
(eval '(eval-test-swap! eval-test-p eval-test-q) env)
(display (list 'case6 (eval '(list eval-test-p eval-test-q) env))) (newline)
; mutually recursive procedures defined by separate evals
(eval '(define (eval-test-even? n) (if (= n 0) #t (eval-test-odd? (- n 1)))) env)
(eval '(define (eval-test-odd? n) (if (= n 0) #f (eval-test-even? (- n 1)))) env)
(display (list 'case7 (eval '(eval-test-even? 100) env) (eval '(eval-test-odd? 7) env))) (newline)
