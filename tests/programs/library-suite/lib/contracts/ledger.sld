;; A ledger of labelled postings. Imports two other libraries; exports a procedure under a
;; different name and a macro whose expansion calls a private helper.
(define-library (contracts ledger)
  (export make-ledger ledger? post! balance entry-count
          (rename ledger-labels entries)
          post-all!)
  (import (scheme base) (contracts money) (util counters))
  (begin
    (define-record-type <ledger>
      (raw-ledger name postings)
      ledger?
      (name ledger-name)
      (postings ledger-postings set-ledger-postings!))
    (define (make-ledger name)
      (counter-increment! 'ledgers)
      (raw-ledger name '()))
    (define (check-amount who amount)
      (if (not (money? amount))
          (error "ledger: not an amount:" who amount))
      amount)
    (define (post! ledger label amount)
      (check-amount 'post! amount)
      (counter-increment! 'postings)
      (set-ledger-postings! ledger (cons (cons label amount) (ledger-postings ledger))))
    (define (entry-count ledger) (length (ledger-postings ledger)))
    (define (ledger-labels ledger) (reverse (map car (ledger-postings ledger)))))
  ;; a second begin: the declarations of a library may come in several pieces
  (begin
    (define (balance ledger)
      (let loop ((ps (ledger-postings ledger)) (total zero-money))
        (if (null? ps)
            (money->string total)
            (loop (cdr ps) (money+ total (cdar ps))))))
    ;; private: not exported, but used by the exported macro's expansion
    (define (post-one! ledger label units cents)
      (post! ledger label (make-money units cents)))
    (define-syntax post-all!
      (syntax-rules ()
        ((_ ledger (label units cents) ...)
         (begin (post-one! ledger 'label units cents) ...))))))
