//! `chenilles-vm inspect`: a process's record, journals, mailbox and the backtrace of its
//! continuation, for people or (`--json`) for scripts.

use std::process::ExitCode;
use std::time::SystemTime;

use chenilles_durable::{Record, Status};
use chenilles_machine::printer::{Bounds, truncate_text};
use chenilles_machine::render_backtrace;
use chenilles_store::{Hash, RedbStore};
use serde::Serialize;

use crate::cli::Listing;
use crate::cli::args::StoreArgs;
use crate::cli::driving::fail;
use crate::cli::present::{moment, size};
use crate::cli::records::record_of;
use crate::cli::report::{ProcessSummary, json, status_word};
use crate::cli::store::{Drivers, open_for_reading};
use crate::say;

/// How many of the newest effects, and of the oldest waiting messages, are shown.
const SHOWN: usize = 5;

#[derive(clap::Args)]
pub struct Inspect {
    #[command(flatten)]
    store: StoreArgs,
    /// Print the process as JSON (one object), for scripts.
    #[arg(long)]
    json: bool,
    /// The process to show.
    name: String,
}

/// What `inspect --json` prints: `ps --json`'s fields, and more.
#[derive(Serialize)]
struct Inspection {
    #[serde(flatten)]
    summary: ProcessSummary,
    /// Bytes and heap pages the last checkpoint added to the store.
    last_checkpoint_bytes: u64,
    last_checkpoint_pages: u64,
    /// How much of the output has been echoed to a host's stdout.
    output_echoed_bytes: u64,
    /// The number of effects journaled, and the newest few, as text (secrets hidden).
    effect_count: u64,
    newest_effects: Vec<String>,
    /// Why the effect journal or the mailbox cannot be read, if so.
    #[serde(skip_serializing_if = "Option::is_none")]
    effects_error: Option<String>,
    oldest_messages: Vec<MessageView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mailbox_error: Option<String>,
    /// Once finished: its last expression's value, in `write` syntax.
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<String>,
    /// Once failed: the error and the Scheme backtrace.
    #[serde(skip_serializing_if = "Option::is_none")]
    failure: Option<String>,
    /// The snapshot root (hex), while it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    snapshot: Option<String>,
}

#[derive(Serialize)]
struct MessageView {
    seq: u64,
    from: String,
    text: String,
}

impl Inspect {
    pub fn execute(self) -> ExitCode {
        let Inspect { store: store_args, json: json_output, name } = self;
        let store = match open_for_reading(&store_args) {
            Ok(store) => store,
            Err(code) => return code,
        };
        let record = match record_of(&store, &name) {
            Ok(record) => record,
            Err(error) => return fail(error),
        };
        let driven = Drivers::look(&store_args).drive(&name);
        let mut out = Listing::default();
        if json_output {
            out.write(json(&inspection(&store, &record, driven)).as_bytes());
            return out.finish(ExitCode::SUCCESS);
        }
        let now = SystemTime::now();
        say!(out, "process:      {name}");
        say!(out, "program:      {}", record.program);
        say!(out, "status:       {}", status_word(&record.status, driven));
        say!(out, "started:      {}", moment(record.started_ms, now));
        say!(out, "checkpoints:  {}", record.checkpoints);
        say!(
            out,
            "last:         {}, wrote {} ({} heap pages)",
            moment(record.time_ms, now),
            size(record.bytes_written),
            record.pages_written
        );
        say!(out, "steps:        {}", record.steps);
        say!(out, "output:       {} ({} echoed)", size(record.output_len), size(record.echoed));
        say!(out, "effects:      {}", record.effect_count);
        match chenilles_durable::read_effects(&store, &record) {
            Ok(effects) => {
                for effect in effects.iter().rev().take(SHOWN).rev() {
                    say!(out, "              {effect}");
                }
            }
            Err(error) => say!(out, "              the effect journal cannot be read: {error}"),
        }
        match chenilles_durable::read_mailbox(&store, &name) {
            Ok((_, mailbox)) => {
                say!(out, "mailbox:      {} received, {} waiting", record.received, mailbox.messages.len());
                for message in mailbox.messages.iter().take(SHOWN) {
                    let text = truncate_text(&message.text, Bounds::MESSAGE.length);
                    say!(out, "              #{} from {}: {text}", message.seq, message.from);
                }
            }
            Err(error) => say!(out, "mailbox:      unreadable: {error}"),
        }
        if let Some(result) = &record.result {
            say!(out, "result:       {}", truncate_text(result, Bounds::MESSAGE.length));
        }
        match &record.status {
            Status::Failed { report } => out.write(report.as_bytes()),
            Status::Cancelled { reason } if !reason.is_empty() => say!(out, "cancelled:    {reason}"),
            _ => {}
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

/// The process as `inspect --json` prints it.
fn inspection(store: &RedbStore, record: &Record, driven: crate::cli::store::Driven) -> Inspection {
    let (newest_effects, effects_error) = match chenilles_durable::read_effects(store, record) {
        Ok(effects) => (effects.iter().rev().take(SHOWN).rev().map(ToString::to_string).collect(), None),
        Err(error) => (Vec::new(), Some(error.to_string())),
    };
    let (waiting, oldest_messages, mailbox_error) = match chenilles_durable::read_mailbox(store, &record.name) {
        Ok((_, mailbox)) => (
            Some(mailbox.messages.len()),
            mailbox
                .messages
                .iter()
                .take(SHOWN)
                .map(|m| MessageView { seq: m.seq, from: m.from.clone(), text: m.text.clone() })
                .collect(),
            None,
        ),
        Err(error) => (None, Vec::new(), Some(error.to_string())),
    };
    Inspection {
        summary: ProcessSummary::of(record, driven, waiting),
        last_checkpoint_bytes: record.bytes_written,
        last_checkpoint_pages: record.pages_written,
        output_echoed_bytes: record.echoed,
        effect_count: record.effect_count,
        newest_effects,
        effects_error,
        oldest_messages,
        mailbox_error,
        result: record.result.clone(),
        failure: match &record.status {
            Status::Failed { report } => Some(report.clone()),
            _ => None,
        },
        snapshot: record.snapshot.map(|hash| Hash(hash).to_string()),
    }
}
