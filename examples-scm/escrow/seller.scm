;;; The escrow's seller: bob's program (see escrow.scm). He ships once carol's escrow holds the
;;; price, and is paid when alice confirms.

(import (scheme base) (scheme write))

(define (say . items) (for-each display items) (newline))

(define escrow '(carol escrow))

(define (from-escrow)
  (let ((m (receive-with-sender)))
    (if (equal? (car m) escrow) (cdr m) (begin (say "refused a message from " (car m)) (from-escrow)))))

(let ((m (from-escrow)))
  (say "the escrow holds " (cadr m) "; bob ships TRACK-42")
  (send escrow '(shipped "TRACK-42")))
(let ((m (from-escrow)))
  (say "bob is paid " (cadr m)))
