(import (scheme base) (scheme write))
(display (list 'case1 (and) (or))) (newline)
(display (list 'case2 (and 1 2 3) (and 1 #f 3) (and #f))) (newline)
(display (list 'case3 (or #f 2 3) (or #f #f) (or 'x))) (newline)
; returns the actual value, not #t
(display (list 'case4 (and 1 '(a b)) (or #f '(c)))) (newline)
; short-circuit: later expressions are not evaluated
(define log '())
(define (note x) (set! log (cons x log)) x)
(and (note 1) (note #f) (note 3))
(display (list 'case5 (reverse log))) (newline)
(set! log '())
(or (note #f) (note 2) (note 3))
(display (list 'case6 (reverse log))) (newline)
; nested
(display (list 'case7 (or (and #f 1) (and 2 3)) (and (or #f 4) (or 5 #f)))) (newline)
; memv idiom
(define (small-prime? n) (and (memv n '(2 3 5 7)) #t))
(display (list 'case8 (small-prime? 5) (small-prime? 6))) (newline)
; empty list and zero are true values
(display (list 'case9 (and '() 0) (or '() 'no))) (newline)
