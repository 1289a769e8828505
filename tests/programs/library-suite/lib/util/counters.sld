;; Named counters. The state is private to the library; every importer shares it.
(define-library (util counters)
  (export counter-increment! counter-value)
  (import (scheme base))
  (begin
    (define counts '())
    (define (counter-value name)
      (let ((entry (assq name counts)))
        (if entry (cdr entry) 0)))
    (define (counter-increment! name)
      (let ((entry (assq name counts)))
        (if entry
            (set-cdr! entry (+ (cdr entry) 1))
            (set! counts (cons (cons name 1) counts))))
      (counter-value name))))
