//! `chenilles-vm replica add | remove | list | status | sync | check`: the copies of a store
//! elsewhere (a directory, an S3 bucket, a CAR archive), which `start`, `resume` and `serve`
//! bring up to date after each commit and `restore` rebuilds a store from.

use std::process::ExitCode;
use std::time::SystemTime;

use chenilles_store::replica::{self, ReplicaConfig, ReplicaTarget, SyncMemory, SyncOutcome};
use chenilles_store::{RedbStore, StoreError};

use crate::cli::Listing;
use crate::cli::args::StoreArgs;
use crate::cli::present;
use crate::cli::replicas::{connect, normalize};
use crate::cli::store::{Open, open_for_reading, open_for_writing};
use crate::{note, say};

#[derive(clap::Args)]
pub struct Replica {
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand)]
enum Action {
    /// Add a replica: a directory (`dir:PATH`, or a path: a mounted disk, a network share), an S3
    /// bucket (`s3://BUCKET/PREFIX?endpoint=http://HOST:PORT&region=R`, credentials from
    /// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) or a CAR archive for IPFS tools (`car:FILE`).
    /// From then on every commit is sent to it in the background by `start`, `resume` and
    /// `serve`; `replica sync` sends what is missing now.
    Add(Add),
    /// Stop replicating to a replica (what it holds stays there).
    Remove(Named),
    /// List the replicas, and the store id their root records carry (for `restore --store-id`).
    List(Plain),
    /// How far each replica is: commits and bytes it lacks, its last success and last error.
    Status(Plain),
    /// Send each replica (or those named) what it lacks now, and wait until it holds it.
    Sync(Names),
    /// Scrub a replica: read what it holds, send again what is missing (or damaged, with
    /// --read-data) and a new root record.
    Check(Check),
}

#[derive(clap::Args)]
struct Add {
    #[command(flatten)]
    store: StoreArgs,
    /// The replica's name, for commands.
    name: String,
    /// Where it is.
    target: String,
}

#[derive(clap::Args)]
struct Named {
    #[command(flatten)]
    store: StoreArgs,
    /// The replica's name.
    name: String,
}

#[derive(clap::Args)]
struct Plain {
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(clap::Args)]
struct Names {
    #[command(flatten)]
    store: StoreArgs,
    /// The replicas to bring up to date (all when none is named).
    names: Vec<String>,
}

#[derive(clap::Args)]
struct Check {
    #[command(flatten)]
    store: StoreArgs,
    /// Read every block and check it against its CID (flipped bits are found and the blobs sent
    /// again); without it, each pack is taken at its index's word.
    #[arg(long)]
    read_data: bool,
    /// The replicas to check (all when none is named).
    names: Vec<String>,
}

impl Replica {
    pub fn execute(self) -> ExitCode {
        match self.action {
            Action::Add(add) => add.execute(),
            Action::Remove(named) => remove(named),
            Action::List(plain) => list(plain),
            Action::Status(plain) => status(plain),
            Action::Sync(names) => sync(names),
            Action::Check(check) => check.execute(),
        }
    }
}

fn failed(error: impl std::fmt::Display) -> ExitCode {
    note!("error: {error}");
    ExitCode::FAILURE
}

impl Add {
    fn execute(self) -> ExitCode {
        if let Err(cause) = replica::check_replica_name(&self.name) {
            return failed(cause);
        }
        let target = match normalize(&self.target) {
            Ok(target) => target,
            Err(error) => return failed(error),
        };
        let connected = match connect(&target) {
            Ok(connected) => connected,
            Err(error) => return failed(error),
        };
        let mut store = match open_for_writing(&self.store, Open::OrCreate) {
            Ok(store) => store,
            Err(code) => return code,
        };
        if let Err(error) = connected.init() {
            return failed(error);
        }
        let reachable = connected.list("roots/");
        match store.add_replica(&self.name, &target) {
            Ok(added) => {
                note!("chenilles-vm: replica {} is {}", added.name, connected.describe());
                if let Err(error) = reachable {
                    note!(
                        "warning: it cannot be reached now ({error}); commits wait for it in the store's log, \
                         and go when it is back"
                    );
                }
                ExitCode::SUCCESS
            }
            Err(error) => failed(error),
        }
    }
}

fn remove(named: Named) -> ExitCode {
    let mut store = match open_for_writing(&named.store, Open::Existing) {
        Ok(store) => store,
        Err(code) => return code,
    };
    match store.remove_replica(&named.name) {
        Ok(removed) => {
            note!(
                "chenilles-vm: no longer replicating to {} ({}); what it holds stays there",
                removed.name,
                removed.target
            );
            ExitCode::SUCCESS
        }
        Err(error) => failed(error),
    }
}

fn list(plain: Plain) -> ExitCode {
    let store = match open_for_reading(&plain.store) {
        Ok(store) => store,
        Err(code) => return code,
    };
    let (replicas, id) = match (store.replicas(), replica::store_id(&store)) {
        (Ok(replicas), Ok(id)) => (replicas, id),
        (Err(error), _) | (_, Err(error)) => return failed(error),
    };
    let mut listing = Listing::default();
    if let Some(id) = id {
        say!(listing, "store id {id}");
    }
    for replica in replicas {
        say!(listing, "{}  {}", replica.name, replica.target);
    }
    listing.finish(ExitCode::SUCCESS)
}

