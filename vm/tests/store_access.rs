//! How commands reach a store, tried as a hostile tester would: several commands creating the
//! same new store at once, a store moved or replaced under a process that holds it or waits in
//! it, and the files beside the store (the holder file) planted with links and FIFOs. Each test
//! is named for the guarantee it defends; each runs in a temporary directory of its own.

use std::path::Path;
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

mod common;

use common::{await_stderr, finish_within, run, text, vm, write_program};

/// Waits for one message, prints it, ends.
const ECHO_ONE: &str = "(import (scheme base) (scheme write))\n(write (receive))\n(newline)\n";

#[test]
fn concurrent_creation_loses_nothing() {
    // Each round: a store that does not exist yet, and at once two `start`s and two `send`s
    // that all create it. Every command must succeed, and afterwards both processes must exist
    // and each must receive its message: nothing acknowledged lost in a store nobody opens.
    for round in 0..12 {
        let dir = tempfile::tempdir().expect("temp dir");
        let program = write_program(dir.path(), "echo.scm", ECHO_ONE);
        let store = dir.path().join("new").join("store.redb");
        let mut children = Vec::new();
        for name in ["alice", "bob"] {
            children.push((
                format!("start {name}"),
                vm(&store).args(["start", "--wait", "--exit-when-waiting", "--name", name]).arg(&program).spawn(),
            ));
            children.push((
                format!("send {name}"),
                vm(&store).args(["send", "--ahead", name, &format!("(hello {name})")]).spawn(),
            ));
        }
        for (what, child) in children {
            let out = finish_within(child.expect("spawn"), Duration::from_secs(60), &what);
            assert!(out.status.success(), "round {round}: {what} failed: {}", text(&out.stderr));
        }
        let resumed = run(vm(&store).arg("resume"));
        assert!(resumed.status.success(), "round {round}: resume: {}", text(&resumed.stderr));
        for name in ["alice", "bob"] {
            let out = run(vm(&store).args(["output", name]));
            assert!(out.status.success(), "round {round}: output {name}: {}", text(&out.stderr));
            assert_eq!(text(&out.stdout), format!("(hello {name})\n"), "round {round}: what {name} received");
        }
        let leftovers: Vec<String> = std::fs::read_dir(store.parent().expect("dir"))
            .expect("list")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("creating"))
            .collect();
        assert!(leftovers.is_empty(), "round {round}: temporary files left beside the store: {leftovers:?}");
    }
}

#[cfg(unix)]
#[test]
fn holder_symlink_is_not_followed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let program = write_program(dir.path(), "echo.scm", ECHO_ONE);
    let store = dir.path().join("store.redb");
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "precious\n").expect("write victim");
    let holder = dir.path().join("store.redb.holder");
    std::os::unix::fs::symlink(&victim, &holder).expect("plant a link");
    let out = run(vm(&store).args(["start", "--exit-when-waiting", "--name", "p"]).arg(&program));
    assert!(out.status.success(), "start: {}", text(&out.stderr));
    for command in [&["ps"][..], &["inspect", "p"], &["send", "p", "1"], &["verify"], &["gc"]] {
        std::fs::remove_file(&holder).expect("remove holder");
        std::os::unix::fs::symlink(&victim, &holder).expect("plant a link");
        let out = run(vm(&store).args(command));
        assert!(out.status.success(), "{command:?}: {}", text(&out.stderr));
        assert_eq!(
            std::fs::read_to_string(&victim).expect("victim"),
            "precious\n",
            "{command:?} wrote through the link"
        );
        let metadata = std::fs::symlink_metadata(&holder).expect("holder");
        // Commands that write the store name themselves in a holder file of their own; those that
        // only read it (ps, inspect) write nothing at all.
        let writes = !matches!(command[0], "ps" | "inspect");
        assert_eq!(metadata.file_type().is_file(), writes, "{command:?}: the holder file");
    }
}

