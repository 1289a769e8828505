//! The reader on any text: a list of data or a read error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Some(text) = chenilles_fuzz::source(bytes)
        && let Ok(data) = chenilles_reader::read_all(text, 0)
    {
        // What was read prints, reads back, and prints the same again.
        let printed: Vec<String> = data.iter().map(|d| d.to_string()).collect();
        let again = chenilles_reader::read_all(&printed.join("\n"), 0)
            .unwrap_or_else(|e| panic!("printed data does not read back: {e:?}\n{printed:?}"));
        let reprinted: Vec<String> = again.iter().map(|d| d.to_string()).collect();
        assert_eq!(printed, reprinted);
    }
});
