//! `chenilles-vm output`: everything a process wrote, once, byte for byte; with `--follow`, what it
//! writes next too, as its checkpoints commit it, until it ends.

use std::process::ExitCode;
use std::time::Duration;

use chenilles_store::{RedbStore, StoreWatch};

use crate::cli::Listing;
use crate::cli::args::StoreArgs;
use crate::cli::driving::fail;
use crate::cli::records::record_of;
use crate::cli::store::{open_for_reading, store_path};
use crate::note;

/// How often `--follow` looks at the store file (one `stat` while nothing is committed).
const FOLLOW_POLL: Duration = Duration::from_millis(100);

#[derive(clap::Args)]
pub struct Output {
    #[command(flatten)]
    store: StoreArgs,
    /// Keep printing what the process writes, as its checkpoints commit it, until it ends (or the
    /// reader goes away, or Ctrl-C).
    #[arg(long, short = 'f')]
    follow: bool,
    /// The process whose output to print.
    name: String,
}

impl Output {
    pub fn execute(self) -> ExitCode {
        let store = match open_for_reading(&self.store) {
            Ok(store) => store,
            Err(code) => return code,
        };
        let mut out = Listing::default();
        let mut printed = 0;
        let mut watch = StoreWatch::new(store_path(&self.store));
        loop {
            let ended = match self.print_new(&store, &mut out, &mut printed) {
                Ok(ended) => ended,
                Err(code) => return code,
            };
            if !self.follow || ended || !out.is_open() {
                return out.finish(ExitCode::SUCCESS);
            }
            out.flush();
            loop {
                std::thread::sleep(FOLLOW_POLL);
                if watch.changed() {
                    break;
                }
            }
        }
    }

    /// Prints the output committed since byte `printed`; whether the process has ended.
    fn print_new(&self, store: &RedbStore, out: &mut Listing, printed: &mut u64) -> Result<bool, ExitCode> {
        let record = match record_of(store, &self.name) {
            Ok(record) => record,
            Err(chenilles_durable::DurableError::NoSuchProcess(_)) if *printed > 0 => {
                note!("chenilles-vm: process {} was removed from the store", self.name);
                return Err(ExitCode::FAILURE);
            }
            Err(error) => return Err(fail(error)),
        };
        if record.output_len > *printed {
            match chenilles_durable::read_output_from(store, &record, *printed) {
                Ok(bytes) => out.write(&bytes),
                Err(error) => return Err(fail(error)),
            }
            *printed = record.output_len;
        }
        Ok(!record.status.is_running())
    }
}
