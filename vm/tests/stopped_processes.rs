//! Commands frozen with SIGSTOP — a host running a process, a `send` — wherever they are:
//! mid-computation, waiting, mid-commit with the store's locks held. While one is frozen, reading
//! commands started beside it answer with what the last commit held; after SIGCONT everything
//! goes on; a frozen host killed where it stands resumes like any killed one. At the end the
//! receiver's output and its acknowledgements are those of an undisturbed run: every message
//! received exactly once, in order.
//!
//! Two ways to choose the instants: at random (`CHENILLES_CRASH_SEED=N` replays the choices,
//! `CHENILLES_CRASH_ROUNDS=N` runs N conversations; default 1, the campaign runs more), and at
//! every disk operation of a command in turn (`CHENILLES_CRASH_AT_DISK_OP=N:stop`), which reaches
//! for certain the short spans where a writer holds the lock that readers share. Each runs on a
//! plain store and on an encrypted one.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use common::{accumulator_output, finish_within, run, signal, status_of, text, vm};

fn mail_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/durable/mail")
}

/// Reading commands started while a command is frozen (`ps`, and `output` of the receiver).
fn start_reads(store: &Path) -> (Child, Child) {
    (vm(store).arg("ps").spawn().expect("ps"), vm(store).args(["output", "accumulator"]).spawn().expect("output"))
}

/// Reads started beside a frozen command answer while it is still frozen, with what the last
/// commit held: `ps` lists the store and the journal is a prefix of what the receiver will print.
fn check_reads(reads: (Child, Child), expected: &str) {
    let limit = Duration::from_secs(20);
    let ps = finish_within(reads.0, limit, "ps beside a frozen command");
    let journal = finish_within(reads.1, limit, "output beside a frozen command");
    if !ps.status.success() {
        // Only before the store's creation.
        assert!(text(&ps.stderr).contains("there is no store"), "ps beside a frozen command: {}", text(&ps.stderr));
        return;
    }
    if journal.status.success() {
        let printed = text(&journal.stdout);
        assert!(
            expected.starts_with(&printed),
            "journal beside a frozen command:\n{printed}\nis not a prefix of\n{expected}"
        );
    } else {
        // Only before the receiver's first commit.
        let why = text(&journal.stderr);
        assert!(why.contains("no process named") || why.contains("there is no store"), "output: {why}");
    }
}

#[test]
fn frozen_hosts_and_senders_lose_nothing() {
    frozen_conversations(false);
}

#[test]
fn frozen_hosts_and_senders_of_an_encrypted_store_lose_nothing() {
    frozen_conversations(true);
}

