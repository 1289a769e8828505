//! The expander: syntax objects to core IR.
//!
//! It resolves every identifier in an environment of nested [`Scope`]s, runs macros (see
//! [`crate::syntax_rules`]), and turns the special forms into the ten forms of [`crate::ir`]. The derived
//! forms that `syntax-rules` expresses well (`let*`, `cond`, `case`, `and`, `or`, `when`, `unless`, `do`)
//! are macros of the prelude, `stdlib-scm/syntax.scm`; the rest are special forms here.
//!
//! Hygiene comes from renamed identifiers ([`Ident::renamed`]): an identifier a macro inserted is looked
//! up first among the bindings that bound that very identifier, then, failing that, as its original in
//! the macro's definition environment.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chenilles_reader::{DatumKind, Span};

use crate::diagnostics::CompileError;
use crate::ir::{Expr, ExprKind, Lambda, LambdaId, Var, VarId};
use crate::syntax::{Ident, Quoted, Sx, SxKind, Symbol};
use crate::syntax_rules::SyntaxRules;

type Result<T> = std::result::Result<T, CompileError>;

/// One level of lexical scope.
pub struct Scope {
    entries: Mutex<Vec<(Ident, Binding)>>,
    parent: Option<Env>,
    /// Every scope of one compiler, so that the compiler can break their cycles when it goes.
    family: Arc<ScopeFamily>,
    /// `(import (prefix <standard library> p))`: a plain identifier starting with `p` that is bound
    /// nowhere means the rest of its name in the given environment.
    prefixes: Mutex<Vec<(String, Env)>>,
}

/// A chain of scopes, innermost first.
pub type Env = Arc<Scope>;

/// The scopes of one compiler. Scopes and macros refer to each other (a macro's definition
/// environment binds the macro; renamed identifiers carry environments), so reference counting
/// alone never frees them: when its compiler goes, the family empties every scope it still has.
#[derive(Default)]
pub struct ScopeFamily {
    scopes: Mutex<Vec<std::sync::Weak<Scope>>>,
}

/// The lock of a scope's tables. A compiler runs on one thread at a time (the locks make it `Send`,
/// not shared), and no lock is held across a call that could take it again; a panic while one
/// was held leaves a table that was only appended to or emptied, so a poisoned lock is taken as
/// it is.
fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl ScopeFamily {
    fn adopt(&self, scope: &Env) {
        let mut scopes = locked(&self.scopes);
        // Forget the scopes already freed whenever the list has doubled since it was last pruned.
        if scopes.len() == scopes.capacity() {
            scopes.retain(|weak| weak.strong_count() > 0);
        }
        scopes.push(Arc::downgrade(scope));
    }

    /// Empties every scope still alive, which breaks the cycles between scopes and macros.
    pub fn break_cycles(&self) {
        let scopes = std::mem::take(&mut *locked(&self.scopes));
        for scope in scopes.iter().filter_map(std::sync::Weak::upgrade) {
            drop(std::mem::take(&mut *locked(&scope.entries)));
            drop(std::mem::take(&mut *locked(&scope.prefixes)));
        }
    }
}

impl Scope {
    pub fn top(family: &Arc<ScopeFamily>) -> Env {
        let scope = Arc::new(Scope {
            entries: Mutex::new(Vec::new()),
            parent: None,
            family: family.clone(),
            prefixes: Mutex::new(Vec::new()),
        });
        family.adopt(&scope);
        for (name, special) in SPECIAL_FORMS {
            scope.bind(Ident::plain(name), Binding::Special(*special));
        }
        scope
    }

    pub fn child(parent: &Env) -> Env {
        let scope = Arc::new(Scope {
            entries: Mutex::new(Vec::new()),
            parent: Some(parent.clone()),
            family: parent.family.clone(),
            prefixes: Mutex::new(Vec::new()),
        });
        parent.family.adopt(&scope);
        scope
    }

    pub fn bind(&self, id: Ident, binding: Binding) {
        locked(&self.entries).push((id, binding));
    }

    fn lookup_here(&self, id: &Ident) -> Option<Binding> {
        locked(&self.entries).iter().rev().find(|(bound, _)| bound.same(id)).map(|(_, b)| b.clone())
    }

    pub fn add_prefix(&self, prefix: String, env: Env) {
        locked(&self.prefixes).push((prefix, env));
    }

    fn binds_here(&self, id: &Ident) -> bool {
        locked(&self.entries).iter().any(|(bound, _)| bound.same(id))
    }

    /// Forgets the syntactic bindings of `name` in this scope (a top-level `define` overrides them).
    pub fn unbind(&self, name: &str) {
        locked(&self.entries).retain(|(bound, _)| &**bound.name() != name);
    }
}

/// What an identifier refers to.
#[derive(Clone)]
pub enum Binding {
    Special(Special),
    Macro(Arc<SyntaxRules>),
    Local(VarId),
    Global(Symbol),
}

impl Binding {
    /// `free-identifier=?` on resolved bindings.
    pub fn same(&self, other: &Binding) -> bool {
        match (self, other) {
            (Binding::Special(a), Binding::Special(b)) => a == b,
            (Binding::Macro(a), Binding::Macro(b)) => Arc::ptr_eq(a, b),
            (Binding::Local(a), Binding::Local(b)) => a == b,
            (Binding::Global(a), Binding::Global(b)) => a == b,
            _ => false,
        }
    }
}

