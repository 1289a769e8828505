//! How a process's life looks from outside and how it ends there: `ps` and `inspect` tell a
//! process whose host is gone (`interrupted`) from one a host runs, also as JSON; `cancel` ends an
//! unfinished process and `rm` takes an ended one out of the store. Both are killed at every disk
//! operation they make, and at random instants: each leaves the process as it was or as it is
//! after, never between, and the store intact.

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::Duration;

mod common;

use common::{await_stderr, finish_within, run, status_of, text, vm, write_program};

/// Prints, takes one message, performs an effect, then waits for a second message that never
/// comes in these tests.
const WAITER: &str = "(import (scheme base) (scheme write) (scheme time))
(display \"ready\") (newline)
(define first (receive))
(define when (current-second))
(display (list 'got first)) (newline)
(receive)
(display \"never\")";

/// Computes for a long while.
const SPIN: &str = "(define (spin n) (if (> n 0) (spin (- n 1)) 'done)) (spin 100000000000)";

/// A store holding process `w`, waiting for its second message with two more unread in its
/// mailbox, its host gone.
fn waiting_store(dir: &Path) -> PathBuf {
    let program = write_program(dir, "waiter.scm", WAITER);
    let store = dir.join("store.redb");
    let started = run(vm(&store).args(["start", "--exit-when-waiting", "--name", "w"]).arg(&program));
    assert!(started.status.success(), "start: {}", text(&started.stderr));
    assert!(run(vm(&store).args(["send", "w", "(a 1)"])).status.success());
    let resumed = run(vm(&store).args(["resume", "--exit-when-waiting", "w"]));
    assert!(resumed.status.success(), "resume: {}", text(&resumed.stderr));
    assert_eq!(status_of(&store, "w"), "waiting");
    // Two messages the process has not received: the resume that would take them never runs.
    for message in ["(b 2)", "(c 3)"] {
        assert!(run(vm(&store).args(["send", "w", message])).status.success());
    }
    store
}

/// `inspect --json` of process `name`, parsed.
fn inspect_json(store: &Path, name: &str) -> serde_json::Value {
    let out = run(vm(store).args(["inspect", "--json", name]));
    assert!(out.status.success(), "inspect --json: {}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("inspect --json prints JSON")
}

fn verify_intact(store: &Path, context: &str) {
    let out = run(vm(store).arg("verify"));
    assert!(out.status.success(), "{context}: verify: {}{}", text(&out.stdout), text(&out.stderr));
}

/// A copy of the store file in a directory of its own.
fn copy_of(store: &Path, into: &Path) -> PathBuf {
    let copy = into.join("store.redb");
    std::fs::copy(store, &copy).expect("copy the store");
    copy
}

/// How many disk operations a command makes on its store when nothing crashes.
fn disk_operations(store: &Path, args: &[&str]) -> u64 {
    let out = run(vm(store).args(args).env("CHENILLES_CRASH_AT_DISK_OP", "0"));
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    let stderr = text(&out.stderr);
    stderr
        .lines()
        .find_map(|line| line.strip_prefix("chenilles-vm: ")?.strip_suffix(" disk operations on store files"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count of disk operations in: {stderr}"))
}

#[test]
fn a_process_whose_host_is_gone_is_interrupted_and_scripts_read_it_as_json() {
    let dir = tempfile::tempdir().expect("temp dir");
    let program = write_program(dir.path(), "spin.scm", SPIN);
    let store = dir.path().join("store.redb");
    let mut first =
        vm(&store).args(["start", "--name", "first", "--checkpoint-every", "5"]).arg(&program).spawn().expect("start");
    let _ = await_stderr(&mut first, Some("started process first"), Duration::from_secs(30));
    assert_eq!(status_of(&store, "first"), "running", "a live host runs it");
    first.kill().expect("kill");
    let _ = first.wait();
    assert_eq!(status_of(&store, "first"), "interrupted", "its host was killed");

    // Another host, running another process, does not make the first one run.
    let mut second =
        vm(&store).args(["start", "--name", "second", "--checkpoint-every", "5"]).arg(&program).spawn().expect("start");
    let _ = await_stderr(&mut second, Some("started process second"), Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(status_of(&store, "second"), "running");
    assert_eq!(status_of(&store, "first"), "interrupted", "a host that runs only `second` does not run it");
    let ps = run(vm(&store).args(["ps", "--json"]));
    assert!(ps.status.success(), "ps --json: {}", text(&ps.stderr));
    let listed: serde_json::Value = serde_json::from_slice(&ps.stdout).expect("ps --json prints JSON");
    let statuses: Vec<(String, String)> = listed
        .as_array()
        .expect("an array")
        .iter()
        .map(|p| (p["name"].as_str().unwrap_or("?").to_string(), p["status"].as_str().unwrap_or("?").to_string()))
        .collect();
    assert_eq!(statuses, [("first".into(), "interrupted".into()), ("second".into(), "running".into())]);
    assert!(listed[0]["checkpoints"].as_u64().is_some_and(|n| n >= 1), "{listed}");
    assert_eq!(listed[0]["program"].as_str(), Some(program.to_str().expect("utf-8 path")));
    second.kill().expect("kill");
    let _ = second.wait();

    // Resumed, both run again, in one host.
    let mut both = vm(&store).args(["resume", "--checkpoint-every", "5"]).spawn().expect("resume");
    let _ = await_stderr(&mut both, None, Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(status_of(&store, "first"), "running");
    assert_eq!(status_of(&store, "second"), "running");
    both.kill().expect("kill");
    let _ = both.wait();
    let json = inspect_json(&store, "first");
    assert_eq!(json["status"], "interrupted");
    assert!(json["snapshot"].as_str().is_some_and(|s| s.len() == 64), "{json}");
}

#[test]
fn cancel_ends_a_process_and_keeps_its_journals_and_unread_mail() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = waiting_store(dir.path());
    let before = inspect_json(&store, "w");
    let out = run(vm(&store).args(["cancel", "--reason", "the buyer walked away", "w"]));
    assert!(out.status.success(), "cancel: {}", text(&out.stderr));
    assert!(text(&out.stderr).contains("2 unread message(s)"), "{}", text(&out.stderr));
    let after = inspect_json(&store, "w");
    assert_eq!(after["status"], "cancelled");
    assert_eq!(after["cancel_reason"], "the buyer walked away");
    for kept in ["effect_count", "messages_received", "output_bytes", "steps", "newest_effects"] {
        assert_eq!(after[kept], before[kept], "{kept} is kept");
    }
    assert_eq!(after["messages_waiting"], 2, "the unread messages stay, counted");
    assert!(after.get("snapshot").is_none(), "no state is kept for an ended process: {after}");
    assert_eq!(text(&run(vm(&store).args(["output", "w"])).stdout), "ready\n(got (a 1))\n");

    // Ended: nothing resumes it, sends to it, or cancels it again.
    let resumed = run(vm(&store).args(["resume", "w"]));
    assert!(text(&resumed.stderr).contains("has ended (cancelled)"), "{}", text(&resumed.stderr));
    let sent = run(vm(&store).args(["send", "w", "late"]));
    assert!(!sent.status.success() && text(&sent.stderr).contains("has ended (cancelled)"), "{}", text(&sent.stderr));
    let again = run(vm(&store).args(["cancel", "w"]));
    assert!(!again.status.success() && text(&again.stderr).contains("has ended"), "{}", text(&again.stderr));
    let missing = run(vm(&store).args(["cancel", "nobody"]));
    assert!(!missing.status.success() && text(&missing.stderr).contains("no process named"));
    verify_intact(&store, "after cancel");
}

#[test]
fn a_host_waiting_for_a_cancelled_process_stops_waiting() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("store.redb");
    let program = write_program(dir.path(), "idle.scm", "(receive)");
    let mut host = vm(&store).args(["start", "--name", "idle"]).arg(&program).spawn().expect("start");
    let _ = await_stderr(&mut host, Some("waits for a message"), Duration::from_secs(30));
    let out = run(vm(&store).args(["cancel", "--wait", "idle"]));
    assert!(out.status.success(), "cancel: {}", text(&out.stderr));
    let ended = finish_within(host, Duration::from_secs(30), "the host of a cancelled process");
    assert_eq!(ended.status.code(), Some(1), "a cancelled process did not complete");
    assert_eq!(status_of(&store, "idle"), "cancelled");
}

#[test]
fn rm_takes_an_ended_process_out_and_frees_what_only_it_used() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = waiting_store(dir.path());
    let refused = run(vm(&store).args(["rm", "w"]));
    assert!(!refused.status.success() && text(&refused.stderr).contains("cancel it first"));
    assert_eq!(status_of(&store, "w"), "waiting", "a refused rm changes nothing");
    assert!(run(vm(&store).args(["cancel", "w"])).status.success());
    let removed = run(vm(&store).args(["rm", "w"]));
    assert!(removed.status.success(), "rm: {}", text(&removed.stderr));
    assert!(text(&removed.stderr).contains("2 unread message(s)"), "{}", text(&removed.stderr));
    assert_eq!(status_of(&store, "w"), "absent");
    verify_intact(&store, "after rm");
    let gc = run(vm(&store).arg("gc"));
    assert!(text(&gc.stdout).starts_with("removed 0 blobs"), "rm already freed it all: {}", text(&gc.stdout));
    // Nothing is left of it: a new process of the same name starts with an empty mailbox.
    let program = write_program(dir.path(), "count.scm", "(import (scheme base) (scheme write)) (display 'fresh)");
    let again = run(vm(&store).args(["start", "--name", "w"]).arg(&program));
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert_eq!(inspect_json(&store, "w")["messages_waiting"], 0);
}

/// What a process looks like to `ps` and `inspect` after a command on it was killed: its status,
/// unread mail and journals, the invariant parts of its record.
fn observed(store: &Path, name: &str) -> String {
    let status = status_of(store, name);
    if status == "absent" {
        return status;
    }
    let json = inspect_json(store, name);
    format!(
        "{status}: waiting {} received {} effects {} output {}",
        json["messages_waiting"], json["messages_received"], json["effect_count"], json["output_bytes"]
    )
}

#[test]
fn cancel_and_rm_killed_at_any_disk_operation_are_all_or_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let original = waiting_store(dir.path());
    let waiting = observed(&original, "w");
    let cancelled = waiting.replacen("waiting", "cancelled", 1);
    let cancel_ops = disk_operations(&copy_of(&original, tempfile::tempdir().expect("dir").path()), &["cancel", "w"]);

    let cancelled_store = dir.path().join("cancelled");
    std::fs::create_dir(&cancelled_store).expect("dir");
    let cancelled_store = copy_of(&original, &cancelled_store);
    assert!(run(vm(&cancelled_store).args(["cancel", "w"])).status.success());
    let rm_ops = disk_operations(&copy_of(&cancelled_store, tempfile::tempdir().expect("dir").path()), &["rm", "w"]);
    assert!(cancel_ops > 0 && rm_ops > 0, "{cancel_ops} {rm_ops}");

    let mut outcomes = std::collections::BTreeMap::<String, usize>::new();
    for (command, from, ops, before, after) in [
        ("cancel", &original, cancel_ops, &waiting, &cancelled),
        ("rm", &cancelled_store, rm_ops, &cancelled, &"absent".to_string()),
    ] {
        for op in 1..=ops {
            for how in ["", ":torn"] {
                let scratch = tempfile::tempdir().expect("dir");
                let store = copy_of(from, scratch.path());
                let crash_at = format!("{op}{how}");
                let out = run(vm(&store).args([command, "w"]).env("CHENILLES_CRASH_AT_DISK_OP", &crash_at));
                let context = format!("{command} killed at disk operation {crash_at}");
                assert!(out.status.code().is_none() || out.status.success(), "{context}: {}", text(&out.stderr));
                let seen = observed(&store, "w");
                assert!(
                    seen == *before || seen == *after,
                    "{context}: the process is {seen:?}, neither {before:?} nor {after:?}"
                );
                verify_intact(&store, &context);
                // Whichever it was, the command run again brings it to the end state.
                if seen == *before {
                    let again = run(vm(&store).args([command, "w"]));
                    assert!(again.status.success(), "{context}, then again: {}", text(&again.stderr));
                }
                assert_eq!(observed(&store, "w"), *after, "{context}, then again");
                *outcomes
                    .entry(format!("{command} {}", if seen == *before { "undone" } else { "done" }))
                    .or_default() += 1;
            }
        }
    }
    eprintln!("{outcomes:?}");
    for outcome in ["cancel undone", "cancel done", "rm undone", "rm done"] {
        assert!(outcomes.contains_key(outcome), "no kill left `{outcome}`: {outcomes:?}");
    }
}

#[test]
fn cancel_killed_at_random_instants_is_all_or_nothing() {
    let seed = common::seed("CHENILLES_LIFECYCLE_SEED", "cancel kills");
    let mut rng = fastrand::Rng::with_seed(seed);
    let dir = tempfile::tempdir().expect("temp dir");
    let original = waiting_store(dir.path());
    let waiting = observed(&original, "w");
    let cancelled = waiting.replacen("waiting", "cancelled", 1);
    for round in 0..12 {
        let scratch = tempfile::tempdir().expect("dir");
        let store = copy_of(&original, scratch.path());
        let child: Child = vm(&store).args(["cancel", "w"]).spawn().expect("cancel");
        std::thread::sleep(Duration::from_micros(rng.u64(0..20_000)));
        common::signal(&child, "KILL");
        let _ = finish_within(child, Duration::from_secs(30), "cancel");
        let seen = observed(&store, "w");
        assert!(seen == waiting || seen == cancelled, "round {round} (seed {seed}): {seen:?}");
        verify_intact(&store, &format!("round {round} (seed {seed})"));
    }
}

#[test]
fn json_for_scripts() {
    // A reproducible run records no times: the JSON is the same on every machine.
    let dir = tempfile::tempdir().expect("temp dir");
    write_program(dir.path(), "waiter.scm", WAITER);
    let store = dir.path().join("store.redb");
    let in_dir = |args: &[&str]| {
        let out = run(vm(&store).args(args).current_dir(dir.path()));
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        text(&out.stdout)
    };
    in_dir(&[
        "start",
        "--reproducible",
        "--checkpoint-every-steps",
        "100000",
        "--exit-when-waiting",
        "--name",
        "w",
        "waiter.scm",
    ]);
    in_dir(&["send", "w", "(a 1)"]);
    in_dir(&["resume", "--reproducible", "--checkpoint-every-steps", "100000", "--exit-when-waiting", "w"]);
    in_dir(&["send", "w", "(b \"two\")"]);
    insta::assert_snapshot!("ps_json", in_dir(&["ps", "--json"]));
    let inspected = in_dir(&["inspect", "--json", "w"]);
    let json: serde_json::Value = serde_json::from_str(&inspected).expect("JSON");
    assert!(json["snapshot"].as_str().is_some_and(|s| s.len() == 64), "{json}");
    // The clock's reading and the snapshot's hash differ from run to run.
    let redacted: String = inspected
        .lines()
        .map(|line| match line.trim_start() {
            l if l.starts_with("\"(current-second) =>") => "    \"(current-second) => …\",".to_string(),
            l if l.starts_with("\"snapshot\":") => "  \"snapshot\": \"…\"".to_string(),
            _ => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    insta::assert_snapshot!("inspect_json", redacted);
}

#[test]
fn output_follow_prints_what_comes_until_the_process_ends() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().expect("temp dir");
    let program = write_program(
        dir.path(),
        "echo.scm",
        "(import (scheme base) (scheme write))
         (let loop () (let ((m (receive))) (write m) (newline) (unless (eq? m 'bye) (loop))))",
    );
    let store = dir.path().join("store.redb");
    let mut host = vm(&store).args(["start", "--name", "echo"]).arg(&program).spawn().expect("start");
    let _ = await_stderr(&mut host, Some("waits for a message"), Duration::from_secs(30));
    let mut follow = vm(&store).args(["output", "--follow", "echo"]).spawn().expect("output --follow");
    let mut lines = BufReader::new(follow.stdout.take().expect("stdout")).lines();
    for message in ["one", "(two 2)", "\"three\""] {
        assert!(run(vm(&store).args(["send", "echo", message])).status.success());
        let line = lines.next().expect("a line comes").expect("read");
        assert_eq!(line, message, "followed as it came");
    }
    assert!(run(vm(&store).args(["send", "echo", "bye"])).status.success());
    assert_eq!(lines.next().expect("a line").expect("read"), "bye");
    assert!(lines.next().is_none(), "the output ends with the process");
    let followed = finish_within(follow, Duration::from_secs(30), "output --follow");
    assert!(followed.status.success(), "{}", text(&followed.stderr));
    assert!(finish_within(host, Duration::from_secs(30), "the host").status.success());
}

#[test]
fn processes_resumed_together_on_a_terminal_say_whose_each_line_is() {
    let dir = tempfile::tempdir().expect("temp dir");
    let program = write_program(
        dir.path(),
        "twice.scm",
        "(import (scheme base) (scheme write)) (receive) (display \"first\") (newline) (display \"second\") (newline)",
    );
    let store = dir.path().join("store.redb");
    for name in ["alice", "bob"] {
        let started = run(vm(&store).args(["start", "--exit-when-waiting", "--name", name]).arg(&program));
        assert!(started.status.success(), "{}", text(&started.stderr));
        assert!(run(vm(&store).args(["send", name, "go"])).status.success());
    }
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_chenilles-vm"));
    command.env("CHENILLES_STORE", &store).arg("resume");
    let mut session = rexpect::session::spawn_command(command, Some(20_000)).expect("resume in a pseudo-terminal");
    let all = session.exp_eof().expect("resume ends");
    for line in ["alice | first", "alice | second", "bob | first", "bob | second"] {
        assert!(all.contains(line), "{line:?} in {all:?}");
    }
    // Not on a terminal: the output as the processes wrote it.
    for name in ["carol", "dave"] {
        assert!(run(vm(&store).args(["start", "--exit-when-waiting", "--name", name]).arg(&program)).status.success());
        assert!(run(vm(&store).args(["send", name, "go"])).status.success());
    }
    let piped = run(vm(&store).arg("resume"));
    assert_eq!(text(&piped.stdout), "first\nsecond\nfirst\nsecond\n");
}

#[test]
fn a_durable_process_refused_a_capability_says_how_to_grant_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let program = write_program(
        dir.path(),
        "reader.scm",
        "(import (scheme base) (scheme file)) (open-input-file \"reader.scm\")",
    );
    let store = dir.path().join("store.redb");
    let out = run(vm(&store).arg("start").arg(&program));
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("capability files was not granted"), "{stderr}");
    assert!(stderr.contains("start it again with --grant files"), "{stderr}");
    assert_eq!(status_of(&store, "reader"), "failed");
}
