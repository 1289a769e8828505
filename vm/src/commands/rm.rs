//! `chenilles-vm rm`: takes ended processes out of the store, with what only they used.

use std::process::ExitCode;

use chenilles_durable::DurableError;

use crate::cli::args::StoreArgs;
use crate::cli::driving::fail;
use crate::cli::present::size;
use crate::cli::store::{Open, open_for_writing};
use crate::note;

#[derive(clap::Args)]
pub struct Rm {
    #[command(flatten)]
    store: StoreArgs,
    /// The processes to remove: each must have ended (finished, exited, failed or cancelled).
    #[arg(required = true)]
    names: Vec<String>,
}

impl Rm {
    pub fn execute(self) -> ExitCode {
        let Rm { store: store_args, names } = self;
        for name in &names {
            if let Err(error) = chenilles_machine::process_name::check(name) {
                note!("error: {error}");
                return ExitCode::FAILURE;
            }
        }
        let mut store = match open_for_writing(&store_args, Open::Existing) {
            Ok(store) => store,
            Err(code) => return code,
        };
        let mut code = ExitCode::SUCCESS;
        for name in &names {
            match chenilles_durable::remove(&mut store, name) {
                Ok(removed) => {
                    let unread = match removed.unread {
                        0 => String::new(),
                        n => format!(", {n} unread message(s)"),
                    };
                    note!(
                        "chenilles-vm: removed process {name} ({}{unread}); freed {} in {} blob(s)",
                        removed.status.word(),
                        size(removed.gc.bytes_removed),
                        removed.gc.blobs_removed
                    );
                }
                Err(error @ (DurableError::NotEnded { .. } | DurableError::NoSuchProcess(_))) => {
                    note!("error: {error}");
                    code = ExitCode::FAILURE;
                }
                Err(error) => return fail(error),
            }
        }
        code
    }
}
