//! Running a store's processes for `start` and `resume`: the host and its options, the loop that
//! lets the store go while every process waits, stops by signal, and exit codes.

use std::process::ExitCode;
use std::time::Duration;

use chenilles_durable::{DurableError, Host, Options, Status};
use chenilles_store::{FileIdentity, RedbStore, StoreWatch};

use std::sync::Arc;

use super::args::{DurableArgs, StoreArgs};
use super::exit_status;
use super::replicas::Replicator;
use super::signals::{self, StopSignals};
use super::store::{announce_runs, reopen, store_path};
use crate::note;

pub fn fail(error: DurableError) -> ExitCode {
    note!("error: {error}");
    ExitCode::FAILURE
}

/// The exit code of a process that ended with `status`.
fn exit_code(status: &Status) -> ExitCode {
    match status {
        Status::Running | Status::Waiting { .. } | Status::Finished => ExitCode::SUCCESS,
        Status::Exited(code) => exit_status(*code),
        Status::Failed { .. } | Status::Cancelled { .. } => ExitCode::FAILURE,
    }
}

/// How often a `start` or `resume` whose processes all wait for messages looks at the store again.
const MAIL_POLL: Duration = Duration::from_millis(200);

/// Runs the host's processes until each has ended: while they all wait for messages, the store is
/// let go (so that `chenilles-vm send` can deliver one) and watched ([`wait_for_news`]) until it
/// holds news for them or the earliest deadline comes. With `--exit-when-waiting`, returns as soon as they all wait instead.
/// The exit code is that of the last process that did not finish cleanly, if any.
///
/// A first SIGINT or SIGTERM stops the processes at a checkpoint and returns `128 + signal`,
/// saying how to go on.
pub fn drive(
    mut host: Host,
    identity: Option<FileIdentity>,
    signals: &StopSignals,
    store_args: &StoreArgs,
    durable_args: &DurableArgs,
) -> ExitCode {
    let mut code = ExitCode::SUCCESS;
    let mut announced: Vec<String> = Vec::new();
    // Say which processes this host runs, for `ps` (it holds the store's lock now).
    announce_runs(store_args, &host.names());
    loop {
        let ended = match host.run() {
            Ok(ended) => ended,
            Err(error) => return fail(error),
        };
        if let Some(signal) = signals.received() {
            return stopped(&host, signal);
        }
        for (name, status) in ended {
            if let Status::Failed { report } = &status
                && let Some(capability) = chenilles_machine::capabilities::missing_capability(report)
            {
                note!(
                    "hint: process {name} keeps the grants it was started with: start it again with --grant {capability}"
                );
            }
            if !matches!(status, Status::Finished) {
                code = exit_code(&status);
            }
        }
        let waiting = host.waiting();
        if waiting.is_empty() {
            return code;
        }
        for (name, until) in &waiting {
            if !announced.contains(name) {
                let until = until.map_or(String::new(), |t| {
                    let ms = t.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
                    format!(" (at most until {})", super::present::moment(ms, std::time::SystemTime::now()))
                });
                note!(
                    "chenilles-vm: process {name} waits for a message{until}; deliver one with: chenilles-vm send {name} DATUM"
                );
            }
        }
        announced = waiting.into_iter().map(|(name, _)| name).collect();
        if durable_args.exit_when_waiting {
            return code;
        }
        let waiting_names = host.names();
        drop(host.release_store());
        if let Err(code) = wait_for_news(&host, signals, store_args) {
            return code;
        }
        let store = match reopen(store_args, identity, &waiting_names) {
            Ok(store) => store,
            Err(code) => return code,
        };
        match host.attach_store(Box::new(store)) {
            Ok(ended_elsewhere) => {
                for (name, status) in ended_elsewhere {
                    note!("chenilles-vm: process {name} was ended by another command meanwhile: {}", status.word());
                    code = exit_code(&status);
                }
            }
            Err(error) => return fail(error),
        }
    }
}

/// Waits, without holding the store, until it may hold news for the host's waiting processes (a
/// message, a process advanced by another program) or a deadline comes. Each [`MAIL_POLL`] costs
/// one `stat` of the store file while nothing is committed; after a commit, a read-only look at
/// the refs of the host's processes and mailboxes. `Err` is the exit code of a stop by a signal.
fn wait_for_news(host: &Host, signals: &StopSignals, store_args: &StoreArgs) -> Result<(), ExitCode> {
    let path = store_path(store_args);
    let mut watch = StoreWatch::new(&path);
    loop {
        let until_deadline =
            host.next_deadline().map(|t| t.duration_since(std::time::SystemTime::now()).unwrap_or_default());
        let nap = until_deadline.map_or(MAIL_POLL, |d| d.min(MAIL_POLL));
        let woke = std::time::Instant::now() + nap;
        while let Some(left) = woke.checked_duration_since(std::time::Instant::now()).filter(|d| !d.is_zero()) {
            if let Some(signal) = signals.received() {
                return Err(stopped(host, signal));
            }
            std::thread::sleep(left.min(SIGNAL_LOOK));
        }
        if until_deadline.is_some_and(|d| d <= nap) {
            return Ok(());
        }
        if !watch.changed() {
            continue;
        }
        // Something was committed: look, read-only (beside whoever writes it now), whether it
        // concerns this host. Anything unexpected is left to the writable open to report.
        match RedbStore::open_with(&path, chenilles_store::Mode::ReadOnly, &super::unlocking::known()) {
            Ok(store) => match host.has_news(&store) {
                Ok(false) => continue,
                Ok(true) | Err(_) => return Ok(()),
            },
            Err(_) => return Ok(()),
        }
    }
}

