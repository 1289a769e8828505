(import (scheme base) (scheme write))
; Nested quasiquote: inner unquotes at level 1 stay as data. The results
; contain quasiquote/unquote forms, so they are checked with equal? and by
; walking the structure instead of printing them.
(define x 5)
(define r1 `(1 `(2 ,(3 ,(+ 1 3)))))
(display (list 'case1 (equal? r1 '(1 (quasiquote (2 (unquote (3 4)))))))) (newline)
(display (list 'case2 (car (cadr r1)) (car (cadr (cadr r1))))) (newline)
(display (list 'case3 (cadr (cadr (cadr (cadr r1)))))) (newline)
; innermost level-0 unquote is evaluated, level-1 one is kept
(define r2 `(a `(b ,(c ,x))))
(display (list 'case4 (equal? r2 '(a (quasiquote (b (unquote (c 5)))))))) (newline)
; unquote-splicing at level 0 inside a nested quasiquote
(define r3 `(a `(b ,(c ,@(list 1 2)))))
(display (list 'case5 (equal? r3 '(a (quasiquote (b (unquote (c 1 2)))))))) (newline)
; a nested unquote-splicing that stays as data
(define r4 `(a `(b ,@(c ,x))))
(display (list 'case6 (equal? r4 '(a (quasiquote (b (unquote-splicing (c 5)))))))) (newline)
; evaluating the inner template later
(define inner (cadr `(outer `(list ,,x ,(+ 1 2)))))
(display (list 'case7 (equal? inner '(quasiquote (list (unquote 5) (unquote (+ 1 2))))))) (newline)
; three levels
(define r5 `(1 `(2 `(3 ,(4 ,(5 ,(+ 2 4)))))))
(display (list 'case8 (equal? r5 '(1 (quasiquote (2 (quasiquote (3 (unquote (4 (unquote (5 6)))))))))))) (newline)
; quote inside quasiquote with unquote
(define r6 `(a '(b ,x)))
(display (list 'case9 (equal? r6 '(a (quote (b 5)))))) (newline)
; nested in a vector
(define r7 `#(1 `(2 ,(3 ,x))))
(display (list 'case10 (equal? r7 '#(1 (quasiquote (2 (unquote (3 5)))))))) (newline)
