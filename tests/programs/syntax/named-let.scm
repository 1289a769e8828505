(import (scheme base) (scheme write))
(display (list 'case1 (let loop ((i 0) (acc '())) (if (= i 5) acc (loop (+ i 1) (cons i acc)))))) (newline)
; factorial with named let
(display (list 'case2 (let fact ((n 10) (acc 1)) (if (= n 0) acc (fact (- n 1) (* acc n)))))) (newline)
; named let used non-tail
(display (list 'case3 (let count ((l '(a b c d))) (if (null? l) 0 (+ 1 (count (cdr l))))))) (newline)
; the loop name is local to the body: it does not leak, and inits see the outer binding
(define loop 'outer)
(display (list 'case4 (let loop ((x loop)) x))) (newline)
(display (list 'case5 loop)) (newline)
; nested named lets
(display (list 'case6
  (let outer ((i 0) (rows '()))
    (if (= i 3)
        (reverse rows)
        (outer (+ i 1)
               (cons (let inner ((j 0) (row '()))
                       (if (= j 3) (reverse row) (inner (+ j 1) (cons (* i j) row))))
                     rows)))))) (newline)
; the loop procedure can be captured and called later
(define saved #f)
(let lp ((n 0))
  (if (= n 0) (set! saved lp)))
(display (list 'case7 (procedure? saved))) (newline)
; fibonacci with named let
(display (list 'case8 (let fib ((n 30) (a 0) (b 1)) (if (= n 0) a (fib (- n 1) b (+ a b)))))) (newline)
