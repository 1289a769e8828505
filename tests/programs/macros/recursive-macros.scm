(import (scheme base) (scheme write))
(define-syntax my-let*
  (syntax-rules ()
    ((_ () body ...) (let () body ...))
    ((_ ((x v) rest ...) body ...) (let ((x v)) (my-let* (rest ...) body ...)))))
(display (list 'case1 (my-let* ((a 1) (b (+ a 1)) (c (* b 3))) (list a b c)))) (newline)
; reverse the arguments at expansion time with an accumulator
(define-syntax rev-list
  (syntax-rules ()
    ((_ () acc) 'acc)
    ((_ (x rest ...) (acc ...)) (rev-list (rest ...) (x acc ...)))))
(display (list 'case2 (rev-list (1 2 3 4) ()))) (newline)
; compile-time counting in unary
(define-syntax unary-length
  (syntax-rules ()
    ((_ ()) 0)
    ((_ (x rest ...)) (+ 1 (unary-length (rest ...))))))
(display (list 'case3 (unary-length (a b c d e f)))) (newline)
; mutual recursion between two macros
(define-syntax ping
  (syntax-rules ()
    ((_ () acc) 'acc)
    ((_ (x . r) acc) (pong r (ping x . acc)))))
(define-syntax pong
  (syntax-rules ()
    ((_ () acc) 'acc)
    ((_ (x . r) acc) (ping r (pong x . acc)))))
(write (list 'case4 (ping (1 2 3) ()))) (newline)
; a recursive macro generating nested ifs
(define-syntax my-case
  (syntax-rules (else)
    ((_ k (else e)) e)
    ((_ k ((d ...) e) c ...) (if (memv k '(d ...)) e (my-case k c ...)))))
(define (classify n) (my-case n ((1 2 3) 'low) ((4 5 6) 'mid) (else 'high)))
(display (list 'case5 (classify 2) (classify 5) (classify 9))) (newline)
; expansion produces definitions recursively
(define-syntax define-all
  (syntax-rules ()
    ((_) (begin))
    ((_ (n v) more ...) (begin (define n v) (define-all more ...)))))
(define-all (d1 10) (d2 20) (d3 30))
(display (list 'case6 d1 d2 d3)) (newline)
; a deeply recursive expansion (100 steps)
(define-syntax count-down
  (syntax-rules ()
    ((_ () n) n)
    ((_ (x . r) n) (count-down r (+ n 1)))))
(display (list 'case7 (count-down (0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9) 0))) (newline)
