;; A macro whose expansion never ends is a compile error, not a hang.
(define-syntax f (syntax-rules () ((_) (f)))) (f)
