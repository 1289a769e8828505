(import (scheme base) (scheme write))
(display (list 'case1 (let ((a 1) (b 2)) (+ a b)))) (newline)
; let inits are evaluated in the outer scope
(define a 10)
(display (list 'case2 (let ((a 1) (b a)) (list a b)))) (newline)
; let* sees earlier bindings
(display (list 'case3 (let* ((a 1) (b (+ a 1)) (c (* b 10))) (list a b c)))) (newline)
; let* with duplicate names is allowed
(display (list 'case4 (let* ((x 1) (x (+ x 1)) (x (* x 10))) x))) (newline)
; empty let
(display (list 'case5 (let () 5) (let* () 6))) (newline)
; letrec: mutually recursive local procedures
(display (list 'case6
  (letrec ((ev? (lambda (n) (if (= n 0) #t (od? (- n 1)))))
           (od? (lambda (n) (if (= n 0) #f (ev? (- n 1))))))
    (list (ev? 10) (od? 7) (ev? 3))))) (newline)
; letrec*: later inits may use values of earlier ones
(display (list 'case7
  (letrec* ((p (lambda (x) (+ 1 (q (- x 1)))))
            (q (lambda (y) (if (= y 0) 0 (+ 1 (p (- y 1))))))
            (x (p 5))
            (y x))
    y))) (newline)
; shadowing
(display (list 'case8 (let ((x 1)) (let ((x 2)) (let ((x 3)) x))))) (newline)
(display (list 'case9 (let ((x 1)) (let ((y (+ x 1))) (let ((x (* y 10))) (list x y)))))) (newline)
; let body with multiple expressions
(display (list 'case10 (let ((v 0)) (set! v (+ v 5)) (set! v (* v 2)) v))) (newline)
; closures capture the let binding
(define get-set
  (let ((hidden 'initial))
    (cons (lambda () hidden) (lambda (v) (set! hidden v)))))
((cdr get-set) 'updated)
(display (list 'case11 ((car get-set)))) (newline)
