//! `export` and `import` through the command line: a process copied into a bundle resumes in
//! another store exactly where it was; a bundle of an encrypted store is sealed and holds nothing
//! in clear; a sealed bundle needs a key; whatever `import` or `export` refuses leaves every file
//! as it was, byte for byte.

mod common;

use std::path::{Path, PathBuf};

use age::secrecy::ExposeSecret;
use common::{init_encrypted, ok, run, status_of, text, vm, write_program};

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

/// Holds a list of 20,000 strings in its heap (a bundle of some size, so that kills land inside
/// the work) and waits for one message.
const BALLAST: &str = r#"
(import (scheme base) (scheme write))
(define (build n acc) (if (= n 0) acc (build (- n 1) (cons (string-append "entry-" (number->string n)) acc))))
(define entries (build 20000 '()))
(display "holding ") (display (length entries)) (newline)
(define extra (receive))
(display "last ") (display (list-ref entries (- (length entries) 1)))
(display " and ") (write extra) (newline)
"#;

const BALLAST_OUTPUT: &str = "holding 20000\nlast entry-20000 and 7\n";

/// Whether `status` is that of a command killed with SIGKILL.
fn was_killed(status: std::process::ExitStatus) -> bool {
    use std::os::unix::process::ExitStatusExt;
    status.signal() == Some(9)
}

/// Sends the last messages to both processes of a store a bundle was imported into, runs them to
/// their ends, and checks what they printed.
fn finish_both(store: &Path, tally: &str) {
    assert!(run(vm(store).arg("verify")).status.success(), "the store verifies");
    assert_eq!(finish_tally(store), tally);
    ok(vm(store).args(["send", "ballast", "7"]));
    ok(vm(store).args(["resume", "ballast"]));
    assert_eq!(ok(vm(store).args(["output", "ballast"])), BALLAST_OUTPUT);
}

#[test]
fn export_and_import_killed_at_any_instant_leave_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let tally = uninterrupted(dir.path());
    let (identity, recipient) = age_identity(dir.path());
    let source = dir.path().join("source.redb");
    init_encrypted(&source);
    start_tally(dir.path(), &source);
    let ballast = write_program(dir.path(), "ballast.scm", BALLAST);
    ok(vm(&source).args(["start", "--name", "ballast", "--exit-when-waiting"]).arg(&ballast));
    let export = |to: &Path| {
        let mut command = vm(&source);
        command.args(["export", "tally", "ballast", "--to", &recipient, "-o"]).arg(to);
        command
    };
    let import = |store: &Path, bundle: &Path| {
        let mut command = vm(store);
        command.arg("import").arg("--identity").arg(&identity).arg(bundle);
        command
    };
    let fresh_store = |name: &str| {
        let store = dir.path().join(name);
        init_encrypted(&store);
        store
    };
    let reference = dir.path().join("reference.bundle");
    let started = std::time::Instant::now();
    ok(&mut export(&reference));
    let export_time = started.elapsed();
    let mut rng = fastrand::Rng::with_seed(common::seed("CHENILLES_BUNDLE_SEED", "killed bundles"));
    let rounds: usize = std::env::var("CHENILLES_CRASH_ROUNDS").ok().and_then(|s| s.parse().ok()).unwrap_or(1);

    // An export killed at any instant leaves no bundle or a whole one, and the store as it was.
    let (mut killed, mut whole) = (0, 0);
    for round in 0..6 * rounds {
        let bundle = dir.path().join(format!("killed-{round}.bundle"));
        let child = export(&bundle).spawn().unwrap();
        std::thread::sleep(export_time.mul_f64(rng.f64() * 1.2));
        common::signal(&child, "KILL");
        let out = child.wait_with_output().unwrap();
        killed += usize::from(was_killed(out.status));
        if bundle.exists() {
            whole += 1;
            let store = fresh_store(&format!("from-killed-{round}.redb"));
            ok(&mut import(&store, &bundle));
            assert_eq!(status_of(&store, "ballast"), "waiting", "a bundle left by a killed export is whole");
        } else {
            assert!(was_killed(out.status), "an export that ended wrote its bundle: {}", text(&out.stderr));
        }
    }
    eprintln!("{killed} exports killed, {whole} bundles written whole, none torn");

    // An import crashed at one of its disk operations imports both processes or neither,
    // and the import done again (or refused: they are there) leaves them whole.
    let count = fresh_store("count.redb");
    let out = run(import(&count, &reference).env("CHENILLES_CRASH_AT_DISK_OP", "0"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let operations: u64 = text(&out.stderr)
        .lines()
        .find_map(|line| {
            line.strip_prefix("chenilles-vm: ")?.strip_suffix(" disk operations on store files")?.parse().ok()
        })
        .expect("the import counts its disk operations");
    // Every operation of the first and last few (opening, the commit's end), the rest sampled
    // (the count varies by a few from one store to the next: an import that ends first is fine).
    let mut chosen: Vec<u64> = (1..=8).chain(operations.saturating_sub(12)..=operations + 2).collect();
    chosen.extend((0..12 * rounds).map(|_| rng.u64(1..=operations)));
    chosen.sort_unstable();
    chosen.dedup();
    let mut outcomes = [0usize; 2];
    for (i, &operation) in chosen.iter().enumerate() {
        let store = fresh_store(&format!("crashed-at-{operation}.redb"));
        let out = run(import(&store, &reference).env("CHENILLES_CRASH_AT_DISK_OP", operation.to_string()));
        let crashed = was_killed(out.status);
        assert!(crashed || out.status.success(), "operation {operation} of {operations}: {}", text(&out.stderr));
        let present = [status_of(&store, "tally"), status_of(&store, "ballast")];
        let imported = present == ["waiting", "waiting"];
        assert!(imported || present == ["absent", "absent"], "operation {operation}: {present:?}");
        outcomes[usize::from(imported)] += 1;
        let again = run(&mut import(&store, &reference));
        assert_eq!(again.status.success(), !imported, "operation {operation}: {}", text(&again.stderr));
        if i % 4 == 0 || i + 1 == chosen.len() {
            finish_both(&store, &tally);
        }
    }
    eprintln!(
        "import crashed at {} of its {operations} disk operations: {} left nothing, {} everything",
        chosen.len(),
        outcomes[0],
        outcomes[1]
    );
    assert!(outcomes[0] > 0, "some crash came before the import's commit");

    // And killed at random instants, the same.
    for round in 0..4 * rounds {
        let store = fresh_store(&format!("killed-import-{round}.redb"));
        let child = import(&store, &reference).spawn().unwrap();
        std::thread::sleep(export_time.mul_f64(rng.f64()));
        common::signal(&child, "KILL");
        child.wait_with_output().unwrap();
        let present = [status_of(&store, "tally"), status_of(&store, "ballast")];
        assert!(present == ["waiting", "waiting"] || present == ["absent", "absent"], "{present:?}");
        if present[0] == "absent" {
            ok(&mut import(&store, &reference));
        }
        finish_both(&store, &tally);
    }
    // The source store lost nothing to the killed exports.
    finish_both(&source, &tally);
}
