//! The embedding API: a host program opens a store, registers host functions, spawns named durable
//! processes, runs them, delivers messages to them, and reads their status, result and output.
//! After a restart it registers the same functions and resumes everything.
//!
//! ```
//! use chenilles_store::MemoryStore;
//! use chenilles_machine::Datum;
//! use chenilles_durable::Status;
//! use chenilles_machine::capabilities::HostKind;
//! use chenilles_durable::Host;
//!
//! let mut host = Host::new(Box::new(MemoryStore::default()));
//! // A host function: pure, effectful (journaled, checkpointed before and after), or idempotent.
//! host.register("price", HostKind::Effect, |call| {
//!     let item = call.args[0].as_symbol().ok_or("expected an item name")?;
//!     Ok(Datum::from(if item == "apple" { 3 } else { 5 }))
//! });
//! let program = r#"
//!     (define quantity (receive))                 ; waits, durably, for a message
//!     (* quantity (host-call 'price 'apple))"#;
//! host.spawn("shop").source("shop.scm", program).grant(["price"]).start()?;
//! host.run()?;
//! assert!(matches!(host.status("shop")?.status, Status::Waiting { until: None }));
//!
//! host.send("shop", &Datum::from(7))?;
//! host.run()?;
//! assert_eq!(host.status("shop")?.status.to_string(), "finished");
//! assert_eq!(host.result("shop")?.and_then(|d| d.as_i64()), Some(21));
//! # Ok::<(), chenilles_durable::DurableError>(())
//! ```
//!
//! A host and its processes are `Send`: a host can be moved to a worker thread, or driven from an
//! async runtime on a blocking task (`tokio::task::spawn_blocking`), [`Host::run_round`] at a
//! time when the caller wants to interleave other work.
//!
//! Capabilities ([`chenilles_machine::capabilities`]): a process can call only the host functions it was
//! granted when it was spawned, and the grants are part of its record, so a resumed process has the
//! same ones.
//!
//! Effects and crashes: a pure function is called as any procedure. An effectful one is called with
//! a checkpoint just before the call (the request is committed) and one just after (the result is
//! committed, and journaled): a completed call is never made again, but one in flight at a crash is
//! made again when the process resumes. [`chenilles_machine::capabilities::HostCall::key`] is the same both times, so an idempotent
//! function (a payment API taking an idempotency key, say) can recognize the repeat.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use chenilles_compiler::bytecode::Image;
use chenilles_reader::Datum;
use chenilles_store::BlobStore;

use crate::process::{DurableError, Options, Process, Record, Status, Turn};
use chenilles_machine::Machine;
use chenilles_machine::capabilities::{HostCall, HostError, HostFunction, HostKind};
use chenilles_machine::messaging::parse_message;

/// A process the host has in memory, and whether it can run.
struct Hosted {
    process: Process,
    /// `None`: runnable; `Some(until)`: waiting for a message (until a deadline, if any).
    waiting: Option<Option<f64>>,
}

/// A store and the durable processes running in it.
pub struct Host {
    store: Option<Box<dyn BlobStore>>,
    functions: Arc<BTreeMap<String, HostFunction>>,
    processes: BTreeMap<String, Hosted>,
    options: Box<dyn FnMut(&str) -> Options + Send>,
    /// The peers its processes' checkpoints queued messages for since [`Host::take_peers_sent_to`].
    peers_sent_to: std::collections::BTreeSet<String>,
}

fn seconds_now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs_f64()
}

/// What one [`Host::run_round`] did.
#[derive(Debug, Default, PartialEq)]
pub struct Round {
    /// The processes that ended in this round, and how.
    pub ended: Vec<(String, Status)>,
    /// Whether a process can run now: call [`Host::run_round`] again.
    pub more: bool,
    /// Whether a process was asked to stop ([`crate::process::Options::stop`]) and stopped.
    pub stopped: bool,
}

/// What a process is spawned from (see [`Spawn`]).
enum Program<'a> {
    None,
    Source { file: String, text: String },
    Image { program: String, machine: Box<Machine>, image: &'a Image },
}

/// A process about to be spawned: [`Host::spawn`] names it, [`Spawn::source`] or [`Spawn::image`]
/// says what it runs, [`Spawn::grant`] what it may call, and [`Spawn::start`] commits its first
/// checkpoint.
#[must_use = "a process is spawned only by `start`"]
pub struct Spawn<'h, 'a> {
    host: &'h mut Host,
    name: String,
    program: Program<'a>,
    grants: Vec<String>,
}

