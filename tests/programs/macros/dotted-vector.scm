(import (scheme base) (scheme write))
; dotted patterns
(define-syntax head-rest
  (syntax-rules ()
    ((_ h . t) '(h t))))
(display (list 'case1 (head-rest 1 2 3) (head-rest 1))) (newline)
(define-syntax my-lambda
  (syntax-rules ()
    ((_ (a . rest) body) (lambda (a . rest) body))))
(display (list 'case2 ((my-lambda (x . ys) (list x ys)) 1 2 3))) (newline)
; dotted pattern matching an improper list argument form
(define-syntax pair-parts
  (syntax-rules ()
    ((_ (a . b)) '(car: a cdr: b))))
(display (list 'case3 (pair-parts (1 . 2)) (pair-parts (1 2 3)))) (newline)
; vector patterns
(define-syntax vec-sum
  (syntax-rules ()
    ((_ #(x ...)) (+ x ...))))
(display (list 'case4 (vec-sum #(1 2 3 4)) (vec-sum #()))) (newline)
(define-syntax vec-swap
  (syntax-rules ()
    ((_ #(a b)) '#(b a))))
(write (list 'case5 (vec-swap #(1 2)))) (newline)
; vector pattern with fixed parts and an ellipsis in the template producing a vector
(define-syntax vec-rev-head
  (syntax-rules ()
    ((_ #(h t ...)) '#(t ... h))))
(write (list 'case6 (vec-rev-head #(1 2 3 4)))) (newline)
; vector inside a list pattern, list inside a vector pattern
(define-syntax mixed
  (syntax-rules ()
    ((_ (k #(v ...)) ...) '((k v ...) ...))))
(write (list 'case7 (mixed (a #(1 2)) (b #()) (c #(3))))) (newline)
(define-syntax vec-of-pairs
  (syntax-rules ()
    ((_ #((a b) ...)) '#(a ... b ...))))
(write (list 'case8 (vec-of-pairs #((1 x) (2 y))))) (newline)
; a vector pattern does not match a list
(define-syntax vec-or-list
  (syntax-rules ()
    ((_ #(x ...)) 'vector)
    ((_ (x ...)) 'list)
    ((_ x) 'atom)))
(display (list 'case9 (vec-or-list #(1)) (vec-or-list (1)) (vec-or-list 1))) (newline)
