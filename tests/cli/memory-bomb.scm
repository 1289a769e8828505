;; Allocates without end, keeping everything live.
(let loop ((l (quote ()))) (loop (cons (make-vector 1000 0) l)))
