//! Durable processes: a program whose every continuation is checkpointed into a store, so that it
//! resumes exactly where it was after a crash.
//!
//! A [`Process`] runs its program in slices: the interpreter yields every [`STEPS_PER_SLICE`] steps
//! (calls and backward jumps), and when the checkpoint interval has passed — or the program called
//! `(checkpoint)` — the process commits a checkpoint in one store transaction:
//! - the snapshot's new blobs (only what changed: see [`crate::snapshot`]);
//! - the output written since the previous checkpoint, as a segment of the output journal;
//! - the effects performed since then (see [`chenilles_machine::effects`]), as a segment of the effect journal;
//! - a [`Record`] naming all of these, and the ref `process/NAME` moved to it by compare-and-swap.
//!
//! Output reaches the host's stdout only after the commit that journals it. A crash loses at most
//! the work since the last checkpoint, and that work is redone the same way on resume: pure
//! computation is deterministic, and the uncommitted output and effects are discarded with it.
//! A process ends with a last checkpoint recording how it ended: finished, exited with a code, or
//! failed with its error report (a failed process is not resumed again).

use std::collections::VecDeque;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chenilles_compiler::bytecode::Image;
use chenilles_store::{Batch, BlobStore, Hash, StoreError};
use rkyv::{Archive, Deserialize, Serialize};

use crate::snapshot::blob::{self, Kind};
use crate::snapshot::{CaptureStats, SnapshotError, Snapshotter, from_rkyv, read_stored, to_rkyv};
use chenilles_machine::capabilities::HostAccess;
use chenilles_machine::effects::Effect;
use chenilles_machine::interp::{Trap, Vm};
use chenilles_machine::{Machine, RunError};

/// Interpreter steps between two looks at the clock.
pub const STEPS_PER_SLICE: u64 = 1000;
/// The default longest stretch of pure computation between two checkpoints.
pub const DEFAULT_CHECKPOINT_INTERVAL: Duration = Duration::from_millis(100);

/// The default [`Options::checkpoint_share`]: periodic checkpoints take at most a tenth of a
/// process's time.
pub const DEFAULT_CHECKPOINT_SHARE: u32 = 10;
/// What a checkpoint is assumed to write per second before this process has measured its own
/// (a cautious figure: this machine writes ~100 MB/s, collection and commit included).
const ASSUMED_CHECKPOINT_BYTES_PER_SECOND: f64 = (64 << 20) as f64;
/// A checkpoint that wrote at least this much measures the process's writing speed (smaller ones
/// are timed mostly by the commit's fsync).
const MEASURING_CHECKPOINT_BYTES: u64 = 1 << 20;
/// The stored size assumed for a heap page (64 objects), for predicting a checkpoint's size.
const PREDICTED_PAGE_BYTES: usize = 2048;

/// A checkpoint collects garbage first when at least this much, and an eighth of the live heap,
/// was allocated since the last collection: so that it does not write pages full of dead objects,
/// while the cost of marking stays a fraction of the cost of the allocation it follows.
pub const COLLECT_BEFORE_CHECKPOINT_BYTES: usize = 1 << 20;
/// The store is garbage-collected when checkpoints have written this much, plus twice the size of
/// the process's state, since its last collection (and when a process ends). A collection that
/// fails (a corrupt blob in the store) is reported on the process's error output, and the process
/// goes on: its checkpoint is committed and echoed before.
pub const STORE_GC_BYTES: u64 = 16 << 20;
/// What a commit costs in a store file beyond its blobs' bytes, about (redb's copy-on-write
/// pages, blobs rounded up to pages): counted towards [`STORE_GC_BYTES`], so that a process of
/// many tiny checkpoints is collected too (5,000 checkpoints of 3.3 KB grew a file to 45 MB).
const COMMIT_FILE_OVERHEAD: u64 = 8 << 10;
/// The most a process's collections back off: [`STORE_GC_BYTES`] times this.
const MAX_STORE_GC_BACKOFF: u64 = 64;
/// The version of [`Record`]s this build writes and reads.
pub const RECORD_VERSION: u32 = 2;
/// The longest checkpoint a process asked to stop takes before it stops; a costlier one is
/// skipped, and the work since the last checkpoint is done again on resume (as after a crash).
const STOP_CHECKPOINT_BUDGET: Duration = Duration::from_secs(2);

/// How a durable process stands.
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub enum Status {
    /// Not finished: `resume` goes on with it.
    Running,
    /// Not finished, and waiting for a message (until this `current-second` deadline, if any).
    Waiting {
        /// The `current-second` at which it resumes even without a message.
        until: Option<f64>,
    },
    /// It ran to its end.
    Finished,
    /// It called `exit` with this code.
    Exited(i32),
    /// It stopped on an uncaught error; the report is the message and the Scheme backtrace.
    Failed {
        /// The error message and the Scheme backtrace.
        report: String,
    },
    /// It was cancelled from outside ([`crate::cancel`]) where its last checkpoint had left it.
    /// (Last of the variants: records written before it existed read as they were.)
    Cancelled {
        /// Why, as the canceller said it (may be empty).
        reason: String,
    },
}

impl std::fmt::Display for Status {
    /// The status's word ([`Status::word`]): `running`, `exited(3)`, `cancelled`, …
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.word())
    }
}

impl Status {
    /// For a process waiting with a deadline: when it resumes even without a message.
    pub fn deadline(&self) -> Option<SystemTime> {
        match self {
            Status::Waiting { until: Some(seconds) } => unix_seconds(*seconds),
            _ => None,
        }
    }

    /// Whether the process has not ended (running or waiting): `resume` goes on with it.
    pub fn is_running(&self) -> bool {
        matches!(self, Status::Running | Status::Waiting { .. })
    }

    /// A word for `ps`.
    pub fn word(&self) -> String {
        match self {
            Status::Running => "running".into(),
            Status::Waiting { .. } => "waiting".into(),
            Status::Finished => "finished".into(),
            Status::Exited(code) => format!("exited({code})"),
            Status::Failed { .. } => "failed".into(),
            Status::Cancelled { .. } => "cancelled".into(),
        }
    }
}

