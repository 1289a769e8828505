;; Amounts of money kept as exact cents.
(define-library (contracts money)
  (export make-money money? money-cents money+ money->string zero-money)
  (import (scheme base))
  (begin
    (define-record-type <money>
      (cents->money cents)
      money?
      (cents money-cents))
    (define (make-money units cents) (cents->money (+ (* units 100) cents)))
    (define zero-money (cents->money 0))
    (define (money+ a b) (cents->money (+ (money-cents a) (money-cents b))))
    (define (pad2 n)
      (if (< n 10) (string-append "0" (number->string n)) (number->string n)))
    (define (money->string m)
      (let ((c (money-cents m)))
        (string-append (if (< c 0) "-" "")
                       (number->string (quotient (abs c) 100))
                       "."
                       (pad2 (remainder (abs c) 100)))))))
