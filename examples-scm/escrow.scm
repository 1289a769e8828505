;;; An escrow with timeouts between a buyer (alice), a seller (bob) and an arbiter (carol), as a
;;; durable process driven by messages.
;;;
;;; Run it:   chenilles-vm start examples-scm/escrow.scm [SHIP-SECONDS [CONFIRM-SECONDS]]
;;; then, from another terminal, act as the parties:
;;;
;;;   chenilles-vm send escrow '(alice deposit 1250)'        ; the buyer pays the price into escrow
;;;   chenilles-vm send escrow '(bob shipped "TRACK-42")'    ; the seller ships within SHIP-SECONDS...
;;;   chenilles-vm send escrow '(alice received)'            ; ...and the buyer confirms: bob is paid
;;;   chenilles-vm send escrow '(alice dispute "broken")'    ; or disputes within CONFIRM-SECONDS
;;;   chenilles-vm send escrow '(carol rule 1000)'           ; then the arbiter splits: 1000 to bob, the rest back
;;;
;;; The timeouts decide when a party stays silent: a seller who does not ship in time (default 60 s)
;;; lets the buyer's money go back to her; a buyer who neither confirms nor disputes in time (default
;;; 30 s) lets it go to the seller. The deadlines are durable: kill the process (kill -9) and
;;; `chenilles-vm resume` keeps them, so a crash can neither extend nor cut a party's time.
;;; Amounts are exact integers of any size (in practice token amounts are 256-bit): nothing wraps.

(import (scheme base) (scheme write) (scheme process-context))

(define (say . items)
  (for-each display items)
  (newline))

(define (argument n default)
  (let ((args (command-line)))
    (if (> (length args) n) (string->number (list-ref args n)) default)))

(define ship-seconds (argument 1 60))
(define confirm-seconds (argument 2 30))
(define price 1250)
(define buyer 'alice)
(define seller 'bob)
(define arbiter 'carol)

;; Waits for a message from one of `parties` until `deadline` (#f: no deadline); returns it as
;; (who action . arguments), or 'timeout. Messages from anyone else, or malformed, are refused.
(define (next-message parties deadline)
  (let ((message (if deadline (receive (max 0 (- deadline (current-second))) 'timeout) (receive))))
    (cond ((eq? message 'timeout) 'timeout)
          ((and (pair? message) (memq (car message) parties) (pair? (cdr message))) message)
          (else (say "refused: " message) (next-message parties deadline)))))

(define (pay-out to-seller to-buyer why)
  (say "escrow closed (" why "): " seller " receives " to-seller ", " buyer " receives " to-buyer)
  (list 'closed to-seller to-buyer))

;; Each state of the escrow is a procedure; the process's continuation is where it stands.

(define (awaiting-deposit)
  (let ((message (next-message (list buyer seller arbiter) #f)))
    (if (and (eq? (car message) buyer) (eq? (cadr message) 'deposit)
             (pair? (cddr message)) (equal? (caddr message) price))
        (begin
          (say buyer " deposits " price "; " seller " has " ship-seconds " s to ship")
          (funded (+ (current-second) ship-seconds)))
        (begin
          (say "refused: " message " (waiting for " buyer " to deposit " price ")")
          (awaiting-deposit)))))

(define (funded deadline)
  (let ((message (next-message (list seller buyer arbiter) deadline)))
    (cond ((eq? message 'timeout)
           (pay-out 0 price "not shipped in time"))
          ((and (eq? (car message) seller) (eq? (cadr message) 'shipped) (pair? (cddr message)))
           (say seller " ships " (caddr message) "; " buyer " has " confirm-seconds " s to confirm or dispute")
           (shipped (+ (current-second) confirm-seconds)))
          (else
           (say "refused: " message " (waiting for " seller " to ship)")
           (funded deadline)))))

(define (shipped deadline)
  (let ((message (next-message (list buyer seller arbiter) deadline)))
    (cond ((eq? message 'timeout)
           (pay-out price 0 "no complaint in time"))
          ((and (eq? (car message) buyer) (eq? (cadr message) 'received))
           (pay-out price 0 "delivery confirmed"))
          ((and (eq? (car message) buyer) (eq? (cadr message) 'dispute))
           (say buyer " disputes: " (if (pair? (cddr message)) (caddr message) "no reason given")
                "; " arbiter " will rule")
           (disputed))
          (else
           (say "refused: " message " (waiting for " buyer " to confirm or dispute)")
           (shipped deadline)))))

(define (disputed)
  (let ((message (next-message (list arbiter buyer seller) #f)))
    (if (and (eq? (car message) arbiter) (eq? (cadr message) 'rule) (pair? (cddr message))
             (exact-integer? (caddr message)) (<= 0 (caddr message) price))
        (pay-out (caddr message) (- price (caddr message)) "ruled by the arbiter")
        (begin
          (say "refused: " message " (waiting for " arbiter " to rule between 0 and " price ")")
          (disputed)))))

(say "escrow open: " buyer " buys from " seller " for " price ", " arbiter " arbitrates")
(awaiting-deposit)
