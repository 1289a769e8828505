//! `chenilles-vm`: run Scheme programs and images, or talk to a REPL.

use std::path::PathBuf;
use std::process::ExitCode;

use chenilles_compiler::bytecode::Image;
use chenilles_machine::printer::Style;
use chenilles_machine::{Machine, Outcome, RunError, Value};
use clap::{Parser, Subcommand};

mod cli;

#[derive(Parser)]
#[command(name = "chenilles-vm", version, about = "The Chenilles durable Scheme VM")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a program in memory: a .scm source (compiled first) or a .chb image.
    Run {
        #[command(flatten)]
        program: ProgramArgs,
    },
    /// Start a durable process: the program runs to its end with its every continuation
    /// checkpointed in the store, and `resume` goes on after a crash exactly where it was.
    Start {
        #[command(flatten)]
        store: StoreArgs,
        /// The process's name (default: the program's file name, made unique).
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
        #[command(flatten)]
        durable: DurableArgs,
        #[command(flatten)]
        program: ProgramArgs,
    },
    /// Resume unfinished durable processes from their last checkpoints (all of them when none is
    /// named) and run them to their ends.
    Resume {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        durable: DurableArgs,
        /// The processes to resume.
        names: Vec<String>,
    },
    /// Deliver a message (a datum in `write` syntax, e.g. '(deposit alice 100)') to a process's
    /// mailbox. The process need not be running: the message waits for it.
    Send {
        #[command(flatten)]
        store: StoreArgs,
        /// The receiving process.
        name: String,
        /// The message.
        datum: String,
    },
    /// List the store's processes and their status.
    Ps {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Print a process's output journal: everything it wrote, exactly once, byte for byte.
    Output {
        #[command(flatten)]
        store: StoreArgs,
        name: String,
    },
    /// Show a process's status, checkpoints, journals and the backtrace of its continuation.
    Inspect {
        #[command(flatten)]
        store: StoreArgs,
        name: String,
    },
    /// Remove from the store everything no process needs any more.
    Gc {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Re-hash every blob of the store and check every ref.
    Verify {
        #[command(flatten)]
        store: StoreArgs,
        /// Also replay process NAME (started with --keep-history) from its first checkpoint with
        /// its journaled effects, checking each later checkpoint's state; report the first divergence.
        #[arg(long, value_name = "NAME")]
        replay: Option<String>,
    },
    /// An interactive read-eval-print loop with line editing and history.
    Repl,
}

/// The program to run, where its libraries are, and the limits it runs under.
#[derive(clap::Args)]
struct ProgramArgs {
    /// A directory to search for libraries (`(a b)` is `DIR/a/b.sld`) and library images; may be
    /// repeated. CHENILLES_LIBRARY_PATH (colon-separated) adds more; the program's own directory
    /// is always searched.
    #[arg(short = 'L', value_name = "DIR")]
    library_path: Vec<PathBuf>,
    /// Stop the program after this many procedure calls and loop iterations.
    #[arg(long, value_name = "N")]
    max_steps: Option<u64>,
    /// Stop the program when its live heap exceeds this size (bytes; K, M or G suffixes).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_heap: Option<usize>,
    /// Stop the program when more than this many calls are nested.
    #[arg(long, value_name = "N")]
    max_depth: Option<usize>,
    /// Grant the program a capability: `files` (open, test and delete files; `load`) or
    /// `environment` (read environment variables). May be repeated or comma-separated. Nothing
    /// is granted by default; a durable process keeps the grants it was started with.
    #[arg(long, value_name = "CAPABILITY", value_delimiter = ',', value_parser = parse_capability)]
    grant: Vec<String>,
    /// The program: PROG.scm or PROG.chb.
    program: PathBuf,
    /// Arguments the program sees in (command-line).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

impl ProgramArgs {
    fn limits(&self) -> chenilles_machine::runtime::Limits {
        chenilles_machine::runtime::Limits {
            max_steps: self.max_steps,
            max_heap: self.max_heap,
            max_depth: self.max_depth,
        }
    }
}

#[derive(clap::Args)]
struct StoreArgs {
    /// The store (default: CHENILLES_STORE, or .chenilles/store.redb in the current directory).
    #[arg(long, value_name = "PATH")]
    store: Option<PathBuf>,
    /// When another chenilles-vm holds the store, wait for it instead of failing.
    #[arg(long)]
    wait: bool,
}

#[derive(clap::Args, Clone)]
struct DurableArgs {
    /// The longest stretch of pure computation between two checkpoints, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 100)]
    checkpoint_every: u64,
    /// The most of the process's time periodic checkpoints may take, in percent: a costly
    /// checkpoint (a large heap much changed) comes later than --checkpoint-every, and so does
    /// the one after it, so that durability slows the program by at most this share. 100: never
    /// later.
    #[arg(long, value_name = "PERCENT", default_value_t = chenilles_durable::DEFAULT_CHECKPOINT_SHARE,
          value_parser = clap::value_parser!(u32).range(1..=100))]
    checkpoint_share: u32,
    /// Checkpoint after every N steps (calls, loop iterations and charged work) instead of by time:
    /// the same points in every run (for testing durability).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    checkpoint_every_steps: Option<u64>,
    /// Write the same store in every run: records carry no clock readings and `current-jiffy`
    /// stands still; with --checkpoint-every-steps, a program that reads no other clock commits
    /// the same bytes every time (for replaying crash tests).
    #[arg(long, requires = "checkpoint_every_steps")]
    reproducible: bool,
    /// After each checkpoint, reload the process from the store and check that it re-serializes
    /// to the same state (slow; for testing durability).
    #[arg(long)]
    reload_each_checkpoint: bool,
    /// Keep every checkpoint of a new process in the store, so that `verify --replay` can check
    /// the run (the store grows with the whole history).
    #[arg(long)]
    keep_history: bool,
    /// Exit as soon as every process waits for a message, instead of waiting with them (`resume`
    /// goes on later).
    #[arg(long)]
    exit_when_waiting: bool,
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
        Command::Run { program } => run(program),
        Command::Start { store, name, durable, program } => cli::durable::start(&store, name, &durable, program),
        Command::Resume { store, durable, names } => cli::durable::resume(&store, &durable, names),
        Command::Send { store, name, datum } => cli::durable::send(&store, &name, &datum),
        Command::Ps { store } => cli::durable::ps(&store),
        Command::Output { store, name } => cli::durable::output(&store, &name),
        Command::Inspect { store, name } => cli::durable::inspect(&store, &name),
        Command::Gc { store } => cli::durable::gc(&store),
        Command::Verify { store, replay } => cli::durable::verify(&store, replay.as_deref()),
        Command::Repl => repl(),
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

/// One of the VM's own capabilities (the CLI offers no host functions).
fn parse_capability(text: &str) -> Result<String, String> {
    let known = chenilles_machine::capabilities::SYSTEM_CAPABILITIES;
    if known.iter().any(|(name, _)| *name == text) {
        Ok(text.to_string())
    } else {
        let names: Vec<&str> = known.iter().map(|(name, _)| *name).collect();
        Err(format!("unknown capability `{text}`: the capabilities are {}", names.join(", ")))
    }
}

/// `123`, `64K`, `512M`, `2G` (powers of 1024).
fn parse_size(text: &str) -> Result<usize, String> {
    let (digits, unit) = match text.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&text[..i], c.to_ascii_uppercase()),
        _ => (text, 'B'),
    };
    let factor: usize = match unit {
        'B' => 1,
        'K' => 1 << 10,
        'M' => 1 << 20,
        'G' => 1 << 30,
        other => return Err(format!("unknown size unit `{other}`: use K, M or G")),
    };
    let n: usize = digits.parse().map_err(|_| format!("`{text}` is not a size"))?;
    n.checked_mul(factor).ok_or_else(|| format!("`{text}` is too large"))
}

fn run(program: ProgramArgs) -> ExitCode {
    let mut machine = Machine::new();
    let image = match prepare(&mut machine, program) {
        Ok(image) => image,
        Err(code) => return code,
    };
    match machine.run_image(&image) {
        Ok(Outcome::Finished) => ExitCode::SUCCESS,
        Ok(Outcome::Exited(code)) => cli::exit_status(code),
        Err(error) => report(error),
    }
}

/// Sets `machine` up for `program` (library path, limits, command line) and compiles or reads it.
/// Errors are printed; the exit code to use is returned.
fn prepare(machine: &mut Machine, args: ProgramArgs) -> Result<Image, ExitCode> {
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

fn report(error: RunError) -> ExitCode {
    note_text!(error.report());
    ExitCode::FAILURE
}

fn repl() -> ExitCode {
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
                    println!("{}", machine.vm.rt.to_text(value, Style::Write));
                }
            }
            Ok(Err(code)) => return cli::exit_status(code),
            Err(error) => note_text!(error.report()),
        }
    }
    if let Some(path) = &history {
        let _ = editor.save_history(path);
    }
    ExitCode::SUCCESS
}
