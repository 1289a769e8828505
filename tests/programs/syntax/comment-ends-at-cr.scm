(import (scheme base) (scheme write))
; a comment that ends at a lone CR(display (list (quote case1) (+ 1 2)))
(newline)
