(import (scheme base) (scheme write) (scheme read))
(define (read-all-from s)
  (let ((p (open-input-string s)))
    (let loop ((acc '()))
      (let ((x (read p)))
        (if (eof-object? x) (reverse acc) (loop (cons x acc)))))))
; numbers in every notation
(write (list 'case1 (read-all-from "42 -17 +5 1/3 -6/4 0.5 -2.25 1e3 #x1F #b-101 #o17 #e1.5 #i3/4 #d10 12345678901234567890"))) (newline)
; strings with escapes
(write (list 'case2 (read-all-from "\"plain\" \"tab\\there\" \"quote\\\"in\" \"back\\\\slash\" \"\\x41;\\x42;\" \"line\\\n    continued\""))) (newline)
; characters, named and hex
(write (list 'case3 (read-all-from "#\\a #\\Z #\\space #\\newline #\\tab #\\x41 #\\( #\\; #\\alarm #\\null #\\delete"))) (newline)
; booleans in both spellings, symbols including ones needing bars
(write (list 'case4 (read-all-from "#t #f #true #false abc hello-world ->x ... + - |two words| |a\\|b| ||"))) (newline)
; lists, dotted pairs, vectors, bytevectors, nesting
(write (list 'case5 (read-all-from "() (1 . 2) (a b . c) #(1 #(2) ()) #u8(0 255 16) ((()))"))) (newline)
; the quote abbreviations read as two-element lists
(define quotes (read-all-from "'a `(b ,c ,@d)"))
(write (list 'case6 (length quotes)
             (equal? (car quotes) (list 'quote 'a))
             (equal? (cadr quotes) (list 'quasiquote (list 'b (list 'unquote 'c) (list 'unquote-splicing 'd)))))) (newline)
; comments of all three kinds are skipped
(write (list 'case7 (read-all-from "1 ; line comment\n 2 #| block #| nested |# |# 3 #;(datum comment) 4 #; 5 6"))) (newline)
; #!fold-case makes later symbols and characters case-folded; #!no-fold-case ends it
(write (list 'case8 (read-all-from "ABC #!fold-case DEF #\\SPACE #!no-fold-case GHI"))) (newline)
; read leaves the rest of the line in the port
(define p (open-input-string "(1 2) rest of line\nnext line"))
(define first (read p))
(define rest (read-line p))
(define next (read-line p))
(write (list 'case9 first rest next (eof-object? (read p)))) (newline)
; read and read-char interleaved: read stops right after a list, and at the delimiter after a symbol
(define q (open-input-string "abc(d)e f"))
(define s1 (read q))
(define s2 (read q))
(define c1 (read-char q))
(define c2 (read-char q))
(define s3 (read q))
(write (list 'case10 s1 s2 c1 c2 s3 (eof-object? (read q)))) (newline)
; whitespace only gives eof; a datum at the very end of the input needs no delimiter
(write (list 'case11 (eof-object? (read (open-input-string "  \n\t "))) (read (open-input-string "end")))) (newline)
; symbols are case sensitive, strings read back equal to the written form
(write (list 'case12 (eq? (read (open-input-string "Abc")) 'Abc) (eq? (read (open-input-string "Abc")) 'abc)
             (equal? (read (open-input-string "\"x\\ny\"")) (string #\x #\newline #\y)))) (newline)
