;; Importing a library that exists nowhere is a compile error naming it.
(import (scheme base) (no such-library))
(display "never")
