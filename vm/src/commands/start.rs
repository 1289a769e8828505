//! `chenilles-vm start`: a new durable process, run to its end (or until it waits).

use std::path::Path;
use std::process::ExitCode;

use chenilles_durable::DurableError;
use chenilles_machine::Machine;
use chenilles_store::{BlobStore, RedbStore, StoreError};

use crate::cli::args::{DurableArgs, ProgramArgs, StoreArgs};
use crate::cli::driving::{Echo, drive, fail, finish_replicating, host_for};
use crate::cli::program::prepare;
use crate::cli::signals::StopSignals;
use crate::cli::store::{Open, open_for_writing, store_path};
use crate::note;

#[derive(clap::Args)]
pub struct Start {
    #[command(flatten)]
    store: StoreArgs,
    /// The process's name (default: the program's file name, made unique).
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    #[command(flatten)]
    durable: DurableArgs,
    #[command(flatten)]
    program: ProgramArgs,
}

/// A name for a new process: `wanted`, or the program's file stem made unique in the store.
fn process_name(store: &RedbStore, wanted: Option<String>, program: &Path) -> Result<String, StoreError> {
    if let Some(name) = wanted {
        return Ok(name);
    }
    let stem = match program.file_stem() {
        _ if crate::cli::program::is_stdin(program) => "stdin".to_string(),
        Some(stem) => stem.to_string_lossy().into_owned(),
        None => "process".to_string(),
    };
    let mut name = stem.clone();
    let mut n = 1;
    while store.get_ref(&chenilles_durable::process_ref(&name))?.is_some() {
        n += 1;
        name = format!("{stem}-{n}");
    }
    Ok(name)
}

impl Start {
    pub fn execute(self) -> ExitCode {
        let Start { store: store_args, name, durable: durable_args, program: args } = self;
        let signals = StopSignals::install();
        let program = args.program.clone();
        let grants = args.machine.grant.clone();
        let mut machine = Machine::durable();
        let image = match prepare(&mut machine, args) {
            Ok(image) => image,
            Err(code) => return code,
        };
        let store = match open_for_writing(&store_args, Open::OrCreate) {
            Ok(store) => store,
            Err(code) => return code,
        };
        let name = match process_name(&store, name, &program) {
            Ok(name) => name,
            Err(error) => return fail(error.into()),
        };
        let identity = store.identity();
        let (mut host, replicator) = match host_for(store, &durable_args, &signals, Echo::Plain) {
            Ok(hosted) => hosted,
            Err(code) => return code,
        };
        let program_text = crate::cli::program::program_name(&program);
        match host.spawn(&name).image(program_text, machine, &image).grant(grants).start() {
            Ok(()) => {}
            Err(error @ DurableError::NameTaken(_)) => {
                note!("error: {error} (choose another name with --name)");
                return ExitCode::FAILURE;
            }
            Err(error) => return fail(error),
        }
        note!("chenilles-vm: started process {name} in {}", store_path(&store_args).display());
        let code = drive(host, identity, &signals, &store_args, &durable_args);
        finish_replicating(replicator);
        code
    }
}
