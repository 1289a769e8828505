(import (scheme base) (scheme write))
(define-syntax my-list
  (syntax-rules ()
    ((_ x ...) (list x ...))))
(display (list 'case1 (my-list) (my-list 1) (my-list 1 2 3))) (newline)
; ellipsis after a subpattern
(define-syntax my-let
  (syntax-rules ()
    ((_ ((name val) ...) body1 body2 ...) ((lambda (name ...) body1 body2 ...) val ...))))
(display (list 'case2 (my-let ((a 1) (b 2) (c 3)) (+ a b c)) (my-let () 'empty))) (newline)
; two pattern variables under the same ellipsis, used in different orders
(define-syntax pairs
  (syntax-rules ()
    ((_ (a b) ...) '((b a) ...))))
(display (list 'case3 (pairs (1 x) (2 y) (3 z)))) (newline)
; ellipsis following a template subform with constant parts
(define-syntax tagged
  (syntax-rules ()
    ((_ tag x ...) (list (cons 'tag x) ...))))
(display (list 'case4 (tagged t 1 2 3))) (newline)
; zero matches
(define-syntax count
  (syntax-rules ()
    ((_ x ...) (length '(x ...)))))
(display (list 'case5 (count) (count a b c d e))) (newline)
; ellipsis in a nested template position with fixed siblings
(define-syntax wrap-each
  (syntax-rules ()
    ((_ f x ...) (list (f x) ... 'end))))
(display (list 'case6 (wrap-each - 1 2 3))) (newline)
; variable outside the ellipsis repeated for each element
(define-syntax add-to-all
  (syntax-rules ()
    ((_ n x ...) (list (+ n x) ...))))
(display (list 'case7 (add-to-all 10 1 2 3))) (newline)
; my-and built with ellipsis and recursion
(define-syntax my-and
  (syntax-rules ()
    ((_) #t)
    ((_ e) e)
    ((_ e1 e2 ...) (if e1 (my-and e2 ...) #f))))
(display (list 'case8 (my-and) (my-and 1 2 3) (my-and 1 #f 3))) (newline)
; ellipsis matching a list of lists with fixed head
(define-syntax heads
  (syntax-rules ()
    ((_ (h . t) ...) '(h ...))))
(display (list 'case9 (heads (a 1 2) (b) (c . d)))) (newline)
