//! The whole compiler on any text: an image that verifies, or a compile error that renders,
//! never a panic.
#![no_main]

use chenilles_compiler::Compiler;
use chenilles_compiler::bytecode::{Image, verify};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Some(text) = chenilles_fuzz::source(bytes) else { return };
    let mut compiler = Compiler::new();
    match compiler.compile_source("fuzz.scm", text) {
        Ok(image) => {
            if let Err(error) = verify(&image) {
                panic!("the compiler wrote an image the verifier refuses: {error}");
            }
            let again = Image::from_bytes(&image.to_bytes()).expect("an image reads back");
            assert_eq!(again, image);
        }
        Err(error) => {
            let _ = compiler.render(&error);
        }
    }
});
