//! The crash harness: durable programs killed with SIGKILL at random instants, resumed, killed
//! again, and finally let finish must end exactly as an uninterrupted `chenilles-vm run`: the same
//! output journal, byte for byte, and the same ending (finished, exited with a code, or failed).
//!
//! The programs are `tests/durable/*.scm`. Kill instants are drawn from a seeded generator; the
//! seed is printed, and `CHENILLES_CRASH_SEED=N` replays the same choices (delays, which commit
//! to kill at); what a delay lands on depends on the machine's speed, so those outcomes replay only
//! on a machine as fast. A third of the kills come at the moment the store file changes (a commit
//! is writing it), so that kills mid-commit happen in every run, and the harness asserts some did.
//! `crashes_at_chosen_disk_operations_replay_exactly` kills at disk operations instead
//! (`CHENILLES_CRASH_AT_DISK_OP`): its outcomes replay exactly, and it checks that they do.
//! `CHENILLES_CRASH_KILLS=N` sets the most kills per run of a program, `CHENILLES_CRASH_ROUNDS=N`
//! how many runs of each program, each in a fresh store (the defaults are the short version CI
//! runs; `scripts/crash-campaign.sh` runs the long one).

mod common;

use common::{run, status_of, text, vm};

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const VM: &str = env!("CARGO_BIN_EXE_chenilles-vm");

fn programs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/durable")
}

/// What an uninterrupted run prints and how it ends, and how long it takes.
struct Expected {
    stdout: Vec<u8>,
    code: Option<i32>,
    duration: Duration,
}

fn uninterrupted(program: &Path, args: &[String]) -> Expected {
    let started = Instant::now();
    let output = run(Command::new(VM).arg("run").arg(program).args(args));
    Expected { stdout: output.stdout, code: output.status.code(), duration: started.elapsed() }
}

/// Kills `child` with SIGKILL after `delay`, unless it ends first. Returns its exit code if it ended
/// by itself; if that code is not 0, prints what it wrote to stderr.
fn kill_after(mut child: Child, delay: Duration) -> Option<i32> {
    let deadline = Instant::now() + delay;
    loop {
        if child.try_wait().expect("wait").is_some() {
            let output = child.wait_with_output().expect("output");
            let code = output.status.code().unwrap_or(-1);
            if code != 0 {
                eprintln!("exit {code}: {}", text(&output.stderr));
            }
            return Some(code);
        }
        if Instant::now() >= deadline {
            let _ = child.kill(); // SIGKILL
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_micros(300));
    }
}

/// What `stat` shows of a store file: it changes as soon as a commit starts writing.
fn file_stamp(path: &Path) -> Option<(u64, std::time::SystemTime)> {
    let metadata = std::fs::metadata(path).ok()?;
    Some((metadata.len(), metadata.modified().ok()?))
}

/// Kills `child` with SIGKILL as soon as the store file changes for the `nth` time since the
/// child started (a commit is writing it: the kill lands in the commit's writes and fsyncs, or
/// just after), unless it ends first or `limit` passes. Returns its exit code if it ended by
/// itself, and whether the kill came at a commit.
fn kill_at_a_commit(mut child: Child, store: &Path, nth: u32, limit: Duration) -> (Option<i32>, bool) {
    let deadline = Instant::now() + limit;
    let mut last = file_stamp(store);
    let mut changes = 0;
    loop {
        if child.try_wait().expect("wait").is_some() {
            let output = child.wait_with_output().expect("output");
            return (Some(output.status.code().unwrap_or(-1)), false);
        }
        let now = file_stamp(store);
        if now != last {
            changes += 1;
            last = now;
            if changes >= nth {
                let _ = child.kill();
                let _ = child.wait();
                return (None, true);
            }
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return (None, false);
        }
        std::thread::sleep(Duration::from_micros(100));
    }
}

/// The files of `dir` (not of its subdirectories) whose name ends in `.EXTENSION`, sorted.
fn files_with_extension(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut files: Vec<PathBuf> =
        entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == extension)).collect();
    files.sort();
    files
}

fn seed() -> u64 {
    common::seed("CHENILLES_CRASH_SEED", "crash harness")
}

