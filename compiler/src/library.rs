//! Libraries: `define-library`, import sets, and where library source files are found.
//!
//! A user library compiles to an image of its own. Its top-level definitions become globals whose
//! names carry the library's name (`(contracts ledger) balance`), so libraries never clash with each
//! other or with the program; importing binds the importer's identifiers to those globals (or to the
//! library's macros, which keep resolving their own identifiers in the library). The standard
//! libraries — `(scheme …)`, `(srfi 69)`, `(chenilles …)` — have no explicit export lists: every
//! standard name is visible at the top level, and import sets over them only add names (`prefix`,
//! `rename`, `only`).

use std::collections::VecDeque;

use chenilles_reader::{DatumKind, Span};

use crate::bytecode::Image;
use crate::diagnostics::CompileError;
use crate::expand::{Binding, DefineValue, Env, Expander, STANDARD_LIBRARIES, SUPPORTED_SRFIS, Scope, Special};
use crate::ir::{Expr, ExprKind};
use crate::syntax::{Ident, Sx, SxKind, Symbol};

type Result<T> = std::result::Result<T, CompileError>;

/// A compiled user library.
pub struct LibraryInfo {
    /// As written, e.g. `(contracts ledger)`.
    pub name: String,
    /// External name and what it denotes.
    pub exports: Vec<(Symbol, Binding)>,
    pub image: Image,
    /// The blake3 hash of the image file.
    pub hash: [u8; 32],
    /// The user libraries this one imports, directly or not, in the order to load them.
    pub requires: Vec<String>,
}

/// The canonical text of a library name, `(a b 1)`, or `None` if `parts` is not a library name.
pub fn library_name(parts: &[Sx]) -> Option<String> {
    let words: Option<Vec<String>> = parts
        .iter()
        .map(|part| match &part.kind {
            SxKind::Id(id) => Some(id.name().to_string()),
            SxKind::Atom(DatumKind::Number(n)) => Some(n.to_string()),
            _ => None,
        })
        .collect();
    words.filter(|w| !w.is_empty()).map(|w| format!("({})", w.join(" ")))
}

/// Whether a library name (as from [`library_name`]) is one of the built-in libraries.
pub fn is_standard(parts: &[Sx]) -> bool {
    let words: Vec<String> = parts
        .iter()
        .map(|p| match &p.kind {
            SxKind::Id(id) => id.name().to_string(),
            SxKind::Atom(DatumKind::Number(n)) => n.to_string(),
            _ => String::new(),
        })
        .collect();
    match words.as_slice() {
        [scheme, library] if scheme == "scheme" => STANDARD_LIBRARIES.contains(&library.as_str()),
        [srfi, number] if srfi == "srfi" => SUPPORTED_SRFIS.contains(&number.as_str()),
        [chenilles, _] => chenilles == "chenilles",
        _ => false,
    }
}

/// The library an import set draws from, under its `only`/`except`/`prefix`/`rename` wrappers.
pub fn import_set_library(set: &Sx) -> Option<&[Sx]> {
    let items = set.list()?;
    match items.first().and_then(Sx::id).map(|id| id.name().to_string()).as_deref() {
        Some("only" | "except" | "prefix" | "rename") if items.len() >= 2 => import_set_library(&items[1]),
        _ => Some(items),
    }
}

/// What an import set makes visible.
enum Imported {
    /// A standard library: everything is visible anyway; `prefix` adds a prefixed view and `extra`
    /// holds names added by `only` and `rename`.
    Standard { prefix: Option<String>, extra: Vec<(Symbol, Binding)> },
    /// A user library's (filtered, renamed) exports.
    Names(Vec<(Symbol, Binding)>),
}

