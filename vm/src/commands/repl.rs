//! `chenilles-vm repl`: read, evaluate, print, with line editing, completion of bound names,
//! history saved as you go, Ctrl-C that interrupts the running expression, and meta-commands
//! (`,help` lists them; `,describe` and `,expand` ask the machine and the compiler).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use chenilles_machine::printer::Style;
use chenilles_machine::{Machine, RunError, Value};
use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::{Highlighter, MatchingBracketHighlighter};
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Editor, Helper, Hinter};

use crate::cli::args::MachineArgs;
use crate::cli::exit_status;
use crate::cli::program::set_up;
use crate::{note, note_text};

#[derive(clap::Args)]
#[command(after_help = "History is saved after every entry in $XDG_STATE_HOME/chenilles/repl_history \
                        (~/.local/state/chenilles/repl_history when XDG_STATE_HOME is not set). \
                        Ctrl-C interrupts the running expression; at an empty prompt, a second \
                        Ctrl-C leaves, as Ctrl-D does. Type ,help for the meta-commands.")]
pub struct Repl {
    #[command(flatten)]
    machine: MachineArgs,
}

const META_HELP: &str = "\
,help              this list
,time EXPR         evaluate EXPR and say how long it took
,describe EXPR     evaluate EXPR and say what its value is: type, arity, fields, length
,expand EXPR       EXPR with its macros expanded, as core forms (nothing is defined)
,disassemble EXPR  the bytecode EXPR compiles to
,load FILE         evaluate the file's forms here (the REPL reads it, whatever was granted)
,quit              leave (Ctrl-D does too)
";

/// Where the history goes: `$XDG_STATE_HOME/chenilles/repl_history`, else under `~/.local/state`.
fn history_path() -> Option<PathBuf> {
    let state = std::env::var_os("XDG_STATE_HOME")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/state")))?;
    Some(state.join("chenilles").join("repl_history"))
}

/// The machine's standard output, remembering whether the last byte written ended a line, so
/// that the prompt does not overwrite output left without its newline.
struct LineTracking {
    out: std::io::Stdout,
    at_line_start: Arc<AtomicBool>,
}

impl Write for LineTracking {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(bytes)?;
        if let Some(last) = bytes[..n].last() {
            self.at_line_start.store(*last == b'\n', Ordering::Relaxed);
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// The line editor's helper: completes bound names and syntax, asks for more lines while a datum
/// is open, and shows the bracket matching the one at the cursor.
#[derive(Helper, Hinter)]
struct SchemeHelper {
    names: Vec<String>,
    brackets: MatchingBracketHighlighter,
}

/// Keywords of the language, completed with the globals.
const SYNTAX: &[&str] = &[
    "and",
    "begin",
    "case",
    "case-lambda",
    "cond",
    "cond-expand",
    "define",
    "define-record-type",
    "define-syntax",
    "define-values",
    "delay",
    "delay-force",
    "do",
    "guard",
    "if",
    "import",
    "lambda",
    "let",
    "let*",
    "let*-values",
    "let-syntax",
    "let-values",
    "letrec",
    "letrec*",
    "letrec-syntax",
    "parameterize",
    "quasiquote",
    "quote",
    "set!",
    "syntax-rules",
    "unless",
    "when",
];

/// The characters that end a name being typed.
fn is_delimiter(c: char) -> bool {
    c.is_whitespace() || "()[]{}\"';`,|".contains(c)
}

impl Completer for SchemeHelper {
    type Candidate = Pair;

    fn complete(&self, line: &str, pos: usize, _: &Context<'_>) -> rustyline::Result<(usize, Vec<Pair>)> {
        let start = line[..pos].rfind(is_delimiter).map_or(0, |i| i + 1);
        let prefix = &line[start..pos];
        if prefix.is_empty() {
            return Ok((pos, Vec::new()));
        }
        let mut matches: Vec<&str> = self.names.iter().map(String::as_str).filter(|n| n.starts_with(prefix)).collect();
        matches.sort_unstable();
        matches.dedup();
        Ok((start, matches.into_iter().map(|n| Pair { display: n.to_string(), replacement: n.to_string() }).collect()))
    }
}

impl Validator for SchemeHelper {
    fn validate(&self, context: &mut ValidationContext<'_>) -> rustyline::Result<ValidationResult> {
        let input = context.input();
        Ok(if is_incomplete(input) { ValidationResult::Incomplete } else { ValidationResult::Valid(None) })
    }
}

/// Whether `input` ends inside a datum (an open list, string or block comment), so that the
/// entry goes on on the next line. Any other error is the evaluator's to report.
fn is_incomplete(input: &str) -> bool {
    !input.trim_start().starts_with(',')
        && matches!(chenilles_reader::read_all(input, 0), Err(error) if error.kind == chenilles_reader::ReadErrorKind::Incomplete)
}

impl Highlighter for SchemeHelper {
    fn highlight<'l>(&self, line: &'l str, pos: usize) -> std::borrow::Cow<'l, str> {
        self.brackets.highlight(line, pos)
    }