fn kills_per_program(default: usize) -> usize {
    std::env::var("CHENILLES_CRASH_KILLS").ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

/// The exit code `resume` or `start` gives for a process that ended as the uninterrupted run did.
fn status_word(code: Option<i32>) -> String {
    match code {
        Some(0) => "finished".into(),
        Some(1) => "failed".into(),
        Some(n) => format!("exited({n})"),
        None => "killed".into(),
    }
}

/// Starts `program` as process `name`, kills it `kills` times at random instants (the start, then
/// resumes; a third of the kills at the moment a commit writes the store), then lets it finish;
/// checks its output journal and ending against `expected`. Returns the kills, and how many of
/// them came at a commit.
fn crash_and_check(
    program: &Path,
    args: &[String],
    name: &str,
    store: &Path,
    kills: usize,
    rng: &mut fastrand::Rng,
) -> (usize, usize) {
    let expected = uninterrupted(program, args);
    // Kill instants spread over the program's own running time: some land in start-up, some
    // mid-commit, some mid-computation; a run that ends before its kill just ends.
    let span = (expected.duration.as_micros() as u64).max(2_000);
    let mut killed = 0;
    let mut at_commits = 0;
    let mut ended = None;
    for attempt in 0..kills * 4 {
        if killed == kills {
            break;
        }
        let delay = Duration::from_micros(rng.u64(0..span));
        // Half the runs checkpoint every 5 ms, half are paced by their checkpoints' cost.
        let share = if rng.bool() { "100" } else { "10" };
        let status = status_of(store, name);
        let child = match status.as_str() {
            "absent" => vm(store)
                .args(["start", "--name", name, "--checkpoint-every", "5", "--checkpoint-share", share])
                .arg(program)
                .args(args)
                .spawn(),
            "running" | "interrupted" => {
                vm(store).args(["resume", "--checkpoint-every", "5", "--checkpoint-share", share, name]).spawn()
            }
            _ => break,
        }
        .expect("chenilles-vm starts");
        let outcome = if rng.u32(0..3) == 0 {
            let (outcome, at_commit) =
                kill_at_a_commit(child, store, rng.u32(1..=4), expected.duration * 4 + span_floor());
            at_commits += usize::from(at_commit);
            outcome
        } else {
            kill_after(child, delay)
        };
        match outcome {
            None => {
                killed += 1;
                ended = None;
            }
            Some(code) => {
                ended = Some(code);
                if attempt > 0 && matches!(status_of(store, name).as_str(), "running" | "interrupted") {
                    panic!("{name}: the process exited ({code}) but is still marked running");
                }
            }
        }
    }
    // Let it finish.
    for _ in 0..3 {
        match status_of(store, name).as_str() {
            "absent" => {
                let out = run(vm(store).args(["start", "--name", name]).arg(program).args(args));
                ended = out.status.code();
            }
            "running" | "interrupted" => {
                let out = run(vm(store).args(["resume", name]));
                assert!(out.status.success() || expected.code != Some(0), "resume failed: {}", text(&out.stderr));
                ended = out.status.code();
            }
            _ => break,
        }
    }
    // The command that saw the process end exits as the uninterrupted run did (unless it was
    // killed between the process's last commit and its own exit: then no command saw it).
    if ended.is_some() {
        assert_eq!(ended, expected.code, "{name}: the exit code of the command that saw the process end");
    }
    let status = status_of(store, name);
    assert_eq!(status, status_word(expected.code), "{name}: how the process ended");
    let journal = run(vm(store).args(["output", name]));
    assert!(journal.status.success(), "output: {}", text(&journal.stderr));
    assert_eq!(
        text(&journal.stdout),
        text(&expected.stdout),
        "{name}: the output journal after {killed} kills differs from an uninterrupted run"
    );
    let verify = run(vm(store).arg("verify"));
    assert!(verify.status.success(), "verify: {}", text(&verify.stdout));
    (killed, at_commits)
}

/// The least time a run is given before a kill that waits for a commit gives up.
fn span_floor() -> Duration {
    Duration::from_millis(500)
}

#[test]
fn killed_programs_end_as_uninterrupted_runs() {
    killed_programs(false);
}

#[test]
fn killed_programs_on_encrypted_stores_end_as_uninterrupted_runs() {
    killed_programs(true);
}

fn killed_programs(encrypted: bool) {
    let mut rng = fastrand::Rng::with_seed(seed());
    let kills = kills_per_program(6);
    let rounds: usize = std::env::var("CHENILLES_CRASH_ROUNDS").ok().and_then(|s| s.parse().ok()).unwrap_or(1);
    let programs = files_with_extension(&programs_dir(), "scm");
    assert!(programs.len() >= 4);
    let mut total = 0;
    let mut total_at_commits = 0;
    for round in 0..rounds {
        for program in &programs {
            let dir = tempfile::tempdir().expect("temp dir");
            let store = dir.path().join("store.redb");
            if encrypted {
                common::init_encrypted(&store);
            }
            let name = program.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            let (killed, at_commits) = crash_and_check(program, &[], &name, &store, kills, &mut rng);
            total += killed;
            total_at_commits += at_commits;
        }
        if rounds > 1 {
            eprintln!("round {}: {total} kills so far, no divergence", round + 1);
        }
    }
    let kind = if encrypted { "encrypted" } else { "plain" };
    eprintln!(
        "{total} kills over {rounds} round(s) of {} programs on {kind} stores ({total_at_commits} at the moment a \
         commit wrote the store), no divergence",
        programs.len()
    );
    assert!(total_at_commits > 0, "no kill landed at a commit");
}

/// How many disk operations a command made on its store, from what it says on stderr when
/// `CHENILLES_CRASH_AT_DISK_OP` is set.
fn disk_operations(stderr: &[u8]) -> Option<u64> {
    text(stderr).lines().find_map(|line| {
        line.strip_prefix("chenilles-vm: ")?.strip_suffix(" disk operations on store files")?.parse().ok()
    })
}

/// The checkpoints and steps that `inspect` shows for process `name` (none before its first
/// commit).
fn checkpoints_and_steps(store: &Path, name: &str) -> Option<(u64, u64)> {
    if status_of(store, name) == "absent" {
        return None;
    }
    let out = run(vm(store).args(["inspect", name]));
    let shown = text(&out.stdout);
    let field = |label: &str| {
        shown
            .lines()
            .find_map(|line| line.strip_prefix(label))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("inspect shows no {label}\n{shown}{}", text(&out.stderr)))
    };
    Some((field("checkpoints:"), field("steps:")))
}

