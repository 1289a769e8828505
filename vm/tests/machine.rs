//! Properties of the machine that output alone cannot show: constant space for tail calls, recursion
//! bounded only by memory, a heap that stays small under heavy allocation, bignums that never wrap.

use std::io::Write;
use std::sync::Arc;
use std::sync::Mutex;

use chenilles_machine::{Machine, Outcome};

/// An output sink the test can read after the machine has written to it.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn run(source: &str) -> (Machine, String) {
    let out = Captured::default();
    let mut machine = Machine::with_output(Box::new(out.clone()));
    let outcome = machine.run_source("test.scm", source);
    assert!(matches!(outcome, Ok(Outcome::Finished)), "{:?}", outcome.map_err(|e| e.report()));
    let text = String::from_utf8_lossy(&out.0.lock().unwrap()).into_owned();
    (machine, text)
}

#[test]
fn a_ten_million_iteration_tail_loop_runs_in_constant_space() {
    let (machine, out) = run("(define (loop i acc) (if (= i 0) acc (loop (- i 1) (+ acc 2))))
                              (display (loop 10000000 0))");
    assert_eq!(out, "20000000");
    assert!(machine.vm.peak_frames < 10, "peak frames {}", machine.vm.peak_frames);
}

#[test]
fn mutual_tail_recursion_through_cond_and_named_let_runs_in_constant_space() {
    let (machine, out) = run("(define (even? n) (cond ((= n 0) #t) (else (odd? (- n 1)))))
                              (define (odd? n) (and (not (= n 0)) (even? (- n 1))))
                              (display (even? 3000001))
                              (display (let count ((i 0)) (if (< i 1000000) (count (+ i 1)) i)))");
    assert_eq!(out, "#f1000000");
    assert!(machine.vm.peak_frames < 10, "peak frames {}", machine.vm.peak_frames);
}

#[test]
fn non_tail_recursion_a_million_deep_works() {
    let (machine, out) = run("(define (count-down n) (if (= n 0) 0 (+ 1 (count-down (- n 1)))))
                              (display (count-down 1000000))");
    assert_eq!(out, "1000000");
    assert!(machine.vm.peak_frames > 1_000_000);
}

#[test]
fn heavy_allocation_with_a_small_live_set_keeps_the_heap_small() {
    // About 1.5 GB allocated over the run, a few hundred bytes live at any time.
    let (machine, out) = run("(define (churn i keep)
                                (if (= i 0) (length keep)
                                    (churn (- i 1) (let ((v (make-vector 50 i))) (cons (vector-length v) '())))))
                              (display (churn 3000000 '()))");
    assert_eq!(out, "1");
    let heap = &machine.vm.rt.heap;
    let collections = heap.counters().collections;
    assert!(collections >= 5, "only {collections} collections");
    assert!(heap.arena_len() < 2_000_000, "the arena grew to {} objects", heap.arena_len());
}

#[test]
fn exact_integers_overflow_into_bignums_and_never_wrap() {
    let (_, out) = run("(define max-fixnum 1152921504606846975)
                        (write (list (+ max-fixnum 1) (- (- max-fixnum) 2) (* max-fixnum max-fixnum)
                                     (- (expt 2 256) 1) (quotient (expt 2 256) (expt 2 200))
                                     (= (+ max-fixnum 1) 1152921504606846976)
                                     (- (+ max-fixnum 1) 1)))");
    assert_eq!(
        out,
        "(1152921504606846976 -1152921504606846977 1329227995784915870597964051066650625 \
         115792089237316195423570985008687907853269984665640564039457584007913129639935 \
         72057594037927936 #t 1152921504606846975)"
    );
}

#[test]
fn record_operations_on_parameters_and_free_variables_run_without_a_frame() {
    use chenilles_machine::interp::Shortcut;
    let source = "(import (scheme base))
        (define (make-getter t k w) (lambda (r) (%record-ref r t k w)))
        (define (make-setter t k w) (lambda (r v) (%record-set! r t k v w)))
        (define (make-swapped-getter w k t) (lambda (r) (%record-ref r t k w)))
        (define (make-vector-getter t k w) (lambda (r) (vector-ref r t)))
        (define (make-two-getter t k w) (lambda (r s) (%record-ref r t k w)))";
    let image = chenilles_compiler::Compiler::new().compile_source("shapes.scm", source).expect("compiles");
    let functions = chenilles_compiler::bytecode::verify(&image).expect("verifies");
    let shortcuts: Vec<(String, Shortcut)> =
        functions.iter().filter_map(|f| Shortcut::of(f).map(|s| (f.name.clone(), s))).collect();
    let names: Vec<&str> = shortcuts.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names.len(), 3, "{shortcuts:?}");
    assert_eq!(shortcuts[0].1, Shortcut::RecordRef { free: [0, 1, 2] });
    assert_eq!(shortcuts[1].1, Shortcut::RecordSet { free: [0, 1, 2] });
    // Free variables are numbered in the order the body uses them, whatever the order they were
    // bound in: the shortcut takes them as the body does.
    assert!(matches!(shortcuts[2].1, Shortcut::RecordRef { .. }));

    // And each runs as its frame would have.
    let (_, out) = run("(import (scheme base) (scheme write))
        (define-record-type point (make-point x y) point? (x point-x set-point-x!) (y point-y))
        (define p (make-point 1 2))
        (define (make-swapped-getter w k t) (lambda (r) (%record-ref r t k w)))
        (define swapped (make-swapped-getter 'my-y 1 point))
        (set-point-x! p 5)
        (write (list (point-x p) (swapped p)
                     (guard (e (#t (error-object-message e))) (swapped 'no))))");
    assert_eq!(out, "(5 2 \"my-y: not a record of type point\")");
}
