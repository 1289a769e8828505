;; Requests no machine could satisfy are errors the program can catch, not aborts.
(import (scheme base) (scheme write))
(define (caught thunk) (guard (e ((error-object? e) 'refused)) (thunk)))
(write (list (caught (lambda () (make-vector 100000000000000)))
             (caught (lambda () (make-string 100000000000000)))
             (caught (lambda () (make-bytevector 100000000000000)))
             (caught (lambda () (expt 10 4000000000)))
             (string-length (number->string (expt 7 1000)))))
(newline)