impl<'a> Spawn<'_, 'a> {
    /// Runs Scheme source `text`, compiled now (`file` names it in messages and backtraces).
    pub fn source(mut self, file: impl Into<String>, text: impl Into<String>) -> Self {
        self.program = Program::Source { file: file.into(), text: text.into() };
        self
    }

    /// Runs `image`, compiled by `machine` (which must come from [`Machine::durable`]);
    /// `program` names it in the record.
    pub fn image(mut self, program: impl Into<String>, machine: Machine, image: &'a Image) -> Self {
        self.program = Program::Image { program: program.into(), machine: Box::new(machine), image };
        self
    }

    /// Grants the process capabilities: host functions by name, or the VM's own (`files`,
    /// `environment`, and `peer:NAME` to send to the processes of peer NAME). May be called more
    /// than once; the grants add up.
    pub fn grant<S: Into<String>>(mut self, capabilities: impl IntoIterator<Item = S>) -> Self {
        self.grants.extend(capabilities.into_iter().map(Into::into));
        self
    }

    /// Starts the process: its first checkpoint is committed before this returns.
    pub fn start(self) -> Result<(), DurableError> {
        let Spawn { host, name, program, grants } = self;
        let grants: Vec<&str> = grants.iter().map(String::as_str).collect();
        match program {
            Program::None => Err(DurableError::NoProgram(name)),
            Program::Source { file, text } => {
                let mut machine = Machine::durable();
                let image = machine.compile(&file, &text)?;
                host.start_process(&name, &file, machine, &image, &grants)
            }
            Program::Image { program, machine, image } => host.start_process(&name, &program, *machine, image, &grants),
        }
    }
}

impl Host {
    /// A host over `store`, running no process yet.
    pub fn new(store: Box<dyn BlobStore>) -> Host {
        Host {
            store: Some(store),
            functions: Arc::default(),
            processes: BTreeMap::new(),
            options: Box::new(|_| Options::default()),
            peers_sent_to: std::collections::BTreeSet::new(),
        }
    }

    /// Sets how each process is run (checkpoint interval, where its output is echoed, …), by name.
    pub fn set_options(&mut self, options: impl FnMut(&str) -> Options + Send + 'static) {
        self.options = Box::new(options);
    }

    /// Offers a host function to the processes spawned or resumed from now on. Its error is
    /// raised in the calling process as a Scheme error.
    pub fn register(
        &mut self,
        name: &str,
        kind: HostKind,
        call: impl Fn(&HostCall<'_>) -> Result<Datum, HostError> + Send + Sync + 'static,
    ) {
        Arc::make_mut(&mut self.functions).insert(name.to_string(), HostFunction { kind, call: Arc::new(call) });
    }

    /// The store (for reading records and journals); an error once it was released
    /// ([`Host::release_store`]) until one is attached again.
    pub fn store(&mut self) -> Result<&mut dyn BlobStore, DurableError> {
        match &mut self.store {
            Some(store) => Ok(store.as_mut()),
            None => Err(DurableError::StoreReleased),
        }
    }

    fn options_for(&mut self, name: &str, grants: &[&str]) -> Options {
        let mut options = (self.options)(name);
        options.host.functions = self.functions.clone();
        options.host.grants = grants.iter().map(|g| g.to_string()).collect();
        options
    }

    /// Spawns a process named `name`: say what it runs and what it may call, then start it.
    ///
    /// ```
    /// # use chenilles_durable::Host;
    /// # let mut host = Host::new(Box::new(chenilles_store::MemoryStore::default()));
    /// host.spawn("greeter").source("greeter.scm", "(display 'hello)").start()?;
    /// # Ok::<(), chenilles_durable::DurableError>(())
    /// ```
    pub fn spawn<'a>(&mut self, name: &str) -> Spawn<'_, 'a> {
        Spawn { host: self, name: name.to_string(), program: Program::None, grants: Vec::new() }
    }

    fn start_process(
        &mut self,
        name: &str,
        program: &str,
        machine: Machine,
        image: &Image,
        grants: &[&str],
    ) -> Result<(), DurableError> {
        let options = self.options_for(name, grants);
        let process = Process::start(self.store()?, machine, name, program, image, options)?;
        self.processes.insert(name.to_string(), Hosted { process, waiting: None });
        Ok(())
    }

    /// Loads the unfinished process `name` from its newest checkpoint.
    pub fn resume(&mut self, name: &str) -> Result<(), DurableError> {
        let options = self.options_for(name, &[]);
        let process = Process::resume(self.store()?, name, options)?;
        let waiting = match &process.record().status {
            Status::Waiting { until } if !process.has_mail() => Some(*until),
            _ => None,
        };
        self.processes.insert(name.to_string(), Hosted { process, waiting });
        Ok(())
    }

