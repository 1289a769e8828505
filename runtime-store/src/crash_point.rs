//! A crash on purpose at a chosen disk operation on a store file: how a test kills a command at a
//! point that replays exactly, run after run, whatever the machine's speed.
//!
//! Every write, resize and sync that reaches a store file opened for writing is counted, from 1,
//! in the order redb makes them (operations an open holds back and never publishes are not disk
//! operations). Once [`arm`]ed at operation N, the store calls the crash function just before the
//! Nth operation, or, for a torn crash on a write, after writing the first half of its bytes. A
//! program whose checkpoints are paced by its steps (`--checkpoint-every-steps`) makes the same
//! operations in the same order every time, so a crash at N lands on the same byte of the same
//! commit every time. What happens there is the binary's (the command-line VM kills itself with
//! SIGKILL, or stops itself with SIGSTOP to show what others see beside a writer frozen there): the
//! library only decides when.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// Where and how to crash.
#[derive(Clone, Copy, Debug)]
pub struct CrashPoint {
    /// The disk operation (counted from 1) before which the crash comes.
    pub operation: u64,
    /// For a write: write the first half of its bytes, then crash.
    pub torn: bool,
    /// What happens there. A crash never returns; a pause returns once the process goes on, and
    /// the operation is then made (after the torn half, for a torn one).
    pub act: fn(),
}

static ARMED: OnceLock<CrashPoint> = OnceLock::new();
static OPERATIONS: AtomicU64 = AtomicU64::new(0);

/// Arms the crash point for the rest of the process's life. Returns false (and changes nothing)
/// when one is armed already.
pub fn arm(point: CrashPoint) -> bool {
    ARMED.set(point).is_ok()
}

/// How many disk operations the process has made on store files so far.
pub fn operations_so_far() -> u64 {
    OPERATIONS.load(Ordering::Relaxed)
}

/// Counts one disk operation, about to be made; crashes here when it is the armed one. `tear` writes
/// the part of a write that a torn crash leaves (given `true` when its bytes should be halved).
pub(crate) fn before_operation(tear: impl FnOnce()) {
    let number = OPERATIONS.fetch_add(1, Ordering::Relaxed) + 1;
    if let Some(point) = ARMED.get()
        && point.operation == number
    {
        if point.torn {
            tear();
        }
        (point.act)();
    }
}
