//! `chenilles-vm output`: everything a process wrote, once, byte for byte.

use std::process::ExitCode;

use crate::cli::Listing;
use crate::cli::args::StoreArgs;
use crate::cli::driving::fail;
use crate::cli::records::record_of;
use crate::cli::store::open_for_reading;

#[derive(clap::Args)]
pub struct Output {
    #[command(flatten)]
    store: StoreArgs,
    /// The process whose output to print.
    name: String,
}

impl Output {
    pub fn execute(self) -> ExitCode {
        let store = match open_for_reading(&self.store) {
            Ok(store) => store,
            Err(code) => return code,
        };
        match record_of(&store, &self.name).and_then(|record| chenilles_durable::read_output(&store, &record)) {
            Ok(bytes) => {
                let mut out = Listing::default();
                out.write(&bytes);
                out.finish(ExitCode::SUCCESS)
            }
            Err(error) => fail(error),
        }
    }
}