/// A process's checkpoint record: what `process/NAME` points at.
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Record {
    /// The record format's version.
    pub version: u32,
    /// The process's name.
    pub name: String,
    /// The program, as given to `start`.
    pub program: String,
    /// How the process stood at this checkpoint.
    pub status: Status,
    /// Checkpoints committed so far, this one included.
    pub checkpoints: u64,
    /// When the process was started (Unix milliseconds).
    pub started_ms: u64,
    /// When this checkpoint was taken (Unix milliseconds).
    pub time_ms: u64,
    /// The snapshot root (none once the process has ended: its state is no longer needed).
    pub snapshot: Option<[u8; 32]>,
    /// Bytes this checkpoint added to the store.
    pub bytes_written: u64,
    /// Heap pages this checkpoint wrote.
    pub pages_written: u64,
    /// The newest output journal segment.
    pub output: Option<[u8; 32]>,
    /// The output journal's total length in bytes.
    pub output_len: u64,
    /// How much of the output journal has been written to the host's stdout.
    pub echoed: u64,
    /// The newest effect journal segment.
    pub effects: Option<[u8; 32]>,
    /// The number of effects journaled.
    pub effect_count: u64,
    /// `current-jiffy` at this checkpoint.
    pub jiffies: i64,
    /// Steps (calls and loop iterations) run so far.
    pub steps: u64,
    /// Messages received so far (see [`crate::Mailbox`]).
    pub received: u64,
    /// The capabilities the process was granted (see [`chenilles_machine::capabilities`]).
    pub grants: Vec<String>,
    /// Once it has finished: the value of its last expression, in `write` syntax.
    pub result: Option<String>,
    /// The previous record, for a process that keeps its history (`start --keep-history`): every
    /// checkpoint stays in the store, for `verify --replay`.
    pub previous: Option<[u8; 32]>,
    /// Whether the process keeps its history (then `previous` is set from its second record on).
    pub keeps_history: bool,
}

/// The moment `seconds` after the Unix epoch (`None` for a value no clock reads: negative, not
/// finite, or past what `SystemTime` holds).
pub(crate) fn unix_seconds(seconds: f64) -> Option<SystemTime> {
    let since = std::time::Duration::try_from_secs_f64(seconds).ok()?;
    UNIX_EPOCH.checked_add(since)
}

impl Record {
    /// When the process was started (the stored form is [`Record::started_ms`]).
    pub fn started_at(&self) -> SystemTime {
        UNIX_EPOCH + std::time::Duration::from_millis(self.started_ms)
    }

    /// When this checkpoint was taken (the stored form is [`Record::time_ms`]).
    pub fn checkpointed_at(&self) -> SystemTime {
        UNIX_EPOCH + std::time::Duration::from_millis(self.time_ms)
    }

    fn children(&self) -> Vec<Hash> {
        [self.snapshot, self.output, self.effects, self.previous].into_iter().flatten().map(Hash).collect()
    }
}

