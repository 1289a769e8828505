//! How the commands reach the store: its path, opening it for writing or for reading, taking it
//! back after a wait, and the holder file that tells a second command who holds it.
//!
//! Store files and the files beside them are untrusted: the holder file is never followed through
//! a symlink (it is written under a fresh name and renamed into place, and read with
//! `O_NOFOLLOW`), and it is written only by a command that holds the store's lock.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use chenilles_store::{Credential, FileIdentity, Mode, RedbStore, StoreError, Unlock};

use super::args::StoreArgs;
use super::unlocking;

/// The store's path: `--store` (or `CHENILLES_STORE`, which clap reads), else `.chenilles/store.redb`.
pub fn store_path(args: &StoreArgs) -> PathBuf {
    args.store.clone().unwrap_or_else(|| PathBuf::from(".chenilles/store.redb"))
}

/// The file beside the store that names the process holding it.
fn holder_path(store: &Path) -> PathBuf {
    let mut name = store.as_os_str().to_owned();
    name.push(".holder");
    PathBuf::from(name)
}

/// How long a command that finds the store locked looks for the name of its holder, which writes
/// it just after taking the lock.
const HOLDER_PATIENCE: Duration = Duration::from_millis(500);
const HOLDER_LOOK: Duration = Duration::from_millis(25);
/// How often `--wait` tries again.
const WAIT_RETRY: Duration = Duration::from_millis(100);

/// How many times a password asked on the terminal may be wrong.
const PASSWORD_TRIES: usize = 3;

/// Opens the store at `path` as `mode` says, with what the command's flags offer; an encrypted
/// store they do not open is unlocked by a password asked on the terminal, when there is one.
/// The key is remembered, so that the command opens the store again without asking.
pub fn open_store(args: &StoreArgs, path: &Path, mode: Mode) -> Result<RedbStore, Failure> {
    let mut unlock = unlocking::offered(&args.unlock).map_err(Failure::Exit)?;
    let mut asked = 0;
    loop {
        match RedbStore::open_with(path, mode, &unlock) {
            Ok(store) => {
                unlocking::remember(store.key());
                return Ok(store);
            }
            Err(error @ (StoreError::KeyNeeded { .. } | StoreError::WrongKey { .. }))
                if asked < PASSWORD_TRIES && unlocking::can_ask() =>
            {
                if asked > 0 {
                    crate::note!("{error}");
                }
                asked += 1;
                let Some(password) = unlocking::ask(&format!("Password for {}: ", path.display())) else {
                    return Err(Failure::Store(error));
                };
                unlock = Unlock::none().with(Credential::Password(password));
            }
            Err(error) => return Err(Failure::Store(error)),
        }
    }
}

/// Why [`open_store`] gave no store.
pub enum Failure {
    /// The store refused (or could not be unlocked).
    Store(StoreError),
    /// The command's own arguments failed (an unreadable password file), already said.
    Exit(ExitCode),
}

/// How a command opens the store for writing.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Open {
    /// Create it if there is none (`start`, `send`).
    OrCreate,
    /// Create it if there is none, and wait while another command holds it, unless that is a
    /// node (`serve`: one store has one node).
    ForNode,
    /// It must exist.
    Existing,
    /// It must exist, and every page of the file is checked first (`verify`, `gc`: they read it
    /// all anyway).
    Checked,
}

