//! The backend of read-only handles: a reader never waits for a writer that cannot move.
//!
//! redb's readers share a lock on the file's header with the writer, which holds it exclusively
//! for short spans: a header write, a reclamation scan, a close's last write and sync, a whole
//! compaction. A writer stopped inside such a span (SIGSTOP, a debugger, a frozen container) would
//! hold every reader back until it is continued, however long that is. So a reader waits for a
//! lock by polling, and when every process that holds a conflicting lock is stopped, it goes on
//! without the lock: a stopped process is in no write (a task stops only on its way back to user
//! space, its system calls done), and nothing else may write while it holds the lock, so the file
//! stays exactly as the writer left it at an instant when it held the lock, as redb's own readers
//! see it when the writer lets go. Only Linux tells which process holds a lock (`/proc`); elsewhere a
//! reader waits as redb's does.
//!
//! A read that went on this way holds only while the writer stays stopped. Each pass over a stopped
//! writer is remembered with its threads' context-switch counts, which change whenever a thread
//! runs; [`disturbed`] tells the store whether any of those writers ran since [`begin`], and the
//! store redoes a read that was disturbed.

use std::cell::RefCell;
use std::fs::File;
use std::io;
use std::ops::Bound;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use redb::backends::FileBackend;
use redb::{BackendError, StorageBackend};

/// How long a reader waits for a lock before it looks for the process that holds it, and how
/// often it looks again.
const LOOK_AFTER: Duration = Duration::from_millis(10);
/// A locked range of the file, as redb names it.
type Range = (Bound<u64>, Bound<u64>);

/// The longest pause between two tries of a lock.
const LONGEST_PAUSE: Duration = Duration::from_millis(20);

/// A read-only redb backend over a store file.
#[derive(Debug)]
pub(crate) struct ReadingFile {
    file: FileBackend,
    /// The file's device and inode, to find the processes that have it open.
    id: Option<(u64, u64)>,
    /// Ranges whose lock this reader passed over: their unlock releases nothing.
    passed_over: Mutex<Vec<Range>>,
    /// The range last passed over and its stopped holders: while they have not run, they hold
    /// the same lock, and the next wait for it needs no search.
    last_stopped: Mutex<Option<(Range, Vec<StoppedProcess>)>>,
}

impl ReadingFile {
    pub(crate) fn new(file: File) -> io::Result<ReadingFile> {
        let id = file_id(&file);
        let file = FileBackend::new(file).map_err(io::Error::other)?;
        Ok(ReadingFile { file, id, passed_over: Mutex::new(Vec::new()), last_stopped: Mutex::new(None) })
    }

    fn passed_over(&self) -> MutexGuard<'_, Vec<Range>> {
        self.passed_over.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The stopped holders of the lock on `range` last passed over, if none of them has run
    /// since: they hold it still.
    fn still_stopped(&self, range: Range) -> Option<Vec<StoppedProcess>> {
        let last = self.last_stopped.lock().unwrap_or_else(PoisonError::into_inner);
        let (held, holders) = last.as_ref()?;
        let unchanged = *held == range && holders.iter().all(StoppedProcess::has_not_run);
        unchanged.then(|| holders.clone())
    }

    /// Goes on without the lock on `range`, held by the stopped processes `holders`.
    fn pass_over(&self, range: Range, holders: Vec<StoppedProcess>) {
        PASSED.with(|passed| passed.borrow_mut().extend(holders.iter().cloned()));
        self.passed_over().push(range);
        *self.last_stopped.lock().unwrap_or_else(PoisonError::into_inner) = Some((range, holders));
    }
}

#[cfg(unix)]
fn file_id(file: &File) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    file.metadata().ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn file_id(_: &File) -> Option<(u64, u64)> {
    None
}

impl StorageBackend for ReadingFile {
    fn len(&self) -> Result<u64, io::Error> {
        self.file.len()
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), io::Error> {
        self.file.read(offset, out)
    }

    fn set_len(&self, len: u64) -> Result<(), io::Error> {
        self.file.set_len(len)
    }

    fn sync_data(&self) -> Result<(), io::Error> {
        self.file.sync_data()
    }

    fn write(&self, offset: u64, data: &[u8]) -> Result<(), io::Error> {
        self.file.write(offset, data)
    }

    fn close(&self) -> Result<(), io::Error> {
        self.file.close()
    }

