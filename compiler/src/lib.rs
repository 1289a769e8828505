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
#![deny(missing_docs)]

mod analysis;
pub mod bytecode;
mod codegen;
mod diagnostics;
mod expand;
mod ir;
mod library;
mod syntax;
mod syntax_rules;
mod unexpand;
mod warnings;

use chenilles_reader::{Datum, FileId, Span};

pub use bytecode::{Image, LibraryRef};
pub use diagnostics::{CompileError, SourceFiles};
pub use expand::FEATURES;
pub use unexpand::Expansion;
pub use warnings::{Arity, Environment, Warning, closest_name};

use crate::expand::{Expander, TopLevel};
use crate::syntax::Sx;

/// The macros of the prelude: derived forms written in Scheme with `syntax-rules`.
pub const PRELUDE_SOURCE: &str = include_str!("../../stdlib-scm/syntax.scm");

/// A compilation session: source files seen so far and the top-level environment.
pub struct Compiler {
    /// The source files seen so far.
    pub files: SourceFiles,
    top: TopLevel,
    /// Directories searched for library files, in order.
    pub library_path: Vec<std::path::PathBuf>,
    /// Whether `include` may read files. A compiler that `eval` runs for a program not granted
    /// the file system refuses it: the program would read any file through its own source.
    pub may_include: bool,
    /// The globals bound before a program runs; when set, compiling a unit also checks it against
    /// them and adds its [`Warning`]s to [`Compiler::warnings`].
    pub environment: Option<Environment>,
    /// The warnings of the units compiled so far (the caller takes them).
    pub warnings: Vec<Warning>,
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
            library_path: Vec::new(),
            may_include: true,
            environment: None,
            warnings: Vec::new(),
        };
        if let Err(error) = compiler.compile_source("stdlib-scm/syntax.scm", PRELUDE_SOURCE) {
            // The prelude is part of this binary; a test keeps it compiling.
            panic!("the built-in prelude does not compile: {}", compiler.files.render(&error));
        }
        compiler.top.user_globals.clear();
        // The prelude's environment is where libraries start; the program gets a scope of its own.
        compiler.top.prelude = compiler.top.env.clone();
        compiler.top.env = expand::Scope::child(&compiler.top.prelude);
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
    pub fn compile_data(&mut self, name: &str, data: &[Datum], span: Span) -> Result<Image, CompileError> {
        // Libraries first: those defined in this text, then those its imports name, from files.
        let base = std::path::Path::new(name).parent().map(std::path::Path::to_path_buf).unwrap_or_default();
        let mut program = Vec::new();
        let mut forms: std::collections::VecDeque<Sx> = data.iter().map(Sx::from_datum).collect();
        while let Some(form) = forms.pop_front() {
            match head_name(&form).as_deref() {
                Some(keyword @ ("include" | "include-ci")) => {
                    for included in self.read_included(&form, &base, keyword == "include-ci")?.into_iter().rev() {
                        forms.push_front(included);
                    }
                }
                Some("define-library") => self.compile_library(&form, &base, &mut Vec::new())?,
                Some("import") => {
                    for set in &form.list().unwrap_or(&[])[1..] {
                        self.ensure_imported_library(set, &mut Vec::new())?;
                    }
                    program.push(form);
                }
                _ => program.push(form),
            }
        }
        self.top.used_libraries.clear();
        let defined_before = self.defined_globals();
        let mut expander = Expander::new(&mut self.top);
        let body = expander.expand_top_level(&program, span)?;
        let vars = std::mem::take(&mut expander.vars);
        let used = std::mem::take(&mut self.top.used_libraries);
        self.warn(&body, defined_before.as_ref());
        let mut image = self.generate(name, body, vars);
        image.libraries = self.library_refs(&used);
        Ok(image)
    }

    /// Reads the forms of `text` (`name` names it in messages) and expands them to core forms
    /// against the top level as it stands, with the macros defined so far: what they mean,
    /// without compiling them. Nothing of the session changes but the files it knows: the
    /// definitions and macros the forms make are forgotten once expanded. An `import` of a user
    /// library is expanded only if the library is compiled already.
    pub fn expand(&mut self, name: &str, text: &str) -> Result<Expansion, CompileError> {
        let file = self.files.add(name, text);
        let data = chenilles_reader::read_all(text, file)?;
        let span = Span::new(file, 0, text.len());
        let forms: Vec<Sx> = data.iter().map(Sx::from_datum).collect();
        // The forms get a scope of their own over the top level, and what they would record of
        // the session is put back.
        let top_env = self.top.env.clone();
        let user_globals = self.top.user_globals.clone();
        let used_libraries = std::mem::take(&mut self.top.used_libraries);
        self.top.env = expand::Scope::child(&top_env);
        let mut expander = Expander::new(&mut self.top);
        let expanded = expander.expand_top_level(&forms, span);
        let vars = std::mem::take(&mut expander.vars);
        self.top.env = top_env;
        self.top.user_globals = user_globals;
        self.top.used_libraries = used_libraries;
        Ok(Expansion::new(&expanded?, &vars))
    }

    /// The globals the units compiled so far define or assign, when warnings are wanted.
    fn defined_globals(&self) -> Option<std::collections::HashSet<syntax::Symbol>> {
        self.environment.as_ref().map(|_| self.top.user_globals.clone())
    }

    /// Adds the warnings of a unit just expanded into `body` (see [`Compiler::environment`]).
    fn warn(&mut self, body: &ir::Expr, defined_before: Option<&std::collections::HashSet<syntax::Symbol>>) {
        if let (Some(environment), Some(before)) = (&self.environment, defined_before) {
            let found = warnings::check(body, environment, &self.top.user_globals, before);
            self.warnings.extend(found);
        }
    }

    fn generate(&self, name: &str, mut body: ir::Expr, mut vars: Vec<ir::Var>) -> Image {
        analysis::analyze(&mut body, 0, &mut vars);
        codegen::Codegen::new(&self.files, &vars, &self.top.user_globals, name).finish(&body)
    }

    fn library_refs(&self, names: &[String]) -> Vec<LibraryRef> {
        names
            .iter()
            .filter_map(|name| self.top.libraries.get(name))
            .map(|library| LibraryRef { name: library.name.clone(), hash: library.hash })
            .collect()
    }

    /// Every user library compiled so far, by image hash.
    pub fn library_image(&self, hash: &[u8; 32]) -> Option<&Image> {
        self.top.libraries.values().find(|library| &library.hash == hash).map(|library| &library.image)
    }

    /// Compiles the user library an import set names, if it is not compiled yet, from its file.
    fn ensure_imported_library(&mut self, set: &Sx, stack: &mut Vec<String>) -> Result<(), CompileError> {
        let Some(parts) = library::import_set_library(set) else {
            return Ok(());
        };
        if library::is_standard(parts) {
            return Ok(());
        }
        let Some(name) = library::library_name(parts) else {
            return Ok(());
        };
        if self.top.libraries.contains_key(&name) {
            return Ok(());
        }
        if stack.contains(&name) {
            return Err(CompileError::new(
                format!("library {name} imports itself (through {})", stack.join(", ")),
                set.span,
            ));
        }
        let Some(path) = self.find_library_file(parts) else {
            return Err(CompileError::new(
                format!(
                    "unknown library {name}: no file for it on the library path (-L DIR or CHENILLES_LIBRARY_PATH)"
                ),
                set.span,
            ));
        };
        let text = std::fs::read_to_string(&path)
            .map_err(|e| CompileError::new(format!("cannot read {}: {e}", path.display()), set.span))?;
        let file = self.files.add(&path.display().to_string(), &text);
        let data = chenilles_reader::read_all(&text, file)?;
        let definition = data
            .iter()
            .map(Sx::from_datum)
            .find(|form| {
                head_name(form).as_deref() == Some("define-library")
                    && form.list().and_then(|items| items.get(1)).and_then(Sx::list).and_then(library::library_name)
                        == Some(name.clone())
            })
            .ok_or_else(|| {
                CompileError::new(format!("{} does not define the library {name}", path.display()), set.span)
            })?;
        stack.push(name);
        let base = path.parent().map(std::path::Path::to_path_buf).unwrap_or_default();
        let result = self.compile_library(&definition, &base, stack);
        stack.pop();
        result
    }

    /// `DIR/a/b.sld` (or `.scm`) for library `(a b)`, in the first library-path directory holding one.
    fn find_library_file(&self, parts: &[Sx]) -> Option<std::path::PathBuf> {
        let words: Vec<String> = parts
            .iter()
            .map(|p| match &p.kind {
                syntax::SxKind::Id(id) => id.name().to_string(),
                syntax::SxKind::Atom(chenilles_reader::DatumKind::Number(n)) => n.to_string(),
                _ => String::new(),
            })
            .collect();
        let relative: std::path::PathBuf = words.iter().collect();
        self.library_path.iter().find_map(|dir| {
            ["sld", "scm"].iter().map(|ext| dir.join(&relative).with_extension(ext)).find(|path| path.is_file())
        })
    }

    /// The forms of the files an `(include "file" ...)` names, relative to `base`.
    fn read_included(&mut self, form: &Sx, base: &std::path::Path, fold_case: bool) -> Result<Vec<Sx>, CompileError> {
        if !self.may_include {
            return Err(CompileError::new(
                "include reads a file: capability files was not granted to this process",
                form.span,
            ));
        }
        let mut forms = Vec::new();
        for file in &form.list().unwrap_or(&[])[1..] {
            let syntax::SxKind::Atom(chenilles_reader::DatumKind::String(relative)) = &file.kind else {
                return Err(CompileError::new("include takes file names (strings)", file.span));
            };
            let path = base.join(relative);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| CompileError::new(format!("cannot include {}: {e}", path.display()), file.span))?;
            let id = self.files.add(&path.display().to_string(), &text);
            let data = chenilles_reader::read_all(&text, id)?;
            forms.extend(data.iter().map(|datum| {
                let sx = Sx::from_datum(datum);
                if fold_case { sx.fold_case() } else { sx }
            }));
        }
        Ok(forms)
    }

    /// Compiles `(define-library name decl ...)` into its own image and registers it.
    fn compile_library(
        &mut self,
        form: &Sx,
        base: &std::path::Path,
        stack: &mut Vec<String>,
    ) -> Result<(), CompileError> {
        let items = form.list().unwrap_or(&[]);
        let Some(name) = items.get(1).and_then(Sx::list).and_then(library::library_name) else {
            return Err(CompileError::new("expected (define-library (name ...) declaration ...)", form.span));
        };
        // Includes are resolved here, relative to the library's file.
        let mut decls = Vec::new();
        let mut queue: std::collections::VecDeque<Sx> = items[2..].iter().cloned().collect();
        while let Some(decl) = queue.pop_front() {
            match head_name(&decl).as_deref() {
                Some(keyword @ ("include" | "include-ci")) => {
                    let mut body = vec![Sx::new(syntax::SxKind::Id(syntax::Ident::plain("begin")), decl.span)];
                    body.extend(self.read_included(&decl, base, keyword == "include-ci")?);
                    decls.push(Sx::new(syntax::SxKind::List(body, None), decl.span));
                }
                Some("include-library-declarations") => {
                    for included in self.read_included(&decl, base, false)?.into_iter().rev() {
                        queue.push_front(included);
                    }
                }
                _ => decls.push(decl),
            }
        }
        let items: Vec<Sx> = items[..2].iter().cloned().chain(decls).collect();
        for decl in &items[2..] {
            if head_name(decl).as_deref() == Some("import") {
                for set in &decl.list().unwrap_or(&[])[1..] {
                    self.ensure_imported_library(set, stack)?;
                }
            }
        }
        let saved_used = std::mem::take(&mut self.top.used_libraries);
        let defined_before = self.defined_globals();
        let mut expander = Expander::new(&mut self.top);
        let expanded = expander.expand_library(&name, &items[2..], form.span);
        let vars = std::mem::take(&mut expander.vars);
        let requires = std::mem::replace(&mut self.top.used_libraries, saved_used);
        let (body, exports) = expanded?;
        self.warn(&body, defined_before.as_ref());
        let mut image = self.generate(&name, body, vars);
        image.libraries = self.library_refs(&requires);
        let hash = *bytecode::image_hash(&image.to_bytes()).as_bytes();
        let info = library::LibraryInfo { name: name.clone(), exports, image, hash, requires };
        self.top.libraries.insert(name, std::sync::Arc::new(info));
        Ok(())
    }

    /// The rustc-style rendering of an error from this session.
    pub fn render(&self, error: &CompileError) -> String {
        self.files.render(error)
    }

    /// The rustc-style rendering of a warning from this session.
    pub fn render_warning(&self, warning: &Warning) -> String {
        self.files.render_warning(warning)
    }
}

/// The name of the identifier heading a list form, if any.
fn head_name(form: &Sx) -> Option<String> {
    form.list()?.first()?.id().map(|id| id.name().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_compiler_frees_its_environments_and_macros() {
        // Scopes and macros refer to each other; the compiler breaks the cycles when it goes
        // (without it, every compiler a host made leaked its prelude: ~190 KB each).
        let mut compiler = Compiler::new();
        let program = "(define-syntax twice (syntax-rules () ((_ e) (begin e e)))) \
                       (let-syntax ((once (syntax-rules () ((_ e) e)))) (twice (once 1)))";
        compiler.compile_source("t.scm", program).expect("the program compiles");
        let prelude = std::sync::Arc::downgrade(&compiler.top.prelude);
        let program_env = std::sync::Arc::downgrade(&compiler.top.env);
        drop(compiler);
        assert_eq!(prelude.strong_count(), 0, "the prelude's environment outlived its compiler");
        assert_eq!(program_env.strong_count(), 0, "the program's environment outlived its compiler");
    }
}