    fn highlight_char(&self, line: &str, pos: usize, kind: rustyline::highlight::CmdKind) -> bool {
        self.brackets.highlight_char(line, pos, kind)
    }
}

/// The REPL's state between entries.
struct Session {
    machine: Machine,
    interrupt: Arc<AtomicBool>,
    at_line_start: Arc<AtomicBool>,
    entry: usize,
}

/// What an entry asks of the loop.
enum Next {
    Prompt,
    Leave(ExitCode),
}

impl Repl {
    pub fn execute(self) -> ExitCode {
        let at_line_start = Arc::new(AtomicBool::new(true));
        let out = LineTracking { out: std::io::stdout(), at_line_start: at_line_start.clone() };
        let mut machine = Machine::with_output(Box::new(out));
        set_up(&mut machine, self.machine, std::path::Path::new("./repl"), vec!["repl".to_string()]);
        // Ctrl-C while an expression runs: the machine looks at this flag at its safepoints. (At
        // the prompt the line editor reads Ctrl-C as a key.)
        let interrupt = Arc::new(AtomicBool::new(false));
        if let Err(error) = signal_hook::flag::register(signal_hook::consts::SIGINT, interrupt.clone()) {
            note!("warning: Ctrl-C will not interrupt evaluation: {error}");
        }
        machine.interrupt = Some(interrupt.clone());
        let mut editor: Editor<SchemeHelper, rustyline::history::DefaultHistory> = match Editor::new() {
            Ok(editor) => editor,
            Err(error) => {
                note!("error: cannot start the line editor: {error}");
                return ExitCode::FAILURE;
            }
        };
        let history = history_path();
        if let Some(path) = &history {
            if let Some(dir) = path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            let _ = editor.load_history(path);
        }
        let mut session = Session { machine, interrupt, at_line_start, entry: 0 };
        println!("Chenilles Scheme {} — ,help for commands, Ctrl-D to leave", env!("CARGO_PKG_VERSION"));
        let mut interrupted_at_prompt = false;
        let mut pending = String::new();
        loop {
            editor.set_helper(Some(SchemeHelper {
                names: session.completions(),
                brackets: MatchingBracketHighlighter::new(),
            }));
            if !session.at_line_start.swap(true, Ordering::Relaxed) {
                println!();
            }
            let prompt = if pending.is_empty() { "> " } else { "… " };
            let line = match editor.readline(prompt) {
                Ok(line) => line,
                Err(ReadlineError::Interrupted) => {
                    if interrupted_at_prompt && pending.is_empty() {
                        break;
                    }
                    interrupted_at_prompt = true;
                    pending.clear();
                    println!("(Ctrl-C again or Ctrl-D to leave)");
                    continue;
                }
                Err(_) => break,
            };
            interrupted_at_prompt = false;
            // On a terminal the validator hands over whole entries; read from a pipe, an entry
            // that spans lines comes a line at a time.
            pending.push_str(&line);
            pending.push('\n');
            if is_incomplete(&pending) {
                continue;
            }
            let line = std::mem::take(&mut pending);
            if line.trim().is_empty() {
                continue;
            }
            let _ = editor.add_history_entry(line.trim_end());
            if let Some(path) = &history
                && let Err(error) = editor.append_history(path)
            {
                note!("warning: cannot save the history in {}: {error}", path.display());
            }
            match session.entry(&line) {
                Next::Prompt => {}
                Next::Leave(code) => return code,
            }
        }
        ExitCode::SUCCESS
    }
}

