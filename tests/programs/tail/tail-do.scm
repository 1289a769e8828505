(import (scheme base) (scheme write))
; the result expressions of do are in tail position
(define (f n)
  (do ((i 0 (+ i 1)))
      ((= i 2) (if (= n 0) 'do-done (f (- n 1))))))
(display (list 'case1 (f 1000000))) (newline)
; a long do loop itself
(display (list 'case2 (do ((i 0 (+ i 1)) (s 0 (+ s i))) ((= i 3000000) s)))) (newline)
; a do loop calling a procedure that loops in its body
(define count 0)
(define (bump-n n) (if (> n 0) (begin (set! count (+ count 1)) (bump-n (- n 1)))))
(do ((i 0 (+ i 1))) ((= i 1000)) (bump-n 1000))
(display (list 'case3 count)) (newline)