/// The forms the expander implements itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Special {
    Quote,
    Quasiquote,
    Unquote,
    UnquoteSplicing,
    Lambda,
    Define,
    Set,
    If,
    Begin,
    Let,
    Letrec,
    DefineSyntax,
    LetSyntax,
    LetrecSyntax,
    SyntaxRules,
    Import,
    CondExpand,
}

const SPECIAL_FORMS: &[(&str, Special)] = &[
    ("quote", Special::Quote),
    ("quasiquote", Special::Quasiquote),
    ("unquote", Special::Unquote),
    ("unquote-splicing", Special::UnquoteSplicing),
    ("lambda", Special::Lambda),
    ("define", Special::Define),
    ("set!", Special::Set),
    ("if", Special::If),
    ("begin", Special::Begin),
    ("let", Special::Let),
    ("letrec", Special::Letrec),
    ("letrec*", Special::Letrec),
    ("define-syntax", Special::DefineSyntax),
    ("let-syntax", Special::LetSyntax),
    ("letrec-syntax", Special::LetrecSyntax),
    ("syntax-rules", Special::SyntaxRules),
    ("import", Special::Import),
    ("cond-expand", Special::CondExpand),
];

/// The standard libraries a program may import; all of them are always present.
pub(crate) const STANDARD_LIBRARIES: &[&str] = &[
    "base",
    "case-lambda",
    "char",
    "complex",
    "cxr",
    "eval",
    "file",
    "inexact",
    "lazy",
    "load",
    "process-context",
    "read",
    "repl",
    "time",
    "write",
    "r5rs",
];

/// The feature identifiers `cond-expand` and `(features)` know.
pub const FEATURES: &[&str] =
    &["r7rs", "exact-closed", "exact-complex-free", "ratios", "full-unicode", "chenilles", "srfi-69", "posix", "unix"];

/// The SRFI libraries that exist, by number: their procedures are always present, like the standard
/// libraries'.
pub(crate) const SUPPORTED_SRFIS: &[&str] = &["69"];

/// State that outlives one compilation unit: the top-level environment (with every macro defined so
/// far) and the globals the user has defined or assigned, which must not be inlined as primitives.
pub struct TopLevel {
    /// The program's top level; a child of `prelude`.
    pub env: Env,
    /// The special forms and the prelude's macros: what every library starts from.
    pub prelude: Env,
    /// User libraries compiled so far, by name as written, e.g. `(contracts ledger)`.
    pub libraries: std::collections::HashMap<String, Arc<crate::library::LibraryInfo>>,
    /// The user libraries the unit being compiled imports, in the order it imported them.
    pub used_libraries: Vec<String>,
    /// The special forms alone, never redefined: what compiler-inserted keywords resolve in.
    pub pristine: Env,
    pub user_globals: HashSet<Symbol>,
    pub next_stamp: u32,
    /// Every scope made for this top level (see [`ScopeFamily`]).
    family: Arc<ScopeFamily>,
}

impl TopLevel {
    pub fn new() -> TopLevel {
        let family = Arc::new(ScopeFamily::default());
        TopLevel {
            env: Scope::top(&family),
            prelude: Scope::top(&family),
            libraries: std::collections::HashMap::new(),
            used_libraries: Vec::new(),
            pristine: Scope::top(&family),
            user_globals: HashSet::new(),
            next_stamp: 0,
            family,
        }
    }
}

impl Drop for TopLevel {
    fn drop(&mut self) {
        self.family.break_cycles();
    }
}

impl Default for TopLevel {
    fn default() -> TopLevel {
        TopLevel::new()
    }
}

/// Expands one compilation unit.
pub struct Expander<'a> {
    pub top: &'a mut TopLevel,
    pub vars: Vec<Var>,
    pub(crate) lambdas: Vec<LambdaId>,
    /// Macro uses expanded so far in this unit (see [`crate::syntax_rules::MAX_EXPANSIONS`]).
    pub(crate) expansions: u64,
    /// Syntax nodes macro templates have produced in this unit.
    pub(crate) expanded_nodes: u64,
    next_lambda: LambdaId,
}

/// The value part of a `define`.
pub(crate) enum DefineValue {
    Unspecified,
    Expr(Sx),
    Lambda(Sx, Vec<Sx>),
}

/// One item of a body, before its expressions are expanded.
enum BodyItem {
    Define(VarId, DefineValue, Span),
    Expr(Sx),
}

