//! `chenilles-vm repl`: read, evaluate, print, with line editing and history.

use std::path::PathBuf;
use std::process::ExitCode;

use chenilles_machine::printer::Style;
use chenilles_machine::{Machine, Value};

use crate::cli::exit_status;
use crate::{note, note_text};

pub fn execute() -> ExitCode {
    let mut editor = match rustyline::DefaultEditor::new() {
        Ok(editor) => editor,
        Err(error) => {
            note!("error: cannot start the line editor: {error}");
            return ExitCode::FAILURE;
        }
    };
    let history = std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".chenilles_history"));
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    let mut machine = Machine::new();
    // The person typing is the program's author: the REPL grants every capability.
    machine.vm.rt.host.grants =
        chenilles_machine::capabilities::SYSTEM_CAPABILITIES.iter().map(|(name, _)| name.to_string()).collect();
    let mut pending = String::new();
    let mut entry = 0;
    println!("Chenilles Scheme {} — Ctrl-D to leave", env!("CARGO_PKG_VERSION"));
    loop {
        let prompt = if pending.is_empty() { "> " } else { "… " };
        let line = match editor.readline(prompt) {
            Ok(line) => line,
            Err(rustyline::error::ReadlineError::Interrupted) => {
                pending.clear();
                continue;
            }
            Err(_) => break,
        };
        pending.push_str(&line);
        pending.push('\n');
        entry += 1;
        let name = format!("repl-{entry}");
        let image = match machine.compiler.compile_source(&name, &pending) {
            Ok(image) => image,
            Err(error) if error.incomplete => continue,
            Err(error) => {
                note_text!(machine.compiler.render(&error));
                let _ = editor.add_history_entry(pending.trim_end());
                pending.clear();
                continue;
            }
        };
        let _ = editor.add_history_entry(pending.trim_end());
        pending.clear();
        match machine.eval_image(&image) {
            Ok(Ok(value)) => {
                if value != Value::UNSPECIFIED {
                    println!("{}", chenilles_machine::printer::to_text(&machine.vm.rt, value, Style::Write));
                }
            }
            Ok(Err(code)) => return exit_status(code),
            Err(error) => note_text!(error.report()),
        }
    }
    if let Some(path) = &history {
        let _ = editor.save_history(path);
    }
    ExitCode::SUCCESS
}
