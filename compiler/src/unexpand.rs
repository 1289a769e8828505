//! Core IR back to Scheme: the text of an expansion, as the REPL's `,expand` prints it.
//!
//! Every core form prints as the Scheme form it means: `'datum`, a variable, `set!`, `define`,
//! `if`, `lambda` (`#!optional` and a rest parameter as written), a call, `begin`, `let` and
//! `letrec*`. A local variable prints under the name it was written with; it takes a suffix
//! (`tmp.1`) only where that name would refer to something else: where it would capture a
//! reference to an outer variable or a global of the same name (as the identifiers a macro
//! inserts may), or repeat a name bound beside it. Long forms are broken over lines, bodies
//! indented by two.

use std::collections::{HashMap, HashSet};
use std::fmt;

use chenilles_reader::{Datum, DatumKind, Number, Span};

use crate::ir::{Expr, ExprKind, Lambda, Var, VarId};
use crate::syntax::{Quoted, Symbol};

/// The keywords the printed forms use: a local variable of one of these names always takes a
/// suffix, or the form around it would read as something else.
const KEYWORDS: &[&str] = &["quote", "if", "lambda", "define", "set!", "begin", "let", "letrec*"];

/// The width [`Expansion`]'s `Display` breaks lines at.
const WIDTH: usize = 80;

/// One or more top-level forms expanded to core forms, printable as Scheme text
/// ([`crate::Compiler::expand`] makes it).
#[derive(Clone, Debug)]
pub struct Expansion {
    forms: Vec<Datum>,
}

impl Expansion {
    /// The expansion of `body` (a unit's top level, a sequence of forms), whose local variables
    /// are `vars`.
    pub(crate) fn new(body: &Expr, vars: &[Var]) -> Expansion {
        let mut namer = Namer { vars, names: HashMap::new(), visible: Vec::new(), suffixes: HashMap::new() };
        let forms = match &body.kind {
            ExprKind::Seq(items) => items.iter().map(|item| namer.form(item)).collect(),
            _ => vec![namer.form(body)],
        };
        Expansion { forms }
    }

    /// The forms as data (spans are all zero).
    pub fn forms(&self) -> &[Datum] {
        &self.forms
    }

    /// The text of the forms, one after another, each broken over lines to fit in `width`
    /// columns where it can.
    pub fn to_text(&self, width: usize) -> String {
        let mut out = String::new();
        for form in &self.forms {
            pretty(form, 0, width, &mut out);
            out.push('\n');
        }
        out
    }
}

impl fmt::Display for Expansion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text(WIDTH))
    }
}

/// What a region of code refers to: the local variables (by number) and the globals.
#[derive(Default)]
struct Refs {
    locals: HashSet<VarId>,
    globals: HashSet<Symbol>,
}

impl Refs {
    fn of(exprs: &[&Expr]) -> Refs {
        let mut refs = Refs::default();
        for expr in exprs {
            refs.add(expr);
        }
        refs
    }

    fn add(&mut self, expr: &Expr) {
        match &expr.kind {
            ExprKind::Const(_) => {}
            ExprKind::Local(var) => {
                self.locals.insert(*var);
            }
            ExprKind::SetLocal(var, value) => {
                self.locals.insert(*var);
                self.add(value);
            }
            ExprKind::Global(name) => {
                self.globals.insert(name.clone());
            }
            ExprKind::SetGlobal(name, value) | ExprKind::DefineGlobal(name, value) => {
                self.globals.insert(name.clone());
                self.add(value);
            }
            ExprKind::If(test, then, otherwise) => {
                self.add(test);
                self.add(then);
                self.add(otherwise);
            }
            ExprKind::Lambda(lambda) => self.add(&lambda.body),
            ExprKind::Call(operator, operands) => {
                self.add(operator);
                operands.iter().for_each(|operand| self.add(operand));
            }
            ExprKind::Seq(items) => items.iter().for_each(|item| self.add(item)),
            ExprKind::Let(bindings, body) | ExprKind::Letrec(bindings, body) => {
                bindings.iter().for_each(|(_, init)| self.add(init));
                self.add(body);
            }
        }
    }
}

/// Chooses the printed names of local variables and turns expressions into data.
struct Namer<'v> {
    vars: &'v [Var],
    /// The printed name of each variable bound so far.
    names: HashMap<VarId, String>,
    /// The variables in scope where the printing is, innermost last.
    visible: Vec<VarId>,
    /// The last suffix given to each name.
    suffixes: HashMap<String, u32>,
}

