//! `chenilles-vm verify`: every blob re-hashed, every process's state restored, and a replay.

use std::process::ExitCode;

use chenilles_durable::DurableError;
use chenilles_durable::blob::children_of;
use chenilles_store::{BlobStore, Hash};

use crate::cli::Listing;
use crate::cli::args::StoreArgs;
use crate::cli::driving::fail;
use crate::cli::records::processes;
use crate::cli::store::{Verifying, open_for_verifying};
use crate::{note, say};

#[derive(clap::Args)]
pub struct Verify {
    #[command(flatten)]
    store: StoreArgs,
    /// Also replay process NAME (started with --keep-history) from its first checkpoint with
    /// its journaled effects, checking each later checkpoint's state; report the first divergence.
    #[arg(long, value_name = "NAME")]
    replay: Option<String>,
}

impl Verify {
    pub fn execute(self) -> ExitCode {
        let Verify { store: store_args, replay } = self;
        // Every page is checked when no other process writes the store; beside a writer, a read-only
        // look checks everything but redb's page checksums, and says so.
        let store = match open_for_verifying(&store_args) {
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
        let mut not_replayed = false;
        if let Some(name) = &replay {
            match chenilles_durable::replay(&store, name) {
                Ok(chenilles_durable::Replay::Same { checkpoints, effects }) => say!(
                    out,
                    "replay of {name}: {checkpoints} checkpoints and the ending reproduced, with {effects} journaled effects"
                ),
                Ok(chenilles_durable::Replay::Diverged { checkpoint, what }) => {
                    say!(out, "replay of {name}: diverged at checkpoint {checkpoint}: {what}");
                    damaged = true;
                }
                // Nothing to replay is not damage: the store is judged as it is, and the command
                // fails since what was asked could not be done.
                Err(error @ DurableError::NoHistory(_)) => {
                    note!("error: {error} (start it with --keep-history to replay it)");
                    not_replayed = true;
                }
                Err(error @ DurableError::NoSuchProcess(_)) => {
                    note!("error: cannot replay: {error}");
                    not_replayed = true;
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
            out.finish(if not_replayed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
        }
    }
}
