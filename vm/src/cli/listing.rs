//! A command's listing on stdout (`ps`, `inspect`, `verify`, `gc`, `output`): when its reader goes
//! away (`chenilles-vm ps | head -1`), the listing stops quietly and the command ends with the
//! exit code its work earned; it never panics on a closed pipe.

use std::io::{ErrorKind, StdoutLock, Write};
use std::process::ExitCode;

pub struct Listing {
    out: StdoutLock<'static>,
    /// Set once a write has failed: nothing more is written.
    stopped: bool,
    /// A write failure other than a reader gone away (a full disk, say): the command fails.
    failed: bool,
}

impl Default for Listing {
    fn default() -> Listing {
        Listing { out: std::io::stdout().lock(), stopped: false, failed: false }
    }
}

impl Listing {
    /// Writes `text` as it is.
    pub fn write(&mut self, text: &[u8]) {
        if self.stopped {
            return;
        }
        if let Err(error) = self.out.write_all(text) {
            self.stop(error);
        }
    }

    /// Writes formatted text and a newline (the [`say!`] macro).
    pub fn line(&mut self, args: std::fmt::Arguments<'_>) {
        if self.stopped {
            return;
        }
        if let Err(error) = self.out.write_fmt(args).and_then(|()| self.out.write_all(b"\n")) {
            self.stop(error);
        }
    }

    /// Whether the listing still writes (its reader has not gone away).
    pub fn is_open(&self) -> bool {
        !self.stopped
    }

    /// Flushes what was written so far (a listing that goes on, as `output --follow`).
    pub fn flush(&mut self) {
        if !self.stopped
            && let Err(error) = self.out.flush()
        {
            self.stop(error);
        }
    }

    fn stop(&mut self, error: std::io::Error) {
        self.stopped = true;
        if error.kind() != ErrorKind::BrokenPipe {
            self.failed = true;
            crate::note!("error: cannot write to standard output: {error}");
        }
    }

    /// Flushes the listing; `code` is what the command's work earned, unless the output could
    /// not be written for another reason than a reader gone away.
    pub fn finish(mut self, code: ExitCode) -> ExitCode {
        if !self.stopped
            && let Err(error) = self.out.flush()
        {
            self.stop(error);
        }
        if self.failed { ExitCode::FAILURE } else { code }
    }
}

/// `say!(listing, "format", args…)`: one line of a [`Listing`].
#[macro_export]
macro_rules! say {
    ($listing:expr, $($arg:tt)*) => {
        $listing.line(format_args!($($arg)*))
    };
}