impl Namer<'_> {
    /// Names `vars`, bound together over `region`, and puts them in scope (the caller takes them
    /// out with [`Namer::leave`]).
    fn bind(&mut self, vars: &[VarId], region: &[&Expr]) {
        let refs = Refs::of(region);
        let mut siblings: HashSet<String> = HashSet::new();
        for &var in vars {
            let base = self.vars.get(var as usize).map_or_else(|| "_".to_string(), |v| v.name.to_string());
            let mut name = base.clone();
            while self.captures(&name, var, &refs) || siblings.contains(&name) {
                let suffix = self.suffixes.entry(base.clone()).or_insert(0);
                *suffix += 1;
                name = format!("{base}.{suffix}");
            }
            siblings.insert(name.clone());
            self.names.insert(var, name);
        }
        self.visible.extend_from_slice(vars);
    }

    /// Whether binding `var` as `name` over a region that refers to `refs` would make one of
    /// those references mean `var` instead.
    fn captures(&self, name: &str, var: VarId, refs: &Refs) -> bool {
        KEYWORDS.contains(&name)
            || refs.globals.contains(name)
            || self.visible.iter().any(|&outer| {
                outer != var && refs.locals.contains(&outer) && self.names.get(&outer).is_some_and(|n| n == name)
            })
    }

    fn leave(&mut self, count: usize) {
        self.visible.truncate(self.visible.len().saturating_sub(count));
    }

    fn name(&self, var: VarId) -> Datum {
        let name = self.names.get(&var).cloned().unwrap_or_else(|| {
            // Bound nowhere in what is printed (never in an expansion of a whole unit).
            self.vars.get(var as usize).map_or_else(|| format!("var.{var}"), |v| v.name.to_string())
        });
        symbol(&name)
    }

    fn form(&mut self, expr: &Expr) -> Datum {
        match &expr.kind {
            ExprKind::Const(quoted) => constant(quoted),
            ExprKind::Local(var) => self.name(*var),
            ExprKind::SetLocal(var, value) => list(vec![symbol("set!"), self.name(*var), self.form(value)]),
            ExprKind::Global(name) => symbol(name),
            ExprKind::SetGlobal(name, value) => list(vec![symbol("set!"), symbol(name), self.form(value)]),
            ExprKind::DefineGlobal(name, value) => list(vec![symbol("define"), symbol(name), self.form(value)]),
            ExprKind::If(test, then, otherwise) => {
                let mut items = vec![symbol("if"), self.form(test), self.form(then)];
                if !matches!(otherwise.kind, ExprKind::Const(Quoted::Unspecified)) {
                    items.push(self.form(otherwise));
                }
                list(items)
            }
            ExprKind::Lambda(lambda) => self.lambda(lambda),
            ExprKind::Call(operator, operands) => {
                let mut items = vec![self.form(operator)];
                items.extend(operands.iter().map(|operand| self.form(operand)));
                list(items)
            }
            ExprKind::Seq(items) => {
                let mut forms = vec![symbol("begin")];
                forms.extend(items.iter().map(|item| self.form(item)));
                list(forms)
            }
            ExprKind::Let(bindings, body) => {
                // The inits are outside the new scope.
                let inits: Vec<Datum> = bindings.iter().map(|(_, init)| self.form(init)).collect();
                let vars: Vec<VarId> = bindings.iter().map(|(var, _)| *var).collect();
                self.bind(&vars, &[&**body]);
                let pairs = vars.iter().zip(inits).map(|(var, init)| list(vec![self.name(*var), init])).collect();
                let mut items = vec![symbol("let"), list(pairs)];
                items.extend(self.body(body));
                self.leave(vars.len());
                list(items)
            }
            ExprKind::Letrec(bindings, body) => {
                let vars: Vec<VarId> = bindings.iter().map(|(var, _)| *var).collect();
                let region: Vec<&Expr> = bindings.iter().map(|(_, init)| init).chain([&**body]).collect();
                self.bind(&vars, &region);
                let pairs = bindings.iter().map(|(var, init)| list(vec![self.name(*var), self.form(init)])).collect();
                let mut items = vec![symbol("letrec*"), list(pairs)];
                items.extend(self.body(body));
                self.leave(vars.len());
                list(items)
            }
        }
    }

    fn lambda(&mut self, lambda: &Lambda) -> Datum {
        let vars: Vec<VarId> =
            lambda.required.iter().chain(&lambda.optional).chain(lambda.rest.iter()).copied().collect();
        self.bind(&vars, &[&lambda.body]);
        let mut formals: Vec<Datum> = lambda.required.iter().map(|var| self.name(*var)).collect();
        if !lambda.optional.is_empty() {
            formals.push(datum(DatumKind::Special("optional".to_string())));
            formals.extend(lambda.optional.iter().map(|var| self.name(*var)));
        }
        let formals = match lambda.rest {
            None => list(formals),
            Some(rest) if formals.is_empty() => self.name(rest),
            Some(rest) if lambda.optional.is_empty() => {
                datum(DatumKind::List { items: formals, tail: Some(Box::new(self.name(rest))) })
            }
            Some(rest) => {
                formals.push(datum(DatumKind::Special("rest".to_string())));
                formals.push(self.name(rest));
                list(formals)
            }
        };
        let mut items = vec![symbol("lambda"), formals];
        items.extend(self.body(&lambda.body));
        self.leave(vars.len());
        list(items)
    }

    /// The forms of a body: a sequence is spliced into the form around it.
    fn body(&mut self, body: &Expr) -> Vec<Datum> {
        match &body.kind {
            ExprKind::Seq(items) => items.iter().map(|item| self.form(item)).collect(),
            _ => vec![self.form(body)],
        }
    }
}

