//! Replicas for the commands: a target's address turned into a target (`dir:PATH` or a path,
//! `car:FILE`, `s3://BUCKET/PREFIX?endpoint=…`), and the replicator that runs beside `start`,
//! `resume` and `serve`: a thread with its own read-only handle on the store that sends every
//! commit to every replica, backs off from one that is down, and, for `--replicas-required K`,
//! tells a checkpoint when K replicas hold it.

use std::collections::HashMap;
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
/// How often the replicator looks at the store for new commits.
const LOOK_EVERY: Duration = Duration::from_millis(50);
/// The least time between two passes that send to one replica, unless a checkpoint waits for
/// replicas: so that a replica gets a pack and a root a second at most, not one per checkpoint.
const LEAST_BETWEEN_PASSES: Duration = Duration::from_secs(1);

/// What the replicator thread and the commands share.
#[derive(Default)]
struct State {
    stop: bool,
    /// The sequence number each replica (by number) holds.
    acked: HashMap<u32, u64>,
    /// The last failure of each replica that is failing.
    failing: HashMap<u32, String>,
    /// Set by [`Replicator::nudge`]: look at the store now.
    nudged: bool,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Sends the store's commits to its replicas, in a thread of its own. See the module
/// documentation.
pub struct Replicator {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
    path: PathBuf,
    key: Option<StoreKey>,
}

impl Replicator {
    /// Starts replicating the store at `path` (opened with `key`, if encrypted); `None` if it
    /// lists no replica.
    pub fn start(store: &RedbStore) -> Option<Replicator> {
        if store.replicas().ok()?.is_empty() {
            return None;
        }
        let shared = Arc::new(Shared { state: Mutex::new(State::default()), changed: Condvar::new() });
        let (path, key) = (store.path().to_path_buf(), store.key());
        let thread = {
            let (shared, path, key) = (shared.clone(), path.clone(), key.clone());
            std::thread::Builder::new().name("replicator".into()).spawn(move || run(&shared, &path, key)).ok()?
        };
        Some(Replicator { shared, thread: Mutex::new(Some(thread)), path, key })
    }

    /// Asks for a look at the store now (a checkpoint was just committed).
    pub fn nudge(&self) {
        self.shared.lock().nudged = true;
        self.shared.changed.notify_all();
    }

