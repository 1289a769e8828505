(import (scheme base) (scheme write) (srfi 69))
; equal? (the default): structured keys are compared by contents
(define he (make-hash-table equal?))
(hash-table-set! he (list 1 2) 'list-12)
(hash-table-set! he (vector 'a "b") 'vec-ab)
(display (list 'case1 (hash-table-ref/default he (list 1 2) #f) (hash-table-ref/default he (vector 'a "b") #f))) (newline)
; eq?: a fresh pair is a different key; the very same pair finds the entry
(define hq (make-hash-table eq?))
(define key (list 1 2))
(hash-table-set! hq key 'found)
(hash-table-set! hq 'sym 'symbol-found)
(display (list 'case2 (hash-table-ref/default hq key #f) (hash-table-ref/default hq (list 1 2) 'not-found) (hash-table-ref/default hq 'sym #f))) (newline)
; eqv?: numbers and characters are found by value, including bignums
(define hv (make-hash-table eqv?))
(hash-table-set! hv 100000000000000000000 'big)
(hash-table-set! hv #\x 'char)
(hash-table-set! hv 1/3 'third)
(display (list 'case3 (hash-table-ref/default hv (* 10000000000 10000000000) #f) (hash-table-ref/default hv (integer->char 120) #f) (hash-table-ref/default hv (/ 2 6) #f))) (newline)
; eqv? distinguishes exact from inexact
(hash-table-set! hv 2 'exact-two)
(display (list 'case4 (hash-table-ref/default hv 2.0 'none) (hash-table-ref/default hv 2 'none))) (newline)
; string=?: strings built at run time find the entry
(define hs (make-hash-table string=?))
(hash-table-set! hs "alpha" 1)
(hash-table-set! hs (string #\b #\e #\t #\a) 2)
(display (list 'case5 (hash-table-ref/default hs (string-append "al" "pha") #f) (hash-table-ref/default hs "beta" #f) (hash-table-ref/default hs "Alpha" #f))) (newline)
; a mutated string used as the lookup key
(define k (string-copy "gamma"))
(hash-table-set! hs "gamma" 3)
(string-set! k 0 #\G)
(display (list 'case6 (hash-table-ref/default hs k 'none) (hash-table-size hs))) (newline)
; equal? table: numbers are compared with eqv? semantics inside equal?
(hash-table-set! he 1 'one)
(display (list 'case7 (hash-table-ref/default he 1.0 'none) (hash-table-ref/default he 1 'none))) (newline)
