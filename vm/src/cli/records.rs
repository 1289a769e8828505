//! Reading the store's processes for the commands that list, show or check them: one damaged
//! record is reported for its process and hides no other.

use chenilles_durable::{DurableError, Record};
use chenilles_store::{BlobStore, RedbStore, StoreError};

/// The names of the processes in the store (whether or not their records can be read).
pub fn process_names(store: &RedbStore) -> Result<Vec<String>, StoreError> {
    Ok(store.list_refs()?.into_iter().filter_map(|(name, _)| name.strip_prefix("process/").map(String::from)).collect())
}

/// A process's name, and its newest record or why that record cannot be read.
pub type ProcessRecord = (String, Result<Record, DurableError>);

/// Every process of the store with its newest record, or why that record cannot be read: one
/// damaged process does not hide the others.
pub fn processes(store: &RedbStore) -> Result<Vec<ProcessRecord>, StoreError> {
    Ok(process_names(store)?.into_iter().map(|name| (name.clone(), record_of(store, &name))).collect())
}

/// The newest record of process `name`.
pub fn record_of(store: &RedbStore, name: &str) -> Result<Record, DurableError> {
    let hash = store
        .get_ref(&chenilles_durable::process_ref(name))?
        .ok_or_else(|| DurableError::NoSuchProcess(name.into()))?;
    chenilles_durable::read_record(store, name, hash)
}
