//! What the commands of `chenilles-vm` share: their common arguments, setting up a program,
//! reaching the store, driving processes, and how every command speaks: listings on stdout that
//! end quietly when their reader goes away, messages on stderr that never panic, exit codes that
//! never turn a failure into success.

pub mod args;
pub mod colour;
pub mod crash_on_purpose;
pub mod driving;
mod listing;
pub mod present;
pub mod program;
pub mod records;
pub mod replicas;
pub mod report;
pub mod signals;
pub mod store;
pub mod unlocking;

pub use listing::Listing;

/// Writes a line to stderr, ignoring a closed or full stderr (`eprintln!` would panic there: a
/// command whose stderr was closed must still do its work and give its exit code).
#[macro_export]
macro_rules! note {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// Writes text as it is to stderr, ignoring a closed stderr (see [`note!`]).
#[macro_export]
macro_rules! note_text {
    ($text:expr) => {{
        use std::io::Write as _;
        let _ = std::io::stderr().write_all(AsRef::<str>::as_ref(&$text).as_bytes());
    }};
}

/// The exit status for a program's `(exit CODE)`: the low byte, as a shell sees a C `exit` (so
/// `(exit -1)` is 255), except that a code that is not 0 never becomes success (256 is 255).
pub fn exit_status(code: i32) -> std::process::ExitCode {
    let byte = (code & 0xff) as u8;
    std::process::ExitCode::from(if byte == 0 && code != 0 { 255 } else { byte })
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_zero_exits_successfully() {
        use std::process::ExitCode;
        for (code, status) in
            [(0, 0u8), (1, 1), (255, 255), (-1, 255), (-2, 254), (256, 255), (257, 1), (i32::MIN, 255)]
        {
            assert_eq!(super::exit_status(code), ExitCode::from(status), "(exit {code})");
        }
    }
}
