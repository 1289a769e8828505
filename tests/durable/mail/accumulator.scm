;; Receives numbers until `done`, adding each to a total after some work on it, and acknowledges
;; each to the process `observer`; at `done`, prints the total and tells the observer.
;; Used by vm/tests/crash.rs (messages_survive_kills_of_the_receiver).
(define (work n)
  (let loop ((i 0) (acc 0))
    (if (= i 20000) acc (loop (+ i 1) (+ acc (modulo (* i n) 7))))))

(let loop ((total 0))
  (let ((message (receive)))
    (if (eq? message 'done)
        (begin
          (display (list 'total total))
          (newline)
          (send 'observer 'done))
        (let ((total (+ total message)))
          (display (list 'got message 'work (work message) 'total total))
          (newline)
          (send 'observer (list 'ack message))
          (loop total)))))
