//! `chenilles-vm inspect`: a process's record, journals, mailbox and the backtrace of its continuation.

use std::process::ExitCode;

use chenilles_durable::Status;
use chenilles_machine::printer::{Bounds, truncate_text};
use chenilles_machine::render_backtrace;
use chenilles_store::Hash;

use crate::cli::Listing;
use crate::cli::args::StoreArgs;
use crate::cli::driving::fail;
use crate::cli::records::record_of;
use crate::cli::store::open_for_reading;
use crate::say;

#[derive(clap::Args)]
pub struct Inspect {
    #[command(flatten)]
    store: StoreArgs,
    /// The process to show.
    name: String,
}

impl Inspect {
    pub fn execute(self) -> ExitCode {
        let Inspect { store: store_args, name } = self;
        let store = match open_for_reading(&store_args) {
            Ok(store) => store,
            Err(code) => return code,
        };
        let record = match record_of(&store, &name) {
            Ok(record) => record,
            Err(error) => return fail(error),
        };
        let mut out = Listing::default();
        let time = |ms: u64| {
            let seconds = ms / 1000;
            format!("{seconds}.{:03} (Unix time)", ms % 1000)
        };
        say!(out, "process:      {name}");
        say!(out, "program:      {}", record.program);
        say!(out, "status:       {}", record.status.word());
        say!(out, "started:      {}", time(record.started_ms));
        say!(out, "checkpoints:  {}", record.checkpoints);
        say!(
            out,
            "last:         {}, wrote {} bytes ({} heap pages)",
            time(record.time_ms),
            record.bytes_written,
            record.pages_written
        );
        say!(out, "steps:        {}", record.steps);
        say!(out, "output:       {} bytes ({} echoed)", record.output_len, record.echoed);
        say!(out, "effects:      {}", record.effect_count);
        match chenilles_durable::read_effects(&store, &record) {
            Ok(effects) => {
                for effect in effects.iter().rev().take(5).rev() {
                    say!(out, "              {effect}");
                }
            }
            Err(error) => say!(out, "              the effect journal cannot be read: {error}"),
        }
        match chenilles_durable::read_mailbox(&store, &name) {
            Ok((_, mailbox)) => {
                say!(out, "mailbox:      {} received, {} waiting", record.received, mailbox.messages.len());
                for message in mailbox.messages.iter().take(5) {
                    let text = truncate_text(&message.text, Bounds::MESSAGE.length);
                    say!(out, "              #{} from {}: {text}", message.seq, message.from);
                }
            }
            Err(error) => say!(out, "mailbox:      unreadable: {error}"),
        }
        if let Some(result) = &record.result {
            say!(out, "result:       {}", truncate_text(result, Bounds::MESSAGE.length));
        }
        if let Status::Failed { report } = &record.status {
            out.write(report.as_bytes());
        }
        if let Some(snapshot) = record.snapshot {
            say!(out, "snapshot:     {}", Hash(snapshot));
            match chenilles_durable::restore_detached(&store, Hash(snapshot), Box::new(std::io::sink())) {
                Ok((vm, _)) => {
                    let (backtrace, omitted) = vm.backtrace();
                    if backtrace.is_empty() {
                        say!(out, "continuation: between top-level forms");
                    } else {
                        out.write(format!("continuation: {}", render_backtrace(&backtrace, omitted)).as_bytes());
                    }
                }
                Err(error) => say!(out, "continuation: cannot be restored: {error}"),
            }
        }
        out.finish(ExitCode::SUCCESS)
    }
}
