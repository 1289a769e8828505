//! `chenilles-vm cancel`: ends an unfinished process where its last checkpoint left it.

use std::process::ExitCode;

use chenilles_durable::DurableError;

use crate::cli::args::StoreArgs;
use crate::cli::driving::fail;
use crate::cli::store::{Open, open_for_writing};
use crate::note;

#[derive(clap::Args)]
pub struct Cancel {
    #[command(flatten)]
    store: StoreArgs,
    /// Why, kept in its record and shown by `inspect`.
    #[arg(long, value_name = "TEXT", default_value = "")]
    reason: String,
    /// The process to cancel.
    name: String,
}

impl Cancel {
    pub fn execute(self) -> ExitCode {
        let Cancel { store: store_args, reason, name } = self;
        if let Err(error) = chenilles_machine::process_name::check(&name) {
            note!("error: {error}");
            return ExitCode::FAILURE;
        }
        if reason.chars().any(char::is_control) {
            note!("error: the reason must be one line of printable text");
            return ExitCode::FAILURE;
        }
        // Holding the store for writing, no host runs the process while it is cancelled.
        let mut store = match open_for_writing(&store_args, Open::Existing) {
            Ok(store) => store,
            Err(code) => return code,
        };
        match chenilles_durable::cancel(&mut store, &name, &reason) {
            Ok(cancelled) => {
                let record = &cancelled.record;
                note!(
                    "chenilles-vm: cancelled process {name} ({} at checkpoint {}): {} effects and {} messages received \
                     stay journaled; {} unread message(s) stay in its mailbox until `chenilles-vm rm {name}`",
                    cancelled.was.word(),
                    record.checkpoints - 1,
                    record.effect_count,
                    record.received,
                    cancelled.unread,
                );
                ExitCode::SUCCESS
            }
            Err(error @ DurableError::Ended { .. }) => {
                note!("error: {error}");
                ExitCode::FAILURE
            }
            Err(error) => fail(error),
        }
    }
}
