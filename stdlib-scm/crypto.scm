;;; (chenilles crypto), the Scheme side: hashing and signing data, not only bytes. The natives are
;;; blake3, ed25519-generate-key (an effect), ed25519-public-key, ed25519-sign and ed25519-verify
;;; (vm/src/natives/crypto.rs). A datum's bytes are its `write` text in UTF-8, the form messages
;;; travel in, so that the parties of a contract hash and sign the same bytes.

(define (datum->bytes datum)
  (let ((port (open-output-string)))
    (write datum port)
    (string->utf8 (get-output-string port))))

(define (blake3-datum datum) (blake3 (datum->bytes datum)))

(define (ed25519-sign-datum secret-key datum) (ed25519-sign secret-key (datum->bytes datum)))

(define (ed25519-verify-datum public-key datum signature)
  (ed25519-verify public-key (datum->bytes datum) signature))

;; Lower-case hexadecimal, two digits a byte: for printing keys, hashes and signatures.
(define (bytevector->hex bytes)
  (let loop ((i (- (bytevector-length bytes) 1)) (digits '()))
    (if (< i 0)
        (apply string-append digits)
        (let ((byte (bytevector-u8-ref bytes i)))
          (loop (- i 1)
                (cons (string-append (if (< byte 16) "0" "") (number->string byte 16)) digits))))))

;; The bytes of a hexadecimal string (two digits a byte), or an error.
(define (hex->bytevector text)
  (let ((n (string-length text)))
    (unless (even? n) (error "hex->bytevector: odd number of digits:" text))
    (let ((bytes (make-bytevector (quotient n 2))))
      (let loop ((i 0))
        (if (= i n)
            bytes
            (let ((byte (string->number (substring text i (+ i 2)) 16)))
              (unless (and byte (exact-integer? byte) (<= 0 byte 255))
                (error "hex->bytevector: not hexadecimal:" text))
              (bytevector-u8-set! bytes (quotient i 2) byte)
              (loop (+ i 2))))))))
