//! `store rotate`: a new master key for an encrypted store, crash-safe and resumable.
//!
//! Every blob and ref is opened under the old key and sealed under the new one into a copy beside
//! the store (`NAME.rotating`), whose key slots are the store's own wrapped again for the new key.
//! The copy is filled in batches, each committed durably with a sealed progress record (how far
//! the copy has gone in the store's blob table, and the store's commit count it was made from);
//! the refs and the state record go in last, in one commit that marks the copy complete; then one
//! rename puts the copy in the store's place. A crash at any instant leaves the store as it was
//! (with the copy beside it) or rotated: the next rotation goes on from the last batch, or starts
//! the blobs over (skipping those copied) if the store was written since.
//!
//! While a copy is unfinished, the store's slots may not change (the copy's slots would no
//! longer match them); the store stays usable otherwise.

use std::ops::Bound;
use std::path::{Path, PathBuf};

use redb::{ReadableTable, ReadableTableMetadata};

use super::sealed::{self, NumberedSlot};
use super::{
    At, Attempt, BLOBS, Check, Empty, Init, KEY_SLOTS, META, META_ROTATION, META_STATE, Mode, RedbStore, SEALED_REFS,
    begin_write, create_exclusively, finish, io_error, new_store_key,
};
use crate::bundle::BundleKeys;
use crate::keys::{KeySlot, SlotInfo, StoreKey, Unlock};
use crate::sealing::{self, SealedState, Sealer};
use crate::{Hash, StoreError};

/// How many blobs one batch of the copy holds at most.
const BATCH_BLOBS: usize = 1024;
/// How many bytes of blobs one batch of the copy holds at most (it may pass them by one blob).
const BATCH_BYTES: usize = 16 << 20;

/// How [`RedbStore::rotate`] treats the store's key slots and an unfinished copy.
#[derive(Clone, Copy, Debug, Default)]
pub struct Rotation {
    /// Drop the slots that none of the credentials offered opens (another person's password),
    /// instead of refusing to rotate.
    pub drop_unusable_slots: bool,
    /// Throw away an unfinished copy left by an earlier rotation and start again.
    pub restart: bool,
}

/// What a rotation did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RotationReport {
    /// Whether it went on with a copy an earlier, interrupted rotation had begun.
    pub resumed: bool,
    /// Blobs sealed under the new key by this call (not those an earlier one had copied).
    pub blobs_copied: u64,
    /// Their bytes, in clear.
    pub bytes_copied: u64,
    /// Refs sealed under the new key.
    pub refs: u64,
    /// The key slots the rotated store has.
    pub slots: Vec<SlotInfo>,
    /// The slots the store had that the rotated store has not.
    pub dropped: Vec<SlotInfo>,
}

/// Where the copy of the store at `path` is made: `NAME.rotating` beside it.
pub(super) fn copy_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "store".into());
    path.with_file_name(format!("{name}.rotating"))
}

/// Refused while a copy is unfinished: a change of the store's key slots.
pub(super) fn refuse_slot_change_while_rotating(path: &Path) -> Result<(), StoreError> {
    if std::fs::symlink_metadata(copy_path(path)).is_ok() {
        return Err(StoreError::KeySlot {
            path: path.to_path_buf(),
            cause: "a `store rotate` is unfinished (its copy is beside the store): run it again to finish it, \
                    or abandon it, before changing key slots"
                .to_string(),
        });
    }
    Ok(())
}

/// The copy's progress, sealed in its meta table under [`META_ROTATION`].
#[derive(Clone, Debug, PartialEq, Eq)]
struct Progress {
    /// The refs and the state record are in: only the rename is left.
    complete: bool,
    /// The store's commit count the copy was made from.
    source_commits: u64,
    /// The last key of the store's blob table copied (`None`: none yet).
    cursor: Option<Vec<u8>>,
}

impl Progress {
    fn encode(&self) -> Vec<u8> {
        let mut bytes = vec![u8::from(self.complete)];
        bytes.extend_from_slice(&self.source_commits.to_le_bytes());
        if let Some(cursor) = &self.cursor {
            bytes.extend_from_slice(cursor);
        }
        bytes
    }

