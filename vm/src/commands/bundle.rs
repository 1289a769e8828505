//! `chenilles-vm export` and `import`: processes copied between stores as bundles, sealed (age
//! files) when the store is encrypted or recipients are named.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chenilles_durable::Carried;

use crate::cli::args::StoreArgs;
use crate::cli::driving::fail;
use crate::cli::present::size;
use crate::cli::store::{Open, open_for_reading, open_for_writing, store_path};
use crate::note;

#[derive(clap::Args)]
pub struct Export {
    #[command(flatten)]
    store: StoreArgs,
    /// Write the bundle to this file (which must not exist), or `-` for standard output.
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
    /// Seal the bundle to this age recipient (age1..., an age plugin's, or an ssh-ed25519 /
    /// ssh-rsa public key); may be repeated. A bundle of an encrypted store is always sealed,
    /// to that store too.
    #[arg(long, value_name = "RECIPIENT")]
    to: Vec<String>,
    /// Seal the bundle to every recipient in this file (one per line; `#` comments).
    #[arg(long, value_name = "FILE")]
    to_recipients_file: Vec<PathBuf>,
    /// The processes to copy, with their mailboxes: each stays in this store.
    #[arg(required = true)]
    names: Vec<String>,
}

#[derive(clap::Args)]
pub struct Import {
    #[command(flatten)]
    store: StoreArgs,
    /// The bundle: a file `export` wrote, or `-` for standard input. A sealed one is opened with
    /// the store's own key (an encrypted store's) or the age identities of --identity. The store
    /// must exist (`store init [--encrypt]` makes one).
    bundle: PathBuf,
}

/// The recipients of `--to` and `--to-recipients-file`, in that order.
fn recipients(export: &Export) -> Result<Vec<String>, ExitCode> {
    let mut all = export.to.clone();
    for path in &export.to_recipients_file {
        let text = std::fs::read_to_string(path).map_err(|error| {
            note!("error: cannot read the recipients file {}: {error}", path.display());
            ExitCode::FAILURE
        })?;
        let before = all.len();
        all.extend(
            text.lines().map(str::trim).filter(|line| !line.is_empty() && !line.starts_with('#')).map(str::to_string),
        );
        if all.len() == before {
            note!("error: the recipients file {} holds no recipient", path.display());
            return Err(ExitCode::FAILURE);
        }
    }
    Ok(all)
}

fn describe(carried: &Carried) -> String {
    let sealed = if carried.summary.sealed { "sealed" } else { "in clear" };
    format!(
        "{} process(es) ({}), {} blob(s), {} {sealed}",
        carried.processes.len(),
        carried.processes.join(", "),
        carried.summary.blobs,
        size(carried.summary.bytes)
    )
}

impl Export {
    pub fn execute(self) -> ExitCode {
        let recipients = match recipients(&self) {
            Ok(recipients) => recipients,
            Err(code) => return code,
        };
        let names: Vec<&str> = self.names.iter().map(String::as_str).collect();
        let store = match open_for_reading(&self.store) {
            Ok(store) => store,
            Err(code) => return code,
        };
        if self.output.as_os_str() == "-" {
            if recipients.is_empty() && !store.is_encrypted() && std::io::stdout().is_terminal() {
                note!("error: a bundle is binary: redirect standard output, or pass -o FILE");
                return ExitCode::FAILURE;
            }
            let mut out = std::io::stdout().lock();
            let carried = match chenilles_durable::export_processes(&store, &names, &recipients, &mut out) {
                Ok(carried) => carried,
                Err(error) => return fail(error),
            };
            if let Err(error) = out.flush() {
                note!("error: cannot write the bundle: {error}");
                return ExitCode::FAILURE;
            }
            note!("chenilles-vm: exported {}", describe(&carried));
            return ExitCode::SUCCESS;
        }
        match write_new_file(&self.output, |file| {
            chenilles_durable::export_processes(&store, &names, &recipients, file).map_err(fail)
        }) {
            Ok(carried) => {
                note!("chenilles-vm: exported {} to {}", describe(&carried), self.output.display());
                if !carried.summary.sealed {
                    note!("note: the bundle is in clear (the store is not encrypted): pass --to to seal it");
                }
                ExitCode::SUCCESS
            }
            Err(code) => code,
        }
    }
}

/// Writes a new file at `path` with `write`: into a fresh temporary file beside it, made durable,
/// then linked to `path` (never replacing a file there). On any failure no file is left.
fn write_new_file<T>(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> Result<T, ExitCode>,
) -> Result<T, ExitCode> {
    if std::fs::symlink_metadata(path).is_ok() {
        note!("error: {} exists; remove it or choose another file", path.display());
        return Err(ExitCode::FAILURE);
    }
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut temporary = tempfile::Builder::new().prefix(".chenilles-bundle").tempfile_in(dir).map_err(|error| {
        note!("error: cannot write in {}: {error}", dir.display());
        ExitCode::FAILURE
    })?;
    let value = write(temporary.as_file_mut())?;
    if let Err(error) = temporary.as_file().sync_all() {
        note!("error: cannot write {}: {error}", path.display());
        return Err(ExitCode::FAILURE);
    }
    if let Err(error) = temporary.persist_noclobber(path) {
        note!("error: cannot write {}: {}", path.display(), error.error);
        return Err(ExitCode::FAILURE);
    }
    if let Ok(dir) = std::fs::File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(value)
}

impl Import {
    pub fn execute(self) -> ExitCode {
        let mut keys = Vec::new();
        if let Some(path) = &self.store.unlock.identity {
            match crate::cli::unlocking::identity_file(path) {
                Ok(identities) => keys.push(identities),
                Err(code) => return code,
            }
        }
        let mut reader: Box<dyn std::io::Read> = if self.bundle.as_os_str() == "-" {
            Box::new(std::io::stdin().lock())
        } else {
            match std::fs::File::open(&self.bundle) {
                Ok(file) => Box::new(std::io::BufReader::new(file)),
                Err(error) => {
                    note!("error: cannot read the bundle {}: {error}", self.bundle.display());
                    return ExitCode::FAILURE;
                }
            }
        };
        let mut store = match open_for_writing(&self.store, Open::Existing) {
            Ok(store) => store,
            Err(code) => return code,
        };
        match chenilles_durable::import_processes(&mut store, &mut reader, &keys) {
            Ok(carried) => {
                note!("chenilles-vm: imported {}", describe(&carried));
                if carried.summary.sealed && !store.is_encrypted() {
                    note!(
                        "note: {} is not encrypted: what the sealed bundle held is now kept in clear",
                        store_path(&self.store).display()
                    );
                }
                ExitCode::SUCCESS
            }
            Err(error) => fail(error),
        }
    }
}
