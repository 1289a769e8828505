//! Warnings: possibly unbound variables and calls of known procedures with a wrong number of
//! arguments, found on the core IR of a unit against the globals its caller says are bound.
//!
//! The compiler knows nothing of the VM, so what a process binds before the program runs (native
//! procedures, the standard library's definitions, earlier entries of a REPL) comes from the caller
//! as an [`Environment`]. A warning is never an error: the program still compiles and runs.
//!
//! A global is bound when the environment binds it, or when any unit compiled so far defines or
//! assigns it (a definition later in the file counts: "possibly" unbound means bound nowhere), or,
//! when the unit calls `eval`, when its name is quoted anywhere in the unit (`eval` may define it);
//! a unit that calls `load` gets no unbound-variable warnings at all. A call's argument count is
//! checked only when the callee is certainly the procedure whose arity is known: a global defined
//! once in this unit by a `lambda` and never assigned, or one the environment gives an arity to
//! that no unit defines or assigns.

use std::collections::{HashMap, HashSet};

use chenilles_reader::Span;

use crate::ir::{Expr, ExprKind, Lambda};
use crate::syntax::{Quoted, Symbol};

/// How many arguments a procedure takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arity {
    /// The fewest arguments it accepts.
    pub min: usize,
    /// The most, or `None` for any number (a rest parameter).
    pub max: Option<usize>,
}

impl Arity {
    /// Whether a call with `count` arguments is accepted.
    pub fn accepts(&self, count: usize) -> bool {
        count >= self.min && self.max.is_none_or(|max| count <= max)
    }

    /// `2`, `1 or 2`, `1 to 3`, `at least 1`.
    fn describe(&self) -> String {
        let plural = |n: usize| if n == 1 { "argument" } else { "arguments" };
        match self.max {
            Some(max) if max == self.min => format!("{max} {}", plural(max)),
            Some(max) if max == self.min + 1 => format!("{} or {max} {}", self.min, plural(max)),
            Some(max) => format!("{} to {max} {}", self.min, plural(max)),
            None => format!("at least {} {}", self.min, plural(self.min)),
        }
    }

    fn of_lambda(lambda: &Lambda) -> Arity {
        let min = lambda.required.len();
        Arity { min, max: lambda.rest.is_none().then_some(min + lambda.optional.len()) }
    }
}

/// The globals bound before a unit runs, as its caller knows them: each name, with the arity of
/// the procedure it holds when that procedure is never reassigned (`None` for other values, and
/// for procedures that may be).
#[derive(Clone, Debug, Default)]
pub struct Environment {
    globals: HashMap<String, Option<Arity>>,
}

impl Environment {
    /// An environment that binds nothing.
    pub fn new() -> Environment {
        Environment::default()
    }

    /// Binds `name`, to a procedure of `arity` if it is given.
    pub fn bind(&mut self, name: &str, arity: Option<Arity>) {
        self.globals.insert(name.to_string(), arity);
    }

    /// Whether `name` is bound.
    pub fn binds(&self, name: &str) -> bool {
        self.globals.contains_key(name)
    }

    /// The arity of the procedure `name` is certainly bound to, if known.
    pub fn arity(&self, name: &str) -> Option<Arity> {
        self.globals.get(name).copied().flatten()
    }

    /// Every bound name, in no particular order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.globals.keys().map(String::as_str)
    }
}

/// A warning about a unit, with the span it concerns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// What may be wrong, for people.
    pub message: String,
    /// Where.
    pub span: Span,
    /// The label under the span.
    pub label: String,
    /// A suggestion (`did you mean `length`?`), if there is one.
    pub help: Option<String>,
}

/// The closest of `candidates` to `name`, if one is close enough to be what was meant: the
/// suggestion of a "did you mean": the Damerau-Levenshtein distance (a transposition counts as one
/// edit) is at most a third of the name's length, and at most 3, so names shorter than three
/// characters get no suggestion; among the closest, the first in `candidates`' order.
pub fn closest_name<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let threshold = (name.chars().count() / 3).min(3);
    if threshold == 0 {
        return None;
    }
    candidates
        .into_iter()
        .filter(|candidate| *candidate != name)
        .map(|candidate| (strsim::damerau_levenshtein(name, candidate), candidate))
        .filter(|(distance, candidate)| *distance <= threshold && *distance < candidate.chars().count())
        .min()
        .map(|(_, candidate)| candidate)
}

/// What one walk over a unit learns before it warns.
#[derive(Default)]
struct Facts {
    /// How many times each global is defined in the unit, and the arity of its last definition
    /// when that is a lambda.
    definitions: HashMap<Symbol, (usize, Option<Arity>)>,
    assigned: HashSet<Symbol>,
    /// Every symbol quoted in the unit.
    quoted: HashSet<Symbol>,
    /// Every global the unit refers to.
    referenced: HashSet<Symbol>,
}

/// The warnings of a unit whose code is `body`. `defined` holds every global the units compiled so
/// far (this one included) define or assign; `defined_before` those of the units before this one.
pub(crate) fn check(
    body: &Expr,
    environment: &Environment,
    defined: &HashSet<Symbol>,
    defined_before: &HashSet<Symbol>,
) -> Vec<Warning> {
    let mut facts = Facts::default();
    gather(body, &mut facts);
    let calls_eval = facts.referenced.contains("eval");
    let loads = facts.referenced.contains("load");
    let checker = Checker { environment, defined, defined_before, facts, calls_eval, loads };
    let mut warnings = Vec::new();
    let mut warned = HashSet::new();
    checker.walk(body, &mut warnings, &mut warned);
    warnings
}

