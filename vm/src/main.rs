//! `chenilles-vm`: run Scheme programs and images, durably or not, or talk to a REPL. Each
//! subcommand is a module of `commands/`; `cli/` is what they share.

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

mod cli;
mod commands;

#[derive(Parser)]
#[command(
    name = "chenilles-vm",
    version,
    about = "The Chenilles durable Scheme VM",
    after_help = "`chenilles-vm PROG.scm ARGS…` is short for `chenilles-vm run PROG.scm ARGS…`, so that a \
                  script can begin with `#!/usr/bin/env chenilles-vm`."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a program in memory: a .scm source (compiled first) or a .chb image.
    Run(commands::run::Run),
    /// Start a durable process: the program runs to its end with its every continuation
    /// checkpointed in the store, and `resume` goes on after a crash exactly where it was.
    Start(commands::start::Start),
    /// Resume unfinished durable processes from their last checkpoints (all of them when none is
    /// named) and run them to their ends.
    Resume(commands::resume::Resume),
    /// Deliver a message (a datum in `write` syntax, e.g. '(deposit alice 100)') to a process's
    /// mailbox. The process need not be running (the message waits for it), but must not have
    /// ended.
    Send(commands::send::Send),
    /// Cancel an unfinished process: it ends where its last checkpoint left it, its journals and
    /// unread messages kept. Stop the host that runs it first.
    Cancel(commands::cancel::Cancel),
    /// Remove ended processes from the store, with their mailboxes and what only they used.
    Rm(commands::rm::Rm),
    /// List the store's processes and their status.
    Ps(commands::ps::Ps),
    /// Print a process's output journal: everything it wrote, exactly once, byte for byte.
    Output(commands::output::Output),
    /// Show a process's status, checkpoints, journals and the backtrace of its continuation.
    Inspect(commands::inspect::Inspect),
    /// Copy processes (each one's state, journals and mailbox) into a bundle file, for `import`
    /// into another store; sealed (an age file) when the store is encrypted or --to is given.
    Export(commands::bundle::Export),
    /// Add the processes of a bundle `export` wrote to the store; a sealed one needs the
    /// store's own key or --identity.
    Import(commands::bundle::Import),
    /// Remove from the store everything no process needs any more.
    Gc(commands::gc::Gc),
    /// Re-hash every blob of the store and check every ref.
    Verify(commands::verify::Verify),
    /// Make a store, and manage the keys of an encrypted one.
    Store(commands::store::Store),
    /// Run the store's node: every process of the store, and the channels to its peers, until
    /// stopped (SIGINT or SIGTERM).
    Serve(commands::serve::Serve),
    /// The store's node identity: the peer id other nodes know it by.
    Node(commands::node::Node),
    /// Name the peers (other nodes) this store's processes talk to.
    Peer(commands::peer::Peer),
    /// Keep copies of the store elsewhere (directories, S3 buckets, CAR archives), sent each
    /// commit in the background.
    Replica(commands::replica::Replica),
    /// Make a new store from replicas, none trusted alone: the newest root they hold whole.
    Restore(commands::restore::Restore),
    /// An interactive read-eval-print loop with line editing and history.
    Repl(commands::repl::Repl),
    /// Print a completion script for a shell, e.g. `chenilles-vm completions bash >
    /// ~/.local/share/bash-completion/completions/chenilles-vm`.
    Completions(commands::completions::Completions),
}

/// The command line, with `chenilles-vm FILE ARGS…` read as `chenilles-vm run FILE ARGS…` when
/// FILE is not a subcommand and names a program (a `.scm` or `.chb` file, or any file that exists):
/// what a `#!/usr/bin/env chenilles-vm` script's kernel call looks like.
fn command_line() -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(first) = args.get(1) {
        let path = std::path::Path::new(first);
        let is_subcommand =
            Cli::command().get_subcommands().any(|c| c.get_name() == first.as_os_str()) || first.as_os_str() == "help";
        let looks_like_program = path.extension().is_some_and(|e| e == "scm" || e == "chb") || path.is_file();
        if !is_subcommand && !first.to_string_lossy().starts_with('-') && looks_like_program {
            args.insert(1, "run".into());
        }
    }
    args
}

fn main() -> ExitCode {
    // A damaged store can make redb panic where its reads do not check the file; the store turns
    // that into an error that says so, and the panic's own message would only confuse.
    let report_panic = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !chenilles_store::in_guarded_operation() {
            report_panic(info);
        }
    }));
    let matches = Cli::command().get_matches_from(command_line());
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(error) => error.exit(),
    };
    if let Err(code) = cli::crash_on_purpose::arm_from_environment() {
        return code;
    }
    // The compiler recurses on nested source; give it a generous stack. Scheme code never uses it.
    let worker = std::thread::Builder::new().stack_size(512 << 20).spawn(move || match cli.command {
        Command::Run(command) => command.execute(matches.subcommand_matches("run")),
        Command::Start(command) => command.execute(),
        Command::Resume(command) => command.execute(),
        Command::Send(command) => command.execute(),
        Command::Cancel(command) => command.execute(),
        Command::Rm(command) => command.execute(),
        Command::Ps(command) => command.execute(),
        Command::Output(command) => command.execute(),
        Command::Inspect(command) => command.execute(),
        Command::Export(command) => command.execute(),
        Command::Import(command) => command.execute(),
        Command::Gc(command) => command.execute(),
        Command::Verify(command) => command.execute(),
        Command::Store(command) => command.execute(),
        Command::Serve(command) => command.execute(),
        Command::Node(command) => command.execute(),
        Command::Peer(command) => command.execute(),
        Command::Replica(command) => command.execute(),
        Command::Restore(command) => command.execute(),
        Command::Repl(command) => command.execute(),
        Command::Completions(command) => command.execute(Cli::command()),
    });
    match worker.map(|handle| handle.join()) {
        Ok(Ok(code)) => {
            cli::crash_on_purpose::report();
            code
        }
        _ => {
            note!("chenilles-vm: internal error");
            ExitCode::from(70)
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every argument of every subcommand says what it is for in `--help`.
    #[test]
    fn every_argument_is_described() {
        let cli = super::Cli::command();
        let mut undescribed = Vec::new();
        for command in cli.get_subcommands() {
            for arg in command.get_arguments() {
                let id = arg.get_id().as_str();
                if id != "help" && arg.get_help().is_none() && arg.get_long_help().is_none() {
                    undescribed.push(format!("{} {id}", command.get_name()));
                }
            }
        }
        assert!(undescribed.is_empty(), "arguments without help: {undescribed:?}");
    }
}
