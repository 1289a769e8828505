; Every round fills a fresh vector with 24,000 new strings and keeps only the last two rounds:
; the checkpoint after each round writes megabytes of new heap pages (a batch that an encrypted
; store seals on a second thread while redb writes), and the collector frees the rounds dropped.
(import (scheme base) (scheme write))
(define (fill round)
  (let ((v (make-vector 24000)))
    (do ((i 0 (+ i 1))) ((= i 24000) v)
      (vector-set! v i (string-append "round-" (number->string round) "-entry-" (number->string i))))))
(define (total-length v)
  (let loop ((i 0) (sum 0))
    (if (= i (vector-length v)) sum (loop (+ i 1) (+ sum (string-length (vector-ref v i)))))))
(let loop ((round 0) (previous (vector)))
  (when (< round 10)
    (let ((current (fill round)))
      (display (list 'round round (total-length current) (total-length previous)))
      (newline)
      (checkpoint)
      (loop (+ round 1) current))))