/// Why a durable operation failed.
#[derive(Debug, thiserror::Error)]
pub enum DurableError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A snapshot could not be written or read back.
    #[error("{0}")]
    Snapshot(#[from] SnapshotError),
    /// The program could not be compiled or loaded.
    #[error("{}", .0.report().trim_end())]
    Program(#[from] RunError),
    /// A message could not be delivered.
    #[error(transparent)]
    Delivery(#[from] crate::mailbox::DeliveryError),
    /// No process of this name is in the store.
    #[error("there is no process named {0:?} in the store")]
    NoSuchProcess(String),
    /// The name cannot name a process.
    #[error(transparent)]
    BadName(#[from] chenilles_machine::process_name::NameError),
    /// A bundle to import holds something other than whole processes.
    #[error("the bundle does not hold whole processes: {0}")]
    NotProcesses(String),
    /// A process of this name is already in the store.
    #[error("a process named {0:?} already exists in the store")]
    NameTaken(String),
    /// A process's record could not be read.
    #[error("process {name:?}: malformed record: {what}")]
    BadRecord {
        /// The process.
        name: String,
        /// What is wrong with its record.
        what: String,
    },
    /// The process did not keep its history ([`Options::keep_history`]), so it cannot be replayed.
    #[error("process {0:?} did not keep its history, so it cannot be replayed")]
    NoHistory(String),
    /// A process was spawned without saying what it runs ([`crate::Spawn::source`] or
    /// [`crate::Spawn::image`]).
    #[error("process {0:?} was spawned with no program: give it a source or an image")]
    NoProgram(String),
    /// The host has let go of its store ([`crate::Host::release_store`]) and has none to use.
    #[error("the host has no store: it was released, and no store was attached since")]
    StoreReleased,
    /// The process has not ended, and what was asked needs it ended (removing it).
    #[error("process {name:?} has not ended ({status}): cancel it first")]
    NotEnded {
        /// The process.
        name: String,
        /// How it stands ([`Status::word`]).
        status: String,
    },
    /// The process has ended; there is nothing to resume.
    #[error("process {name:?} has ended ({status}); there is nothing to resume")]
    Ended {
        /// The process.
        name: String,
        /// How it ended ([`Status::word`]).
        status: String,
    },
    /// [`Options::barrier`] refused a checkpoint: committed, but not safe enough to show.
    #[error("process {name:?}: its last checkpoint is committed but was not shown: {cause}")]
    NotSafeYet {
        /// The process.
        name: String,
        /// What the barrier said.
        cause: String,
    },
    /// A crash asked for by [`Options::crash_at`] (tests of the windows around a commit).
    #[error("crash injected {window:?} checkpoint {checkpoint}")]
    InjectedCrash {
        /// Where, around the commit.
        window: Window,
        /// The checkpoint's number.
        checkpoint: u64,
    },
    /// With [`Options::reload_each_checkpoint`]: a checkpoint read back is not the state that was written.
    #[error(
        "reload check failed at checkpoint {checkpoint}: the restored state re-serializes to {reloaded}, not {written}: {difference}"
    )]
    ReloadMismatch {
        /// The checkpoint's number.
        checkpoint: u64,
        /// The snapshot root written.
        written: Hash,
        /// The root of the state restored from it, captured again.
        reloaded: Hash,
        /// The first difference between the two.
        difference: String,
    },
}

/// The ref naming a process's newest record.
pub fn process_ref(name: &str) -> String {
    format!("process/{name}")
}

/// The time a record carries (Unix milliseconds): none, 0, in a reproducible run.
fn record_time_ms(options: &Options) -> u64 {
    if options.reproducible {
        return 0;
    }
    record_time_ms_now()
}

/// Now, in Unix milliseconds, as records carry it.
pub(crate) fn record_time_ms_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// Reads the record `hash` of process `name`.
pub fn read_record(store: &dyn BlobStore, name: &str, hash: Hash) -> Result<Record, DurableError> {
    let bad = |what: String| DurableError::BadRecord { name: name.to_string(), what };
    let record: Record = read_stored(store, &hash, Kind::Record, "a checkpoint record").map_err(|e| match e {
        SnapshotError::Store(error) => DurableError::Store(error),
        SnapshotError::Missing(_) => bad(format!("record blob {hash} is missing")),
        other => bad(other.to_string()),
    })?;
    if record.version != RECORD_VERSION {
        return Err(bad(format!("record version {} (this build reads {RECORD_VERSION})", record.version)));
    }
    if record.echoed > record.output_len {
        return Err(bad(format!(
            "it says {} bytes of output were echoed, of the {} it holds",
            record.echoed, record.output_len
        )));
    }
    if record.name != name {
        return Err(bad(format!("it is the record of process {:?}", record.name)));
    }
    Ok(record)
}

/// Every process in the store, by name, with its newest record.
pub fn list_processes(store: &dyn BlobStore) -> Result<Vec<(String, Record)>, DurableError> {
    let mut processes = Vec::new();
    for (name, hash) in store.list_refs()? {
        if let Some(process) = name.strip_prefix("process/") {
            processes.push((process.to_string(), read_record(store, process, hash)?));
        }
    }
    Ok(processes)
}

/// The payloads of a journal, oldest segment first: a chain of blobs of `kind`, each naming the
/// one before it as its only child, from `head`.
fn read_journal(
    store: &dyn BlobStore,
    head: Option<[u8; 32]>,
    kind: Kind,
) -> Result<Vec<(Hash, Vec<u8>)>, DurableError> {
    let mut segments = Vec::new();
    let mut next = head.map(Hash);
    while let Some(hash) = next {
        let bytes = store.get(&hash)?.ok_or(StoreError::MissingBlob { hash })?;
        let decoded = blob::decode(&hash, &bytes)?;
        if decoded.kind != kind || decoded.children.len() > 1 {
            return Err(SnapshotError::Malformed { blob: hash, what: format!("not a {kind:?} journal segment") }.into());
        }
        next = decoded.children.first().copied();
        segments.push((hash, decoded.payload.to_vec()));
    }
    segments.reverse();
    Ok(segments)
}

/// The whole output journal of a record, oldest byte first.
pub fn read_output(store: &dyn BlobStore, record: &Record) -> Result<Vec<u8>, DurableError> {
    let output: Vec<u8> =
        read_journal(store, record.output, Kind::Output)?.into_iter().flat_map(|(_, payload)| payload).collect();
    if output.len() as u64 != record.output_len {
        return Err(DurableError::BadRecord {
            name: record.name.clone(),
            what: format!("the output journal holds {} bytes, the record says {}", output.len(), record.output_len),
        });
    }
    Ok(output)
}

/// The output journal of a record from byte `from` on: reads only the segments that hold those
/// bytes (newest first, back to the one where `from` falls), so following a process's output costs
/// what it wrote since, not all it ever wrote.
pub fn read_output_from(store: &dyn BlobStore, record: &Record, from: u64) -> Result<Vec<u8>, DurableError> {
    let bad = |what: String| DurableError::BadRecord { name: record.name.clone(), what };
    let mut segments = Vec::new();
    let mut end = record.output_len;
    let mut next = record.output.map(Hash);
    while end > from {
        let Some(hash) = next else {
            return Err(bad(format!(
                "the output journal ends before byte {end}, the record says {}",
                record.output_len
            )));
        };
        let bytes = store.get(&hash)?.ok_or(StoreError::MissingBlob { hash })?;
        let decoded = blob::decode(&hash, &bytes)?;
        if decoded.kind != Kind::Output || decoded.children.len() > 1 {
            return Err(SnapshotError::Malformed { blob: hash, what: "not an output journal segment".into() }.into());
        }
        let start = end.checked_sub(decoded.payload.len() as u64).ok_or_else(|| {
            bad(format!("the output journal holds more than the {} bytes the record says", record.output_len))
        })?;
        segments.push((start, decoded.payload.to_vec()));
        next = decoded.children.first().copied();
        end = start;
    }
    let mut output = Vec::new();
    for (start, payload) in segments.into_iter().rev() {
        let skip = from.saturating_sub(start).min(payload.len() as u64) as usize;
        output.extend_from_slice(&payload[skip..]);
    }
    Ok(output)
}

/// The effect journal of a record, oldest first.
pub fn read_effects(store: &dyn BlobStore, record: &Record) -> Result<Vec<Effect>, DurableError> {
    let mut effects = Vec::new();
    for (hash, payload) in read_journal(store, record.effects, Kind::Effects)? {
        effects.extend(from_rkyv::<Vec<Effect>>(&hash, &payload)?);
    }
    Ok(effects)
}

/// Adds `record` to `batch` and moves its process's ref from `previous` to it (compare-and-swap);
/// returns the record's hash.
pub fn stage_record(batch: &mut Batch, record: &mut Record, previous: Option<Hash>) -> Hash {
    record.previous = if record.keeps_history { previous.map(|h| h.0) } else { None };
    let hash = blob::put(batch, Kind::Record, &record.children(), &to_rkyv(&*record));
    batch.set_ref(&process_ref(&record.name), previous, hash);
    hash
}

/// Writes to `echo` the output process `name` committed but did not echo (a crash came between
/// the commit and the echo), and commits that it did; returns the newest record and its hash.
pub fn echo_pending(
    store: &mut dyn BlobStore,
    name: &str,
    echo: &mut dyn Write,
) -> Result<(Hash, Record), DurableError> {
    let hash = store.get_ref(&process_ref(name))?.ok_or_else(|| DurableError::NoSuchProcess(name.into()))?;
    let mut record = read_record(store, name, hash)?;
    if record.echoed == record.output_len {
        return Ok((hash, record));
    }
    let output = read_output(store, &record)?;
    let _ = echo.write_all(&output[record.echoed as usize..]);
    let _ = echo.flush();
    record.echoed = record.output_len;
    let mut batch = Batch::default();
    let new_hash = stage_record(&mut batch, &mut record, Some(hash));
    store.commit(batch)?;
    Ok((new_hash, record))
}

/// Bytes written through any of its clones, kept in memory: what a process writes between two
/// checkpoints, or what a host or a test captures of the echo.
#[derive(Clone, Default)]
pub struct SharedBuffer(Arc<Mutex<Vec<u8>>>);

impl SharedBuffer {
    /// Everything written so far, leaving the buffer empty.
    pub fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.bytes())
    }

    fn bytes(&self) -> std::sync::MutexGuard<'_, Vec<u8>> {
        // The buffer is only appended to and taken whole: a panic elsewhere leaves it whole.
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A copy of everything written so far.
    pub fn contents(&self) -> Vec<u8> {
        self.bytes().clone()
    }
}

