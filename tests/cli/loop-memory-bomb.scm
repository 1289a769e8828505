;; A loop that allocates without ever calling a procedure (a named let compiled as a jump, over
;; inlined `cons`): the heap limit must stop it all the same.
(import (scheme base) (scheme write))
(display (guard (e (#t 'caught))
  (let loop ((i 0) (l '()))
    (loop (+ i 1) (cons i l)))))
