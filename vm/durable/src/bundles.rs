//! Processes carried between stores in bundles: [`export_processes`] writes some processes
//! (each one's newest record, every blob it reaches, its mailbox and waiting messages) as one
//! bundle, sealed when the store is encrypted or recipients are named; [`import_processes`]
//! checks that a bundle holds whole processes and nothing else before anything of it is
//! committed. A bundle is a copy: the process stays in the store it came from.

use std::collections::BTreeMap;
use std::io::{Read, Write};

use chenilles_store::{
    Batch, BlobStore, BundleRefs, BundleSummary, Credential, MemoryStore, StoreError, missing_blobs,
};

use crate::mailbox::{mailbox_ref, messages_prefix};
use crate::process::{DurableError, process_ref, read_record};
use crate::snapshot::blob::children_of;

/// What a bundle of processes carried.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Carried {
    /// The processes, in the bundle's order.
    pub processes: Vec<String>,
    /// The bundle's refs, blobs and bytes, and whether it is sealed.
    pub summary: BundleSummary,
}

/// Writes the processes `names` as one bundle: sealed to `recipients` (age recipients) if any
/// is given, and always sealed from an encrypted store (to itself too). A name that is no
/// process is [`DurableError::NoSuchProcess`], and nothing is written.
pub fn export_processes(
    store: &dyn BlobStore,
    names: &[&str],
    recipients: &[String],
    writer: &mut dyn Write,
) -> Result<Carried, DurableError> {
    let mut processes = Vec::new();
    for name in names {
        chenilles_machine::process_name::check(name)?;
        if !processes.iter().any(|p| p == name) {
            processes.push((*name).to_string());
        }
    }
    // Named here, read by the store from one snapshot: a message sent while the export runs is
    // in the bundle with the process's record that has yet to take it, or not at all.
    let records: Vec<String> = processes.iter().map(|name| process_ref(name)).collect();
    let mailboxes: Vec<String> = processes.iter().map(|name| mailbox_ref(name)).collect();
    let messages: Vec<String> = processes.iter().map(|name| messages_prefix(name)).collect();
    let (required, optional, prefixes) = (as_strs(&records), as_strs(&mailboxes), as_strs(&messages));
    let selected = BundleRefs { required: &required, optional: &optional, prefixes: &prefixes };
    let summary = match store.export_bundle_of(&selected, &children_of, recipients, writer) {
        Err(StoreError::NoSuchRef { name }) => match name.strip_prefix("process/") {
            Some(process) => return Err(DurableError::NoSuchProcess(process.to_string())),
            None => return Err(StoreError::NoSuchRef { name }.into()),
        },
        outcome => outcome?,
    };
    Ok(Carried { processes, summary })
}

fn as_strs(names: &[String]) -> Vec<&str> {
    names.iter().map(String::as_str).collect()
}

/// Which process a bundled ref belongs to, or `None` if it is no ref of a process.
fn owner(name: &str) -> Option<&str> {
    if let Some(process) = name.strip_prefix("process/") {
        return Some(process);
    }
    let rest = name.strip_prefix("mailbox/")?;
    match rest.rsplit_once('/') {
        Some((process, seq)) if seq.len() == 20 && seq.bytes().all(|b| b.is_ascii_digit()) => Some(process),
        Some(_) => None,
        None => Some(rest),
    }
}

/// Reads a bundle of processes (opened with the identity files among `keys` if it is sealed; an
/// encrypted store offers its own identities) and adds them to `store` in one commit, after
/// checking that it holds whole processes and nothing else: every ref is a process's record, its
/// mailbox or one of its messages; every process's record reads back; every blob the refs reach
/// is in the bundle. A process of the same name already in `store` is [`DurableError::NameTaken`]
/// (importing the same bundle twice is refused the same way). Whatever is refused, the store is
/// left as it was.
pub fn import_processes(
    store: &mut dyn BlobStore,
    reader: &mut dyn Read,
    keys: &[Credential],
) -> Result<Carried, DurableError> {
    let bundle = store.open_bundle(reader, keys)?;
    let not_processes = |what: String| DurableError::NotProcesses(what);
    let mut processes: BTreeMap<&str, bool> = BTreeMap::new();
    for (name, _) in &bundle.summary().refs {
        let process = owner(name).ok_or_else(|| not_processes(format!("its ref {name:?} belongs to no process")))?;
        chenilles_machine::process_name::check(process).map_err(|e| not_processes(format!("its ref {name:?}: {e}")))?;
        *processes.entry(process).or_default() |= name.starts_with("process/");
    }
    if let Some((process, _)) = processes.iter().find(|(_, has_record)| !**has_record) {
        return Err(not_processes(format!("it holds messages for {process:?} but not the process")));
    }
    // The bundle as a store of its own, to read its records and walk it.
    let mut alone = MemoryStore::default();
    let mut batch = Batch::default();
    for (_, bytes) in bundle.blobs() {
        batch.put(bytes.to_vec());
    }
    for (name, target) in &bundle.summary().refs {
        batch.set_ref(name, None, *target);
    }
    alone.commit(batch)?;
    for process in processes.keys() {
        let target =
            alone.get_ref(&process_ref(process))?.ok_or_else(|| DurableError::NoSuchProcess(process.to_string()))?;
        read_record(&alone, process, target)?;
        if store.get_ref(&process_ref(process))?.is_some() {
            return Err(DurableError::NameTaken(process.to_string()));
        }
    }
    if let Some((hash, from)) = missing_blobs(&alone, &children_of)?.first() {
        return Err(not_processes(format!("blob {hash}, which {from:?} reaches, is not in it")));
    }
    let processes: Vec<String> = bundle
        .summary()
        .refs
        .iter()
        .filter_map(|(name, _)| name.strip_prefix("process/"))
        .map(str::to_string)
        .collect();
    let summary = store.commit_bundle(bundle)?;
    Ok(Carried { processes, summary })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_belong_to_the_process_they_name() {
        assert_eq!(owner("process/alice"), Some("alice"));
        assert_eq!(owner("mailbox/alice"), Some("alice"));
        assert_eq!(owner("mailbox/alice/00000000000000000003"), Some("alice"));
        assert_eq!(owner("mailbox/alice/3"), None);
        assert_eq!(owner("image/abc"), None);
    }
}