impl Expander<'_> {
    /// Processes `(import set ...)` into `env`.
    pub fn import(&mut self, env: &Env, form: &Sx) -> Result<()> {
        for set in &form.list().unwrap_or(&[])[1..] {
            match self.import_set(set)? {
                Imported::Standard { prefix, extra } => {
                    if let Some(prefix) = prefix {
                        env.add_prefix(prefix, self.top.prelude.clone());
                    }
                    for (name, binding) in extra {
                        env.unbind(&name);
                        env.bind(Ident::plain(&name), binding);
                    }
                }
                Imported::Names(names) => {
                    for (name, binding) in names {
                        env.unbind(&name);
                        env.bind(Ident::plain(&name), binding);
                    }
                }
            }
        }
        Ok(())
    }

    fn import_set(&mut self, set: &Sx) -> Result<Imported> {
        let Some(items) = set.list().filter(|items| !items.is_empty()) else {
            return Err(CompileError::new("an import set must be a library name or a modified import set", set.span));
        };
        let modifier = items[0].id().map(|id| id.name().to_string());
        let identifiers = |sxs: &[Sx]| -> Result<Vec<Symbol>> {
            sxs.iter()
                .map(|sx| {
                    sx.id()
                        .map(|id| id.name().clone())
                        .ok_or_else(|| CompileError::new("expected an identifier", sx.span))
                })
                .collect()
        };
        match (modifier.as_deref(), items) {
            (Some("only"), [_, inner, names @ ..]) => {
                let names = identifiers(names)?;
                Ok(match self.import_set(inner)? {
                    Imported::Standard { prefix, .. } => {
                        let extra = names.iter().map(|n| (n.clone(), self.standard_binding(n, &prefix))).collect();
                        Imported::Standard { prefix: None, extra }
                    }
                    Imported::Names(all) => {
                        for name in &names {
                            if !all.iter().any(|(n, _)| n == name) {
                                return Err(CompileError::new(
                                    format!("`{name}` is not exported by {}", inner.brief()),
                                    set.span,
                                ));
                            }
                        }
                        Imported::Names(all.into_iter().filter(|(n, _)| names.contains(n)).collect())
                    }
                })
            }
            (Some("except"), [_, inner, names @ ..]) => {
                let names = identifiers(names)?;
                Ok(match self.import_set(inner)? {
                    standard @ Imported::Standard { .. } => standard,
                    Imported::Names(all) => {
                        Imported::Names(all.into_iter().filter(|(n, _)| !names.contains(n)).collect())
                    }
                })
            }
            (Some("prefix"), [_, inner, prefix]) => {
                let prefix = identifiers(std::slice::from_ref(prefix))?.remove(0);
                Ok(match self.import_set(inner)? {
                    Imported::Standard { prefix: inner_prefix, extra } => Imported::Standard {
                        prefix: Some(format!("{prefix}{}", inner_prefix.unwrap_or_default())),
                        extra: extra.into_iter().map(|(n, b)| (format!("{prefix}{n}").into(), b)).collect(),
                    },
                    Imported::Names(all) => {
                        Imported::Names(all.into_iter().map(|(n, b)| (format!("{prefix}{n}").into(), b)).collect())
                    }
                })
            }
            (Some("rename"), [_, inner, renames @ ..]) => {
                let mut pairs = Vec::new();
                for rename in renames {
                    match rename.list() {
                        Some([from, to]) => pairs.push(identifiers(&[from.clone(), to.clone()])?),
                        _ => {
                            return Err(CompileError::new("expected (old-name new-name)", rename.span));
                        }
                    }
                }
                Ok(match self.import_set(inner)? {
                    Imported::Standard { prefix, mut extra } => {
                        for pair in &pairs {
                            extra.push((pair[1].clone(), self.standard_binding(&pair[0], &prefix)));
                        }
                        Imported::Standard { prefix, extra }
                    }
                    Imported::Names(all) => {
                        let renamed = all
                            .into_iter()
                            .map(|(n, b)| match pairs.iter().find(|p| p[0] == n) {
                                Some(p) => (p[1].clone(), b),
                                None => (n, b),
                            })
                            .collect();
                        Imported::Names(renamed)
                    }
                })
            }
            _ if is_standard(items) => Ok(Imported::Standard { prefix: None, extra: Vec::new() }),
            _ => {
                let name = library_name(items)
                    .ok_or_else(|| CompileError::new(format!("not a library name: {}", set.brief()), set.span))?;
                let Some(library) = self.top.libraries.get(&name).cloned() else {
                    return Err(CompileError::new(
                        format!(
                            "unknown library {name}: no file for it on the library path (-L DIR or CHENILLES_LIBRARY_PATH)"
                        ),
                        set.span,
                    ));
                };
                for required in library.requires.iter().chain(std::iter::once(&library.name)) {
                    if !self.top.used_libraries.contains(required) {
                        self.top.used_libraries.push(required.clone());
                    }
                }
                Ok(Imported::Names(library.exports.clone()))
            }
        }
    }

    /// What a standard name denotes, seen through an import prefix (`s:car` → `car`).
    fn standard_binding(&self, name: &str, prefix: &Option<String>) -> Binding {
        let bare = prefix.as_deref().and_then(|p| name.strip_prefix(p)).unwrap_or(name);
        self.resolve(&Ident::plain(bare), &self.top.prelude)
    }

    /// Expands the declarations of `(define-library name decl ...)`: returns the library's code and
    /// its exports.
    pub fn expand_library(&mut self, name: &str, decls: &[Sx], span: Span) -> Result<(Expr, Vec<(Symbol, Binding)>)> {
        let env = Scope::child(&self.top.prelude);
        let mut exports = Vec::new();
        let mut body: VecDeque<Sx> = VecDeque::new();
        let mut pending_decls: VecDeque<Sx> = decls.iter().cloned().collect();
        while let Some(decl) = pending_decls.pop_front() {
            let decl = &decl;
            let items = decl.list().unwrap_or(&[]);
            match items.first().and_then(Sx::id).map(|id| id.name().to_string()).as_deref() {
                Some("cond-expand") => {
                    for sub in self.cond_expand(decl)?.into_iter().rev() {
                        pending_decls.push_front(sub);
                    }
                }
                Some("export") => exports.extend(items[1..].iter().cloned()),
                Some("import") => self.import(&env, decl)?,
                Some("begin") => body.extend(items[1..].iter().cloned()),
                _ => {
                    return Err(CompileError::new(
                        "expected a library declaration: (export ...), (import ...) or (begin ...)",
                        decl.span,
                    ));
                }
            }
        }
        // Bind every definition first, so that bodies may refer to later definitions.
        enum Pending {
            Define(Symbol, Symbol, DefineValue, Span),
            Expr(Sx),
        }
        let mut pending = Vec::new();
        while let Some(form) = body.pop_front() {
            let form = self.expand_head(form, &env)?;
            let special = form.list().and_then(|items| items.first()).and_then(|h| self.special_of(h, &env));
            match special {
                Some(special @ (Special::Begin | Special::CondExpand)) => self.splice(special, &form, &mut body)?,
                Some(Special::Define) => {
                    let (id, value) = self.parse_define(&form)?;
                    let global: Symbol = format!("{name} {}", id.name()).into();
                    env.bind(id.clone(), Binding::Global(global.clone()));
                    self.top.user_globals.insert(global.clone());
                    pending.push(Pending::Define(global, id.name().clone(), value, form.span));
                }
                Some(Special::DefineSyntax) => {
                    let (id, transformer) = self.parse_define_syntax(&form, &env)?;
                    env.bind(id, Binding::Macro(transformer));
                }
                Some(Special::Import) => {
                    return Err(CompileError::new("imports of a library go in its declarations", form.span));
                }
                _ => pending.push(Pending::Expr(form)),
            }
        }
        let mut code = Vec::new();
        for item in pending {
            code.push(match item {
                Pending::Define(global, local, value, span) => {
                    let value = self.expand_define_value(&value, &env, &local, span)?;
                    Expr::new(ExprKind::DefineGlobal(global, Box::new(value)), span)
                }
                Pending::Expr(form) => self.expand(&form, &env)?,
            });
        }
        if code.is_empty() {
            code.push(Expr::unspecified(span));
        }
        let mut exported = Vec::new();
        for spec in &exports {
            let (internal, external) = match (&spec.kind, spec.list()) {
                (SxKind::Id(id), _) => (id.clone(), id.name().clone()),
                (_, Some([keyword, internal, external]))
                    if keyword.id().is_some_and(|k| &**k.name() == "rename") && internal.id().is_some() =>
                {
                    let external = external
                        .id()
                        .map(|id| id.name().clone())
                        .ok_or_else(|| CompileError::new("expected an identifier", external.span))?;
                    (internal.id().cloned().unwrap_or_else(|| Ident::plain("")), external)
                }
                _ => {
                    return Err(CompileError::new("expected an identifier or (rename internal external)", spec.span));
                }
            };
            exported.push((external, self.resolve(&internal, &env)));
        }
        Ok((Expr::new(ExprKind::Seq(code), span), exported))
    }
}
