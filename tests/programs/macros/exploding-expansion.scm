;; A macro whose output doubles at each step is stopped before it exhausts memory.
(define-syntax g (syntax-rules () ((_ x) (g (x x))))) (g 1)
