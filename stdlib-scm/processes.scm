;;; Processes: receiving messages and calling the host. `send`, `process-name` and the primitives
;;; below are native (vm/src/natives/messages.rs); see vm/src/mailbox.rs and vm/src/host.rs for
;;; what a durable process commits around each of them.

;; (receive-message) waits for the next message and returns it. (receive-message seconds) waits at
;; most that long and then returns #f, or (receive-message seconds default) returns default. The
;; `receive` form with zero to two operands is this procedure. A durable process waits durably: it
;; is checkpointed, costs nothing while it waits, and survives any number of crashes.
(define (receive-message . options)
  (let* ((timeout (and (pair? options) (car options)))
         (default (if (and (pair? options) (pair? (cdr options))) (cadr options) #f))
         (deadline (and timeout (+ (current-second) timeout))))
    (let loop ()
      (let ((message (%try-receive)))
        (cond (message (car message))
              ((and deadline (>= (current-second) deadline)) default)
              (else (%wait deadline) (loop)))))))

;; (host-call 'name arg ...) calls a host function this process was granted. An effectful one is
;; called between two checkpoints: the request is committed before it, the result after.
(define (host-call name . args)
  (if (eq? (%host-kind name) 'pure)
      (%host-call name args)
      (begin (checkpoint) (%host-call name args))))