impl Write for SharedBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.bytes().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A function called with each checkpoint record as it is committed.
pub type CheckpointWatcher = Box<dyn FnMut(&Record) + Send>;

/// See [`Options::barrier`].
pub type Barrier = Arc<dyn Fn() -> Result<(), String> + Send + Sync>;

/// A named point of the checkpoint protocol where a test can crash a process (see
/// [`Options::crash_at`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    /// A checkpoint is ready (state, output, effects, messages) but not committed.
    BeforeCommit,
    /// A checkpoint is committed, and its new output has not reached the host yet.
    AfterCommit,
}

/// Decides, at each window, whether the process crashes there; it is given the newest committed
/// record.
pub type CrashHook = Box<dyn FnMut(Window, &Record) -> bool + Send>;

/// The computation to run before the next periodic checkpoint, after one that took `cost`: at
/// least `every`, and long enough that checkpoints take at most `share` percent of the time.
pub fn paced_interval(every: Duration, share: u32, cost: Duration) -> Duration {
    let share = share.clamp(1, 100);
    every.max(cost.saturating_mul(100 - share) / share)
}

/// Whether a checkpoint predicted to take `cost` fits the share after `elapsed` of computation
/// since the last one (and the interval `every` has passed).
pub fn affordable(elapsed: Duration, every: Duration, share: u32, cost: Duration) -> bool {
    elapsed >= paced_interval(every, share, cost)
}

/// How a durable process is run.
pub struct Options {
    /// The longest stretch of pure computation between two checkpoints (zero: a checkpoint at
    /// every slice).
    pub checkpoint_every: Duration,
    /// The most of the process's time periodic checkpoints may take, in percent (1 to 100): after a
    /// checkpoint that took `c`, the next periodic one comes after `c × (100 − share) / share` of
    /// computation if that is longer than `checkpoint_every`. A process that changes most of a
    /// large heap between checkpoints is then checkpointed less often rather than slowed down
    /// without bound; 100 turns this pacing off. Checkpoints the program asks for (messages,
    /// effects, `(checkpoint)`) are never delayed.
    pub checkpoint_share: u32,
    /// Checkpoint after every this many steps (calls, jumps and charged work), and at no other
    /// periodic point: a deterministic interval, the same in every run, for tests that must restore
    /// a process at many points of its computation. `None`: by time, as `checkpoint_every` says.
    pub checkpoint_every_steps: Option<u64>,
    /// Runs that write the same store every time: records carry no clock readings (their times
    /// are 0) and the process's `current-jiffy` stands still, so that a program paced by
    /// [`Options::checkpoint_every_steps`] that reads no other clock (`current-second` stays real)
    /// makes the same commits, byte for byte, in every run. How the crash tests replay a kill at
    /// an exact disk operation (`chenilles_store::crash_point`). Like the pacing, it holds for
    /// the command given it: a resume without it has a real clock again (its jiffies going on from
    /// where they stood).
    pub reproducible: bool,
    /// After each checkpoint, drop the process's memory, restore it from the store, and check that
    /// the restored state serializes to the same root (slow; for tests).
    pub reload_each_checkpoint: bool,
    /// Where committed output is echoed (the host's stdout).
    pub echo: Box<dyn Write + Send>,
    /// Where error reports go.
    pub err: Box<dyn Write + Send>,
    /// Called with each record just committed (for hosts and benchmarks that watch checkpoints).
    pub on_checkpoint: Option<CheckpointWatcher>,
    /// Called after the commit of a checkpoint that holds output, messages or effects, before
    /// its output is echoed and its receivers are woken: where a host holds back what the world
    /// would see until the checkpoint is safe enough (held by replicas, say). An error stops the
    /// process with [`DurableError::NotSafeYet`]; its checkpoint stays committed, and a resume
    /// echoes its output then.
    pub barrier: Option<Barrier>,
    /// The host functions on offer, and those a new process is granted (a resumed process keeps the
    /// grants it was started with).
    pub host: HostAccess,
    /// For a new process: keep every checkpoint in the store (each record names the one before
    /// it), so that the run can be replayed and checked (`chenilles-vm verify --replay`). The
    /// store grows with the process's whole history. (A resumed process keeps its choice.)
    pub keep_history: bool,
    /// Set (by a signal handler, say) to ask the process to stop: at its next slice it takes a
    /// checkpoint if one is cheap, and its turn ends with [`Turn::Stopped`].
    pub stop: Option<Arc<AtomicBool>>,
    /// For tests of the crash windows: when this returns true, the process stops there with
    /// [`DurableError::InjectedCrash`], as if the machine had died; its state in memory must be
    /// dropped and the process resumed from the store.
    pub crash_at: Option<CrashHook>,
}

impl Options {
    /// Options for a host that reads its processes' output from their journals
    /// ([`crate::Host::output`]): nothing is echoed, error reports stay in the records.
    pub fn silent() -> Options {
        Options { echo: Box::new(std::io::sink()), err: Box::new(std::io::sink()), ..Options::default() }
    }
}

impl Default for Options {
    fn default() -> Options {
        Options {
            checkpoint_every: DEFAULT_CHECKPOINT_INTERVAL,
            checkpoint_share: DEFAULT_CHECKPOINT_SHARE,
            checkpoint_every_steps: None,
            reproducible: false,
            reload_each_checkpoint: false,
            echo: Box::new(std::io::stdout()),
            err: Box::new(std::io::stderr()),
            on_checkpoint: None,
            barrier: None,
            host: HostAccess::default(),
            crash_at: None,
            keep_history: false,
            stop: None,
        }
    }
}

/// Where the effects of a process brought back from the store come from.
pub(crate) enum Effects {
    /// Performed and journaled: the process runs on.
    Performed,
    /// Taken from the journal, these in order: the process is replayed (see [`crate::replay`]); its
    /// files are left alone.
    Replayed(VecDeque<Effect>),
}

/// What a checkpoint stages before its commit.
/// Whom a process's checkpoints sent messages to.
#[derive(Debug, Default)]
pub struct SentTo {
    /// Processes of the store.
    pub processes: Vec<String>,
    /// Peers, by the names the store knows them by.
    pub peers: Vec<String>,
}