    /// Loads every unfinished process of the store that is not in memory yet; returns their names.
    pub fn resume_all(&mut self) -> Result<Vec<String>, DurableError> {
        let mut resumed = Vec::new();
        for (name, record) in crate::process::list_processes(self.store()?)? {
            if record.status.is_running() && !self.processes.contains_key(&name) {
                self.resume(&name)?;
                resumed.push(name);
            } else if !record.status.is_running() && record.echoed < record.output_len {
                // It ended, and a crash came before the host saw its last output.
                let mut echo = (self.options)(&name).echo;
                crate::process::echo_pending(self.store()?, &name, &mut *echo)?;
            }
        }
        Ok(resumed)
    }

    /// Runs the processes in memory, a turn (up to a checkpoint) each in round, until each has
    /// ended or waits for a message that has not come (and whose deadline has not passed). Returns
    /// the processes that ended, and how.
    ///
    /// A process asked to stop ([`crate::process::Options::stop`]) ends the run at once, after its
    /// checkpoint.
    pub fn run(&mut self) -> Result<Vec<(String, Status)>, DurableError> {
        let mut ended = Vec::new();
        loop {
            let round = self.run_round()?;
            ended.extend(round.ended);
            if !round.more || round.stopped {
                return Ok(ended);
            }
        }
    }

    /// Runs one round: a turn (up to a checkpoint) of each process that can run now. A caller
    /// that interleaves other work (an async task, a UI) calls it again while
    /// [`Round::more`] says there is more to do, and otherwise waits for a message or until
    /// [`Host::next_deadline`].
    pub fn run_round(&mut self) -> Result<Round, DurableError> {
        let mut round = Round::default();
        self.wake_due();
        let runnable: Vec<String> =
            self.processes.iter().filter(|(_, h)| h.waiting.is_none()).map(|(n, _)| n.clone()).collect();
        for name in runnable {
            let Some(mut hosted) = self.processes.remove(&name) else { continue };
            let turn = hosted.process.run_turn(self.store()?);
            let sent_to = hosted.process.take_sent_to();
            match turn? {
                Turn::Checkpointed => {
                    self.processes.insert(name, hosted);
                }
                Turn::Waiting(until) => {
                    // A message may have come while it ran: look again.
                    hosted.process.refill_inbox(self.store()?)?;
                    hosted.waiting = (!hosted.process.has_mail()).then_some(until);
                    self.processes.insert(name, hosted);
                }
                Turn::Ended(status) => round.ended.push((name, status)),
                Turn::Stopped => {
                    self.processes.insert(name.clone(), hosted);
                    round.stopped = true;
                }
            }
            self.peers_sent_to.extend(sent_to.peers);
            for to in sent_to.processes {
                self.refill(&to)?;
            }
            if round.stopped {
                // Asked to stop: the other processes are at committed checkpoints (turns
                // end at one), so the host stops here; a later `run` goes on.
                return Ok(round);
            }
        }
        self.wake_due();
        round.more = self.processes.values().any(|h| h.waiting.is_none());
        Ok(round)
    }

    /// Makes runnable the waiting processes whose deadline has passed.
    fn wake_due(&mut self) {
        let now = seconds_now();
        for hosted in self.processes.values_mut() {
            if let Some(Some(until)) = hosted.waiting
                && until <= now
            {
                hosted.waiting = None;
            }
        }
    }

    /// Takes the new messages of process `name`, if it is in memory, into its inbox; wakes it if
    /// it was waiting.
    fn refill(&mut self, name: &str) -> Result<(), DurableError> {
        let Some(mut hosted) = self.processes.remove(name) else {
            return Ok(());
        };
        let result = hosted.process.refill_inbox(self.store()?);
        if hosted.process.has_mail() {
            hosted.waiting = None;
        }
        self.processes.insert(name.to_string(), hosted);
        result
    }

    /// Delivers `datum` to process `name`'s mailbox (committed before this returns); returns its
    /// sequence number. The process need not exist yet: the message waits for it.
    pub fn send(&mut self, to: &str, datum: &Datum) -> Result<u64, DurableError> {
        let seq = crate::mailbox::deliver(self.store()?, to, "host", datum)?;
        self.refill(to)?;
        Ok(seq)
    }

    /// Receives a batch of messages from the node with peer id `peer_id`, which the store names
    /// `peer_name`, within `limits` ([`crate::inbox`]): what it takes is committed before this returns, and the
    /// processes in memory it is for are woken. The caller acknowledges [`crate::Received::mark`] to the
    /// peer after this returns, never before.
    pub fn receive_from_peer(
        &mut self,
        peer_id: &str,
        peer_name: &str,
        batch: &[crate::Incoming],
        limits: crate::Limits,
    ) -> Result<crate::Received, DurableError> {
        let received = crate::inbox::receive_from_peer(self.store()?, peer_id, peer_name, batch, limits)?;
        for to in &received.addressees {
            self.refill(to)?;
        }
        Ok(received)
    }

