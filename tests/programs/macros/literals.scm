(import (scheme base) (scheme write))
(define-syntax for
  (syntax-rules (in from to)
    ((_ x in lst body ...) (for-each (lambda (x) body ...) lst))
    ((_ x from a to b body ...) (do ((x a (+ x 1))) ((> x b)) body ...))))
(define out '())
(for x in '(1 2 3) (set! out (cons x out)))
(display (list 'case1 out)) (newline)
(set! out '())
(for y from 3 to 6 (set! out (cons (* y y) out)))
(display (list 'case2 out)) (newline)
; literal => and else
(define-syntax my-case
  (syntax-rules (else =>)
    ((_ v (else => f)) (f v))
    ((_ v (else e)) e)
    ((_ v ((k) e) clause ...) (if (eqv? v 'k) e (my-case v clause ...)))))
(display (list 'case3 (my-case 'b ((a) 1) ((b) 2) (else 3))
                      (my-case 'z ((a) 1) (else => (lambda (x) (list x 'fallback)))))) (newline)
; a literal only matches the identifier itself, not any symbol
(define-syntax arrow?
  (syntax-rules (->)
    ((_ ->) 'arrow)
    ((_ other) 'not-arrow)))
(display (list 'case4 (arrow? ->) (arrow? =>) (arrow? x))) (newline)
; literals matching in nested positions
(define-syntax kv
  (syntax-rules (:)
    ((_ (k : v) ...) (list (cons 'k v) ...))))
(display (list 'case5 (kv (a : 1) (b : (+ 1 1)) (c : 3)))) (newline)
; a literal that is locally bound by the user no longer matches
(define-syntax is-else
  (syntax-rules (else)
    ((_ else) 'matched-else)
    ((_ x) 'plain)))
(display (list 'case6 (is-else else) (let ((else 1)) (is-else else)))) (newline)
; data literals in patterns
(define-syntax small
  (syntax-rules ()
    ((_ 0) 'zero)
    ((_ 1) 'one)
    ((_ "s") 'string-s)
    ((_ #t) 'true)
    ((_ x) 'other)))
(display (list 'case7 (small 0) (small 1) (small "s") (small #t) (small 9))) (newline)
; underscore matches anything and is not bound
(define-syntax second
  (syntax-rules ()
    ((_ _ b . _) b)))
(display (list 'case8 (second 1 2 3 4) (second 'a 'b))) (newline)
