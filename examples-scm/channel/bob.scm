;;; The payment channel's other side: bob's program (see alice.scm, and run.sh to run both).
;;;
;;; Bob accepts the channel alice opens, checks each payment (signed by her, the next nonce,
;;; the balances still adding up to the deposits, paying him exactly what she loses) before he
;;; countersigns it, and signs the close of the last state both signed. Only messages from
;;; alice's node are heard: `receive-with-sender` names the peer whose key the connection proved.

(import (scheme base) (scheme write) (chenilles crypto))

(define (say . items) (for-each display items) (newline))

(define alice '(alice alice))
(define key (ed25519-generate-key))

(define (from-alice)
  (let ((m (receive-with-sender)))
    (if (equal? (car m) alice)
        (cdr m)
        (begin (say "refused a message from " (car m)) (from-alice)))))

(define (nonce state) (cadr state))
(define (alice-balance state) (caddr state))
(define (bob-balance state) (cadddr state))
(define (total state) (+ (alice-balance state) (bob-balance state)))

(define opening (from-alice))
(unless (and (eq? (car opening) 'open) (ed25519-verify-datum (cadr opening) (caddr opening) (cadddr opening)))
  (error "the opening is not signed by alice" opening))
(define alice-key (cadr opening))
(define deposits (total (caddr opening)))
(say "bob accepts alice's channel: alice " (alice-balance (caddr opening)) ", bob " (bob-balance (caddr opening)))
(send alice (list 'accept (ed25519-public-key key) (ed25519-sign-datum key (caddr opening))))

;; Whether `next` is a payment to bob that follows `current`, signed by alice.
(define (valid-payment? current next signature)
  (and (ed25519-verify-datum alice-key next signature)
       (= (nonce next) (+ (nonce current) 1))
       (= (total next) deposits)
       (>= (alice-balance next) 0)
       (> (bob-balance next) (bob-balance current))))

(let loop ((current (caddr opening)))
  (let ((m (from-alice)))
    (case (car m)
      ((pay)
       (if (valid-payment? current (cadr m) (caddr m))
           (begin
             (say "bob is paid " (- (bob-balance (cadr m)) (bob-balance current)) ": alice "
                  (alice-balance (cadr m)) ", bob " (bob-balance (cadr m)) " (nonce " (nonce (cadr m)) ")")
             (send alice (list 'ack (ed25519-sign-datum key (cadr m))))
             (loop (cadr m)))
           (begin (say "refused an invalid payment") (loop current))))
      ((close)
       (if (and (equal? (cadr m) current) (ed25519-verify-datum alice-key current (caddr m)))
           (begin
             (send alice (list 'closed (ed25519-sign-datum key (list 'close current))))
             (say "channel closed by both: alice receives " (alice-balance current)
                  ", bob receives " (bob-balance current)))
           (begin (say "refused a close of a state that is not the last") (loop current))))
      (else (say "refused " m) (loop current)))))
