; A local named like a global the expansion calls (quasiquote's `cons`) is renamed.
(let ((cons 1) (if 2)) `(,cons ,if))
