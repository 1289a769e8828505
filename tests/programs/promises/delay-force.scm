(import (scheme base) (scheme write) (scheme lazy))
; a promise is evaluated at most once
(define count 0)
(define p (delay (begin (set! count (+ count 1)) (* 6 7))))
(display (list 'case1 count (promise? p))) (newline)
(define v1 (force p))
(define v2 (force p))
(display (list 'case2 v1 v2 count)) (newline)
(display (list 'case3 (force (make-promise 5)) (promise? (make-promise 5)) (promise? 5))) (newline)
; make-promise of a promise returns that promise
(define mp (make-promise (delay 'inner)))
(display (list 'case4 (promise? mp) (force mp))) (newline)
; streams
(define-syntax stream-cons (syntax-rules () ((_ a b) (cons a (delay b)))))
(define (stream-car s) (car s))
(define (stream-cdr s) (force (cdr s)))
(define (integers-from n) (stream-cons n (integers-from (+ n 1))))
(define (stream-take s n) (if (= n 0) '() (cons (stream-car s) (stream-take (stream-cdr s) (- n 1)))))
(display (list 'case5 (stream-take (integers-from 10) 5))) (newline)
(define (stream-filter pred s) (if (pred (stream-car s)) (stream-cons (stream-car s) (stream-filter pred (stream-cdr s))) (stream-filter pred (stream-cdr s))))
(display (list 'case6 (stream-take (stream-filter even? (integers-from 1)) 5))) (newline)
; a promise that forces itself while being forced (R7RS example):
; the first value to be delivered wins
(define c2 0)
(define x2 5)
(define p2 (delay (begin (set! c2 (+ c2 1)) (if (> c2 x2) c2 (force p2)))))
(define r7 (force p2))
(set! x2 10)
(display (list 'case7 r7 (force p2) c2)) (newline)
