;;; An escrow between a buyer and a seller, with an arbiter for disputes.
;;;
;;; Run it:   cargo run --release -p chenilles-vm -- run examples-scm/escrow.scm
;;;
;;; The escrow is a state machine driven by a list of signed-by-name events. Amounts are exact
;;; integers of any size (token amounts are 256-bit in practice), so nothing ever wraps.
;;; Durable execution of the same program (checkpoints, resume after kill -9) arrives with the
;;; durability milestone; today it runs in memory.

(import (scheme base) (scheme write))

(define token-unit (expt 10 18))                ; 1 token = 10^18 base units

(define (make-escrow buyer seller arbiter price)
  (list 'awaiting-deposit buyer seller arbiter price 0))

(define (state e) (car e))
(define (party e role) (case role ((buyer) (cadr e)) ((seller) (caddr e)) ((arbiter) (cadddr e))))
(define (price e) (list-ref e 4))
(define (held e) (list-ref e 5))
(define (with-state e new-state new-held) (list new-state (cadr e) (caddr e) (cadddr e) (price e) new-held))

;; Each event: (who action . args). Returns (new-escrow . message).
(define (step e event)
  (let ((who (car event)) (action (cadr event)))
    (define (refuse why) (cons e (list 'refused action 'by who why)))
    (case (state e)
      ((awaiting-deposit)
       (cond ((not (eq? action 'deposit)) (refuse 'no-deposit-yet))
             ((not (eq? who (party e 'buyer))) (refuse 'only-the-buyer-deposits))
             ((not (= (caddr event) (price e))) (refuse 'wrong-amount))
             (else (cons (with-state e 'funded (caddr event)) (list 'deposited (caddr event))))))
      ((funded)
       (cond ((and (eq? action 'confirm-delivery) (eq? who (party e 'buyer)))
              (cons (with-state e 'released 0) (list 'paid (party e 'seller) (held e))))
             ((and (eq? action 'dispute) (memq who (list (party e 'buyer) (party e 'seller))))
              (cons (with-state e 'disputed (held e)) (list 'dispute-opened-by who)))
             (else (refuse 'not-allowed-while-funded))))
      ((disputed)
       (if (and (eq? action 'rule) (eq? who (party e 'arbiter)))
           (let* ((to-seller (caddr event)) (to-buyer (- (held e) to-seller)))
             (if (or (negative? to-seller) (negative? to-buyer))
                 (refuse 'ruling-exceeds-escrow)
                 (cons (with-state e 'settled 0)
                       (list 'ruled 'seller-gets to-seller 'buyer-gets to-buyer))))
           (refuse 'only-the-arbiter-rules)))
      (else (refuse 'escrow-closed)))))

(define (run-escrow e events)
  (let loop ((e e) (events events))
    (if (null? events)
        e
        (let ((result (step e (car events))))
          (write (cdr result))
          (newline)
          (loop (car result) (cdr events))))))

(define price-in-units (* 1250 token-unit))

(define final
  (run-escrow (make-escrow 'alice 'bob 'carol price-in-units)
              (list (list 'bob 'deposit price-in-units)          ; refused: bob is the seller
                    (list 'alice 'deposit price-in-units)
                    (list 'alice 'rule 0)                         ; refused: not in dispute
                    (list 'bob 'dispute)
                    (list 'carol 'rule (* 1000 token-unit))
                    (list 'alice 'deposit 1))))                   ; refused: closed

(display "final state: ")
(write (list (state final) 'held (held final)))
(newline)