    fn decode(bytes: &[u8]) -> Option<Progress> {
        let complete = match *bytes.first()? {
            0 => false,
            1 => true,
            _ => return None,
        };
        let source_commits = u64::from_le_bytes(bytes.get(1..9)?.try_into().ok()?);
        let cursor = bytes.get(9..).filter(|rest| !rest.is_empty()).map(<[u8]>::to_vec);
        Some(Progress { complete, source_commits, cursor })
    }
}

/// Whether the meta table of an encrypted store under `sealer` holds an unfinished copy's record
/// (a complete one, left by a rotation that crashed just after its rename, does not count).
pub(super) fn is_unfinished_copy(
    path: &Path,
    meta: &impl ReadableTable<&'static str, &'static [u8]>,
    sealer: &Sealer,
) -> Result<bool, StoreError> {
    Ok(match read_progress(path, meta, sealer)? {
        Some(progress) => !progress.complete,
        None => false,
    })
}

fn read_progress(
    path: &Path,
    meta: &impl ReadableTable<&'static str, &'static [u8]>,
    sealer: &Sealer,
) -> Result<Option<Progress>, StoreError> {
    let Some(sealed) = meta.get(META_ROTATION).at(path)? else {
        return Ok(None);
    };
    let plain = sealer.open_rotation(sealed.value()).map_err(|_| sealed::tampered(path, "the rotation record"))?;
    Progress::decode(&plain).map(Some).ok_or_else(|| sealed::tampered(path, "the rotation record"))
}

fn write_progress(
    path: &Path,
    meta: &mut redb::Table<'_, &'static str, &'static [u8]>,
    sealer: &Sealer,
    progress: &Progress,
) -> Result<(), StoreError> {
    let sealed = sealer.seal_rotation(&progress.encode()).map_err(|e| sealed::seal_error(path, e))?;
    meta.insert(META_ROTATION, sealed.as_slice()).at(path)?;
    Ok(())
}

/// The slots wrapped again for a new master key (numbered as before), and those that could not be.
type RewrappedSlots = (Vec<(u32, KeySlot)>, Vec<SlotInfo>);

/// The store's slots, each wrapped again for `new_master` with one of `unlock`'s credentials,
/// and those none of them opens.
fn rewrap_slots(
    path: &Path,
    slots: &[NumberedSlot],
    unlock: &Unlock,
    store_id: &[u8; 16],
    new_master: &sealing::MasterKey,
) -> Result<RewrappedSlots, StoreError> {
    let mut kept = Vec::new();
    let mut unusable = Vec::new();
    for (id, slot) in slots {
        match slot {
            Ok(slot) => match slot.rewrap(&unlock.credentials, store_id, *id, new_master) {
                Ok(Some(new)) => kept.push((*id, new)),
                Ok(None) => unusable.push(slot.info(*id)),
                Err(error) => return Err(sealed::slot_error(path, format!("key slot {id}: {error}"))),
            },
            Err(error) => unusable.push(SlotInfo::unreadable(*id, error)),
        }
    }
    Ok((kept, unusable))
}

fn list(slots: &[SlotInfo]) -> String {
    slots.iter().map(|slot| format!("{} ({})", slot.id, slot.method)).collect::<Vec<_>>().join(", ")
}

