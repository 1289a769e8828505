//! The durable commands of `chenilles-vm`: `start`, `resume`, `ps`, `output`, `inspect`, `gc` and
//! `verify`, over a store at `--store`, `CHENILLES_STORE`, or `.chenilles/store.redb`.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use chenilles_durable::Host;
use chenilles_durable::blob::children_of;
use chenilles_durable::{DurableError, Options, Status};
use chenilles_machine::messaging::parse_message;
use chenilles_machine::{Machine, render_backtrace};
use chenilles_store::{BlobStore, FileIdentity, Hash, RedbStore, StoreError, StoreWatch};

use super::signals::{self, StopSignals};
use super::store::{
    Open, Verifying, open_existing, open_for_reading, open_for_verifying, open_for_writing, reopen, store_path,
};
use super::{Listing, exit_status};
use crate::{DurableArgs, ProgramArgs, StoreArgs, prepare};
use crate::{note, say};

fn fail(error: DurableError) -> ExitCode {
    note!("error: {error}");
    ExitCode::FAILURE
}

/// The exit code of a process that ended with `status`.
fn exit_code(status: &Status) -> ExitCode {
    match status {
        Status::Running | Status::Waiting { .. } | Status::Finished => ExitCode::SUCCESS,
        Status::Exited(code) => exit_status(*code),
        Status::Failed { .. } => ExitCode::FAILURE,
    }
}

