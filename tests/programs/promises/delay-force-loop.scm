(import (scheme base) (scheme write) (scheme lazy))
; delay-force allows iterative lazy algorithms in constant space (R7RS example)
(define (stream-drop s n)
  (delay-force
    (if (= n 0)
        s
        (stream-drop (let ((p (force s))) (cdr p)) (- n 1)))))
(define (from n) (delay (cons n (from (+ n 1)))))
(display (list 'case1 (car (force (stream-drop (from 0) 1000000))))) (newline)
(define (loop n) (delay-force (if (= n 0) (delay 'done) (loop (- n 1)))))
(display (list 'case2 (force (loop 1000000)))) (newline)