    fn try_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.file.try_lock_range(start, end)
    }

    fn try_lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.file.try_lock_shared_range(start, end)
    }

    fn lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.file.lock_range(start, end)
    }

    /// Waits for the lock, unless every process holding a conflicting one is stopped: then goes
    /// on without it, remembering them (see the module's comment).
    fn lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        let mut pause = Duration::from_millis(1);
        let mut next_look = Instant::now() + LOOK_AFTER;
        loop {
            if self.file.try_lock_shared_range(start, end)? {
                return Ok(());
            }
            if let Some(holders) = self.still_stopped((start, end)) {
                self.pass_over((start, end), holders);
                return Ok(());
            }
            if Instant::now() >= next_look {
                next_look = Instant::now() + LOOK_AFTER;
                if let Some(holders) = self.id.and_then(|id| stopped_holders(id, (start, end))) {
                    self.pass_over((start, end), holders);
                    return Ok(());
                }
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(LONGEST_PAUSE);
        }
    }

    fn unlock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        let mut passed_over = self.passed_over();
        if let Some(at) = passed_over.iter().position(|range| *range == (start, end)) {
            passed_over.remove(at);
            return Ok(());
        }
        drop(passed_over);
        self.file.unlock_range(start, end)
    }

    fn query_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.file.query_lock_range(start, end)
    }
}

/// A process seen stopped while it held a lock a reader passed over.
#[derive(Clone, Debug, PartialEq, Eq)]
struct StoppedProcess {
    pid: u32,
    /// Each thread's id and context switches so far.
    threads: Vec<(u32, u64)>,
}

impl StoppedProcess {
    /// Whether the process is still stopped and none of its threads has run since it was seen.
    fn has_not_run(&self) -> bool {
        stopped(self.pid).as_ref() == Some(self)
    }
}

thread_local! {
    /// The stopped writers this thread's reads passed over since [`begin`].
    static PASSED: RefCell<Vec<StoppedProcess>> = const { RefCell::new(Vec::new()) };
}

/// Starts a read on this thread: forgets the writers passed over before.
pub(crate) fn begin() {
    PASSED.with(|passed| passed.borrow_mut().clear());
}

/// Whether a stopped writer that a read on this thread passed over since [`begin`] has run since
/// (or ended): what the read saw may have changed under it.
pub(crate) fn disturbed() -> bool {
    PASSED.with(|passed| !passed.borrow().iter().all(StoppedProcess::has_not_run))
}

/// The processes holding a lock that conflicts with a shared one on `range` of the file `id`, if
/// there are some and all of them are stopped.
#[cfg(target_os = "linux")]
fn stopped_holders(id: (u64, u64), range: Range) -> Option<Vec<StoppedProcess>> {
    let holders = exclusive_holders(id, range);
    if holders.is_empty() {
        return None;
    }
    holders.into_iter().map(stopped).collect()
}

#[cfg(not(target_os = "linux"))]
fn stopped_holders(_: (u64, u64), _: Range) -> Option<Vec<StoppedProcess>> {
    None
}

/// The processes other than this one that hold the store file at `path` open for writing (an
/// exclusive lock on some part of it: a writer holds one for as long as it has the store open), as
/// `/proc` tells; `None` where that cannot be known (another system, a file that cannot be read).
#[cfg(target_os = "linux")]
pub fn writers_of(path: &std::path::Path) -> Option<Vec<u32>> {
    use std::os::unix::fs::MetadataExt;
    let metadata = std::fs::metadata(path).ok()?;
    std::path::Path::new("/proc/self/fdinfo")
        .is_dir()
        .then(|| exclusive_holders((metadata.dev(), metadata.ino()), (Bound::Unbounded, Bound::Unbounded)))
}

/// The processes that hold a store open for writing: not known on this system.
#[cfg(not(target_os = "linux"))]
pub fn writers_of(_: &std::path::Path) -> Option<Vec<u32>> {
    None
}

/// The processes (other than this one) with the file `id` open under an exclusive lock that
/// overlaps `range`, as `/proc/PID/fdinfo` lists each open file's locks. Processes this one may
/// not inspect are not found.
#[cfg(target_os = "linux")]
fn exclusive_holders(id: (u64, u64), range: Range) -> Vec<u32> {
    use std::os::unix::fs::MetadataExt;
    let me = std::process::id();
    let Ok(processes) = std::fs::read_dir("/proc") else { return Vec::new() };
    let mut holders = Vec::new();
    for process in processes.filter_map(Result::ok) {
        let Some(pid) = process.file_name().to_str().and_then(|name| name.parse::<u32>().ok()) else { continue };
        if pid == me {
            continue;
        }
        let Ok(fds) = std::fs::read_dir(process.path().join("fd")) else { continue };
        let holds = fds.filter_map(Result::ok).any(|fd| {
            let is_the_file = std::fs::metadata(fd.path()).is_ok_and(|m| (m.dev(), m.ino()) == id);
            is_the_file
                && std::fs::read_to_string(process.path().join("fdinfo").join(fd.file_name()))
                    .is_ok_and(|info| info.lines().any(|line| exclusive_lock_overlaps(line, range)))
        });
        if holds {
            holders.push(pid);
        }
    }
    holders
}

