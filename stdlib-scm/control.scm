;;; Control: dynamic-wind and call/cc, exceptions, multiple values, promises, parameters, exit.
;;; The VM provides %call/cc (capture a continuation), %raise-uncaught (end the program with an
;;; uncaught raise) and the values primitives; everything about the dynamic extent is kept here, in
;;; Scheme data, so that it is part of the continuation like everything else.

;; ---- records ---------------------------------------------------------------------------------------

(define (%record-constructor type field-names who)
  (let ((indices (map (lambda (name) (%record-field-index type name)) field-names))
        (count (length field-names)))
    (lambda args
      (unless (= (length args) count)
        (error (string-append (symbol->string who) ": wrong number of arguments:") (length args)))
      (let ((record (%make-record type count)))
        (for-each (lambda (i v) (%record-set! record type i v who)) indices args)
        record))))

(define (%record-predicate type) (lambda (obj) (%record? obj type)))

(define (%record-accessor type field who)
  (let ((i (%record-field-index type field)))
    (lambda (record) (%record-ref record type i who))))

(define (%record-modifier type field who)
  (let ((i (%record-field-index type field)))
    (lambda (record value) (%record-set! record type i value who))))

;; ---- dynamic-wind and call/cc --------------------------------------------------------------------

;; The winders of the current dynamic extent, innermost first: (before . after) pairs.
(define %winders '())

(define (dynamic-wind before thunk after)
  (before)
  (set! %winders (cons (cons before after) %winders))
  (let ((results (call-with-values thunk list)))
    (set! %winders (cdr %winders))
    (after)
    (apply values results)))

(define (%common-tail x y)
  (let ((lx (length x)) (ly (length y)))
    (do ((x (if (> lx ly) (list-tail x (- lx ly)) x) (cdr x))
         (y (if (> ly lx) (list-tail y (- ly lx)) y) (cdr y)))
        ((eq? x y) x))))

;; Runs the afters of the extents being left and the befores of those being entered.
(define (%travel-to! target)
  (let ((common (%common-tail %winders target)))
    (let unwind ()
      (unless (eq? %winders common)
        (let ((after (cdar %winders)))
          (set! %winders (cdr %winders))
          (after)
          (unwind))))
    (let rewind ((entering target))
      (unless (eq? entering common)
        (rewind (cdr entering))
        ((caar entering))
        (set! %winders entering)))))

(define (call-with-current-continuation receiver)
  (%call/cc
   (lambda (k)
     (let ((winders %winders))
       (receiver (lambda results
                   (unless (eq? %winders winders) (%travel-to! winders))
                   (apply k results)))))))

(define call/cc call-with-current-continuation)

;; ---- multiple values -----------------------------------------------------------------------------

(define (call-with-values producer consumer)
  (let ((v (producer)))
    (if (%multiple-values? v) (apply consumer (%values->list v)) (consumer v))))

;; ---- exceptions ------------------------------------------------------------------------------------

;; The installed exception handlers, innermost first. The VM calls `raise` with its own errors when
;; this list is not empty.
(define %handlers '())

(define (with-exception-handler handler thunk)
  (unless (procedure? handler) (error "with-exception-handler: not a procedure:" handler))
  (let ((outer %handlers))
    (dynamic-wind (lambda () (set! %handlers (cons handler outer)))
                  thunk
                  (lambda () (set! %handlers outer)))))

;; Calls the current handler with `obj`, in the dynamic environment of the raise except that the
;; handler itself is not installed.
(define (%call-handler obj)
  (let ((handlers %handlers))
    (dynamic-wind (lambda () (set! %handlers (cdr handlers)))
                  (lambda () ((car handlers) obj))
                  (lambda () (set! %handlers handlers)))))

(define (raise-continuable obj)
  (if (null? %handlers) (%raise-uncaught obj) (%call-handler obj)))

(define (raise obj)
  (if (null? %handlers)
      (%raise-uncaught obj)
      (begin
        (%call-handler obj)
        ;; A handler returned from a non-continuable raise: a secondary error, raised in the
        ;; handler's dynamic environment (the outer handlers).
        (let ((outer (cdr %handlers)))
          (set! %handlers outer)
          (error "exception handler returned from a non-continuable raise:" obj)))))

;; ---- promises (R7RS 4.2.5) -----------------------------------------------------------------------

(define-record-type %promise (%new-promise state) promise? (state %promise-state %set-promise-state!))

;; state: (done? . value-or-thunk)
(define (%make-promise done? value) (%new-promise (cons done? value)))
(define (make-promise obj) (if (promise? obj) obj (%make-promise #t obj)))

(define (force promise)
  (if (not (promise? promise))
      promise
      (let ((state (%promise-state promise)))
        (if (car state)
            (cdr state)
            (let ((next ((cdr state))))
              (let ((state (%promise-state promise)))
                (unless (car state)
                  (let ((next-state (%promise-state (make-promise next))))
                    (set-car! state (car next-state))
                    (set-cdr! state (cdr next-state))
                    (%set-promise-state! next state))))
              (force promise))))))

;; ---- parameters ----------------------------------------------------------------------------------

(define %parameter-tag (list 'parameter))

(define (make-parameter value . converter)
  (let* ((convert (if (pair? converter) (car converter) (lambda (x) x)))
         (value (convert value)))
    (lambda args
      (cond ((null? args) value)
            ((and (eq? (car args) %parameter-tag) (eq? (cadr args) 'set)) (set! value (caddr args)))
            ((and (eq? (car args) %parameter-tag) (eq? (cadr args) 'convert)) (convert (caddr args)))
            (else (error "a parameter takes no arguments:" args))))))

;; The current ports are parameters too, though the VM keeps them.
(define (%parameter-set! p v)
  (cond ((eq? p current-output-port) (%set-current-output-port! v))
        ((eq? p current-input-port) (%set-current-input-port! v))
        ((eq? p current-error-port) (%set-current-error-port! v))
        (else (p %parameter-tag 'set v))))

(define (%parameter-convert p v)
  (if (memq p (list current-output-port current-input-port current-error-port))
      v
      (p %parameter-tag 'convert v)))

(define (%parameterize parameters values body)
  (let ((converted (map %parameter-convert parameters values))
        (saved #f))
    (dynamic-wind
     (lambda ()
       (set! saved (map (lambda (p) (p)) parameters))
       (for-each %parameter-set! parameters converted))
     body
     (lambda ()
       (set! converted (map (lambda (p) (p)) parameters))
       (for-each %parameter-set! parameters saved)))))

;; ---- case-lambda ---------------------------------------------------------------------------------

(define (%case-lambda-dispatch clauses args)
  (let ((n (length args)))
    (let loop ((clauses clauses))
      (if (null? clauses)
          (error "case-lambda: no clause accepts this many arguments:" n)
          (let ((arity (%procedure-arity (car clauses))))
            (if (and (>= n (car arity)) (or (not (cdr arity)) (<= n (cdr arity))))
                (apply (car clauses) args)
                (loop (cdr clauses))))))))

;; ---- process context -------------------------------------------------------------------------------

(define %exit exit)

(define (exit . code)
  ;; Leave every dynamic extent, running its after thunk, then end the program.
  (%travel-to! '())
  (apply %exit code))

;; ---- files -------------------------------------------------------------------------------------------

(define (call-with-port port proc)
  (call-with-values (lambda () (proc port))
    (lambda results (close-port port) (apply values results))))

(define (call-with-input-file path proc) (call-with-port (open-input-file path) proc))
(define (call-with-output-file path proc) (call-with-port (open-output-file path) proc))

;; ---- eval environments ---------------------------------------------------------------------------
;; There is one global environment per process; these name it.

(define (environment . import-sets) (cons '%environment import-sets))
(define (interaction-environment) '(%environment))
(define (scheme-report-environment version) '(%environment (scheme r5rs)))
(define (null-environment version) '(%environment (scheme r5rs)))

(define (with-output-to-file path thunk)
  (let ((port (open-output-file path)))
    (call-with-values (lambda () (%parameterize (list current-output-port) (list port) thunk))
      (lambda results (close-port port) (apply values results)))))

(define (with-input-from-file path thunk)
  (let ((port (open-input-file path)))
    (call-with-values (lambda () (%parameterize (list current-input-port) (list port) thunk))
      (lambda results (close-port port) (apply values results)))))

(define (read-bytevector! bytevector . args)
  (let* ((port (if (pair? args) (car args) (current-input-port)))
         (start (if (and (pair? args) (pair? (cdr args))) (cadr args) 0))
         (end (if (and (pair? args) (pair? (cdr args)) (pair? (cddr args))) (caddr args) (bytevector-length bytevector))))
    (let loop ((i start))
      (if (>= i end)
          (- i start)
          (let ((b (read-u8 port)))
            (cond ((not (eof-object? b)) (bytevector-u8-set! bytevector i b) (loop (+ i 1)))
                  ((= i start) b)
                  (else (- i start))))))))

;; (load file [environment]): reads and evaluates every datum of a file.
(define (load path . environment)
  (let ((port (open-input-file path))
        (env (if (pair? environment) (car environment) (interaction-environment))))
    (let loop ()
      (let ((datum (read port)))
        (unless (eof-object? datum)
          (eval datum env)
          (loop))))
    (close-port port)))

;; ---- (scheme complex), for real numbers -------------------------------------------------------------

(define (real-part z) z)
(define (imag-part z) (if (exact? z) 0 0.0))
(define (magnitude z) (abs z))
(define (angle z) (if (negative? z) (atan 0 -1) (if (exact? z) 0 0.0)))
(define (make-rectangular re im)
  (if (zero? im) re (error "make-rectangular: complex numbers are not supported:" re im)))
(define (make-polar magnitude angle)
  (if (zero? angle) magnitude (error "make-polar: complex numbers are not supported:" magnitude angle)))