impl<'a> Expander<'a> {
    pub fn new(top: &'a mut TopLevel) -> Expander<'a> {
        Expander { top, vars: Vec::new(), lambdas: vec![0], next_lambda: 1, expansions: 0, expanded_nodes: 0 }
    }

    pub fn fresh_stamp(&mut self) -> u32 {
        self.top.next_stamp += 1;
        self.top.next_stamp
    }

    fn new_var(&mut self, name: &Symbol) -> VarId {
        let owner = *self.lambdas.last().unwrap_or(&0);
        self.vars.push(Var { name: name.clone(), owner, assigned: false, captured: false });
        (self.vars.len() - 1) as VarId
    }

    /// What `id` refers to in `env`.
    pub fn resolve(&self, id: &Ident, env: &Env) -> Binding {
        let mut scope = Some(env);
        while let Some(s) = scope {
            if let Some(binding) = s.lookup_here(id) {
                return binding;
            }
            scope = s.parent.as_ref();
        }
        match id.renaming() {
            Some((original, macro_env)) => self.resolve(original, macro_env),
            None => self.resolve_prefixed(id, env).unwrap_or_else(|| Binding::Global(id.name().clone())),
        }
    }

    /// A plain identifier bound nowhere may carry the prefix of a prefixed standard-library import.
    fn resolve_prefixed(&self, id: &Ident, env: &Env) -> Option<Binding> {
        let mut scope = Some(env);
        while let Some(s) = scope {
            // A copy: resolving in a library's scope may look at this scope's prefixes again.
            let prefixes = locked(&s.prefixes).clone();
            for (prefix, library_env) in prefixes.iter() {
                if let Some(rest) = id.name().strip_prefix(prefix.as_str())
                    && !rest.is_empty()
                {
                    return Some(self.resolve(&Ident::plain(rest), library_env));
                }
            }
            scope = s.parent.as_ref();
        }
        None
    }

    pub(crate) fn special_of(&self, sx: &Sx, env: &Env) -> Option<Special> {
        match sx.id().map(|id| self.resolve(id, env)) {
            Some(Binding::Special(s)) => Some(s),
            _ => None,
        }
    }

    // ---- The top level -------------------------------------------------------------------------------

    /// Expands the forms of a program or a REPL entry, in order, into one expression.
    pub fn expand_top_level(&mut self, forms: &[Sx], span: Span) -> Result<Expr> {
        let env = self.top.env.clone();
        let mut queue: VecDeque<Sx> = forms.iter().cloned().collect();
        let mut out = Vec::new();
        while let Some(form) = queue.pop_front() {
            let form = self.expand_head(form, &env)?;
            let special = form.list().and_then(|items| items.first()).and_then(|h| self.special_of(h, &env));
            match special {
                Some(special @ (Special::Begin | Special::CondExpand)) => self.splice(special, &form, &mut queue)?,
                Some(Special::Define) => {
                    let (id, rhs) = self.parse_define(&form)?;
                    let name = id.name().clone();
                    env.unbind(&name);
                    if !matches!(self.resolve(&Ident::plain(&name), &env), Binding::Global(_)) {
                        // Shadows a macro or special form of the prelude for the rest of the program.
                        env.bind(Ident::plain(&name), Binding::Global(name.clone()));
                    }
                    self.top.user_globals.insert(name.clone());
                    let value = self.expand_define_value(&rhs, &env, &name, form.span)?;
                    out.push(Expr::new(ExprKind::DefineGlobal(name, Box::new(value)), form.span));
                }
                Some(Special::DefineSyntax) => {
                    let (id, transformer) = self.parse_define_syntax(&form, &env)?;
                    env.unbind(id.name());
                    env.bind(Ident::plain(id.name()), Binding::Macro(transformer));
                }
                Some(Special::Import) => self.import(&env, &form)?,
                _ => out.push(self.expand(&form, &env)?),
            }
        }
        if out.is_empty() {
            out.push(Expr::unspecified(span));
        }
        Ok(Expr::new(ExprKind::Seq(out), span))
    }

    /// Puts the forms a `begin` or a `cond-expand` stands for at the front of `queue`, in order:
    /// at the top level, in bodies and in libraries both splice into the surrounding sequence.
    pub(crate) fn splice(&self, special: Special, form: &Sx, queue: &mut VecDeque<Sx>) -> Result<()> {
        let forms = match special {
            Special::CondExpand => self.cond_expand(form)?,
            _ => form.list().map_or_else(Vec::new, |items| items[1..].to_vec()),
        };
        for sub in forms.into_iter().rev() {
            queue.push_front(sub);
        }
        Ok(())
    }

    /// Expands macro uses at the head of `form` until its head is not a macro keyword.
    pub(crate) fn expand_head(&mut self, mut form: Sx, env: &Env) -> Result<Sx> {
        loop {
            let Some(head) = form.list().and_then(|items| items.first()).and_then(Sx::id) else {
                return Ok(form);
            };
            match self.resolve(head, env) {
                Binding::Macro(transformer) => form = self.apply_macro(&transformer, &form, env)?,
                _ => return Ok(form),
            }
        }
    }

    // ---- Expressions ---------------------------------------------------------------------------------

    pub fn expand(&mut self, sx: &Sx, env: &Env) -> Result<Expr> {
        let span = sx.span;
        match &sx.kind {
            SxKind::Id(id) => match self.resolve(id, env) {
                Binding::Local(var) => Ok(Expr::new(ExprKind::Local(var), span)),
                Binding::Global(name) => Ok(Expr::new(ExprKind::Global(name), span)),
                Binding::Special(_) | Binding::Macro(_) => {
                    Err(CompileError::new(format!("`{}` is a syntactic keyword, not a variable", id.name()), span))
                }
            },
            SxKind::Atom(atom) => Ok(Expr::new(ExprKind::Const(Quoted::from_atom(atom)), span)),
            SxKind::Vector(_) => Ok(Expr::new(ExprKind::Const(sx.to_quoted()), span)),
            SxKind::List(items, Some(_)) => {
                // Only a macro may be used with an improper list.
                let head = items.first().and_then(Sx::id).map(|id| self.resolve(id, env));
                if let Some(Binding::Macro(transformer)) = head {
                    let expanded = self.apply_macro(&transformer, sx, env)?;
                    return self.expand(&expanded, env);
                }
                Err(CompileError::new("an improper list is not a valid expression", span))
            }
            SxKind::List(items, None) => {
                let Some(head) = items.first() else {
                    return Err(CompileError::new("empty combination `()`; write '() for the empty list", span));
                };
                if let Some(id) = head.id() {
                    match self.resolve(id, env) {
                        Binding::Special(special) => {
                            return self.expand_special(special, sx, items, env);
                        }
                        Binding::Macro(transformer) => {
                            let expanded = self.apply_macro(&transformer, sx, env)?;
                            return self.expand(&expanded, env);
                        }
                        _ => {}
                    }
                }
                let operator = self.expand(head, env)?;
                let operands = items[1..].iter().map(|a| self.expand(a, env)).collect::<Result<_>>()?;
                Ok(Expr::new(ExprKind::Call(Box::new(operator), operands), span))
            }
        }
    }

    /// Expands `sx`, naming it `name` if it is a lambda.
    fn expand_named(&mut self, sx: &Sx, env: &Env, name: &str) -> Result<Expr> {
        let mut expr = self.expand(sx, env)?;
        if let ExprKind::Lambda(lambda) = &mut expr.kind
            && lambda.name.is_empty()
        {
            lambda.name = name.to_string();
        }
        Ok(expr)
    }

    fn expand_special(&mut self, special: Special, sx: &Sx, items: &[Sx], env: &Env) -> Result<Expr> {
        let span = sx.span;
        let keyword = items[0].id().map_or_else(String::new, |id| id.name().to_string());
        let arity_error =
            |expected: &str| CompileError::new(format!("bad `{keyword}` syntax: expected {expected}"), span);
        match special {
            Special::Quote => match items {
                [_, datum] => Ok(Expr::new(ExprKind::Const(datum.to_quoted()), span)),
                _ => Err(arity_error("(quote datum)")),
            },
            Special::Quasiquote => match items {
                [_, template] => self.quasiquote(template, 1, env),
                _ => Err(arity_error("(quasiquote template)")),
            },
            Special::Unquote | Special::UnquoteSplicing => {
                Err(CompileError::new(format!("`{keyword}` outside of a quasiquote"), span))
            }
            Special::Lambda => match items {
                [_, formals, body @ ..] if !body.is_empty() => self.expand_lambda(formals, body, env, span, ""),
                _ => Err(arity_error("(lambda formals body...)")),
            },
            Special::Define | Special::DefineSyntax => Err(CompileError::new(
                format!("`{keyword}` is only allowed at the top level or at the start of a body"),
                span,
            )),
            Special::CondExpand => {
                let chosen = self.cond_expand(sx)?;
                if chosen.is_empty() {
                    return Ok(Expr::unspecified(span));
                }
                let mut begin = vec![self.core_keyword("begin", span)];
                begin.extend(chosen);
                self.expand(&Sx::new(SxKind::List(begin, None), span), env)
            }
            Special::Import => Err(CompileError::new("`import` is only allowed at the top level", span)),
            Special::SyntaxRules => {
                Err(CompileError::new("`syntax-rules` is only allowed as the transformer of a syntax definition", span))
            }
            Special::Set => match items {
                [_, target, value] => {
                    let Some(id) = target.id() else {
                        return Err(CompileError::new("`set!` needs a variable name", target.span));
                    };
                    let value = Box::new(self.expand(value, env)?);
                    match self.resolve(id, env) {
                        Binding::Local(var) => {
                            self.vars[var as usize].assigned = true;
                            Ok(Expr::new(ExprKind::SetLocal(var, value), span))
                        }
                        Binding::Global(name) => {
                            self.top.user_globals.insert(name.clone());
                            Ok(Expr::new(ExprKind::SetGlobal(name, value), span))
                        }
                        _ => Err(CompileError::new(
                            format!("cannot `set!` the syntactic keyword `{}`", id.name()),
                            target.span,
                        )),
                    }
                }
                _ => Err(arity_error("(set! variable expression)")),
            },
            Special::If => match items {
                [_, test, then] => {
                    let (test, then) = (self.expand(test, env)?, self.expand(then, env)?);
                    Ok(Expr::new(ExprKind::If(Box::new(test), Box::new(then), Box::new(Expr::unspecified(span))), span))
                }
                [_, test, then, otherwise] => {
                    let test = self.expand(test, env)?;
                    let then = self.expand(then, env)?;
                    let otherwise = self.expand(otherwise, env)?;
                    Ok(Expr::new(ExprKind::If(Box::new(test), Box::new(then), Box::new(otherwise)), span))
                }
                _ => Err(arity_error("(if test consequent [alternative])")),
            },
            Special::Begin => {
                if items.len() == 1 {
                    return Ok(Expr::unspecified(span));
                }
                let body = items[1..].iter().map(|e| self.expand(e, env)).collect::<Result<Vec<_>>>()?;
                Ok(Expr::new(ExprKind::Seq(body), span))
            }
            Special::Let => self.expand_let(items, env, span),
            Special::Letrec => {
                let [_, bindings, body @ ..] = items else {
                    return Err(arity_error("(letrec ((variable init) ...) body...)"));
                };
                let pairs = self.parse_bindings(bindings)?;
                let scope = Scope::child(env);
                let vars = self.bind_vars(&scope, pairs.iter().map(|(id, _)| id))?;
                let mut inits = Vec::new();
                for ((id, init), var) in pairs.iter().zip(vars) {
                    inits.push((var, self.expand_named(init, &scope, id.name())?));
                }
                let body = self.expand_body(body, &scope, span)?;
                Ok(Expr::new(ExprKind::Letrec(inits, Box::new(body)), span))
            }
            Special::LetSyntax | Special::LetrecSyntax => {
                let [_, bindings, body @ ..] = items else {
                    return Err(arity_error("(let-syntax ((keyword transformer) ...) body...)"));
                };
                let scope = Scope::child(env);
                let definition_env = if special == Special::LetrecSyntax { &scope } else { env };
                for (id, spec) in self.parse_bindings(bindings)? {
                    let transformer = self.parse_transformer(&spec, definition_env, id.name())?;
                    scope.bind(id, Binding::Macro(transformer));
                }
                self.expand_body(body, &scope, span)
            }
        }
    }

    fn expand_let(&mut self, items: &[Sx], env: &Env, span: Span) -> Result<Expr> {
        match items {
            [_, name, bindings, body @ ..] if name.id().is_some() && !body.is_empty() => {
                // Named let: ((letrec ((name (lambda (var ...) body...))) name) init ...)
                let Some(name_id) = name.id() else { unreachable!("checked by the guard") };
                let pairs = self.parse_bindings(bindings)?;
                let mut inits = Vec::new();
                for (_, init) in &pairs {
                    inits.push(self.expand(init, env)?);
                }
                let scope = Scope::child(env);
                let loop_var = self.bind_vars(&scope, std::iter::once(name_id))?[0];
                let formals: Vec<Sx> = pairs.iter().map(|(id, _)| Sx::new(SxKind::Id(id.clone()), span)).collect();
                let formals = Sx::new(SxKind::List(formals, None), bindings.span);
                let lambda = self.expand_lambda(&formals, body, &scope, span, name_id.name())?;
                let letrec = Expr::new(
                    ExprKind::Letrec(vec![(loop_var, lambda)], Box::new(Expr::new(ExprKind::Local(loop_var), span))),
                    span,
                );
                Ok(Expr::new(ExprKind::Call(Box::new(letrec), inits), span))
            }
            [_, bindings, body @ ..] if !body.is_empty() => {
                let pairs = self.parse_bindings(bindings)?;
                let mut inits = Vec::new();
                for (id, init) in &pairs {
                    inits.push(self.expand_named(init, env, id.name())?);
                }
                let scope = Scope::child(env);
                let vars = self.bind_vars(&scope, pairs.iter().map(|(id, _)| id))?;
                let body = self.expand_body(body, &scope, span)?;
                Ok(Expr::new(ExprKind::Let(vars.into_iter().zip(inits).collect(), Box::new(body)), span))
            }
            _ => Err(CompileError::new(
                "bad `let` syntax: expected (let ((variable init) ...) body...) or a named let",
                span,
            )),
        }
    }

    /// `((id init) ...)` as pairs.
    fn parse_bindings(&self, bindings: &Sx) -> Result<Vec<(Ident, Sx)>> {
        let Some(list) = bindings.list() else {
            return Err(CompileError::new("expected a list of bindings `((name value) ...)`", bindings.span));
        };
        list.iter()
            .map(|binding| match binding.list() {
                Some([name, value]) if name.id().is_some() => {
                    Ok((name.id().cloned().unwrap_or_else(|| Ident::plain("")), value.clone()))
                }
                _ => Err(CompileError::new("expected a binding `(name value)`", binding.span)),
            })
            .collect()
    }

    /// Binds fresh variables for `ids` in `scope`, refusing duplicates.
    fn bind_vars<'i>(&mut self, scope: &Env, ids: impl Iterator<Item = &'i Ident>) -> Result<Vec<VarId>> {
        let mut vars = Vec::new();
        for id in ids {
            if scope.binds_here(id) {
                return Err(CompileError::new(format!("`{}` is bound twice", id.name()), Span::default()));
            }
            let var = self.new_var(id.name());
            scope.bind(id.clone(), Binding::Local(var));
            vars.push(var);
        }
        Ok(vars)
    }

