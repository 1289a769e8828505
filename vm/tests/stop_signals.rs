//! SIGTERM and SIGINT on `start` and `resume`: the first checkpoints and exits cleanly with
//! `128 + signal` and a message saying how to resume; a second exits at once; either way the
//! process resumes to exactly the output of an uninterrupted run.

use std::process::{Child, Command};
use std::time::{Duration, Instant};

mod common;

use common::{await_stderr, run, signal, status_of, text, vm};

/// Computes for a few seconds, then prints `done`.
const SPIN: &str = "(import (scheme base) (scheme write))\n\
    (define (spin n acc) (if (= n 0) acc (spin (- n 1) (+ acc 1))))\n\
    (let loop ((i 0)) (when (< i 400) (spin 200000 0) (loop (+ i 1))))\n\
    (display \"done\") (newline)\n";

/// Starts `command` and reads its stderr until a line holds `needle` (see [`await_stderr`]).
fn spawn_until(command: &mut Command, needle: Option<&str>) -> (Child, std::thread::JoinHandle<String>) {
    let mut child = command.spawn().expect("spawn");
    let stderr = await_stderr(&mut child, needle, Duration::from_secs(30));
    (child, stderr)
}

fn wait_within(mut child: Child, limit: Duration) -> std::process::ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        assert!(started.elapsed() < limit, "did not exit within {limit:?} of the signal");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn sigterm_checkpoints_and_says_how_to_resume() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("store.redb");
    let program = dir.path().join("spin.scm");
    std::fs::write(&program, SPIN).expect("program");
    for (command, name) in [("start", "TERM"), ("resume", "INT")] {
        let mut cmd = vm(&store);
        match command {
            "start" => cmd.args(["start", "--name", "spin"]).arg(&program),
            _ => cmd.arg("resume"),
        };
        let needle = if command == "start" { Some("started process spin") } else { None };
        let (child, stderr) = spawn_until(&mut cmd, needle);
        std::thread::sleep(Duration::from_millis(300));
        signal(&child, name);
        let status = wait_within(child, Duration::from_secs(10));
        let stderr = stderr.join().expect("stderr");
        let code = if name == "TERM" { 143 } else { 130 };
        assert_eq!(status.code(), Some(code), "{command} stopped by SIG{name}: {stderr}");
        assert!(stderr.contains(&format!("stopped by SIG{name}")), "{stderr}");
        assert!(stderr.contains("chenilles-vm resume spin"), "says how to go on: {stderr}");
        // Stopped at a checkpoint, with no host running it: `resume` goes on with it.
        assert_eq!(status_of(&store, "spin"), "interrupted");
    }
    let resumed = run(vm(&store).arg("resume"));
    assert!(resumed.status.success(), "{}", text(&resumed.stderr));
    assert_eq!(text(&run(vm(&store).args(["output", "spin"])).stdout), "done\n");
}

#[test]
fn a_signal_while_waiting_exits_cleanly_and_a_second_signal_at_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("store.redb");
    let program = dir.path().join("echo.scm");
    std::fs::write(&program, "(import (scheme base) (scheme write))\n(write (receive))\n").expect("program");
    let (child, stderr) =
        spawn_until(vm(&store).args(["start", "--name", "echo"]).arg(&program), Some("waits for a message"));
    signal(&child, "INT");
    let status = wait_within(child, Duration::from_secs(5));
    assert_eq!(status.code(), Some(130), "{}", stderr.join().expect("stderr"));
    // Two signals in a row, mid-computation: the second ends the command at once, and what was
    // committed is whole.
    let spin = dir.path().join("spin.scm");
    std::fs::write(&spin, SPIN).expect("program");
    let (child, _stderr) =
        spawn_until(vm(&store).args(["start", "--name", "spin"]).arg(&spin), Some("started process"));
    std::thread::sleep(Duration::from_millis(200));
    signal(&child, "TERM");
    signal(&child, "TERM");
    let status = wait_within(child, Duration::from_secs(10));
    assert_eq!(status.code(), Some(143));
    assert!(run(vm(&store).args(["send", "echo", "hello"])).status.success());
    let resumed = run(vm(&store).arg("resume"));
    assert!(resumed.status.success(), "{}", text(&resumed.stderr));
    assert_eq!(text(&run(vm(&store).args(["output", "echo"])).stdout), "hello");
    assert_eq!(text(&run(vm(&store).args(["output", "spin"])).stdout), "done\n");
}
