//! Replicas for the commands: a target's address turned into a target (`dir:PATH` or a path,
//! `car:FILE`, `s3://BUCKET/PREFIX?endpoint=…`), and the replicator that runs beside `start`,
//! `resume` and `serve`: a worker thread per replica, each with its own read-only handle on the
//! store, that sends every commit to its replica, backs off while it is down, and, for
//! `--replicas-required K`, tells a checkpoint when K replicas hold it.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chenilles_store::replica::{
    self, CarArchive, DirectoryTarget, ReplicaConfig, ReplicaError, ReplicaTarget, SyncMemory, SyncOutcome,
};
use chenilles_store::{Mode, RedbStore, StoreKey, StoreWatch, Unlock};
use chenilles_store_s3::S3Target;

/// The target at `address`.
pub fn connect(address: &str) -> Result<Box<dyn ReplicaTarget>, ReplicaError> {
    if address.starts_with("s3://") {
        return Ok(Box::new(S3Target::from_url(address)?));
    }
    if let Some(file) = address.strip_prefix("car:") {
        return Ok(Box::new(CarArchive::new(file)));
    }
    let dir = address.strip_prefix("dir:").unwrap_or(address);
    if dir.contains("://") {
        return Err(ReplicaError::BadTarget {
            target: address.to_string(),
            cause: "known targets are dir:PATH (or a path), car:FILE and s3://BUCKET/PREFIX".to_string(),
        });
    }
    Ok(Box::new(DirectoryTarget::new(dir)))
}

/// `address` as a replica keeps it: a directory or CAR file made absolute (so that commands run
/// elsewhere find it), `dir:` or `car:` in front.
pub fn normalize(address: &str) -> Result<String, ReplicaError> {
    let absolute = |path: &str| -> Result<String, ReplicaError> {
        let path = Path::new(path);
        let full = if path.is_absolute() {
            path.to_path_buf()
        } else {
            std::env::current_dir()
                .map_err(|e| ReplicaError::BadTarget { target: address.to_string(), cause: e.to_string() })?
                .join(path)
        };
        full.to_str().map(str::to_string).ok_or_else(|| ReplicaError::BadTarget {
            target: address.to_string(),
            cause: "the path is not UTF-8".to_string(),
        })
    };
    if address.starts_with("s3://") {
        S3Target::from_url(address)?;
        return Ok(address.to_string());
    }
    if let Some(file) = address.strip_prefix("car:") {
        return Ok(format!("car:{}", absolute(file)?));
    }
    connect(address)?;
    let dir = address.strip_prefix("dir:").unwrap_or(address);
    Ok(format!("dir:{}", absolute(dir)?))
}

/// How long a replica that failed is left alone, at first and at most.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const LONGEST_BACKOFF: Duration = Duration::from_secs(30);
/// How often each replica's worker looks at the store for new commits.
const LOOK_EVERY: Duration = Duration::from_millis(50);
/// How often the replicator looks for replicas added or removed meanwhile.
const LIST_EVERY: Duration = Duration::from_secs(1);
/// The least time between two passes that send to one replica, unless a checkpoint waits for
/// replicas: so that a replica gets a pack and a root a second at most, not one per checkpoint.
const LEAST_BETWEEN_PASSES: Duration = Duration::from_secs(1);
/// How long a command that ends waits for a pass still in flight (a target that hangs) before it
/// exits anyway: the pass is cut as a crash would cut it, and the replica is left at its last
/// root.
const LAST_PASS_PATIENCE: Duration = Duration::from_secs(2);

/// What the replicator's threads and the commands share.
#[derive(Default)]
struct State {
    stop: bool,
    /// The replicas the store lists (by number): a worker whose replica is gone stops.
    listed: HashSet<u32>,
    /// The sequence number each replica holds.
    acked: HashMap<u32, u64>,
    /// The last failure of each replica that is failing.
    failing: HashMap<u32, String>,
    /// Bumped by [`Replicator::nudge`]: each worker passes at once when it changed.
    nudges: u64,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait<'a>(&'a self, state: MutexGuard<'a, State>, at_most: Duration) -> MutexGuard<'a, State> {
        self.changed.wait_timeout(state, at_most).unwrap_or_else(PoisonError::into_inner).0
    }
}

/// Sends the store's commits to its replicas: a worker thread per replica, so that one that
/// hangs holds back no other. See the module documentation.
pub struct Replicator {
    shared: Arc<Shared>,
    /// Told by the replicator's first thread when it and every worker have stopped.
    stopped: Mutex<Option<std::sync::mpsc::Receiver<()>>>,
    path: PathBuf,
    key: Option<StoreKey>,
    /// A read-only handle on the store, kept for the sequence number a checkpoint waits for
    /// (opened once, not at every checkpoint).
    reader: Mutex<Option<RedbStore>>,
}

