(import (scheme base) (scheme write) (prefix (contracts ledger) ledger:))
; every export of (contracts ledger) is visible with the ledger: prefix,
; including the one exported under another name (entries) and the macro post-all!
(define l (ledger:make-ledger "household"))
(display (list 'case1 (ledger:ledger? l) (ledger:ledger? 'other) (ledger:entry-count l))) (newline)
; the macro's expansion calls the library's private post-one! and make-money, which the
; program has not imported; the program's own post-one! is not captured
(define (post-one! . args) 'program-post-one)
(define (make-money . args) 'program-make-money)
(ledger:post-all! l (rent 500 0) (food 42 50) (refund -10 -25))
(display (list 'case2 (ledger:entry-count l) (ledger:entries l))) (newline)
(display (list 'case3 (ledger:balance l))) (newline)
(display (list 'case4 (post-one!) (make-money))) (newline)
; the unprefixed names are free for the program to define
(define (balance x) (list 'program-balance x))
(define entries 'program-entries)
(display (list 'case5 (balance 1) entries (ledger:balance l))) (newline)
