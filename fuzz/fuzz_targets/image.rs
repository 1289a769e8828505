//! Any bytes as an image file: refused with a clear error, or verified, loaded and run under
//! limits; never a panic.
#![no_main]

use chenilles_compiler::bytecode::{Image, verify};
use chenilles_machine::Machine;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(image) = Image::from_bytes(bytes) else { return };
    if verify(&image).is_err() {
        return;
    }
    let mut machine = Machine::with_output(Box::new(std::io::sink()));
    machine.vm.rt.err = Box::new(std::io::sink());
    machine.vm.rt.limits = chenilles_fuzz::LIMITS;
    if let Err(error) = machine.run_image(&image) {
        let _ = error.report();
    }
});
