(cond ((assv 2 '((1 . one) (2 . two))) => cdr)
      ((> 3 2) 'greater)
      (else 'other))