struct StagedCheckpoint {
    /// The record to commit.
    record: Record,
    /// The snapshot root, for a process that goes on.
    snapshot: Option<Hash>,
    /// The output since the last checkpoint, echoed once committed.
    new_output: Vec<u8>,
    /// The processes and peers the checkpoint sends messages to.
    sent_to: SentTo,
    /// Whether it journals effects (the clock read, keys made, host functions called).
    effects: bool,
}

impl StagedCheckpoint {
    /// Whether the checkpoint holds something the world sees once it is committed: output,
    /// messages, effects.
    fn shows_the_world(&self) -> bool {
        self.effects
            || !self.new_output.is_empty()
            || !self.sent_to.processes.is_empty()
            || !self.sent_to.peers.is_empty()
    }
}

/// Captures `vm` as a checkpoint does: first collecting garbage if enough was allocated since the
/// last collection (see [`COLLECT_BEFORE_CHECKPOINT_BYTES`]), so that a checkpoint does not write
/// pages full of dead objects. A replay captures through this too, to reach the same roots.
pub(crate) fn capture_for_checkpoint(
    vm: &mut Vm,
    snapshotter: &mut Snapshotter,
    batch: &mut Batch,
) -> Result<(Hash, CaptureStats), SnapshotError> {
    let heap = &vm.rt.heap;
    if heap.allocated_since_collection() > COLLECT_BEFORE_CHECKPOINT_BYTES.max(heap.live_bytes() / 8) {
        vm.collect_garbage();
    }
    snapshotter.capture(vm, batch)
}

/// A durable process in memory, with what it last committed.
pub struct Process {
    pub(crate) name: String,
    pub(crate) vm: Vm,
    pub(crate) snapshotter: Snapshotter,
    record: Record,
    record_hash: Option<Hash>,
    pub(crate) output: SharedBuffer,
    options: Options,
    /// Bytes and pages the last checkpoint wrote.
    pub last_capture: CaptureStats,
    /// Bytes written to the store since its last garbage collection.
    written_since_store_gc: u64,
    /// How many times [`STORE_GC_BYTES`] the next collection waits for (doubled after each that
    /// found little garbage).
    store_gc_backoff: u64,
    /// When the last checkpoint was committed, and the longest stretch of computation before the next.
    last_checkpoint: Instant,
    interval: Duration,
    /// How fast this process's checkpoints write, in bytes per second (measured by the large ones).
    checkpoint_speed: f64,
    /// The processes and peers this one's checkpoints sent messages to since the host last asked.
    sent_to: SentTo,
    /// Set by a resume until the first checkpoint: that checkpoint comes after the interval,
    /// whatever its predicted cost, so that a process crashed again and again still gets
    /// further each time (at most one interval of work is lost per crash).
    restored: bool,
    /// With [`Options::checkpoint_every_steps`]: the step count at which the next periodic
    /// checkpoint comes.
    next_step_checkpoint: u64,
}

/// How a turn of [`Process::run_turn`] ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Turn {
    /// The process committed a checkpoint and can go on.
    Checkpointed,
    /// The process waits for a message, until this `current-second` deadline if any.
    Waiting(Option<f64>),
    /// The process ended.
    Ended(Status),
    /// The process was asked to stop ([`Options::stop`]): its newest checkpoint is in the store
    /// (taken just now if that was cheap, else the one before: at most one interval of work is
    /// lost, as in a crash). The process in memory must not run on.
    Stopped,
}

impl Process {
    /// Starts `image` as a new process named `name` (the program's libraries are found as for
    /// `run`, by `machine`), and commits its first checkpoint before any of its code runs. `machine`
    /// must come from [`Machine::durable`].
    pub fn start(
        store: &mut dyn BlobStore,
        mut machine: Machine,
        name: &str,
        program: &str,
        image: &Image,
        options: Options,
    ) -> Result<Process, DurableError> {
        chenilles_machine::process_name::check(name)?;
        if store.get_ref(&process_ref(name))?.is_some() {
            return Err(DurableError::NameTaken(name.to_string()));
        }
        machine.queue_image(image)?;
        let now = record_time_ms(&options);
        let record = Record {
            version: RECORD_VERSION,
            name: name.to_string(),
            program: program.to_string(),
            status: Status::Running,
            checkpoints: 0,
            started_ms: now,
            time_ms: now,
            snapshot: None,
            bytes_written: 0,
            pages_written: 0,
            output: None,
            output_len: 0,
            echoed: 0,
            effects: None,
            effect_count: 0,
            jiffies: 0,
            steps: 0,
            received: 0,
            grants: options.host.grants.clone(),
            result: None,
            previous: None,
            keeps_history: options.keep_history,
        };
        let mut process = Process::in_memory(name, machine.vm, Snapshotter::new(), record, None, options);
        process.adopt_vm(store, Effects::Performed)?;
        process.checkpoint(store, Status::Running)?;
        Ok(process)
    }

    /// Loads process `name` from its newest checkpoint. Output committed but not yet echoed (a
    /// crash came between the commit and the echo) is echoed now.
    pub fn resume(store: &mut dyn BlobStore, name: &str, mut options: Options) -> Result<Process, DurableError> {
        let (record_hash, record) = echo_pending(store, name, &mut *options.echo)?;
        if !record.status.is_running() {
            return Err(DurableError::Ended { name: name.into(), status: record.status.word() });
        }
        Process::restored(store, record, Some(record_hash), options, Effects::Performed)
    }

    /// Rebuilds a process from the snapshot `record` names (its newest record for a resume, the
    /// first of its history for a replay) and connects it as [`Process::adopt_vm`] does, with the
    /// grants it was started with. The one path by which a process comes back from the store.
    pub(crate) fn restored(
        store: &dyn BlobStore,
        record: Record,
        record_hash: Option<Hash>,
        mut options: Options,
        effects: Effects,
    ) -> Result<Process, DurableError> {
        let Some(snapshot) = record.snapshot.map(Hash) else {
            return Err(DurableError::Ended { name: record.name.clone(), status: record.status.word() });
        };
        let (vm, snapshotter) = match effects {
            Effects::Performed => {
                crate::snapshot::restore(store, snapshot, Box::new(std::io::sink()), Box::new(std::io::stderr()))?
            }
            // A replay must not touch the files the process writes.
            Effects::Replayed(_) => crate::snapshot::restore_detached(store, snapshot, Box::new(std::io::sink()))?,
        };
        options.host.grants = record.grants.clone();
        let name = record.name.clone();
        let mut process = Process::in_memory(&name, vm, snapshotter, record, record_hash, options);
        process.restored = true;
        process.adopt_vm(store, effects)?;
        Ok(process)
    }