    fn expand_lambda(&mut self, formals: &Sx, body: &[Sx], env: &Env, span: Span, name: &str) -> Result<Expr> {
        let id = self.next_lambda;
        self.next_lambda += 1;
        self.lambdas.push(id);
        let result = self.expand_lambda_in(id, formals, body, env, span, name);
        self.lambdas.pop();
        result
    }

    fn expand_lambda_in(
        &mut self,
        id: LambdaId,
        formals: &Sx,
        body: &[Sx],
        env: &Env,
        span: Span,
        name: &str,
    ) -> Result<Expr> {
        let scope = Scope::child(env);
        let (items, tail): (&[Sx], Option<&Sx>) = match &formals.kind {
            SxKind::Id(_) => (&[], Some(formals)),
            SxKind::List(items, tail) => (items, tail.as_deref()),
            _ => {
                return Err(CompileError::new("expected lambda parameters", formals.span));
            }
        };
        let (mut required, mut optional) = (Vec::new(), Vec::new());
        let mut in_optional = false;
        let mut rest = None;
        let mut items_iter = items.iter();
        while let Some(item) = items_iter.next() {
            match &item.kind {
                SxKind::Id(param) => {
                    let var = self.bind_param(&scope, param, item.span)?;
                    if in_optional { optional.push(var) } else { required.push(var) }
                }
                SxKind::Atom(DatumKind::Special(marker)) if marker == "optional" && !in_optional => in_optional = true,
                SxKind::Atom(DatumKind::Special(marker)) if marker == "rest" => {
                    match (items_iter.next(), items_iter.next()) {
                        (Some(param), None) if param.id().is_some() && tail.is_none() => {
                            let Some(param_id) = param.id() else { unreachable!("checked") };
                            rest = Some(self.bind_param(&scope, param_id, param.span)?);
                        }
                        _ => {
                            return Err(CompileError::new(
                                "`#!rest` must be followed by exactly one parameter",
                                item.span,
                            ));
                        }
                    }
                }
                _ => {
                    return Err(CompileError::new("a parameter must be an identifier", item.span));
                }
            }
        }
        if let Some(tail) = tail {
            let Some(param) = tail.id() else {
                return Err(CompileError::new("a rest parameter must be an identifier", tail.span));
            };
            rest = Some(self.bind_param(&scope, param, tail.span)?);
        }
        let body = self.expand_body(body, &scope, span)?;
        let lambda = Lambda { id, name: name.to_string(), required, optional, rest, body, free: Vec::new() };
        Ok(Expr::new(ExprKind::Lambda(Box::new(lambda)), span))
    }

