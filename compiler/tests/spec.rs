//! `spec/` stays true: the instruction table in `spec/bytecode.md` is the one the code defines.
//! After changing the instruction set, run with `CHENILLES_BLESS=1` to rewrite the table, and review it.

use chenilles_compiler::bytecode::instructions::markdown_table;

const BEGIN: &str = "<!-- instruction table: generated from compiler/src/bytecode/instructions.rs -->\n";
const END: &str = "<!-- end of instruction table -->";

#[test]
fn the_spec_lists_every_instruction_as_the_code_defines_it() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/bytecode.md");
    let spec = std::fs::read_to_string(&path).expect("spec/bytecode.md exists");
    let start = spec.find(BEGIN).expect("the spec marks where the table begins") + BEGIN.len();
    let end = spec[start..].find(END).expect("the spec marks where the table ends") + start;
    let table = markdown_table();
    if std::env::var_os("CHENILLES_BLESS").is_some() {
        std::fs::write(&path, format!("{}{table}{}", &spec[..start], &spec[end..])).expect("spec is writable");
        return;
    }
    assert_eq!(spec[start..end], table, "spec/bytecode.md is stale: rerun with CHENILLES_BLESS=1");
}
