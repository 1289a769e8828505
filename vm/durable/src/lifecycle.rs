//! Ending a process from outside it, and taking an ended one out of the store: [`cancel`] and
//! [`remove`]. Each is one commit, so a crash leaves the process as it was or as it is after,
//! never between.

use chenilles_store::{Batch, BlobStore, GcReport, Hash};

use crate::process::{DurableError, Record, Status, process_ref, read_record, record_time_ms_now, stage_record};

/// What a cancellation ended, for the person who asked.
#[derive(Clone, Debug, PartialEq)]
pub struct Cancelled {
    /// The record that ends the process.
    pub record: Record,
    /// How it stood when it was cancelled (`running` or `waiting`).
    pub was: Status,
    /// Messages that had come and that it had not received: they stay in its mailbox, unread,
    /// until the process is removed.
    pub unread: usize,
}

/// Ends the unfinished process `name` where its last checkpoint left it: a record with status
/// [`Status::Cancelled`] replaces the newest one, in one commit. Its output and effect journals
/// stay as they were (every effect it performed is still accounted for), its state is no longer
/// kept, and the messages it had not received stay in its mailbox, counted. The caller must hold
/// the store so that no host runs the process meanwhile (the commit would then fail, the
/// record having moved, and nothing would change).
pub fn cancel(store: &mut dyn BlobStore, name: &str, reason: &str) -> Result<Cancelled, DurableError> {
    let (hash, record) = newest(store, name)?;
    if !record.status.is_running() {
        return Err(DurableError::Ended { name: name.into(), status: record.status.word() });
    }
    let unread = crate::mailbox::waiting_count(store, name)?;
    let was = record.status.clone();
    let mut cancelled = record;
    cancelled.status = Status::Cancelled { reason: reason.to_string() };
    cancelled.snapshot = None;
    cancelled.checkpoints += 1;
    cancelled.time_ms = record_time_ms_now();
    cancelled.bytes_written = 0;
    cancelled.pages_written = 0;
    cancelled.result = None;
    let mut batch = Batch::default();
    stage_record(&mut batch, &mut cancelled, Some(hash));
    store.commit(batch)?;
    Ok(Cancelled { record: cancelled, was, unread })
}

/// What [`remove`] took out of the store.
#[derive(Clone, Debug, PartialEq)]
pub struct Removed {
    /// How the process had ended.
    pub status: Status,
    /// Unread messages removed with its mailbox.
    pub unread: usize,
    /// The collection that followed: what only the process used, freed.
    pub gc: GcReport,
}

/// Removes the ended process `name` from the store: its record (and history), its mailbox and
/// the messages still in it go in one commit, then a collection frees the blobs that only they
/// reached (the program's image stays while another process runs it). An unfinished process is
/// refused: cancel it first.
pub fn remove(store: &mut dyn BlobStore, name: &str) -> Result<Removed, DurableError> {
    let (hash, record) = newest(store, name)?;
    if record.status.is_running() {
        return Err(DurableError::NotEnded { name: name.into(), status: record.status.word() });
    }
    let mut batch = Batch::default();
    batch.delete_ref(&process_ref(name), hash);
    let unread = crate::mailbox::stage_removal(store, &mut batch, name)?;
    store.commit(batch)?;
    let gc = store.gc(&crate::snapshot::blob::children_of)?;
    Ok(Removed { status: record.status, unread, gc })
}

/// The newest record of process `name` and its hash.
fn newest(store: &dyn BlobStore, name: &str) -> Result<(Hash, Record), DurableError> {
    let hash = store.get_ref(&process_ref(name))?.ok_or_else(|| DurableError::NoSuchProcess(name.into()))?;
    Ok((hash, read_record(store, name, hash)?))
}