fn frozen_conversations(encrypted: bool) {
    let seed =
        std::env::var("CHENILLES_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| fastrand::u64(..));
    eprintln!("seed: {seed} (CHENILLES_CRASH_SEED={seed} replays the choices)");
    let mut rng = fastrand::Rng::with_seed(seed);
    let rounds: usize = std::env::var("CHENILLES_CRASH_ROUNDS").ok().and_then(|s| s.parse().ok()).unwrap_or(1);
    for round in 1..=rounds {
        eprint!("round {round}: ");
        freeze_a_conversation(&mut rng, encrypted);
    }
}

/// Delivers ten numbers and `done` to `mail/accumulator.scm`, freezing one command around each
/// delivery; checks what the receiver printed and acknowledged.
fn freeze_a_conversation(rng: &mut fastrand::Rng, encrypted: bool) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("store.redb");
    if encrypted {
        common::init_encrypted(&store);
    }
    let program = mail_dir().join("accumulator.scm");
    let numbers: Vec<u64> = (1..=10).collect();
    let expected = accumulator_output(&numbers);

    let limit = Duration::from_secs(60);
    // A host for the receiver: `start` while no commit has made the process (a host killed before
    // its first commit leaves none), else `resume`; either waits while a `send` holds the store.
    let start_host = || -> Child {
        let mut command = vm(&store);
        if status_of(&store, "accumulator") == "absent" {
            command.args(["start", "--wait", "--name", "accumulator", "--checkpoint-every", "5"]).arg(&program);
        } else {
            command.args(["resume", "--wait", "--checkpoint-every", "5", "accumulator"]);
        }
        command.spawn().expect("host starts")
    };
    let mut host = start_host();
    let (mut frozen_hosts, mut frozen_senders, mut killed_frozen) = (0, 0, 0);
    for &n in &numbers {
        let mut sender =
            vm(&store).args(["send", "--ahead", "accumulator", &n.to_string()]).spawn().expect("send starts");
        std::thread::sleep(Duration::from_micros(rng.u64(0..80_000)));
        let freeze_the_sender = rng.u32(0..3) == 0 && sender.try_wait().expect("wait").is_none();
        let victim = if freeze_the_sender { &sender } else { &host };
        signal(victim, "STOP");
        let reads = start_reads(&store);
        std::thread::sleep(Duration::from_micros(rng.u64(0..150_000)));
        check_reads(reads, &expected);
        if freeze_the_sender {
            frozen_senders += 1;
            signal(&sender, "CONT");
        } else if rng.u32(0..3) == 0 {
            // Killed where it stands, frozen: its store is as a crash leaves it.
            signal(&host, "KILL");
            let _ = host.wait();
            killed_frozen += 1;
            frozen_hosts += 1;
            host = start_host();
        } else {
            frozen_hosts += 1;
            signal(&host, "CONT");
        }
        let sent = finish_within(sender, limit, "send after SIGCONT");
        assert!(sent.status.success(), "send {n}: {}", text(&sent.stderr));
    }
    let done = run(vm(&store).args(["send", "accumulator", "done"]));
    assert!(done.status.success(), "send done: {}", text(&done.stderr));
    let ended = finish_within(host, limit, "the host after `done`");
    assert!(ended.status.success(), "host: {}", text(&ended.stderr));
    assert_eq!(status_of(&store, "accumulator"), "finished");
    assert_eq!(text(&run(vm(&store).args(["output", "accumulator"])).stdout), expected);

    let observer = run(vm(&store).arg("start").arg(mail_dir().join("observer.scm")));
    assert!(observer.status.success(), "observer: {}", text(&observer.stderr));
    let acks: String = numbers.iter().map(|n| format!("(ack {n})\n")).collect();
    assert_eq!(text(&run(vm(&store).args(["output", "observer"])).stdout), acks + "done\n");
    let verify = run(vm(&store).arg("verify"));
    assert!(verify.status.success(), "verify: {}", text(&verify.stdout));
    eprintln!(
        "{frozen_hosts} hosts frozen ({killed_frozen} killed frozen), {frozen_senders} senders frozen: nothing lost"
    );
}

/// The state of process `pid` as /proc shows it (`T`: stopped), or `None` once it has gone.
fn process_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')').and_then(|(_, rest)| rest.trim_start().chars().next())
}

/// Waits until `child` has stopped itself (true) or ended (false).
fn stopped_or_ended(child: &mut Child) -> bool {
    let started = std::time::Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            return false;
        }
        if process_state(child.id()) == Some('T') {
            return true;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the command neither stopped nor ended");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Whether process `pid` holds an exclusive lock on the first byte of a file: in a store, the
/// header, which every reader shares for an instant of its open and of each read.
fn holds_the_header_exclusively(pid: u32) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fdinfo")) else { return false };
    fds.filter_map(Result::ok).filter_map(|fd| std::fs::read_to_string(fd.path()).ok()).any(|info| {
        info.lines().filter(|line| line.starts_with("lock:") && !line.contains("->")).any(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            fields.contains(&"WRITE") && fields.len() >= 2 && fields[fields.len() - 2] == "0"
        })
    })
}