/// Starts a process that computes for a long while (holding the store), and waits until its
/// first checkpoint is on disk.
fn start_a_long_computation(dir: &Path, store: &Path) -> (Child, std::thread::JoinHandle<String>) {
    let program = write_program(
        dir,
        "spin.scm",
        "(import (scheme base) (scheme write))\n\
         (define (spin n acc) (if (= n 0) acc (spin (- n 1) (+ acc 1))))\n\
         (let loop ((i 0)) (when (< i 400) (spin 200000 0) (loop (+ i 1))))\n\
         (display \"done\") (newline)\n",
    );
    let mut child = vm(store).args(["start", "--name", "spin"]).arg(&program).spawn().expect("start");
    let stderr = await_stderr(&mut child, Some("started process spin"), Duration::from_secs(30));
    (child, stderr)
}

#[cfg(unix)]
#[test]
fn a_locked_store_names_a_live_holder_and_never_blocks_on_the_holder_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("store.redb");
    let (mut holder_process, _) = start_a_long_computation(dir.path(), &store);
    let holder = dir.path().join("store.redb.holder");
    // A stale holder file naming a process that is gone: the loser must not name it.
    std::fs::write(&holder, "pid 4000000000 (a process long gone)\n").expect("stale holder");
    let out = run(vm(&store).args(["gc"]));
    assert_eq!(out.status.code(), Some(1), "gc on a held store: {}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("is in use by"), "{stderr}");
    assert!(!stderr.contains("4000000000"), "a dead holder was named: {stderr}");
    // A FIFO planted as the holder file: reading it must not block the command.
    std::fs::remove_file(&holder).expect("remove holder");
    let fifo = Command::new("mkfifo").arg(&holder).status().expect("mkfifo");
    assert!(fifo.success());
    let child = vm(&store).args(["gc"]).spawn().expect("gc");
    let out = finish_within(child, Duration::from_secs(20), "gc beside a FIFO holder");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("in use by another process"), "{}", text(&out.stderr));
    let _ = holder_process.kill();
    let _ = holder_process.wait();
}

#[test]
fn a_store_moved_while_a_process_waits_is_not_replaced_by_a_new_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let program = write_program(dir.path(), "echo.scm", ECHO_ONE);
    let store = dir.path().join("store.redb");
    let mut waiting = vm(&store).args(["start", "--name", "p"]).arg(&program).spawn().expect("start");
    let stderr = await_stderr(&mut waiting, Some("waits for a message"), Duration::from_secs(30));
    let moved = dir.path().join("moved.redb");
    std::fs::rename(&store, &moved).expect("move the store");
    let out = finish_within(waiting, Duration::from_secs(20), "the waiting start");
    let stderr = stderr.join().expect("stderr");
    assert_eq!(out.status.code(), Some(1), "the waiting start must fail when its store is gone: {stderr}");
    assert!(stderr.contains("was moved or deleted while process(es) p waited in it"), "{stderr}");
    assert!(!store.exists(), "a new store was created in place of the moved one");
    // The process waits in the moved store, whole.
    let sent = run(vm(&moved).args(["send", "p", "found"]));
    assert!(sent.status.success(), "{}", text(&sent.stderr));
    let resumed = run(vm(&moved).arg("resume"));
    assert!(resumed.status.success(), "{}", text(&resumed.stderr));
    assert_eq!(text(&run(vm(&moved).args(["output", "p"])).stdout), "found\n");
}

#[test]
fn a_store_replaced_under_a_running_process_is_not_written_as_a_ghost() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("store.redb");
    let (child, stderr) = start_a_long_computation(dir.path(), &store);
    // Replace the store by another file while the process computes: its next checkpoint must
    // fail loudly, not go to the unlinked file, and the file now at the path must be left alone.
    let moved = dir.path().join("moved.redb");
    std::fs::rename(&store, &moved).expect("move the store");
    std::fs::write(&store, b"someone else's file").expect("replace");
    let out = finish_within(child, Duration::from_secs(60), "the running start");
    let stderr = stderr.join().expect("stderr");
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(stderr.contains("moved, replaced or deleted"), "{stderr}");
    assert_eq!(std::fs::read(&store).expect("replacement"), b"someone else's file");
    // What it committed before is in the moved store, and goes on from there.
    let resumed = run(vm(&moved).arg("resume"));
    assert!(resumed.status.success(), "{}", text(&resumed.stderr));
    let output = run(vm(&moved).args(["output", "spin"]));
    assert_eq!(
        text(&output.stdout),
        "done\n",
        "output: {}; resume said: {}",
        text(&output.stderr),
        text(&resumed.stderr)
    );
}

