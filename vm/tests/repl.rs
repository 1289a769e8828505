//! The REPL as a person at a terminal meets it, through a pseudo-terminal: interrupting a loop
//! with Ctrl-C, completing a name with Tab, entries over several lines, meta-commands (among them
//! `,describe` and `,expand`), output left without a newline, the history file, and leaving with
//! a second Ctrl-C.

use std::process::Command;

use rexpect::session::{PtySession, spawn_command};

/// What the line editor writes when it starts reading a new entry (it turns bracketed paste on):
/// the REPL is at its prompt again. A person waits for the prompt before typing; so do the tests.
const READY: &str = "\u{1b}[?2004h";

/// A REPL whose history goes to `state` (XDG_STATE_HOME), waiting at its first prompt.
fn repl(state: &std::path::Path, args: &[&str]) -> PtySession {
    let mut command = Command::new(env!("CARGO_BIN_EXE_chenilles-vm"));
    command.arg("repl").args(args).env("XDG_STATE_HOME", state).env("HOME", state).env("TERM", "xterm");
    let mut session = spawn_command(command, Some(20_000)).expect("the REPL starts in a pseudo-terminal");
    session.exp_string(READY).expect("the first prompt");
    session
}

/// Types `text` and Enter (a carriage return, as a terminal sends it), and returns what the REPL
/// wrote until its next prompt.
fn entry(session: &mut PtySession, text: &str) -> String {
    type_line(session, text);
    session.exp_string(READY).expect("the REPL comes back to its prompt")
}

/// Types `text` and Enter, without waiting for a prompt (a line of an entry that goes on).
fn type_line(session: &mut PtySession, text: &str) {
    session.send(text).expect("typing");
    session.send("\r").expect("Enter");
    session.flush().expect("flush");
}

#[test]
fn ctrl_c_interrupts_a_loop_and_the_repl_goes_on_with_its_definitions() {
    let state = tempfile::tempdir().expect("temp dir");
    let mut session = repl(state.path(), &[]);
    entry(&mut session, "(define total 41)");
    entry(&mut session, "(define (spin n) (spin (+ n 1)))");
    type_line(&mut session, "(spin 0)");
    std::thread::sleep(std::time::Duration::from_millis(500));
    session.send_control('c').expect("Ctrl-C");
    let shown = session.exp_string(READY).expect("back at the prompt");
    assert!(shown.contains("interrupted") && shown.contains("in spin"), "{shown:?}");
    assert!(entry(&mut session, "(+ total 1)").contains("42"), "the definitions survive the interrupt");
    // Two Ctrl-C at an empty prompt leave.
    session.send_control('c').expect("Ctrl-C");
    let shown = session.exp_string(READY).expect("the prompt again");
    assert!(shown.contains("Ctrl-C again"), "the first one says how to leave: {shown:?}");
    session.send_control('c').expect("Ctrl-C");
    session.exp_eof().expect("the second one leaves");
    let history = std::fs::read_to_string(state.path().join("chenilles/repl_history")).expect("history saved");
    assert!(history.contains("(spin 0)") && history.contains("(+ total 1)"), "{history}");
}

#[test]
fn tab_completes_bound_names_and_entries_span_lines() {
    let state = tempfile::tempdir().expect("temp dir");
    let mut session = repl(state.path(), &[]);
    entry(&mut session, "(define frobnicate-widgets 5)");
    session.send("(* 2 frobni\t").expect("typing and Tab");
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(entry(&mut session, ")").contains("\r\n10\r\n"), "the completed name is evaluated");
    // An open list goes on on the next line.
    type_line(&mut session, "(list 1");
    assert!(entry(&mut session, "2)").contains("(1 2)"), "the entry spans two lines");
    type_line(&mut session, ",quit");
    session.exp_eof().expect(",quit leaves");
}

#[test]
fn meta_commands_and_output_without_a_newline() {
    let state = tempfile::tempdir().expect("temp dir");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("defs.scm");
    std::fs::write(&file, "(define (triple x) (* 3 x))").expect("write");
    let mut session = repl(state.path(), &[]);
    let help = entry(&mut session, ",help");
    for command in [",disassemble EXPR", ",describe EXPR", ",expand EXPR"] {
        assert!(help.contains(command), "the meta-commands are listed: {help:?}");
    }
    assert!(entry(&mut session, ",time (triple-less 1)").contains("unbound variable"));
    entry(&mut session, &format!(",load {}", file.display()));
    let shown = entry(&mut session, ",time (triple 14)");
    assert!(shown.contains("42") && shown.contains(" s, ") && shown.contains(" steps"), "{shown:?}");
    assert!(entry(&mut session, ",disassemble (lambda (x) (car x))").contains("entry function"));
    let shown = entry(&mut session, "(display \"no newline\")");
    assert!(shown.contains("no newline\r\n"), "the prompt comes on a line of its own: {shown:?}");
    assert!(entry(&mut session, ",frob").contains("unknown meta-command ,frob"));
    type_line(&mut session, "(exit 3)");
    session.exp_eof().expect("exit leaves");
}

