(import (scheme base) (scheme write))
; values around the fixnum boundaries of common representations
(define p61 (expt 2 61))
(define p62 (expt 2 62))
(define p63 (expt 2 63))
(define p64 (expt 2 64))
(display (list 'case1 p61 p62 p63 p64)) (newline)
(display (list 'case2 (- p61 1) (+ p61 1) (- p62 1) (+ p62 1))) (newline)
(display (list 'case3 (- p63 1) (+ p63 1) (- p64 1) (+ p64 1))) (newline)
(display (list 'case4 (- p61) (- (- p61) 1) (- p62) (- (- p62) 1))) (newline)
(display (list 'case5 (- p63) (- (- p63) 1) (- p64) (- (- p64) 1))) (newline)
; crossing the boundary by addition of two fixnum-sized values
(define max62 (- p62 1))
(define max63 (- p63 1))
(display (list 'case6 (+ max62 1) (+ max62 max62) (+ max63 1) (+ max63 max63))) (newline)
(display (list 'case7 (- (- p62) 1) (- (- max63) 2) (+ (- p63) -1))) (newline)
; and back down
(display (list 'case8 (- (+ max62 1) 1) (- (+ max63 10) 10) (- p64 p64) (+ p63 (- p63)))) (newline)
; multiplication crossing the boundary
(display (list 'case9 (* 4294967296 4294967296) (* 3037000499 3037000499) (* 3037000500 3037000500))) (newline)
(display (list 'case10 (* p61 2) (* p61 4) (* p62 -2) (* -1 (- p63)) (* p63 p63))) (newline)
(display (list 'case11 (* 1000000007 1000000009 998244353))) (newline)
; comparisons across the boundary
(display (list 'case12 (< max62 p62) (> p63 max63) (= p63 (* 2 p62)) (< (- p64) (- p63) (- p62) 0 p62 p63 p64))) (newline)
(display (list 'case13 (= (+ max63 1) p63) (<= p61 p62 p63) (>= (- p61) (- p62) (- p63)) (= p64 (+ p63 p63)))) (newline)
(display (list 'case14 (abs (- p63)) (abs (- p64)) (quotient p64 p62) (remainder (+ p64 5) p62))) (newline)