impl Replicator {
    /// Starts replicating `store` (its path, opened again read-only with its key); `None` if it
    /// lists no replica.
    pub fn start(store: &RedbStore) -> Option<Replicator> {
        if store.replicas().ok()?.is_empty() {
            return None;
        }
        let shared = Arc::new(Shared { state: Mutex::new(State::default()), changed: Condvar::new() });
        let (path, key) = (store.path().to_path_buf(), store.key());
        let (done, stopped) = std::sync::mpsc::channel();
        {
            let (shared, path, key) = (shared.clone(), path.clone(), key.clone());
            std::thread::Builder::new()
                .name("replicator".into())
                .spawn(move || {
                    supervise(&shared, &path, key);
                    let _ = done.send(());
                })
                .ok()?;
        }
        Some(Replicator { shared, stopped: Mutex::new(Some(stopped)), path, key, reader: Mutex::new(None) })
    }

    /// Asks every replica's worker for a pass now (a checkpoint waits for replicas).
    pub fn nudge(&self) {
        self.shared.lock().nudges += 1;
        self.shared.changed.notify_all();
    }

    /// The replication sequence number of the store's last commit, and the replicas it lists.
    fn last_commit(&self) -> Result<(u64, Vec<u32>), String> {
        let mut reader = self.reader.lock().unwrap_or_else(PoisonError::into_inner);
        if reader.is_none() {
            *reader = Some(open(&self.path, self.key.clone())?);
        }
        let store = reader.as_ref().ok_or("no store")?;
        let read = store.replication_seq().and_then(|seq| Ok((seq, store.replicas()?)));
        match read {
            Ok((seq, replicas)) => Ok((seq, replicas.iter().map(|r| r.id).collect())),
            Err(error) => {
                // Opened again next time: the store may have been replaced meanwhile.
                *reader = None;
                Err(error.to_string())
            }
        }
    }

    /// Waits until `count` replicas hold the store's last commit, saying every so often what it
    /// waits for; gives up when `give_up` says so.
    pub fn wait_for(&self, count: usize, give_up: &dyn Fn() -> bool) -> Result<(), String> {
        let (seq, _) = self.last_commit()?;
        self.nudge();
        let started = Instant::now();
        let mut said = Duration::ZERO;
        let mut state = self.shared.lock();
        loop {
            let holding = state.acked.values().filter(|acked| **acked >= seq).count();
            if holding >= count {
                return Ok(());
            }
            if give_up() || state.stop {
                return Err(format!("{holding} of the {count} replicas required hold the checkpoint"));
            }
            if started.elapsed() >= said + Duration::from_secs(5) {
                said = started.elapsed();
                let failing: Vec<&str> = state.failing.values().map(String::as_str).collect();
                crate::note!(
                    "chenilles-vm: waiting for {count} replica(s) to hold the last checkpoint ({holding} do){}",
                    if failing.is_empty() { String::new() } else { format!(": {}", failing.join("; ")) }
                );
            }
            state = self.shared.wait(state, Duration::from_millis(100));
        }
    }

    /// Gives the replicas up to `grace` to take the last commit (each that is not failing),
    /// then stops the threads.
    pub fn finish(&self, grace: Duration) {
        if let Ok((seq, ids)) = self.last_commit() {
            self.nudge();
            let started = Instant::now();
            let mut said = false;
            let mut state = self.shared.lock();
            loop {
                let done = ids
                    .iter()
                    .all(|id| state.acked.get(id).is_some_and(|acked| *acked >= seq) || state.failing.contains_key(id));
                if done || started.elapsed() >= grace {
                    break;
                }
                if !said && started.elapsed() > Duration::from_secs(1) {
                    said = true;
                    crate::note!("chenilles-vm: sending the last commits to the replicas…");
                }
                state = self.shared.wait(state, Duration::from_millis(50));
            }
        }
        self.stop();
        let stopped = self.stopped.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(stopped) = stopped {
            let _ = stopped.recv_timeout(LAST_PASS_PATIENCE);
        }
    }

    fn stop(&self) {
        self.shared.lock().stop = true;
        self.shared.changed.notify_all();
    }
}

impl Drop for Replicator {
    fn drop(&mut self) {
        // A pass in flight ends at its next request; the threads are not waited for.
        self.stop();
    }
}

fn open(path: &Path, key: Option<StoreKey>) -> Result<RedbStore, String> {
    let unlock = key.map_or_else(Unlock::none, Unlock::key);
    RedbStore::open_with(path, Mode::ReadOnly, &unlock).map_err(|e| e.to_string())
}

