(define-library (contracts ledger)
  (export make-ledger deposit! balance (rename total-of total) with-logging)
  (import (scheme base) (contracts util))
  (begin
    (define (make-ledger) (list '()))
    (define (deposit! ledger who amount)
      (set-car! ledger (cons (cons who (+ amount (balance ledger who))) (car ledger))))
    (define (balance ledger who)
      (let ((entry (assq who (car ledger)))) (if entry (cdr entry) 0)))
    (define (total-of ledger) (sum (map cdr (car ledger))))
    (define (log-line x) (helper-count! x))
    (define-syntax with-logging
      (syntax-rules () ((_ e) (begin (log-line 'e) e))))))
