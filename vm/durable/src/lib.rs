//! The Chenilles VM's durable layer: processes whose every continuation is checkpointed into a
//! content-addressed store, their mailboxes, the determinism check, and the embedding API that
//! runs many of them ([`Host`]). The language machine it runs is `chenilles-machine`; this crate
//! knows nothing of the command line.
//!
//! ```
//! use chenilles_durable::{Host, Status};
//! use chenilles_store::MemoryStore;
//!
//! let mut host = Host::new(Box::new(MemoryStore::default()));
//! host.spawn("greeter").source("greeter.scm", "(display (string-append \"hello, \" (receive)))").start().unwrap();
//! host.send("greeter", &chenilles_reader::Datum::from("world")).unwrap();
//! assert_eq!(host.run().unwrap(), vec![("greeter".to_string(), Status::Finished)]);
//! assert_eq!(host.output("greeter").unwrap(), b"hello, world");
//! ```
#![deny(missing_docs)]

mod bundles;
mod host;
mod inbox;
mod lifecycle;
mod mailbox;
mod outbox;
mod process;
mod replay;
mod snapshot;

pub use bundles::{Carried, export_processes, import_processes};
pub use host::{Host, Round, Spawn};
pub use inbox::{
    INBOX_VERSION, Incoming, Limits, MAILBOX_QUOTA, MAX_MESSAGE_BYTES, MOST_MESSAGES_PER_BATCH, PEER_QUOTA, Received,
    Stop, inbox_mark, inbox_ref,
};
pub use lifecycle::{Cancelled, Removed, cancel, remove};
pub use mailbox::{Arrival, DeliveryError, Mailbox, deliver, read_mailbox, waiting_count};
pub use outbox::{
    AckError, OUTBOX_VERSION, Outbox, Outgoing, acknowledge, outbox_marks, outbox_ref, read_outbox, read_outgoing,
};
pub use process::{
    Barrier, CheckpointWatcher, CrashHook, DEFAULT_CHECKPOINT_INTERVAL, DEFAULT_CHECKPOINT_SHARE, DurableError,
    Options, Process, Record, STEPS_PER_SLICE, SentTo, SharedBuffer, Status, Turn, Window, list_processes, process_ref,
    read_effects, read_output, read_output_from, read_record, stage_record,
};
pub use replay::{Replay, replay};
/// The blob format every stored object has: a kind, the hashes it points to, a payload.
pub use snapshot::blob;
pub use snapshot::{CaptureStats, SnapshotError, Snapshotter, first_difference, restore, restore_detached};