fn datum(kind: DatumKind) -> Datum {
    Datum { kind, span: Span::default() }
}

fn symbol(name: &str) -> Datum {
    datum(DatumKind::Symbol(name.to_string()))
}

fn list(items: Vec<Datum>) -> Datum {
    datum(DatumKind::List { items, tail: None })
}

/// A constant as an expression: data that evaluate to themselves bare, the rest quoted.
fn constant(quoted: &Quoted) -> Datum {
    match quoted {
        // What the expander gives a missing `if` branch or an empty body.
        Quoted::Unspecified => {
            list(vec![symbol("if"), datum(DatumKind::Boolean(false)), datum(DatumKind::Boolean(false))])
        }
        Quoted::Symbol(_) | Quoted::Nil | Quoted::List(..) => list(vec![symbol("quote"), quoted_datum(quoted)]),
        _ => quoted_datum(quoted),
    }
}

/// A constant as the datum it is.
fn quoted_datum(quoted: &Quoted) -> Datum {
    datum(match quoted {
        Quoted::Unspecified => DatumKind::Special("unspecified".to_string()),
        Quoted::Nil => DatumKind::List { items: Vec::new(), tail: None },
        Quoted::Boolean(b) => DatumKind::Boolean(*b),
        Quoted::Integer(n) => DatumKind::Number(Number::Integer(n.clone())),
        Quoted::Rational(n, d) => DatumKind::Number(Number::Rational(n.clone(), d.clone())),
        Quoted::Real(x) => DatumKind::Number(Number::Real(*x)),
        Quoted::Character(c) => DatumKind::Character(*c),
        Quoted::String(s) => DatumKind::String(s.clone()),
        Quoted::Symbol(s) => DatumKind::Symbol(s.to_string()),
        Quoted::Bytevector(b) => DatumKind::Bytevector(b.clone()),
        Quoted::List(items, tail) => DatumKind::List {
            items: items.iter().map(quoted_datum).collect(),
            tail: (**tail != Quoted::Nil).then(|| Box::new(quoted_datum(tail))),
        },
        Quoted::Vector(items) => DatumKind::Vector(items.iter().map(quoted_datum).collect()),
        Quoted::Special(name) => DatumKind::Special(name.clone()),
    })
}

/// Forms whose first item stays on the keyword's line and whose others (a body) are indented by two.
const BODY_FORMS: &[&str] = &["lambda", "define", "let", "letrec*", "when", "unless"];

/// Writes `form` starting at column `indent`: on one line if it fits in `width`, otherwise a list
/// broken before its items.
fn pretty(form: &Datum, indent: usize, width: usize, out: &mut String) {
    let flat = form.to_string();
    let DatumKind::List { items, tail: None } = &form.kind else {
        return out.push_str(&flat);
    };
    if indent + flat.chars().count() <= width || items.is_empty() {
        return out.push_str(&flat);
    }
    if let [only] = items.as_slice() {
        out.push('(');
        pretty(only, indent + 1, width, out);
        return out.push(')');
    }
    let head = match &items[0].kind {
        DatumKind::Symbol(name) => Some(name.as_str()),
        _ => None,
    };
    if let (Some("quote"), [_, quoted]) = (head, items.as_slice()) {
        out.push('\'');
        return pretty(quoted, indent + 1, width, out);
    }
    let newline = |out: &mut String, column: usize| {
        out.push('\n');
        out.extend(std::iter::repeat_n(' ', column));
    };
    out.push('(');
    match head {
        Some("begin") => {
            out.push_str("begin");
            for item in &items[1..] {
                newline(out, indent + 2);
                pretty(item, indent + 2, width, out);
            }
        }
        Some(name) if BODY_FORMS.contains(&name) => {
            out.push_str(name);
            out.push(' ');
            pretty(&items[1], indent + name.chars().count() + 2, width, out);
            for item in &items[2..] {
                newline(out, indent + 2);
                pretty(item, indent + 2, width, out);
            }
        }
        // A call or `if` with a short operator: the operands aligned after it.
        Some(name) if name.chars().count() <= 12 => {
            out.push_str(&items[0].to_string());
            let column = indent + items[0].to_string().chars().count() + 2;
            out.push(' ');
            pretty(&items[1], column, width, out);
            for item in &items[2..] {
                newline(out, column);
                pretty(item, column, width, out);
            }
        }
        // Anything else (a binding list, a call of a long name or of an expression): one item a line.
        _ => {
            pretty(&items[0], indent + 1, width, out);
            for item in &items[1..] {
                newline(out, indent + 1);
                pretty(item, indent + 1, width, out);
            }
        }
    }
    out.push(')');
}
