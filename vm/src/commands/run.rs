//! `chenilles-vm run`: a program in memory, with no store: a file, standard input, or expressions
//! given with `-e` and `-p` (evaluated in the order given, before the file if there is one).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use chenilles_machine::printer::Style;
use chenilles_machine::{Machine, Outcome, Value};

use crate::cli::args::{MachineArgs, ProgramArgs};
use crate::cli::exit_status;
use crate::cli::program::{prepare, report, set_up};
use crate::note;

#[derive(clap::Args)]
pub struct Run {
    #[command(flatten)]
    machine: MachineArgs,
    /// Evaluate EXPR (one or more expressions) before the program; may be repeated. With -e or -p
    /// alone, no program is needed.
    #[arg(short = 'e', long = "eval", value_name = "EXPR")]
    eval: Vec<String>,
    /// Evaluate EXPR and print its value as `write` does; may be repeated, and mixed with -e.
    #[arg(short = 'p', long = "print", value_name = "EXPR")]
    print: Vec<String>,
    /// The program: PROG.scm or PROG.chb, or `-` to read its source from standard input.
    #[arg(required_unless_present_any = ["eval", "print"])]
    program: Option<PathBuf>,
    /// Arguments the program sees in (command-line).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

/// One `-e` or `-p` expression.
struct Expression {
    text: String,
    print: bool,
}

impl Run {
    /// Runs as asked; `matches` are the subcommand's, which say in what order `-e` and `-p` came.
    pub fn execute(self, matches: Option<&clap::ArgMatches>) -> ExitCode {
        let Run { machine: machine_args, eval, print, program, args } = self;
        let mut machine = Machine::new();
        let expressions = in_given_order(eval, print, matches);
        let Some(program) = program else {
            let command_line = std::iter::once(String::new()).chain(args).collect();
            set_up(&mut machine, machine_args, std::path::Path::new("-"), command_line);
            return evaluate(&mut machine, expressions).unwrap_or(ExitCode::SUCCESS);
        };
        if !expressions.is_empty() {
            // The expressions run in the program's machine, with its library path and grants.
            let command_line = std::iter::once(program.display().to_string()).chain(args.clone()).collect();
            set_up(&mut machine, clone_machine_args(&machine_args), &program, command_line);
            if let Some(code) = evaluate(&mut machine, expressions) {
                return code;
            }
        }
        let image = match prepare(&mut machine, ProgramArgs { machine: machine_args, program, args }) {
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

fn clone_machine_args(args: &MachineArgs) -> MachineArgs {
    MachineArgs {
        library_path: args.library_path.clone(),
        max_steps: args.max_steps,
        max_heap: args.max_heap,
        max_depth: args.max_depth,
        grant: args.grant.clone(),
    }
}

/// The `-e` and `-p` expressions in the order they were given on the command line.
fn in_given_order(eval: Vec<String>, print: Vec<String>, matches: Option<&clap::ArgMatches>) -> Vec<Expression> {
    let positions = |id: &str, count: usize| -> Vec<usize> {
        matches.and_then(|m| m.indices_of(id)).map_or_else(|| (0..count).collect(), |i| i.collect())
    };
    let mut expressions: Vec<(usize, Expression)> = positions("eval", eval.len())
        .into_iter()
        .zip(eval)
        .map(|(at, text)| (at, Expression { text, print: false }))
        .chain(
            positions("print", print.len())
                .into_iter()
                .zip(print)
                .map(|(at, text)| (at, Expression { text, print: true })),
        )
        .collect();
    expressions.sort_by_key(|(at, _)| *at);
    expressions.into_iter().map(|(_, expression)| expression).collect()
}

/// Evaluates the expressions in order, printing the values of `-p` ones; `Some(code)` if one
/// failed or exited.
fn evaluate(machine: &mut Machine, expressions: Vec<Expression>) -> Option<ExitCode> {
    for (n, expression) in expressions.into_iter().enumerate() {
        let name = format!("<expression {}>", n + 1);
        let image = match machine.compile(&name, &expression.text) {
            Ok(image) => image,
            Err(error) => return Some(report(error)),
        };
        match machine.eval_image(&image) {
            Ok(Ok(value)) => {
                if expression.print && value != Value::UNSPECIFIED {
                    // Through the program's own output, so that the two stay in order.
                    let mut text = chenilles_machine::printer::to_text(&machine.vm.rt, value, Style::Write);
                    text.push('\n');
                    let rt = &mut machine.vm.rt;
                    if let Err(error) = rt.out.write_all(text.as_bytes()).and_then(|()| rt.out.flush()) {
                        if error.kind() == std::io::ErrorKind::BrokenPipe {
                            return Some(ExitCode::SUCCESS);
                        }
                        note!("error: cannot write to standard output: {error}");
                        return Some(ExitCode::FAILURE);
                    }
                }
            }
            Ok(Err(code)) => return Some(exit_status(code)),
            Err(error) => return Some(report(error)),
        }
    }
    None
}
