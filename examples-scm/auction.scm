;;; A sealed-bid auction (second price, commit and reveal) as a durable process driven by messages.
;;;
;;; Run it:   chenilles-vm start examples-scm/auction.scm [BIDDING-SECONDS [REVEAL-SECONDS]]
;;;
;;; Bidding: a bidder seals a bid by sending only its commitment, the blake3 hash of
;;; (bid NAME AMOUNT SECRET). This same program computes it:
;;;
;;;   chenilles-vm run examples-scm/auction.scm seal alice 120 "my secret"   ; prints the commitment
;;;   chenilles-vm send auction '(commit alice "4f1c...")'                  ; the hex it printed
;;;
;;; Bidding ends after BIDDING-SECONDS (default 60) or at '(close-bidding)'. Then each bidder reveals
;;; within REVEAL-SECONDS (default 60, or until '(close-reveal)'):
;;;
;;;   chenilles-vm send auction '(reveal alice 120 "my secret")'
;;;
;;; A reveal that does not match its commitment is refused. The highest revealed bid wins and pays
;;; the second-highest revealed bid (or its own, if it is alone); ties go to the earlier commitment.
;;; Kill the process at any moment (kill -9): `chenilles-vm resume` goes on, with the same deadlines.

(import (scheme base) (scheme write) (scheme process-context) (chenilles crypto))

(define (say . items)
  (for-each display items)
  (newline))

(define (commitment name amount secret)
  (bytevector->hex (blake3-datum (list 'bid name amount secret))))

(define (seconds n default)
  (let ((args (command-line)))
    (if (and (> (length args) n) (string->number (list-ref args n))) (string->number (list-ref args n)) default)))

;; Collects messages until `deadline` or until `stop` arrives, handing each other one to `handle`.
(define (phase deadline stop handle)
  (let loop ()
    (let ((message (receive (max 0 (- deadline (current-second))) 'timeout)))
      (cond ((or (eq? message 'timeout) (equal? message (list stop))) 'over)
            (else (handle message) (loop))))))

(define (auction bidding-seconds reveal-seconds)
  (define commitments '())   ; (name . hex), newest first
  (define revealed '())      ; (name . amount), in commitment order
  (say "auction open: sealed bids for " bidding-seconds " s")
  (phase (+ (current-second) bidding-seconds) 'close-bidding
         (lambda (message)
           (cond ((not (and (list? message) (= (length message) 3) (eq? (car message) 'commit)
                            (symbol? (cadr message)) (string? (caddr message))))
                  (say "refused: " message))
                 ((assq (cadr message) commitments)
                  (say "refused: " (cadr message) " has already bid"))
                 (else
                  (set! commitments (cons (cons (cadr message) (caddr message)) commitments))
                  (say (cadr message) " seals a bid")))))
  (say "bidding closed with " (length commitments) " sealed bids; reveal within " reveal-seconds " s")
  (phase (+ (current-second) reveal-seconds) 'close-reveal
         (lambda (message)
           (if (not (and (list? message) (= (length message) 4) (eq? (car message) 'reveal)
                         (exact-integer? (caddr message)) (positive? (caddr message))))
               (say "refused: " message)
               (let ((name (cadr message)) (amount (caddr message)) (secret (cadddr message)))
                 (cond ((not (assq name commitments)) (say "refused: " name " did not bid"))
                       ((assq name revealed) (say "refused: " name " has already revealed"))
                       ((not (equal? (cdr (assq name commitments)) (commitment name amount secret)))
                        (say "refused: " name "'s reveal does not match the sealed bid"))
                       (else
                        (set! revealed (cons (cons name amount) revealed))
                        (say name " reveals " amount)))))))
  ;; The earliest commitment first, so that ties go to it.
  (let* ((order (reverse (map car commitments)))
         (bids (filter-map (lambda (name) (assq name revealed)) order))
         (ranked (sort-bids bids)))
    (cond ((null? ranked)
           (say "no valid bid: no sale")
           'no-sale)
          (else
           (let ((winner (car ranked))
                 (price (if (null? (cdr ranked)) (cdar ranked) (cdadr ranked))))
             (say (car winner) " wins and pays " price)
             (list 'sold (car winner) price))))))

(define (filter-map f items)
  (let loop ((items items) (out '()))
    (if (null? items)
        (reverse out)
        (let ((x (f (car items)))) (loop (cdr items) (if x (cons x out) out))))))

;; Highest amount first; a stable insertion sort keeps commitment order between equal amounts.
(define (sort-bids bids)
  (define (insert bid sorted)
    (cond ((null? sorted) (list bid))
          ((> (cdr bid) (cdar sorted)) (cons bid sorted))
          (else (cons (car sorted) (insert bid (cdr sorted))))))
  (let loop ((bids bids) (sorted '()))
    (if (null? bids) sorted (loop (cdr bids) (insert (car bids) sorted)))))

(let ((args (command-line)))
  (if (and (= (length args) 5) (equal? (list-ref args 1) "seal"))
      (let ((amount (string->number (list-ref args 3))))
        (display (commitment (string->symbol (list-ref args 2)) amount (list-ref args 4)))
        (newline))
      (auction (seconds 1 60) (seconds 2 60))))
