;;; The prelude: derived expression types of R7RS section 7.3, written with syntax-rules.
;;; The compiler loads these macros into every top-level environment before the program.
;;; Core special forms (quote, quasiquote, lambda, define, set!, if, begin, let, letrec, letrec*,
;;; define-syntax, let-syntax, letrec-syntax, syntax-rules, import) are built into the expander.

(define-syntax let*
  (syntax-rules ()
    ((_ () body1 body2 ...) (let () body1 body2 ...))
    ((_ ((name1 val1) (name2 val2) ...) body1 body2 ...)
     (let ((name1 val1)) (let* ((name2 val2) ...) body1 body2 ...)))))

(define-syntax and
  (syntax-rules ()
    ((_) #t)
    ((_ test) test)
    ((_ test1 test2 ...) (if test1 (and test2 ...) #f))))

(define-syntax or
  (syntax-rules ()
    ((_) #f)
    ((_ test) test)
    ((_ test1 test2 ...) (let ((x test1)) (if x x (or test2 ...))))))

(define-syntax when
  (syntax-rules ()
    ((_ test result1 result2 ...) (if test (begin result1 result2 ...)))))

(define-syntax unless
  (syntax-rules ()
    ((_ test result1 result2 ...) (if test #f (begin result1 result2 ...)))))

(define-syntax cond
  (syntax-rules (else =>)
    ((_ (else result1 result2 ...)) (begin result1 result2 ...))
    ((_ (test => result)) (let ((temp test)) (if temp (result temp))))
    ((_ (test => result) clause1 clause2 ...)
     (let ((temp test)) (if temp (result temp) (cond clause1 clause2 ...))))
    ((_ (test)) test)
    ((_ (test) clause1 clause2 ...) (let ((temp test)) (if temp temp (cond clause1 clause2 ...))))
    ((_ (test result1 result2 ...)) (if test (begin result1 result2 ...)))
    ((_ (test result1 result2 ...) clause1 clause2 ...)
     (if test (begin result1 result2 ...) (cond clause1 clause2 ...)))))

(define-syntax case
  (syntax-rules (else =>)
    ((_ (key ...) clauses ...) (let ((atom-key (key ...))) (case atom-key clauses ...)))
    ((_ key (else => result)) (result key))
    ((_ key (else result1 result2 ...)) (begin result1 result2 ...))
    ((_ key ((atoms ...) => result)) (if (memv key '(atoms ...)) (result key)))
    ((_ key ((atoms ...) => result) clause clauses ...)
     (if (memv key '(atoms ...)) (result key) (case key clause clauses ...)))
    ((_ key ((atoms ...) result1 result2 ...)) (if (memv key '(atoms ...)) (begin result1 result2 ...)))
    ((_ key ((atoms ...) result1 result2 ...) clause clauses ...)
     (if (memv key '(atoms ...)) (begin result1 result2 ...) (case key clause clauses ...)))))

(define-syntax do
  (syntax-rules ()
    ((_ ((var init step ...) ...) (test expr ...) command ...)
     (letrec ((loop (lambda (var ...)
                      (if test
                          (begin (if #f #f) expr ...)
                          (begin command ... (loop (do "step" var step ...) ...))))))
       (loop init ...)))
    ((_ "step" x) x)
    ((_ "step" x y) y)))

;;; R7RS 4.2.7 and friends: records, exceptions, values, promises, parameters, case-lambda.
;;; The procedures they expand into are in stdlib-scm/control.scm.

(define-syntax define-record-type
  (syntax-rules ()
    ((_ type (constructor constructor-field ...) predicate (field accessor . modifier) ...)
     (begin
       (define type (%make-record-type 'type '(field ...)))
       (define constructor (%record-constructor type '(constructor-field ...) 'constructor))
       (define predicate (%record-predicate type))
       (%define-record-field type field accessor . modifier) ...))
    ((_ type #f predicate (field accessor . modifier) ...)
     (begin
       (define type (%make-record-type 'type '(field ...)))
       (define predicate (%record-predicate type))
       (%define-record-field type field accessor . modifier) ...))))

(define-syntax %define-record-field
  (syntax-rules ()
    ((_ type field accessor) (define accessor (%record-accessor type 'field 'accessor)))
    ((_ type field accessor modifier)
     (begin (define accessor (%record-accessor type 'field 'accessor))
            (define modifier (%record-modifier type 'field 'modifier))))))

(define-syntax guard
  (syntax-rules ()
    ((_ (var clause ...) e1 e2 ...)
     ((call/cc
       (lambda (guard-k)
         (with-exception-handler
          (lambda (condition)
            ((call/cc
              (lambda (handler-k)
                (guard-k
                 (lambda ()
                   (let ((var condition))
                     (%guard-clauses (handler-k (lambda () (raise-continuable condition)))
                                     clause ...))))))))
          (lambda ()
            (call-with-values
             (lambda () e1 e2 ...)
             (lambda args (guard-k (lambda () (apply values args)))))))))))))

(define-syntax %guard-clauses
  (syntax-rules (else =>)
    ((_ reraise (else result1 result2 ...)) (begin result1 result2 ...))
    ((_ reraise (test => result)) (let ((temp test)) (if temp (result temp) reraise)))
    ((_ reraise (test => result) clause1 clause2 ...)
     (let ((temp test)) (if temp (result temp) (%guard-clauses reraise clause1 clause2 ...))))
    ((_ reraise (test)) (or test reraise))
    ((_ reraise (test) clause1 clause2 ...)
     (let ((temp test)) (if temp temp (%guard-clauses reraise clause1 clause2 ...))))
    ((_ reraise (test result1 result2 ...)) (if test (begin result1 result2 ...) reraise))
    ((_ reraise (test result1 result2 ...) clause1 clause2 ...)
     (if test (begin result1 result2 ...) (%guard-clauses reraise clause1 clause2 ...)))))

(define-syntax let-values
  (syntax-rules ()
    ((_ (binding ...) body0 body1 ...)
     (%let-values (binding ...) () (let () body0 body1 ...)))))

;; Evaluates every init in the outer environment, binding fresh temporaries, then binds the
;; user's variables to them around the body.
(define-syntax %let-values
  (syntax-rules ()
    ((_ () ((var temp) ...) body) (let ((var temp) ...) body))
    ((_ ((formals init) binding ...) renames body)
     (%let-values-formals formals () init (binding ...) renames body))))

(define-syntax %let-values-formals
  (syntax-rules ()
    ((_ () temps init bindings renames body)
     (call-with-values (lambda () init)
       (lambda temps (%let-values bindings renames body))))
    ((_ (var . rest) (temp ...) init bindings (rename ...) body)
     (%let-values-formals rest (temp ... t) init bindings (rename ... (var t)) body))
    ((_ var (temp ...) init bindings (rename ...) body)
     (call-with-values (lambda () init)
       (lambda (temp ... . t) (%let-values bindings (rename ... (var t)) body))))))

(define-syntax let*-values
  (syntax-rules ()
    ((_ () body0 body1 ...) (let () body0 body1 ...))
    ((_ (binding0 binding1 ...) body0 body1 ...)
     (let-values (binding0) (let*-values (binding1 ...) body0 body1 ...)))))

(define-syntax define-values
  (syntax-rules ()
    ((_ () expr) (define %define-values-ignored (call-with-values (lambda () expr) (lambda args #f))))
    ((_ (var) expr) (define var (call-with-values (lambda () expr) (lambda (x) x))))
    ((_ (var0 var1 ... varn) expr)
     (begin
       (define var0 (call-with-values (lambda () expr) list))
       (define var1 (let ((v (cadr var0))) (set-cdr! var0 (cddr var0)) v)) ...
       (define varn (let ((v (cadr var0))) (set! var0 (car var0)) v))))
    ((_ (var0 var1 ... . rest) expr)
     (begin
       (define var0 (call-with-values (lambda () expr) list))
       (define var1 (let ((v (cadr var0))) (set-cdr! var0 (cddr var0)) v)) ...
       (define rest (let ((v (cdr var0))) (set! var0 (car var0)) v))))
    ((_ rest expr) (define rest (call-with-values (lambda () expr) list)))))

;; Two forms share the name: SRFI 8's (receive formals expr body ...) binds multiple values, and
;; Chenilles's (receive [timeout [default]]) takes the next message of the process's mailbox
;; (see receive-message in processes.scm).
(define-syntax receive
  (syntax-rules ()
    ((_) (receive-message))
    ((_ timeout) (receive-message timeout))
    ((_ timeout default) (receive-message timeout default))
    ((_ formals expr body ...) (call-with-values (lambda () expr) (lambda formals body ...)))))

(define-syntax delay-force
  (syntax-rules () ((_ expression) (%make-promise #f (lambda () expression)))))

(define-syntax delay
  (syntax-rules () ((_ expression) (delay-force (%make-promise #t expression)))))


(define-syntax parameterize
  (syntax-rules ()
    ((_ ((parameter value) ...) body0 body1 ...)
     (%parameterize (list parameter ...) (list value ...) (lambda () body0 body1 ...)))))

(define-syntax case-lambda
  (syntax-rules ()
    ((_ (formals body0 body1 ...) ...)
     (let ((clauses (list (lambda formals body0 body1 ...) ...)))
       (lambda args (%case-lambda-dispatch clauses args))))))
