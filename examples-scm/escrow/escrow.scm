;;; The escrow of examples-scm/escrow.scm, between three nodes: this is the arbiter's program
;;; (carol runs the escrow); buyer.scm is alice's and seller.scm bob's. See run.sh, which runs
;;; the three nodes on loopback, each over its own store.
;;;
;;; The escrow hears each party only from its own node: `receive-with-sender` gives the name of
;;; the peer that sent a message (its connection proved its key), so bob cannot confirm a
;;; delivery in alice's name. Alice deposits the price; carol tells bob, who ships; carol tells
;;; alice, who confirms; carol pays bob and tells both.

(import (scheme base) (scheme write))

(define (say . items) (for-each display items) (newline))

(define price 1250)
(define buyer '(alice buyer))
(define seller '(bob seller))

;; The next message from `party` that `ok?` accepts; anything else is refused, and said.
(define (next-from party ok?)
  (let ((m (receive-with-sender)))
    (if (and (equal? (car m) party) (ok? (cdr m)))
        (cdr m)
        (begin (say "refused " (cdr m) " from " (car m)) (next-from party ok?)))))

(next-from buyer (lambda (m) (equal? m (list 'deposit price))))
(say "alice deposits " price "; bob is told to ship")
(send seller (list 'funded price))
(define tracking (cadr (next-from seller (lambda (m) (and (pair? m) (eq? (car m) 'shipped) (pair? (cdr m)))))))
(say "bob ships " tracking "; alice is told")
(send buyer (list 'shipped tracking))
(next-from buyer (lambda (m) (equal? m '(received))))
(say "alice confirms delivery: bob is paid " price)
(send seller (list 'paid price))
(send buyer '(closed))
