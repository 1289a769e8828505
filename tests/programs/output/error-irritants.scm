(import (scheme base) (scheme write))
; irritants are shown in write form: strings quoted, lists as lists
(define (check-positive n)
  (if (< n 0) (error "bad value:" "str" '(1 2) n #\c) n))
(display (list 'ok (check-positive 5))) (newline)
(display (list 'ok (check-positive 0))) (newline)
(check-positive -3)
(display "never printed") (newline)
