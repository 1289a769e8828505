//! Any text compiled and run, under limits and with no capabilities: the program ends, fails
//! with a Scheme error or is stopped by a limit; the VM never panics.
#![no_main]

use chenilles_machine::Machine;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Some(text) = chenilles_fuzz::source(bytes) else { return };
    let mut machine = Machine::with_output(Box::new(std::io::sink()));
    machine.vm.rt.err = Box::new(std::io::sink());
    machine.vm.rt.limits = chenilles_fuzz::LIMITS;
    if let Err(error) = machine.run_source("fuzz.scm", text) {
        let _ = error.report();
    }
});
