;;; The payment channel of examples-scm/payment-channel.scm, as one of two programs: alice's side.
;;; Each party runs its own node over its own store, holds its own key, and speaks to the other
;;; only through messages; see examples-scm/channel/run.sh, which runs both nodes on loopback.
;;;
;;; Alice opens a channel with bob (deposits alice 100, bob 50), pays him 30, 5 and 12 (each a
;;; new state she signs and he countersigns), and closes it with the last state both signed. A
;;; state is (state NONCE ALICE BOB); every message bob sends is checked: it must come from his
;;; node (`receive-with-sender` gives the peer's name, which the connection proved) and carry his
;;; valid signature.

(import (scheme base) (scheme write) (chenilles crypto))

(define (say . items) (for-each display items) (newline))

(define bob '(bob bob))
(define key (ed25519-generate-key))
(define deposits '(100 50))
(define payments '(30 5 12))

;; The next message from bob; anything from anyone else is refused.
(define (from-bob)
  (let ((m (receive-with-sender)))
    (if (equal? (car m) bob)
        (cdr m)
        (begin (say "refused a message from " (car m)) (from-bob)))))

(define (make-state nonce a b) (list 'state nonce a b))
(define (nonce state) (cadr state))
(define (alice-balance state) (caddr state))
(define (bob-balance state) (cadddr state))

(say "alice opens a channel with bob: deposits alice " (car deposits) ", bob " (cadr deposits))
(define opening (make-state 0 (car deposits) (cadr deposits)))
(send bob (list 'open (ed25519-public-key key) opening (ed25519-sign-datum key opening)))

(define bob-key
  (let ((answer (from-bob)))
    (unless (and (eq? (car answer) 'accept) (ed25519-verify-datum (cadr answer) opening (caddr answer)))
      (error "bob did not countersign the opening state" answer))
    (cadr answer)))
(say "bob accepts: the opening state is signed by both")

;; Pays bob `amount` from `current`: signs the next state, and keeps it once bob countersigned.
(define (pay current amount)
  (let ((next (make-state (+ (nonce current) 1) (- (alice-balance current) amount) (+ (bob-balance current) amount))))
    (send bob (list 'pay next (ed25519-sign-datum key next)))
    (let ((answer (from-bob)))
      (unless (and (eq? (car answer) 'ack) (ed25519-verify-datum bob-key next (cadr answer)))
        (error "bob did not countersign the payment" answer))
      (say "alice pays bob " amount ": alice " (alice-balance next) ", bob " (bob-balance next)
           " (nonce " (nonce next) "), signed by both")
      next)))

(define final
  (let loop ((state opening) (left payments))
    (if (null? left) state (loop (pay state (car left)) (cdr left)))))

(send bob (list 'close final (ed25519-sign-datum key final)))
(let ((answer (from-bob)))
  (unless (and (eq? (car answer) 'closed) (ed25519-verify-datum bob-key (list 'close final) (cadr answer)))
    (error "bob did not sign the close" answer)))
(say "channel closed by both: alice receives " (alice-balance final) ", bob receives " (bob-balance final))
