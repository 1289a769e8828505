//! `chenilles-vm restore --from A --from B … --to NEW`: a new store from several replicas, none
//! trusted alone, and what each of them lacked.

use std::path::PathBuf;
use std::process::ExitCode;

use chenilles_durable::blob::children_of;
use chenilles_store::StoreError;
use chenilles_store::replica::{self, ReplicaTarget, RestoreError, RestoreOptions, SourceReport};

use crate::cli::replicas::connect;
use crate::cli::unlocking::{self, UnlockArgs};
use crate::note;

#[derive(clap::Args)]
pub struct Restore {
    /// A replica to restore from (as `replica add` takes it: `dir:PATH` or a path, `car:FILE`,
    /// `s3://BUCKET/PREFIX?endpoint=…`); give each one.
    #[arg(long = "from", value_name = "TARGET", required = true)]
    from: Vec<String>,
    /// The new store (a file that must not exist).
    #[arg(long, value_name = "PATH")]
    to: PathBuf,
    /// The store to restore, by the id `replica list` shows (64 hex digits). Without it, the
    /// store most of the replicas hold verified root records of.
    #[arg(long, value_name = "ID")]
    store_id: Option<String>,
    #[command(flatten)]
    unlock: UnlockArgs,
}

/// How many times a password asked on the terminal may be wrong.
const PASSWORD_TRIES: usize = 3;

impl Restore {
    pub fn execute(self) -> ExitCode {
        let store_id = match self.store_id.as_deref().map(|id| replica::parse_store_id(id).ok_or(id)) {
            None => None,
            Some(Ok(id)) => Some(id),
            Some(Err(id)) => {
                note!("error: {id:?} is not a store id (64 hex digits, as `replica list` shows)");
                return ExitCode::FAILURE;
            }
        };
        let mut targets: Vec<Box<dyn ReplicaTarget>> = Vec::new();
        for address in &self.from {
            match connect(address) {
                Ok(target) => targets.push(target),
                Err(error) => {
                    note!("error: {error}");
                    return ExitCode::FAILURE;
                }
            }
        }
        let targets: Vec<&dyn ReplicaTarget> = targets.iter().map(|t| t.as_ref()).collect();
        let mut unlock = match unlocking::offered(&self.unlock) {
            Ok(unlock) => unlock,
            Err(code) => return code,
        };
        let mut asked = 0;
        let outcome = loop {
            let options = RestoreOptions { roots_of: &children_of, unlock: &unlock, store_id };
            match replica::restore(&targets, &self.to, &options) {
                Err(RestoreError::Store(error @ (StoreError::KeyNeeded { .. } | StoreError::WrongKey { .. })))
                    if asked < PASSWORD_TRIES && unlocking::can_ask() =>
                {
                    if asked > 0 {
                        note!("{error}");
                    }
                    asked += 1;
                    let Some(password) = unlocking::ask("Password of the store to restore: ") else {
                        break Err(RestoreError::Store(error));
                    };
                    unlock = unlock.with(chenilles_store::Credential::Password(password));
                }
                other => break other,
            }
        };
        match outcome {
            Ok(report) => {
                for source in &report.sources {
                    describe(source);
                }
                for (seq, why) in &report.skipped {
                    note!("lost: the newer root {seq} cannot be rebuilt: {why}");
                }
                note!(
                    "chenilles-vm: restored {} at sequence {}{} (store id {}): {} ref(s), {} blob(s); \
                     resume its processes with: chenilles-vm resume --store {}",
                    self.to.display(),
                    report.seq,
                    if report.seq < report.newest_seq {
                        format!(", not the newest {}", report.newest_seq)
                    } else {
                        String::new()
                    },
                    report.store_id,
                    report.refs,
                    report.blobs,
                    self.to.display()
                );
                ExitCode::SUCCESS
            }
            Err(error) => {
                match &error {
                    RestoreError::NothingUsable { sources, .. } | RestoreError::WhichStore { sources, .. } => {
                        sources.iter().for_each(describe)
                    }
                    _ => {}
                }
                note!("error: {error}; {} was not written", self.to.display());
                ExitCode::FAILURE
            }
        }
    }
}

/// One line per replica (and one per forged record): what it held, what it lacked.
fn describe(source: &SourceReport) {
    if let Some(why) = &source.unreachable
        && source.records == 0
    {
        note!("{}: unreachable: {why}", source.target);
        return;
    }
    let newest = source.newest_seq.map_or("no verified root".to_string(), |seq| format!("newest root {seq}"));
    let mut parts = vec![newest];
    if source.stale {
        parts.push("stale (behind the others)".to_string());
    }
    if source.missing > 0 {
        parts.push(format!("{} blob(s) missing", source.missing));
    }
    if source.corrupt > 0 || source.corrupt_blocks > 0 {
        parts.push(format!("{} damaged block(s)", source.corrupt_blocks.max(source.corrupt)));
    }
    if !source.forged.is_empty() {
        parts.push(format!("{} forged record(s)", source.forged.len()));
    }
    if let Some(why) = &source.unreachable {
        parts.push(format!("partly unreadable: {why}"));
    }
    note!("{}: {}", source.target, parts.join(", "));
    for forged in &source.forged {
        note!("  forged: {forged}");
    }
}