    fn in_memory(
        name: &str,
        vm: Vm,
        snapshotter: Snapshotter,
        record: Record,
        record_hash: Option<Hash>,
        options: Options,
    ) -> Process {
        Process {
            name: name.to_string(),
            vm,
            snapshotter,
            record,
            record_hash,
            output: SharedBuffer::default(),
            interval: options.checkpoint_every,
            checkpoint_speed: ASSUMED_CHECKPOINT_BYTES_PER_SECOND,
            options,
            last_capture: CaptureStats::default(),
            written_since_store_gc: 0,
            store_gc_backoff: 1,
            last_checkpoint: Instant::now(),
            sent_to: SentTo::default(),
            restored: false,
            next_step_checkpoint: 0,
        }
    }

    /// Connects `self.vm` (new, or just restored) to this process: its output, its journals, its
    /// effects (performed, or fed back from the journal by a replay), its mailbox as the store holds
    /// it now (a replay reads none: what it receives is in the journal), and the host functions it
    /// was granted.
    fn adopt_vm(&mut self, store: &dyn BlobStore, effects: Effects) -> Result<(), DurableError> {
        let rt = &mut self.vm.rt;
        rt.out = Box::new(self.output.clone());
        rt.journaling = true;
        rt.jiffies_before_start = self.record.jiffies;
        rt.clock_stands_still = self.options.reproducible;
        rt.effects_committed = self.record.effect_count;
        rt.messaging.name = Some(self.name.clone());
        rt.messaging.received = self.record.received;
        match effects {
            Effects::Performed => crate::mailbox::refill(&mut rt.messaging, store)?,
            Effects::Replayed(journaled) => rt.replay = Some(journaled),
        }
        rt.host = self.options.host.clone();
        Ok(())
    }

    /// Sets the limits (steps, heap, depth) the rest of the run is held to; they are part of the
    /// state, so the next checkpoint keeps them.
    pub fn set_limits(&mut self, limits: chenilles_machine::runtime::Limits) {
        self.vm.rt.limits = limits;
    }

    /// The newest committed record.
    pub fn record(&self) -> &Record {
        &self.record
    }

    /// Runs the process to its end, or until it waits for a message, or until it is asked to stop
    /// ([`Options::stop`]: then [`Status::Running`]); returns its status then.
    pub fn run(&mut self, store: &mut dyn BlobStore) -> Result<Status, DurableError> {
        loop {
            match self.run_turn(store)? {
                Turn::Checkpointed => {}
                Turn::Stopped => return Ok(Status::Running),
                Turn::Waiting(until) => return Ok(Status::Waiting { until }),
                Turn::Ended(status) => return Ok(status),
            }
        }
    }

    /// Runs the process until its next checkpoint: at the end of the checkpoint interval, where
    /// the program asked for one, or where it ends or waits for a message.
    pub fn run_turn(&mut self, store: &mut dyn BlobStore) -> Result<Turn, DurableError> {
        loop {
            let mut slice_end = self.vm.steps.saturating_add(STEPS_PER_SLICE);
            if self.options.checkpoint_every_steps.is_some() {
                slice_end = slice_end.min(self.next_step_checkpoint.max(self.vm.steps + 1));
            }
            self.vm.rt.yield_at = slice_end;
            let Some(result) = self.vm.resume_boot() else {
                return self.finish(store, Status::Finished);
            };
            match result {
                Ok(value) => {
                    if self.vm.boot_is_done() {
                        self.record.result = Some(chenilles_machine::printer::to_text(
                            &self.vm.rt,
                            value,
                            chenilles_machine::printer::Style::Write,
                        ));
                    }
                }
                Err(Trap::Yield) => {
                    if let Some(until) = self.vm.rt.messaging.waiting.take() {
                        self.checkpoint(store, Status::Waiting { until })?;
                        self.commit_echo(store)?;
                        return Ok(Turn::Waiting(until));
                    }
                    if self.options.stop.as_ref().is_some_and(|stop| stop.load(Ordering::Relaxed)) {
                        if self.predicted_checkpoint_cost() <= STOP_CHECKPOINT_BUDGET {
                            self.checkpoint(store, Status::Running)?;
                        }
                        return Ok(Turn::Stopped);
                    }
                    let asked = self.vm.steps < slice_end;
                    let periodic = match self.options.checkpoint_every_steps {
                        Some(_) => self.vm.steps >= self.next_step_checkpoint,
                        None => self.periodic_checkpoint_due(),
                    };
                    if asked || periodic {
                        self.checkpoint(store, Status::Running)?;
                        return Ok(Turn::Checkpointed);
                    }
                }
                Err(Trap::Exit(code)) => return self.finish(store, Status::Exited(code)),
                Err(Trap::Uncaught { payload, backtrace, frames_omitted }) => {
                    let message = self.vm.describe_payload(payload);
                    let report = RunError::Uncaught { message, backtrace, frames_omitted }.report();
                    return self.finish(store, Status::Failed { report });
                }
            }
        }
    }

    /// Whether the next periodic checkpoint is due: the interval has passed, and the checkpoint
    /// as it would be now (pages changed, stack changed, at the speed earlier ones wrote) would
    /// take at most the checkpoint share of the time since the last one. The second condition
    /// holds back the first checkpoint of a process that changed a large state quickly: pacing
    /// after the fact (see [`paced_interval`]) only spaces the ones that follow. It does not hold
    /// back the first checkpoint after a resume: a process that crashes every few hundred
    /// milliseconds must still commit some work each time.
    fn periodic_checkpoint_due(&self) -> bool {
        let elapsed = self.last_checkpoint.elapsed();
        if elapsed < self.interval {
            return false;
        }
        if self.options.reload_each_checkpoint || self.restored {
            return true;
        }
        affordable(
            elapsed,
            self.options.checkpoint_every,
            self.options.checkpoint_share,
            self.predicted_checkpoint_cost(),
        )
    }

    /// About how long a checkpoint would take now.
    fn predicted_checkpoint_cost(&self) -> Duration {
        Duration::from_secs_f64(self.predicted_checkpoint_bytes() as f64 / self.checkpoint_speed)
    }

