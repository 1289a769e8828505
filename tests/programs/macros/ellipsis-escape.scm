(import (scheme base) (scheme write))
; (... ...) produces a literal ellipsis in the output: a macro-defining macro
(define-syntax def-lister
  (syntax-rules ()
    ((_ name tag)
     (define-syntax name
       (syntax-rules ()
         ((_ x (... ...)) (list 'tag x (... ...))))))))
(def-lister lst-a a)
(def-lister lst-b b)
(display (list 'case1 (lst-a 1 2 3) (lst-b) (lst-b 9))) (newline)
; (... template) escapes a whole subtemplate
(define-syntax make-quoted-ellipsis
  (syntax-rules ()
    ((_) '(... (a ...)))))
(display (list 'case2 (make-quoted-ellipsis))) (newline)
; custom ellipsis identifier
(define-syntax my-list
  (syntax-rules ::: ()
    ((_ x :::) (list x :::))))
(display (list 'case3 (my-list 1 2 3) (my-list))) (newline)
; with a custom ellipsis, ... is an ordinary identifier in patterns and templates
(define-syntax keep-dots
  (syntax-rules ::: ()
    ((_ x :::) '(x ::: ...))))
(display (list 'case4 (keep-dots 1 2))) (newline)
; custom ellipsis with nesting
(define-syntax flat
  (syntax-rules <..> ()
    ((_ (x <..>) <..>) '(x <..> <..>))))
(display (list 'case5 (flat (1 2) (3) () (4 5)))) (newline)
; a macro-defining macro using a custom ellipsis for the inner macro
(define-syntax def-summer
  (syntax-rules ()
    ((_ name)
     (define-syntax name
       (syntax-rules ::: ()
         ((_ n :::) (+ n :::)))))))
(def-summer sum)
(display (list 'case6 (sum 1 2 3 4) (sum))) (newline)
; outer macro ellipsis and inner escaped ellipsis together
(define-syntax def-prefixers
  (syntax-rules ()
    ((_ (name prefix) ...)
     (begin
       (define-syntax name
         (syntax-rules ()
           ((_ x (... ...)) '(prefix x (... ...)))))
       ...))))
(def-prefixers (pa p-a) (pb p-b))
(display (list 'case7 (pa 1 2) (pb))) (newline)