    /// The peers (by the names the store knows them by) whose outboxes this host's processes
    /// added to since the last call: what a node has new to carry.
    pub fn take_peers_sent_to(&mut self) -> std::collections::BTreeSet<String> {
        std::mem::take(&mut self.peers_sent_to)
    }

    /// The names of the processes in memory (running or waiting).
    pub fn names(&self) -> Vec<String> {
        self.processes.keys().cloned().collect()
    }

    /// The processes in memory that wait for a message, with their deadlines.
    pub fn waiting(&self) -> Vec<(String, Option<SystemTime>)> {
        self.processes
            .iter()
            .filter_map(|(name, h)| h.waiting.map(|until| (name.clone(), until.and_then(crate::process::unix_seconds))))
            .collect()
    }

    /// The earliest deadline of a waiting process: when the next `run` has work even without a
    /// message.
    pub fn next_deadline(&self) -> Option<SystemTime> {
        self.processes
            .values()
            .filter_map(|h| h.waiting.flatten())
            .reduce(f64::min)
            .and_then(crate::process::unix_seconds)
    }

    /// Whether the host holds its store (it was not released, or was attached again).
    pub fn has_store(&self) -> bool {
        self.store.is_some()
    }

    /// Gives up the store (to let another program use it while every process waits); the host
    /// can do nothing with its processes until [`Host::attach_store`].
    pub fn release_store(&mut self) -> Option<Box<dyn BlobStore>> {
        self.store.take()
    }

    /// Whether `store` (the store this host let go of, opened for reading, say) holds news for the
    /// processes in memory: a process another program advanced, or a message a waiting process has
    /// not taken yet. Reads only refs: what a waiting host looks at before it takes the store back.
    pub fn has_news(&self, store: &dyn BlobStore) -> Result<bool, DurableError> {
        for (name, hosted) in &self.processes {
            if store.get_ref(&crate::process::process_ref(name))? != hosted.process.record_hash() {
                return Ok(true);
            }
            if hosted.waiting.is_some() && hosted.process.has_new_mail_in(store)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Takes the store back: processes that another program advanced meanwhile are reloaded from
    /// their newest checkpoint, and the others look at their mailboxes again. Returns the
    /// processes that another program ended meanwhile (cancelled them, say), and how; they are
    /// no longer in memory.
    pub fn attach_store(&mut self, store: Box<dyn BlobStore>) -> Result<Vec<(String, Status)>, DurableError> {
        self.store = Some(store);
        let mut ended = Vec::new();
        let names: Vec<String> = self.processes.keys().cloned().collect();
        for name in names {
            let head = self.store()?.get_ref(&crate::process::process_ref(&name))?;
            let moved = self.processes.get(&name).is_some_and(|h| h.process.record_hash() != head);
            if moved {
                self.processes.remove(&name);
                let status = match head {
                    Some(hash) => crate::process::read_record(self.store()?, &name, hash)?.status,
                    None => Status::Cancelled { reason: "its record was removed from the store".into() },
                };
                if status.is_running() {
                    self.resume(&name)?;
                } else {
                    ended.push((name, status));
                }
            } else {
                self.refill(&name)?;
            }
        }
        Ok(ended)
    }

    /// Cancels the unfinished process `name` ([`crate::cancel`]): it ends where its last
    /// checkpoint left it, and leaves memory.
    pub fn cancel(&mut self, name: &str, reason: &str) -> Result<crate::Cancelled, DurableError> {
        let cancelled = crate::lifecycle::cancel(self.store()?, name, reason)?;
        self.processes.remove(name);
        Ok(cancelled)
    }

    /// The newest record of process `name`.
    pub fn status(&mut self, name: &str) -> Result<Record, DurableError> {
        let hash = self
            .store()?
            .get_ref(&crate::process::process_ref(name))?
            .ok_or_else(|| DurableError::NoSuchProcess(name.to_string()))?;
        crate::process::read_record(self.store()?, name, hash)
    }

    /// The value of process `name`'s last expression, once it has finished.
    pub fn result(&mut self, name: &str) -> Result<Option<Datum>, DurableError> {
        let record = self.status(name)?;
        match (&record.status, record.result) {
            (Status::Finished, Some(text)) => Ok(parse_message(&text).ok()),
            _ => Ok(None),
        }
    }

    /// Everything process `name` has written to its output port, exactly once.
    pub fn output(&mut self, name: &str) -> Result<Vec<u8>, DurableError> {
        let record = self.status(name)?;
        crate::process::read_output(self.store()?, &record)
    }
}

#[cfg(test)]
mod tests {
    /// A host, its processes and its store can move to another thread.
    #[test]
    fn a_host_is_send() {
        fn send<T: Send>() {}
        send::<super::Host>();
    }
}
