;; A subtraction run as one superinstruction (Local, Const, Sub) reports its error at the `-`.
(import (scheme base))
(define (down n)
  (- n 1))
(down (quote x))
