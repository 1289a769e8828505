//! `export` and `import` through the command line: a process copied into a bundle resumes in
//! another store exactly where it was; a bundle of an encrypted store is sealed and holds nothing
//! in clear; a sealed bundle needs a key; whatever `import` or `export` refuses leaves every file
//! as it was, byte for byte.

mod common;

use std::path::{Path, PathBuf};

use age::secrecy::ExposeSecret;
use common::{init_encrypted, run, text, vm, write_program};

/// Waits for two messages, keeping a running total in its heap.
const TALLY: &str = r#"
(import (scheme base) (scheme write))
(define owner "Ottoline-Quarrington")
(display "tally for ") (display owner) (newline)
(define (take total)
  (let ((amount (receive)))
    (display "got ") (write amount) (newline)
    (+ total amount)))
(define total (take (take 1000)))
(display "total ") (display total) (newline)
"#;

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

fn ok(command: &mut std::process::Command) -> String {
    let out = run(command);
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

/// Starts the tally as process `tally` in `store`, one message in, waiting for the next.
fn start_tally(dir: &Path, store: &Path) {
    let program = write_program(dir, "tally.scm", TALLY);
    ok(vm(store).args(["start", "--name", "tally", "--exit-when-waiting"]).arg(&program));
    ok(vm(store).args(["send", "tally", "20"]));
    ok(vm(store).args(["resume", "--exit-when-waiting", "tally"]));
}

/// Sends the tally's last message in `store`, runs it to its end, and returns what it printed.
fn finish_tally(store: &Path) -> String {
    ok(vm(store).args(["send", "tally", "300"]));
    ok(vm(store).args(["resume", "tally"]));
    ok(vm(store).args(["output", "tally"]))
}

/// What the tally prints, run without interruption.
fn uninterrupted(dir: &Path) -> String {
    let store = dir.join("reference.redb");
    start_tally(dir, &store);
    ok(vm(&store).args(["send", "tally", "300"]));
    ok(vm(&store).args(["resume", "tally"]));
    let output = ok(vm(&store).args(["output", "tally"]));
    assert_eq!(output, "tally for Ottoline-Quarrington\ngot 20\ngot 300\ntotal 1320\n");
    output
}

/// An age identity file made as age-keygen makes one; returns its path and recipient.
fn age_identity(dir: &Path) -> (PathBuf, String) {
    let identity = age::x25519::Identity::generate();
    let path = dir.join("key.txt");
    std::fs::write(&path, format!("# created: today\n{}\n", identity.to_string().expose_secret())).unwrap();
    (path, identity.to_public().to_string())
}

#[test]
fn a_process_moves_to_another_encrypted_store_and_resumes_there() {
    let dir = tempfile::tempdir().unwrap();
    let expected = uninterrupted(dir.path());
    let (here, there) = (dir.path().join("here.redb"), dir.path().join("there.redb"));
    init_encrypted(&here);
    init_encrypted(&there);
    start_tally(dir.path(), &here);
    let recipient = ok(vm(&there).args(["store", "recipient"])).trim().to_string();
    assert!(recipient.starts_with("age1"), "{recipient}");
    let bundle = dir.path().join("tally.bundle");
    let out = run(vm(&here).args(["export", "tally", "--to", &recipient, "-o"]).arg(&bundle));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("sealed"), "{}", text(&out.stderr));

    let raw = std::fs::read(&bundle).unwrap();
    assert!(raw.starts_with(b"age-encryption.org/v1\n"));
    for needle in ["Ottoline-Quarrington", "tally for", "got 20", "tally"] {
        assert!(!contains(&raw, needle.as_bytes()), "the bundle holds {needle:?} in clear");
    }
    assert!(!contains(&raw, blake3::hash(b"tally for Ottoline-Quarrington\ngot 20\n").as_bytes()));

    ok(vm(&there).arg("import").arg(&bundle));
    assert_eq!(finish_tally(&there), expected);
    assert!(run(vm(&there).arg("verify")).status.success());
    // The copy left behind is as it was: it goes on too.
    assert_eq!(finish_tally(&here), expected);
}

#[test]
fn a_bundle_sealed_to_an_age_key_needs_that_key() {
    let dir = tempfile::tempdir().unwrap();
    let (identity, recipient) = age_identity(dir.path());
    let source = dir.path().join("source.redb");
    start_tally(dir.path(), &source);
    let bundle = dir.path().join("tally.age");
    ok(vm(&source).args(["export", "tally", "--to", &recipient, "-o"]).arg(&bundle));
    assert!(!contains(&std::fs::read(&bundle).unwrap(), b"Ottoline-Quarrington"));

    let target = dir.path().join("target.redb");
    ok(vm(&target).args(["store", "init"]));
    let encrypted = dir.path().join("encrypted.redb");
    init_encrypted(&encrypted);
    for store in [&target, &encrypted] {
        let before = std::fs::read(store).unwrap();
        let out = run(vm(store).arg("import").arg(&bundle));
        assert_eq!(out.status.code(), Some(1));
        assert!(text(&out.stderr).contains("is sealed"), "{}", text(&out.stderr));
        assert_eq!(std::fs::read(store).unwrap(), before, "a refused import changes nothing");
    }
    let out = run(vm(&target).arg("import").arg("--identity").arg(&identity).arg(&bundle));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("now kept in clear"), "a plain store is said to be plain");
    assert_eq!(finish_tally(&target), uninterrupted(dir.path()));
}

