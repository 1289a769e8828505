; a library defined in the program's own file, before the program's imports
(define-library (local shapes)
  (export make-rect rect? rect-area (rename rect-perimeter perimeter) shape-count)
  (import (scheme base))
  (begin
    (define count 0)
    (define-record-type <rect> (new-rect w h) rect? (w rect-w) (h rect-h))
    (define (make-rect w h) (set! count (+ count 1)) (new-rect w h))
    (define (shape-count) count))
  (export describe)
  (begin
    (define (rect-area r) (* (rect-w r) (rect-h r)))
    (define (rect-perimeter r) (* 2 (+ (rect-w r) (rect-h r))))
    (define (describe r) (list 'rect (rect-w r) (rect-h r)))))
(import (scheme base) (scheme write) (local shapes))
(define r (make-rect 3 4))
(display (list 'case1 (rect? r) (rect? 5) (rect-area r) (perimeter r))) (newline)
(display (list 'case2 (describe r) (shape-count))) (newline)
(make-rect 1 1)
(display (list 'case3 (shape-count))) (newline)
; rect-perimeter was exported as perimeter only, and count was never exported
(define (rect-perimeter r) 'program-perimeter)
(define count 'program-count)
(display (list 'case4 (rect-perimeter r) count (perimeter r))) (newline)
