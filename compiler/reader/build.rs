//! Build script: generates the parser from `src/grammar.lalrpop` into `OUT_DIR`.

fn main() {
    println!("cargo:rerun-if-changed=src/grammar.lalrpop");
    lalrpop::process_src().expect("generating the parser from src/grammar.lalrpop");
}
