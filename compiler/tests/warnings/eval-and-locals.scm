; Names `eval` may define, locals and parameters: no warning; an unbound name unrelated to them is.
(eval '(define made-by-eval 1) (interaction-environment))
(display made-by-eval)
(let ((lenght 3)) (display lenght))
(define (apply-twice proc x) (proc (proc x)))
(display (apply-twice (lambda (y) (* y y)) 3))
(display totally-unknown-thing)
