//! Diagnostics as a user meets them: the compiler's warnings (possibly unbound variables, wrong
//! argument counts) from `chenilles-scc check` and before `chenilles-vm run` and `start`, "did you
//! mean" at run time, values in error reports and `inspect` cut short, colour only on a terminal,
//! and no false warning on the repository's own programs.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{run, text, vm, write_program};

const TYPO: &str = "\
(define (count-items items)
  (lenght items))
(define (area width height) (* width height))
(display \"started\")
(newline)
(if (= (area 2 3) 6) (display \"ok\") (display (list (area 3) (count-items '()))))
";

/// `chenilles-scc ARGS` in `dir`, with no colour asked of it.
fn scc(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chenilles-scc"))
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .output()
        .expect("chenilles-scc starts")
}

/// `chenilles-vm ARGS` in `dir`, on a store there.
fn vm_in(dir: &Path, args: &[&str]) -> Output {
    run(vm(&dir.join("store.redb")).args(args).current_dir(dir))
}

#[test]
fn check_prints_warnings_rustc_style_and_exits_0() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_program(dir.path(), "typo.scm", TYPO);
    let out = scc(dir.path(), &["check", "typo.scm"]);
    assert_eq!(out.status.code(), Some(0), "warnings alone are no failure");
    assert_eq!(text(&out.stdout), "");
    let stderr = text(&out.stderr);
    assert!(!stderr.contains('\u{1b}'), "no colour when stderr is not a terminal: {stderr:?}");
    insta::assert_snapshot!(stderr);
}

/// What `chenilles-scc check typo.scm` writes on a terminal (a pseudo-terminal), with `env` set.
fn check_on_a_terminal(dir: &Path, env: &[(&str, &str)]) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_chenilles-scc"));
    command.args(["check", "typo.scm"]).current_dir(dir).env_remove("NO_COLOR").env("TERM", "xterm");
    for (name, value) in env {
        command.env(name, value);
    }
    let mut session = rexpect::session::spawn_command(command, Some(20_000)).expect("check starts in a terminal");
    session.exp_eof().expect("check ends")
}

#[test]
fn warnings_are_coloured_on_a_terminal_unless_no_color_is_set() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_program(dir.path(), "typo.scm", TYPO);
    let coloured = check_on_a_terminal(dir.path(), &[]);
    assert!(coloured.contains("\u{1b}["), "{coloured:?}");
    assert!(coloured.contains("possibly unbound variable `lenght`"), "{coloured:?}");
    let plain = check_on_a_terminal(dir.path(), &[("NO_COLOR", "1")]);
    assert!(!plain.contains('\u{1b}'), "{plain:?}");
    assert!(plain.contains("warning: possibly unbound variable `lenght`"), "{plain:?}");
}

#[test]
fn check_still_fails_on_an_error_after_warnings() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_program(dir.path(), "bad.scm", "(display lenght)\n(if)\n");
    let out = scc(dir.path(), &["check", "bad.scm"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("error: "), "{}", text(&out.stderr));
}

#[test]
fn run_and_start_print_the_warnings_then_run_the_program() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_program(dir.path(), "typo.scm", TYPO);
    let checked = text(&scc(dir.path(), &["check", "typo.scm"]).stderr);
    let ran = vm_in(dir.path(), &["run", "typo.scm"]);
    assert_eq!(ran.status.code(), Some(0), "{}", text(&ran.stderr));
    assert_eq!(text(&ran.stdout), "started\nok");
    assert_eq!(text(&ran.stderr), checked, "run warns as check does");
    let started = vm_in(dir.path(), &["start", "typo.scm"]);
    assert_eq!(started.status.code(), Some(0), "{}", text(&started.stderr));
    assert!(text(&started.stderr).starts_with(&checked), "{}", text(&started.stderr));
}

#[test]
fn an_unbound_variable_at_run_time_says_which_name_was_meant() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_program(dir.path(), "unbound.scm", "(display \"before\")\n(display (lenght '(1 2)))\n");
    let out = vm_in(dir.path(), &["run", "unbound.scm"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("error: unbound variable: lenght (did you mean `length`?)\n"), "{stderr}");
    // A name like no other gets no suggestion.
    write_program(dir.path(), "far.scm", "(display zqxwv-unheard-of)\n");
    let stderr = text(&vm_in(dir.path(), &["run", "far.scm"]).stderr);
    assert!(stderr.contains("error: unbound variable: zqxwv-unheard-of\n"), "{stderr}");
}

