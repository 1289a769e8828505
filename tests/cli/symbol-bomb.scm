;; Symbols are never collected: a loop making fresh ones grows the symbol table without bound, and
;; the heap limit must stop it as it stops a loop making pairs.
(import (scheme base) (scheme write))
(display (guard (e (#t 'caught))
  (let loop ((i 0))
    (string->symbol (string-append "fresh-symbol-" (number->string i)))
    (loop (+ i 1)))))
