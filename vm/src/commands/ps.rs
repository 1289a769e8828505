//! `chenilles-vm ps`: the store's processes and how each stands, as a table or as JSON.

use std::process::ExitCode;

use chenilles_durable::DurableError;
use comfy_table::{CellAlignment, Table};

use crate::cli::Listing;
use crate::cli::args::StoreArgs;
use crate::cli::driving::fail;
use crate::cli::present;
use crate::cli::records::processes;
use crate::cli::report::{ProcessSummary, json};
use crate::cli::store::{Drivers, open_for_reading};
use crate::note;

#[derive(clap::Args)]
pub struct Ps {
    #[command(flatten)]
    store: StoreArgs,
    /// Print the list as JSON (an array of objects, one per process), for scripts.
    #[arg(long)]
    json: bool,
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
        let drivers = Drivers::look(&self.store);
        let mut code = ExitCode::SUCCESS;
        let mut summaries = Vec::new();
        for (name, record) in processes {
            let record = match record {
                Ok(record) => record,
                Err(error) => {
                    match &error {
                        DurableError::BadRecord { .. } => note!("error: {error}"),
                        _ => note!("error: the record of process {name} cannot be read: {error}"),
                    }
                    summaries.push(ProcessSummary::damaged(&name, error.to_string()));
                    code = ExitCode::FAILURE;
                    continue;
                }
            };
            let waiting = match chenilles_durable::waiting_count(&store, &name) {
                Ok(count) => Some(count),
                Err(error) => {
                    note!("error: the mailbox of process {name} cannot be read: {error}");
                    code = ExitCode::FAILURE;
                    None
                }
            };
            summaries.push(ProcessSummary::of(&record, drivers.drive(&name), waiting));
        }
        let mut out = Listing::default();
        if self.json {
            out.write(json(&summaries).as_bytes());
        } else {
            out.write(table(&summaries).as_bytes());
        }
        out.finish(code)
    }
}

/// The processes as a table whose columns are as wide as their widest entry.
fn table(summaries: &[ProcessSummary]) -> String {
    let mut table = Table::new();
    table.load_style(comfy_table::presets::NOTHING);
    table.set_header(["NAME", "STATUS", "CHECKPOINTS", "OUTPUT", "MAIL", "PROGRAM"]);
    let unknown = || "?".to_string();
    for summary in summaries {
        table.add_row([
            summary.name.clone(),
            summary.status.clone(),
            summary.checkpoints.map_or_else(unknown, |n| n.to_string()),
            summary.output_bytes.map_or_else(unknown, present::size),
            summary.messages_waiting.map_or_else(unknown, |n| n.to_string()),
            summary.program.clone().unwrap_or_else(unknown),
        ]);
    }
    for column in [2, 3, 4] {
        if let Some(column) = table.column_mut(column) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    // The style draws no borders, only the cells' padding: trim it from both ends of each line.
    table.lines().map(|line| line.trim_end().strip_prefix(' ').unwrap_or(line.trim_end()).to_string() + "\n").collect()
}
