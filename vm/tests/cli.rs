//! The `chenilles-vm` command line as a user meets it: exit codes, what goes to stdout and stderr, and
//! the exact text of diagnostics and backtraces (insta snapshots). Fixtures live in `tests/cli/`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::text;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/cli")
}

/// Runs `chenilles-vm` in the fixtures folder, so paths in messages are short and stable.
fn vm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chenilles-vm"))
        .args(args)
        .current_dir(fixtures())
        .output()
        .expect("chenilles-vm starts")
}

#[test]
fn a_syntax_error_names_file_line_and_column_and_shows_the_line() {
    let out = vm(&["run", "syntax-error.scm"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "");
    insta::assert_snapshot!(text(&out.stderr));
}

#[test]
fn a_malformed_special_form_is_a_compile_error_with_position() {
    let out = vm(&["run", "bad-special-form.scm"]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(text(&out.stderr));
}

#[test]
fn an_uncaught_runtime_error_prints_message_irritants_and_a_scheme_backtrace() {
    let out = vm(&["run", "runtime-error.scm"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "before\n", "output before the error is flushed");
    insta::assert_snapshot!(text(&out.stderr));
}

#[test]
fn unbound_variables_wrong_arity_and_division_by_zero_are_reported() {
    for (file, expected) in [
        ("unbound.scm", "error: unbound variable: undefined-thing"),
        ("arity.scm", "error: two: wrong number of arguments: expected 2 arguments, got 3"),
        ("divide-by-zero.scm", "error: quotient: division by zero: 10 0"),
        ("fused-error.scm", "error: <: not a number: x\nbacktrace (innermost first):\n  fused-error.scm:4:7: in down"),
        (
            "fused-arith-error.scm",
            "error: -: not a number: x\nbacktrace (innermost first):\n  fused-arith-error.scm:4:3: in down",
        ),
        (
            "record-accessor-error.scm",
            "error: point-x: not a record of type point: oops\nbacktrace (innermost first):\n  \
             record-accessor-error.scm:5:24: in get-x\n",
        ),
    ] {
        let out = vm(&["run", file]);
        assert_eq!(out.status.code(), Some(1), "{file}");
        let stderr = text(&out.stderr);
        // Warnings (a possibly unbound variable, a wrong argument count) may come before the error.
        assert!(stderr.contains(expected), "{file}: {stderr}");
        assert!(stderr.contains(&format!("{file}:")), "{file}: the backtrace names the file: {stderr}");
    }
}

#[test]
fn program_arguments_and_exit_codes_pass_through() {
    let out = vm(&["run", "args.scm", "alpha", "--beta"]);
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(text(&out.stdout), "(\"alpha\" \"--beta\")\n");
}

#[test]
fn a_missing_program_is_a_clear_error() {
    let out = vm(&["run", "no-such-file.scm"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).starts_with("error: cannot read no-such-file.scm"));
}

#[test]
fn every_command_has_help() {
    for args in [&["--help"][..], &["run", "--help"], &["repl", "--help"]] {
        let out = vm(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(text(&out.stdout).contains("Usage"), "{args:?}");
    }
}

#[test]
fn the_repl_evaluates_entries_that_span_lines_and_keeps_definitions() {
    use std::io::Write;
    // The REPL keeps its history in HOME: a directory of this test's own.
    let home = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_chenilles-vm"))
        .arg("repl")
        .env("HOME", home.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("chenilles-vm starts");
    let mut stdin = child.stdin.take().expect("piped stdin");
    stdin
        .write_all(b"(define (square x)\n  (* x x))\n(square 12)\n(car '())\n(list 'still 'alive)\n")
        .expect("the REPL reads its input");
    drop(stdin);
    let out = child.wait_with_output().expect("the REPL ends at end of input");
    let stdout = text(&out.stdout);
    assert!(stdout.contains("144"), "{stdout}");
    assert!(stdout.contains("(still alive)"), "{stdout}");
    assert!(text(&out.stderr).contains("car: not a pair: ()"));
}

#[test]
fn hostile_programs_are_stopped_by_their_limits_and_cannot_catch_it() {
    for (args, expected) in [
        (&["run", "--max-steps", "1000000", "spin.scm"][..], "error: step limit exceeded"),
        (&["run", "--max-heap", "64M", "memory-bomb.scm"][..], "error: heap limit exceeded"),
        (&["run", "--max-heap", "64M", "loop-memory-bomb.scm"][..], "error: heap limit exceeded"),
        (&["run", "--max-heap", "16M", "symbol-bomb.scm"][..], "error: heap limit exceeded"),
        (&["run", "--max-heap", "64M", "print-bomb.scm"][..], "error: heap limit exceeded"),
        (&["run", "--max-depth", "100000", "recursion-bomb.scm"][..], "error: depth limit exceeded"),
        (&["run", "--max-steps", "1000000", "bignum-bomb.scm"][..], "error: step limit exceeded"),
        (&["run", "--max-heap", "64M", "power-bomb.scm"][..], "error: heap limit exceeded"),
    ] {
        let out = vm(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let stderr = text(&out.stderr);
        assert!(stderr.starts_with(expected), "{args:?}: {stderr}");
        assert!(!text(&out.stdout).contains("caught"), "a guard must not catch a limit");
    }
}

#[test]
fn a_bad_size_is_a_usage_error() {
    let out = vm(&["run", "--max-heap", "12Q", "spin.scm"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("`12Q` is not a size"), "{}", text(&out.stderr));
}

#[test]
fn a_checkpoint_share_outside_1_to_100_is_a_usage_error() {
    for share in ["0", "101", "ten"] {
        let out = vm(&["start", "--checkpoint-share", share, "spin.scm"]);
        assert_eq!(out.status.code(), Some(2), "--checkpoint-share {share}");
        assert!(text(&out.stderr).contains("--checkpoint-share"), "{}", text(&out.stderr));
    }
}

#[test]
fn an_unknown_capability_is_a_usage_error_naming_the_known_ones() {
    let out = vm(&["run", "--grant", "files,network", "spin.scm"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown capability `network`: the capabilities are files, environment"));
}

#[test]
fn a_granted_capability_opens_its_door_and_only_that_one() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let program = dir.path().join("doors.scm");
    let program_text = "(import (scheme base) (scheme write) (scheme file) (scheme process-context))\n\
         (display (file-exists? (car (command-line))))\n\
         (display (guard (e (#t 'refused)) (get-environment-variable \"HOME\")))\n";
    std::fs::write(&program, program_text).expect("the program is written");
    let program = program.to_str().expect("a UTF-8 path");
    let out = vm(&["run", "--grant", "files", program]);
    assert_eq!(text(&out.stdout), "#trefused", "{}", text(&out.stderr));
    let out = vm(&["run", program]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("file-exists?: capability files was not granted to this process"));
}

/// Runs `chenilles-vm` in the fixtures folder with `input` on its standard input.
fn vm_with_input(args: &[&str], input: &[u8]) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_chenilles-vm"))
        .args(args)
        .current_dir(fixtures())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("chenilles-vm starts");
    child.stdin.take().expect("piped stdin").write_all(input).expect("chenilles-vm reads its input");
    child.wait_with_output().expect("chenilles-vm ends")
}

#[test]
fn run_evaluates_e_and_p_expressions_in_the_order_given_in_one_machine() {
    let out = vm(&[
        "run",
        "-p",
        "(+ 1 2)",
        "-e",
        "(define x 6)",
        "-p",
        "(* x 7)",
        "--print",
        "'(a \"b\")",
        "-e",
        "(display 'end)",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "3\n42\n(a \"b\")\nend");
    let out = vm(&["run", "-e", "(exit 4)", "-p", "'never"]);
    assert_eq!((out.status.code(), text(&out.stdout)), (Some(4), String::new()));
    let out = vm(&["run", "-p", "(car '())"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).starts_with("error: car: not a pair"), "{}", text(&out.stderr));
}

#[test]
fn run_dash_reads_the_program_from_standard_input() {
    let out = vm_with_input(&["run", "-", "x", "y"], b"(write (command-line)) (exit 3)");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "(\"-\" \"x\" \"y\")");
    let out = vm_with_input(&["run", "-"], b"(display \"unclosed");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("<stdin>"), "{}", text(&out.stderr));
}

#[test]
fn a_script_runs_by_its_file_name_and_through_a_shebang_line() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let script = dir.path().join("greet");
    std::fs::write(&script, "#!/usr/bin/env chenilles-vm\n(display (cadr (command-line)))\n").expect("write script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let out = vm(&[script.to_str().expect("utf-8 path"), "there"]);
    assert_eq!((out.status.code(), text(&out.stdout)), (Some(0), "there".to_string()), "{}", text(&out.stderr));
    let bin = Path::new(env!("CARGO_BIN_EXE_chenilles-vm")).parent().expect("bin dir");
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let out = Command::new(&script).arg("shebang").env("PATH", path).output().expect("the script runs");
    assert_eq!((out.status.code(), text(&out.stdout)), (Some(0), "shebang".to_string()), "{}", text(&out.stderr));
    // A misspelled subcommand is still one, with clap's suggestion, not a missing file.
    let out = vm(&["stat"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("'start'"), "{}", text(&out.stderr));
}

#[test]
fn a_missing_capability_says_which_flag_grants_it() {
    let out = vm(&["run", "-e", "(open-input-file \"args.scm\")"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.ends_with("hint: run again with --grant files\n"), "{stderr}");
    let out = vm(&["run", "--grant", "files", "-e", "(open-input-file \"args.scm\")"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn completion_scripts_name_every_subcommand() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = vm(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", text(&out.stderr));
        let script = text(&out.stdout);
        for command in ["run", "start", "resume", "send", "inspect", "verify", "repl"] {
            assert!(script.contains(command), "{shell} completions lack {command}");
        }
    }
    assert_eq!(vm(&["completions", "tcsh"]).status.code(), Some(2));
}

#[test]
fn help_texts() {
    let subcommands = [
        "run",
        "start",
        "resume",
        "send",
        "cancel",
        "rm",
        "ps",
        "output",
        "inspect",
        "gc",
        "verify",
        "repl",
        "completions",
        "store",
        "store init",
        "store add-key",
        "store rotate",
        "store recipient",
        "export",
        "import",
        "serve",
        "node",
        "node id",
        "peer",
        "peer add",
        "replica",
        "replica add",
        "replica check",
        "restore",
    ];
    // Help is wrapped to the terminal (COLUMNS) and shows CHENILLES_STORE's value: fix both.
    let help = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_chenilles-vm"))
            .args(args)
            .env("COLUMNS", "100")
            .env_remove("CHENILLES_STORE")
            .output()
            .expect("chenilles-vm starts")
    };
    let mut all = text(&help(&["--help"]).stdout);
    for command in subcommands {
        let mut args: Vec<&str> = command.split(' ').collect();
        args.push("--help");
        let out = help(&args);
        assert_eq!(out.status.code(), Some(0), "{command}");
        all.push_str(&format!("\n===== chenilles-vm {command} --help\n{}", text(&out.stdout)));
    }
    insta::assert_snapshot!(all);
}
