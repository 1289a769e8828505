(import (scheme base) (scheme write) (scheme case-lambda))
(define area
  (case-lambda
    ((r) (* 3 r r))
    ((w h) (* w h))
    ((a b c) (list 'triangle a b c))))
(display (list 'case1 (area 2) (area 3 4) (area 3 4 5))) (newline)
(define count-args
  (case-lambda
    (() 'none)
    ((x) 'one)
    ((x y) 'two)
    ((x y . rest) (list 'many (length rest)))))
(display (list 'case2 (count-args) (count-args 1) (count-args 1 2) (count-args 1 2 3 4))) (newline)
; recursive case-lambda with default arguments
(define range
  (case-lambda
    ((end) (range 0 end))
    ((start end) (range start end 1))
    ((start end step) (if (>= start end) '() (cons start (range (+ start step) end step))))))
(display (list 'case3 (range 5) (range 2 5) (range 0 10 3))) (newline)
; clauses are tried in order: the first matching arity wins
(define pick
  (case-lambda
    (args (list 'rest-first args))
    ((x) 'never)))
(display (list 'case4 (pick 1) (pick))) (newline)
; case-lambda as a closure
(define (make-acc start)
  (case-lambda
    (() start)
    ((n) (set! start (+ start n)) start)))
(define acc (make-acc 10))
(acc 5)
(define before (acc))
(define after (acc 1))
(display (list 'case5 before after (acc))) (newline)