#[test]
fn a_bundle_of_an_encrypted_store_is_sealed_even_unasked_and_imports_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.redb");
    init_encrypted(&store);
    start_tally(dir.path(), &store);
    let bundle = dir.path().join("backup.bundle");
    ok(vm(&store).args(["export", "tally", "-o"]).arg(&bundle));
    let raw = std::fs::read(&bundle).unwrap();
    assert!(raw.starts_with(b"age-encryption.org/v1\n"));
    assert!(!contains(&raw, b"Ottoline-Quarrington"));
    // Importing it into the same store again is refused: the process is there.
    let before = std::fs::read(&store).unwrap();
    let out = run(vm(&store).arg("import").arg(&bundle));
    assert!(text(&out.stderr).contains("already exists"), "{}", text(&out.stderr));
    assert_eq!(std::fs::read(&store).unwrap(), before);
    // After the process is gone, the store takes its own backup back.
    ok(vm(&store).args(["cancel", "tally"]));
    ok(vm(&store).args(["rm", "tally"]));
    ok(vm(&store).arg("import").arg(&bundle));
    assert_eq!(finish_tally(&store), uninterrupted(dir.path()));
}

#[test]
fn a_damaged_bundle_or_a_bad_request_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.redb");
    init_encrypted(&store);
    start_tally(dir.path(), &store);
    let bundle = dir.path().join("tally.bundle");
    ok(vm(&store).args(["export", "tally", "-o"]).arg(&bundle));
    let raw = std::fs::read(&bundle).unwrap();
    let target = dir.path().join("target.redb");
    init_encrypted(&target);
    // The target cannot open the source's own seal; make one it can.
    let recipient = ok(vm(&target).args(["store", "recipient"])).trim().to_string();
    let for_target = dir.path().join("for-target.bundle");
    ok(vm(&store).args(["export", "tally", "--to", &recipient, "-o"]).arg(&for_target));
    let good = std::fs::read(&for_target).unwrap();
    let before = std::fs::read(&target).unwrap();
    let mut rng = fastrand::Rng::with_seed(common::seed("CHENILLES_BUNDLE_SEED", "damaged bundles"));
    let mut cases: Vec<(String, Vec<u8>)> = vec![
        ("empty".into(), Vec::new()),
        ("cut in half".into(), good[..good.len() / 2].to_vec()),
        ("last byte missing".into(), good[..good.len() - 1].to_vec()),
        ("one byte more".into(), [good.as_slice(), b"x"].concat()),
        ("not a bundle".into(), b"(display \"hello\")".to_vec()),
    ];
    for _ in 0..8 {
        let mut altered = good.clone();
        let at = rng.usize(..altered.len());
        altered[at] ^= 1 << rng.u32(..8);
        cases.push((format!("byte {at} altered"), altered));
    }
    for (case, bytes) in cases {
        let path = dir.path().join("case.bundle");
        std::fs::write(&path, &bytes).unwrap();
        let out = run(vm(&target).arg("import").arg(&path));
        assert_eq!(out.status.code(), Some(1), "{case}: {}", text(&out.stderr));
        assert!(text(&out.stderr).starts_with("error: "), "{case}: {}", text(&out.stderr));
        assert_eq!(std::fs::read(&target).unwrap(), before, "{case}: the store is unchanged");
    }
    // Exporting over an existing file, or a process that is not there, writes nothing.
    let out = run(vm(&store).args(["export", "tally", "-o"]).arg(&bundle));
    assert!(text(&out.stderr).contains("exists"), "{}", text(&out.stderr));
    assert_eq!(std::fs::read(&bundle).unwrap(), raw);
    let missing = dir.path().join("missing.bundle");
    let out = run(vm(&store).args(["export", "nobody", "-o"]).arg(&missing));
    assert!(text(&out.stderr).contains("no process named"), "{}", text(&out.stderr));
    assert!(!missing.exists());
    let out = run(vm(&store).args(["export", "tally", "--to", "age1nope", "-o"]).arg(&missing));
    assert_eq!(out.status.code(), Some(1));
    assert!(!missing.exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".chenilles-bundle"))
        .collect();
    assert!(leftovers.is_empty(), "no temporary file is left behind");
    // And the good one still imports.
    ok(vm(&target).arg("import").arg(&for_target));
}
