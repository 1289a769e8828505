(import (scheme base) (scheme write))
; ellipsis followed by fixed elements: (a ... b c)
(define-syntax last-two
  (syntax-rules ()
    ((_ a ... b c) '(b c))))
(display (list 'case1 (last-two 1 2 3 4 5) (last-two x y))) (newline)
(define-syntax init-and-last
  (syntax-rules ()
    ((_ a ... z) '((a ...) z))))
(display (list 'case2 (init-and-last 1 2 3) (init-and-last only))) (newline)
; fixed elements before and after the ellipsis
(define-syntax middle
  (syntax-rules ()
    ((_ first mid ... last) '(first (mid ...) last))))
(display (list 'case3 (middle 1 2 3 4) (middle 1 2))) (newline)
; ellipsis followed by a dotted tail
(define-syntax dot-tail
  (syntax-rules ()
    ((_ a ... . r) '((a ...) r))))
(display (list 'case4 (dot-tail 1 2 . 3) (dot-tail 1 2 3))) (newline)
; tail pattern inside a subform
(define-syntax ends
  (syntax-rules ()
    ((_ (x ... y) ...) '(y ...))))
(display (list 'case5 (ends (1 2 3) (4) (5 6)))) (newline)
; a left-nested operator macro using tail patterns
(define-syntax rfold
  (syntax-rules ()
    ((_ op x) x)
    ((_ op x ... y) (op (rfold op x ...) y))))
(display (list 'case6 (rfold - 10 1 2 3) (rfold list 1 2 3 4))) (newline)
; the tail must be matched exactly: too few elements fall through
(define-syntax need-two
  (syntax-rules ()
    ((_ a ... b c) 'two-or-more)
    ((_ . rest) 'fewer)))
(display (list 'case7 (need-two 1) (need-two 1 2) (need-two))) (newline)
