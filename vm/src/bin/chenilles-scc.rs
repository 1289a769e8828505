//! `chenilles-scc`: compile Scheme programs to Chenilles bytecode images, check them, disassemble
//! images, or assemble images from their assembly text.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chenilles_compiler::Compiler;
use chenilles_compiler::bytecode::{self, Image, asm, disasm};
use clap::{Parser, Subcommand};

#[path = "../cli/colour.rs"]
mod colour;

#[derive(Parser)]
#[command(name = "chenilles-scc", version, about = "The Chenilles Scheme compiler")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compile PROG.scm to a bytecode image and print the image's blake3 hash. The images of the
    /// user libraries it imports are written beside it, each named by its own hash.
    Compile {
        /// A directory to search for libraries (`(a b)` is `DIR/a/b.sld`); may be repeated.
        /// CHENILLES_LIBRARY_PATH (colon-separated) adds more; the source's directory comes last.
        #[arg(short = 'L', value_name = "DIR")]
        library_path: Vec<PathBuf>,
        /// The Scheme source file.
        source: PathBuf,
        /// Where to write the image (default: the source path with extension .chb).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Report errors and warnings in PROG.scm without writing anything (warnings alone exit 0).
    Check {
        /// A directory to search for libraries; may be repeated.
        #[arg(short = 'L', value_name = "DIR")]
        library_path: Vec<PathBuf>,
        /// The Scheme source file.
        source: PathBuf,
    },
    /// Print the bytecode of an image (or of a source file, compiled in memory) with source positions.
    Disasm {
        /// Print the lossless assembly text that `asm` reads back, even of an image that does not
        /// verify, in place of the listing.
        #[arg(long)]
        assembly: bool,
        /// A .chb image or a .scm source file.
        input: PathBuf,
    },
    /// Assemble FILE.s (the text `disasm --assembly` prints) into a verified image and print the
    /// image's blake3 hash.
    Asm {
        /// The assembly text.
        source: PathBuf,
        /// Where to write the image (default: the source path with extension .chb).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Deeply nested source is compiled recursively: give the compiler a generous stack.
    let worker = std::thread::Builder::new().stack_size(512 << 20).spawn(move || run(cli.command));
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
        Command::Compile { library_path, source, output } => {
            let mut compiler = compiler_for(&source, library_path);
            let Some(image) = compile(&mut compiler, &source) else {
                return ExitCode::FAILURE;
            };
            let output = output.unwrap_or_else(|| source.with_extension("chb"));
            // Library images go beside the program's, named by their hash.
            let dir = output.parent().map(Path::to_path_buf).unwrap_or_default();
            for library in &image.libraries {
                let Some(library_image) = compiler.library_image(&library.hash) else {
                    continue;
                };
                let path = dir.join(format!("{}.chb", blake3::Hash::from_bytes(library.hash).to_hex()));
                if let Err(error) = std::fs::write(&path, library_image.to_bytes()) {
                    eprintln!("error: cannot write {}: {error}", path.display());
                    return ExitCode::FAILURE;
                }
            }
            write_image(&image, &output)
        }
        Command::Check { library_path, source } => {
            let mut compiler = compiler_for(&source, library_path);
            match compile(&mut compiler, &source) {
                Some(image) => match bytecode::verify(&image) {
                    Ok(_) => ExitCode::SUCCESS,
                    Err(error) => {
                        eprintln!("error: internal compiler error: the generated code does not verify: {error}");
                        ExitCode::from(70)
                    }
                },
                None => ExitCode::FAILURE,
            }
        }
        Command::Disasm { assembly, input } => {
            let image = if input.extension().is_some_and(|e| e == "scm") {
                let mut compiler = compiler_for(&input, Vec::new());
                let Some(image) = compile(&mut compiler, &input) else {
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
                Ok(_) if assembly => {
                    print!("{}", asm::write_assembly(&image));
                    ExitCode::SUCCESS
                }
                Ok(functions) => {
                    print!("{}", disasm::disassemble(&image, &functions));
                    ExitCode::SUCCESS
                }
                Err(error) if assembly => {
                    // The text of a broken image is how one mends it by hand.
                    print!("{}", asm::write_assembly(&image));
                    eprintln!("warning: {}: the image does not verify: {error}", input.display());
                    ExitCode::SUCCESS
                }
                Err(error) => {
                    eprintln!("error: {}: the image does not verify: {error}", input.display());
                    ExitCode::FAILURE
                }
            }
        }
        Command::Asm { source, output } => {
            let text = match std::fs::read_to_string(&source) {
                Ok(text) => text,
                Err(error) => {
                    eprintln!("error: cannot read {}: {error}", source.display());
                    return ExitCode::FAILURE;
                }
            };
            let image = match asm::assemble(&text) {
                Ok(image) => image,
                Err(error) => {
                    eprintln!("error: {}: {error}", source.display());
                    return ExitCode::FAILURE;
                }
            };
            if let Err(error) = bytecode::verify(&image) {
                eprintln!("error: {}: the assembled image does not verify: {error}", source.display());
                return ExitCode::FAILURE;
            }
            let output = output.unwrap_or_else(|| source.with_extension("chb"));
            write_image(&image, &output)
        }
    }
}

/// A compiler whose library path is `-L` directories, then CHENILLES_LIBRARY_PATH, then the source's
/// own directory.
fn compiler_for(source: &Path, mut dirs: Vec<PathBuf>) -> Compiler {
    if let Some(paths) = std::env::var_os("CHENILLES_LIBRARY_PATH") {
        dirs.extend(std::env::split_paths(&paths));
    }
    dirs.push(source.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf());
    let mut compiler = Compiler::new();
    compiler.library_path = dirs;
    // Warnings are checked against what a process binds before a program runs.
    compiler.environment = Some(chenilles_machine::Machine::with_output(Box::new(std::io::sink())).environment());
    compiler.files.set_colour(colour::stderr_wants_colour());
    compiler
}

fn read_image(path: &Path) -> Result<Image, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    Image::from_bytes(&bytes).map_err(|e| e.to_string())
}

/// Compiles a file, printing its warnings and any error rustc-style.
fn compile(compiler: &mut Compiler, source: &Path) -> Option<Image> {
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
    let compiled = compiler.compile_source(&source.display().to_string(), &text);
    colour::print_warnings(compiler);
    match compiled {
        Ok(image) => Some(image),
        Err(error) => {
            eprint!("{}", compiler.render(&error));
            None
        }
    }
}

/// Writes `image` to `output` and prints its hash and path.
fn write_image(image: &Image, output: &std::path::Path) -> ExitCode {
    let bytes = image.to_bytes();
    if let Err(error) = std::fs::write(output, &bytes) {
        eprintln!("error: cannot write {}: {error}", output.display());
        return ExitCode::FAILURE;
    }
    println!("{}  {}", bytecode::image_hash(&bytes), output.display());
    ExitCode::SUCCESS
}
