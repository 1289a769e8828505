(import (scheme base) (scheme write))
(define x 5)
(define lst '(a b c))
(write (list 'case1 `(x ,x))) (newline)
(write (list 'case2 `(1 ,(+ 1 1) ,@(list 3 4) 5))) (newline)
(write (list 'case3 `(start ,@lst end))) (newline)
(write (list 'case4 `(,@lst))) (newline)
(write (list 'case5 `(,@'() a ,@'()))) (newline)
; splicing at the end of a dotted tail
(write (list 'case6 `(1 . ,(+ 1 1)))) (newline)
(write (list 'case7 `(1 ,@lst . tail))) (newline)
; vector quasiquote
(write (list 'case8 `#(1 ,x ,@lst 9))) (newline)
(write (list 'case9 `#())) (newline)
; nested lists
(write (list 'case10 `((a ,x) (b ,(* x 2)) (c ,@(map (lambda (n) (* n n)) '(1 2 3)))))) (newline)
; quasiquote with no unquotes is like quote
(write (list 'case11 `(a b (c d)) (equal? `(a b (c d)) '(a b (c d))))) (newline)
; unquote of strings, chars, booleans
(write (list 'case12 `(,"str" ,#\c ,#t ,'sym))) (newline)
; splicing a freshly consed list leaves the original unchanged
(define orig (list 1 2))
(define made `(0 ,@orig 3))
(write (list 'case13 made orig)) (newline)
; building code-like data
(define (make-adder-expr n) `(lambda (y) (+ y ,n)))
(write (list 'case14 (make-adder-expr 42))) (newline)
; long form names
(write (list 'case15 (quasiquote (1 (unquote (+ 1 1)) (unquote-splicing (list 3 4)))))) (newline)
