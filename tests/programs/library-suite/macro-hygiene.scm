(import (scheme base) (scheme write) (util macros))
; the library's temporaries do not capture the program's variables
(define t 'program-t)
(display (list 'case1 (my-or #f t) (my-or #f #f) (my-or))) (newline)
(define tmp 1)
(define other 2)
(swap! tmp other)
(display (list 'case2 tmp other)) (newline)
; the library's loop name does not capture the program's loop
(define (loop) 'program-loop)
(define i 0)
(define acc '())
(while (< i 3) (set! acc (cons (loop) acc)) (set! i (+ i 1)))
(display (list 'case3 i acc)) (newline)
; a private macro used by an exported one; the program's twice is a different binding
(define (twice x) (list 'program-twice x))
(display (list 'case4 (quad 5) (twice 5))) (newline)
; the program's own check-positive does not replace the library's private one
(define (check-positive . args) 'program-check)
(display (list 'case5 (checked (+ 1 2)) (checked (- 1 2)) (check-positive))) (newline)
; a macro that expands into a definition of a name the program chooses
(define-getter answer 42)
(display (list 'case6 (answer))) (newline)
; the program rebinding if, let, set! and when locally does not break the library's macros
(display (list 'case7
  (let ((if list) (let vector) (when 'w))
    (my-or #f 'kept)))) (newline)
(define (swap-in-scope)
  (let ((set! -) (a 1) (b 2))
    (swap! a b)
    (list a b)))
(display (list 'case8 (swap-in-scope))) (newline)
