; A misspelled standard procedure: warned, with the name meant.
(define (count-items items)
  (lenght items))
(display (count-items '(1 2 3)))