#[test]
fn describe_says_what_a_value_is() {
    let state = tempfile::tempdir().expect("temp dir");
    let mut session = repl(state.path(), &[]);
    let shown = entry(&mut session, ",describe car");
    assert!(shown.contains("type: procedure\r\n  name: car\r\n  arity: 1 argument\r\n"), "{shown:?}");
    entry(&mut session, "(define (pick a #!optional b . more) (if (default-object? b) a b))");
    let shown = entry(&mut session, ",describe pick");
    assert!(shown.contains("name: pick\r\n  arity: 1 required, 1 optional, a rest list\r\n"), "{shown:?}");
    assert!(shown.contains("defined at: repl-2:1\r\n"), "where it is defined: {shown:?}");
    entry(&mut session, "(define-record-type point (make-point x y) point? (x point-x) (y point-y))");
    let shown = entry(&mut session, ",d (make-point 1 (list 2 3))");
    assert!(
        shown.contains("type: record\r\n  record type: point\r\n  field x: 1\r\n  field y: (2 3)\r\n"),
        "{shown:?}"
    );
    let shown = entry(&mut session, ",d (make-vector 50 0)");
    // Shown bounded: 16 elements, then an ellipsis (which the pseudo-terminal's reader gives as bytes).
    let sixteen = format!("#({}", "0 ".repeat(16));
    assert!(shown.contains(&sixteen) && !shown.contains(&format!("{sixteen}0")), "{shown:?}");
    assert!(shown.contains("type: vector\r\n  length: 50\r\n"), "{shown:?}");
    // Bad input is reported, and the REPL goes on.
    assert!(entry(&mut session, ",describe (car '())").contains("car: not a pair"));
    assert!(entry(&mut session, ",describe (car").contains("error"));
    assert!(entry(&mut session, ",describe").contains("needs an expression"));
    assert!(entry(&mut session, "(point-x (make-point 41 0))").contains("41"), "the REPL goes on");
    type_line(&mut session, ",quit");
    session.exp_eof().expect(",quit leaves");
}

#[test]
fn expand_shows_core_forms_with_the_session_s_macros() {
    let state = tempfile::tempdir().expect("temp dir");
    let mut session = repl(state.path(), &[]);
    entry(&mut session, "(define-syntax swap! (syntax-rules () ((_ a b) (let ((tmp a)) (set! a b) (set! b tmp)))))");
    let shown = entry(&mut session, ",expand (swap! p q)");
    assert!(shown.contains("(let ((tmp p)) (set! p q) (set! q tmp))\r\n"), "{shown:?}");
    // Hygiene: the macro's `tmp` is not the user's.
    let shown = entry(&mut session, ",exp (let ((tmp 1)) (swap! tmp q))");
    assert!(shown.contains("(let ((tmp 1)) (let ((tmp.1 tmp)) (set! tmp q) (set! q tmp.1)))"), "{shown:?}");
    assert!(entry(&mut session, ",expand (unless #f 1)").contains("(if #f #f (begin 1))"));
    // Expanding defines nothing.
    entry(&mut session, ",expand (define never-defined 1)");
    assert!(entry(&mut session, "never-defined").contains("unbound variable"));
    // Bad input is reported, and the REPL goes on.
    assert!(entry(&mut session, ",expand (let ((x 1)) x").contains("error"));
    assert!(entry(&mut session, ",expand (if)").contains("bad `if` syntax"));
    assert!(entry(&mut session, ",expand").contains("needs an expression"));
    assert!(entry(&mut session, "(let ((p 1) (q 2)) (swap! p q) (list p q))").contains("(2 1)"));
    type_line(&mut session, ",quit");
    session.exp_eof().expect(",quit leaves");
}

#[test]
fn grants_and_the_library_path_are_given_as_run_takes_them() {
    let state = tempfile::tempdir().expect("temp dir");
    let libs = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(libs.path().join("my")).expect("mkdir");
    std::fs::write(
        libs.path().join("my/lib.sld"),
        "(define-library (my lib) (export seven) (import (scheme base)) (begin (define seven 7)))",
    )
    .expect("write");
    let lib_dir = libs.path().to_str().expect("utf-8 path");
    let mut session = repl(state.path(), &["-L", lib_dir]);
    entry(&mut session, "(import (my lib))");
    assert!(entry(&mut session, "(* seven 6)").contains("42"), "the library is found on -L");
    assert!(entry(&mut session, "(file-exists? \"/\")").contains("--grant files"), "nothing granted by default");
    type_line(&mut session, ",q");
    session.exp_eof().expect("leaves");
    let mut session = repl(state.path(), &["--grant", "files"]);
    assert!(entry(&mut session, "(file-exists? \"/\")").contains("#t"), "granted");
    type_line(&mut session, ",q");
    session.exp_eof().expect("leaves");
}

#[test]
fn max_steps_bounds_each_entry_not_the_session() {
    let state = tempfile::tempdir().expect("temp dir");
    let mut session = repl(state.path(), &["--max-steps", "300000"]);
    entry(&mut session, "(define (count n) (if (> n 0) (count (- n 1)) 'done))");
    // Each entry takes about 200,000 steps: together they pass the limit, each alone does not.
    for _ in 0..3 {
        let out = entry(&mut session, "(count 200000)");
        assert!(out.contains("done") && !out.contains("limit"), "{out:?}");
    }
    let over = entry(&mut session, "(count 400000)");
    assert!(over.contains("step limit exceeded"), "{over:?}");
    let after = entry(&mut session, "(count 10)");
    assert!(after.contains("done"), "the REPL goes on: {after:?}");
}
