; Definitions later in the file and mutual recursion: no warning.
(define (even? n) (if (= n 0) #t (odd? (- n 1))))
(define (odd? n) (if (= n 0) #f (even? (- n 1))))
(define (main) (helper 2))
(define (helper x) (* x total))
(define total 10)
(display (main))
