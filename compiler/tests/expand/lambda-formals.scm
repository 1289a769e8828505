(define (opt a #!optional b c) (list a b c))
(define (rest a . more) more)
(define all (lambda args args))
(define (both a #!optional b #!rest c) c)
