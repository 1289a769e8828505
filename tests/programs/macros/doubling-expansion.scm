(import (scheme base))
;; Each expansion doubles the arguments under the ellipsis: the expansion budget stops it in a
;; couple of seconds (copying the bindings for every repetition used to make this quadratic).
(define-syntax double (syntax-rules () ((_ x ...) (double x ... x ...))))
(double 1)
