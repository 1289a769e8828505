(import (scheme base) (scheme write))
; (- x) negates x: the negation of 0.0 is -0.0, not 0 - 0.0.
(display (list 'case1 (- 0.0))) (newline)
(display (list 'case2 (- -0.0))) (newline)
(display (list 'case3 (eqv? (- 0.0) -0.0))) (newline)
(display (list 'case4 (- 0) (- 5) (- 1/2) (- -2.5))) (newline)
(display (list 'case5 (- -4611686018427387904))) (newline)
(display (list 'case6 (- 0.0 0.0) (* -1 0.0))) (newline)