/// Writes a file in two parts, waiting for a message between them (so it is checkpointed with
/// the file open and half written).
const WRITER: &str = "(import (scheme base) (scheme write) (scheme file))\n\
    (define port (open-output-file \"out.txt\"))\n\
    (write-string \"first part, written before the wait\\n\" port)\n\
    (define go (receive))\n\
    (write-string \"second part\\n\" port)\n\
    (close-port port)\n\
    (display \"wrote out.txt\") (newline)\n";

const FIRST_PART: &str = "first part, written before the wait\n";

fn start_writer(dir: &Path, store: &Path) {
    let program = write_program(dir, "writer.scm", WRITER);
    let out = run(vm(store)
        .current_dir(dir)
        .args(["start", "--exit-when-waiting", "--grant", "files", "--keep-history", "--name", "w"])
        .arg(&program));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(dir.join("out.txt")).expect("out.txt"), FIRST_PART);
}

#[test]
fn an_output_file_changed_while_its_process_was_down_is_never_continued() {
    for (damage, what) in
        [("truncated", "fewer than"), ("edited", "not those the process wrote"), ("deleted", "it is gone")]
    {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = dir.path().join("store.redb");
        start_writer(dir.path(), &store);
        let file = dir.path().join("out.txt");
        match damage {
            "truncated" => std::fs::write(&file, "first").expect("truncate"),
            "edited" => std::fs::write(&file, FIRST_PART.to_uppercase()).expect("edit"),
            _ => std::fs::remove_file(&file).expect("delete"),
        }
        let before = std::fs::read(&file).ok();
        assert!(run(vm(&store).args(["send", "w", "go"])).status.success());
        let out = run(vm(&store).current_dir(dir.path()).arg("resume"));
        assert_eq!(out.status.code(), Some(1), "{damage}: resume must refuse: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains("out.txt is not what the process left"), "{damage}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains(what), "{damage}: {}", text(&out.stderr));
        assert_eq!(std::fs::read(&file).ok(), before, "{damage}: the refused file was left as it was");
        // Put back what the process wrote, and it goes on, writing the file whole.
        std::fs::write(&file, FIRST_PART).expect("put back");
        let out = run(vm(&store).current_dir(dir.path()).arg("resume"));
        assert!(out.status.success(), "{damage}: {}", text(&out.stderr));
        assert_eq!(std::fs::read_to_string(&file).expect("file"), format!("{FIRST_PART}second part\n"));
    }
}

#[test]
fn reading_commands_never_touch_a_process_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("store.redb");
    start_writer(dir.path(), &store);
    let file = dir.path().join("out.txt");
    // Longer than the checkpoint recorded (as while the process runs on), then gone: inspecting,
    // verifying or replaying the process must neither cut the file nor make it again.
    std::fs::write(&file, format!("{FIRST_PART}and more the process wrote since")).expect("grow");
    let grown = std::fs::read(&file).expect("file");
    for command in [&["inspect", "w"][..], &["verify"], &["verify", "--replay", "w"]] {
        let out = run(vm(&store).current_dir(dir.path()).args(command));
        assert!(out.status.success(), "{command:?}: {}{}", text(&out.stdout), text(&out.stderr));
        assert_eq!(std::fs::read(&file).expect("file"), grown, "{command:?} changed the file");
    }
    std::fs::remove_file(&file).expect("delete");
    for command in [&["inspect", "w"][..], &["verify"], &["verify", "--replay", "w"]] {
        let out = run(vm(&store).current_dir(dir.path()).args(command));
        assert!(out.status.success(), "{command:?}: {}{}", text(&out.stdout), text(&out.stderr));
        assert!(!file.exists(), "{command:?} made the file again");
    }
}