/// Opens the store for writing (creating it and its directory, with [`Open::OrCreate`]). When
/// another process holds it, fails naming that process, or waits for it with `--wait`.
pub fn open_for_writing(args: &StoreArgs, how: Open) -> Result<RedbStore, ExitCode> {
    let path = store_path(args);
    if matches!(how, Open::OrCreate | Open::ForNode)
        && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && let Err(error) = std::fs::create_dir_all(dir)
    {
        crate::note!("error: cannot create {}: {error}", dir.display());
        return Err(ExitCode::FAILURE);
    }
    if !matches!(how, Open::OrCreate | Open::ForNode) {
        refuse_missing_or_empty(&path)?;
    }
    let mut patience = HOLDER_PATIENCE;
    let mut node_patience = NODE_PATIENCE;
    loop {
        let mode = match how {
            Open::OrCreate | Open::ForNode => Mode::OrCreate,
            Open::Existing => Mode::Existing,
            Open::Checked => Mode::Checked,
        };
        let opened = match open_store(args, &path, mode) {
            Err(Failure::Exit(code)) => return Err(code),
            Err(Failure::Store(error)) => Err(error),
            Ok(store) => Ok(store),
        };
        match opened {
            Ok(store) => {
                write_holder(&path, &[]);
                return Ok(store);
            }
            Err(StoreError::Locked { .. }) if args.wait => std::thread::sleep(WAIT_RETRY),
            Err(StoreError::Locked { .. }) => {
                // The holder names itself just after it takes the lock: until it has, the file
                // may name the previous holder, now gone, or nobody. Look again for a moment
                // (and try the lock again: it may have been let go).
                let holder = read_holder(&path);
                let named = holder.as_ref().is_some_and(|h| h.pid != std::process::id() && alive(h.pid));
                let serves = holder.as_ref().is_some_and(|h| h.serves);
                if how == Open::ForNode && named && serves {
                    let holder = holder.map(|h| h.text).unwrap_or_default();
                    crate::note!("error: the store {} is served by another node: {holder}", path.display());
                    return Err(ExitCode::FAILURE);
                }
                if how == Open::ForNode {
                    // A command holds it for a moment (a `ps` recovering it after a crash, a
                    // `send`): a node waits its turn.
                    std::thread::sleep(WAIT_RETRY);
                    continue;
                }
                if named && serves && !node_patience.is_zero() {
                    std::thread::sleep(WAIT_RETRY.min(node_patience));
                    node_patience = node_patience.saturating_sub(WAIT_RETRY);
                    continue;
                }
                if !named && !patience.is_zero() {
                    std::thread::sleep(HOLDER_LOOK);
                    patience = patience.saturating_sub(HOLDER_LOOK);
                    continue;
                }
                let holder = match holder {
                    Some(holder) if named => holder.text,
                    _ => "another process".to_string(),
                };
                crate::note!(
                    "error: the store {} is in use by {holder}; wait for it to finish, or pass --wait",
                    path.display()
                );
                return Err(ExitCode::FAILURE);
            }
            Err(error) => {
                crate::note!("error: {error}");
                return Err(ExitCode::FAILURE);
            }
        }
    }
}

/// Refuses a store path with no file, or with an empty one: a store is never empty once made (it
/// is created whole under another name), so an empty file there was truncated.
fn refuse_missing_or_empty(path: &Path) -> Result<(), ExitCode> {
    match std::fs::metadata(path) {
        Err(_) => {
            crate::note!("error: there is no store at {} (start a process first, or pass --store)", path.display());
            Err(ExitCode::FAILURE)
        }
        Ok(metadata) if metadata.len() == 0 => {
            crate::note!(
                "error: {}: the file is empty, not a store (truncated?); it was left as it is",
                path.display()
            );
            Err(ExitCode::FAILURE)
        }
        Ok(_) => Ok(()),
    }
}

/// Opens an existing store for writing (`resume`): never creates one.
pub fn open_existing(args: &StoreArgs) -> Result<RedbStore, ExitCode> {
    open_for_writing(args, Open::Existing)
}

/// How `verify` could open the store.
pub enum Verifying {
    /// For writing, every page checked.
    EveryPage,
    /// Read-only, beside another process that writes it: redb's page checksums cannot be checked.
    BesideAWriter,
    /// Read-only, since the file cannot be written (a read-only file system, no permission).
    ReadOnlyFile,
}