/// What one command of a crash sequence did: where it was told to crash, how it ended (`None`:
/// killed), and where it left the process.
#[derive(Debug, PartialEq, Eq)]
struct Landed {
    crash_at: String,
    ended: Option<i32>,
    checkpoints_and_steps: Option<(u64, u64)>,
    journal_bytes: usize,
}

/// Starts `program` as process `p` checkpointing every `interval` steps (again while a crash
/// leaves no process), then resumes it, each command told to crash at a disk operation drawn from `seed` (out of `operations`, what an
/// uninterrupted durable run makes), until the process has ended or `crashes` commands ran;
/// then lets it finish. Returns what each command did.
fn crash_at_disk_operations(
    program: &Path,
    store: &Path,
    interval: u64,
    operations: u64,
    seed: u64,
    crashes: usize,
) -> Vec<Landed> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let interval = interval.to_string();
    let mut landed = Vec::new();
    let mut done = 0;
    for attempt in 0..=crashes {
        let crash_at = if attempt == crashes {
            "0".to_string() // the last command runs to the end
        } else {
            // Within what is left of the run, about: the operations before earlier crashes are done.
            let at = rng.u64(1..=operations.saturating_sub(done).max(8));
            if rng.bool() { format!("{at}:torn") } else { at.to_string() }
        };
        let mut command = vm(store);
        command.env("CHENILLES_CRASH_AT_DISK_OP", &crash_at);
        if status_of(store, "p") == "absent" {
            command
                .args(["start", "--name", "p", "--reproducible", "--checkpoint-every-steps", &interval])
                .arg(program);
        } else {
            command.args(["resume", "--reproducible", "--checkpoint-every-steps", &interval, "p"]);
        }
        let out = run(&mut command);
        let ended = out.status.code();
        if ended.is_none() {
            done += crash_at.split(':').next().and_then(|n| n.parse::<u64>().ok()).unwrap_or(0);
            use std::os::unix::process::ExitStatusExt as _;
            assert_eq!(out.status.signal(), Some(9), "a command ends by itself or by its crash point");
        }
        landed.push(Landed {
            crash_at,
            ended,
            checkpoints_and_steps: checkpoints_and_steps(store, "p"),
            journal_bytes: run(vm(store).args(["output", "p"])).stdout.len(),
        });
        if !matches!(status_of(store, "p").as_str(), "running" | "interrupted" | "absent") {
            break;
        }
    }
    landed
}

