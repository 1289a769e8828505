//! Helpers shared by the VM's integration tests: a `chenilles-vm` command on a store of the test's
//! own, its output, a program file, a process's status as `ps` lists it, signals, waiting for a
//! child within a limit or for a line on its stderr, and the seed of a randomized test.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// `chenilles-vm` on `store` (through `CHENILLES_STORE`), with no stdin and piped output. It
/// offers [`PASSWORD`] (through `CHENILLES_PASSWORD`), which opens the stores
/// [`init_encrypted`] makes and changes nothing for plain ones.
pub fn vm(store: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_chenilles-vm"));
    command
        .env("CHENILLES_STORE", store)
        .env("CHENILLES_PASSWORD", PASSWORD)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// The password of the encrypted stores of the tests.
pub const PASSWORD: &str = "correct horse battery staple";

/// The argon2id flags that make a password slot cost next to nothing (the tests open stores
/// thousands of times; the default costs are measured in the benchmarks, not here).
pub const QUICK_KDF: [&str; 6] = ["--kdf-memory", "64KiB", "--kdf-passes", "1", "--kdf-lanes", "1"];

/// Makes an encrypted store at `store` (its directory must exist), unlocked by [`PASSWORD`].
pub fn init_encrypted(store: &Path) {
    let out = run(vm(store).args(["store", "init", "--encrypt"]).args(QUICK_KDF));
    assert!(out.status.success(), "store init --encrypt: {}", text(&out.stderr));
}

pub fn run(command: &mut Command) -> Output {
    command.output().expect("chenilles-vm runs")
}

/// Runs `command`, which must succeed (else the test fails with the command and its stderr);
/// returns its stdout.
pub fn ok(command: &mut Command) -> String {
    let out = run(command);
    assert!(out.status.success(), "{command:?}: {}", text(&out.stderr));
    text(&out.stdout)
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Writes `source` to `dir/name`; returns the path.
pub fn write_program(dir: &Path, name: &str, source: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, source).expect("write program");
    path
}

/// Waits for `child` at most `limit`; kills it and fails if it takes longer.
pub fn finish_within(mut child: Child, limit: Duration, what: &str) -> Output {
    let started = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!("{what} did not finish within {limit:?}; stderr: {}", text(&out.stderr));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Reads `child`'s stderr until a line holds `needle` (with `None`, waits half a second instead,
/// time enough to open a store and restore a process), and keeps draining it in the background:
/// the thread returned gives all of it once the child has ended.
pub fn await_stderr(child: &mut Child, needle: Option<&str>, limit: Duration) -> std::thread::JoinHandle<String> {
    let stderr = child.stderr.take().expect("piped stderr");
    let (found_tx, found_rx) = std::sync::mpsc::channel();
    let wanted = needle.unwrap_or_default().to_string();
    let drain = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains(&wanted) {
                let _ = found_tx.send(());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    match needle {
        Some(needle) => found_rx
            .recv_timeout(limit)
            .unwrap_or_else(|_| panic!("no stderr line holding {needle:?} within {limit:?}")),
        None => std::thread::sleep(Duration::from_millis(500)),
    }
    drain
}

/// What `tests/durable/mail/accumulator.scm` computes for message `n`.
pub fn accumulator_work(n: u64) -> u64 {
    (0..20000u64).map(|i| (i * n) % 7).sum()
}

/// What `tests/durable/mail/accumulator.scm` prints when it is sent `numbers`, then `done`.
pub fn accumulator_output(numbers: &[u64]) -> String {
    let mut expected = String::new();
    let mut total = 0;
    for &n in numbers {
        total += n;
        expected.push_str(&format!("(got {n} work {} total {total})\n", accumulator_work(n)));
    }
    expected.push_str(&format!("(total {total})\n"));
    expected
}

/// The seed of a randomized test: the value of `variable` when it is set (to replay a run), else
/// a fresh one; printed either way, with how to replay it.
pub fn seed(variable: &str, what: &str) -> u64 {
    let seed = std::env::var(variable).ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| fastrand::u64(..));
    eprintln!("{what} seed: {seed} ({variable}={seed} replays it)");
    seed
}

/// Sends `signal` (a name `kill` knows: STOP, CONT, KILL, TERM, INT) to `child`.
pub fn signal(child: &Child, signal: &str) {
    let sent = Command::new("kill").arg(format!("-{signal}")).arg(child.id().to_string()).status();
    assert!(sent.is_ok_and(|s| s.success()), "kill -{signal} {}", child.id());
}

/// The status `ps` lists for process `name` in `store` (`waiting`, `finished`, …), or `absent`
/// when it lists none or there is no store yet; `ps` failing otherwise fails the test.
pub fn status_of(store: &Path, name: &str) -> String {
    let ps = run(vm(store).arg("ps"));
    if text(&ps.stderr).contains("there is no store") {
        return "absent".to_string();
    }
    assert!(ps.status.success(), "ps: {}", text(&ps.stderr));
    text(&ps.stdout)
        .lines()
        .find(|line| line.split_whitespace().next() == Some(name))
        .and_then(|line| line.split_whitespace().nth(1))
        .unwrap_or("absent")
        .to_string()
}

/// The Scheme programs under `dir`, at any depth, sorted; `lib/` folders hold libraries and
/// included files, not programs, and are skipped.
pub fn scheme_programs(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if !path.ends_with("lib") {
                    walk(&path, out);
                }
            } else if path.extension().is_some_and(|e| e == "scm") {
                out.push(path);
            }
        }
    }
    let mut programs = Vec::new();
    walk(dir, &mut programs);
    programs.sort();
    programs
}
