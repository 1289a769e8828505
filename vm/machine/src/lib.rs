//! The Chenilles language machine: values, strings, symbols, the heap and its collector, the
//! bytecode interpreter, the native procedures and the standard library, the printer, the loader,
//! and [`Machine`], which compiles and runs programs in memory. It knows nothing of stores,
//! processes or command lines: what it needs of the world (effects to record, capabilities to
//! check, messages to take and send) is plain data it defines ([`effects`], [`capabilities`],
//! [`messaging`]), which the durable layer (`chenilles-durable`) fills and commits.
//!
//! ```
//! use chenilles_machine::{Machine, Outcome};
//!
//! // Any `std::io::Write + 'static` can receive the program's output; here, the process's stdout.
//! let mut machine = Machine::with_output(Box::new(std::io::stdout()));
//! let outcome = machine.run_source("hello.scm", "(display (* 6 7)) (newline)");
//! assert_eq!(outcome.ok(), Some(Outcome::Finished));
//!
//! let error = machine.run_source("oops.scm", "(car '())").unwrap_err();
//! assert!(error.report().starts_with("error: car: not a pair: ()"));
//! ```

#![deny(missing_docs)]

pub mod capabilities;
pub mod describe;
pub mod effects;
pub mod hash_table;
pub mod heap;
pub mod interp;
mod loader;
pub mod messaging;
mod natives;
mod numbers;
pub mod ports;
pub mod printer;
pub mod process_name;
pub mod runtime;
pub mod scheme_string;
pub mod state;
pub mod symbols;
mod throw;
pub mod value;

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chenilles_compiler::bytecode::Image;
use chenilles_compiler::{CompileError, Compiler};

use crate::loader::Loader;

pub use crate::describe::Description;
pub use crate::interp::{BacktraceEntry, Trap, Vm};
pub use crate::loader::LoadError;
pub use crate::natives::natives_fingerprint;
pub use crate::runtime::Runtime;
pub use crate::value::Value;
pub use chenilles_reader::Datum;

// `STDLIB_IMAGES`: one image per file of `stdlib-scm/`, compiled when this crate was built.
include!(concat!(env!("OUT_DIR"), "/stdlib_images.rs"));

/// How a program ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It ran to its end.
    Finished,
    /// It called `exit` with this code.
    Exited(i32),
}

/// An error that stopped a program, ready to print.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The source did not compile; the text is the rendered diagnostic.
    #[error("{0}")]
    Compile(String, CompileError),
    /// The program did not load.
    #[error("{0}")]
    Load(#[from] LoadError),
    /// The program was interrupted ([`Machine::interrupt`]) and given up.
    #[error("interrupted")]
    Interrupted {
        /// Where it was: the innermost frames and the outermost.
        backtrace: Vec<BacktraceEntry>,
        /// How many frames between them the backtrace leaves out.
        frames_omitted: usize,
    },
    /// An uncaught Scheme error.
    #[error("error: {message}")]
    Uncaught {
        /// The error's message, as `display` prints it.
        message: String,
        /// Where: the innermost frames and the outermost.
        backtrace: Vec<BacktraceEntry>,
        /// How many frames between them the backtrace leaves out.
        frames_omitted: usize,
    },
}

impl RunError {
    /// The full report an uncaught error prints: message, then the Scheme backtrace.
    pub fn report(&self) -> String {
        match self {
            RunError::Compile(rendered, _) => rendered.clone(),
            RunError::Load(error) => format!("error: {error}\n"),
            RunError::Uncaught { message, backtrace, frames_omitted } => {
                format!("error: {message}\n{}", render_backtrace(backtrace, *frames_omitted))
            }
            RunError::Interrupted { backtrace, frames_omitted } => {
                format!("interrupted\n{}", render_backtrace(backtrace, *frames_omitted))
            }
        }
    }
}

/// A Scheme backtrace as the VM prints it: `backtrace (innermost first):`, then one line per frame.
pub fn render_backtrace(backtrace: &[BacktraceEntry], frames_omitted: usize) -> String {
    let mut text = String::from("backtrace (innermost first):\n");
    for (i, entry) in backtrace.iter().enumerate() {
        if frames_omitted > 0 && i == backtrace.len().saturating_sub(5) {
            text.push_str(&format!("  ... {frames_omitted} more frames ...\n"));
        }
        let position = entry.position.as_deref().unwrap_or("?");
        text.push_str(&format!("  {position}: in {}\n", entry.function));
    }
    text
}

