(import (scheme base) (scheme write))
;; A power far larger than the heap limit: refused before it is computed (it would take minutes).
(guard (e (#t (display "caught")))
  (expt 3 2000000000))
