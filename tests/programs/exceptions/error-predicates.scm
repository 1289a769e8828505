(import (scheme base) (scheme write) (scheme read) (scheme file))
; file-error? and read-error? classify errors raised by the system
(display (list 'case1 (guard (e ((file-error? e) 'file-error) (else 'other)) (open-input-file "/nonexistent/dir/file.txt")))) (newline)
(display (list 'case2 (guard (e ((read-error? e) 'read-error) (else 'other)) (read (open-input-string "(1 2"))))) (newline)
(display (list 'case3 (guard (e ((file-error? e) 'file-error) ((error-object? e) 'error-object)) (error "plain")))) (newline)
(display (list 'case4 (guard (e ((read-error? e) 'read-error) (else 'other)) (raise 'x)))) (newline)
