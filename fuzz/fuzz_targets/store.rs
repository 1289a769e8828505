//! Any bytes as a store file (opened, listed, read, verified and collected) and as a bundle
//! (imported): a clear error or a working store; never a panic.
#![no_main]

use chenilles_store::simulated::SimulatedDisk;
use chenilles_store::{BlobStore, MemoryStore, RedbStore};
use chenilles_durable::blob::children_of;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let mut memory = MemoryStore::default();
    let _ = memory.import_bundle(&mut &bytes[..]);

    let disk = SimulatedDisk::holding(bytes.to_vec());
    let Ok(mut store) = RedbStore::open_simulated(&disk) else { return };
    if let Ok(refs) = store.list_refs() {
        for (name, _) in refs {
            let _ = chenilles_durable::list_processes(&store);
            let _ = store.get_ref(&name);
        }
    }
    if let Ok(hashes) = store.blob_hashes() {
        for hash in hashes.iter().take(64) {
            let _ = store.get(hash);
        }
    }
    let _ = store.verify();
    let _ = store.gc(&children_of);
});
