//! The parts of the `chenilles-vm` binary beyond `run` and the REPL.

pub mod durable;
