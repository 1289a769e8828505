;; User libraries from lib/: prefix, only and rename import sets, a renamed export, a macro whose
;; expansion calls a private helper of its library (hygiene across libraries), a library importing
;; another, and a prefixed standard library.
(import (scheme base) (scheme write) (prefix (contracts ledger) l:) (only (contracts util) sum))
(define log-line 'user-variable-not-captured)
(define led (l:make-ledger))
(l:deposit! led 'alice 10)
(l:deposit! led 'bob 5)
(write (list (l:balance led 'alice) (l:total led) (sum '(1 2 3)) (l:with-logging (+ 1 2)) log-line)) (newline)
(import (rename (contracts util) (count helper-calls)))
(write helper-calls) (newline)
(import (prefix (scheme base) s:))
(write (s:car '(1 2))) (newline)
