(import (scheme base) (scheme write))
(write (list 'case1 (map (lambda (x) (* x x)) '(1 2 3 4)) (map car '((a 1) (b 2))) (map (lambda (x) x) '()))) (newline)
(write (list 'case2 (map + '(1 2 3) '(10 20 30)) (map list '(a b) '(1 2) '("x" "y")))) (newline)
; lists of unequal length: map stops at the shortest
(write (list 'case3 (map + '(1 2 3) '(10 20)) (map list '(a) '(1 2 3)) (map cons '() '(1 2)))) (newline)
; for-each visits elements in order
(define acc '())
(for-each (lambda (x) (set! acc (cons x acc))) '(1 2 3 4))
(write (list 'case4 acc)) (newline)
(set! acc '())
(for-each (lambda (x y) (set! acc (cons (list x y) acc))) '(a b c) '(1 2 3))
(write (list 'case5 acc)) (newline)
(set! acc '())
(for-each (lambda (x y z) (set! acc (cons (+ x y z) acc))) '(1 2 3 4) '(10 20) '(100 200 300))
(write (list 'case6 acc)) (newline)
(define count 0)
(for-each (lambda (x) (set! count (+ count 1))) '())
(write (list 'case7 count)) (newline)
; map with a closure capturing a variable
(define (scale-all k l) (map (lambda (x) (* k x)) l))
(write (list 'case8 (scale-all 3 '(1 2 3)))) (newline)
; nested map
(write (list 'case9 (map (lambda (row) (map (lambda (x) (+ x 1)) row)) '((1 2) (3 4) ())))) (newline)
; map over the result of map, with builtins as arguments
(write (list 'case10 (map cadr (map list '(1 2 3) '(a b c))))) (newline)
