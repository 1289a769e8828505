;;; The escrow's buyer: alice's program (see escrow.scm). She deposits the price with carol's
;;; escrow, and confirms delivery once carol says bob shipped.

(import (scheme base) (scheme write))

(define (say . items) (for-each display items) (newline))

(define escrow '(carol escrow))

(define (from-escrow)
  (let ((m (receive-with-sender)))
    (if (equal? (car m) escrow) (cdr m) (begin (say "refused a message from " (car m)) (from-escrow)))))

(send escrow '(deposit 1250))
(say "alice deposits 1250 with the escrow")
(let ((m (from-escrow)))
  (say "the escrow says bob shipped " (cadr m) "; alice confirms")
  (send escrow '(received)))
(from-escrow)
(say "the escrow is closed")
