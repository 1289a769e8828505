(import (scheme base) (scheme write))
; a macro expanding into a top-level definition
(define-syntax define-getter
  (syntax-rules ()
    ((_ name value) (define (name) value))))
(define-getter get-five 5)
(display (list 'case1 (get-five))) (newline)
; a macro defining several things via begin (all names come from the use site)
(define-syntax define-counter
  (syntax-rules ()
    ((_ var getter incr)
     (begin
       (define var 0)
       (define (getter) var)
       (define (incr) (set! var (+ var 1)))))))
(define-counter c1-count c1-get c1-inc!)
(c1-inc!) (c1-inc!)
(display (list 'case2 (c1-get))) (newline)
; the same macro used in an internal definition context
(define (g)
  (define-getter local-get 'inner)
  (local-get))
(display (list 'case3 (g))) (newline)
; a macro that defines a macro
(define-syntax define-alias
  (syntax-rules ()
    ((_ new old) (define-syntax new (syntax-rules () ((_ . args) (old . args)))))))
(define-alias plus +)
(define-alias lst list)
(display (list 'case4 (plus 1 2 3) (lst 'a 'b))) (newline)
; a macro defining a record-like set of procedures from user-given names
(define-syntax define-pair-type
  (syntax-rules ()
    ((_ make get-a get-b)
     (begin
       (define (make a b) (vector a b))
       (define (get-a p) (vector-ref p 0))
       (define (get-b p) (vector-ref p 1))))))
(define-pair-type make-pt pt-x pt-y)
(define pt (make-pt 3 4))
(display (list 'case5 (pt-x pt) (pt-y pt))) (newline)
; macro used before a later definition in the same body
(define (h)
  (define-syntax twice (syntax-rules () ((_ e) (begin e e))))
  (define n 0)
  (twice (set! n (+ n 1)))
  n)
(display (list 'case6 (h))) (newline)
; a macro expanding to a define-syntax that refers to a variable
(define-syntax define-constant-macro
  (syntax-rules ()
    ((_ name val) (define-syntax name (syntax-rules () ((_) val))))))
(define-constant-macro answer 42)
(display (list 'case7 (answer))) (newline)
