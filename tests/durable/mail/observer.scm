;; Prints every message it receives until `done`. Used by vm/tests/crash.rs.
(let loop ()
  (let ((message (receive)))
    (write message)
    (newline)
    (unless (eq? message 'done) (loop))))