impl RedbStore {
    /// Gives the encrypted store at `path` a new random master key: every blob and ref is sealed
    /// again under it, and every key slot is wrapped again for it (so the same passwords and keys
    /// open it, and the old master key, wherever it leaked, opens nothing). `unlock` must open
    /// the store and every slot to keep; slots it does not open are refused unless
    /// [`Rotation::drop_unusable_slots`]. The store is held for writing throughout.
    ///
    /// Crash-safe and resumable (see this module's documentation): killed at any instant, the
    /// store is the old one or the rotated one, and calling this again finishes the work.
    /// `on_batch(done, total)` is called after each durable batch of blobs.
    pub fn rotate(
        path: impl AsRef<Path>,
        unlock: &Unlock,
        options: Rotation,
        on_batch: &mut dyn FnMut(u64, u64),
    ) -> Result<RotationReport, StoreError> {
        let path = path.as_ref();
        let source = RedbStore::open_with(path, Mode::Existing, unlock)?;
        let Some(old) = source.sealed.clone() else {
            return Err(StoreError::KeySlot {
                path: path.to_path_buf(),
                cause: "the store is not encrypted: it has no master key to rotate".to_string(),
            });
        };
        let copy_at = copy_path(path);
        if options.restart {
            abandon_copy(&copy_at)?;
        }
        let txn = source.read_txn()?;
        let source_slots = sealed::read_slots(path, &txn.open_table(KEY_SLOTS).at(path)?)?;
        let source_state = sealed::read_state(path, &txn.open_table(META).at(path)?, &old.sealer)?;
        drop(txn);
        let mut report = RotationReport::default();
        let credentials_only = Unlock { credentials: unlock.credentials.clone(), known: None };
        let copy = match RedbStore::open_file(&copy_at, Check::Header, Empty::Refused, &credentials_only) {
            Ok(copy) => {
                report.resumed = true;
                copy
            }
            Err(Attempt::Missing) => {
                let new = StoreKey { master: new_store_key(path)?.master, store_id: old.key.store_id };
                let (kept, unusable) = rewrap_slots(path, &source_slots, unlock, &new.store_id, &new.master)?;
                if kept.is_empty() {
                    return Err(sealed::slot_error(
                        path,
                        "rotating needs the credentials of the key slots to keep, and none was offered",
                    ));
                }
                if !unusable.is_empty() && !options.drop_unusable_slots {
                    return Err(sealed::slot_error(
                        path,
                        format!(
                            "the credentials offered do not open key slots {}: offer theirs too, or drop them; \
                             nothing was changed",
                            list(&unusable)
                        ),
                    ));
                }
                let first = Progress { complete: false, source_commits: source_state.commits, cursor: None };
                // A new bundle identity too (the old master key may have leaked, and the old
                // identity with it); the old ones are kept so that earlier bundles still import.
                let bundle_keys = source.own_bundle_keys()?.map_or_else(BundleKeys::generate, |keys| keys.rotated());
                let init = Init::Encrypted {
                    slots: &kept,
                    key: &new,
                    rotation: Some(&first.encode()),
                    bundle_keys: &bundle_keys,
                };
                if !create_exclusively(&copy_at, init)? {
                    return Err(StoreError::Locked { path: copy_at });
                }
                match RedbStore::open_file(&copy_at, Check::Header, Empty::Refused, &Unlock::key(new)) {
                    Ok(copy) => copy,
                    Err(Attempt::Refused(error)) => return Err(error),
                    Err(_) => return Err(StoreError::Replaced { path: copy_at }),
                }
            }
            Err(Attempt::Refused(StoreError::WrongKey { .. } | StoreError::KeyNeeded { .. })) => {
                return Err(sealed::slot_error(
                    path,
                    "an unfinished rotation, begun with other credentials, is beside the store: offer those, \
                     or start it again",
                ));
            }
            Err(Attempt::Refused(error)) => return Err(error),
            Err(Attempt::Replaced) => return Err(StoreError::Replaced { path: copy_at }),
        };
        let Some(new) = copy.sealed.clone() else {
            return Err(StoreError::Corrupt {
                path: copy_at,
                cause: "the rotation's copy is not encrypted".to_string(),
            });
        };
        report.slots = sealed::slot_infos(&copy_at, &copy.read_txn()?)?;
        report.dropped = source_slots
            .iter()
            .filter(|(id, _)| !report.slots.iter().any(|kept| kept.id == *id))
            .map(|(id, slot)| match slot {
                Ok(slot) => slot.info(*id),
                Err(error) => SlotInfo::unreadable(*id, error),
            })
            .collect();
        let progress = {
            let txn = copy.read_txn()?;
            read_progress(&copy_at, &txn.open_table(META).at(&copy_at)?, &new.sealer)?
        };
        let mut progress = progress.ok_or_else(|| StoreError::Corrupt {
            path: copy_at.clone(),
            cause: "the rotation's copy has no progress record".to_string(),
        })?;
        if progress.source_commits != source_state.commits {
            // The store was written since the copy began: copy the blobs again (those held are
            // skipped), then the refs as they are now.
            progress = Progress { complete: false, source_commits: source_state.commits, cursor: None };
        }
        if !progress.complete {
            copy_blobs(&source, &old.sealer, &copy, &new.sealer, &mut progress, &mut report, on_batch)?;
            report.refs = copy_refs(&source, &old.sealer, &copy, &new.sealer, &mut progress, source_state)?;
        } else {
            report.refs = copy.read_txn()?.open_table(SEALED_REFS).at(&copy_at)?.len().at(&copy_at)?;
        }
        let key = new.key.clone();
        drop(new);
        copy.close()?;
        // The copy replaces the store while the store is still held: no writer comes between.
        std::fs::rename(&copy_at, path).map_err(|e| io_error(path, &e))?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(|e| io_error(path, &e))?;
        }
        drop(old);
        drop(source);
        // The record of a finished copy means nothing in the store: take it out.
        let rotated = RedbStore::open_with(path, Mode::Existing, &Unlock::key(key))?;
        {
            let txn = begin_write(rotated.writable()?, path)?;
            let work = (|| {
                let removed = txn.open_table(META).at(path)?.remove(META_ROTATION).at(path)?.is_some();
                Ok(((), removed))
            })();
            finish(txn, path, work)?;
        }
        rotated.close()?;
        Ok(report)
    }

    /// Throws away the unfinished copy an interrupted [`RedbStore::rotate`] of the store at
    /// `path` left, if there is one (the store itself is not touched). Returns whether there was.
    pub fn abandon_rotation(path: impl AsRef<Path>) -> Result<bool, StoreError> {
        abandon_copy(&copy_path(path.as_ref()))
    }
}

