(import (scheme base) (scheme write) (srfi 69))
; hash-table-contains? and hash-table-count are not in SRFI 69 (they come from later SRFIs);
; Chenilles provides them as the same operations as hash-table-exists? and hash-table-size
(define h (make-hash-table))
(hash-table-set! h 'one 1)
(hash-table-set! h 'two 2)
(display (list 'case1 (hash-table-contains? h 'one) (hash-table-contains? h 'three))) (newline)
(display (list 'case2 (hash-table-count h) (hash-table-size h))) (newline)
(hash-table-delete! h 'one)
(display (list 'case3 (hash-table-contains? h 'one) (hash-table-count h))) (newline)