    /// Waits until `count` replicas hold the store's last commit, saying every so often what it
    /// waits for; gives up when `give_up` says so.
    pub fn wait_for(&self, count: usize, give_up: &dyn Fn() -> bool) -> Result<(), String> {
        let seq = open(&self.path, self.key.clone())
            .and_then(|store| chenilles_store::replica::status(&store).map_err(|e| e.to_string()))?
            .first()
            .map_or(0, |status| status.store_seq);
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
                let failing: Vec<&String> = state.failing.values().collect();
                crate::note!(
                    "chenilles-vm: waiting for {count} replica(s) to hold the last checkpoint ({holding} do){}",
                    if failing.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", failing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("; "))
                    }
                );
            }
            state = self
                .shared
                .changed
                .wait_timeout(state, Duration::from_millis(100))
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Gives the replicas up to `grace` to take the last commit (each that is not failing),
    /// then stops the thread.
    pub fn finish(&self, grace: Duration) {
        let last = open(&self.path, self.key.clone()).ok().and_then(|store| {
            let ids: Vec<u32> = store.replicas().ok()?.iter().map(|r| r.id).collect();
            let seq = replica::status(&store).ok()?.first().map(|s| s.store_seq)?;
            Some((ids, seq))
        });
        if let Some((ids, seq)) = last {
            self.nudge();
            let started = Instant::now();
            let deadline = started + grace;
            let mut said = false;
            let mut state = self.shared.lock();
            loop {
                let done = ids
                    .iter()
                    .all(|id| state.acked.get(id).is_some_and(|acked| *acked >= seq) || state.failing.contains_key(id));
                if done || Instant::now() >= deadline {
                    break;
                }
                if !said && started.elapsed() > Duration::from_secs(1) {
                    said = true;
                    crate::note!("chenilles-vm: sending the last commits to the replicas…");
                }
                state = self
                    .shared
                    .changed
                    .wait_timeout(state, Duration::from_millis(50))
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
        }
        self.shared.lock().stop = true;
        self.shared.changed.notify_all();
        let thread = self.thread.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }
}

impl Drop for Replicator {
    fn drop(&mut self) {
        self.shared.lock().stop = true;
        self.shared.changed.notify_all();
        // A pass in flight ends at its next request; the thread is not waited for.
    }
}

fn open(path: &Path, key: Option<StoreKey>) -> Result<RedbStore, String> {
    let unlock = key.map_or_else(Unlock::none, Unlock::key);
    RedbStore::open_with(path, Mode::ReadOnly, &unlock).map_err(|e| e.to_string())
}

/// The replicator's thread: a pass over every replica that is behind and not backing off, then
/// a look at the store every [`LOOK_EVERY`] until something changes.
fn run(shared: &Shared, path: &Path, key: Option<StoreKey>) {
    let mut memory = SyncMemory::default();
    let mut targets: HashMap<u32, (String, Box<dyn ReplicaTarget>)> = HashMap::new();
    let mut backoff: HashMap<u32, (Instant, Duration)> = HashMap::new();
    let mut paced: HashMap<u32, Instant> = HashMap::new();
    let mut watch = StoreWatch::new(path);
    let mut store: Option<RedbStore> = None;
    let mut due = true;
    loop {
        if shared.lock().stop {
            return;
        }
        let hurried = std::mem::take(&mut shared.lock().nudged);
        if due || hurried {
            due = false;
            if hurried {
                paced.clear();
            }
            if store.is_none() {
                store = open(path, key.clone()).ok();
            }
            match &store {
                // After a failure the store is opened again at the next pass: it may have been
                // replaced meanwhile (a rotation while the processes waited and let it go).
                Some(handle) => {
                    if !pass(shared, handle, &mut memory, &mut targets, &mut backoff, &mut paced) {
                        store = None;
                    }
                }
                None => backoff_all(&mut backoff),
            }
        }
        let mut state = shared.lock();
        if !state.nudged && !state.stop {
            state = shared.changed.wait_timeout(state, LOOK_EVERY).unwrap_or_else(PoisonError::into_inner).0;
        }
        drop(state);
        if watch.changed() {
            due = true;
        }
        let now = Instant::now();
        if backoff.values().any(|(until, _)| now >= *until) || paced.values().any(|until| now >= *until) {
            due = true;
        }
    }
}

/// After the store could not be opened: look again a little later.
fn backoff_all(backoff: &mut HashMap<u32, (Instant, Duration)>) {
    backoff.insert(u32::MAX, (Instant::now() + FIRST_BACKOFF, FIRST_BACKOFF));
}

/// One pass over the replicas that are not backing off or paced; whether all went well.
fn pass(
    shared: &Shared,
    store: &RedbStore,
    memory: &mut SyncMemory,
    targets: &mut HashMap<u32, (String, Box<dyn ReplicaTarget>)>,
    backoff: &mut HashMap<u32, (Instant, Duration)>,
    paced: &mut HashMap<u32, Instant>,
) -> bool {
    let Ok(replicas) = store.replicas() else { return false };
    let mut well = true;
    for replica in replicas {
        if shared.lock().stop {
            return well;
        }
        let now = Instant::now();
        if backoff.get(&replica.id).is_some_and(|(until, _)| now < *until)
            || paced.get(&replica.id).is_some_and(|until| now < *until)
        {
            continue;
        }
        paced.remove(&replica.id);
        match sync_one(store, &replica, memory, targets) {
            Ok((seq, sent)) => {
                if sent {
                    paced.insert(replica.id, Instant::now() + LEAST_BETWEEN_PASSES);
                }
                backoff.remove(&replica.id);
                let mut state = shared.lock();
                state.acked.insert(replica.id, seq);
                state.failing.remove(&replica.id);
                drop(state);
                shared.changed.notify_all();
            }
            Err(Some(error)) => {
                well = false;
                let wait = backoff.get(&replica.id).map_or(FIRST_BACKOFF, |(_, d)| (*d * 2).min(LONGEST_BACKOFF));
                backoff.insert(replica.id, (Instant::now() + wait, wait));
                let mut state = shared.lock();
                state.failing.insert(replica.id, format!("{}: {error}", replica.name));
                drop(state);
                shared.changed.notify_all();
            }
            // Another pass works on it: look again shortly.
            Err(None) => {
                backoff.insert(replica.id, (Instant::now() + FIRST_BACKOFF, FIRST_BACKOFF));
            }
        }
    }
    backoff.remove(&u32::MAX);
    well
}

/// Brings one replica forward: the sequence number it holds and whether it sent anything, or the
/// error (`None`: another pass is at work on it).
fn sync_one(
    store: &RedbStore,
    replica: &ReplicaConfig,
    memory: &mut SyncMemory,
    targets: &mut HashMap<u32, (String, Box<dyn ReplicaTarget>)>,
) -> Result<(u64, bool), Option<String>> {
    let stale = targets.get(&replica.id).is_none_or(|(address, _)| *address != replica.target);
    if stale {
        let target = connect(&replica.target).map_err(|e| Some(e.to_string()))?;
        targets.insert(replica.id, (replica.target.clone(), target));
    }
    let Some((_, target)) = targets.get(&replica.id) else { return Err(Some("no target".to_string())) };
    match replica::sync(store, replica, target.as_ref(), memory) {
        Ok(SyncOutcome::UpToDate { seq }) => Ok((seq, false)),
        Ok(SyncOutcome::Synced(report)) => Ok((report.seq, true)),
        Ok(SyncOutcome::Busy) => Err(None),
        Err(error) => Err(Some(error.to_string())),
    }
}
