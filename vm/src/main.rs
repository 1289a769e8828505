//! `chenilles-vm`: run Scheme programs and images, durably or not, or talk to a REPL. Each
//! subcommand is a module of `commands/`; `cli/` is what they share.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cli;
mod commands;

#[derive(Parser)]
#[command(name = "chenilles-vm", version, about = "The Chenilles durable Scheme VM")]
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
    /// mailbox. The process need not be running: the message waits for it.
    Send(commands::send::Send),
    /// List the store's processes and their status.
    Ps(commands::ps::Ps),
    /// Print a process's output journal: everything it wrote, exactly once, byte for byte.
    Output(commands::output::Output),
    /// Show a process's status, checkpoints, journals and the backtrace of its continuation.
    Inspect(commands::inspect::Inspect),
    /// Remove from the store everything no process needs any more.
    Gc(commands::gc::Gc),
    /// Re-hash every blob of the store and check every ref.
    Verify(commands::verify::Verify),
    /// An interactive read-eval-print loop with line editing and history.
    Repl,
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
    let cli = Cli::parse();
    if let Err(code) = cli::crash_on_purpose::arm_from_environment() {
        return code;
    }
    // The compiler recurses on nested source; give it a generous stack. Scheme code never uses it.
    let worker = std::thread::Builder::new().stack_size(512 << 20).spawn(move || match cli.command {
        Command::Run(command) => command.execute(),
        Command::Start(command) => command.execute(),
        Command::Resume(command) => command.execute(),
        Command::Send(command) => command.execute(),
        Command::Ps(command) => command.execute(),
        Command::Output(command) => command.execute(),
        Command::Inspect(command) => command.execute(),
        Command::Gc(command) => command.execute(),
        Command::Verify(command) => command.execute(),
        Command::Repl => commands::repl::execute(),
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
