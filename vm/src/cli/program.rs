//! Setting a machine up for the program a command names: its library path, limits, grants and
//! command line; reading or compiling it; reporting its errors.

use std::path::PathBuf;
use std::process::ExitCode;

use chenilles_compiler::bytecode::Image;
use chenilles_machine::{Machine, RunError};

use super::args::ProgramArgs;
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

/// Sets `machine` up for `program` (library path, limits, command line) and compiles or reads it.
/// Errors are printed; the exit code to use is returned.
pub fn prepare(machine: &mut Machine, args: ProgramArgs) -> Result<Image, ExitCode> {
    let limits = args.limits();
    let ProgramArgs { library_path: library_dirs, program, args, grant, .. } = args;
    machine.vm.rt.host.grants = grant;
    let program = program.as_path();
    let bytes = match std::fs::read(program) {
        Ok(bytes) => bytes,
        Err(error) => {
            note!("error: cannot read {}: {error}", program.display());
            return Err(ExitCode::FAILURE);
        }
    };
    machine.compiler.library_path = library_path(program, library_dirs);
    machine.vm.rt.limits = limits;
    machine.image_dirs = machine.compiler.library_path.clone();
    machine.vm.rt.command_line = std::iter::once(program.display().to_string()).chain(args).collect();
    let is_source = program.extension().is_some_and(|e| e == "scm") || !bytes.starts_with(b"\0CHNLIMG");
    if is_source {
        let Ok(text) = String::from_utf8(bytes) else {
            note!("error: {} is neither UTF-8 Scheme source nor a Chenilles image", program.display());
            return Err(ExitCode::FAILURE);
        };
        machine.compile(&program.display().to_string(), &text).map_err(report)
    } else {
        Image::from_bytes(&bytes).map_err(|error| {
            note!("error: {}: {error}", program.display());
            ExitCode::FAILURE
        })
    }
}

pub fn report(error: RunError) -> ExitCode {
    note_text!(error.report());
    ExitCode::FAILURE
}
