//! `chenilles-vm ps`: the store's processes and how each stands.

use std::process::ExitCode;

use chenilles_durable::DurableError;

use crate::cli::Listing;
use crate::cli::args::StoreArgs;
use crate::cli::driving::fail;
use crate::cli::records::processes;
use crate::cli::store::open_for_reading;
use crate::{note, say};

#[derive(clap::Args)]
pub struct Ps {
    #[command(flatten)]
    store: StoreArgs,
}

impl Ps {
    pub fn execute(self) -> ExitCode {
        let store = match open_for_reading(&self.store) {
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
}
