;; A library that imports another user library through a prefix.
(define-library (contracts audit)
  (export audit)
  (import (scheme base) (prefix (contracts ledger) l:) (only (util counters) counter-value))
  (begin
    (define (audit ledger)
      (list (l:entry-count ledger) (l:balance ledger) (counter-value 'postings)))))
