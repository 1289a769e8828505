(import (scheme base) (scheme write))
(define radix (make-parameter 10))
(display (list 'case1 (radix))) (newline)
(display (list 'case2 (parameterize ((radix 2)) (radix)) (radix))) (newline)
; a converter is applied to the initial value and to parameterized values
(define width (make-parameter 5 (lambda (x) (* x 10))))
(display (list 'case3 (width) (parameterize ((width 3)) (width)) (width))) (newline)
; nested parameterize
(define p (make-parameter 'top))
(define (show) (p))
(display (list 'case4 (parameterize ((p 'a)) (list (show) (parameterize ((p 'b)) (show)) (show))))) (newline)
; dynamic, not lexical: a procedure sees the value at call time
(define (fmt n) (number->string n (radix)))
(display (list 'case5 (fmt 255) (parameterize ((radix 16)) (fmt 255)) (parameterize ((radix 2)) (fmt 5)))) (newline)
; escaping out of parameterize with a continuation restores the value
(define saved (call/cc (lambda (k) (parameterize ((p 'inside)) (k (p))))))
(display (list 'case6 saved (p))) (newline)
; an exception escaping a parameterize restores the value
(display (list 'case7 (guard (e (#t (list 'caught (p)))) (parameterize ((p 'during)) (raise 'x))) (p))) (newline)
; several parameters at once
(define q (make-parameter 1))
(display (list 'case8 (parameterize ((p 'x) (q 2)) (list (p) (q))) (list (p) (q)))) (newline)