/// A VM with the standard library loaded, and the compiler that feeds it.
pub struct Machine {
    /// The interpreter and its runtime.
    pub vm: Vm,
    /// The compiler, with the library path and the libraries compiled so far.
    pub compiler: Compiler,
    /// Directories where library images (`HASH.chb`) of precompiled programs are looked for.
    pub image_dirs: Vec<std::path::PathBuf>,
    /// The library images already loaded into the process, by hash.
    loaded_libraries: std::collections::HashSet<[u8; 32]>,
    /// Set (by a signal handler, say) to interrupt what the machine runs: it stops within
    /// [`INTERRUPT_CHECK_STEPS`] steps with [`RunError::Interrupted`], and the flag is cleared.
    /// A native blocked in a read is not interrupted until it returns.
    pub interrupt: Option<Arc<AtomicBool>>,
}

/// How many steps a machine with an [`Machine::interrupt`] flag runs between two looks at it.
pub const INTERRUPT_CHECK_STEPS: u64 = 100_000;

impl Machine {
    /// A machine whose standard output goes to the process's stdout.
    pub fn new() -> Machine {
        Machine::with_output(Box::new(std::io::BufWriter::new(std::io::stdout())))
    }

    /// A machine whose standard output goes to `out`.
    pub fn with_output(out: Box<dyn Write + Send>) -> Machine {
        Machine::build(out, false)
    }

    /// A machine for a durable process: it keeps the bytes of every image it loads, for its
    /// checkpoints to store.
    pub fn durable() -> Machine {
        Machine::build(Box::new(std::io::sink()), true)
    }

    fn build(out: Box<dyn Write + Send>, keep_image_bytes: bool) -> Machine {
        let rt = Runtime::new(out, Box::new(std::io::stderr()));
        let mut vm = Vm::new(rt);
        vm.keep_image_bytes = keep_image_bytes;
        for (name, bytes) in STDLIB_IMAGES {
            let stdlib = match Image::from_bytes(bytes) {
                Ok(image) => image,
                Err(error) => panic!("the built-in library {name} is unreadable: {error}"),
            };
            if let Err(error) = run_loaded(&mut vm, &stdlib, None) {
                panic!("the built-in library {name} failed to load: {}", error.report());
            }
        }
        Machine {
            vm,
            compiler: Compiler::new(),
            image_dirs: Vec::new(),
            loaded_libraries: std::collections::HashSet::new(),
            interrupt: None,
        }
    }

    /// Compiles and runs a program's source text.
    pub fn run_source(&mut self, name: &str, text: &str) -> Result<Outcome, RunError> {
        let image = self.compile(name, text)?;
        self.run_image(&image)
    }

    /// Compiles source `text` (`name` names it in messages). Its warnings, checked against the
    /// globals the machine binds now ([`Machine::environment`]), are left in the compiler's
    /// `warnings` (those of earlier compilations are dropped).
    pub fn compile(&mut self, name: &str, text: &str) -> Result<Image, RunError> {
        self.compiler.warnings.clear();
        self.compiler.environment = Some(self.environment());
        let compiled = self.compiler.compile_source(name, text);
        self.compiler.environment = None;
        compiled.map_err(|error| RunError::Compile(self.compiler.render(&error), error))
    }

    /// The globals this machine binds now (natives, the standard library, what earlier programs
    /// defined), with the arities of the procedures that nothing loaded reassigns: what the
    /// compiler's warnings check a program against.
    pub fn environment(&self) -> chenilles_compiler::Environment {
        self.vm.environment()
    }

    /// What `value` (a value of this machine's process) is: its type and the essentials of it
    /// (see [`describe::describe`]).
    pub fn describe(&self, value: Value) -> Description {
        describe::describe(&self.vm, value)
    }

    /// Loads and runs the library images `image` needs that are not loaded yet, in order.
    fn load_libraries(&mut self, image: &Image) -> Result<(), Stop> {
        for library in &image.libraries {
            if self.loaded_libraries.contains(&library.hash) {
                continue;
            }
            let library_image = self.find_library_image(library).map_err(|e| Stop::Error(e.into()))?;
            self.load_libraries(&library_image)?;
            run_loaded(&mut self.vm, &library_image, None)?;
            self.loaded_libraries.insert(library.hash);
        }
        Ok(())
    }

