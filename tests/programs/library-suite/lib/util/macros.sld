;; Macros whose expansions use private helpers and temporaries.
(define-library (util macros)
  (export my-or swap! while quad define-getter checked)
  (import (scheme base))
  (begin
    (define-syntax my-or
      (syntax-rules ()
        ((_) #f)
        ((_ e) e)
        ((_ e r ...) (let ((t e)) (if t t (my-or r ...))))))
    (define-syntax swap!
      (syntax-rules ()
        ((_ a b) (let ((tmp a)) (set! a b) (set! b tmp)))))
    (define-syntax while
      (syntax-rules ()
        ((_ cond body ...) (let loop () (when cond body ... (loop))))))
    ;; a private macro used by an exported one
    (define-syntax twice
      (syntax-rules ()
        ((_ x) (* 2 x))))
    (define-syntax quad
      (syntax-rules ()
        ((_ x) (twice (twice x)))))
    ;; expands into a definition of the name the user gives
    (define-syntax define-getter
      (syntax-rules ()
        ((_ name value) (define (name) value))))
    ;; a private procedure used by an exported macro
    (define (check-positive who x)
      (if (and (number? x) (positive? x)) x (list 'rejected who x)))
    (define-syntax checked
      (syntax-rules ()
        ((_ expr) (check-positive 'expr expr))))))