/// Crashes at chosen disk operations (the store's own count of its writes, resizes and syncs),
/// not at instants: with checkpoints paced by steps, a program makes the same operations in the
/// same order every time, so a seed replays the same outcomes — the same commands killed, at the
/// same byte of the same commit, leaving the same checkpoints — and the run twice from one seed
/// must agree on every one, and end as an uninterrupted run does.
#[test]
fn crashes_at_chosen_disk_operations_replay_exactly() {
    let seed = seed();
    let mut rng = fastrand::Rng::with_seed(seed);
    let crashes = kills_per_program(4);
    let mut killed = 0;
    // The programs whose runs make hundreds of disk operations, not tens of thousands (deep.scm
    // and symbols-strings.scm are the crash campaign's).
    for name in ["counter.scm", "exits.scm", "fails.scm", "generators.scm"] {
        let program = programs_dir().join(name);
        let expected = uninterrupted(&program, &[]);
        // A first durable run learns the program's steps; a second its disk operations with
        // checkpoints about every twelfth of them.
        let dir = tempfile::tempdir().expect("temp dir");
        let store = dir.path().join("steps.redb");
        run(vm(&store).args(["start", "--name", "p", "--checkpoint-every-steps", "1000000000000"]).arg(&program));
        let steps = checkpoints_and_steps(&store, "p").map_or(0, |(_, steps)| steps);
        let interval = (steps / 12).max(1000);
        let store = dir.path().join("operations.redb");
        let clean = run(vm(&store)
            .env("CHENILLES_CRASH_AT_DISK_OP", "0")
            .args(["start", "--name", "p", "--reproducible", "--checkpoint-every-steps", &interval.to_string()])
            .arg(&program));
        let operations = disk_operations(&clean.stderr).unwrap_or_else(|| panic!("{name}: {}", text(&clean.stderr)));
        let sequence_seed = rng.u64(..);
        let mut runs = Vec::new();
        for attempt in ["first", "second"] {
            let store = dir.path().join(format!("{attempt}.redb"));
            let landed = crash_at_disk_operations(&program, &store, interval, operations, sequence_seed, crashes);
            let last = landed.last().expect("one command at least");
            // (A command killed after the process's last commit saw no ending to report.)
            if last.ended.is_some() {
                assert_eq!(last.ended, expected.code, "{name}: how the last command ended, {landed:#?}");
            }
            assert_eq!(status_of(&store, "p"), status_word(expected.code), "{name}: how the process ended");
            let journal = run(vm(&store).args(["output", "p"]));
            assert_eq!(text(&journal.stdout), text(&expected.stdout), "{name}: the output journal, {landed:#?}");
            let verify = run(vm(&store).arg("verify"));
            assert!(verify.status.success(), "{name}: verify: {}", text(&verify.stdout));
            runs.push(landed);
        }
        assert_eq!(runs[0], runs[1], "{name}: the same crash points gave other outcomes (seed {seed})");
        let here = runs[0].iter().filter(|l| l.ended.is_none()).count();
        eprintln!("{name}: {operations} disk operations uninterrupted, {here} crashes landed, replayed alike");
        killed += here;
    }
    assert!(killed > 0, "no crash point was reached");
}

