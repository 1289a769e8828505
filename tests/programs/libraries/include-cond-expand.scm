;; include at the top level and in a library, cond-expand in a library declaration, an expression
;; and over (library ...) requirements, and (features).
(import (scheme base) (scheme write) (util math))
(include "lib/extra-forms.scm")
(write (list (double 4) (triple 4) (helper) (cond-expand ((and r7rs (not foo)) 'yes) (else 'no))
             (cond-expand ((library (util math)) 'lib) (else 'nolib))
             (cond-expand ((library (no such)) 'lib) (else 'nolib))
             (and (memq 'r7rs (features)) #t)))
(newline)
