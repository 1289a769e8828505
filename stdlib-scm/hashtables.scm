;;; Hash tables (SRFI 69): the procedures that take Scheme callbacks. The tables themselves and the
;;; procedures on them that need none are native (vm/src/natives/hashtables.rs).

(define %missing (list 'missing))

(define (make-hash-table . args)
  ;; (make-hash-table [equivalence [hash]]): the hash function, if given, is not needed, since the
  ;; table hashes consistently with each supported equivalence itself.
  (%make-hash-table (if (pair? args) (car args) equal?)))

(define (hash-table-ref table key . default-thunk)
  (let ((value (hash-table-ref/default table key %missing)))
    (cond ((not (eq? value %missing)) value)
          ((pair? default-thunk) ((car default-thunk)))
          (else (error "hash-table-ref: no such key:" key)))))

(define (hash-table-update! table key proc . default-thunk)
  (hash-table-set! table key (proc (apply hash-table-ref table key default-thunk))))

(define (hash-table-update!/default table key proc default)
  (hash-table-set! table key (proc (hash-table-ref/default table key default))))

(define (hash-table-walk table proc)
  (for-each (lambda (entry) (proc (car entry) (cdr entry))) (hash-table->alist table)))

(define (hash-table-fold table kons knil)
  (let loop ((entries (hash-table->alist table)) (acc knil))
    (if (null? entries)
        acc
        (loop (cdr entries) (kons (caar entries) (cdar entries) acc)))))

(define (alist->hash-table alist . args)
  (let ((table (apply make-hash-table args)))
    (for-each (lambda (entry)
                (unless (hash-table-exists? table (car entry))
                  (hash-table-set! table (car entry) (cdr entry))))
              alist)
    table))