#[test]
fn a_program_killed_every_half_second_still_finishes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("store.redb");
    let program = programs_dir().join("counter.scm");
    let expected = uninterrupted(&program, &[]);
    // Kill every half of the program's own running time (at least 0.1 s): with checkpoints
    // every 20 ms, each round must still get further.
    let mut period = (expected.duration / 2).max(Duration::from_millis(100));
    let mut rounds = 0;
    loop {
        // A kill can land before `start` has recorded the process (a loaded machine, a debug
        // build): then there is nothing to resume, and the process is started again with more
        // time before the next kill.
        let recorded = status_of(&store, "c") != "absent";
        if !recorded && rounds > 0 {
            period *= 2;
        }
        let child = match recorded {
            false => vm(&store)
                .args(["start", "--name", "c", "--checkpoint-every", "20", "--checkpoint-share", "100"])
                .arg(&program)
                .spawn(),
            true => vm(&store).args(["resume", "--checkpoint-every", "20", "--checkpoint-share", "100", "c"]).spawn(),
        }
        .expect("chenilles-vm starts");
        if let Some(code) = kill_after(child, period) {
            assert_eq!(code, 0);
            break;
        }
        rounds += 1;
        assert!(rounds < 100, "no progress after {rounds} kills");
    }
    assert_eq!(status_of(&store, "c"), "finished");
    assert_eq!(text(&run(vm(&store).args(["output", "c"])).stdout), text(&expected.stdout));
}

#[test]
fn a_program_killed_every_four_tenths_of_its_run_still_finishes() {
    // Each interval of this program changes much of its heap, so its checkpoints are predicted
    // costly and paced; a resume must still commit within the interval, or a process killed more
    // often than its paced checkpoints never gets anywhere. Default pacing and none alike.
    let program = programs_dir().join("generators.scm");
    let expected = uninterrupted(&program, &[]);
    for share in ["10", "100"] {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = dir.path().join("store.redb");
        let mut period = (expected.duration * 2 / 5).max(Duration::from_millis(100));
        let mut rounds = 0;
        let mut progress = Vec::new();
        loop {
            let recorded = status_of(&store, "g") != "absent";
            if !recorded && rounds > 0 {
                period *= 2;
            }
            let child = match recorded {
                false => vm(&store).args(["start", "--name", "g", "--checkpoint-share", share]).arg(&program).spawn(),
                true => vm(&store).args(["resume", "--checkpoint-share", share, "g"]).spawn(),
            }
            .expect("chenilles-vm starts");
            if let Some(code) = kill_after(child, period) {
                assert_eq!(code, 0);
                break;
            }
            rounds += 1;
            let inspect = text(&run(vm(&store).args(["inspect", "g"])).stdout);
            progress.push(inspect.lines().find(|l| l.starts_with("steps:")).unwrap_or("?").to_string());
            assert!(rounds < 60, "share {share}: no progress after {rounds} kills every {period:?}: {progress:?}");
        }
        eprintln!("share {share}: finished after {rounds} kills every {period:?}: {progress:?}");
        assert_eq!(status_of(&store, "g"), "finished");
        assert_eq!(text(&run(vm(&store).args(["output", "g"])).stdout), text(&expected.stdout));
    }
}

/// Starts `program` as process `name` and kills it after `delay`; when the kill lands before the
/// process is recorded in the store (a loaded machine), starts it again with twice the delay.
fn start_and_kill(store: &Path, name: &str, program: &Path, mut delay: Duration) {
    for _ in 0..10 {
        let child = vm(store)
            .args(["start", "--name", name, "--checkpoint-every", "5", "--checkpoint-share", "100"])
            .arg(program)
            .spawn()
            .expect("chenilles-vm starts");
        kill_after(child, delay);
        if status_of(store, name) != "absent" {
            return;
        }
        delay *= 2;
    }
    panic!("{name} was never recorded in the store");
}

