(define-library (contracts util)
  (export sum helper-count! count)
  (import (scheme base))
  (begin
    (define count 0)
    (define (helper-count! x) (set! count (+ count 1)))
    (define (sum l) (if (null? l) 0 (+ (car l) (sum (cdr l)))))))
