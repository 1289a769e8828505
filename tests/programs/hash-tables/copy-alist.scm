(import (scheme base) (scheme write) (srfi 69))
; alist->hash-table: the first association of a repeated key wins
(define h (alist->hash-table '((a . 1) (b . 2) (a . 100))))
(display (list 'case1 (hash-table-ref/default h 'a #f) (hash-table-ref/default h 'b #f) (hash-table-size h))) (newline)
; alist->hash-table with an equivalence
(define hs (alist->hash-table (list (cons "x" 1) (cons "y" 2)) string=?))
(display (list 'case2 (hash-table-ref/default hs (string #\y) #f) (hash-table-size hs))) (newline)
; a copy is independent of the original
(define c (hash-table-copy h))
(hash-table-set! c 'a 'changed)
(hash-table-set! c 'z 26)
(hash-table-delete! c 'b)
(display (list 'case3 (hash-table-ref/default h 'a #f) (hash-table-ref/default h 'b #f) (hash-table-exists? h 'z) (hash-table-size h))) (newline)
(display (list 'case4 (hash-table-ref/default c 'a #f) (hash-table-exists? c 'b) (hash-table-ref/default c 'z #f) (hash-table-size c))) (newline)
; a copy of a string=? table can be extended
(define m (hash-table-copy hs))
(hash-table-set! m "w" 0)
(display (list 'case5 (hash-table-size m) (hash-table-size hs) (hash-table-ref/default m (string-append "" "x") #f))) (newline)
; the copy keeps the original's equivalence
(define hv (alist->hash-table (list (cons 5 'five)) eqv?))
(define cv (hash-table-copy hv))
(display (list 'case6 (hash-table-ref/default cv (+ 2 3) #f) (hash-table? cv))) (newline)
; an empty alist makes an empty table
(display (list 'case7 (hash-table-size (alist->hash-table '())))) (newline)