/// Removes the copy at `copy_at`, unless a rotation is running on it (it holds its lock).
fn abandon_copy(copy_at: &Path) -> Result<bool, StoreError> {
    let file = match std::fs::OpenOptions::new().read(true).write(true).open(copy_at) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(error) => return Err(io_error(copy_at, &error)),
    };
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => return Err(StoreError::Locked { path: copy_at.to_path_buf() }),
        Err(std::fs::TryLockError::Error(error)) => return Err(io_error(copy_at, &error)),
    }
    std::fs::remove_file(copy_at).map_err(|e| io_error(copy_at, &e))?;
    Ok(true)
}

/// Copies the store's blobs after `progress.cursor` into the copy, in durable batches.
fn copy_blobs(
    source: &RedbStore,
    old: &Sealer,
    copy: &RedbStore,
    new: &Sealer,
    progress: &mut Progress,
    report: &mut RotationReport,
    on_batch: &mut dyn FnMut(u64, u64),
) -> Result<(), StoreError> {
    let (path, copy_at) = (source.path(), copy.path());
    let txn = source.read_txn()?;
    let blobs = txn.open_table(BLOBS).at(path)?;
    let total = blobs.len().at(path)?;
    let mut done = match &progress.cursor {
        Some(cursor) => blobs.range::<&[u8]>(..=cursor.as_slice()).at(path)?.count() as u64,
        None => 0,
    };
    loop {
        let cursor = progress.cursor.clone();
        let start = match &cursor {
            Some(cursor) => Bound::Excluded(cursor.as_slice()),
            None => Bound::Unbounded,
        };
        let write = begin_write(copy.writable()?, copy_at)?;
        let work = (|| {
            let mut target = write.open_table(BLOBS).at(copy_at)?;
            let (mut count, mut bytes) = (0usize, 0usize);
            for entry in blobs.range::<&[u8]>((start, Bound::Unbounded)).at(path)? {
                let (key, value) = entry.at(path)?;
                let what = || format!("blob entry {}", sealed::key_name(key.value()));
                let plain = old.open_blob(key.value(), value.value()).map_err(|_| sealed::tampered(path, what()))?;
                let hash = Hash::of(&plain);
                if old.blob_key(&hash)[..] != *key.value() {
                    return Err(sealed::tampered(path, what()));
                }
                let new_key = new.blob_key(&hash);
                if target.get(&new_key[..]).at(copy_at)?.is_none() {
                    let sealed = new.seal_blob(&new_key, &plain).map_err(|e| sealed::seal_error(copy_at, e))?;
                    target.insert(&new_key[..], sealed.as_slice()).at(copy_at)?;
                    report.blobs_copied += 1;
                    report.bytes_copied += plain.len() as u64;
                }
                progress.cursor = Some(key.value().to_vec());
                count += 1;
                bytes += plain.len();
                if count >= BATCH_BLOBS || bytes >= BATCH_BYTES {
                    break;
                }
            }
            drop(target);
            if count > 0 {
                write_progress(copy_at, &mut write.open_table(META).at(copy_at)?, new, progress)?;
            }
            Ok((count as u64, count > 0))
        })();
        let count = finish(write, copy_at, work)?;
        if count == 0 {
            return Ok(());
        }
        done += count;
        on_batch(done.min(total), total);
    }
}

