;; A comparison run as one superinstruction (Local, Const, Lt) reports its error at the `<`.
(import (scheme base))
(define (down n)
  (if (< n 10)
      (- n 1)
      n))
(down (quote x))
