//! `chenilles-vm resume`: unfinished processes from their last checkpoints, run to their ends.

use std::process::ExitCode;

use chenilles_durable::DurableError;

use crate::cli::args::{DurableArgs, StoreArgs};
use crate::cli::driving::{Echo, drive, fail, finish_replicating, host_for};
use crate::cli::records;
use crate::cli::signals::StopSignals;
use crate::cli::store::open_existing;
use crate::note;

#[derive(clap::Args)]
pub struct Resume {
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    durable: DurableArgs,
    /// The processes to resume.
    names: Vec<String>,
}

impl Resume {
    pub fn execute(self) -> ExitCode {
        let Resume { store: store_args, durable: durable_args, names } = self;
        let signals = StopSignals::install();
        let store = match open_existing(&store_args) {
            Ok(store) => store,
            Err(code) => return code,
        };
        let all = names.is_empty();
        // Every record, read once: the names to resume when none is given, and how many of them
        // have not ended (several processes' lines interleave: on a terminal, each says whose).
        let records = match records::processes(&store) {
            Ok(records) => records,
            Err(error) => return fail(error.into()),
        };
        let names = if all { records.iter().map(|(name, _)| name.clone()).collect() } else { names };
        let unfinished = records
            .iter()
            .filter(|(name, record)| names.contains(name) && record.as_ref().is_ok_and(|r| r.status.is_running()))
            .count();
        let identity = store.identity();
        let (mut host, replicator) = match host_for(store, &durable_args, &signals, Echo::for_processes(unfinished)) {
            Ok(hosted) => hosted,
            Err(code) => return code,
        };
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
        let code = drive(host, identity, &signals, &store_args, &durable_args);
        finish_replicating(replicator);
        if failed { ExitCode::FAILURE } else { code }
    }
}
