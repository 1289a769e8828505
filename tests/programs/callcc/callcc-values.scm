(import (scheme base) (scheme write))
; a continuation of call-with-values accepts several values
(display (list 'case1 (call-with-values (lambda () (call/cc (lambda (k) (k 1 2 3)))) list))) (newline)
(display (list 'case2 (call-with-values (lambda () (call/cc (lambda (k) (k)))) list))) (newline)
; escaping with several values from a nested computation
(define (split-at-first-negative l)
  (call/cc
    (lambda (k)
      (let loop ((l l) (before '()))
        (cond ((null? l) (k (reverse before) '()))
              ((negative? (car l)) (k (reverse before) l))
              (else (loop (cdr l) (cons (car l) before))))))))
(display (list 'case3 (call-with-values (lambda () (split-at-first-negative '(1 2 -3 4))) list))) (newline)
(display (list 'case4 (call-with-values (lambda () (split-at-first-negative '(5 6))) list))) (newline)