/// Whether a line of `/proc/PID/fdinfo/FD` (`lock:\t1: OFDLCK ADVISORY  WRITE -1 fe:00:123 0 319`)
/// is a granted exclusive lock overlapping `range` (a request still waiting shows `->`).
fn exclusive_lock_overlaps(line: &str, range: Range) -> bool {
    let Some(lock) = line.strip_prefix("lock:") else { return false };
    let fields: Vec<&str> = lock.split_whitespace().collect();
    if fields.contains(&"->") || !fields.contains(&"WRITE") || fields.len() < 2 {
        return false;
    }
    let (from, to) = (fields[fields.len() - 2], fields[fields.len() - 1]);
    let Ok(from) = from.parse::<u64>() else { return false };
    let to = if to == "EOF" { u64::MAX } else { to.parse::<u64>().unwrap_or(u64::MAX) };
    let starts_before_its_end = match range.1 {
        Bound::Included(end) => from <= end,
        Bound::Excluded(end) => from < end,
        Bound::Unbounded => true,
    };
    let ends_after_its_start = match range.0 {
        Bound::Included(start) => to >= start,
        Bound::Excluded(start) => to > start,
        Bound::Unbounded => true,
    };
    starts_before_its_end && ends_after_its_start
}

/// Process `pid` as it stands, if every one of its threads is stopped (state `T`, or `t` under a
/// debugger).
fn stopped(pid: u32) -> Option<StoppedProcess> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut threads = Vec::new();
    for task in tasks {
        let task = task.ok()?;
        let tid = task.file_name().to_str()?.parse::<u32>().ok()?;
        let stat = std::fs::read_to_string(task.path().join("stat")).ok()?;
        let state = stat.rsplit_once(')')?.1.split_whitespace().next()?;
        if state != "T" && state != "t" {
            return None;
        }
        let status = std::fs::read_to_string(task.path().join("status")).ok()?;
        let switches = status
            .lines()
            .filter_map(|line| {
                let (key, value) = line.split_once(':')?;
                key.ends_with("ctxt_switches").then(|| value.trim().parse::<u64>().ok()).flatten()
            })
            .sum();
        threads.push((tid, switches));
    }
    threads.sort_unstable();
    (!threads.is_empty()).then_some(StoppedProcess { pid, threads })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fdinfo_lock_lines_are_read() {
        let header = (Bound::Included(0), Bound::Excluded(320));
        assert!(exclusive_lock_overlaps("lock:\t1: OFDLCK ADVISORY  WRITE -1 fe:00:10010930 0 319", header));
        assert!(!exclusive_lock_overlaps("lock:\t1: OFDLCK ADVISORY  READ -1 fe:00:10010930 0 319", header));
        assert!(!exclusive_lock_overlaps("lock:\t1: -> OFDLCK ADVISORY  WRITE -1 fe:00:10010930 0 319", header));
        assert!(!exclusive_lock_overlaps("lock:\t1: OFDLCK ADVISORY  WRITE -1 fe:00:10010930 320 400", header));
        assert!(exclusive_lock_overlaps("lock:\t1: POSIX  ADVISORY  WRITE 123 fe:00:10010930 100 EOF", header));
        assert!(!exclusive_lock_overlaps("pos:\t0", header));
        assert!(!exclusive_lock_overlaps("lock:\t1: FLOCK ADVISORY WRITE", header));
    }

    #[test]
    fn a_running_process_is_not_stopped() {
        assert_eq!(stopped(std::process::id()), None);
        assert_eq!(stopped(u32::MAX), None);
    }

    fn signal(pid: u32, signal: &str) {
        let sent = std::process::Command::new("kill").arg(format!("-{signal}")).arg(pid.to_string()).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -{signal} {pid}");
    }

    /// A read that went past a stopped process is disturbed once that process has run, even if
    /// it is stopped again.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_stopped_writer_that_runs_disturbs_the_read_that_went_past_it() {
        let mut child =
            std::process::Command::new("sh").args(["-c", "while :; do :; done"]).spawn().expect("a busy child process");
        let pid = child.id();
        signal(pid, "STOP");
        let seen = loop {
            if let Some(seen) = stopped(pid) {
                break seen;
            }
            std::thread::sleep(Duration::from_millis(1));
        };
        begin();
        PASSED.with(|passed| passed.borrow_mut().push(seen.clone()));
        std::thread::sleep(Duration::from_millis(20));
        assert!(!disturbed(), "nothing ran");
        signal(pid, "CONT");
        std::thread::sleep(Duration::from_millis(20));
        signal(pid, "STOP");
        while stopped(pid).is_none() {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(disturbed(), "the process ran between two stops: {seen:?} then {:?}", stopped(pid));
        begin();
        assert!(!disturbed(), "a new read starts undisturbed");
        let _ = child.kill();
        let _ = child.wait();
    }
}
