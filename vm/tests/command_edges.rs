//! The edges of the command line that scripts meet: a reader that goes away (`ps | head`), exit
//! codes out of the byte range, and process names that cannot name a process. Each test runs in a
//! temporary directory of its own.

use std::process::{Command, Output};

mod common;

use common::{run, text, vm, write_program as program};

/// Runs `command` with a stdout whose reader is already gone: its first write fails with EPIPE.
fn run_into_closed_pipe(command: &mut Command) -> Output {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    command.stdout(writer).output().expect("chenilles-vm runs")
}

/// Prints 200 KB (more than a pipe holds), then ends.
const LOUD: &str = "(import (scheme base) (scheme write))\n\
    (let loop ((i 0)) (when (< i 20000) (display \"0123456789\") (loop (+ i 1))))\n(newline)\n";

#[test]
fn listings_end_quietly_when_their_reader_goes_away() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("store.redb");
    let loud = program(dir.path(), "loud.scm", LOUD);
    assert!(run(vm(&store).args(["start", "--name", "loud"]).arg(&loud)).status.success());
    for command in [&["ps"][..], &["inspect", "loud"], &["output", "loud"], &["verify"], &["gc"]] {
        let out = run_into_closed_pipe(vm(&store).args(command));
        let stderr = text(&out.stderr);
        assert!(!stderr.contains("panicked"), "{command:?} panicked on a closed pipe: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{command:?} on a closed pipe: {stderr}");
    }
}

#[test]
fn a_running_process_whose_reader_went_away_keeps_journaling() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("store.redb");
    let loud = program(dir.path(), "loud.scm", LOUD);
    let out = run_into_closed_pipe(vm(&store).args(["start", "--name", "loud"]).arg(&loud));
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let journal = run(vm(&store).args(["output", "loud"]));
    assert_eq!(journal.stdout.len(), 200_001, "the whole output is journaled");
}

#[test]
fn an_exit_code_outside_a_byte_never_becomes_success() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("store.redb");
    for (code, status) in [("-1", 255), ("256", 255), ("-2", 254), ("3", 3)] {
        let exits = program(
            dir.path(),
            "exits.scm",
            &format!("(import (scheme base) (scheme process-context))\n(exit {code})\n"),
        );
        let out = run(vm(&store).arg("run").arg(&exits));
        assert_eq!(out.status.code(), Some(status), "run: (exit {code})");
        let name = format!("exits{status}{}", code.len());
        let out = run(vm(&store).args(["start", "--name", &name]).arg(&exits));
        assert_eq!(out.status.code(), Some(status), "start: (exit {code}): {}", text(&out.stderr));
        let ps = text(&run(vm(&store).arg("ps")).stdout);
        assert!(ps.contains(&format!("exited({code})")), "ps after (exit {code}): {ps}");
    }
}

#[test]
fn names_that_cannot_name_a_process_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("store.redb");
    let quiet = program(dir.path(), "quiet.scm", "(import (scheme base))\n(+ 1 2)\n");
    for (name, why) in [
        ("", "cannot be empty"),
        ("a/b", "`/`"),
        ("line\nforged", "control character"),
        ("\u{1b}[2J", "control character"),
    ] {
        let out = run(vm(&store).args(["start", "--name", name]).arg(&quiet));
        assert_eq!(out.status.code(), Some(1), "start --name {name:?}");
        assert!(text(&out.stderr).contains(why), "start --name {name:?}: {}", text(&out.stderr));
        let out = run(vm(&store).args(["send", name, "1"]));
        assert_eq!(out.status.code(), Some(1), "send {name:?}");
        assert!(text(&out.stderr).contains(why), "send {name:?}: {}", text(&out.stderr));
    }
    let ps = run(vm(&store).arg("ps"));
    assert_eq!(text(&ps.stdout).lines().count(), 1, "no process and no mailbox was made: {}", text(&ps.stdout));
    let sender = program(
        dir.path(),
        "sender.scm",
        "(import (scheme base) (scheme write))\n\
         (display (guard (e (#t (error-object-message e))) (send (string->symbol \"a/b\") 1) 'sent))\n",
    );
    let out = run(vm(&store).args(["start", "--name", "sender"]).arg(&sender));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("holds a `/`"), "a Scheme send to a bad name raises: {}", text(&out.stdout));
}

/// The crash tests' variable, misspelt, stops a command before it touches the store.
#[test]
fn an_unreadable_crash_point_is_refused_before_anything_is_done() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("store.redb");
    let quiet = program(dir.path(), "quiet.scm", "(display 1)");
    for value in ["twelve", "12:half", "-3", ""] {
        let out = run(vm(&store).env("CHENILLES_CRASH_AT_DISK_OP", value).args(["start", "--name", "q"]).arg(&quiet));
        assert_eq!(out.status.code(), Some(2), "{value:?}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains("CHENILLES_CRASH_AT_DISK_OP"), "{value:?}: {}", text(&out.stderr));
        assert!(!store.exists(), "{value:?}: a store was created");
    }
    let counted = run(vm(&store).env("CHENILLES_CRASH_AT_DISK_OP", "0").args(["start", "--name", "q"]).arg(&quiet));
    assert!(counted.status.success(), "{}", text(&counted.stderr));
    assert!(text(&counted.stderr).contains("disk operations on store files"), "{}", text(&counted.stderr));
}

#[test]
fn a_message_to_no_process_or_an_ended_one_is_refused_unless_sent_ahead() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("store.redb");
    let out = run(vm(&store).args(["send", "nosuch", "(x)"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no process is named nosuch"), "{}", text(&out.stderr));
    let ps = run(vm(&store).arg("ps"));
    assert!(!text(&ps.stdout).contains("nosuch"), "a refused message makes no mailbox: {}", text(&ps.stdout));
    // Sent ahead, the message waits for the process started later under that name.
    let out = run(vm(&store).args(["send", "--ahead", "greeter", "\"ahead\""]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let greeter = program(dir.path(), "greeter.scm", "(display (receive))");
    let out = run(vm(&store).args(["start", "--name", "greeter"]).arg(&greeter));
    assert_eq!((out.status.code(), text(&out.stdout)), (Some(0), "ahead".to_string()), "{}", text(&out.stderr));
    let out = run(vm(&store).args(["send", "greeter", "again"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("process greeter has ended (finished)"), "{}", text(&out.stderr));
}
