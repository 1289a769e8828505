//! `chenilles-scc`: compile Scheme programs to Chenilles bytecode images, check them, or disassemble
//! images.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chenilles_compiler::bytecode::{self, Image, disasm};
use chenilles_compiler::{CompileError, Compiler};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "chenilles-scc",
    version,
    about = "The Chenilles Scheme compiler"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compile PROG.scm to a bytecode image and print the image's blake3 hash.
    Compile {
        /// The Scheme source file.
        source: PathBuf,
        /// Where to write the image (default: the source path with extension .chb).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Report errors in PROG.scm without writing anything.
    Check {
        /// The Scheme source file.
        source: PathBuf,
    },
    /// Print the bytecode of an image (or of a source file, compiled in memory) with source positions.
    Disasm {
        /// A .chb image or a .scm source file.
        input: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Deeply nested source is compiled recursively: give the compiler a generous stack.
    let worker = std::thread::Builder::new()
        .stack_size(512 << 20)
        .spawn(move || run(cli.command));
    match worker.map(|handle| handle.join()) {
        Ok(Ok(code)) => code,
        _ => {
            eprintln!("chenilles-scc: internal error");
            ExitCode::from(70)
        }
    }
}

fn run(command: Command) -> ExitCode {
    match command {
        Command::Compile { source, output } => {
            let Some(image) = compile(&source) else {
                return ExitCode::FAILURE;
            };
            let output = output.unwrap_or_else(|| source.with_extension("chb"));
            let bytes = image.to_bytes();
            if let Err(error) = std::fs::write(&output, &bytes) {
                eprintln!("error: cannot write {}: {error}", output.display());
                return ExitCode::FAILURE;
            }
            println!("{}  {}", bytecode::image_hash(&bytes), output.display());
            ExitCode::SUCCESS
        }
        Command::Check { source } => match compile(&source) {
            Some(image) => match bytecode::verify(&image) {
                Ok(_) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!(
                        "error: internal compiler error: the generated code does not verify: {error}"
                    );
                    ExitCode::from(70)
                }
            },
            None => ExitCode::FAILURE,
        },
        Command::Disasm { input } => {
            let image = if input.extension().is_some_and(|e| e == "scm") {
                let Some(image) = compile(&input) else {
                    return ExitCode::FAILURE;
                };
                image
            } else {
                match read_image(&input) {
                    Ok(image) => image,
                    Err(message) => {
                        eprintln!("error: {}: {message}", input.display());
                        return ExitCode::FAILURE;
                    }
                }
            };
            match bytecode::verify(&image) {
                Ok(functions) => {
                    print!("{}", disasm::disassemble(&image, &functions));
                    ExitCode::SUCCESS
                }
                Err(error) => {
                    eprintln!(
                        "error: {}: the image does not verify: {error}",
                        input.display()
                    );
                    ExitCode::FAILURE
                }
            }
        }
    }
}

fn read_image(path: &Path) -> Result<Image, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    Image::from_bytes(&bytes).map_err(|e| e.to_string())
}

/// Compiles a file, printing any error rustc-style.
fn compile(source: &Path) -> Option<Image> {
    let text = match std::fs::read(source) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(_) => {
                eprintln!("error: {} is not UTF-8 text", source.display());
                return None;
            }
        },
        Err(error) => {
            eprintln!("error: cannot read {}: {error}", source.display());
            return None;
        }
    };
    let mut compiler = Compiler::new();
    let result: Result<Image, CompileError> =
        compiler.compile_source(&source.display().to_string(), &text);
    match result {
        Ok(image) => Some(image),
        Err(error) => {
            eprint!("{}", compiler.render(&error));
            None
        }
    }
}
