;;; The standard procedures of (scheme base), (scheme cxr) and friends that are natural to write in
;;; Scheme. The primitives they build on are native procedures of the VM (vm/src/natives/).
;;; Helpers whose names start with % are private to this library.

(define (%any-null? lists)
  (if (null? lists) #f (if (null? (car lists)) #t (%any-null? (cdr lists)))))

(define (%cars lists) (if (null? lists) '() (cons (car (car lists)) (%cars (cdr lists)))))
(define (%cdrs lists) (if (null? lists) '() (cons (cdr (car lists)) (%cdrs (cdr lists)))))

(define (map f list1 . lists)
  (if (null? lists)
      (let loop ((l list1) (acc '()))
        (if (pair? l) (loop (cdr l) (cons (f (car l)) acc)) (reverse acc)))
      (let loop ((ls (cons list1 lists)) (acc '()))
        (if (%any-null? ls)
            (reverse acc)
            (loop (%cdrs ls) (cons (apply f (%cars ls)) acc))))))

(define (for-each f list1 . lists)
  (if (null? lists)
      (let loop ((l list1))
        (when (pair? l) (f (car l)) (loop (cdr l))))
      (let loop ((ls (cons list1 lists)))
        (unless (%any-null? ls)
          (apply f (%cars ls))
          (loop (%cdrs ls))))))

(define (member x list . compare)
  (let ((same? (if (pair? compare) (car compare) equal?)))
    (let loop ((l list))
      (cond ((not (pair? l)) #f)
            ((same? x (car l)) l)
            (else (loop (cdr l)))))))

(define (assoc x alist . compare)
  (let ((same? (if (pair? compare) (car compare) equal?)))
    (let loop ((l alist))
      (cond ((not (pair? l)) #f)
            ((same? x (car (car l))) (car l))
            (else (loop (cdr l)))))))

(define (list-set! list k obj) (set-car! (list-tail list k) obj))

(define (caaar x) (car (car (car x))))
(define (caadr x) (car (car (cdr x))))
(define (cadar x) (car (cdr (car x))))
(define (caddr x) (car (cdr (cdr x))))
(define (cdaar x) (cdr (car (car x))))
(define (cdadr x) (cdr (car (cdr x))))
(define (cddar x) (cdr (cdr (car x))))
(define (cdddr x) (cdr (cdr (cdr x))))
(define (caaaar x) (car (car (car (car x)))))
(define (caaadr x) (car (car (car (cdr x)))))
(define (caadar x) (car (car (cdr (car x)))))
(define (caaddr x) (car (car (cdr (cdr x)))))
(define (cadaar x) (car (cdr (car (car x)))))
(define (cadadr x) (car (cdr (car (cdr x)))))
(define (caddar x) (car (cdr (cdr (car x)))))
(define (cadddr x) (car (cdr (cdr (cdr x)))))
(define (cdaaar x) (cdr (car (car (car x)))))
(define (cdaadr x) (cdr (car (car (cdr x)))))
(define (cdadar x) (cdr (car (cdr (car x)))))
(define (cdaddr x) (cdr (car (cdr (cdr x)))))
(define (cddaar x) (cdr (cdr (car (car x)))))
(define (cddadr x) (cdr (cdr (car (cdr x)))))
(define (cdddar x) (cdr (cdr (cdr (car x)))))
(define (cddddr x) (cdr (cdr (cdr (cdr x)))))

(define (vector-map f v . vs)
  (list->vector (apply map f (vector->list v) (map vector->list vs))))

(define (vector-for-each f v . vs)
  (apply for-each f (vector->list v) (map vector->list vs)))

(define (string-map f s . ss)
  (list->string (apply map f (string->list s) (map string->list ss))))

(define (string-for-each f s . ss)
  (apply for-each f (string->list s) (map string->list ss)))

;;; Integer division returning two values, and exact-integer-sqrt.
(define (floor/ n d) (values (floor-quotient n d) (floor-remainder n d)))
(define (truncate/ n d) (values (truncate-quotient n d) (truncate-remainder n d)))
(define (exact-integer-sqrt n)
  (let ((s (%exact-integer-sqrt n))) (values s (- n (* s s)))))

;;; rationalize: the simplest rational within y of x (R7RS 6.2.6), by continued fractions.
(define (rationalize x y)
  (define (simplest lo hi)
    (let ((fl (floor lo)))
      (cond ((= fl lo) fl)
            ((< fl (floor hi)) (+ fl 1))
            (else (+ fl (/ 1 (simplest (/ 1 (- hi fl)) (/ 1 (- lo fl)))))))))
  (let ((lo (- x (abs y))) (hi (+ x (abs y))))
    (cond ((positive? lo) (simplest lo hi))
          ((negative? hi) (- (simplest (- hi) (- lo))))
          ((and (exact? lo) (exact? hi)) 0)
          (else 0.0))))
