(import (scheme base) (scheme write))
(define (iota-list n) (let loop ((i (- n 1)) (acc '())) (if (< i 0) acc (loop (- i 1) (cons i acc)))))
(define big (iota-list 1000000))
; a recursive (non-tail) map-like copy
(define (my-map f l) (if (null? l) '() (cons (f (car l)) (my-map f (cdr l)))))
(define doubled (my-map (lambda (x) (* 2 x)) big))
(display (list 'case1 (length doubled) (car doubled) (list-ref doubled 999999))) (newline)
(define (copy l) (if (pair? l) (cons (car l) (copy (cdr l))) l))
(define c (copy big))
(display (list 'case2 (equal? c big) (eq? c big))) (newline)
; the builtin map and append on a long list
(define squares (map (lambda (x) (* x x)) big))
(display (list 'case3 (list-ref squares 1000) (length squares))) (newline)
(define both (append big big))
(display (list 'case4 (length both) (list-ref both 1000000))) (newline)
; recursive filter
(define (keep pred l) (cond ((null? l) '()) ((pred (car l)) (cons (car l) (keep pred (cdr l)))) (else (keep pred (cdr l)))))
(define evens (keep even? big))
(display (list 'case5 (length evens) (list-ref evens 10))) (newline)
