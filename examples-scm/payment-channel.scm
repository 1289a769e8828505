;;; A two-party payment channel between alice and bob, as a durable process that waits for its
;;; parties' instructions.
;;;
;;; Run it (from the repository's root; the store is .chenilles/store.redb):
;;;
;;;   cargo run --release -p chenilles-vm -- start examples-scm/payment-channel.scm
;;;
;;; It opens the channel (deposits: alice 100, bob 50), makes two signed payments, and waits for
;;; messages. From another terminal (chenilles-vm is target/release/chenilles-vm):
;;;
;;;   chenilles-vm send payment-channel '(pay alice 25)'   ; alice pays bob 25 (any number of these)
;;;   chenilles-vm send payment-channel '(close)'          ; both sign the last state: paid out at once
;;;   chenilles-vm send payment-channel '(close bob)'      ; bob closes alone with his newest state
;;;   chenilles-vm send payment-channel '(cheat alice)'    ; alice closes alone with a stale state...
;;;   chenilles-vm send payment-channel '(dispute bob)'    ; ...and bob answers with the newer one, which wins
;;;
;;; A unilateral close opens a dispute window (30 s, durable: a crash does not reset it); without a
;;; dispute, the submitted state is paid out when it ends. Kill the process at any moment
;;; (kill -9), `chenilles-vm resume` goes on where it was, and `chenilles-vm output payment-channel`
;;; shows everything it printed, once.
;;;
;;; How it works. Each party has a wallet holding its own ed25519 key (generated as a journaled
;;; effect) and the newest state both parties signed. A state is (state NONCE (alice A) (bob B)); a
;;; payment is a new state with the next nonce, signed by the payer, checked and countersigned by
;;; the payee. The contract knows only the deposits and the public keys: it accepts a state signed
;;; by both whose balances add up to the deposits, and between two such states the one with the
;;; larger nonce wins. (In this example both wallets live in the channel's process, to keep it one
;;; program; vm/examples/channel.rs runs the parties as processes of their own.)

(import (scheme base) (scheme write) (chenilles crypto))

(define (say . items)
  (for-each display items)
  (newline))

(define dispute-seconds 30)

;; ---- states -------------------------------------------------------------------------------------

(define (make-state nonce alice bob) (list 'state nonce (list 'alice alice) (list 'bob bob)))
(define (state-nonce state) (cadr state))
(define (balance state who) (cadr (assq who (cddr state))))
(define (other who) (if (eq? who 'alice) 'bob 'alice))

(define (describe state)
  (string-append "alice " (number->string (balance state 'alice))
                 ", bob " (number->string (balance state 'bob))
                 " (nonce " (number->string (state-nonce state)) ")"))

;; ---- wallets ------------------------------------------------------------------------------------

;; A signed state: (STATE alice-signature bob-signature).
(define-record-type wallet
  (make-wallet name key newest oldest)
  wallet?
  (name wallet-name)
  (key wallet-key)
  (newest wallet-newest set-wallet-newest!)     ; the newest state both signed
  (oldest wallet-oldest set-wallet-oldest!))    ; the first one (what a cheater would submit)

(define wallets
  (list (make-wallet 'alice (ed25519-generate-key) #f #f)
        (make-wallet 'bob (ed25519-generate-key) #f #f)))
(define (wallet who) (if (eq? who 'alice) (car wallets) (cadr wallets)))
(define (public-key who) (ed25519-public-key (wallet-key (wallet who))))

(define (sign who state) (ed25519-sign-datum (wallet-key (wallet who)) state))

;; Both parties sign `state`; each wallet keeps it as its newest.
(define (sign-by-both state)
  (let ((signed (list state (sign 'alice state) (sign 'bob state))))
    (for-each (lambda (w)
                (set-wallet-newest! w signed)
                (unless (wallet-oldest w) (set-wallet-oldest! w signed)))
              wallets)
    signed))

;; ---- the contract --------------------------------------------------------------------------------

(define deposits '((alice . 100) (bob . 50)))
(define keys (list (cons 'alice (public-key 'alice)) (cons 'bob (public-key 'bob))))
(define total (+ (cdr (assq 'alice deposits)) (cdr (assq 'bob deposits))))

;; Whether the contract accepts a signed state: both signatures verify, and the balances are
;; non-negative and add up to the deposits.
(define (acceptable? signed)
  (let ((state (car signed)))
    (and (ed25519-verify-datum (cdr (assq 'alice keys)) state (cadr signed))
         (ed25519-verify-datum (cdr (assq 'bob keys)) state (caddr signed))
         (>= (balance state 'alice) 0)
         (>= (balance state 'bob) 0)
         (= (+ (balance state 'alice) (balance state 'bob)) total))))

(define (pay-out state how)
  (say "channel closed " how ": alice receives " (balance state 'alice)
       ", bob receives " (balance state 'bob) " (nonce " (state-nonce state) ")")
  (list 'closed (balance state 'alice) (balance state 'bob)))

;; ---- payments --------------------------------------------------------------------------------

;; `payer` pays `amount` to the other party: it signs the next state, the payee checks the
;; signature and that it gains exactly `amount`, and countersigns.
(define (pay payer amount)
  (let* ((current (car (wallet-newest (wallet payer))))
         (payee (other payer)))
    (cond ((not (and (exact-integer? amount) (> amount 0)))
           (say "refused: " amount " is not a positive whole amount"))
          ((> amount (balance current payer))
           (say "refused: " payer " has only " (balance current payer)))
          (else
           (let* ((next (make-state (+ (state-nonce current) 1)
                                    (if (eq? payer 'alice) (- (balance current 'alice) amount) (+ (balance current 'alice) amount))
                                    (if (eq? payer 'bob) (- (balance current 'bob) amount) (+ (balance current 'bob) amount))))
                  (payer-signature (sign payer next)))
             ;; The payee's side.
             (unless (ed25519-verify-datum (public-key payer) next payer-signature)
               (error "the payer's signature does not verify"))
             (unless (= (balance next payee) (+ (balance current payee) amount))
               (error "the update does not pay what was announced"))
             (sign-by-both next)
             (say payer " pays " payee " " amount ": " (describe next) ", signed by both"))))))

;; ---- closing ---------------------------------------------------------------------------------

;; `who` submits `signed` alone: the contract waits out the dispute window for the other party's
;; newer state, then pays out the newest state it has.
(define (close-alone who signed)
  (if (not (acceptable? signed))
      (say "refused: the state " who " submitted is not signed by both")
      (let ((deadline (+ (current-second) dispute-seconds)))
        (say who " closes alone with " (describe (car signed))
             "; dispute window open for " dispute-seconds " s")
        (let wait ((standing signed))
          (let ((message (receive (max 0 (- deadline (current-second))) 'window-closed)))
            (cond ((eq? message 'window-closed)
                   (pay-out (car standing) "after the dispute window"))
                  ((and (pair? message) (eq? (car message) 'dispute) (pair? (cdr message))
                        (memq (cadr message) '(alice bob)))
                   (let ((newer (wallet-newest (wallet (cadr message)))))
                     (if (and (acceptable? newer) (> (state-nonce (car newer)) (state-nonce (car standing))))
                         (begin
                           (say (cadr message) " disputes with " (describe (car newer)) ": the newer state wins")
                           (pay-out (car newer) "by dispute"))
                         (begin
                           (say (cadr message) "'s dispute is refused: its state is not newer")
                           (wait standing)))))
                  (else
                   (say "during the dispute window only (dispute alice) or (dispute bob) is heard")
                   (wait standing))))))))

;; ---- the channel -------------------------------------------------------------------------------

(say "alice and bob open a channel: deposits alice 100, bob 50")
(sign-by-both (make-state 0 100 50))
(pay 'alice 30)
(pay 'bob 10)

(define (party? who) (memq who '(alice bob)))

(let loop ()
  (let ((message (receive)))
    (cond ((and (pair? message) (eq? (car message) 'pay) (= (length message) 3) (party? (cadr message)))
           (pay (cadr message) (caddr message))
           (loop))
          ((equal? message '(close))
           (let ((final (wallet-newest (wallet 'alice))))
             (if (acceptable? final)
                 (pay-out (car final) "cooperatively")
                 (begin (say "refused: the final state is not signed by both") (loop)))))
          ((and (pair? message) (memq (car message) '(close cheat)) (= (length message) 2)
                (party? (cadr message)))
           (let ((w (wallet (cadr message))))
             (close-alone (cadr message) (if (eq? (car message) 'close) (wallet-newest w) (wallet-oldest w)))))
          (else
           (say "unknown instruction: " message)
           (loop)))))
