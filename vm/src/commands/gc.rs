//! `chenilles-vm gc`: what no process needs any more, removed; the file compacted when worth it.

use std::process::ExitCode;

use chenilles_durable::blob::children_of;
use chenilles_store::{BlobStore, Hash};

use crate::cli::Listing;
use crate::cli::args::StoreArgs;
use crate::cli::driving::fail;
use crate::cli::present::size;
use crate::cli::store::{Open, open_for_writing, store_path};
use crate::{note, say};

#[derive(clap::Args)]
pub struct Gc {
    #[command(flatten)]
    store: StoreArgs,
}

impl Gc {
    pub fn execute(self) -> ExitCode {
        let store_args = &self.store;
        let mut store = match open_for_writing(store_args, Open::Checked) {
            Ok(store) => store,
            Err(code) => return code,
        };
        let mut out = Listing::default();
        match store.gc(&children_of) {
            Ok(report) => {
                // Blobs are counted by their contents' bytes; the file also holds space that
                // earlier checkpoints freed, which only compaction gives back: both are said.
                say!(
                    out,
                    "removed {} no process needs ({}); kept {} ({})",
                    blobs(report.blobs_removed),
                    size(report.bytes_removed),
                    blobs(report.blobs_kept),
                    size(report.bytes_kept)
                );
                match report.compacted {
                    Some((before, after)) => say!(
                        out,
                        "compacted the file from {} to {}: {} freed on disk",
                        size(before),
                        size(after),
                        size(before.saturating_sub(after))
                    ),
                    None => {
                        let length = std::fs::metadata(store_path(store_args)).map(|m| m.len()).unwrap_or_default();
                        say!(
                            out,
                            "the file stays {} (not worth compacting: space freed inside it is reused)",
                            size(length)
                        );
                    }
                }
                if !report.missing.is_empty() {
                    say!(out, "missing (referred to but not held): {}", report.missing.len());
                    let names: Vec<String> = report.missing.iter().take(10).map(Hash::to_string).collect();
                    let more = report.missing.len().saturating_sub(names.len());
                    let more = if more > 0 { format!(" and {more} more") } else { String::new() };
                    let (count, are) = match report.missing.len() {
                        1 => ("1 blob".to_string(), "is"),
                        n => (format!("{n} blobs"), "are"),
                    };
                    note!(
                        "error: the store is damaged: {count} referred to {are} missing: {}{more} (see chenilles-vm verify)",
                        names.join(", ")
                    );
                    return out.finish(ExitCode::FAILURE);
                }
                out.finish(ExitCode::SUCCESS)
            }
            Err(error) => fail(error.into()),
        }
    }
}

/// `1 blob`, `12 blobs`.
fn blobs(count: u64) -> String {
    if count == 1 { "1 blob".to_string() } else { format!("{count} blobs") }
}
