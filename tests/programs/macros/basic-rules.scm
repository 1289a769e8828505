(import (scheme base) (scheme write))
(define-syntax swap!
  (syntax-rules ()
    ((_ a b) (let ((tmp a)) (set! a b) (set! b tmp)))))
(define p 1)
(define q 2)
(swap! p q)
(display (list 'case1 p q)) (newline)
(define-syntax my-if
  (syntax-rules ()
    ((_ c t e) (cond (c t) (else e)))))
(display (list 'case2 (my-if #t 'yes 'no) (my-if #f 'yes 'no))) (newline)
; arguments are not evaluated unless the expansion evaluates them
(display (list 'case3 (my-if #t 'safe (error "must not run")))) (newline)
(define-syntax while
  (syntax-rules ()
    ((_ cond body ...) (let lp () (when cond body ... (lp))))))
(define i 0)
(define acc '())
(while (< i 5) (set! acc (cons i acc)) (set! i (+ i 1)))
(display (list 'case4 acc)) (newline)
(define-syntax unless2
  (syntax-rules ()
    ((_ c body ...) (if c #f (begin body ...)))))
(display (list 'case5 (unless2 #f 'ran) (unless2 #t 'ran))) (newline)
; several rules tried in order
(define-syntax count-args
  (syntax-rules ()
    ((_) 0)
    ((_ x) 1)
    ((_ x y) 2)
    ((_ x y z ...) 'many)))
(display (list 'case6 (count-args) (count-args a) (count-args a b) (count-args a b c d))) (newline)
; macro expanding to a quoted template
(define-syntax quote-it
  (syntax-rules ()
    ((_ x) 'x)))
(display (list 'case7 (quote-it (a b c)) (quote-it hello))) (newline)
; macro used in operator position of its own result
(define-syntax inc!
  (syntax-rules ()
    ((_ v) (inc! v 1))
    ((_ v n) (set! v (+ v n)))))
(define k 10)
(inc! k)
(inc! k 5)
(display (list 'case8 k)) (newline)
; pattern variables appearing several times in the template
(define-syntax twice-list
  (syntax-rules () ((_ e) (list e e))))
(display (list 'case9 (twice-list (+ 1 2)))) (newline)
