(import (scheme base) (scheme write))
(define (compose f g) (lambda (x) (f (g x))))
(define inc (lambda (x) (+ x 1)))
(define dbl (lambda (x) (* x 2)))
(display (list 'case1 ((compose inc dbl) 5) ((compose dbl inc) 5))) (newline)
; each call creates a fresh environment
(define (make-acc total) (lambda (n) (set! total (+ total n)) total))
(define a1 (make-acc 0))
(define a2 (make-acc 100))
(a1 10)
(a2 1)
(display (list 'case2 (a1 5) (a2 5))) (newline)
; closures created in a loop capture the binding of each iteration
(define procs
  (let loop ((i 0) (acc '()))
    (if (= i 3) (reverse acc) (loop (+ i 1) (cons (lambda () i) acc)))))
(display (list 'case3 (map (lambda (p) (p)) procs))) (newline)
; do creates fresh bindings per iteration too
(define procs2 '())
(do ((i 0 (+ i 1))) ((= i 3)) (set! procs2 (cons (lambda () (* i 10)) procs2)))
(display (list 'case4 (map (lambda (p) (p)) procs2))) (newline)
; currying
(define (curry3 f) (lambda (a) (lambda (b) (lambda (c) (f a b c)))))
(display (list 'case5 ((((curry3 list) 1) 2) 3))) (newline)
; a closure over a closure
(define (counter-factory)
  (let ((made 0))
    (lambda ()
      (set! made (+ made 1))
      (let ((count 0) (id made))
        (lambda () (set! count (+ count 1)) (list id count))))))
(define factory (counter-factory))
(define ca (factory))
(define cb (factory))
(ca) (ca)
(display (list 'case6 (ca) (cb))) (newline)
; Y-combinator style recursion without define
(define fact
  ((lambda (f) (lambda (n) ((f f) n)))
   (lambda (self) (lambda (n) (if (= n 0) 1 (* n ((self self) (- n 1))))))))
(display (list 'case7 (fact 12))) (newline)
; message-passing object
(define (make-point x y)
  (lambda (msg)
    (case msg ((x) x) ((y) y) ((sum) (+ x y)) (else 'unknown))))
(define p (make-point 3 4))
(display (list 'case8 (p 'x) (p 'y) (p 'sum) (p 'z))) (newline)
