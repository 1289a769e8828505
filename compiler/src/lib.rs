//! The Chenilles compiler: Scheme source to verified bytecode images.
//!
//! ```text
//! source ─▶ reader ─▶ expander ─▶ core IR ─▶ analysis ─▶ codegen ─▶ Image
//!           (chenilles-reader)  (expand,     (ir)       (analysis)  (codegen)   (bytecode)
//!                               syntax_rules)
//! ```
//! A [`Compiler`] keeps the top-level environment between units, so a REPL can compile one entry at a
//! time and macros defined earlier stay defined. The [`bytecode`] module — instruction set, image format,
//! verifier, disassembler — is shared with the VM. This crate never depends on the VM.

pub mod analysis;
pub mod bytecode;
pub mod codegen;
pub mod diagnostics;
pub mod expand;
pub mod ir;
pub mod syntax;
pub mod syntax_rules;

use chenilles_reader::{Datum, FileId, Span};

pub use bytecode::Image;
pub use diagnostics::{CompileError, SourceFiles};

use crate::expand::{Expander, TopLevel};
use crate::syntax::Sx;

/// The macros of the prelude: derived forms written in Scheme with `syntax-rules`.
pub const PRELUDE_SOURCE: &str = include_str!("../../stdlib-scm/syntax.scm");

/// A compilation session: source files seen so far and the top-level environment.
pub struct Compiler {
    pub files: SourceFiles,
    top: TopLevel,
}

impl Default for Compiler {
    fn default() -> Compiler {
        Compiler::new()
    }
}

impl Compiler {
    /// A compiler whose top level holds the special forms and the prelude's macros.
    pub fn new() -> Compiler {
        let mut compiler = Compiler {
            files: SourceFiles::default(),
            top: TopLevel::new(),
        };
        if let Err(error) = compiler.compile_source("stdlib-scm/syntax.scm", PRELUDE_SOURCE) {
            // The prelude is part of this binary; a test keeps it compiling.
            panic!(
                "the built-in prelude does not compile: {}",
                compiler.files.render(&error)
            );
        }
        compiler.top.user_globals.clear();
        compiler
    }

    /// Registers a source text and returns its file id.
    pub fn add_file(&mut self, name: &str, text: &str) -> FileId {
        self.files.add(name, text)
    }

    /// Reads and compiles a whole source text into an image named `name`.
    pub fn compile_source(&mut self, name: &str, text: &str) -> Result<Image, CompileError> {
        let file = self.files.add(name, text);
        let data = chenilles_reader::read_all(text, file)?;
        let span = Span::new(file, 0, text.len());
        self.compile_data(name, &data, span)
    }

    /// Compiles data already read (from file `span.file`) into an image.
    pub fn compile_data(
        &mut self,
        name: &str,
        data: &[Datum],
        span: Span,
    ) -> Result<Image, CompileError> {
        let forms: Vec<Sx> = data.iter().map(Sx::from_datum).collect();
        let mut expander = Expander::new(&mut self.top);
        let mut body = expander.expand_top_level(&forms, span)?;
        let mut vars = std::mem::take(&mut expander.vars);
        analysis::analyze(&mut body, 0, &mut vars);
        let codegen = codegen::Codegen::new(&self.files, &vars, &self.top.user_globals, name);
        Ok(codegen.finish(&body))
    }

    /// The rustc-style rendering of an error from this session.
    pub fn render(&self, error: &CompileError) -> String {
        self.files.render(error)
    }
}