/// How often a waiting command looks for a stop signal.
const SIGNAL_LOOK: Duration = Duration::from_millis(20);

/// Says that the processes stopped at their checkpoints and how to go on; the exit code of a
/// command ended by `signal`.
fn stopped(host: &Host, signal: i32) -> ExitCode {
    let names = host.names();
    let which = if names.is_empty() { "nothing was running".to_string() } else { names.join(", ") };
    note!(
        "chenilles-vm: stopped by {}: {which} saved at the last checkpoint; go on with: chenilles-vm resume {}",
        signals::name(signal),
        names.join(" ")
    );
    ExitCode::from((128 + signal).clamp(0, 255) as u8)
}

/// How the host's processes' output reaches stdout.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Echo {
    /// As each process writes it.
    Plain,
    /// Each line after its process's name (`alice | …`): several processes on a terminal.
    Prefixed,
}

impl Echo {
    /// Prefixed when `processes` run and interleave on a terminal.
    pub fn for_processes(processes: usize) -> Echo {
        use std::io::IsTerminal;
        if processes > 1 && std::io::stdout().is_terminal() { Echo::Prefixed } else { Echo::Plain }
    }
}

/// Writes each line of a process's output after its name, so that interleaved lines of several
/// processes can be told apart.
struct Prefixed {
    prefix: Vec<u8>,
    at_line_start: bool,
}

impl std::io::Write for Prefixed {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut text = Vec::with_capacity(bytes.len() + self.prefix.len());
        for line in bytes.split_inclusive(|&b| b == b'\n') {
            if self.at_line_start {
                text.extend_from_slice(&self.prefix);
            }
            text.extend_from_slice(line);
            self.at_line_start = line.ends_with(b"\n");
        }
        // One write per chunk: a line of one process is not cut by another's.
        std::io::stdout().lock().write_all(&text)?;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stdout().flush()
    }
}

/// A host for the store's processes, and the replicator that sends its commits to the store's
/// replicas (none if it lists none); with `--replicas-required K`, the host's checkpoints wait
/// for K of them. Refuses a K above the replicas the store lists.
pub fn host_for(
    store: RedbStore,
    durable_args: &DurableArgs,
    signals: &StopSignals,
    echo: Echo,
) -> Result<(Host, Option<Arc<Replicator>>), ExitCode> {
    let replicas = store.replicas().map_err(|error| {
        note!("error: {error}");
        ExitCode::FAILURE
    })?;
    let required = durable_args.replicas_required;
    if required > replicas.len() {
        note!(
            "error: --replicas-required {required}, but the store lists {} replica(s) (add one: chenilles-vm replica add NAME TARGET)",
            replicas.len()
        );
        return Err(ExitCode::FAILURE);
    }
    let replicator = Replicator::start(&store).map(Arc::new);
    let mut host = Host::new(Box::new(store));
    let stop = signals.flag();
    let barrier: Option<chenilles_durable::Barrier> = match (&replicator, required) {
        (Some(replicator), 1..) => {
            let (replicator, stop) = (replicator.clone(), stop.clone());
            Some(Arc::new(move || replicator.wait_for(required, &|| stop.load(std::sync::atomic::Ordering::Relaxed))))
        }
        _ => None,
    };
    let args = durable_args.clone();
    host.set_options(move |name| Options {
        echo: match echo {
            Echo::Plain => Box::new(std::io::stdout()),
            Echo::Prefixed => Box::new(Prefixed { prefix: format!("{name} | ").into_bytes(), at_line_start: true }),
        },
        checkpoint_every: Duration::from_millis(args.checkpoint_every),
        checkpoint_share: args.checkpoint_share,
        checkpoint_every_steps: args.checkpoint_every_steps,
        reproducible: args.reproducible,
        reload_each_checkpoint: args.reload_each_checkpoint,
        keep_history: args.keep_history,
        stop: Some(stop.clone()),
        barrier: barrier.clone(),
        ..Options::default()
    });
    Ok((host, replicator))
}

/// How long a command that ends gives its replicas to take its last commits.
const LAST_SYNC_GRACE: Duration = Duration::from_secs(30);

/// Lets the replicas take the last commits (those that can be reached), then stops replicating.
pub fn finish_replicating(replicator: Option<Arc<Replicator>>) {
    if let Some(replicator) = replicator {
        replicator.finish(LAST_SYNC_GRACE);
    }
}