    /// About what a checkpoint would write now.
    fn predicted_checkpoint_bytes(&self) -> usize {
        let heap = &self.vm.rt.heap;
        let pages = if self.snapshotter.writes_every_page() { heap.page_count() } else { heap.dirty_page_count() };
        let (values, frames) = self.vm.stack_changes();
        pages * PREDICTED_PAGE_BYTES + values * 8 + frames * 12
    }

    fn finish(&mut self, store: &mut dyn BlobStore, status: Status) -> Result<Turn, DurableError> {
        self.vm.rt.flush();
        self.checkpoint(store, status.clone())?;
        self.commit_echo(store)?;
        if let Status::Failed { report } = &status {
            let _ = self.options.err.write_all(report.as_bytes());
            let _ = self.options.err.flush();
        }
        Ok(Turn::Ended(status))
    }

    /// Records that all committed output has been echoed, when the process is about to wait or
    /// has ended: so that a resume after a crash while it waits does not echo that output again.
    /// (While it computes, the next checkpoint records it.)
    fn commit_echo(&mut self, store: &mut dyn BlobStore) -> Result<(), DurableError> {
        if self.record.echoed == self.record.output_len {
            return Ok(());
        }
        let mut record = self.record.clone();
        record.echoed = record.output_len;
        self.commit_record(store, Batch::default(), record)
    }

    /// Stops with [`DurableError::InjectedCrash`] if the crash hook asks for a crash at `window`.
    fn crash_if_asked(&mut self, window: Window) -> Result<(), DurableError> {
        let crash = self.options.crash_at.as_mut().is_some_and(|crash| crash(window, &self.record));
        if crash { Err(DurableError::InjectedCrash { window, checkpoint: self.record.checkpoints }) } else { Ok(()) }
    }

    /// Adds `record` to `batch`, moves `process/NAME` to it (compare-and-swap from the newest
    /// record), commits, and makes it the newest record.
    fn commit_record(
        &mut self,
        store: &mut dyn BlobStore,
        mut batch: Batch,
        mut record: Record,
    ) -> Result<(), DurableError> {
        let record_hash = stage_record(&mut batch, &mut record, self.record_hash);
        store.commit(batch)?;
        self.record = record;
        self.record_hash = Some(record_hash);
        Ok(())
    }

    /// The processes this one has sent messages to since the last call (for the host to wake
    /// them), and the peers (for a node to carry them).
    pub fn take_sent_to(&mut self) -> SentTo {
        std::mem::take(&mut self.sent_to)
    }

    /// Takes into the inbox the messages that arrived in the store since the process last looked.
    pub fn refill_inbox(&mut self, store: &dyn BlobStore) -> Result<(), DurableError> {
        crate::mailbox::refill(&mut self.vm.rt.messaging, store)?;
        Ok(())
    }

    /// Whether `store` holds a message for this process that it has not taken into its inbox yet
    /// (reads only refs).
    pub fn has_new_mail_in(&self, store: &dyn BlobStore) -> Result<bool, DurableError> {
        let from = self.vm.rt.messaging.next_unheld();
        Ok(crate::mailbox::has_messages_from(store, &self.name, from)?)
    }

    /// Whether a message is waiting to be received.
    pub fn has_mail(&self) -> bool {
        !self.vm.rt.messaging.inbox.is_empty()
    }

    /// The hash of the newest committed record.
    pub fn record_hash(&self) -> Option<Hash> {
        self.record_hash
    }

    /// Commits a checkpoint with `status`: the state (while running), the new output, effects and
    /// messages, and the record; then echoes the new output.
    pub fn checkpoint(&mut self, store: &mut dyn BlobStore, status: Status) -> Result<(), DurableError> {
        let began = Instant::now();
        let mut batch = Batch::default();
        let staged = self.stage_checkpoint(store, &mut batch, status)?;
        self.crash_if_asked(Window::BeforeCommit)?;
        let shows_the_world = staged.shows_the_world();
        self.commit_record(store, batch, staged.record)?;
        self.crash_if_asked(Window::AfterCommit)?;
        if shows_the_world && let Some(barrier) = &self.options.barrier {
            barrier().map_err(|cause| DurableError::NotSafeYet { name: self.name.clone(), cause })?;
        }
        self.after_commit(staged.new_output, staged.sent_to);
        self.collect_store_if_due(store);
        self.pace_after_checkpoint(store, staged.snapshot, began)
    }

    /// Stages into `batch` what a checkpoint with `status` commits: the snapshot (for a process
    /// that goes on), the new output and effects as journal segments, the mailbox changes, and
    /// the record naming them all.
    fn stage_checkpoint(
        &mut self,
        store: &dyn BlobStore,
        batch: &mut Batch,
        status: Status,
    ) -> Result<StagedCheckpoint, DurableError> {
        let snapshot = if status.is_running() {
            let (root, stats) = capture_for_checkpoint(&mut self.vm, &mut self.snapshotter, batch)?;
            self.last_capture = stats;
            Some(root)
        } else {
            self.last_capture = CaptureStats::default();
            None
        };
        let new_output = self.output.take();
        let mut record = self.record.clone();
        record.echoed = record.output_len;
        if !new_output.is_empty() {
            let previous: Vec<Hash> = record.output.map(Hash).into_iter().collect();
            record.output = Some(blob::put(batch, Kind::Output, &previous, &new_output).0);
            record.output_len += new_output.len() as u64;
        }
        let effects = std::mem::take(&mut self.vm.rt.effects);
        let has_effects = !effects.is_empty();
        if has_effects {
            let previous: Vec<Hash> = record.effects.map(Hash).into_iter().collect();
            record.effects = Some(blob::put(batch, Kind::Effects, &previous, &to_rkyv(&effects)).0);
            record.effect_count += effects.len() as u64;
        }
        let (messages, to_peers) = crate::mailbox::drain_changes(&mut self.vm.rt.messaging, self.record.received);
        let sent_to = SentTo {
            processes: messages.iter().filter(|(_, c)| !c.append.is_empty()).map(|(to, _)| to.clone()).collect(),
            peers: to_peers.iter().filter(|(_, m)| !m.is_empty()).map(|(peer, _)| peer.clone()).collect(),
        };
        crate::mailbox::stage(store, batch, messages)?;
        crate::outbox::stage(store, batch, to_peers)?;
        record.received = self.vm.rt.messaging.received;
        record.status = status;
        record.checkpoints += 1;
        record.time_ms = record_time_ms(&self.options);
        record.snapshot = snapshot.map(|h| h.0);
        record.jiffies = self.vm.rt.jiffies();
        record.steps = self.vm.steps;
        record.pages_written = self.last_capture.pages_written as u64;
        record.bytes_written = batch.blob_bytes() as u64;
        Ok(StagedCheckpoint { record, snapshot, new_output, sent_to, effects: has_effects })
    }

