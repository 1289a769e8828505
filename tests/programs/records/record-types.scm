(import (scheme base) (scheme write))
; two record types with the same field layout are distinct
(define-record-type cat (make-cat name) cat? (name cat-name))
(define-record-type dog (make-dog name) dog? (name dog-name))
(define c (make-cat "Tom"))
(define d (make-dog "Rex"))
(display (list 'case1 (cat? c) (dog? c) (cat? d) (dog? d))) (newline)
; a constructor taking fields in a different order, and a field not set by the constructor
(define-record-type node
  (make-node value next)
  node?
  (next node-next set-node-next!)
  (value node-value)
  (mark node-mark set-node-mark!))
(define n1 (make-node 1 '()))
(define n2 (make-node 2 n1))
(set-node-mark! n2 'visited)
(display (list 'case2 (node-value n2) (node-value (node-next n2)) (node-mark n2))) (newline)
; a linked list of records
(define (node->list n) (if (null? n) '() (cons (node-value n) (node->list (node-next n)))))
(display (list 'case3 (node->list n2))) (newline)
(set-node-next! n1 (make-node 0 '()))
(display (list 'case4 (node->list n2))) (newline)
; a record type with no fields
(define-record-type unit (make-unit) unit?)
(display (list 'case5 (unit? (make-unit)) (unit? c))) (newline)
; a stack implemented with a record
(define-record-type stack (make-stack items) stack? (items stack-items set-stack-items!))
(define s (make-stack '()))
(define (push! s x) (set-stack-items! s (cons x (stack-items s))))
(push! s 'a) (push! s 'b)
(display (list 'case6 (stack-items s))) (newline)
