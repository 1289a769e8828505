(import (scheme base) (scheme write))
; write of strings holding control characters: the written form uses the
; R7RS mnemonic escapes \t \n \r \a \b (chosen convention, shared by most
; implementations), so that the output reads back as the same string
(write "tab:\there") (newline)
(write "line1\nline2") (newline)
(write "cr:\r") (newline)
(write "alarm:\a backspace:\b") (newline)
(write (string #\a #\tab #\b #\newline #\c)) (newline)
(write (list "x\ty" "\n")) (newline)
