;;; Processes: receiving messages and calling the host. `send`, `process-name` and the primitives
;;; below are native (vm/machine/src/natives/messages.rs); see vm/durable/src/mailbox.rs and
;;; vm/durable/src/host.rs for what a durable process commits around each of them.

;; (receive-message) waits for the next message and returns it. (receive-message seconds) waits at
;; most that long and then returns #f, or (receive-message seconds default) returns default. The
;; `receive` form with zero to two operands is this procedure. A durable process waits durably: it
;; is checkpointed, costs nothing while it waits, and survives any number of crashes.
(define (receive-message . options)
  (%receive-by %try-receive options))

;; (receive-with-sender) is receive-message that returns (sender . message): the sender is the
;; sending process's name (a symbol; `host` for the host or the command line), or (peer process)
;; for a process at another node, `peer` being the name this store knows that node by (its
;; connection proved who it is). `send` takes either as it is, to answer.
(define (receive-with-sender . options)
  (%receive-by %try-receive-with-sender options))

(define (%receive-by try-receive options)
  (let* ((timeout (and (pair? options) (car options)))
         (default (if (and (pair? options) (pair? (cdr options))) (cadr options) #f))
         (deadline (and timeout (+ (current-second) timeout))))
    (let loop ()
      (let ((message (try-receive)))
        (cond (message (car message))
              ((and deadline (>= (current-second) deadline)) default)
              (else (%wait deadline) (loop)))))))

;; (host-call 'name arg ...) calls a host function this process was granted. An effectful one is
;; called between two checkpoints: the request is committed before it, the result after.
(define (host-call name . args)
  (if (eq? (%host-kind name) 'pure)
      (%host-call name args)
      (begin (checkpoint) (%host-call name args))))
