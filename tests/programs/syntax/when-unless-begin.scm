(import (scheme base) (scheme write))
(define log '())
(define (note x) (set! log (cons x log)))
(when (> 2 1) (note 'a) (note 'b))
(when (< 2 1) (note 'c))
(unless (< 2 1) (note 'd) (note 'e))
(unless (> 2 1) (note 'f))
(display (list 'case1 (reverse log))) (newline)
; nested when/unless
(define r '())
(when #t (unless #f (when #t (set! r (cons 'deep r)))))
(display (list 'case2 r)) (newline)
; begin as an expression
(define x 0)
(display (list 'case3 (begin (set! x 5) (set! x (* x 2)) x))) (newline)
(display (list 'case4 (begin 'only))) (newline)
; top-level begin containing definitions
(begin
  (define b1 'one)
  (define (b2) 'two))
(display (list 'case5 b1 (b2))) (newline)
; nested begins
(display (list 'case6 (begin (begin 1 2) (begin 3 (begin 4))))) (newline)
; begin in an if branch
(display (list 'case7 (if #t (begin (set! x 'then) x) (begin (set! x 'else) x)))) (newline)
