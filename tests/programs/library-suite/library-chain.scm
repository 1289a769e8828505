(import (scheme base) (scheme write)
        (contracts money) (contracts ledger) (contracts audit) (util counters))
; (contracts audit) imports (contracts ledger), which imports (contracts money) and (util counters);
; the program imports them all, and every importer shares one instance of each library
(display (list 'case1 (counter-value 'ledgers) (counter-value 'postings))) (newline)
(define a (make-ledger "a"))
(define b (make-ledger "b"))
(display (list 'case2 (counter-value 'ledgers))) (newline)
; money made by the program is the same record type the ledger checks for
(post! a 'salary (make-money 1000 0))
(post! a 'coffee (make-money -3 -40))
(post! b 'gift (make-money 20 5))
(display (list 'case3 (balance a) (balance b) (entries a))) (newline)
(display (list 'case4 (audit a) (audit b))) (newline)
; the program can bump the shared counter too, and the libraries see it
(counter-increment! 'postings)
(display (list 'case5 (audit b))) (newline)
(display (list 'case6 (money->string (money+ (make-money 1 99) (make-money 0 1))) (money? zero-money))) (newline)