/// The replicator's first thread: a worker for each replica the store lists (looked at again
/// every [`LIST_EVERY`]), until told to stop; then waits for the workers.
fn supervise(shared: &Arc<Shared>, path: &Path, key: Option<StoreKey>) {
    let mut workers: HashMap<u32, JoinHandle<()>> = HashMap::new();
    loop {
        if let Ok(store) = open(path, key.clone())
            && let Ok(replicas) = store.replicas()
        {
            shared.lock().listed = replicas.iter().map(|r| r.id).collect();
            for replica in replicas {
                if workers.get(&replica.id).is_some_and(|w| !w.is_finished()) {
                    continue;
                }
                let (shared, path, key, id) = (shared.clone(), path.to_path_buf(), key.clone(), replica.id);
                let name = format!("replica {}", replica.name);
                if let Ok(worker) =
                    std::thread::Builder::new().name(name).spawn(move || work(&shared, &path, key, replica))
                {
                    workers.insert(id, worker);
                }
            }
            shared.changed.notify_all();
        }
        let state = shared.wait(shared.lock(), LIST_EVERY);
        if state.stop {
            break;
        }
    }
    for (_, worker) in workers {
        let _ = worker.join();
    }
}

/// One replica's worker: a pass when the store changed (at most one a [`LEAST_BETWEEN_PASSES`]
/// that sends anything, unless nudged), backing off from failures, until told to stop or the
/// replica is no longer listed.
fn work(shared: &Shared, path: &Path, key: Option<StoreKey>, replica: ReplicaConfig) {
    let mut memory = SyncMemory::default();
    let mut target: Option<Box<dyn ReplicaTarget>> = None;
    let mut store: Option<RedbStore> = None;
    let mut watch = StoreWatch::new(path);
    let mut seen_nudges = 0;
    let mut due = true;
    let mut not_before = Instant::now();
    let mut backoff = FIRST_BACKOFF;
    loop {
        let state = shared.lock();
        if state.stop || !state.listed.contains(&replica.id) {
            return;
        }
        let hurried = state.nudges != seen_nudges;
        seen_nudges = state.nudges;
        drop(state);
        if hurried || (due && Instant::now() >= not_before) {
            match pass(&replica, path, &key, &mut store, &mut target, &mut memory) {
                Ok((seq, sent)) => {
                    backoff = FIRST_BACKOFF;
                    not_before = if sent { Instant::now() + LEAST_BETWEEN_PASSES } else { Instant::now() };
                    // Sent: the store may have moved on meanwhile.
                    due = sent;
                    let mut state = shared.lock();
                    state.acked.insert(replica.id, seq);
                    state.failing.remove(&replica.id);
                }
                Err(Some(error)) => {
                    // Opened again at the next pass: the store may have been replaced meanwhile
                    // (a rotation while its processes waited and let it go).
                    store = None;
                    target = None;
                    not_before = Instant::now() + backoff;
                    backoff = (backoff * 2).min(LONGEST_BACKOFF);
                    due = true;
                    shared.lock().failing.insert(replica.id, format!("{}: {error}", replica.name));
                }
                // Another command's pass is at work on it: look again shortly.
                Err(None) => {
                    not_before = Instant::now() + FIRST_BACKOFF;
                    due = true;
                }
            }
            shared.changed.notify_all();
        }
        let state = shared.lock();
        if !state.stop && state.nudges == seen_nudges {
            drop(shared.wait(state, LOOK_EVERY));
        }
        if watch.changed() {
            due = true;
        }
    }
}

/// One pass over `replica`: the sequence number it holds and whether anything was sent, or the
/// error (`None`: another command's pass is at work on it).
fn pass(
    replica: &ReplicaConfig,
    path: &Path,
    key: &Option<StoreKey>,
    store: &mut Option<RedbStore>,
    target: &mut Option<Box<dyn ReplicaTarget>>,
    memory: &mut SyncMemory,
) -> Result<(u64, bool), Option<String>> {
    if store.is_none() {
        *store = Some(open(path, key.clone()).map_err(Some)?);
    }
    if target.is_none() {
        *target = Some(connect(&replica.target).map_err(|e| Some(e.to_string()))?);
    }
    let (Some(store), Some(target)) = (store.as_ref(), target.as_ref()) else {
        return Err(Some("no store or target".to_string()));
    };
    match replica::sync(store, replica, target.as_ref(), memory) {
        Ok(SyncOutcome::UpToDate { seq }) => Ok((seq, false)),
        Ok(SyncOutcome::Synced(report)) => Ok((report.seq, true)),
        Ok(SyncOutcome::Busy) => Err(None),
        Err(error) => Err(Some(error.to_string())),
    }
}
