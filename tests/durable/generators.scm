;; Generators built on call/cc walking a tree of 2^14 leaves, twelve times over: every
;; interval mutates much of the heap, so checkpoints are costly and paced; the crash harness
;; kills it, and `a_program_killed_every_four_tenths_of_its_run_still_finishes` kills it again and
;; again at 0.4 of its running time.
(define (make-tree depth start)
  (if (= depth 0)
      start
      (cons (make-tree (- depth 1) (* 2 start))
            (make-tree (- depth 1) (+ 1 (* 2 start))))))

(define (tree-generator tree)
  (define return #f)
  (define resume-walk #f)
  (define (walk t)
    (if (pair? t)
        (begin (walk (car t)) (walk (cdr t)))
        (call/cc (lambda (k)
                   (set! resume-walk k)
                   (return t)))))
  (lambda ()
    (call/cc (lambda (r)
               (set! return r)
               (if resume-walk
                   (resume-walk #f)
                   (begin (walk tree) (return 'done)))))))

(define tree (make-tree 14 1))

(define (sum-leaves tree)
  (let ((next (tree-generator tree)))
    (let loop ((sum 0) (count 0))
      (let ((leaf (next)))
        (if (eq? leaf 'done)
            (list sum count)
            (loop (+ sum leaf) (+ count 1)))))))

(let loop ((round 0))
  (when (< round 12)
    (write (sum-leaves tree))
    (newline)
    (loop (+ round 1))))
