(import (scheme base) (scheme write))
(display (list 'case1 (do ((i 0 (+ i 1)) (acc '() (cons i acc))) ((= i 5) acc)))) (newline)
; do with a body
(define v (make-vector 5 0))
(do ((i 0 (+ i 1))) ((= i 5)) (vector-set! v i (* i i)))
(display (list 'case2 v)) (newline)
; variable without step keeps its value
(display (list 'case3 (do ((i 0 (+ i 1)) (k 7)) ((= i 3) (list i k))))) (newline)
; several result expressions: last one is the value
(define log '())
(display (list 'case4 (do ((i 0 (+ i 1))) ((= i 2) (set! log (cons 'done log)) (list 'result i)) (set! log (cons i log))))) (newline)
(display (list 'case5 log)) (newline)
; steps are computed with the old values (parallel update)
(display (list 'case6 (do ((a 1 b) (b 2 a) (n 0 (+ n 1))) ((= n 3) (list a b))))) (newline)
; termination test true at once: body never runs
(define ran #f)
(do ((i 0 (+ i 1))) (#t) (set! ran #t))
(display (list 'case7 ran)) (newline)
; classic sum
(display (list 'case8 (do ((vec (vector 1 3 5 7 9)) (i 0 (+ i 1)) (sum 0 (+ sum (vector-ref vec i)))) ((= i 5) sum)))) (newline)
; nested do
(display (list 'case9
  (do ((i 0 (+ i 1)) (acc '() (cons (do ((j 0 (+ j 1)) (s 0 (+ s j))) ((> j i) s)) acc))) ((= i 5) (reverse acc))))) (newline)
