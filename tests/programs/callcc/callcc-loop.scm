(import (scheme base) (scheme write))
; call/cc in a loop: each continuation is used once and dropped, 100,000 times
(define (loop n acc)
  (if (= n 0)
      acc
      (loop (- n 1) (call/cc (lambda (k) (k (+ acc 1)))))))
(display (list 'case1 (loop 100000 0))) (newline)
; call/cc's procedure argument is called as a tail call
(define (tail-loop n) (if (= n 0) 'done (call/cc (lambda (k) (tail-loop (- n 1))))))
(display (list 'case2 (tail-loop 100000))) (newline)
; a loop implemented by re-entering a continuation
(define (count-to n)
  (let ((i 0) (k #f))
    (call/cc (lambda (c) (set! k c)))
    (set! i (+ i 1))
    (if (< i n) (k #f) i)))
(display (list 'case3 (count-to 100000))) (newline)
