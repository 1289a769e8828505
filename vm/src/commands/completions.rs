//! `chenilles-vm completions SHELL`: a completion script for bash, zsh, fish, elvish or PowerShell,
//! generated from the same definitions as the parser, so it never lags behind the commands.

use std::process::ExitCode;

use crate::cli::Listing;

#[derive(clap::Args)]
pub struct Completions {
    /// The shell to complete for.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

impl Completions {
    pub fn execute(self, mut command: clap::Command) -> ExitCode {
        let mut script = Vec::new();
        clap_complete::generate(self.shell, &mut command, "chenilles-vm", &mut script);
        let mut listing = Listing::default();
        listing.write(&script);
        listing.finish(ExitCode::SUCCESS)
    }
}
