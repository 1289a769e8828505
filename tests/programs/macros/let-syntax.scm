(import (scheme base) (scheme write))
(display (list 'case1
  (let-syntax ((foo (syntax-rules () ((_ x) (* x 10)))))
    (foo 4)))) (newline)
; let-syntax bindings are not visible to each other; letrec-syntax ones are
(display (list 'case2
  (letrec-syntax ((my-or (syntax-rules ()
                           ((_) #f)
                           ((_ e) e)
                           ((_ e r ...) (let ((t e)) (if t t (my-or r ...)))))))
    (my-or #f #f 3)))) (newline)
(display (list 'case3
  (letrec-syntax ((ev? (syntax-rules () ((_) #t) ((_ x . r) (od? . r))))
                  (od? (syntax-rules () ((_) #f) ((_ x . r) (ev? . r)))))
    (list (ev? 1 2 3 4) (od? 1 2 3) (ev? 1))))) (newline)
; a local macro shadows a global procedure of the same name
(define (shadow x) (list 'procedure x))
(display (list 'case4
  (let-syntax ((shadow (syntax-rules () ((_ x) (list 'macro 'x)))))
    (shadow (+ 1 2)))
  (shadow (+ 1 2)))) (newline)
; internal define-syntax in a body
(define (f n)
  (define-syntax sq (syntax-rules () ((_ x) (* x x))))
  (define m (sq n))
  (+ m 1))
(display (list 'case5 (f 6))) (newline)
; let-syntax body can contain several expressions
(define side 0)
(display (list 'case6
  (let-syntax ((bump (syntax-rules () ((_) (set! side (+ side 1))))))
    (bump) (bump) (bump) side))) (newline)
; a local macro referring to a local variable
(display (list 'case7
  (let ((base 100))
    (let-syntax ((add-base (syntax-rules () ((_ x) (+ base x)))))
      (let ((base 0))
        (add-base 5)))))) (newline)
; nested let-syntax: inner shadows outer
(display (list 'case8
  (let-syntax ((m (syntax-rules () ((_) 'outer))))
    (let-syntax ((m (syntax-rules () ((_) 'inner))))
      (m))))) (newline)