/// Puts the store's refs into the copy, sealed under the new key, with the state record that
/// authenticates them and the record that marks the copy complete: one commit. Returns how many.
fn copy_refs(
    source: &RedbStore,
    old: &Sealer,
    copy: &RedbStore,
    new: &Sealer,
    progress: &mut Progress,
    source_state: SealedState,
) -> Result<u64, StoreError> {
    let (path, copy_at) = (source.path(), copy.path());
    let refs = sealed::all_refs(path, &source.read_txn()?.open_table(SEALED_REFS).at(path)?, old)?;
    let write = begin_write(copy.writable()?, copy_at)?;
    let work = (|| {
        // A copy finished before the store was written again holds older refs: replace them all.
        write.delete_table(SEALED_REFS).at(copy_at)?;
        let mut table = write.open_table(SEALED_REFS).at(copy_at)?;
        let mut digest = [0u8; 32];
        for (name, target) in &refs {
            let key = new.ref_key(name);
            let sealed = new.seal_ref(&key, name, target).map_err(|e| sealed::seal_error(copy_at, e))?;
            sealing::xor_into(&mut digest, &new.ref_entry_digest(&key, &sealed));
            table.insert(key.as_slice(), sealed.as_slice()).at(copy_at)?;
        }
        drop(table);
        let state = SealedState { commits: source_state.commits, ref_digest: digest };
        let sealed_state = new.seal_state(&state).map_err(|e| sealed::seal_error(copy_at, e))?;
        let mut meta = write.open_table(META).at(copy_at)?;
        meta.insert(META_STATE, sealed_state.as_slice()).at(copy_at)?;
        drop(meta);
        super::replication::carry_into_rotated_copy(source, &write, copy_at, new)?;
        let mut meta = write.open_table(META).at(copy_at)?;
        progress.complete = true;
        write_progress(copy_at, &mut meta, new, progress)?;
        Ok((refs.len() as u64, true))
    })();
    finish(write, copy_at, work)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_records_read_back_and_refuse_damage() {
        for progress in [
            Progress { complete: false, source_commits: 0, cursor: None },
            Progress { complete: false, source_commits: 7, cursor: Some(vec![1; 32]) },
            Progress { complete: true, source_commits: u64::MAX, cursor: Some(vec![9]) },
        ] {
            assert_eq!(Progress::decode(&progress.encode()), Some(progress));
        }
        assert_eq!(Progress::decode(&[]), None);
        assert_eq!(Progress::decode(&[2, 0, 0, 0, 0, 0, 0, 0, 0]), None);
        assert_eq!(Progress::decode(&[0, 0, 0]), None);
    }

    #[test]
    fn the_copy_is_named_after_the_store() {
        assert_eq!(copy_path(Path::new("/a/store.redb")), PathBuf::from("/a/store.redb.rotating"));
    }
}