/// Opens an existing store for `verify`: for writing, with every page checked, when it can; else
/// read-only (beside a writer, or a file that cannot be written), saying which.
pub fn open_for_verifying(args: &StoreArgs) -> Result<(RedbStore, Verifying), ExitCode> {
    let path = store_path(args);
    refuse_missing_or_empty(&path)?;
    let opened = match open_store(args, &path, Mode::Checked) {
        Err(Failure::Exit(code)) => return Err(code),
        Err(Failure::Store(error)) => Err(error),
        Ok(store) => Ok(store),
    };
    match opened {
        Ok(store) => {
            write_holder(&path, &[]);
            Ok((store, Verifying::EveryPage))
        }
        Err(StoreError::Locked { .. }) => open_for_reading(args).map(|store| (store, Verifying::BesideAWriter)),
        Err(StoreError::Io { .. }) if std::fs::OpenOptions::new().write(true).open(&path).is_err() => {
            open_for_reading(args).map(|store| (store, Verifying::ReadOnlyFile))
        }
        Err(error) => {
            crate::note!("error: {error}");
            Err(ExitCode::FAILURE)
        }
    }
}

/// Opens an existing store for a command that only reads it (`ps`, `output`, `inspect`):
/// read-only, beside whatever process writes it (each read sees that writer's newest commit), on a
/// read-only file system too, and without writing anything, not even the holder file. A store left
/// by a crash is opened for writing once, to be recovered (that needs no other writer, and write
/// access to the file).
pub fn open_for_reading(args: &StoreArgs) -> Result<RedbStore, ExitCode> {
    let path = store_path(args);
    refuse_missing_or_empty(&path)?;
    match open_store(args, &path, Mode::ReadOnly) {
        Ok(store) => Ok(store),
        Err(Failure::Exit(code)) => Err(code),
        Err(Failure::Store(StoreError::NeedsRecovery { .. })) => open_existing(args),
        Err(Failure::Store(error)) => {
            crate::note!("error: {error}");
            Err(ExitCode::FAILURE)
        }
    }
}

/// Takes back the store a host let go of while its processes waited: the same file, never a new
/// store. A store that was moved, deleted or replaced meanwhile is an error naming what waited in
/// it, and nothing is created or written in its place.
pub fn reopen(args: &StoreArgs, identity: Option<FileIdentity>, waiting: &[String]) -> Result<RedbStore, ExitCode> {
    let path = store_path(args);
    let gone = |what: &str| {
        crate::note!(
            "error: the store {} {what} while process(es) {} waited in it; nothing was written. \
             Resume them from the store where it is now: chenilles-vm resume --store PATH",
            path.display(),
            waiting.join(", ")
        );
        ExitCode::FAILURE
    };
    loop {
        let opened = match open_store(args, &path, Mode::Existing) {
            Err(Failure::Exit(code)) => return Err(code),
            Err(Failure::Store(error)) => Err(error),
            Ok(store) => Ok(store),
        };
        match opened {
            Ok(store) if identity.is_some() && store.identity() != identity => {
                return Err(gone("was replaced by another file"));
            }
            Ok(store) => {
                write_holder(&path, waiting);
                return Ok(store);
            }
            Err(StoreError::Locked { .. }) => std::thread::sleep(WAIT_RETRY),
            Err(StoreError::NotFound { .. }) => return Err(gone("was moved or deleted")),
            Err(error) => {
                crate::note!("error: {error}");
                return Err(ExitCode::FAILURE);
            }
        }
    }
}

/// Names this process in the holder file, and the processes it runs (`runs NAME` lines: `ps`
/// shows a process left running by a host that is gone as `interrupted`). Called only while
/// holding the store's lock. The text goes to a fresh file (created exclusively, so a planted link
/// is not followed) renamed over the holder file (which replaces a link there, never its target).
/// The holder file is advice: failing to write it stops nothing.
fn write_holder(store: &Path, runs: &[String]) {
    let holder = holder_path(store);
    let mut text = format!("pid {} ({})\n", std::process::id(), std::env::args().collect::<Vec<_>>().join(" "));
    if SERVING.load(std::sync::atomic::Ordering::Relaxed) {
        text.push_str("serves\n");
    }
    for name in runs {
        text.push_str(&format!("runs {name}\n"));
    }
    let mut temporary = holder.as_os_str().to_owned();
    temporary.push(format!(".{}.{}", std::process::id(), nanos()));
    let temporary = PathBuf::from(temporary);
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temporary)
        .and_then(|mut file| file.write_all(text.as_bytes()))
        .and_then(|()| std::fs::rename(&temporary, &holder));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
}

