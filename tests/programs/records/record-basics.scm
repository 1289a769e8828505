(import (scheme base) (scheme write))
(define-record-type point
  (make-point x y)
  point?
  (x point-x set-point-x!)
  (y point-y))
(define p (make-point 3 4))
(display (list 'case1 (point? p) (point-x p) (point-y p))) (newline)
(set-point-x! p 10)
(display (list 'case2 (point-x p) (point-y p))) (newline)
(display (list 'case3 (point? 5) (point? '(3 4)) (point? (vector 3 4)))) (newline)
; records are distinct from other types
(display (list 'case4 (pair? p) (vector? p) (procedure? p) (symbol? p))) (newline)
; each constructor call makes a fresh record
(define q (make-point 3 4))
(display (list 'case5 (eq? p q) (eqv? p p) (eq? p p))) (newline)
; records in data structures
(define pts (map make-point '(1 2 3) '(10 20 30)))
(display (list 'case6 (map point-x pts) (apply + (map point-y pts)))) (newline)