#[test]
fn two_processes_share_a_store() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("store.redb");
    let (a, b) = (programs_dir().join("counter.scm"), programs_dir().join("deep.scm"));
    let (expected_a, expected_b) = (uninterrupted(&a, &[]), uninterrupted(&b, &[]));
    start_and_kill(&store, "a", &a, expected_a.duration / 3);
    start_and_kill(&store, "b", &b, expected_b.duration / 3);
    // One resume goes on with both.
    let resumed = run(vm(&store).arg("resume"));
    assert!(resumed.status.success(), "{}", text(&resumed.stderr));
    for (name, expected) in [("a", &expected_a), ("b", &expected_b)] {
        assert_eq!(status_of(&store, name), "finished", "{name}");
        assert_eq!(text(&run(vm(&store).args(["output", name])).stdout), text(&expected.stdout), "{name}");
    }
}

#[test]
fn a_second_vm_on_a_busy_store_is_told_who_holds_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("store.redb");
    // Computes for seconds: the store is held for writing all along.
    let program = dir.path().join("spin.scm");
    std::fs::write(
        &program,
        "(define (spin n) (if (> n 0) (spin (- n 1)) 0))\n(let loop ((i 0)) (if (< i 400) (begin (spin 200000) (loop (+ i 1)))))\n",
    )
    .expect("program");
    let mut first = vm(&store).args(["start", "--name", "first"]).arg(&program).spawn().unwrap();
    // Wait until the first one has created the store, holds it, and has committed its first
    // checkpoint (the holder file is written before the process's record).
    let started = Instant::now();
    let committed = || text(&run(vm(&store).arg("ps")).stdout).contains("first");
    while !(dir.path().join("store.redb.holder").exists() && committed()) && started.elapsed() < Duration::from_secs(20)
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    // A second writer is refused, naming the holder.
    let second = run(vm(&store).arg("gc"));
    assert!(first.try_wait().unwrap().is_none(), "the first process ended before the second command ran");
    assert!(!second.status.success());
    let message = text(&second.stderr);
    assert!(message.contains("is in use by pid"), "{message}");
    assert!(message.contains(&format!("pid {}", first.id())), "{message}");
    // Reading commands work beside the writer, read-only.
    for command in [&["ps"][..], &["inspect", "first"], &["output", "first"], &["verify"]] {
        let read = run(vm(&store).args(command));
        assert!(read.status.success(), "{command:?} beside a writer: {}", text(&read.stderr));
    }
    assert!(text(&run(vm(&store).arg("ps")).stdout).contains("first"));
    // With --wait, the second writer waits its turn.
    let waited = run(vm(&store).args(["gc", "--wait"]));
    assert!(waited.status.success(), "{}", text(&waited.stderr));
    first.wait().unwrap();
}

#[test]
fn a_store_copied_mid_run_is_recovered_or_refused_clearly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("store.redb");
    let program = programs_dir().join("counter.scm");
    let expected = uninterrupted(&program, &[]);
    let mut child = vm(&store)
        .args(["start", "--name", "p", "--checkpoint-every", "2", "--checkpoint-share", "100"])
        .arg(&program)
        .spawn()
        .unwrap();
    let mut copies = Vec::new();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() && copies.len() < 8 {
        std::thread::sleep(Duration::from_millis(15));
        let copy = dir.path().join(format!("copy-{}.redb", copies.len()));
        // A plain byte copy while the store is being written: torn, as a backup tool would make it.
        if std::fs::copy(&store, &copy).is_ok() {
            copies.push(copy);
        }
        assert!(started.elapsed() < Duration::from_secs(60));
    }
    child.wait().unwrap();
    assert!(!copies.is_empty(), "the program ended before any copy was made");
    // And one copy of the store at rest, which must be recovered: so that the checks of a
    // recovered copy run in every run of this test, whatever the torn ones gave.
    let at_rest = dir.path().join("copy-at-rest.redb");
    std::fs::copy(&store, &at_rest).expect("copy");
    copies.push(at_rest);
    let mut recovered = 0;
    for copy in &copies {
        let resumed = run(vm(copy).arg("resume"));
        let stderr = text(&resumed.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(resumed.status.code().is_some(), "killed by a signal: {stderr}");
        // (A refused copy is refused by `ps` too: ask only a copy that resumed.)
        let status = if resumed.status.success() { status_of(copy, "p") } else { String::new() };
        if resumed.status.success() && status == "finished" {
            assert_eq!(text(&run(vm(copy).args(["output", "p"])).stdout), text(&expected.stdout));
            recovered += 1;
        } else if resumed.status.success() && status == "absent" {
            // Copied before the process's first commit: the store as it was then, with no process.
            recovered += 1;
        } else {
            assert!(stderr.starts_with("error: ") || stderr.contains("\nerror: "), "unclear refusal: {stderr}");
        }
    }
    assert!(recovered >= 1, "not even the copy at rest was recovered");
    eprintln!("{} of {} torn copies recovered, the rest refused clearly", recovered - 1, copies.len() - 1);
}

