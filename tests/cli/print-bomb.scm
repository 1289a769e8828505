;; A structure that shares its parts: 60 pairs, but written out in full it is 2^60 leaves.
;; Under --max-heap the text stops at the limit with an error (it was minutes, then memory).
(import (scheme base) (scheme write))
(define (dag n) (if (= n 0) 'leaf (let ((d (dag (- n 1)))) (cons d d))))
(display (guard (e (#t 'caught)) (write-simple (dag 60))))
