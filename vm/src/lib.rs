//! The Chenilles VM's durable layer: processes whose every continuation is checkpointed into a
//! content-addressed store ([`durable`], [`snapshot`]), their mailboxes ([`mailbox`]), the
//! determinism check ([`replay`]), and the embedding API that runs many of them ([`host`]). The
//! language machine is `chenilles-machine`; its modules are re-exported here under their names.
//!
//! ```
//! use chenilles_vm::{Machine, Outcome};
//!
//! let mut machine = Machine::with_output(Box::new(std::io::stdout()));
//! let outcome = machine.run_source("hello.scm", "(display (* 6 7)) (newline)");
//! assert_eq!(outcome.ok(), Some(Outcome::Finished));
//! ```

pub mod durable;
pub mod host;
pub mod mailbox;
pub mod replay;
pub mod snapshot;

pub use chenilles_machine::{
    BacktraceEntry, Datum, LoadError, Machine, Outcome, RunError, Runtime, Trap, Value, Vm, render_backtrace,
};
pub use chenilles_machine::{
    capabilities, effects, hash_table, heap, interp, loader, messaging, natives, numbers, ports, printer, process_name,
    runtime, scheme_string, symbols, throw, value,
};
