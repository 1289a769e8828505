//! Commands frozen with SIGSTOP at random instants — a host running a process, a `send` —
//! wherever they are: mid-computation, waiting, mid-commit with the store's lock held. While one
//! is frozen, reading commands started beside it end with what the last commit held; after SIGCONT everything
//! goes on; a frozen host killed where it stands resumes like any killed one. At the end the
//! receiver's output and its acknowledgements are those of an undisturbed run: every message
//! received exactly once, in order. `CHENILLES_CRASH_SEED=N` replays the choices,
//! `CHENILLES_CRASH_ROUNDS=N` runs N conversations (default 1; the campaign runs more).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use common::{accumulator_output, finish_within, run, text, vm};

fn mail_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/durable/mail")
}

/// Sends `signal` (a name `kill` knows: STOP, CONT, KILL) to `child`.
fn signal(child: &Child, signal: &str) {
    let status = Command::new("kill").arg(format!("-{signal}")).arg(child.id().to_string()).status();
    assert!(status.is_ok_and(|s| s.success()), "kill -{signal} {}", child.id());
}

fn status_of(store: &Path, name: &str) -> String {
    let ps = run(vm(store).arg("ps"));
    if text(&ps.stderr).contains("there is no store") {
        return "absent".to_string();
    }
    assert!(ps.status.success(), "ps: {}", text(&ps.stderr));
    let listing = text(&ps.stdout);
    listing
        .lines()
        .find(|line| line.split_whitespace().next() == Some(name))
        .and_then(|line| line.split_whitespace().nth(1))
        .unwrap_or("absent")
        .to_string()
}

/// Reading commands started while a command is frozen (`ps`, and `output` of the receiver).
fn start_reads(store: &Path) -> (Child, Child) {
    (vm(store).arg("ps").spawn().expect("ps"), vm(store).args(["output", "accumulator"]).spawn().expect("output"))
}

/// Reads started beside a frozen command end, once it has been continued or killed, with what
/// the last commit held: `ps` lists the store and the journal is a prefix of what the receiver
/// will print. (They are not yet required to answer while it is frozen: in one CI run on
/// 2026-12-01, `ps` beside a frozen command had not ended after 20 s; the cause is not found yet.)
fn check_reads(reads: (Child, Child), expected: &str) {
    let limit = Duration::from_secs(60);
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
    let seed =
        std::env::var("CHENILLES_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| fastrand::u64(..));
    eprintln!("seed: {seed} (CHENILLES_CRASH_SEED={seed} replays the choices)");
    let mut rng = fastrand::Rng::with_seed(seed);
    let rounds: usize = std::env::var("CHENILLES_CRASH_ROUNDS").ok().and_then(|s| s.parse().ok()).unwrap_or(1);
    for round in 1..=rounds {
        eprint!("round {round}: ");
        freeze_a_conversation(&mut rng);
    }
}

/// Delivers ten numbers and `done` to `mail/accumulator.scm`, freezing one command around each
/// delivery; checks what the receiver printed and acknowledged.
fn freeze_a_conversation(rng: &mut fastrand::Rng) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("store.redb");
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
        let mut sender = vm(&store).args(["send", "accumulator", &n.to_string()]).spawn().expect("send starts");
        std::thread::sleep(Duration::from_micros(rng.u64(0..80_000)));
        let freeze_the_sender = rng.u32(0..3) == 0 && sender.try_wait().expect("wait").is_none();
        let victim = if freeze_the_sender { &sender } else { &host };
        signal(victim, "STOP");
        let reads = start_reads(&store);
        std::thread::sleep(Duration::from_micros(rng.u64(0..150_000)));
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
        check_reads(reads, &expected);
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
