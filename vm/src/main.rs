//! `chenilles-vm`: run Scheme programs and images, or talk to a REPL.

use std::path::PathBuf;
use std::process::ExitCode;

use chenilles_compiler::bytecode::Image;
use chenilles_vm::printer::Style;
use chenilles_vm::{Machine, Outcome, RunError, Value};
use clap::{Parser, Subcommand};

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
        /// The program: PROG.scm or PROG.chb.
        program: PathBuf,
        /// Arguments the program sees in (command-line).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// An interactive read-eval-print loop with line editing and history.
    Repl,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The compiler recurses on nested source; give it a generous stack. Scheme code never uses it.
    let worker = std::thread::Builder::new().stack_size(512 << 20).spawn(move || match cli.command {
        Command::Run { library_path, max_steps, max_heap, max_depth, program, args } => {
            let limits = chenilles_vm::runtime::Limits { max_steps, max_heap, max_depth };
            run(program, args, library_path, limits)
        }
        Command::Repl => repl(),
    });
    match worker.map(|handle| handle.join()) {
        Ok(Ok(code)) => code,
        _ => {
            eprintln!("chenilles-vm: internal error");
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

fn run(
    program: PathBuf,
    args: Vec<String>,
    library_dirs: Vec<PathBuf>,
    limits: chenilles_vm::runtime::Limits,
) -> ExitCode {
    let bytes = match std::fs::read(&program) {
        Ok(bytes) => bytes,
        Err(error) => {
            eprintln!("error: cannot read {}: {error}", program.display());
            return ExitCode::FAILURE;
        }
    };
    let mut machine = Machine::new();
    machine.compiler.library_path = library_path(&program, library_dirs);
    machine.vm.rt.limits = limits;
    machine.image_dirs = machine.compiler.library_path.clone();
    machine.vm.rt.command_line = std::iter::once(program.display().to_string()).chain(args).collect();
    let is_source = program.extension().is_some_and(|e| e == "scm") || !bytes.starts_with(b"\0CHNLIMG");
    let image = if is_source {
        let Ok(text) = String::from_utf8(bytes) else {
            eprintln!("error: {} is neither UTF-8 Scheme source nor a Chenilles image", program.display());
            return ExitCode::FAILURE;
        };
        match machine.compile(&program.display().to_string(), &text) {
            Ok(image) => image,
            Err(error) => return report(error),
        }
    } else {
        match Image::from_bytes(&bytes) {
            Ok(image) => image,
            Err(error) => {
                eprintln!("error: {}: {error}", program.display());
                return ExitCode::FAILURE;
            }
        }
    };
    match machine.run_image(&image) {
        Ok(Outcome::Finished) => ExitCode::SUCCESS,
        Ok(Outcome::Exited(code)) => ExitCode::from(code.clamp(0, 255) as u8),
        Err(error) => report(error),
    }
}

fn report(error: RunError) -> ExitCode {
    eprint!("{}", error.report());
    ExitCode::FAILURE
}

fn repl() -> ExitCode {
    let mut editor = match rustyline::DefaultEditor::new() {
        Ok(editor) => editor,
        Err(error) => {
            eprintln!("error: cannot start the line editor: {error}");
            return ExitCode::FAILURE;
        }
    };
    let history = std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".chenilles_history"));
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    let mut machine = Machine::new();
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
                eprint!("{}", machine.compiler.render(&error));
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
            Ok(Err(code)) => return ExitCode::from(code.clamp(0, 255) as u8),
            Err(error) => eprint!("{}", error.report()),
        }
    }
    if let Some(path) = &history {
        let _ = editor.save_history(path);
    }
    ExitCode::SUCCESS
}
