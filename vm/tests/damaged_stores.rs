//! Every durable command of `chenilles-vm` on damaged copies of a real store: flipped bits,
//! truncated files, blobs deleted from the blob table or changed in it (one of each role: heap page,
//! stack chunk, code image, output and effect segments, record, mailbox, …), and refs moved to
//! blobs the store does not hold. The store is made by the binary itself and holds two processes:
//! `printer`, which finished and printed its output (and sent a message), and `waiter`, which waits
//! in `(receive)` with a deep stack and a heap of many pages.
//!
//! On each copy, `ps`, `inspect`, `output`, `verify`, `resume --exit-when-waiting` and `gc` must
//! never panic, never die by a signal, and end within a timeout; a command that fails must say so
//! with a non-zero exit code and a message naming the file or the damaged blob, ref or process and
//! the kind of damage; a command that refuses to open the file must leave it byte for byte as it
//! was; `verify` must report every damage that matters; and the process the damage did not touch
//! must still be readable and resumable, with the same output as on the undamaged store, after
//! `gc` too. A copy that opens and verifies clean must behave exactly as the undamaged store.
//!
//! The flipped bits are drawn from a seeded generator: the seed is printed, and
//! `CHENILLES_DAMAGE_SEED=N` replays it; `CHENILLES_DAMAGE_COPIES=N` sets the number of copies with
//! flipped bits (default 40); `CHENILLES_DAMAGE_VERBOSE=1` prints every command's result on every
//! copy.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chenilles_durable::blob::{Kind, decode};
use chenilles_store::{BlobStore, Hash, RedbStore};

const VM: &str = env!("CARGO_BIN_EXE_chenilles-vm");
/// The longest any one command may take on any copy.
const TIMEOUT: Duration = Duration::from_secs(20);