fn status(plain: Plain) -> ExitCode {
    let store = match open_for_reading(&plain.store) {
        Ok(store) => store,
        Err(code) => return code,
    };
    let statuses = match replica::status(&store) {
        Ok(statuses) => statuses,
        Err(error) => return failed(error),
    };
    let now = SystemTime::now();
    let mut listing = Listing::default();
    for status in statuses {
        let lag = match (status.lag_commits, status.lag_bytes) {
            (0, _) => "up to date".to_string(),
            (commits, Some(bytes)) => format!("{commits} commit(s), {} behind", present::size(bytes)),
            (commits, None) => format!("{commits} commit(s) behind (compared whole at its next pass)"),
        };
        let success = status
            .last_success_ms
            .map_or("never synced".to_string(), |ms| format!("last synced {}", present::moment(ms, now)));
        say!(listing, "{}  at {}/{}  {lag}  {success}", status.replica.name, status.acked, status.store_seq);
        if let Some((ms, error)) = &status.last_error {
            say!(listing, "  last error {}: {error}", present::moment(*ms, now));
        }
        if let Some(note) = &status.went_back {
            say!(listing, "  went back: {note}");
        }
    }
    listing.finish(ExitCode::SUCCESS)
}

/// The replicas named (all when none is), or the error for one that is not.
fn chosen(store: &RedbStore, names: &[String]) -> Result<Vec<ReplicaConfig>, ExitCode> {
    let replicas = store.replicas().map_err(failed)?;
    if names.is_empty() {
        if replicas.is_empty() {
            note!("chenilles-vm: the store lists no replica (add one: chenilles-vm replica add NAME TARGET)");
        }
        return Ok(replicas);
    }
    names
        .iter()
        .map(|name| {
            replicas
                .iter()
                .find(|r| r.name == *name)
                .cloned()
                .ok_or_else(|| failed(StoreError::BadReplica { cause: format!("there is no replica named {name:?}") }))
        })
        .collect()
}

/// Opens the store for reading and runs `work` on each replica `names` chooses (all when it is
/// empty), each connected to its target; a failure is said, and the others go on.
fn each_replica(
    store: &StoreArgs,
    names: &[String],
    mut work: impl FnMut(&RedbStore, &ReplicaConfig, &dyn ReplicaTarget) -> Result<(), String>,
) -> ExitCode {
    let store = match open_for_reading(store) {
        Ok(store) => store,
        Err(code) => return code,
    };
    let replicas = match chosen(&store, names) {
        Ok(replicas) => replicas,
        Err(code) => return code,
    };
    let mut code = ExitCode::SUCCESS;
    for replica in replicas {
        let outcome = connect(&replica.target)
            .map_err(|error| error.to_string())
            .and_then(|target| work(&store, &replica, target.as_ref()));
        if let Err(error) = outcome {
            code = failed(format!("{}: {error}", replica.name));
        }
    }
    code
}

/// How long a command waits before it looks again at a replica another command's pass holds (a
/// running `start` or `serve`).
const BUSY_LOOK: std::time::Duration = std::time::Duration::from_millis(100);

fn sync(names: Names) -> ExitCode {
    let mut memory = SyncMemory::default();
    each_replica(&names.store, &names.names, |store, replica, target| {
        let outcome = loop {
            match replica::sync(store, replica, target, &mut memory).map_err(|e| e.to_string())? {
                SyncOutcome::Busy => std::thread::sleep(BUSY_LOOK),
                outcome => break outcome,
            }
        };
        match outcome {
            SyncOutcome::Synced(report) => note!(
                "{}: at sequence {}: {} blob(s), {} in {} pack(s){}",
                replica.name,
                report.seq,
                report.blobs_sent,
                present::size(report.bytes_sent),
                report.packs_sent,
                report.went_back.map_or(String::new(), |note| format!(" (it had gone back: {note})"))
            ),
            SyncOutcome::UpToDate { seq } => note!("{}: up to date (sequence {seq})", replica.name),
            SyncOutcome::Busy => {}
        }
        Ok(())
    })
}

impl Check {
    fn execute(self) -> ExitCode {
        let read_data = self.read_data;
        each_replica(&self.store, &self.names, |store, replica, target| {
            let report = loop {
                match replica::check(store, replica, target, read_data).map_err(|e| e.to_string())? {
                    None => std::thread::sleep(BUSY_LOOK),
                    Some(report) => break report,
                }
            };
            let sent = report.sync.as_ref().map_or(0, |s| s.blobs_sent);
            note!(
                "{}: {} pack(s), {} block(s){}; {} blob(s) sent again",
                replica.name,
                report.packs,
                report.blocks,
                if report.read_data {
                    format!(", {} damaged", report.corrupt_blocks)
                } else {
                    " (indexes only: --read-data checks every block)".to_string()
                },
                sent
            );
            for pack in &report.damaged_packs {
                note!("  {pack}: cut short or unreadable past some point");
            }
            Ok(())
        })
    }
}