    fn find_library_image(&self, library: &chenilles_compiler::LibraryRef) -> Result<Image, LoadError> {
        if let Some(image) = self.compiler.library_image(&library.hash) {
            return Ok(image.clone());
        }
        let hash = blake3::Hash::from_bytes(library.hash).to_hex().to_string();
        for dir in &self.image_dirs {
            let path = dir.join(format!("{hash}.chb"));
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            if *chenilles_compiler::bytecode::image_hash(&bytes).as_bytes() != library.hash {
                return Err(LoadError::LibraryHashMismatch { path: path.display().to_string() });
            }
            return Ok(Image::from_bytes(&bytes)?);
        }
        Err(LoadError::MissingLibrary { name: library.name.clone(), hash })
    }

    /// Loads `image` and the libraries it needs that are not loaded yet, and queues their bodies
    /// (libraries first) on the process's boot list instead of running them: a durable process
    /// runs them in slices, with checkpoints between.
    pub fn queue_image(&mut self, image: &Image) -> Result<(), RunError> {
        for library in &image.libraries {
            if self.loaded_libraries.contains(&library.hash) {
                continue;
            }
            let library_image = self.find_library_image(library)?;
            self.queue_image(&library_image)?;
            self.loaded_libraries.insert(library.hash);
        }
        let index = self.vm.load_image(image)?;
        let entry = self.vm.images[index as usize].function_base + image.entry;
        self.vm.boot.push_back(entry);
        Ok(())
    }

    /// Loads and runs an image.
    pub fn run_image(&mut self, image: &Image) -> Result<Outcome, RunError> {
        let result =
            self.load_libraries(image).and_then(|()| run_loaded(&mut self.vm, image, self.interrupt.as_deref()));
        self.vm.rt.flush();
        result.map(|_| Outcome::Finished).or_else(|error| match error {
            Stop::Exit(code) => Ok(Outcome::Exited(code)),
            Stop::Error(error) => Err(error),
        })
    }

    /// Runs an image and gives back the value of its last expression (for the REPL).
    pub fn eval_image(&mut self, image: &Image) -> Result<Result<Value, i32>, RunError> {
        let result =
            self.load_libraries(image).and_then(|()| run_loaded(&mut self.vm, image, self.interrupt.as_deref()));
        self.vm.rt.flush();
        match result {
            Ok(v) => Ok(Ok(v)),
            Err(Stop::Exit(code)) => Ok(Err(code)),
            Err(Stop::Error(error)) => Err(error),
        }
    }
}

impl Default for Machine {
    fn default() -> Machine {
        Machine::new()
    }
}

enum Stop {
    Exit(i32),
    Error(RunError),
}

impl Stop {
    fn report(&self) -> String {
        match self {
            Stop::Exit(code) => format!("exit {code}"),
            Stop::Error(error) => error.report(),
        }
    }
}

fn run_loaded(vm: &mut Vm, image: &Image, interrupt: Option<&AtomicBool>) -> Result<Value, Stop> {
    let index = vm.load_image(image).map_err(|e| Stop::Error(e.into()))?;
    let entry = vm.entry_closure(index, image.entry);
    // With an interrupt flag, yield every so often to look at it.
    let next_look = |vm: &Vm| match interrupt {
        Some(_) => vm.steps.saturating_add(INTERRUPT_CHECK_STEPS),
        None => u64::MAX,
    };
    vm.rt.yield_at = next_look(vm);
    let mut result = vm.call_thunk(entry);
    // A yield asked for by `(checkpoint)`: nothing to save in memory, so go straight on.
    while let Err(Trap::Yield) = result {
        if let Some(flag) = interrupt
            && flag.swap(false, Ordering::Relaxed)
        {
            let (backtrace, frames_omitted) = vm.abandon();
            vm.rt.yield_at = u64::MAX;
            return Err(Stop::Error(RunError::Interrupted { backtrace, frames_omitted }));
        }
        vm.rt.yield_at = next_look(vm);
        result = vm.continue_thunk();
    }
    vm.rt.yield_at = u64::MAX;
    match result {
        Ok(value) => Ok(value),
        Err(Trap::Exit(code)) => Err(Stop::Exit(code)),
        Err(Trap::Uncaught { payload, backtrace, frames_omitted }) => {
            Err(Stop::Error(RunError::Uncaught { message: vm.describe_payload(payload), backtrace, frames_omitted }))
        }
        Err(Trap::Yield) => unreachable!("the loop above goes on after every yield"),
    }
}