    fn bind_param(&mut self, scope: &Env, param: &Ident, span: Span) -> Result<VarId> {
        if scope.binds_here(param) {
            return Err(CompileError::new(format!("parameter `{}` appears twice", param.name()), span));
        }
        let var = self.new_var(param.name());
        scope.bind(param.clone(), Binding::Local(var));
        Ok(var)
    }

    /// A body: internal definitions (possibly produced by macros or spliced from `begin`), then
    /// expressions, as one `letrec*` whose bindings keep the order in which they were written.
    pub fn expand_body(&mut self, forms: &[Sx], env: &Env, span: Span) -> Result<Expr> {
        let scope = Scope::child(env);
        let mut queue: VecDeque<Sx> = forms.iter().cloned().collect();
        let mut items = Vec::new();
        while let Some(form) = queue.pop_front() {
            let form = self.expand_head(form, &scope)?;
            let special = form.list().and_then(|items| items.first()).and_then(|h| self.special_of(h, &scope));
            match special {
                Some(special @ (Special::Begin | Special::CondExpand)) => self.splice(special, &form, &mut queue)?,
                Some(Special::Define) => {
                    let (id, rhs) = self.parse_define(&form)?;
                    if scope.binds_here(&id) {
                        return Err(CompileError::new(
                            format!("`{}` is defined twice in this body", id.name()),
                            form.span,
                        ));
                    }
                    let var = self.bind_vars(&scope, std::iter::once(&id))?[0];
                    items.push(BodyItem::Define(var, rhs, form.span));
                }
                Some(Special::DefineSyntax) => {
                    let (id, transformer) = self.parse_define_syntax(&form, &scope)?;
                    scope.bind(id, Binding::Macro(transformer));
                }
                _ => items.push(BodyItem::Expr(form)),
            }
        }
        let Some(BodyItem::Expr(last)) = items.pop() else {
            return Err(CompileError::new("a body must end with an expression", span));
        };
        let mut bindings = Vec::new();
        let mut exprs = Vec::new();
        let has_definitions = items.iter().any(|item| matches!(item, BodyItem::Define(..)));
        for item in items {
            match item {
                BodyItem::Define(var, rhs, span) => {
                    let name = self.vars[var as usize].name.clone();
                    bindings.push((var, self.expand_define_value(&rhs, &scope, &name, span)?));
                }
                BodyItem::Expr(form) if has_definitions => {
                    let var = self.new_var(&Symbol::from("_"));
                    bindings.push((var, self.expand(&form, &scope)?));
                }
                BodyItem::Expr(form) => exprs.push(self.expand(&form, &scope)?),
            }
        }
        let last = self.expand(&last, &scope)?;
        if bindings.is_empty() {
            if exprs.is_empty() {
                return Ok(last);
            }
            exprs.push(last);
            return Ok(Expr::new(ExprKind::Seq(exprs), span));
        }
        Ok(Expr::new(ExprKind::Letrec(bindings, Box::new(last)), span))
    }

