//! Replicas through the command line: a process killed again and again while it replicates, its
//! store then lost, restored from damaged replicas, resumed to exactly its uninterrupted output.

mod common;
#[path = "../../runtime-store/s3/tests/common/mod.rs"]
mod s3;

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use common::{ok, run, signal, text, vm, write_program};

/// A program that computes for a few seconds, changing its heap and printing as it goes.
const WORK: &str = r#"
(import (scheme base) (scheme write))
(define kept (make-vector 3000 ""))
(define (work n)
  (let loop ((k 0) (sum 0))
    (if (= k 150000) sum (loop (+ k 1) (modulo (+ sum (* k n)) 1000003)))))
(let loop ((round 0) (total 0))
  (when (< round 300)
    (let ((w (work round)))
      (vector-set! kept (modulo (* round 7) 3000) (string-append "entry-" (number->string round) "-" (number->string w)))
      (display (list 'round round w (+ total w)))
      (newline)
      (loop (+ round 1) (+ total w)))))
(display (list 'done (vector-ref kept 7)))
(newline)
"#;

fn uninterrupted(program: &Path) -> String {
    ok(std::process::Command::new(env!("CARGO_BIN_EXE_chenilles-vm")).arg("run").arg(program))
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(dir).map(|e| e.map(|e| e.unwrap().path()).collect()).unwrap_or_default();
    files.sort();
    files
}

/// Kills `child` with SIGKILL after `delay` (if it has not ended by then); whether it was.
fn kill_after(mut child: Child, delay: Duration) -> bool {
    let started = Instant::now();
    while started.elapsed() < delay {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    signal(&child, "KILL");
    let _ = child.wait();
    true
}

/// `chenilles-vm` on `store`, with the keys of the tests' S3 server.
fn vm_s3(store: &Path) -> std::process::Command {
    let mut command = vm(store);
    command.env("AWS_ACCESS_KEY_ID", s3::ACCESS_KEY_ID).env("AWS_SECRET_ACCESS_KEY", s3::SECRET_ACCESS_KEY);
    command
}

#[test]
fn a_process_killed_while_it_replicates_is_restored_from_damaged_replicas_and_finishes_exactly() {
    let seed = common::seed("CHENILLES_REPLICA_SEED", "replica kills");
    let mut rng = fastrand::Rng::with_seed(seed);
    let dir = tempfile::tempdir().unwrap();
    let program = write_program(dir.path(), "work.scm", WORK);
    let expected = uninterrupted(&program);
    let store = dir.path().join("store.redb");
    let mut server = s3::S3Server::start();
    let (a, c, s3_url) =
        (format!("dir:{}", dir.path().join("a").display()), dir.path().join("c.car"), server.url("kill-test"));
    let c = format!("car:{}", c.display());
    for (name, target) in [("a", &a), ("c", &c), ("s3", &s3_url)] {
        ok(vm_s3(&store).args(["replica", "add", name, target]));
    }

    // Killed at random instants: in computation, in a commit, in a replication pass. The S3
    // server is killed after the first run and started again after the third; the CAR archive
    // stops being a replica after the second (it will serve an old root).
    let mut kills = 0;
    for attempt in 0..5 {
        let mut command = vm_s3(&store);
        if attempt == 0 {
            command.args(["start", "--checkpoint-every", "20"]).arg(&program);
        } else {
            command.args(["resume", "--checkpoint-every", "20"]);
        }
        let child = command.spawn().unwrap();
        if kill_after(child, Duration::from_millis(rng.u64(150..400))) {
            kills += 1;
        }
        match attempt {
            0 => server.kill(),
            1 => {
                ok(vm_s3(&store).args(["replica", "remove", "c"]));
            }
            3 => server.restart(),
            _ => {}
        }
        if attempt == 2 {
            // (A run killed within a few hundred milliseconds may not have finished its try.)
            let out = run(vm_s3(&store).args(["replica", "sync", "s3"]));
            assert!(!out.status.success(), "a sync to a server that is down: {}", text(&out.stderr));
            let status = ok(vm_s3(&store).args(["replica", "status"]));
            assert!(status.contains("last error"), "the S3 replica is down, and status says so: {status}");
        }
        // After every kill, each replica that can be reached is restorable on its own.
        let probe = dir.path().join(format!("probe-{attempt}.redb"));
        for replica in [&a, &c, &s3_url] {
            let down = attempt <= 2 && *replica == s3_url;
            if down || !has_root(replica, &server) {
                continue;
            }
            let out = run(vm_s3(&probe).args(["restore", "--from", replica, "--to"]).arg(&probe));
            assert!(out.status.success(), "restore from {replica} after kill {kills}: {}", text(&out.stderr));
            std::fs::remove_file(&probe).unwrap();
        }
    }
    assert!(kills >= 3, "only {kills} kills landed");
    assert_ne!(common::status_of(&store, "work"), "finished", "the kills left nothing to resume (seed {seed})");
    // The S3 replica catches up: what it missed while it was down was kept in the log.
    ok(vm_s3(&store).args(["replica", "sync"]));
    let status = ok(vm_s3(&store).args(["replica", "status"]));
    let newest: u64 = status
        .lines()
        .find(|line| line.starts_with("s3  at "))
        .and_then(|line| line.split_whitespace().nth(2))
        .and_then(|at| at.split('/').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{status}"));
    assert!(status.lines().all(|line| !line.starts_with("  last error")), "{status}");

    // The machine is lost: only the replicas are left, each damaged its own way. a: bits flipped
    // in one pack, another pack deleted; s3: a forged root record claiming a newer root; c: stale.
    std::fs::remove_file(&store).unwrap();
    let a_dir = PathBuf::from(a.strip_prefix("dir:").unwrap());
    let mut packs = files(&a_dir.join("packs"));
    fastrand::Rng::with_seed(seed).shuffle(&mut packs);
    if let [flipped, deleted, ..] = &packs[..] {
        let mut bytes = std::fs::read(flipped).unwrap();
        let at = bytes.len() / 2;
        bytes[at] ^= 0x01;
        std::fs::write(flipped, bytes).unwrap();
        std::fs::remove_file(deleted).unwrap();
    }
    let target = server.target("kill-test");
    let records = chenilles_store::replica::ReplicaTarget::list(&target, "roots/").unwrap();
    let mut forged = chenilles_store::replica::ReplicaTarget::get(&target, records.last().unwrap()).unwrap().unwrap();
    forged[40] ^= 0x01;
    chenilles_store::replica::ReplicaTarget::put(&target, "roots/00000000000099999999-0000000000000000.root", &forged)
        .unwrap();

    let restored = dir.path().join("restored.redb");
    let out =
        run(vm_s3(&restored).args(["restore", "--from", &a, "--from", &c, "--from", &s3_url, "--to"]).arg(&restored));
    let report = text(&out.stderr);
    assert!(out.status.success(), "restore: {report}");
    assert!(report.contains(&format!("at sequence {newest} ")), "the newest root, {newest}: {report}");
    assert!(report.lines().any(|l| l.starts_with("CAR archive") && l.contains("stale")), "{report}");
    assert!(report.contains("99999999") && report.contains("forged"), "{report}");
    let status = common::status_of(&restored, "work");
    assert!(status != "finished" && status != "absent", "the restored process is {status}: nothing left to resume");
    let out = run(vm(&restored).args(["resume"]));
    assert!(out.status.success(), "resume of the restored store: {}", text(&out.stderr));
    assert_eq!(ok(vm(&restored).args(["output", "work"])), expected, "seed {seed}");
}

/// Whether the replica holds a root record yet (a kill may come before the first pass).
fn has_root(replica: &str, server: &s3::S3Server) -> bool {
    if replica.starts_with("s3://") {
        let prefix = replica.strip_prefix("s3://replicas/").and_then(|rest| rest.split('?').next()).unwrap_or_default();
        let target = server.target(prefix);
        return !chenilles_store::replica::ReplicaTarget::list(&target, "roots/").unwrap().is_empty();
    }
    if let Some(dir) = replica.strip_prefix("dir:") {
        return !files(&Path::new(dir).join("roots")).is_empty();
    }
    replica
        .strip_prefix("car:")
        .is_some_and(|file| std::fs::read(file).is_ok_and(|bytes| bytes.windows(4).any(|w| w == b"CHR1")))
}

#[test]
fn replicas_are_listed_with_their_lag_and_restore_refuses_what_it_cannot_do() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.redb");
    let backup = dir.path().join("backup");
    ok(vm(&store).args(["replica", "add", "usb"]).arg(&backup));
    let listed = ok(vm(&store).args(["replica", "list"]));
    assert!(listed.starts_with("store id "), "{listed}");
    assert!(listed.contains(&format!("usb  dir:{}", backup.display())), "{listed}");
    // A name taken, a bad name, a target nobody knows: refused, the list as it was.
    for (name, target, says) in [
        ("usb", "elsewhere", "already"),
        ("no/slash", "elsewhere", "cannot name a replica"),
        ("ftp", "ftp://example/x", "known targets"),
    ] {
        let out = run(vm(&store).args(["replica", "add", name, target]));
        assert!(!out.status.success() && text(&out.stderr).contains(says), "{name}: {}", text(&out.stderr));
    }
    assert_eq!(ok(vm(&store).args(["replica", "list"])), listed);
    // `send` commits without replicating: the lag shows, and `replica sync` ends it.
    let program = write_program(dir.path(), "wait.scm", "(import (scheme base) (chenilles processes)) (receive)");
    ok(vm(&store).args(["start", "--exit-when-waiting", "--name", "w"]).arg(&program));
    ok(vm(&store).args(["replica", "sync"]));
    ok(vm(&store).args(["send", "w", "hello"]));
    let status = ok(vm(&store).args(["replica", "status"]));
    assert!(status.contains("1 commit(s)"), "{status}");
    ok(vm(&store).args(["replica", "sync"]));
    let status = ok(vm(&store).args(["replica", "status"]));
    assert!(status.contains("up to date"), "{status}");
    // Restore onto a file that exists: refused, the file untouched.
    let taken = dir.path().join("taken.redb");
    std::fs::write(&taken, b"precious").unwrap();
    let out = run(vm(&taken).args(["restore", "--from"]).arg(&backup).arg("--to").arg(&taken));
    assert!(!out.status.success());
    assert_eq!(std::fs::read(&taken).unwrap(), b"precious");
    // From nothing usable: a clear error, nothing written.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let to = dir.path().join("new.redb");
    let out = run(vm(&to).args(["restore", "--from"]).arg(&empty).arg("--to").arg(&to));
    assert!(!out.status.success() && text(&out.stderr).contains("nothing usable"), "{}", text(&out.stderr));
    assert!(!to.exists());
}

#[test]
fn replicas_required_holds_output_back_until_a_replica_has_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.redb");
    let usb = dir.path().join("usb");
    ok(vm(&store).args(["replica", "add", "usb"]).arg(&usb));
    let program =
        write_program(dir.path(), "hello.scm", "(import (scheme base) (scheme write)) (display \"hello\") (newline)");
    // Without the replica's directory (a disk not mounted), the output waits…
    std::fs::remove_dir_all(&usb).unwrap();
    let mut child = vm(&store).args(["start", "--replicas-required", "1"]).arg(&program).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(child.try_wait().unwrap().is_none(), "the process ended without a replica holding its output");
    // … and comes once the disk is back.
    std::fs::create_dir(&usb).unwrap();
    let out = common::finish_within(child, Duration::from_secs(60), "start --replicas-required 1");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "hello\n");
    let status = ok(vm(&store).args(["replica", "status"]));
    assert!(status.contains("up to date"), "{status}");
    // Asking for more replicas than the store lists is refused at once.
    let out = run(vm(&store).args(["start", "--replicas-required", "2"]).arg(&program));
    assert!(!out.status.success() && text(&out.stderr).contains("lists 1 replica"), "{}", text(&out.stderr));
}

#[test]
fn an_encrypted_store_is_restored_with_its_password_and_its_replica_holds_no_plaintext() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.redb");
    common::init_encrypted(&store);
    let usb = dir.path().join("usb");
    ok(vm(&store).args(["replica", "add", "usb"]).arg(&usb));
    let program = write_program(
        dir.path(),
        "secret.scm",
        "(import (scheme base) (scheme write)) (display \"counterparty Mallory-Secretname pays 42\") (newline)",
    );
    ok(vm(&store).args(["start", "--name", "escrow-with-mallory"]).arg(&program));
    let expected = ok(vm(&store).args(["output", "escrow-with-mallory"]));
    let status = ok(vm(&store).args(["replica", "status"]));
    assert!(status.contains("up to date"), "the last commits went before the command ended: {status}");
    for file in files(&usb.join("packs")).iter().chain(&files(&usb.join("roots"))) {
        let bytes = std::fs::read(file).unwrap();
        for needle in [&b"Mallory"[..], b"escrow-with-mallory", b"counterparty"] {
            assert!(!bytes.windows(needle.len()).any(|w| w == needle), "{} holds plaintext", file.display());
        }
    }
    std::fs::remove_file(&store).unwrap();
    // Restored into a directory that does not exist yet, as on a new machine.
    let restored = dir.path().join("new-machine/.chenilles/store.redb");
    let out = run(vm(&restored)
        .env_remove("CHENILLES_PASSWORD")
        .args(["restore", "--from"])
        .arg(&usb)
        .arg("--to")
        .arg(&restored));
    assert!(!out.status.success() && !restored.exists(), "restored without the password: {}", text(&out.stderr));
    ok(vm(&restored).args(["restore", "--from"]).arg(&usb).arg("--to").arg(&restored));
    assert_eq!(ok(vm(&restored).args(["output", "escrow-with-mallory"])), expected);
    // The restored store goes on replicating to the same replica, under the same store id.
    assert!(ok(vm(&restored).args(["replica", "list"])).contains("usb  dir:"));
}

/// The sequence number `replica status` says replica `name` is at.
fn replica_at(store: &Path, name: &str) -> u64 {
    let status = ok(vm_s3(store).args(["replica", "status"]));
    status
        .lines()
        .find(|line| line.starts_with(&format!("{name}  at ")))
        .and_then(|line| line.split_whitespace().nth(2))
        .and_then(|at| at.split('/').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no sequence for {name} in: {status}"))
}

#[test]
fn a_frozen_s3_server_holds_back_no_other_replica_and_a_frozen_vm_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let program = write_program(dir.path(), "work.scm", WORK);
    let expected = uninterrupted(&program);
    let store = dir.path().join("store.redb");
    let server = s3::S3Server::start();
    let (a, s3_url) = (format!("dir:{}", dir.path().join("a").display()), server.url("frozen"));
    ok(vm_s3(&store).args(["replica", "add", "a", &a]));
    ok(vm_s3(&store).args(["replica", "add", "s3", &s3_url]));
    let mut child = vm_s3(&store).args(["start", "--checkpoint-every", "20"]).arg(&program).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    // The S3 server frozen (its requests hang): the directory replica goes on.
    server.signal("STOP");
    let before = replica_at(&store, "a");
    std::thread::sleep(Duration::from_millis(1500));
    let during = replica_at(&store, "a");
    assert!(during > before, "the directory replica stood still while the S3 server was frozen ({before} → {during})");
    assert!(child.try_wait().unwrap().is_none(), "the process ended early");
    // The VM frozen for a while, then thawed; then the S3 server thawed.
    signal(&child, "STOP");
    std::thread::sleep(Duration::from_millis(500));
    signal(&child, "CONT");
    server.signal("CONT");
    let out = common::finish_within(child, Duration::from_secs(120), "start");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), expected);
    ok(vm_s3(&store).args(["replica", "sync"]));
    // Each replica alone restores the finished process.
    for replica in [&a, &s3_url] {
        let to = dir.path().join(format!("from-{}.redb", if replica.starts_with("dir:") { "a" } else { "s3" }));
        ok(vm_s3(&to).args(["restore", "--from", replica, "--to"]).arg(&to));
        assert_eq!(ok(vm(&to).args(["output", "work"])), expected, "restored from {replica}");
    }
}