fn gather(expr: &Expr, facts: &mut Facts) {
    match &expr.kind {
        ExprKind::Const(quoted) => gather_quoted(quoted, facts),
        ExprKind::Local(_) => {}
        ExprKind::Global(name) => {
            facts.referenced.insert(name.clone());
        }
        ExprKind::SetLocal(_, value) => gather(value, facts),
        ExprKind::SetGlobal(name, value) => {
            facts.assigned.insert(name.clone());
            gather(value, facts);
        }
        ExprKind::DefineGlobal(name, value) => {
            let arity = match &value.kind {
                ExprKind::Lambda(lambda) => Some(Arity::of_lambda(lambda)),
                _ => None,
            };
            let entry = facts.definitions.entry(name.clone()).or_insert((0, None));
            *entry = (entry.0 + 1, arity);
            gather(value, facts);
        }
        ExprKind::If(test, then, otherwise) => {
            gather(test, facts);
            gather(then, facts);
            gather(otherwise, facts);
        }
        ExprKind::Lambda(lambda) => gather(&lambda.body, facts),
        ExprKind::Call(operator, operands) => {
            gather(operator, facts);
            operands.iter().for_each(|operand| gather(operand, facts));
        }
        ExprKind::Seq(exprs) => exprs.iter().for_each(|e| gather(e, facts)),
        ExprKind::Let(bindings, body) | ExprKind::Letrec(bindings, body) => {
            bindings.iter().for_each(|(_, init)| gather(init, facts));
            gather(body, facts);
        }
    }
}

fn gather_quoted(quoted: &Quoted, facts: &mut Facts) {
    match quoted {
        Quoted::Symbol(name) => {
            facts.quoted.insert(name.clone());
        }
        Quoted::List(items, tail) => {
            items.iter().for_each(|item| gather_quoted(item, facts));
            gather_quoted(tail, facts);
        }
        Quoted::Vector(items) => items.iter().for_each(|item| gather_quoted(item, facts)),
        _ => {}
    }
}

struct Checker<'a> {
    environment: &'a Environment,
    defined: &'a HashSet<Symbol>,
    defined_before: &'a HashSet<Symbol>,
    facts: Facts,
    calls_eval: bool,
    loads: bool,
}

impl Checker<'_> {
    fn bound(&self, name: &str) -> bool {
        self.loads
            || self.environment.binds(name)
            || self.defined.contains(name)
            || self.facts.definitions.contains_key(name)
            || self.facts.assigned.contains(name)
            || (self.calls_eval && self.facts.quoted.contains(name))
    }

    /// The arity of what global `name` certainly holds when the unit calls it.
    fn certain_arity(&self, name: &str) -> Option<Arity> {
        if self.facts.assigned.contains(name) || (self.calls_eval && self.facts.quoted.contains(name)) {
            return None;
        }
        match self.facts.definitions.get(name) {
            Some((1, arity)) if !self.defined_before.contains(name) => *arity,
            Some(_) => None,
            None if self.defined.contains(name) => None,
            None => self.environment.arity(name),
        }
    }

    fn walk(&self, expr: &Expr, warnings: &mut Vec<Warning>, warned: &mut HashSet<Symbol>) {
        match &expr.kind {
            ExprKind::Const(_) | ExprKind::Local(_) => {}
            ExprKind::Global(name) => {
                if !self.bound(name) && warned.insert(name.clone()) {
                    warnings.push(self.unbound(name, expr.span));
                }
            }
            ExprKind::SetLocal(_, value) | ExprKind::SetGlobal(_, value) | ExprKind::DefineGlobal(_, value) => {
                self.walk(value, warnings, warned);
            }
            ExprKind::If(test, then, otherwise) => {
                self.walk(test, warnings, warned);
                self.walk(then, warnings, warned);
                self.walk(otherwise, warnings, warned);
            }
            ExprKind::Lambda(lambda) => self.walk(&lambda.body, warnings, warned),
            ExprKind::Call(operator, operands) => {
                if let ExprKind::Global(name) = &operator.kind
                    && let Some(arity) = self.certain_arity(name)
                    && !arity.accepts(operands.len())
                {
                    let given = operands.len();
                    warnings.push(Warning {
                        message: format!(
                            "wrong number of arguments to `{name}`: it takes {}, given {given}",
                            arity.describe()
                        ),
                        span: expr.span,
                        label: format!("called with {given} argument{}", if given == 1 { "" } else { "s" }),
                        help: None,
                    });
                }
                self.walk(operator, warnings, warned);
                operands.iter().for_each(|operand| self.walk(operand, warnings, warned));
            }
            ExprKind::Seq(exprs) => exprs.iter().for_each(|e| self.walk(e, warnings, warned)),
            ExprKind::Let(bindings, body) | ExprKind::Letrec(bindings, body) => {
                bindings.iter().for_each(|(_, init)| self.walk(init, warnings, warned));
                self.walk(body, warnings, warned);
            }
        }
    }

    fn unbound(&self, name: &str, span: Span) -> Warning {
        let mut candidates: Vec<&str> = self
            .environment
            .names()
            .chain(self.defined.iter().map(|n| &**n))
            .chain(self.facts.definitions.keys().map(|n| &**n))
            // Library-qualified globals (`(a b) name`) are not names a program writes.
            .filter(|candidate| !candidate.contains(' ') && !candidate.starts_with('%'))
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        Warning {
            message: format!("possibly unbound variable `{name}`"),
            span,
            label: "not defined anywhere".to_string(),
            help: closest_name(name, candidates).map(|candidate| format!("did you mean `{candidate}`?")),
        }
    }
}
