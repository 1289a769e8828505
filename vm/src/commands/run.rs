//! `chenilles-vm run`: a program in memory, with no store.

use std::process::ExitCode;

use chenilles_machine::{Machine, Outcome};

use crate::cli::args::ProgramArgs;
use crate::cli::exit_status;
use crate::cli::program::{prepare, report};

#[derive(clap::Args)]
pub struct Run {
    #[command(flatten)]
    program: ProgramArgs,
}

impl Run {
    pub fn execute(self) -> ExitCode {
        let mut machine = Machine::new();
        let image = match prepare(&mut machine, self.program) {
            Ok(image) => image,
            Err(code) => return code,
        };
        match machine.run_image(&image) {
            Ok(Outcome::Finished) => ExitCode::SUCCESS,
            Ok(Outcome::Exited(code)) => exit_status(code),
            Err(error) => report(error),
        }
    }
}
