;;; A long computation that prints its progress: counting primes below two million by trial
;;; division over the primes found so far. Run it durably, kill it, and resume it:
;;;
;;;   chenilles-vm start examples-scm/primes.scm &   sleep 2; kill -9 %1
;;;   chenilles-vm resume                            # goes on from the last checkpoint
;;;   chenilles-vm output primes                     # the whole output, each line once
;;;
;;; Every continuation — the loop, the growing vector of primes — is in the checkpoints; a kill
;;; loses at most the last 100 ms of work.
(import (scheme base) (scheme write) (scheme process-context))

;; The limit is the first argument if there is one: `chenilles-vm start examples-scm/primes.scm 300000`.
(define limit
  (let ((args (command-line)))
    (or (and (pair? (cdr args)) (string->number (cadr args))) 2000000)))
(define step (quotient limit 10))
(define primes (make-vector 200000 0))   ; the primes found so far, in order
(define count 0)

(define (prime? n)
  (let loop ((i 0))
    (let ((p (vector-ref primes i)))
      (cond ((> (* p p) n) #t)
            ((= 0 (remainder n p)) #f)
            (else (loop (+ i 1)))))))

(vector-set! primes 0 2)
(set! count 1)
(let loop ((n 3))
  (when (< n limit)
    (when (prime? n)
      (vector-set! primes count n)
      (set! count (+ count 1)))
    (when (= 0 (remainder (+ n 1) step))
      (display (list 'below (+ n 1) 'primes count))
      (newline))
    (loop (+ n 2))))
(display "primes below ") (display limit) (display ": ") (display count) (newline)
(display "the largest: ") (display (vector-ref primes (- count 1))) (newline)