/// A name for a new process: `wanted`, or the program's file stem made unique in the store.
fn process_name(store: &RedbStore, wanted: Option<String>, program: &Path) -> Result<String, StoreError> {
    if let Some(name) = wanted {
        return Ok(name);
    }
    let stem = program.file_stem().map_or_else(|| "process".to_string(), |s| s.to_string_lossy().into_owned());
    let mut name = stem.clone();
    let mut n = 1;
    while store.get_ref(&chenilles_durable::process_ref(&name))?.is_some() {
        n += 1;
        name = format!("{stem}-{n}");
    }
    Ok(name)
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
fn drive(
    mut host: Host,
    identity: Option<FileIdentity>,
    signals: &StopSignals,
    store_args: &StoreArgs,
    durable_args: &DurableArgs,
) -> ExitCode {
    let mut code = ExitCode::SUCCESS;
    let mut announced: Vec<String> = Vec::new();
    loop {
        let ended = match host.run() {
            Ok(ended) => ended,
            Err(error) => return fail(error),
        };
        if let Some(signal) = signals.received() {
            return stopped(&host, signal);
        }
        for (_, status) in ended {
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
                let until = until.map_or(String::new(), |t| format!(" (at most until {t:.3}, Unix time)"));
                note!(
                    "chenilles-vm: process {name} waits for a message{until}; deliver one with: chenilles-vm send {name} DATUM"
                );
            }
        }
        announced = waiting.into_iter().map(|(name, _)| name).collect();
        if durable_args.exit_when_waiting {
            return code;
        }
        let waiting_names: Vec<String> = host.waiting().into_iter().map(|(name, _)| name).collect();
        drop(host.release_store());
        if let Err(code) = wait_for_news(&host, signals, store_args) {
            return code;
        }
        let store = match reopen(store_args, identity, &waiting_names) {
            Ok(store) => store,
            Err(code) => return code,
        };
        if let Err(error) = host.attach_store(Box::new(store)) {
            return fail(error);
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
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let until_deadline = host.next_deadline().map(|t| Duration::from_secs_f64((t - now.as_secs_f64()).max(0.0)));
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
        match RedbStore::open_read_only(&path) {
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

fn host_for(store: RedbStore, durable_args: &DurableArgs, signals: &StopSignals) -> Host {
    let mut host = Host::new(Box::new(store));
    let stop = signals.flag();
    let args = durable_args.clone();
    host.set_options(move |_| Options {
        checkpoint_every: Duration::from_millis(args.checkpoint_every),
        checkpoint_share: args.checkpoint_share,
        checkpoint_every_steps: args.checkpoint_every_steps,
        reproducible: args.reproducible,
        reload_each_checkpoint: args.reload_each_checkpoint,
        keep_history: args.keep_history,
        stop: Some(stop.clone()),
        ..Options::default()
    });
    host
}

pub fn start(store_args: &StoreArgs, name: Option<String>, durable_args: &DurableArgs, args: ProgramArgs) -> ExitCode {
    let signals = StopSignals::install();
    let program = args.program.clone();
    let grants = args.grant.clone();
    let mut machine = Machine::durable();
    let image = match prepare(&mut machine, args) {
        Ok(image) => image,
        Err(code) => return code,
    };
    let store = match open_for_writing(store_args, Open::OrCreate) {
        Ok(store) => store,
        Err(code) => return code,
    };
    let name = match process_name(&store, name, &program) {
        Ok(name) => name,
        Err(error) => return fail(error.into()),
    };
    let identity = store.identity();
    let mut host = host_for(store, durable_args, &signals);
    let program_text = program.display().to_string();
    let grants: Vec<&str> = grants.iter().map(String::as_str).collect();
    match host.spawn(&name, &program_text, machine, &image, &grants) {
        Ok(()) => {}
        Err(error @ DurableError::NameTaken(_)) => {
            note!("error: {error} (choose another name with --name)");
            return ExitCode::FAILURE;
        }
        Err(error) => return fail(error),
    }
    note!("chenilles-vm: started process {name} in {}", store_path(store_args).display());
    drive(host, identity, &signals, store_args, durable_args)
}

pub fn resume(store_args: &StoreArgs, durable_args: &DurableArgs, names: Vec<String>) -> ExitCode {
    let signals = StopSignals::install();
    let store = match open_existing(store_args) {
        Ok(store) => store,
        Err(code) => return code,
    };
    let all = names.is_empty();
    let names = if all {
        match process_names(&store) {
            Ok(names) => names,
            Err(error) => return fail(error.into()),
        }
    } else {
        names
    };
    let identity = store.identity();
    let mut host = host_for(store, durable_args, &signals);
    // A process that cannot be resumed (its state is damaged) is reported, and the others go on.
    let mut failed = false;
    for name in names {
        match host.resume(&name) {
            Ok(()) => {}
            Err(DurableError::Ended { .. }) if all => {}
            Err(error @ DurableError::Ended { .. }) => note!("chenilles-vm: {error}"),
            Err(error) => {
                note!("error: process {name} cannot be resumed: {error}");
                failed = true;
            }
        }
    }
    let code = drive(host, identity, &signals, store_args, durable_args);
    if failed { ExitCode::FAILURE } else { code }
}

pub fn send(store_args: &StoreArgs, name: &str, text: &str) -> ExitCode {
    let datum = match parse_message(text) {
        Ok(datum) => datum,
        Err(error) => {
            note!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    // A `start` or `resume` waiting for this message lets the store go often: wait for it.
    let mut store = match open_for_writing(&StoreArgs { store: store_args.store.clone(), wait: true }, Open::OrCreate) {
        Ok(store) => store,
        Err(code) => return code,
    };
    match chenilles_durable::deliver(&mut store, name, "host", &datum) {
        Ok(seq) => {
            note!("chenilles-vm: delivered message {seq} to {name}");
            ExitCode::SUCCESS
        }
        Err(error) => fail(error.into()),
    }
}

/// The names of the processes in the store (whether or not their records can be read).
fn process_names(store: &RedbStore) -> Result<Vec<String>, StoreError> {
    Ok(store.list_refs()?.into_iter().filter_map(|(name, _)| name.strip_prefix("process/").map(String::from)).collect())
}

/// A process's name, and its newest record or why that record cannot be read.
type ProcessRecord = (String, Result<chenilles_durable::Record, DurableError>);

/// Every process of the store with its newest record, or why that record cannot be read: one
/// damaged process does not hide the others.
fn processes(store: &RedbStore) -> Result<Vec<ProcessRecord>, StoreError> {
    Ok(process_names(store)?.into_iter().map(|name| (name.clone(), record_of(store, &name))).collect())
}

pub fn ps(store_args: &StoreArgs) -> ExitCode {
    let store = match open_for_reading(store_args) {
        Ok(store) => store,
        Err(code) => return code,
    };
    let processes = match processes(&store) {
        Ok(processes) => processes,
        Err(error) => return fail(error.into()),
    };
    let mut out = Listing::default();
    let mut code = ExitCode::SUCCESS;
    say!(out, "{:<24} {:<12} {:>11} {:>12} {:>5}  PROGRAM", "NAME", "STATUS", "CHECKPOINTS", "OUTPUT", "MAIL");
    for (name, record) in processes {
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                say!(out, "{name:<24} {:<12} {:>11} {:>12} {:>5}  ?", "damaged", "?", "?", "?");
                match error {
                    DurableError::BadRecord { .. } => note!("error: {error}"),
                    _ => note!("error: the record of process {name} cannot be read: {error}"),
                }
                code = ExitCode::FAILURE;
                continue;
            }
        };
        let mail = match chenilles_durable::waiting_count(&store, &name) {
            Ok(count) => count.to_string(),
            Err(error) => {
                note!("error: the mailbox of process {name} cannot be read: {error}");
                code = ExitCode::FAILURE;
                "?".to_string()
            }
        };
        say!(
            out,
            "{name:<24} {:<12} {:>11} {:>12} {mail:>5}  {}",
            record.status.word(),
            record.checkpoints,
            format!("{} B", record.output_len),
            record.program
        );
    }
    out.finish(code)
}

fn record_of(store: &RedbStore, name: &str) -> Result<chenilles_durable::Record, DurableError> {
    let hash = store
        .get_ref(&chenilles_durable::process_ref(name))?
        .ok_or_else(|| DurableError::NoSuchProcess(name.into()))?;
    chenilles_durable::read_record(store, name, hash)
}

pub fn output(store_args: &StoreArgs, name: &str) -> ExitCode {
    let store = match open_for_reading(store_args) {
        Ok(store) => store,
        Err(code) => return code,
    };
    match record_of(&store, name).and_then(|record| chenilles_durable::read_output(&store, &record)) {
        Ok(bytes) => {
            let mut out = Listing::default();
            out.write(&bytes);
            out.finish(ExitCode::SUCCESS)
        }
        Err(error) => fail(error),
    }
}

pub fn inspect(store_args: &StoreArgs, name: &str) -> ExitCode {
    let store = match open_for_reading(store_args) {
        Ok(store) => store,
        Err(code) => return code,
    };
    let record = match record_of(&store, name) {
        Ok(record) => record,
        Err(error) => return fail(error),
    };
    let mut out = Listing::default();
    let time = |ms: u64| {
        let seconds = ms / 1000;
        format!("{seconds}.{:03} (Unix time)", ms % 1000)
    };
    say!(out, "process:      {name}");
    say!(out, "program:      {}", record.program);
    say!(out, "status:       {}", record.status.word());
    say!(out, "started:      {}", time(record.started_ms));
    say!(out, "checkpoints:  {}", record.checkpoints);
    say!(
        out,
        "last:         {}, wrote {} bytes ({} heap pages)",
        time(record.time_ms),
        record.bytes_written,
        record.pages_written
    );
    say!(out, "steps:        {}", record.steps);
    say!(out, "output:       {} bytes ({} echoed)", record.output_len, record.echoed);
    say!(out, "effects:      {}", record.effect_count);
    match chenilles_durable::read_effects(&store, &record) {
        Ok(effects) => {
            for effect in effects.iter().rev().take(5).rev() {
                say!(out, "              {effect}");
            }
        }
        Err(error) => say!(out, "              the effect journal cannot be read: {error}"),
    }
    match chenilles_durable::read_mailbox(&store, name) {
        Ok((_, mailbox)) => {
            say!(out, "mailbox:      {} received, {} waiting", record.received, mailbox.messages.len());
            for message in mailbox.messages.iter().take(5) {
                say!(out, "              #{} from {}: {}", message.seq, message.from, message.text);
            }
        }
        Err(error) => say!(out, "mailbox:      unreadable: {error}"),
    }
    if let Some(result) = &record.result {
        say!(out, "result:       {result}");
    }
    if let Status::Failed { report } = &record.status {
        out.write(report.as_bytes());
    }
    if let Some(snapshot) = record.snapshot {
        say!(out, "snapshot:     {}", Hash(snapshot));
        match chenilles_durable::restore_detached(&store, Hash(snapshot), Box::new(std::io::sink())) {
            Ok((vm, _)) => {
                let (backtrace, omitted) = vm.backtrace();
                if backtrace.is_empty() {
                    say!(out, "continuation: between top-level forms");
                } else {
                    out.write(format!("continuation: {}", render_backtrace(&backtrace, omitted)).as_bytes());
                }
            }
            Err(error) => say!(out, "continuation: cannot be restored: {error}"),
        }
    }
    out.finish(ExitCode::SUCCESS)
}

pub fn gc(store_args: &StoreArgs) -> ExitCode {
    let mut store = match open_for_writing(store_args, Open::Checked) {
        Ok(store) => store,
        Err(code) => return code,
    };
    let mut out = Listing::default();
    match store.gc(&children_of) {
        Ok(report) => {
            say!(
                out,
                "kept {} blobs ({} bytes), removed {} ({} bytes)",
                report.blobs_kept,
                report.bytes_kept,
                report.blobs_removed,
                report.bytes_removed
            );
            match report.compacted {
                Some((before, after)) => say!(out, "compacted the file: {before} bytes before, {after} after"),
                None => {
                    let size = std::fs::metadata(store_path(store_args)).map(|m| m.len()).unwrap_or_default();
                    say!(out, "the file: {size} bytes (not worth compacting)");
                }
            }
            if !report.missing.is_empty() {
                say!(out, "missing (referred to but not held): {}", report.missing.len());
                let names: Vec<String> = report.missing.iter().take(10).map(Hash::to_string).collect();
                let more = report.missing.len().saturating_sub(names.len());
                let more = if more > 0 { format!(" and {more} more") } else { String::new() };
                let (count, are) = match report.missing.len() {
                    1 => ("1 blob".to_string(), "is"),
                    n => (format!("{n} blobs"), "are"),
                };
                note!(
                    "error: the store is damaged: {count} referred to {are} missing: {}{more} (see chenilles-vm verify)",
                    names.join(", ")
                );
                return out.finish(ExitCode::FAILURE);
            }
            out.finish(ExitCode::SUCCESS)
        }
        Err(error) => fail(error.into()),
    }
}

pub fn verify(store_args: &StoreArgs, replay: Option<&str>) -> ExitCode {
    // Every page is checked when no other process writes the store; beside a writer, a read-only
    // look checks everything but redb's page checksums, and says so.
    let store = match open_for_verifying(store_args) {
        Ok((store, Verifying::EveryPage)) => store,
        Ok((store, Verifying::BesideAWriter)) => {
            note!(
                "chenilles-vm: the store is open for writing by another process: verifying its newest commit \
                 read-only (page checksums are checked when no other process writes it)"
            );
            store
        }
        Ok((store, Verifying::ReadOnlyFile)) => {
            note!(
                "chenilles-vm: the store cannot be written here: verifying it read-only (page checksums are \
                 checked only where the file can be opened for writing)"
            );
            store
        }
        Err(code) => return code,
    };
    let report = match store.verify() {
        Ok(report) => report,
        Err(error) => return fail(error.into()),
    };
    let mut out = Listing::default();
    say!(out, "checked {} blobs and {} refs", report.blobs_checked, report.refs_checked);
    for hash in &report.corrupt_blobs {
        say!(out, "corrupt blob: {hash}");
    }
    for (name, hash) in &report.dangling_refs {
        say!(out, "dangling ref: {name} -> {hash}");
    }
    for what in &report.malformed {
        say!(out, "malformed: {what}");
    }
    let mut damaged = !report.is_clean();
    // Every blob reachable from a ref must be held (the store's own check reads each blob alone).
    match chenilles_store::missing_blobs(&store, &children_of) {
        Ok(missing) => {
            for (hash, from) in missing {
                if !report.dangling_refs.iter().any(|(_, target)| *target == hash) {
                    say!(out, "missing blob: {hash} (reached from {from})");
                    damaged = true;
                }
            }
        }
        Err(error) => {
            say!(out, "{error}");
            damaged = true;
        }
    }
    // Every process's state must be whole: its record, journals and snapshot tree.
    match processes(&store) {
        Ok(processes) => {
            for (name, record) in processes {
                let problem = record
                    .and_then(|record| {
                        chenilles_durable::read_output(&store, &record)?;
                        chenilles_durable::read_effects(&store, &record)?;
                        if let Some(root) = record.snapshot {
                            chenilles_durable::restore_detached(&store, Hash(root), Box::new(std::io::sink()))?;
                        }
                        Ok(())
                    })
                    .err();
                match problem {
                    // These name the process already.
                    Some(problem @ (DurableError::BadRecord { .. } | DurableError::NoSuchProcess(_))) => {
                        say!(out, "{problem}");
                        damaged = true;
                    }
                    Some(problem) => {
                        say!(out, "process {name}: {problem}");
                        damaged = true;
                    }
                    None => {}
                }
            }
        }
        Err(error) => {
            say!(out, "{error}");
            damaged = true;
        }
    }
    if let Some(name) = replay {
        match chenilles_durable::replay(&store, name) {
            Ok(chenilles_durable::Replay::Same { checkpoints, effects }) => say!(
                out,
                "replay of {name}: {checkpoints} checkpoints and the ending reproduced, with {effects} journaled effects"
            ),
            Ok(chenilles_durable::Replay::Diverged { checkpoint, what }) => {
                say!(out, "replay of {name}: diverged at checkpoint {checkpoint}: {what}");
                damaged = true;
            }
            Err(error @ DurableError::NoHistory(_)) => {
                say!(out, "replay of {name}: {error} (start it with --keep-history to replay it)");
                damaged = true;
            }
            Err(error) => {
                say!(out, "replay of {name}: {error}");
                damaged = true;
            }
        }
    }
    if damaged {
        say!(out, "the store is damaged");
        out.finish(ExitCode::FAILURE)
    } else {
        say!(out, "the store is intact");
        out.finish(ExitCode::SUCCESS)
    }
}
