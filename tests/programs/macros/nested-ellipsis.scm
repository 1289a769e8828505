(import (scheme base) (scheme write))
; flatten one level of nesting
(define-syntax flat
  (syntax-rules ()
    ((_ (x ...) ...) '(x ... ...))))
(display (list 'case1 (flat (1 2) () (3) (4 5 6)))) (newline)
; keep the nesting structure
(define-syntax nest
  (syntax-rules ()
    ((_ (a b ...) ...) '((a (b ...)) ...))))
(display (list 'case2 (nest (x 1 2) (y) (z 3)))) (newline)
; my-cond implemented with nested ellipses
(define-syntax my-cond
  (syntax-rules (else)
    ((_ (else e ...)) (begin e ...))
    ((_ (c e ...) clause ...) (if c (begin e ...) (my-cond clause ...)))))
(define (test n) (my-cond ((< n 0) 'neg) ((= n 0) 'zero 'really-zero) (else 'pos)))
(display (list 'case3 (test -1) (test 0) (test 1))) (newline)
; nested let of lets
(define-syntax let-groups
  (syntax-rules ()
    ((_ ((name val) ...) ... body) (let* ((name val) ... ...) body))))
(display (list 'case4 (let-groups ((a 1) (b 2)) ((c (+ a b))) (list a b c)))) (newline)
; variables of depth 1 and depth 2 used side by side
(define-syntax table
  (syntax-rules ()
    ((_ (row col ...) ...) '(row ... (col ... ...)))))
(display (list 'case5 (table (r1 a b) (r2 c) (r3)))) (newline)
; three levels
(define-syntax deep-flat
  (syntax-rules ()
    ((_ ((x ...) ...) ...) '(x ... ... ...))))
(display (list 'case6 (deep-flat ((1 2) (3)) ((4)) () ((5 6 7))))) (newline)
; computing with nested ellipses
(define-syntax sum-rows
  (syntax-rules ()
    ((_ (n ...) ...) (list (+ n ...) ...))))
(display (list 'case7 (sum-rows (1 2 3) (10 20) () (100)))) (newline)