/// Finishes at once: prints, sends the waiter its first message, prints again.
const PRINTER: &str = r#"(import (scheme base) (scheme write))
(define (count-up n) (let loop ((i 0) (acc '())) (if (= i n) acc (loop (+ i 1) (cons i acc)))))
(display "printer: sum ") (display (apply + (count-up 3000))) (newline)
(send 'waiter 'hello)
(display "printer: done") (newline)
"#;

/// Receives the printer's message, then waits for a second one deep in a recursion, with a heap of
/// many pages (a long list, a large vector stored in chunks, a long string).
const WAITER: &str = r#"(import (scheme base) (scheme write))
(define data (let loop ((i 0) (acc '())) (if (= i 1500) acc (loop (+ i 1) (cons (* i i) acc)))))
(define big (make-vector 2000 7))
(define text (make-string 3000 #\w))
(define (deep n) (if (= n 0) (receive) (let ((m (deep (- n 1)))) m)))
(let ((first (receive)))
  (display (list 'waiter 'first first)) (newline)
  (let ((second (deep 400)))
    (display (list 'waiter 'second second (length data) (vector-ref big 1999) (string-length text)))
    (newline)))
"#;

const PROCESSES: [&str; 2] = ["printer", "waiter"];

/// Words that say what is wrong, one of which a failing command's message must hold.
const DAMAGE_WORDS: &[&str] = &[
    "damaged",
    "corrupt",
    "missing",
    "truncated",
    "not a chenilles store",
    "malformed",
    "does not hold",
    "refused",
    "dangling",
    "shorter",
    "empty",
];

/// How one command ended.
#[derive(Clone, Debug, PartialEq)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `chenilles-vm ARGS --store STORE` and waits for it, at most [`TIMEOUT`]. Returns an error
/// for a hang, a signal or a panic.
fn vm(store: &Path, args: &[&str]) -> Result<Run, String> {
    let mut child = Command::new(VM)
        .args(args)
        .arg("--store")
        .arg(store)
        .env_remove("CHENILLES_STORE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("chenilles-vm does not start: {e}"))?;
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("piped stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("piped stderr")));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("`{}` did not finish within {TIMEOUT:?}", args.join(" ")));
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let run = Run {
        code: status.code().unwrap_or(-1),
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    };
    let command = args.join(" ");
    if status.code().is_none() {
        return Err(format!("`{command}` was killed by a signal ({status}); stderr: {}", run.stderr));
    }
    // Exit 70 and "chenilles-vm: internal error" are the binary's own report of a panic it did not
    // expect; a refusal may quote what a dependency's panic said (redb's "internal error: entered
    // unreachable code"), which is the refusal working, not a panic escaping.
    if run.code == 101
        || run.code == 70
        || run.stderr.contains("panicked at")
        || run.stderr.contains("chenilles-vm: internal error")
    {
        return Err(format!("`{command}` panicked (exit {}): {}", run.code, run.stderr));
    }
    Ok(run)
}

/// A store made by the binary, in its own directory.
struct Pristine {
    _dir: tempfile::TempDir,
    bytes: Vec<u8>,
    refs: BTreeMap<String, Hash>,
    blobs: BTreeMap<Hash, Vec<u8>>,
    /// For each blob, what it is (the first path found to it from a ref) and which refs reach it.
    roles: BTreeMap<Hash, (String, BTreeSet<String>)>,
    /// What each command gives on a copy of the undamaged store, in the order [`check_copy`] runs
    /// them (with the copy's path replaced by `STORE`).
    transcript: Vec<(String, Run)>,
}

fn build_pristine() -> Pristine {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = dir.path().join("store.redb");
    for (name, text) in [("printer", PRINTER), ("waiter", WAITER)] {
        let program = dir.path().join(format!("{name}.scm"));
        std::fs::write(&program, text).expect("the program is written");
        let program = program.to_str().expect("a UTF-8 path");
        let run = vm(&store, &["start", "--name", name, "--exit-when-waiting", program]).unwrap();
        assert_eq!(run.code, 0, "start {name}: {}", run.stderr);
    }
    let bytes = std::fs::read(&store).expect("the store exists");
    let (refs, blobs) = contents(&store);
    let mut roles = roles(&refs, &blobs);
    assert!(roles.len() > 40, "a store of {} blobs is too small to test", roles.len());
    // What the waiter's first checkpoint wrote and its second replaced: garbage until a gc.
    for hash in blobs.keys() {
        roles.entry(*hash).or_insert_with(|| ("garbage".to_string(), BTreeSet::new()));
    }
    let mut pristine = Pristine { _dir: dir, bytes, refs, blobs, roles, transcript: Vec::new() };
    let control = Case {
        name: "control (undamaged)".into(),
        bytes: pristine.bytes.clone(),
        damage: Damage::None,
        hints: Vec::new(),
    };
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let mut report = Report::default();
    let transcript = check_copy(&pristine, &control, scratch.path(), &mut report);
    assert!(report.failures.is_empty(), "the undamaged store fails: {:#?}", report.failures);
    for (command, run) in &transcript {
        assert_eq!(run.code, 0, "{command} on the undamaged store: {}", run.stderr);
    }
    let verify = &transcript.iter().find(|(c, _)| c == "verify").expect("verify ran").1;
    assert!(verify.stdout.contains("the store is intact"), "{}", verify.stdout);
    pristine.transcript = transcript;
    pristine
}

/// The refs and blobs of a store file, read without writing to it.
fn contents(path: &Path) -> (BTreeMap<String, Hash>, BTreeMap<Hash, Vec<u8>>) {
    let store = RedbStore::open_read_only(path).expect("the store opens read-only");
    let refs = store.list_refs().expect("refs").into_iter().collect();
    let blobs = store
        .blob_hashes()
        .expect("blob names")
        .into_iter()
        .map(|h| (h, store.get(&h).expect("a sound blob").expect("a held blob")))
        .collect();
    (refs, blobs)
}

/// Names each blob by the way to it from a ref: `waiter snapshot heap leaf`, `printer output`, …
fn roles(refs: &BTreeMap<String, Hash>, blobs: &BTreeMap<Hash, Vec<u8>>) -> BTreeMap<Hash, (String, BTreeSet<String>)> {
    let mut roles: BTreeMap<Hash, (String, BTreeSet<String>)> = BTreeMap::new();
    let mut stack: Vec<(Hash, String, String)> = refs.iter().map(|(r, h)| (*h, r.clone(), r.clone())).collect();
    while let Some((hash, role, from)) = stack.pop() {
        let Some(bytes) = blobs.get(&hash) else { continue };
        let entry = roles.entry(hash).or_insert_with(|| (role.clone(), BTreeSet::new()));
        if !entry.1.insert(from.clone()) {
            continue;
        }
        let Ok(decoded) = decode(&hash, bytes) else { continue }; // a code image refers to nothing
        let owner = from.split('/').nth(1).unwrap_or_default();
        for (i, child) in decoded.children.iter().enumerate() {
            let child_kind = blobs.get(child).and_then(|b| decode(child, b).ok()).map(|d| d.kind);
            let child_role = match (decoded.kind, child_kind) {
                (Kind::Record, Some(Kind::Root)) => format!("{owner} snapshot root"),
                (Kind::Record, Some(Kind::Output)) => format!("{owner} output segment"),
                (Kind::Record, Some(Kind::Effects)) => format!("{owner} effect segment"),
                (Kind::Record, Some(Kind::Record)) => format!("{owner} previous record"),
                (Kind::Output, _) => format!("{owner} older output segment"),
                (Kind::Effects, _) => format!("{owner} older effect segment"),
                (Kind::Root, _) => {
                    // The six lists, then for each image: its code, constants and globals.
                    let lists = ["heap", "symbols", "globals", "global names", "stack", "frames"];
                    let image_parts = ["code image", "image constants", "image globals"];
                    match lists.get(i) {
                        Some(list) => format!("{owner} snapshot {list}"),
                        None => format!("{owner} {}", image_parts[(i - lists.len()) % 3]),
                    }
                }
                (Kind::Leaf, _) => format!("{owner} large object chunks"),
                _ => role.split(" (").next().unwrap_or_default().to_string(),
            };
            let child_role = match child_kind {
                Some(Kind::Node) if !child_role.ends_with("root") => format!("{child_role} (node)"),
                Some(Kind::Leaf) => format!("{child_role} (leaf)"),
                _ => child_role,
            };
            stack.push((*child, child_role, from.clone()));
        }
    }
    for (hash, (role, _)) in roles.iter_mut() {
        if refs.values().any(|h| h == hash) && !role.contains(' ') {
            let kind = blobs.get(hash).and_then(|b| decode(hash, b).ok()).map(|d| d.kind);
            *role = match kind {
                Some(Kind::Record) => format!("{role} record"),
                Some(Kind::Mailbox) => format!("{role} mailbox head"),
                Some(Kind::Message) => format!("{role} waiting message"),
                _ => role.clone(),
            };
        }
    }
    roles
}

/// What was done to a copy.
#[derive(Clone, Debug)]
enum Damage {
    None,
    /// Bits flipped anywhere; `in_live_blob` if one of them is inside the only copy of a blob's
    /// bytes in the file.
    Flipped {
        in_live_blob: bool,
    },
    Truncated,
    /// A blob removed from the blob table, or its bytes changed there; the refs that reach it
    /// (none: it was garbage).
    Blob {
        owners: BTreeSet<String>,
    },
    /// A ref moved to a blob the store does not hold.
    Dangling {
        name: String,
    },
}

struct Case {
    name: String,
    bytes: Vec<u8>,
    damage: Damage,
    /// Strings that name the damage: a blob's hash, a ref's name.
    hints: Vec<String>,
}

/// What the checks found, over all copies.
#[derive(Default)]
struct Report {
    failures: Vec<String>,
    /// Distinct failure messages seen (with hashes and paths blotted out), with a count.
    messages: BTreeMap<String, usize>,
    refused_at_open: usize,
    verified_clean: usize,
    verify_failed: usize,
    /// Copies with a flipped bit inside a live blob's bytes.
    in_live_blob: usize,
}

fn copies() -> usize {
    std::env::var("CHENILLES_DAMAGE_COPIES").ok().and_then(|s| s.parse().ok()).unwrap_or(40)
}

fn seed() -> u64 {
    common::seed("CHENILLES_DAMAGE_SEED", "damaged stores")
}

/// Where the bytes of each blob lie in the file, for blobs stored whole exactly once in it.
fn blob_spans(pristine: &Pristine) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    for bytes in pristine.blobs.values().filter(|b| b.len() >= 16) {
        let mut found = pristine.bytes.windows(bytes.len()).enumerate().filter(|(_, w)| w == bytes).map(|(i, _)| i);
        if let (Some(start), None) = (found.next(), found.next()) {
            spans.push((start, start + bytes.len()));
        }
    }
    spans
}

fn flipped_cases(pristine: &Pristine, rng: &mut fastrand::Rng) -> Vec<Case> {
    let spans = blob_spans(pristine);
    let len = pristine.bytes.len();
    (0..copies())
        .map(|i| {
            let mut bytes = pristine.bytes.clone();
            let offsets: Vec<usize> = (0..rng.usize(1..=4)).map(|_| rng.usize(0..len)).collect();
            for &at in &offsets {
                bytes[at] ^= 1 << rng.u8(0..8);
            }
            let in_live_blob = offsets.iter().any(|&at| spans.iter().any(|&(s, e)| (s..e).contains(&at)));
            Case {
                name: format!("copy {i}: bits flipped at {offsets:?}"),
                bytes,
                damage: Damage::Flipped { in_live_blob },
                hints: Vec::new(),
            }
        })
        .collect()
}

fn truncated_cases(pristine: &Pristine) -> Vec<Case> {
    let len = pristine.bytes.len();
    let mut lengths = vec![0, 1, 7, 100, 320, 512, 4095, 4096, 4097, 8192, len / 2, len / 2 + 123, len - 4096, len - 1];
    lengths.dedup();
    lengths
        .into_iter()
        .map(|cut| Case {
            name: format!("cut to {cut} of {len} bytes"),
            bytes: pristine.bytes[..cut].to_vec(),
            damage: Damage::Truncated,
            hints: Vec::new(),
        })
        .collect()
}

// The store's tables as spec/store.md describes them, to damage a file directly.
const BLOBS: redb::TableDefinition<&[u8], &[u8]> = redb::TableDefinition::new("blobs");
const REFS: redb::TableDefinition<&str, &[u8]> = redb::TableDefinition::new("refs");

/// A copy of the pristine store edited by `edit` in a redb write transaction.
fn edited_copy(pristine: &Pristine, edit: impl FnOnce(&redb::WriteTransaction)) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("edited.redb");
    std::fs::write(&path, &pristine.bytes).expect("the copy is written");
    {
        let db = redb::Builder::new()
            .set_concurrency_mode(redb::ConcurrencyMode::SingleWriter)
            .open(&path)
            .expect("redb opens the store");
        let txn = db.begin_write().expect("a write transaction");
        edit(&txn);
        txn.commit().expect("the edit commits");
    }
    std::fs::read(&path).expect("the copy is read back")
}

/// The first blob (by name) of each role.
fn one_blob_of_each_role(pristine: &Pristine) -> BTreeMap<&str, Hash> {
    let mut by_role: BTreeMap<&str, Hash> = BTreeMap::new();
    for (hash, (role, _)) in &pristine.roles {
        by_role.entry(role).or_insert(*hash);
    }
    by_role
}

/// One blob of each role (a heap page, a stack chunk, a code image, an output segment, a record, a
/// mailbox, …), removed from the blob table.
fn deleted_cases(pristine: &Pristine) -> Vec<Case> {
    one_blob_of_each_role(pristine)
        .into_iter()
        .map(|(role, hash)| {
            let bytes = edited_copy(pristine, |txn| {
                let mut blobs = txn.open_table(BLOBS).expect("the blobs table");
                assert!(blobs.remove(&hash.0[..]).expect("removal").is_some(), "{hash} is in the store");
            });
            Case {
                name: format!("deleted {role} {hash}"),
                bytes,
                damage: Damage::Blob { owners: pristine.roles[&hash].1.clone() },
                hints: vec![hash.to_string()],
            }
        })
        .collect()
}

/// One blob of each role with one byte of its value changed inside the blob table, as damage
/// that redb's page checksums cannot see would (a bad copy, a bad write reported as good).
fn corrupted_cases(pristine: &Pristine) -> Vec<Case> {
    one_blob_of_each_role(pristine)
        .into_iter()
        .map(|(role, hash)| {
            let mut value = pristine.blobs[&hash].clone();
            let middle = value.len() / 2;
            value[middle] ^= 0x20;
            let bytes = edited_copy(pristine, |txn| {
                let mut blobs = txn.open_table(BLOBS).expect("the blobs table");
                blobs.insert(&hash.0[..], value.as_slice()).expect("insert");
            });
            Case {
                name: format!("corrupted {role} {hash}"),
                bytes,
                damage: Damage::Blob { owners: pristine.roles[&hash].1.clone() },
                hints: vec![hash.to_string()],
            }
        })
        .collect()
}

/// Each ref of the store, and a mailbox ref of a process that has none, moved to a blob nobody
/// holds.
fn dangling_cases(pristine: &Pristine) -> Vec<Case> {
    let mut names: Vec<String> = pristine.refs.keys().cloned().collect();
    names.push("mailbox/printer".into());
    names
        .into_iter()
        .map(|name| {
            let nowhere = Hash::of(format!("no blob has this name: {name}").as_bytes());
            let bytes = edited_copy(pristine, |txn| {
                txn.open_table(REFS).expect("the refs table").insert(name.as_str(), &nowhere.0[..]).expect("insert");
            });
            Case {
                name: format!("ref {name} moved to the missing blob {nowhere}"),
                bytes,
                damage: Damage::Dangling { name: name.clone() },
                hints: vec![nowhere.to_string(), name],
            }
        })
        .collect()
}

/// The processes whose state a damage leaves whole: those whose refs do not reach the damage. A
/// process depends on its own mailbox too.
fn intact_processes(damage: &Damage) -> Vec<&'static str> {
    let touched = |process: &str| match damage {
        Damage::None => false,
        Damage::Flipped { .. } | Damage::Truncated => true,
        Damage::Blob { owners } => owners.iter().any(|r| r.split('/').nth(1) == Some(process)),
        Damage::Dangling { name } => name.split('/').nth(1) == Some(process),
    };
    PROCESSES.into_iter().filter(|p| !touched(p)).collect()
}

/// Replaces the copy's path, the names of blobs and how long ago a date was (`inspect` says "UTC,
/// 1s ago") by placeholders, to compare runs and to group messages.
fn normalize(text: &str, path: &Path) -> String {
    let text = text.replace(&path.display().to_string(), "STORE");
    let text: String = text
        .split_inclusive('\n')
        .map(|line| match line.split_once(" UTC, ") {
            Some((date, after)) => {
                let rest = after.find(',').map_or(if line.ends_with('\n') { "\n" } else { "" }, |at| &after[at..]);
                format!("{date} UTC, WHEN{rest}")
            }
            None => line.to_string(),
        })
        .collect();
    let mut out = String::with_capacity(text.len());
    let mut hex = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_hexdigit() && c.is_ascii_lowercase() || c.is_ascii_digit() {
            hex.push(c);
            continue;
        }
        if hex.len() == 64 {
            out.push_str("HASH");
        } else {
            out.push_str(&hex);
        }
        hex.clear();
        out.push(c);
    }
    out.pop();
    out
}

/// The commands run on one copy, and what they showed.
struct Session<'a> {
    path: PathBuf,
    case: &'a Case,
    transcript: Vec<(String, Run)>,
    /// The same runs, as they were.
    raw: Vec<(String, Run)>,
    failures: Vec<String>,
    messages: Vec<String>,
    refused: bool,
}

impl Session<'_> {
    /// Runs one command on the copy and checks that it either succeeds, or fails saying what is
    /// damaged (leaving the file as it was if it refused to open it).
    fn run(&mut self, args: &[&str]) -> Option<Run> {
        let before = std::fs::read(&self.path).unwrap_or_default();
        let command = args.join(" ");
        let run = match vm(&self.path, args) {
            Ok(run) => run,
            Err(problem) => {
                self.failures.push(problem);
                return None;
            }
        };
        if run.code != 0 {
            // verify reports on stdout, and so does gc; every other command on stderr.
            let reports_on_stdout = matches!(args[0], "verify" | "gc");
            let message = if reports_on_stdout { format!("{}{}", run.stdout, run.stderr) } else { run.stderr.clone() }
                .to_lowercase();
            let names_it = message.contains(&self.path.display().to_string().to_lowercase())
                || self.case.hints.iter().any(|h| message.contains(&h.to_lowercase()))
                || PROCESSES
                    .iter()
                    .any(|p| message.contains(&format!("\"{p}\"")) || message.contains(&format!("process {p}")))
                || normalize(&message, &self.path).contains("HASH");
            let says_what = DAMAGE_WORDS.iter().any(|w| message.contains(w));
            let says_it_failed = message.contains("error:") || (args[0] == "verify" && message.contains("damaged"));
            if !says_it_failed || !names_it || !says_what {
                self.failures.push(format!(
                    "`{command}` failed (exit {}) without naming the damage: stdout {:?}, stderr {:?}",
                    run.code, run.stdout, run.stderr
                ));
            }
            if message.contains("was refused")
                || message.contains("not a chenilles store")
                || message.contains("not a store")
            {
                self.refused = true;
                if std::fs::read(&self.path).unwrap_or_default() != before {
                    self.failures.push(format!("`{command}` refused the file but changed it"));
                }
            }
            // For the summary: the error line, or verify's findings, with names and numbers blotted.
            let said = if run.stderr.trim().is_empty() { &run.stdout } else { &run.stderr };
            let first_error = match said.lines().find(|l| l.contains("error")) {
                Some(line) => line.to_string(),
                None => said
                    .lines()
                    .filter(|l| !l.starts_with("checked ") && !l.starts_with("the store is"))
                    .collect::<Vec<_>>()
                    .join("; "),
            };
            let shape: String = normalize(&first_error, &self.path)
                .split(|c: char| c.is_ascii_digit())
                .filter(|part| !part.is_empty())
                .collect::<Vec<_>>()
                .join("N");
            self.messages.push(format!("{}: {shape}", args[0]));
        }
        let normalized = Run {
            code: run.code,
            stdout: normalize(&run.stdout, &self.path),
            stderr: normalize(&run.stderr, &self.path),
        };
        self.transcript.push((command.clone(), normalized));
        self.raw.push((command, run.clone()));
        Some(run)
    }
}

/// Runs every command on a copy of `case` in `scratch`, checks what can be checked of each, and
/// returns the runs (normalized).
fn check_copy(pristine: &Pristine, case: &Case, scratch: &Path, report: &mut Report) -> Vec<(String, Run)> {
    let path = scratch.join("copy.redb");
    let _ = std::fs::remove_file(scratch.join("copy.redb.holder"));
    std::fs::write(&path, &case.bytes).expect("the copy is written");
    let mut session = Session {
        path,
        case,
        transcript: Vec::new(),
        raw: Vec::new(),
        failures: Vec::new(),
        messages: Vec::new(),
        refused: false,
    };
    for args in [
        &["ps"][..],
        &["inspect", "printer"],
        &["inspect", "waiter"],
        &["output", "printer"],
        &["output", "waiter"],
        &["verify"],
        &["resume", "--exit-when-waiting"],
    ] {
        session.run(args);
    }
    let verify = session.raw.iter().find(|(c, _)| c == "verify").map(|(_, r)| r.clone());
    let verified_clean = verify.as_ref().is_some_and(|v| v.code == 0);
    session.run(&["gc"]);
    // A copy that verifies clean must be as good as the undamaged store.
    let intact = if verified_clean { PROCESSES.to_vec() } else { intact_processes(&case.damage) };
    // Whatever gc did, the blobs of the processes the damage left whole are all still there.
    // (Opened for writing, which checks the whole file, as the commands do: a read-only handle
    // trusts the file's structure, and redb may panic on a damaged one.)
    if let Some(Ok(store)) = (!intact.is_empty()).then(|| RedbStore::open(&session.path)) {
        for (hash, (role, owners)) in &pristine.roles {
            let needed = owners.iter().any(|r| intact.iter().any(|p| r.ends_with(&format!("/{p}"))));
            if needed && !store.has(hash).unwrap_or(false) {
                session.failures.push(format!("gc removed {role} {hash}, which an intact process needs"));
            }
        }
    }
    // The intact processes: the printer's output is readable, the waiter goes on as it would have.
    for process in &intact {
        if *process == "waiter" {
            session.run(&["send", "waiter", "42"]);
            // Its new output reaches stdout, as from the undamaged store.
            let resumed = session.run(&["resume", "--exit-when-waiting"]);
            let expected = pristine.transcript.iter().rev().find(|(c, _)| c == "resume --exit-when-waiting");
            if let (Some(resumed), Some((_, expected))) = (resumed, expected)
                && resumed.stdout != expected.stdout
            {
                session.failures.push(format!(
                    "the intact waiter, resumed with its message, printed {:?}, not {:?}: {}",
                    resumed.stdout, expected.stdout, resumed.stderr
                ));
            }
        }
        let output = session.run(&["output", process]);
        // The undamaged store's last output of the process, once the control case has run.
        let expected = pristine.transcript.iter().rev().find(|(c, _)| *c == format!("output {process}"));
        if let (Some(output), Some((_, expected))) = (output, expected)
            && output.stdout != expected.stdout
        {
            session.failures.push(format!(
                "the intact process {process} ends with the output {:?}, not {:?} as on the undamaged store",
                output.stdout, expected.stdout
            ));
        }
    }
    let Session { transcript, mut failures, messages, refused, .. } = session;
    if std::env::var_os("CHENILLES_DAMAGE_VERBOSE").is_some() {
        let runs: Vec<String> = transcript.iter().map(|(c, r)| format!("  `{c}` → {r:?}")).collect();
        eprintln!("{}:\n{}", case.name, runs.join("\n"));
    }
    let session_transcript = transcript.clone();
    match &case.damage {
        Damage::None => {}
        Damage::Flipped { in_live_blob } => {
            if *in_live_blob {
                report.in_live_blob += 1;
                if verified_clean {
                    failures.push("a byte of a live blob was changed and verify passed".into());
                }
            }
        }
        Damage::Truncated => {
            if verified_clean {
                failures.push(format!("verify passed a truncated file: {:?}", verify.as_ref().map(|v| &v.stdout)));
            }
        }
        // Garbage is needed by nothing: verify may pass.
        Damage::Blob { owners } if owners.is_empty() => {}
        Damage::Blob { .. } | Damage::Dangling { .. } => match &verify {
            Some(v) if v.code == 0 => failures.push(format!("verify passed: {}", v.stdout)),
            Some(v) => {
                let said = format!("{}{}", v.stdout, v.stderr);
                if !case.hints.iter().any(|h| said.contains(h.as_str())) {
                    failures.push(format!("verify does not name the damage ({:?}): {said}", case.hints));
                }
            }
            None => {}
        },
    }
    if verified_clean && !matches!(case.damage, Damage::None) {
        report.verified_clean += 1;
        // Only the counts of blobs (by verify and gc) may differ, when the damage removed garbage.
        let garbage_damaged = matches!(&case.damage, Damage::Blob { owners } if owners.is_empty());
        let comparable = |t: &[(String, Run)]| -> Vec<(String, Run)> {
            t.iter().filter(|(c, _)| !(garbage_damaged && (c == "gc" || c == "verify"))).cloned().collect()
        };
        let (transcript, expected) = (comparable(&transcript), comparable(&pristine.transcript));
        if transcript != expected {
            let differences: Vec<String> = transcript
                .iter()
                .zip(&expected)
                .filter(|(a, b)| a != b)
                .map(|((c, r), (_, e))| format!("`{c}`: {r:?}, undamaged: {e:?}"))
                .collect();
            failures.push(format!(
                "verified clean but behaves differently ({} commands, {} on the undamaged store): {differences:#?}",
                transcript.len(),
                expected.len()
            ));
        }
    } else if verify.is_some_and(|v| v.code != 0) {
        report.verify_failed += 1;
    }
    if refused {
        report.refused_at_open += 1;
    }
    for message in messages {
        *report.messages.entry(message).or_default() += 1;
    }
    report.failures.extend(failures.into_iter().map(|f| format!("{}: {f}", case.name)));
    session_transcript
}

/// Runs `cases` on as many threads as there are cores (each command is its own process).
fn check_all(pristine: &Pristine, cases: Vec<Case>) -> Report {
    let queue = Mutex::new(cases);
    let report = Mutex::new(Report::default());
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 4);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                let scratch = tempfile::tempdir().expect("a temporary directory");
                loop {
                    let Some(case) = queue.lock().expect("the queue").pop() else { break };
                    let mut mine = Report::default();
                    check_copy(pristine, &case, scratch.path(), &mut mine);
                    let mut report = report.lock().expect("the report");
                    report.failures.extend(mine.failures);
                    for (message, n) in mine.messages {
                        *report.messages.entry(message).or_default() += n;
                    }
                    report.refused_at_open += mine.refused_at_open;
                    report.verified_clean += mine.verified_clean;
                    report.verify_failed += mine.verify_failed;
                    report.in_live_blob += mine.in_live_blob;
                }
            });
        }
    });
    report.into_inner().expect("the report")
}

