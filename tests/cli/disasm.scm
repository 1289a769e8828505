(define (count-up n)
  (let loop ((i 0) (acc '()))
    (if (= i n) (reverse acc) (loop (+ i 1) (cons i acc)))))
(define counter
  (let ((n 0))
    (lambda () (set! n (+ n 1)) n)))
(display (count-up 3))
(display (counter))