/// Set by `serve`: the holder file says so, and other commands wait for the node's turns.
static SERVING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Says, in each holder file this command writes from now on, that it is a node serving the
/// store: a node holds the store only while it works, so a command that finds it held waits
/// (up to [`NODE_PATIENCE`]) instead of failing.
pub fn announce_serving() {
    SERVING.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// How long a command waits for a node that holds the store.
const NODE_PATIENCE: Duration = Duration::from_secs(60);

/// Says in the holder file which processes this command runs now (it holds the store's lock).
pub fn announce_runs(args: &StoreArgs, names: &[String]) {
    write_holder(&store_path(args), names);
}

/// Whether a host runs process `name` of the store now, as far as can be told: a process whose
/// record says it runs, but that no live host runs, was interrupted (its host was killed, or
/// stopped by a signal) and goes on with `resume`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Driven {
    /// A live host holds the store and runs it (or may: it has not said which it runs yet).
    Yes,
    /// No live host runs it.
    No,
    /// This system does not tell which processes hold a file.
    Unknown,
}

/// Who holds the store for writing now, read once for a listing.
pub struct Drivers {
    /// `None`: cannot be known here; else the pids holding the store open for writing.
    writers: Option<Vec<u32>>,
    holder: Option<Holder>,
}

impl Drivers {
    /// Looks at who holds the store at `args`'s path.
    pub fn look(args: &StoreArgs) -> Drivers {
        let path = store_path(args);
        let mut writers = chenilles_store::writers_of(&path);
        let holder = read_holder(&path);
        // /proc shows only the processes this one may inspect: a live holder whose open files
        // cannot be read (another user's) may hold the store unseen, so nothing can be told.
        if writers.as_ref().is_some_and(Vec::is_empty)
            && let Some(holder) = &holder
            && alive(holder.pid)
            && std::fs::read_dir(Path::new("/proc").join(holder.pid.to_string()).join("fd")).is_err()
        {
            writers = None;
        }
        Drivers { writers, holder }
    }

    /// Whether a live host runs process `name`.
    pub fn drive(&self, name: &str) -> Driven {
        let Some(writers) = &self.writers else { return Driven::Unknown };
        if writers.is_empty() {
            return Driven::No;
        }
        match &self.holder {
            // The holder file names the writer and says what it runs.
            Some(holder) if writers.contains(&holder.pid) && !holder.runs.is_empty() => {
                if holder.runs.iter().any(|run| run == name) { Driven::Yes } else { Driven::No }
            }
            // A writer that has not said (yet) what it runs: it may run this one.
            _ => Driven::Yes,
        }
    }
}

fn nanos() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos())
}

/// What the holder file says.
struct Holder {
    pid: u32,
    /// Its first line, control characters replaced.
    text: String,
    /// The processes it says the holder runs.
    runs: Vec<String>,
    /// Whether the holder is a node (`serve`), which lets the store go between its turns.
    serves: bool,
}

/// The longest holder file read (its first line, and a line per process run).
const HOLDER_LIMIT: u64 = 1 << 20;

/// Reads the holder file: not through a symlink, not from anything but a regular file (a FIFO
/// planted there would block), at most [`HOLDER_LIMIT`] bytes.
fn read_holder(store: &Path) -> Option<Holder> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = options.open(holder_path(store)).ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut bytes = Vec::new();
    file.take(HOLDER_LIMIT).read_to_end(&mut bytes).ok()?;
    let all = String::from_utf8_lossy(&bytes);
    let mut lines = all.lines();
    let text: String = lines.next()?.trim().chars().map(|c| if c.is_control() { '?' } else { c }).collect();
    let pid = text.strip_prefix("pid ")?.split_whitespace().next()?.parse().ok()?;
    let rest: Vec<&str> = lines.collect();
    let runs = rest.iter().filter_map(|line| line.strip_prefix("runs ")).map(|s| s.to_string()).collect();
    let serves = rest.contains(&"serves");
    Some(Holder { pid, text, runs, serves })
}

/// Whether process `pid` exists (on systems without `/proc`, assumed).
fn alive(pid: u32) -> bool {
    let proc = Path::new("/proc");
    !proc.is_dir() || proc.join(pid.to_string()).exists()
}