/// Runs `command` stopped at each of its disk operations in turn (a fresh command each time, on
/// the same store, made by `command`), and checks that reads beside it answer while it is stopped
/// there (`expected`: what the receiver's journal is a prefix of), until a run ends before the
/// operation it was to stop at. Returns how many stops there were and
/// how many of them held the header exclusively.
fn stop_at_every_disk_operation(
    store: &Path,
    mut command: impl FnMut(usize) -> Command,
    expected: &str,
) -> (usize, usize) {
    let (mut stops, mut holding) = (0, 0);
    for operation in 1.. {
        let mut writer = command(operation);
        writer.env("CHENILLES_CRASH_AT_DISK_OP", format!("{operation}:stop"));
        let mut writer = writer.spawn().expect("the writer starts");
        let stopped = stopped_or_ended(&mut writer);
        if stopped {
            stops += 1;
            if holds_the_header_exclusively(writer.id()) {
                holding += 1;
            }
            check_reads(start_reads(store), expected);
            signal(&writer, "CONT");
        }
        let ended = finish_within(writer, Duration::from_secs(60), "the writer after SIGCONT");
        assert!(ended.status.success(), "writer stopped at disk operation {operation}: {}", text(&ended.stderr));
        if !stopped {
            break;
        }
    }
    (stops, holding)
}

#[test]
fn reads_answer_beside_a_writer_stopped_at_any_disk_operation() {
    reads_beside_stopped_writers(false);
}

#[test]
fn reads_answer_beside_a_writer_of_an_encrypted_store_stopped_at_any_disk_operation() {
    reads_beside_stopped_writers(true);
}

fn reads_beside_stopped_writers(encrypted: bool) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("store.redb");
    if encrypted {
        common::init_encrypted(&store);
    }
    let program = mail_dir().join("accumulator.scm");
    let started = run(vm(&store).args(["start", "--exit-when-waiting", "--name", "accumulator"]).arg(&program));
    assert!(started.status.success(), "start: {}", text(&started.stderr));

    // What reads beside the writers may show: a prefix of what the receiver prints for the
    // messages 1, 2, ... (far more than are sent).
    let could_print = accumulator_output(&(1..=1000).collect::<Vec<u64>>());
    let sent = std::cell::Cell::new(0u64);
    let next_message = || {
        sent.set(sent.get() + 1);
        sent.get().to_string()
    };

    // A `send` stopped at each of its disk operations, each run a new message that the receiver,
    // not running, does not read yet.
    let (send_stops, send_holding) = stop_at_every_disk_operation(
        &store,
        |_| {
            let mut send = vm(&store);
            send.args(["send", "accumulator", &next_message()]);
            send
        },
        &could_print,
    );

    // The receiver's host stopped at each of its disk operations: before each run one more
    // message is sent, the run receives every message waiting and exits when the receiver waits
    // again.
    let (host_stops, host_holding) = stop_at_every_disk_operation(
        &store,
        |_| {
            let sent = run(vm(&store).args(["send", "accumulator", &next_message()]));
            assert!(sent.status.success(), "send: {}", text(&sent.stderr));
            let mut host = vm(&store);
            host.args(["resume", "--exit-when-waiting", "--checkpoint-every-steps", "20000", "accumulator"]);
            host
        },
        &could_print,
    );
    let sent: Vec<u64> = (1..=sent.get()).collect();
    let all_received = accumulator_output(&sent);
    // Then `done`, and the acknowledgements: every message received once.
    let done = run(vm(&store).args(["send", "accumulator", "done"]));
    assert!(done.status.success(), "send done: {}", text(&done.stderr));
    let finished = run(vm(&store).args(["resume", "--exit-when-waiting", "accumulator"]));
    assert!(finished.status.success(), "the last resume: {}", text(&finished.stderr));
    assert_eq!(text(&run(vm(&store).args(["output", "accumulator"])).stdout), all_received);
    let observer = run(vm(&store).args(["start", "--exit-when-waiting"]).arg(mail_dir().join("observer.scm")));
    assert!(observer.status.success(), "observer: {}", text(&observer.stderr));
    let acks: String = sent.iter().map(|n| format!("(ack {n})\n")).collect();
    assert_eq!(text(&run(vm(&store).args(["output", "observer"])).stdout), acks + "done\n");
    eprintln!(
        "send stopped at {send_stops} disk operations ({send_holding} holding the header), \
         the host at {host_stops} ({host_holding} holding the header): every read answered"
    );
    assert!(send_holding > 0 && host_holding > 0, "no stop came while the header was held");
}