    /// `(define id expr)`, `(define id)`, `(define (id . formals) body...)` and curried forms.
    pub(crate) fn parse_define(&self, form: &Sx) -> Result<(Ident, DefineValue)> {
        let items = form.list().unwrap_or(&[]);
        let span = form.span;
        let bad = || {
            CompileError::new(
                "bad `define` syntax: expected (define name value) or (define (name . formals) body...)",
                span,
            )
        };
        match items {
            [_, target] => Ok((target.id().ok_or_else(bad)?.clone(), DefineValue::Unspecified)),
            [_, target, value] if target.id().is_some() => {
                Ok((target.id().ok_or_else(bad)?.clone(), DefineValue::Expr(value.clone())))
            }
            [define, target, body @ ..] if !body.is_empty() => match &target.kind {
                SxKind::List(signature, tail) if !signature.is_empty() => {
                    let head = signature[0].clone();
                    let formals = Sx::new(SxKind::List(signature[1..].to_vec(), tail.clone()), target.span);
                    match head.id() {
                        Some(id) => Ok((id.clone(), DefineValue::Lambda(formals, body.to_vec()))),
                        None => {
                            // Curried: (define ((f a) b) body...) is (define (f a) (lambda (b) body...)).
                            let mut lambda = vec![self.core_keyword("lambda", span), formals];
                            lambda.extend(body.iter().cloned());
                            let lambda = Sx::new(SxKind::List(lambda, None), span);
                            self.parse_define(&Sx::new(SxKind::List(vec![define.clone(), head, lambda], None), span))
                        }
                    }
                }
                _ => Err(bad()),
            },
            _ => Err(bad()),
        }
    }

