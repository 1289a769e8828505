//! Expansions to core forms, as snapshots: every `tests/expand/NAME.scm` is expanded by
//! `Compiler::expand` (what the REPL's `,expand` prints), and the source followed by its
//! expansion must match `snapshots/expand__NAME.snap` (`INSTA_UPDATE=always` rewrites them; read
//! the diff). The tests after it check what an expansion leaves of the session.

use std::path::Path;

mod common;

use chenilles_compiler::Compiler;

fn expansion_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("the case is readable");
    let mut compiler = Compiler::new();
    let name = format!("{}.scm", path.file_stem().and_then(|s| s.to_str()).unwrap_or("case"));
    let expanded = match compiler.expand(&name, &text) {
        Ok(expansion) => expansion.to_string(),
        Err(error) => compiler.render(&error),
    };
    format!("{text}\n;; expands to\n\n{expanded}")
}

#[test]
fn expansions_match_their_snapshots() {
    common::each_case_matches_its_snapshot("expand", expansion_of);
}

#[test]
fn macros_of_earlier_units_expand_and_an_expansion_defines_nothing() {
    let mut compiler = Compiler::new();
    compiler
        .compile_source("a.scm", "(define-syntax twice (syntax-rules () ((_ e) (begin e e))))")
        .expect("the macro compiles");
    let text = compiler.expand("b.scm", "(twice (display 1))").expect("it expands").to_string();
    // At the top level, a `begin` splices its forms into the sequence of forms.
    assert_eq!(text, "(display 1)\n(display 1)\n");
    let text = compiler.expand("b.scm", "(list (twice 1))").expect("it expands").to_string();
    assert_eq!(text, "(list (begin 1 1))\n");
    // A macro and a definition made in an expansion are forgotten afterwards.
    compiler
        .expand("c.scm", "(define-syntax thrice (syntax-rules () ((_ e) (begin e e e)))) (define z 1)")
        .expect("it expands");
    let text = compiler.expand("d.scm", "(thrice 1)").expect("it expands").to_string();
    assert_eq!(text, "(thrice 1)\n", "thrice is not a macro any more: a call");
    // `twice` is still a macro for the compiler, which still compiles.
    compiler.compile_source("e.scm", "(twice 2)").expect("it compiles");
}

#[test]
fn bad_input_is_an_error_never_a_panic() {
    let mut compiler = Compiler::new();
    for text in ["(let ((x 1)) x", "(if)", "(lambda (x x) x)", "()", "(define-syntax m 3)", "(let loop)", ")"] {
        let error = compiler.expand("bad.scm", text).expect_err(text);
        assert!(!compiler.render(&error).is_empty());
    }
}
