//! `chenilles-vm send`: one message into a process's mailbox, exactly once.

use std::process::ExitCode;

use chenilles_durable::DurableError;
use chenilles_machine::messaging::parse_message;

use crate::cli::args::StoreArgs;
use crate::cli::driving::fail;
use crate::cli::records::record_of;
use crate::cli::store::{Open, open_for_writing, store_path};
use crate::note;

#[derive(clap::Args)]
pub struct Send {
    #[command(flatten)]
    store: StoreArgs,
    /// Deliver even if no process has this name yet: the message waits in its mailbox for a
    /// process started later with `start --name NAME`.
    #[arg(long)]
    ahead: bool,
    /// The receiving process.
    name: String,
    /// The message.
    datum: String,
}

impl Send {
    pub fn execute(self) -> ExitCode {
        let Send { store: store_args, ahead, name, datum: text } = self;
        let datum = match parse_message(&text) {
            Ok(datum) => datum,
            Err(error) => {
                note!("error: {error}");
                return ExitCode::FAILURE;
            }
        };
        // A `start` or `resume` waiting for this message lets the store go often: wait for it.
        let mut store = match open_for_writing(&StoreArgs { wait: true, ..store_args.clone() }, Open::OrCreate) {
            Ok(store) => store,
            Err(code) => return code,
        };
        // A message to a process that is not there, or has ended, would never be read: most
        // likely a misspelled name.
        if let Err(error) = chenilles_machine::process_name::check(&name) {
            note!("error: {error}");
            return ExitCode::FAILURE;
        }
        if !ahead {
            match record_of(&store, &name) {
                Ok(record) if record.status.is_running() => {}
                Ok(record) => {
                    note!("error: process {name} has ended ({}): nothing would read the message", record.status.word());
                    return ExitCode::FAILURE;
                }
                Err(DurableError::NoSuchProcess(_)) => {
                    note!(
                        "error: no process is named {name} in {} (send --ahead delivers to a process not started yet)",
                        store_path(&store_args).display()
                    );
                    return ExitCode::FAILURE;
                }
                Err(error) => return fail(error),
            }
        }
        match chenilles_durable::deliver(&mut store, &name, "host", &datum) {
            Ok(seq) => {
                note!("chenilles-vm: delivered message {seq} to {name}");
                ExitCode::SUCCESS
            }
            Err(error) => fail(error.into()),
        }
    }
}