const HUGE_VECTOR: &str = "\
(define ledger (make-vector 200000 7))
(display \"checking\")
(newline)
(error \"not a ledger:\" ledger 'at (list 1 (list 2 (list 3 (list 4 (list 5 (list 6 (list 7 (list 8 (list 9 (list 10 (list 11 '()))))))))))))
";

#[test]
fn a_200000_element_vector_in_an_error_is_printed_cut_short() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_program(dir.path(), "huge.scm", HUGE_VECTOR);
    let out = vm_in(dir.path(), &["run", "huge.scm"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.len() < 1000, "the report is {} bytes", stderr.len());
    insta::assert_snapshot!(stderr);
    // A type error's irritant too.
    write_program(dir.path(), "car.scm", "(car (make-vector 200000 7))\n");
    let stderr = text(&vm_in(dir.path(), &["run", "car.scm"]).stderr);
    assert!(stderr.starts_with("error: car: not a pair: #(7 7 7 "), "{stderr}");
    assert!(stderr.contains(" 7 …)\n"), "{stderr}");
    assert!(stderr.len() < 1000, "the report is {} bytes", stderr.len());
}

#[test]
fn inspect_shows_huge_reports_results_and_messages_cut_short() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_program(dir.path(), "huge.scm", HUGE_VECTOR);
    assert_eq!(vm_in(dir.path(), &["start", "huge.scm"]).status.code(), Some(1));
    let inspected = vm_in(dir.path(), &["inspect", "huge"]);
    assert_eq!(inspected.status.code(), Some(0), "{}", text(&inspected.stderr));
    let listing = text(&inspected.stdout);
    assert!(listing.contains("error: not a ledger: #(7 7 7 "), "{listing}");
    assert!(listing.len() < 3000, "inspect printed {} bytes", listing.len());

    write_program(dir.path(), "value.scm", "(make-vector 200000 7)\n");
    assert_eq!(vm_in(dir.path(), &["start", "value.scm"]).status.code(), Some(0));
    let listing = text(&vm_in(dir.path(), &["inspect", "value"]).stdout);
    let result = listing.lines().find(|line| line.starts_with("result:")).unwrap_or_default();
    assert!(result.starts_with("result:       #(7 7 7 ") && result.ends_with('…'), "{result}");
    assert!(result.len() < 600, "{result}");

    // (One argument of a command line is at most 128 KiB.)
    let message = format!("(big {})", "7 ".repeat(50_000));
    write_program(dir.path(), "mailbox.scm", "(receive)\n");
    let started = vm_in(dir.path(), &["start", "--exit-when-waiting", "--name", "waiter", "mailbox.scm"]);
    assert_eq!(started.status.code(), Some(0), "{}", text(&started.stderr));
    let sent = vm_in(dir.path(), &["send", "waiter", &message]);
    assert_eq!(sent.status.code(), Some(0), "{}", text(&sent.stderr));
    let listing = text(&vm_in(dir.path(), &["inspect", "waiter"]).stdout);
    assert!(listing.len() < 3000, "inspect printed {} bytes: {}", listing.len(), &listing[..3000.min(listing.len())]);
}

/// The repository's programs that are meant to warn: each one's whole point is the error.
const MEANT_TO_WARN: &[&str] = &["tests/programs/chenilles/arity-error.scm"];

#[test]
fn the_repositorys_programs_get_no_false_warnings() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut programs = Vec::new();
    for dir in ["examples-scm", "stdlib-scm", "tests/durable", "tests/examples", "tests/programs"] {
        programs.extend(common::scheme_programs(&root.join(dir)));
    }
    assert!(programs.len() > 100, "found only {} programs", programs.len());
    let mut warned = Vec::new();
    for program in &programs {
        let relative = program.strip_prefix(&root).unwrap_or(program).display().to_string();
        let out = scc(&root, &["check", &relative]);
        let stderr = text(&out.stderr);
        if stderr.contains("warning: ") && !MEANT_TO_WARN.contains(&relative.as_str()) {
            warned.push(stderr);
        }
    }
    assert!(warned.is_empty(), "{} programs warned:\n{}", warned.len(), warned.concat());
}