    /// The forms of the first `cond-expand` clause whose feature requirement holds.
    pub(crate) fn cond_expand(&self, form: &Sx) -> Result<Vec<Sx>> {
        for clause in &form.list().unwrap_or(&[])[1..] {
            let Some((requirement, body)) = clause.list().and_then(<[Sx]>::split_first) else {
                return Err(CompileError::new("a cond-expand clause is (requirement form ...)", clause.span));
            };
            let is_else = requirement.id().is_some_and(|id| &**id.name() == "else");
            if is_else || self.feature_holds(requirement)? {
                return Ok(body.to_vec());
            }
        }
        Ok(Vec::new())
    }

    fn feature_holds(&self, requirement: &Sx) -> Result<bool> {
        if let Some(id) = requirement.id() {
            return Ok(FEATURES.contains(&&**id.name()));
        }
        let items = requirement.list().unwrap_or(&[]);
        let operator = items.first().and_then(Sx::id).map(|id| id.name().to_string());
        match (operator.as_deref(), items) {
            (Some("and"), [_, rest @ ..]) => {
                for r in rest {
                    if !self.feature_holds(r)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            (Some("or"), [_, rest @ ..]) => {
                for r in rest {
                    if self.feature_holds(r)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            (Some("not"), [_, r]) => Ok(!self.feature_holds(r)?),
            (Some("library"), [_, name]) => {
                let parts = name.list().unwrap_or(&[]);
                Ok(crate::library::is_standard(parts)
                    || crate::library::library_name(parts).is_some_and(|n| self.top.libraries.contains_key(&n)))
            }
            _ => Err(CompileError::new(
                "a feature requirement is an identifier, (and ...), (or ...), (not ...) or (library ...)",
                requirement.span,
            )),
        }
    }

    /// An identifier that means the core special form `name` whatever the user has rebound.
    fn core_keyword(&self, name: &str, span: Span) -> Sx {
        Sx::new(SxKind::Id(Ident::renamed(Ident::plain(name), self.top.pristine.clone(), 0)), span)
    }

    pub(crate) fn expand_define_value(
        &mut self,
        value: &DefineValue,
        env: &Env,
        name: &str,
        span: Span,
    ) -> Result<Expr> {
        match value {
            DefineValue::Unspecified => Ok(Expr::unspecified(span)),
            DefineValue::Expr(sx) => self.expand_named(sx, env, name),
            DefineValue::Lambda(formals, body) => self.expand_lambda(formals, body, env, span, name),
        }
    }

    pub(crate) fn parse_define_syntax(&mut self, form: &Sx, env: &Env) -> Result<(Ident, Arc<SyntaxRules>)> {
        match form.list() {
            Some([_, name, spec]) if name.id().is_some() => {
                let id = name.id().cloned().unwrap_or_else(|| Ident::plain(""));
                let transformer = self.parse_transformer(spec, env, id.name())?;
                Ok((id, transformer))
            }
            _ => Err(CompileError::new(
                "bad `define-syntax` syntax: expected (define-syntax name transformer)",
                form.span,
            )),
        }
    }

    fn parse_transformer(&mut self, spec: &Sx, env: &Env, name: &str) -> Result<Arc<SyntaxRules>> {
        let spec = self.expand_head(spec.clone(), env)?;
        let is_syntax_rules = spec.list().and_then(|items| items.first()).and_then(|h| self.special_of(h, env))
            == Some(Special::SyntaxRules);
        if !is_syntax_rules {
            return Err(CompileError::new("a macro transformer must be a `syntax-rules` form", spec.span));
        }
        SyntaxRules::parse(&spec, env, name).map(Arc::new)
    }

    // ---- Quasiquote ----------------------------------------------------------------------------------

    fn quasiquote(&mut self, template: &Sx, depth: u32, env: &Env) -> Result<Expr> {
        let span = template.span;
        if !self.has_unquote(template, depth, env) {
            return Ok(Expr::new(ExprKind::Const(template.to_quoted()), span));
        }
        match &template.kind {
            SxKind::List(items, None) if items.len() == 2 => match self.special_of(&items[0], env) {
                Some(Special::Unquote) if depth == 1 => return self.expand(&items[1], env),
                Some(Special::Unquote) => {
                    return self.wrap_quasi("unquote", &items[1], depth - 1, env, span);
                }
                Some(Special::Quasiquote) => {
                    return self.wrap_quasi("quasiquote", &items[1], depth + 1, env, span);
                }
                _ => {}
            },
            _ => {}
        }
        match &template.kind {
            SxKind::List(items, tail) => {
                // `(a . ,b)` reads as `(a unquote b)`: an unquote in the next-to-last place is the tail.
                let (items, unquoted_tail) = match items.as_slice() {
                    [init @ .., keyword, last]
                        if tail.is_none()
                            && !init.is_empty()
                            && matches!(self.special_of(keyword, env), Some(Special::Unquote)) =>
                    {
                        let tail_form = Sx::new(SxKind::List(vec![keyword.clone(), last.clone()], None), last.span);
                        (init, Some(tail_form))
                    }
                    _ => (items.as_slice(), None),
                };
                let mut acc = match (tail, unquoted_tail) {
                    (_, Some(tail)) => self.quasiquote(&tail, depth, env)?,
                    (Some(tail), None) => self.quasiquote(tail, depth, env)?,
                    (None, None) => Expr::new(ExprKind::Const(Quoted::Nil), span),
                };
                for item in items.iter().rev() {
                    let splice = match item.list() {
                        Some([head, inner]) if self.special_of(head, env) == Some(Special::UnquoteSplicing) => {
                            Some(inner)
                        }
                        _ => None,
                    };
                    acc = match splice {
                        Some(inner) if depth == 1 => {
                            let spliced = self.expand(inner, env)?;
                            call_global("append", vec![spliced, acc], item.span)
                        }
                        Some(inner) => {
                            let wrapped = self.wrap_quasi("unquote-splicing", inner, depth - 1, env, item.span)?;
                            call_global("cons", vec![wrapped, acc], item.span)
                        }
                        None => {
                            let element = self.quasiquote(item, depth, env)?;
                            call_global("cons", vec![element, acc], item.span)
                        }
                    };
                }
                Ok(acc)
            }
            SxKind::Vector(items) => {
                let list = Sx::new(SxKind::List(items.clone(), None), span);
                let list = self.quasiquote(&list, depth, env)?;
                Ok(call_global("list->vector", vec![list], span))
            }
            _ => Ok(Expr::new(ExprKind::Const(template.to_quoted()), span)),
        }
    }

    /// `(list 'keyword <quasiquoted inner>)`.
    fn wrap_quasi(&mut self, keyword: &str, inner: &Sx, depth: u32, env: &Env, span: Span) -> Result<Expr> {
        let inner = self.quasiquote(inner, depth, env)?;
        let keyword = Expr::new(ExprKind::Const(Quoted::Symbol(keyword.into())), span);
        let nil = Expr::new(ExprKind::Const(Quoted::Nil), span);
        Ok(call_global("cons", vec![keyword, call_global("cons", vec![inner, nil], span)], span))
    }

    fn has_unquote(&self, template: &Sx, depth: u32, env: &Env) -> bool {
        match &template.kind {
            SxKind::List(items, tail) => {
                if let [head, inner] = items.as_slice() {
                    match self.special_of(head, env) {
                        Some(Special::Unquote | Special::UnquoteSplicing) => {
                            return depth == 1 || self.has_unquote(inner, depth - 1, env);
                        }
                        Some(Special::Quasiquote) => {
                            return self.has_unquote(inner, depth + 1, env);
                        }
                        _ => {}
                    }
                }
                if let [.., keyword, last] = items.as_slice()
                    && tail.is_none()
                    && items.len() > 2
                    && matches!(self.special_of(keyword, env), Some(Special::Unquote))
                    && (depth == 1 || self.has_unquote(last, depth - 1, env))
                {
                    return true;
                }
                items.iter().any(|item| self.has_unquote(item, depth, env))
                    || tail.as_ref().is_some_and(|t| self.has_unquote(t, depth, env))
            }
            SxKind::Vector(items) => items.iter().any(|item| self.has_unquote(item, depth, env)),
            _ => false,
        }
    }
}

fn call_global(name: &str, args: Vec<Expr>, span: Span) -> Expr {
    Expr::new(ExprKind::Call(Box::new(Expr::new(ExprKind::Global(name.into()), span)), args), span)
}
