;; An accessor given a value of another type: the error names the accessor and the type, and the
;; backtrace starts at the call, not inside the standard library's accessor.
(import (scheme base) (scheme write))
(define-record-type point (make-point x y) point? (x point-x set-point-x!) (y point-y))
(define (get-x p) (+ 1 (point-x p)))
(display (get-x (make-point 1 2)))
(newline)
(display (get-x 'oops))