fn summarize(kind: &str, cases: usize, report: &Report) {
    let inside = match report.in_live_blob {
        0 => String::new(),
        n => format!(" ({n} with a bit flipped inside a live blob)"),
    };
    eprintln!(
        "{kind}: {cases} copies{inside}; {} refused at open, {} failed verify, {} verified clean",
        report.refused_at_open, report.verify_failed, report.verified_clean
    );
    for (message, n) in &report.messages {
        eprintln!("  {n:>4} × {message}");
    }
}

#[test]
fn damaged_stores_are_refused_or_reported_and_intact_processes_survive() {
    let started = Instant::now();
    let pristine = build_pristine();
    eprintln!(
        "the store: {} bytes, {} blobs, refs {:?}; {} commands on the undamaged store",
        pristine.bytes.len(),
        pristine.blobs.len(),
        pristine.refs.keys().collect::<Vec<_>>(),
        pristine.transcript.len()
    );
    let mut rng = fastrand::Rng::with_seed(seed());
    let groups = [
        ("flipped bits", flipped_cases(&pristine, &mut rng)),
        ("truncated files", truncated_cases(&pristine)),
        ("deleted blobs", deleted_cases(&pristine)),
        ("corrupted blobs", corrupted_cases(&pristine)),
        ("dangling refs", dangling_cases(&pristine)),
    ];
    let mut reports = Vec::new();
    for (kind, cases) in groups {
        let count = cases.len();
        let report = check_all(&pristine, cases);
        summarize(kind, count, &report);
        reports.push((kind, report));
    }
    eprintln!("all copies checked in {:.1?}", started.elapsed());
    let failures: Vec<String> = reports
        .iter()
        .flat_map(|(kind, report)| report.failures.iter().map(move |f| format!("[{kind}] {f}")))
        .collect();
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    let (_, truncated) = &reports[1];
    assert_eq!(truncated.refused_at_open, truncated_cases(&pristine).len(), "every truncated copy is refused");
}