/// Delivers each of `messages` to process `name` (started from `program` when it does not exist
/// yet) with `chenilles-vm send`, and after each one runs the process and kills it at a random
/// instant: while it computes, while it commits, or while it waits for the next message. Then lets
/// it finish. Returns the number of kills.
fn deliver_with_kills(
    store: &Path,
    name: &str,
    program: &Path,
    args: &[String],
    messages: &[String],
    rng: &mut fastrand::Rng,
) -> usize {
    let mut killed = 0;
    for message in messages {
        // The first messages come before the process is started: delivered ahead of it.
        let sent = run(vm(store).args(["send", "--ahead", name, message]));
        assert!(sent.status.success(), "send: {}", text(&sent.stderr));
        let child = match status_of(store, name).as_str() {
            "absent" => vm(store)
                .args(["start", "--name", name, "--checkpoint-every", "5", "--checkpoint-share", "100"])
                .arg(program)
                .args(args)
                .spawn(),
            "running" | "interrupted" | "waiting" => {
                vm(store).args(["resume", "--checkpoint-every", "5", "--checkpoint-share", "100", name]).spawn()
            }
            other => panic!("{name} is {other} before its last message"),
        }
        .expect("chenilles-vm starts");
        if kill_after(child, Duration::from_micros(rng.u64(0..150_000))).is_none() {
            killed += 1;
        }
    }
    let finish = match status_of(store, name).as_str() {
        "finished" => None,
        "absent" => Some(run(vm(store).args(["start", "--name", name]).arg(program).args(args))),
        _ => Some(run(vm(store).args(["resume", name]))),
    };
    if let Some(out) = finish {
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    killed
}

#[test]
fn messages_survive_kills_of_the_receiver() {
    let mut rng = fastrand::Rng::with_seed(seed());
    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("store.redb");
    let mail = programs_dir().join("mail");
    let numbers: Vec<u64> = (1..=kills_per_program(6) as u64 * 2).collect();
    let expected = common::accumulator_output(&numbers);
    let messages: Vec<String> = numbers.iter().map(|n| n.to_string()).chain(["done".to_string()]).collect();
    let killed = deliver_with_kills(&store, "accumulator", &mail.join("accumulator.scm"), &[], &messages, &mut rng);
    assert_eq!(status_of(&store, "accumulator"), "finished");
    assert_eq!(text(&run(vm(&store).args(["output", "accumulator"])).stdout), expected);
    let observer = run(vm(&store).arg("start").arg(mail.join("observer.scm")));
    assert!(observer.status.success(), "{}", text(&observer.stderr));
    let acks: String = numbers.iter().map(|n| format!("(ack {n})\n")).collect();
    assert_eq!(text(&run(vm(&store).args(["output", "observer"])).stdout), acks + "done\n");
    let ps = text(&run(vm(&store).arg("ps")).stdout);
    assert!(ps.lines().skip(1).all(|line| line.split_whitespace().nth(5) == Some("0")), "mail left over:\n{ps}");
    eprintln!("{killed} kills of the receiver, every message received and acknowledged once");
}

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples-scm")
}

/// One scenario of `tests/examples/` (see its README).
struct Scenario {
    program: PathBuf,
    args: Vec<String>,
    messages: Vec<String>,
    expected: String,
}

