(import (scheme base) (scheme write))
; continuation-passing style: every call is a tail call, the continuation
; chain grows on the heap (1,000,000 closures) and is then unwound by tail calls
(define (sum-cps n k)
  (if (= n 0)
      (k 0)
      (sum-cps (- n 1) (lambda (v) (k (+ v n))))))
(display (list 'case1 (sum-cps 1000000 (lambda (v) v)))) (newline)
; a list of procedures each tail-calling the next
(define (make-chain n)
  (let loop ((i 0) (next (lambda (x) x)))
    (if (= i n) next (loop (+ i 1) (let ((nx next)) (lambda (x) (nx (+ x 1))))))))
(display (list 'case2 ((make-chain 1000000) 0))) (newline)
; tail call in the body of a lambda created by a macro
(define-syntax my-loop
  (syntax-rules ()
    ((_ n body) (let lp ((i n)) (if (> i 0) (begin body (lp (- i 1))) 'macro-loop-done)))))
(define hits 0)
(define r3 (my-loop 1000000 (set! hits (+ hits 1))))
(display (list 'case3 r3 hits)) (newline)
