(import (scheme base) (scheme write))
;; Squaring a number over and over: a few hundred steps, but each product doubles in size. The
;; step limit charges big integers for their size, so this is stopped in well under a second.
(guard (e (#t (display "caught")))
  (let loop ((n 3))
    (loop (* n n))))
