//! The compiler's warnings, as snapshots: every `tests/warnings/NAME.scm` is compiled against a
//! small environment of standard procedures, and the warnings it gets, rendered as `chenilles-scc
//! check` prints them, must match `snapshots/warnings__NAME.snap` (`INSTA_UPDATE=always` rewrites
//! them; read the diff).

use std::path::Path;

mod common;

use chenilles_compiler::{Arity, Compiler, Environment};

/// What a process binds before the program, as far as these cases need it: the machine gives the
/// compiler the real table (`vm/tests/diagnostics.rs` checks the command lines with it).
fn environment() -> Environment {
    let mut environment = Environment::new();
    let procedures: &[(&str, usize, Option<usize>)] = &[
        ("car", 1, Some(1)),
        ("cdr", 1, Some(1)),
        ("cons", 2, Some(2)),
        ("list", 0, None),
        ("length", 1, Some(1)),
        ("display", 1, Some(2)),
        ("newline", 0, Some(1)),
        ("+", 0, None),
        ("-", 1, None),
        ("*", 0, None),
        ("=", 1, None),
        ("<", 1, None),
        ("append", 0, None),
        ("list->vector", 1, Some(1)),
        ("memv", 2, Some(2)),
        ("eqv?", 2, Some(2)),
        ("eval", 1, Some(2)),
        ("interaction-environment", 0, Some(0)),
    ];
    for (name, min, max) in procedures {
        environment.bind(name, Some(Arity { min: *min, max: *max }));
    }
    environment
}

fn warnings_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("the case is readable");
    let mut compiler = Compiler::new();
    compiler.environment = Some(environment());
    let name = format!("{}.scm", path.file_stem().and_then(|s| s.to_str()).unwrap_or("case"));
    if let Err(error) = compiler.compile_source(&name, &text) {
        return compiler.render(&error);
    }
    let rendered: Vec<String> = compiler.warnings.iter().map(|w| compiler.render_warning(w)).collect();
    if rendered.is_empty() { "(no warnings)\n".to_string() } else { rendered.concat() }
}

#[test]
fn warnings_match_their_snapshots() {
    common::each_case_matches_its_snapshot("warnings", warnings_of);
}

#[test]
fn no_environment_no_warnings() {
    let mut compiler = Compiler::new();
    compiler.compile_source("t.scm", "(lenght '(1 2))").expect("it compiles");
    assert!(compiler.warnings.is_empty());
}

#[test]
fn suggestions_need_a_close_name() {
    use chenilles_compiler::closest_name;
    let names = ["length", "list", "display", "vector-ref"];
    assert_eq!(closest_name("lenght", names), Some("length"));
    assert_eq!(closest_name("dispaly", names), Some("display"));
    assert_eq!(closest_name("vector-rf", names), Some("vector-ref"));
    assert_eq!(closest_name("zebra", names), None);
    // Too short to guess.
    assert_eq!(closest_name("ls", ["list", "l"]), None);
}
