(import (scheme base) (scheme write))
; call/cc used as an early exit
(define (find-first pred l)
  (call-with-current-continuation
    (lambda (return)
      (for-each (lambda (x) (when (pred x) (return x))) l)
      #f)))
(display (list 'case1 (find-first even? '(1 3 4 5 6)) (find-first even? '(1 3 5)))) (newline)
(display (list 'case2 (+ 1 (call/cc (lambda (k) (+ 10 (k 41))))))) (newline)
(display (list 'case3 (call/cc (lambda (k) 'normal-return)))) (newline)
; escaping from deep recursion
(define (product l)
  (call/cc
    (lambda (break)
      (let loop ((l l))
        (cond ((null? l) 1)
              ((= (car l) 0) (break 'zero-found))
              (else (* (car l) (loop (cdr l)))))))))
(display (list 'case4 (product '(1 2 3 4)) (product '(1 2 0 4)))) (newline)
; the continuation may be passed around and called from another procedure
(define (call-it k v) (k v))
(display (list 'case5 (call/cc (lambda (k) (call-it k 'via-helper) 'not-reached)))) (newline)
; a continuation is a procedure
(display (list 'case6 (call/cc procedure?))) (newline)
