(import (scheme base) (scheme write)
        (prefix (rename (except (util lists) take drop) (sum total) (product times)) u:)
        (rename (prefix (only (util lists) take drop) list-) (list-take first-n))
        (except (rename (util lists) (flatten flatten-tree)) sum product take drop count-if))
; prefix applied after rename: u:total, u:times, u:count-if, u:flatten
(display (list 'case1 (u:total '(1 2 3)) (u:times '(2 3)) (u:count-if symbol? '(a 1 b)) (u:flatten '((1) 2)))) (newline)
; rename applied after prefix: first-n and list-drop
(display (list 'case2 (first-n '(1 2 3) 2) (list-drop '(1 2 3) 2))) (newline)
; except applied after rename: only flatten-tree remains
(display (list 'case3 (flatten-tree '(a (b (c d)))))) (newline)
; none of the unadorned names were imported
(define (sum . args) 'program-sum)
(define (take . args) 'program-take)
(define (flatten . args) 'program-flatten)
(display (list 'case4 (sum) (take) (flatten))) (newline)
