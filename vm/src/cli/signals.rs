//! SIGINT and SIGTERM for the commands that run processes (`start`, `resume`): the first asks the
//! processes to stop at a checkpoint and the command to exit saying how to go on; a second one
//! ends the command at once (what is committed is safe either way: a stop is never worse than a
//! crash).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use signal_hook::consts::{SIGINT, SIGTERM};

/// The stop signals, once installed.
pub struct StopSignals {
    requested: Arc<AtomicBool>,
    which: Arc<AtomicUsize>,
}

impl StopSignals {
    /// Installs the handlers. If the system refuses them, the signals keep their default effect
    /// (the command is killed, as by a crash) and a warning says so.
    pub fn install() -> StopSignals {
        let signals = StopSignals { requested: Arc::new(AtomicBool::new(false)), which: Arc::new(AtomicUsize::new(0)) };
        for signal in [SIGINT, SIGTERM] {
            // The order matters: the shutdown, which fires only once a stop was requested, is
            // checked before this signal requests one.
            let installed =
                signal_hook::flag::register_conditional_shutdown(signal, 128 + signal, signals.requested.clone())
                    .and_then(|_| signal_hook::flag::register_usize(signal, signals.which.clone(), signal as usize))
                    .and_then(|_| signal_hook::flag::register(signal, signals.requested.clone()));
            if let Err(error) = installed {
                crate::note!(
                    "chenilles-vm: warning: signal {signal} cannot be handled ({error}); it will kill the process"
                );
            }
        }
        signals
    }

    /// The flag a signal sets, for [`chenilles_durable::Options::stop`].
    pub fn flag(&self) -> Arc<AtomicBool> {
        self.requested.clone()
    }

    /// The signal received, if one was.
    pub fn received(&self) -> Option<i32> {
        if !self.requested.load(Ordering::Relaxed) {
            return None;
        }
        Some(self.which.load(Ordering::Relaxed) as i32)
    }
}

/// The usual name of `signal`.
pub fn name(signal: i32) -> String {
    match signal {
        SIGINT => "SIGINT".to_string(),
        SIGTERM => "SIGTERM".to_string(),
        other => format!("signal {other}"),
    }
}
