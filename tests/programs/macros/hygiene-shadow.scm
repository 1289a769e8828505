(import (scheme base) (scheme write))
; macros using if, list, cons keep working when the user rebinds those names locally
(define-syntax my-unless
  (syntax-rules ()
    ((_ c e) (if c #f e))))
(display (list 'case1 (let ((if (lambda (a b c) 'user-if))) (my-unless #f 'ok)))) (newline)
(define-syntax make-pair-list
  (syntax-rules ()
    ((_ a b) (list (cons a b)))))
(display (list 'case2 (let ((list vector) (cons -)) (make-pair-list 1 2)))) (newline)
; and the user's local bindings still work for the user's own code
(display (list 'case3 (let ((list vector)) (list 1 2)))) (newline)
; rebinding a name used by the macro with a let around the definition site
(define-syntax first-of
  (syntax-rules ()
    ((_ x) (car x))))
(define (use-first) (let ((car cdr)) (first-of '(a b c))))
(display (list 'case4 (use-first))) (newline)
; shadowing a special form keyword locally does not break macros that use it
(define-syntax my-when
  (syntax-rules ()
    ((_ c body ...) (if c (begin body ...) 'skipped))))
(display (list 'case5 (let ((begin list)) (my-when #t 1 2 3)))) (newline)
; the user can shadow the macro's name itself
(define-syntax double
  (syntax-rules () ((_ x) (* 2 x))))
(display (list 'case6 (double 4) (let ((double (lambda (x) (+ x x x)))) (double 4)))) (newline)
; a macro whose expansion binds a name that is also passed in by the user
(define-syntax with-result
  (syntax-rules ()
    ((_ expr) (let ((result expr)) (list 'result result)))))
(define result 'user-result)
(display (list 'case7 (with-result result))) (newline)
; defining a procedure named like a standard one locally
(define (f)
  (define (list . xs) 'user-list)
  (make-pair-list 3 4))
(display (list 'case8 (f))) (newline)
