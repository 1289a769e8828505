//! `chenilles-vm send`: one message into a process's mailbox, exactly once.

use std::process::ExitCode;

use chenilles_machine::messaging::parse_message;

use crate::cli::args::StoreArgs;
use crate::cli::driving::fail;
use crate::cli::store::{Open, open_for_writing};
use crate::note;

#[derive(clap::Args)]
pub struct Send {
    #[command(flatten)]
    store: StoreArgs,
    /// The receiving process.
    name: String,
    /// The message.
    datum: String,
}

impl Send {
    pub fn execute(self) -> ExitCode {
        let Send { store: store_args, name, datum: text } = self;
        let datum = match parse_message(&text) {
            Ok(datum) => datum,
            Err(error) => {
                note!("error: {error}");
                return ExitCode::FAILURE;
            }
        };
        // A `start` or `resume` waiting for this message lets the store go often: wait for it.
        let mut store =
            match open_for_writing(&StoreArgs { store: store_args.store.clone(), wait: true }, Open::OrCreate) {
                Ok(store) => store,
                Err(code) => return code,
            };
        match chenilles_durable::deliver(&mut store, &name, "host", &datum) {
            Ok(seq) => {
                note!("chenilles-vm: delivered message {seq} to {name}");
                ExitCode::SUCCESS
            }
            Err(error) => fail(error.into()),
        }
    }
}
