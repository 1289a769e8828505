(import (scheme base) (scheme write) (srfi 69))
(define h (make-hash-table))
(display (list 'case1 (hash-table? h) (hash-table? '()) (hash-table? (vector)))) (newline)
(hash-table-set! h 'apple 3)
(hash-table-set! h 'pear 5)
(hash-table-set! h "melon" 7)
(display (list 'case2 (hash-table-ref/default h 'apple 0) (hash-table-ref/default h 'kiwi 0))) (newline)
; hash-table-ref calls the thunk only when the key is missing
(display (list 'case3 (hash-table-ref h 'pear (lambda () 'none)) (hash-table-ref h 'kiwi (lambda () 'none)))) (newline)
; the default table uses equal?: a fresh string finds the entry
(display (list 'case4 (hash-table-ref/default h (string-append "mel" "on") 'missing))) (newline)
(display (list 'case5 (hash-table-exists? h 'apple) (hash-table-exists? h 'kiwi))) (newline)
(display (list 'case6 (hash-table-size h))) (newline)
; setting an existing key replaces its value and does not add an entry
(hash-table-set! h 'apple 30)
(display (list 'case7 (hash-table-ref/default h 'apple 0) (hash-table-size h))) (newline)
(hash-table-delete! h 'pear)
(display (list 'case8 (hash-table-exists? h 'pear) (hash-table-size h))) (newline)
; deleting a key that is not there is harmless
(hash-table-delete! h 'no-such-key)
(display (list 'case9 (hash-table-size h))) (newline)
; a missing key with no thunk is an error that guard can catch
(display (list 'case10 (guard (e (#t 'caught)) (hash-table-ref h 'kiwi)))) (newline)
; the value #f is a value like any other
(hash-table-set! h 'false #f)
(display (list 'case11 (hash-table-exists? h 'false) (hash-table-ref h 'false (lambda () 'none)))) (newline)
