//! Shared set-up for the criterion benchmarks in `benches/benches/`: machines whose output is
//! discarded, so that what is measured is compilation and execution, not the terminal.

use chenilles_machine::Machine;

/// A machine that throws its output away.
pub fn quiet_machine() -> Machine {
    Machine::with_output(Box::new(std::io::sink()))
}
