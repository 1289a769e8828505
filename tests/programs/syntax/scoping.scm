(import (scheme base) (scheme write))
; local rebinding of standard procedure names
(display (list 'case1 (let ((car cdr)) (car '(1 2 3))))) (newline)
(display (list 'case2 (car '(1 2 3)))) (newline)
(define (f list) (length list))
(display (list 'case3 (f '(a b c)) (list 1 2))) (newline)
; a parameter named like a procedure shadows it inside only
(define (g + a b) (+ a b))
(display (list 'case4 (g * 3 4) (+ 3 4))) (newline)
; lexical scope: free variables refer to the definition site
(define y 'global-y)
(define (show-y) y)
(define (call-with-local-y) (let ((y 'local-y)) (show-y)))
(display (list 'case5 (call-with-local-y))) (newline)
; inner lambdas see the nearest binding
(define (outer x)
  (lambda (y)
    (lambda (x) (list x y))))
(display (list 'case6 (((outer 1) 2) 3))) (newline)
; set! affects the innermost binding only
(define z 'global)
(define (set-local) (let ((z 'local)) (set! z 'changed) z))
(display (list 'case7 (set-local) z)) (newline)
; global redefinition is seen by closures referring to it
(define (get-w) w)
(define w 1)
(define before (get-w))
(set! w 2)
(display (list 'case8 before (get-w))) (newline)
; variables named like special forms' keywords are fine as data
(define (h if-val then-val) (list if-val then-val))
(display (list 'case9 (h 'a 'b))) (newline)