fn read_scenario(path: &Path) -> Scenario {
    let text = std::fs::read_to_string(path).expect("a scenario");
    let (mut program, mut args, mut messages) = (None, Vec::new(), Vec::new());
    for line in text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')) {
        match line.split_once(": ") {
            Some(("program", rest)) => {
                let mut words = rest.split_whitespace().map(str::to_string);
                program = words.next().map(|file| examples_dir().join(file));
                args = words.collect();
            }
            Some(("send", datum)) => messages.push(datum.to_string()),
            _ => panic!("{}: cannot read the line {line:?}", path.display()),
        }
    }
    let expected = std::fs::read_to_string(path.with_extension("out")).expect("the scenario's .out file");
    Scenario { program: program.expect("a program: line"), args, messages, expected }
}

#[test]
fn examples_survive_kills() {
    let mut rng = fastrand::Rng::with_seed(seed());
    let paths = files_with_extension(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/examples"), "scenario");
    assert!(paths.len() >= 5);
    for path in paths {
        let scenario = read_scenario(&path);
        let scratch = tempfile::tempdir().expect("temp dir");
        let store = scratch.path().join("store.redb");
        let name = scenario.program.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let killed = if scenario.messages.is_empty() {
            let run = run(Command::new(VM).arg("run").arg(&scenario.program).args(&scenario.args));
            assert_eq!(text(&run.stdout), scenario.expected, "{}: run", path.display());
            crash_and_check(&scenario.program, &scenario.args, &name, &store, kills_per_program(6), &mut rng).0
        } else {
            deliver_with_kills(&store, &name, &scenario.program, &scenario.args, &scenario.messages, &mut rng)
        };
        assert_eq!(status_of(&store, &name), "finished", "{}", path.display());
        let journal = text(&run(vm(&store).args(["output", &name])).stdout);
        assert_eq!(journal, scenario.expected, "{}: the output journal after {killed} kills", path.display());
        eprintln!("{}: {killed} kills", path.display());
    }
}

/// The host example `vm/examples/channel.rs`, which `cargo test` builds beside the tests.
fn host_example() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's path");
    let profile_dir = exe.parent().and_then(Path::parent).expect("target/PROFILE/deps/TEST");
    let example = profile_dir.join("examples").join(format!("channel{}", std::env::consts::EXE_SUFFIX));
    assert!(example.exists(), "{} is missing: cargo test builds the examples first", example.display());
    example
}

#[test]
fn the_host_example_survives_kills() {
    let mut rng = fastrand::Rng::with_seed(seed());
    let dir = tempfile::tempdir().expect("temp dir");
    let example = host_example();
    let started = Instant::now();
    let uninterrupted = run(Command::new(&example).arg(dir.path().join("clean")));
    let span = started.elapsed().as_micros() as u64;
    assert!(uninterrupted.status.success(), "{}", text(&uninterrupted.stderr));
    let work = dir.path().join("killed");
    let mut killed = 0;
    for _ in 0..kills_per_program(6) * 2 {
        let child = Command::new(&example).arg(&work).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
        match kill_after(child, Duration::from_micros(rng.u64(0..span * 2 / 3))) {
            None => killed += 1,
            Some(0) => break,
            Some(code) => panic!("the host example failed with {code}"),
        }
    }
    let last = run(Command::new(&example).arg(&work));
    assert!(last.status.success(), "{}", text(&last.stderr));
    let last = text(&last.stdout);
    assert!(last.contains("host: bob finished with (paid 60 40)"), "{last}");
    assert!(last.contains("host: alice finished with closed"), "{last}");
    // One settlement, whatever the kills; the same as without them.
    // The line's key numbers the effect (bob's receipts are effects too, so it depends on when
    // messages came); the settlement itself is the same.
    let settlement = |ledger: String| -> Vec<String> {
        ledger.lines().map(|line| line.split_once(' ').map_or("", |(_, rest)| rest).to_string()).collect()
    };
    let ledger = std::fs::read_to_string(work.join("ledger.txt")).expect("the ledger");
    assert!(ledger.starts_with("bob/"), "{ledger}");
    assert_eq!(settlement(ledger), ["alice 60 bob 40"]);
    assert_eq!(settlement(std::fs::read_to_string(dir.path().join("clean/ledger.txt")).unwrap()), ["alice 60 bob 40"]);
    eprintln!("{killed} kills of the host example");
}
