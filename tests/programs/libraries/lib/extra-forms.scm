(define (helper) (quote from-include))
