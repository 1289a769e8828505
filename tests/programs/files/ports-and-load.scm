;; File ports (text and binary), with-output-to-file, with-input-from-file, parameterize of
;; current-output-port, read-bytevector!, load, and (scheme complex) on reals. The files are
;; relative: the suite runs each program in a scratch directory of its own.
(import (scheme base) (scheme write) (scheme file))
(with-output-to-file "chenilles-test-files-out.txt" (lambda () (display "inside file") (newline)))
(display (with-input-from-file "chenilles-test-files-out.txt" read-line)) (newline)
(define bp (open-binary-output-file "chenilles-test-files-bin"))
(write-u8 65 bp) (write-bytevector (bytevector 66 67) bp) (close-port bp)
(define ip (open-binary-input-file "chenilles-test-files-bin"))
(define bv (make-bytevector 5 0))
(write (list (read-bytevector! bv ip 1) bv)) (newline)
(define sp (open-output-string))
(parameterize ((current-output-port sp)) (display "captured"))
(write (get-output-string sp)) (newline)
(with-output-to-file "chenilles-test-files-load.scm" (lambda () (write '(define loaded-value 99))))
(load "chenilles-test-files-load.scm")
(write (eval 'loaded-value (interaction-environment))) (newline)
(write (list (magnitude -3) (angle 1) (real-part 2.5) (imag-part 2))) (newline)
