//! `CHENILLES_CRASH_AT_DISK_OP`: how the crash tests kill a command at an exact disk operation on
//! its store (see `chenilles_store::crash_point`), so that a seed replays the same outcomes.
//!
//! `CHENILLES_CRASH_AT_DISK_OP=N` kills the command with SIGKILL just before its Nth write, resize
//! or sync of a store file; `N:torn` writes the first half of that write's bytes first (when it is
//! a write); `N:stop` stops the command there with SIGSTOP instead, and it goes on with that
//! operation when continued (SIGCONT): how a test sees what other commands do beside a writer
//! frozen at an exact point, its locks held. `0` crashes nowhere. Whenever the variable is set, a
//! command that ends by itself says on stderr how many disk operations it made, so that a test can
//! choose where the next crash goes.

use std::process::ExitCode;

use chenilles_store::crash_point::{self, CrashPoint};

const VARIABLE: &str = "CHENILLES_CRASH_AT_DISK_OP";

fn crash() {
    let _ = signal_hook::low_level::raise(signal_hook::consts::SIGKILL);
    std::process::abort()
}

fn stop() {
    let _ = signal_hook::low_level::raise(signal_hook::consts::SIGSTOP);
}

/// Arms the crash point the environment asks for. A value that cannot be read stops the command
/// before it does anything (exit status 2).
pub fn arm_from_environment() -> Result<(), ExitCode> {
    let Some(value) = std::env::var_os(VARIABLE) else {
        return Ok(());
    };
    let value = value.to_string_lossy();
    let (number, suffix) = match value.split_once(':') {
        Some((number, suffix)) => (number, Some(suffix)),
        None => (value.as_ref(), None),
    };
    let (Ok(operation), None | Some("torn" | "stop")) = (number.parse::<u64>(), suffix) else {
        crate::note!(
            "error: {VARIABLE} must be a disk operation number, optionally followed by ':torn' or ':stop' \
             (got {value:?})"
        );
        return Err(ExitCode::from(2));
    };
    if operation > 0 {
        let act = if suffix == Some("stop") { stop } else { crash };
        crash_point::arm(CrashPoint { operation, torn: suffix == Some("torn"), act });
    }
    Ok(())
}

/// Says how many disk operations the command made, when the environment asked for a crash point.
pub fn report() {
    if std::env::var_os(VARIABLE).is_some() {
        crate::note!("chenilles-vm: {} disk operations on store files", crash_point::operations_so_far());
    }
}
