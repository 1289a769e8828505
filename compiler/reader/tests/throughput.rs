//! A rough throughput figure for the reader (lexing and parsing), measured on a generated 1 MB text.
//!
//! Run it in release: `cargo test -p chenilles-reader --release --test throughput -- --ignored --nocapture`.

use std::time::Instant;

use chenilles_reader::read_all;

/// About `size` bytes of varied Scheme source.
fn generate(size: usize) -> String {
    let mut text = String::with_capacity(size + 1024);
    let mut i = 0u64;
    while text.len() < size {
        text.push_str(&format!(
            "(define (function-{i} x y . rest)\n  ;; a comment about {i}\n  (let ((v #(1 2.5 \"str\\n{i}\" #\\a))\n        (b #u8(1 2 3)))\n    (if (< x {i}) `(,x ,@rest 'sym-{i} {}/7 #xFF -1.5e-3)\n        (list |odd sym| #t #f {}))))\n#| block {i} |#\n",
            i * 31 + 1,
            i * 1_000_000_007,
        ));
        i += 1;
    }
    text
}

#[test]
#[ignore = "a measurement, run it in release with --ignored"]
fn throughput_of_one_megabyte() {
    let text = generate(1 << 20);
    // Warm up once, then take the best of a few runs.
    let data = read_all(&text, 0).expect("the generated text reads");
    assert!(!data.is_empty());
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let start = Instant::now();
        let data = read_all(&text, 0).expect("the generated text reads");
        let elapsed = start.elapsed().as_secs_f64();
        std::hint::black_box(&data);
        // Dropping the data is not part of reading.
        drop(data);
        best = best.min(elapsed);
    }
    let megabytes = text.len() as f64 / (1024.0 * 1024.0);
    println!("read {megabytes:.2} MiB ({} data) in {:.1} ms: {:.1} MiB/s", data.len(), best * 1000.0, megabytes / best);
}
