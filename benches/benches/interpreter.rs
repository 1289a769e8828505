//! Micro-benchmarks of the compiler and the interpreter: calls and returns, tail loops, closure
//! creation, allocation and collection, bignum arithmetic, call/cc capture and re-entry.
//! Each benchmark compiles once and measures running the image in a fresh machine; the cost of
//! starting a machine is measured on its own. `cargo bench -p chenilles-benches`.

use chenilles_benches::quiet_machine;
use criterion::{Criterion, criterion_group, criterion_main};

const PROGRAMS: &[(&str, &str)] = &[
    ("call-and-return (fib 20)", "(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2))))) (fib 20)"),
    ("tail loop 1e6", "(let loop ((i 0)) (if (< i 1000000) (loop (+ i 1)) i))"),
    (
        "closure creation 1e5",
        "(let loop ((i 0) (fs '())) (if (< i 100000) (loop (+ i 1) (cons (lambda () i) '())) (length fs)))",
    ),
    ("allocation 1e6 pairs", "(let loop ((i 0) (l '())) (if (< i 1000000) (loop (+ i 1) (cons i '())) l))"),
    ("bignum factorial 1000", "(let loop ((i 1) (acc 1)) (if (> i 1000) acc (loop (+ i 1) (* acc i))))"),
    ("call/cc escape 1e4", "(let loop ((i 0)) (if (< i 10000) (begin (call/cc (lambda (k) (k i))) (loop (+ i 1))) i))"),
    // One capture, then 10,000 re-entries of the saved continuation after its call/cc returned.
    (
        "call/cc re-entry 1e4",
        "(let ((k #f)) (let ((i (call/cc (lambda (c) (set! k c) 0)))) (if (< i 10000) (k (+ i 1)) i)))",
    ),
];

fn run_programs(c: &mut Criterion) {
    for (name, source) in PROGRAMS {
        let image = match quiet_machine().compile("bench.scm", source) {
            Ok(image) => image,
            Err(error) => panic!("benchmark {name} does not compile: {}", error.report()),
        };
        c.bench_function(name, |b| {
            b.iter(|| {
                let mut machine = quiet_machine();
                // Checked: a run that fails early would be measured as a fast one.
                match machine.run_image(&image) {
                    Ok(chenilles_machine::Outcome::Finished) => {}
                    Ok(other) => panic!("benchmark {name} ended with {other:?}"),
                    Err(error) => panic!("benchmark {name} failed: {}", error.report()),
                }
            })
        });
    }
}

/// What every run above includes besides the program: a fresh machine with the standard library.
fn start_machine(c: &mut Criterion) {
    c.bench_function("machine start (standard library loaded)", |b| b.iter(quiet_machine));
}

fn compile_programs(c: &mut Criterion) {
    let source =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples-scm/escrow.scm")).unwrap_or_default();
    assert!(!source.is_empty(), "examples-scm/escrow.scm is readable");
    c.bench_function("compile escrow.scm", |b| {
        b.iter(|| {
            quiet_machine()
                .compile("escrow.scm", &source)
                .unwrap_or_else(|e| panic!("escrow.scm does not compile: {}", e.report()))
        })
    });
}

criterion_group!(benches, start_machine, run_programs, compile_programs);
criterion_main!(benches);
