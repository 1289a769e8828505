//! A real durable process's store, damaged by the fuzzer's edits and re-hashed so that the damage
//! reaches the decoders (each edited blob gets its new name, and every blob naming it is updated,
//! up to the refs): resuming it is refused with an error, or runs under limits; never a panic.
//!
//! The input is a list of edits of 6 bytes: blob (u16), offset (u16), operation, value.
#![no_main]

use std::sync::OnceLock;

use chenilles_fuzz::{Seed, replace_hash, seed};
use chenilles_store::{Batch, BlobStore, Hash, MemoryStore};
use chenilles_durable::{Options, Process};
use libfuzzer_sys::fuzz_target;

static SEED: OnceLock<Seed> = OnceLock::new();

fuzz_target!(|edits: &[u8]| {
    let seed = SEED.get_or_init(seed);
    let mut blobs: Vec<(Hash, Vec<u8>)> = seed.blobs.clone();
    let mut refs = seed.refs.clone();
    for edit in edits.chunks_exact(6) {
        let blob = u16::from_le_bytes([edit[0], edit[1]]) as usize % blobs.len();
        let bytes = &mut blobs[blob].1;
        let offset = u16::from_le_bytes([edit[2], edit[3]]) as usize % (bytes.len() + 1);
        match edit[4] % 4 {
            0 if offset < bytes.len() => bytes[offset] ^= edit[5].max(1),
            1 if offset < bytes.len() => bytes[offset] = edit[5],
            2 => bytes.truncate(offset),
            _ => bytes.insert(offset, edit[5]),
        }
    }
    // Rename edited blobs, and update whatever names them, until nothing changes.
    for _ in 0..64 {
        let mut renamed = false;
        for i in 0..blobs.len() {
            let new = Hash::of(&blobs[i].1);
            let old = blobs[i].0;
            if new != old {
                renamed = true;
                blobs[i].0 = new;
                for (_, bytes) in blobs.iter_mut() {
                    replace_hash(bytes, &old, &new);
                }
                for (_, target) in refs.iter_mut() {
                    if *target == old {
                        *target = new;
                    }
                }
            }
        }
        if !renamed {
            break;
        }
    }
    let mut store = MemoryStore::default();
    let mut batch = Batch::default();
    for (_, bytes) in blobs {
        batch.put(bytes);
    }
    for (name, target) in &refs {
        batch.set_ref(name, None, *target);
    }
    if store.commit(batch).is_err() {
        return;
    }
    let Ok(mut process) = Process::resume(&mut store, "p", Options::silent()) else { return };
    process.set_limits(chenilles_fuzz::LIMITS);
    let _ = process.run(&mut store);
});
