(import (scheme base) (scheme write))
; macro temporaries do not capture the user's variables
(define-syntax my-or2
  (syntax-rules ()
    ((_ a b) (let ((t a)) (if t t b)))))
(define t 5)
(display (list 'case1 (my-or2 #f t))) (newline)
(define-syntax swap!
  (syntax-rules ()
    ((_ a b) (let ((tmp a)) (set! a b) (set! b tmp)))))
(define tmp 'x)
(define y 'y)
(swap! tmp y)
(display (list 'case2 tmp y)) (newline)
; the user's local bindings of names a prelude macro uses do not break it
(display (list 'case3 (let ((if list) (not list) (let* list)) (cond ((= 1 2) 'a) ((= 1 1) 'b) (else 'c))))) (newline)
(display (list 'case4 (let ((memv list) (eqv? list) (if list)) (case 3 ((1 2 3) 'small) (else 'big))))) (newline)
(display (list 'case5 (let ((if list) (begin list) (letrec list) (not list) (loop 'user-loop))
                        (do ((i 0 (+ i 1)) (acc '() (cons i acc))) ((= i 3) (cons loop acc)))))) (newline)
(display (list 'case6 (let ((if list) (let list)) (and 1 (or #f 2))))) (newline)
; a local variable named else or => is not the cond keyword
(display (list 'case7 (let ((else #f)) (cond (#f 1) (else 'else-was-false) (#t 'fell-through))))) (newline)
(display (list 'case8 (let ((=> #f)) (cond (#t => 'ok))))) (newline)
; a macro that defines a helper keeps referring to the global one even when shadowed at use
(define (helper x) (list 'global-helper x))
(define-syntax call-helper
  (syntax-rules () ((_ v) (helper v))))
(display (list 'case9 (let ((helper (lambda (x) 'local-helper))) (call-helper 1)))) (newline)
; a macro-introduced binding is invisible to the user's body expression
(define-syntax with-x
  (syntax-rules () ((_ body) (let ((x 'macro-x)) body))))
(define x 'user-x)
(display (list 'case10 (with-x x))) (newline)
