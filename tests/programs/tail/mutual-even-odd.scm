(import (scheme base) (scheme write))
(define (my-even? n) (if (= n 0) #t (my-odd? (- n 1))))
(define (my-odd? n) (if (= n 0) #f (my-even? (- n 1))))
(display (list 'case1 (my-even? 1000000) (my-odd? 1000000))) (newline)
(display (list 'case2 (my-even? 1000001) (my-odd? 1000001))) (newline)
; the same with local procedures in letrec
(display (list 'case3
  (letrec ((ev? (lambda (n) (if (= n 0) #t (od? (- n 1)))))
           (od? (lambda (n) (if (= n 0) #f (ev? (- n 1))))))
    (ev? 1000000)))) (newline)
; three-way state machine over 1,000,000 steps
(define (state-a n acc) (if (= n 0) (list 'a acc) (state-b (- n 1) (+ acc 1))))
(define (state-b n acc) (if (= n 0) (list 'b acc) (state-c (- n 1) (+ acc 2))))
(define (state-c n acc) (if (= n 0) (list 'c acc) (state-a (- n 1) (+ acc 3))))
(display (list 'case4 (state-a 1000000 0))) (newline)