    /// After a checkpoint's commit: the counters that go on from it, the watcher, and the output
    /// echoed (only now that it is journaled).
    fn after_commit(&mut self, new_output: Vec<u8>, sent_to: SentTo) {
        self.vm.rt.effects_committed = self.record.effect_count;
        self.sent_to.processes.extend(sent_to.processes);
        self.sent_to.peers.extend(sent_to.peers);
        self.restored = false;
        if let Some(every) = self.options.checkpoint_every_steps {
            self.next_step_checkpoint = self.vm.steps.saturating_add(every.max(1));
        }
        if let Some(watch) = &mut self.options.on_checkpoint {
            watch(&self.record);
        }
        if !new_output.is_empty() {
            let _ = self.options.echo.write_all(&new_output);
            let _ = self.options.echo.flush();
        }
    }

    /// Collects the store's garbage when enough was written since the last collection (see
    /// [`STORE_GC_BYTES`]), or when the process has ended.
    fn collect_store_if_due(&mut self, store: &mut dyn BlobStore) {
        // What older checkpoints wrote and this one no longer refers to is garbage in the store.
        self.written_since_store_gc += self.record.bytes_written + COMMIT_FILE_OVERHEAD;
        let state_bytes = self.last_capture.pages as u64 * 2048;
        let threshold = STORE_GC_BYTES.saturating_mul(self.store_gc_backoff) + 2 * state_bytes;
        if !self.record.status.is_running() || self.written_since_store_gc > threshold {
            // Housekeeping, after the checkpoint is committed and echoed: a store that will not be
            // collected (it holds a corrupt blob another process's ref reaches) does not stop this
            // process, whose state is whole.
            match store.gc(&blob::children_of) {
                // A collection that found little to remove (a process that keeps its history,
                // say) waits twice as long for the next: collections then cost O(log) walks of
                // the store, not one per threshold.
                Ok(report) if report.bytes_removed < self.written_since_store_gc / 4 => {
                    self.store_gc_backoff = (self.store_gc_backoff * 2).min(MAX_STORE_GC_BACKOFF);
                }
                Ok(_) => self.store_gc_backoff = 1,
                Err(error) => {
                    let _ = writeln!(self.options.err, "warning: the store was not garbage-collected: {error}");
                    let _ = self.options.err.flush();
                }
            }
            self.written_since_store_gc = 0;
        }
    }

    /// Sets when the next periodic checkpoint comes, from what the one begun at `began` cost; with
    /// [`Options::reload_each_checkpoint`], first reloads the process from `snapshot`.
    fn pace_after_checkpoint(
        &mut self,
        store: &mut dyn BlobStore,
        snapshot: Option<Hash>,
        began: Instant,
    ) -> Result<(), DurableError> {
        if self.options.reload_each_checkpoint
            && let Some(written) = snapshot
        {
            self.reload(store, written)?;
            // With reloads, a checkpoint costs in proportion to the whole state, not to what
            // changed; computing at least as long as the last one took keeps a large process moving.
            self.interval = self.options.checkpoint_every.max(began.elapsed());
        } else {
            let took = began.elapsed();
            self.interval = paced_interval(self.options.checkpoint_every, self.options.checkpoint_share, took);
            if self.record.bytes_written >= MEASURING_CHECKPOINT_BYTES && !took.is_zero() {
                self.checkpoint_speed = self.record.bytes_written as f64 / took.as_secs_f64();
            }
        }
        self.last_checkpoint = Instant::now();
        Ok(())
    }

    /// Replaces the process in memory by the one restored from snapshot `written`, and checks that
    /// it serializes to the same root.
    fn reload(&mut self, store: &mut dyn BlobStore, written: Hash) -> Result<(), DurableError> {
        let (mut vm, snapshotter) =
            crate::snapshot::restore(store, written, Box::new(std::io::sink()), Box::new(std::io::stderr()))?;
        // Serialize the restored process from scratch (every page, every chunk): equal states must
        // give equal roots. File ports are flushed by this, which changes nothing they hold.
        let mut batch = Batch::default();
        let (reloaded, _) = snapshotter.forgetful_copy().capture(&mut vm, &mut batch)?;
        if reloaded != written {
            let difference = crate::snapshot::difference_from_uncommitted(&*store, batch, written, reloaded);
            return Err(DurableError::ReloadMismatch {
                checkpoint: self.record.checkpoints,
                written,
                reloaded,
                difference,
            });
        }
        vm.rt.heap.clear_dirty();
        self.vm = vm;
        self.snapshotter = snapshotter;
        self.adopt_vm(store, Effects::Performed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_predicted_costly_waits_until_it_fits_the_share() {
        let ms = Duration::from_millis;
        // 100 ms computed, a 2 ms checkpoint predicted: due.
        assert!(affordable(ms(100), ms(100), 10, ms(2)));
        // A 500 ms checkpoint predicted (a large state changed quickly): not before 4.5 s.
        assert!(!affordable(ms(100), ms(100), 10, ms(500)));
        assert!(!affordable(ms(4499), ms(100), 10, ms(500)));
        assert!(affordable(ms(4500), ms(100), 10, ms(500)));
        // At share 100 nothing waits past the interval.
        assert!(affordable(ms(100), ms(100), 100, ms(500)));
    }

    #[test]
    fn cheap_checkpoints_keep_the_interval_and_costly_ones_are_paced_to_their_share() {
        let ms = Duration::from_millis;
        // A 2 ms checkpoint: 18 ms of computation would do for a 10% share; the interval wins.
        assert_eq!(paced_interval(ms(100), 10, ms(2)), ms(100));
        // A 250 ms checkpoint (a large heap much changed): 9 times as long computing.
        assert_eq!(paced_interval(ms(100), 10, ms(250)), ms(2250));
        assert_eq!(paced_interval(ms(100), 50, ms(250)), ms(250));
        // 100% turns pacing off; out-of-range shares are clamped, never a division by zero.
        assert_eq!(paced_interval(ms(100), 100, ms(250)), ms(100));
        assert_eq!(paced_interval(Duration::ZERO, 0, ms(1)), ms(99));
        assert_eq!(paced_interval(Duration::ZERO, 200, ms(1)), Duration::ZERO);
    }
}
