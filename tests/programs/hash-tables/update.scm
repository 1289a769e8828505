(import (scheme base) (scheme write) (srfi 69))
; counting words with hash-table-update!/default
(define counts (make-hash-table))
(for-each (lambda (w) (hash-table-update!/default counts w (lambda (n) (+ n 1)) 0))
          '(the cat and the dog and the bird))
(display (list 'case1 (hash-table-ref/default counts 'the 0) (hash-table-ref/default counts 'and 0) (hash-table-ref/default counts 'cat 0) (hash-table-ref/default counts 'fish 0))) (newline)
(display (list 'case2 (hash-table-size counts))) (newline)
; hash-table-update! on an existing key needs no default
(hash-table-update! counts 'cat (lambda (n) (* n 100)))
(display (list 'case3 (hash-table-ref/default counts 'cat 0))) (newline)
; hash-table-update! with a default thunk for a missing key
(hash-table-update! counts 'fish (lambda (n) (+ n 1)) (lambda () 41))
(display (list 'case4 (hash-table-ref/default counts 'fish 0))) (newline)
; the thunk is not called when the key exists
(define thunk-calls 0)
(hash-table-update! counts 'fish (lambda (n) (+ n 1)) (lambda () (set! thunk-calls (+ thunk-calls 1)) 0))
(display (list 'case5 (hash-table-ref/default counts 'fish 0) thunk-calls)) (newline)
; grouping: values are lists built up by update
(define groups (make-hash-table eqv?))
(for-each (lambda (n) (hash-table-update!/default groups (modulo n 3) (lambda (l) (cons n l)) '()))
          '(1 2 3 4 5 6 7))
(display (list 'case6 (hash-table-ref/default groups 0 #f) (hash-table-ref/default groups 1 #f) (hash-table-ref/default groups 2 #f))) (newline)
; update! of a missing key without a default is an error
(display (list 'case7 (guard (e (#t 'caught)) (hash-table-update! groups 99 (lambda (x) x)) 'not-caught))) (newline)