/// The CPU time process `pid` has used, from `/proc/PID/stat` (utime + stime, in clock ticks).
#[cfg(target_os = "linux")]
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    // The command name, in parentheses, may hold spaces: count fields after it.
    let after = &stat[stat.rfind(')').expect("comm") + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime")
}

#[cfg(target_os = "linux")]
#[test]
fn a_waiting_process_costs_nothing_and_wakes_for_its_message() {
    let dir = tempfile::tempdir().expect("temp dir");
    let program = write_program(dir.path(), "echo.scm", ECHO_ONE);
    let store = dir.path().join("store.redb");
    let mut waiting = vm(&store).args(["start", "--name", "p"]).arg(&program).spawn().expect("start");
    let stderr = await_stderr(&mut waiting, Some("waits for a message"), Duration::from_secs(30));
    // Let it settle into waiting, then watch it for three seconds: polls that reopened the store
    // (or read it) would show. Clock ticks are hundredths of a second.
    std::thread::sleep(Duration::from_millis(1500));
    let before = cpu_ticks(waiting.id());
    std::thread::sleep(Duration::from_secs(3));
    let used = cpu_ticks(waiting.id()) - before;
    assert!(used <= 6, "a waiting start used {used} hundredths of a second of CPU in 3 s");
    // Other processes read and write the store meanwhile; the message wakes it.
    assert!(run(vm(&store).arg("ps")).status.success());
    let sent = Instant::now();
    assert!(run(vm(&store).args(["send", "p", "wake-up"])).status.success());
    let out = finish_within(waiting, Duration::from_secs(10), "the waiting start");
    assert!(out.status.success(), "{}", stderr.join().expect("stderr"));
    assert!(sent.elapsed() < Duration::from_secs(5), "the message took {:?} to wake it", sent.elapsed());
    assert_eq!(text(&run(vm(&store).args(["output", "p"])).stdout), "wake-up\n");
}

/// Mounts a tmpfs at `dir` (this test runs as root, as the developers' machines and CI do).
#[cfg(target_os = "linux")]
fn mount(args: &[&str], dir: &Path) {
    let status = Command::new("mount").args(args).arg(dir).status().expect("mount runs");
    assert!(status.success(), "mount {args:?} {}: the test needs root", dir.display());
}

#[cfg(target_os = "linux")]
#[test]
fn reading_commands_work_on_a_read_only_file_system() {
    let dir = tempfile::tempdir().expect("temp dir");
    let program = write_program(dir.path(), "echo.scm", ECHO_ONE);
    let store = dir.path().join("store.redb");
    let out = run(vm(&store).args(["start", "--exit-when-waiting", "--name", "p"]).arg(&program));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(run(vm(&store).args(["send", "p", "queued"])).status.success());
    let mounted = dir.path().join("ro");
    std::fs::create_dir(&mounted).expect("mount point");
    mount(&["-t", "tmpfs", "tmpfs"], &mounted);
    let copy = mounted.join("store.redb");
    std::fs::copy(&store, &copy).expect("copy");
    mount(&["-o", "remount,ro"], &mounted);
    let results: Vec<(String, Output)> = [&["ps"][..], &["inspect", "p"], &["output", "p"], &["verify"]]
        .iter()
        .map(|command| (command.join(" "), run(vm(&copy).args(*command))))
        .collect();
    let _ = Command::new("umount").arg(&mounted).status();
    for (command, out) in results {
        assert!(out.status.success(), "{command} on a read-only file system: {}", text(&out.stderr));
        if command == "ps" {
            assert!(text(&out.stdout).contains("waiting"), "{}", text(&out.stdout));
        }
    }
}
