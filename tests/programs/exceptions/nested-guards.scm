(import (scheme base) (scheme write))
; an exception not matched by the inner guard goes to the outer one
(display (list 'case1
  (guard (e ((symbol? e) (list 'outer e)))
    (guard (e ((number? e) (list 'inner e)))
      (raise 'sym))))) (newline)
(display (list 'case2
  (guard (e ((symbol? e) (list 'outer e)))
    (guard (e ((number? e) (list 'inner e)))
      (raise 5))))) (newline)
; a guard clause may raise a new exception
(display (list 'case3
  (guard (e (#t (list 'outer-got e)))
    (guard (e (#t (raise (list 'wrapped e))))
      (raise 'original))))) (newline)
; guard inside a loop: 1000 exceptions caught one at a time
(define (count-errors n)
  (let loop ((i 0) (caught 0))
    (if (= i n) caught
        (loop (+ i 1) (+ caught (guard (e (#t 1)) (if (even? i) (raise i) 0)))))))
(display (list 'case4 (count-errors 1000))) (newline)
; exceptions raised from deep inside recursion
(define (deep n) (if (= n 0) (raise 'bottom) (+ 1 (deep (- n 1)))))
(display (list 'case5 (guard (e (#t e)) (deep 10000)))) (newline)