impl Session {
    /// The names Tab completes: the language's keywords and every global defined so far.
    fn completions(&self) -> Vec<String> {
        let mut names = self.machine.vm.global_variable_names();
        names.extend(SYNTAX.iter().map(|s| s.to_string()));
        names.retain(|name| !name.starts_with('%'));
        names
    }

    fn entry(&mut self, line: &str) -> Next {
        let trimmed = line.trim();
        let Some(meta) = trimmed.strip_prefix(',') else {
            return self.evaluate(line, true);
        };
        let (command, argument) = meta.split_once(char::is_whitespace).unwrap_or((meta, ""));
        let argument = argument.trim();
        match command {
            "help" | "h" | "?" => print!("{META_HELP}"),
            "quit" | "q" => return Next::Leave(ExitCode::SUCCESS),
            "time" | "t" => {
                let started = Instant::now();
                self.machine.vm.steps = 0;
                let next = self.evaluate(argument, true);
                let steps = self.machine.vm.steps;
                println!(";; {:.6} s, {steps} steps", started.elapsed().as_secs_f64());
                return next;
            }
            "load" | "l" => match std::fs::read_to_string(argument) {
                Ok(text) => return self.evaluate(&text, false),
                Err(error) => note!("error: cannot read {argument}: {error}"),
            },
            "describe" | "d" => return self.describe(argument),
            "expand" | "exp" => self.expand(argument),
            "disassemble" | "x" => self.disassemble(argument),
            _ => note!("error: unknown meta-command ,{command} (,help lists them)"),
        }
        Next::Prompt
    }

    /// Compiles and runs `text`, printing its value if `print_value`.
    fn evaluate(&mut self, text: &str, print_value: bool) -> Next {
        match self.value_of(text) {
            Ok(value) => {
                if print_value && value != Value::UNSPECIFIED {
                    println!("{}", chenilles_machine::printer::to_text(&self.machine.vm.rt, value, Style::Write));
                }
                Next::Prompt
            }
            Err(next) => next,
        }
    }

    /// Compiles and runs `text` and gives its value, on a line of its own; or reports why there
    /// is none and says what the loop does next.
    fn value_of(&mut self, text: &str) -> Result<Value, Next> {
        self.entry += 1;
        let name = format!("repl-{}", self.entry);
        let image = match self.machine.compiler.compile_source(&name, text) {
            Ok(image) => image,
            Err(error) => {
                note_text!(self.machine.compiler.render(&error));
                return Err(Next::Prompt);
            }
        };
        self.interrupt.store(false, Ordering::Relaxed);
        // Each entry has the whole of --max-steps: the count starts again at every entry.
        self.machine.vm.steps = 0;
        let result = self.machine.eval_image(&image);
        if !self.at_line_start.swap(true, Ordering::Relaxed) {
            println!();
        }
        match result {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(code)) => Err(Next::Leave(exit_status(code))),
            Err(error @ RunError::Interrupted { .. }) => {
                note_text!(error.report());
                Err(Next::Prompt)
            }
            Err(error) => {
                crate::cli::program::report(error);
                Err(Next::Prompt)
            }
        }
    }

    /// `,describe EXPR`: evaluates EXPR and says what its value is.
    fn describe(&mut self, text: &str) -> Next {
        if text.is_empty() {
            note!("error: ,describe needs an expression: ,describe EXPR");
            return Next::Prompt;
        }
        match self.value_of(text) {
            Ok(value) => {
                print!("{}", self.machine.describe(value));
                Next::Prompt
            }
            Err(next) => next,
        }
    }

    /// `,expand EXPR`: EXPR's macros expanded against the session's, printed as core forms.
    fn expand(&mut self, text: &str) {
        if text.is_empty() {
            note!("error: ,expand needs an expression: ,expand EXPR");
            return;
        }
        match self.machine.compiler.expand("expand", text) {
            Ok(expansion) => print!("{expansion}"),
            Err(error) => note_text!(self.machine.compiler.render(&error)),
        }
    }

    fn disassemble(&mut self, text: &str) {
        match self.machine.compiler.compile_source("disassemble", text) {
            Ok(image) => match chenilles_compiler::bytecode::verify(&image) {
                Ok(functions) => print!("{}", chenilles_compiler::bytecode::disasm::disassemble(&image, &functions)),
                Err(error) => note!("error: the code does not verify: {error}"),
            },
            Err(error) => note_text!(self.machine.compiler.render(&error)),
        }
    }
}
