//! Setting a machine up for the program a command names: its library path, limits, grants and
//! command line; reading or compiling it; reporting its warnings and errors.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chenilles_compiler::bytecode::Image;
use chenilles_machine::{Machine, RunError};

use super::args::{MachineArgs, ProgramArgs};
use crate::{note, note_text};

/// The library path: `-L` directories, then CHENILLES_LIBRARY_PATH, then the program's directory.
pub fn library_path(program: &std::path::Path, mut dirs: Vec<PathBuf>) -> Vec<PathBuf> {
    if let Some(paths) = std::env::var_os("CHENILLES_LIBRARY_PATH") {
        dirs.extend(std::env::split_paths(&paths));
    }
    dirs.push(program.parent().map_or_else(
        || PathBuf::from("."),
        |p| {
            if p.as_os_str().is_empty() { PathBuf::from(".") } else { p.to_path_buf() }
        },
    ));
    dirs
}

/// Whether `program` names standard input (`-`).
pub fn is_stdin(program: &Path) -> bool {
    program.as_os_str() == "-"
}

/// Sets `machine` up as `args` ask (library path around `program`'s directory, limits, grants)
/// for a program whose command line is `command_line`.
pub fn set_up(machine: &mut Machine, args: MachineArgs, program: &Path, command_line: Vec<String>) {
    let limits = args.limits();
    let MachineArgs { library_path: library_dirs, grant, .. } = args;
    machine.vm.rt.host.grants = grant;
    let directory_of = if is_stdin(program) { Path::new("./-") } else { program };
    machine.compiler.library_path = library_path(directory_of, library_dirs);
    machine.vm.rt.limits = limits;
    machine.image_dirs = machine.compiler.library_path.clone();
    machine.vm.rt.command_line = command_line;
}

/// Sets `machine` up for the program `args` name (see [`set_up`]) and compiles or reads it.
/// Errors are printed; the exit code to use is returned.
pub fn prepare(machine: &mut Machine, args: ProgramArgs) -> Result<Image, ExitCode> {
    let ProgramArgs { machine: machine_args, program, args } = args;
    let program = program.as_path();
    let read = if is_stdin(program) {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes).map(|_| bytes)
    } else {
        std::fs::read(program)
    };
    let bytes = match read {
        Ok(bytes) => bytes,
        Err(error) => {
            note!("error: cannot read {}: {error}", program_name(program));
            return Err(ExitCode::FAILURE);
        }
    };
    let command_line = std::iter::once(program.display().to_string()).chain(args).collect();
    set_up(machine, machine_args, program, command_line);
    let is_source = program.extension().is_some_and(|e| e == "scm") || !bytes.starts_with(b"\0CHNLIMG");
    if is_source {
        let Ok(text) = String::from_utf8(bytes) else {
            note!("error: {} is neither UTF-8 Scheme source nor a Chenilles image", program_name(program));
            return Err(ExitCode::FAILURE);
        };
        machine.compiler.files.set_colour(super::colour::stderr_wants_colour());
        let image = machine.compile(&program_name(program), &text).map_err(report)?;
        super::colour::print_warnings(&machine.compiler);
        Ok(image)
    } else {
        Image::from_bytes(&bytes).map_err(|error| {
            note!("error: {}: {error}", program_name(program));
            ExitCode::FAILURE
        })
    }
}

/// How messages name `program`: its path, or `<stdin>`.
pub fn program_name(program: &Path) -> String {
    if is_stdin(program) { "<stdin>".to_string() } else { program.display().to_string() }
}

/// Prints `error`'s report, with the flag to use when the program lacked a capability.
pub fn report(error: RunError) -> ExitCode {
    let mut text = error.report();
    if let RunError::Uncaught { message, .. } = &error
        && let Some(capability) = chenilles_machine::capabilities::missing_capability(message)
    {
        text.push_str(&format!("hint: run again with --grant {capability}\n"));
    }
    note_text!(text);
    ExitCode::FAILURE
}
