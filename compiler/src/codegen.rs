//! Code generation: analysed core IR to an [`Image`], one bytecode function per lambda.
//!
//! Frames: parameters occupy the first local slots, then every variable bound by `Let` and `Letrec` in
//! the function's body gets a slot of its own. Free variables are read from the running closure. An
//! assigned variable lives in a box (assignment conversion), so closures and re-entered
//! continuations, which copy frames, share it. Calls in tail
//! position become `TailCall`; calls of standard procedures the program has not redefined become their
//! inlined-primitive instruction when the argument count matches. A named `let` whose name is only
//! ever called, in tail position of its own body, is a loop: its variables get slots in the
//! enclosing function and each call of the name assigns them and jumps back (no closure, no call).

use std::collections::{HashMap, HashSet};

use chenilles_reader::Span;
use num_traits::ToPrimitive;

use crate::analysis::letrec_of_lambdas;
use crate::bytecode::instructions::encode_all;
use crate::bytecode::{Constant, Function, Image, Insn, Position, fits_fixnum};
use crate::diagnostics::SourceFiles;
use crate::ir::{Expr, ExprKind, Lambda, Var, VarId};
use crate::syntax::{Quoted, Symbol};

/// Builds one image.
pub struct Codegen<'a> {
    files: &'a SourceFiles,
    vars: &'a [Var],
    user_globals: &'a HashSet<Symbol>,
    image: Image,
    constant_index: HashMap<String, u32>,
    global_index: HashMap<Symbol, u32>,
    file_index: HashMap<u32, u32>,
    /// Named-let loops being compiled inline, by the variable naming each.
    loops: HashMap<VarId, InlineLoop>,
}

/// A named `let` compiled as a loop in the enclosing function (see [`Codegen::inline_loop`]).
struct InlineLoop {
    params: Vec<VarId>,
    /// The first instruction of its body.
    head: u32,
}

/// The function being generated.
struct FunctionBuilder {
    insns: Vec<Insn>,
    positions: Vec<Position>,
    slots: HashMap<VarId, u32>,
    free: HashMap<VarId, u32>,
    locals: u32,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Ctx {
    /// Leave the value on the operand stack.
    Value,
    /// Return the value (or tail-call to produce it).
    Tail,
}

impl<'a> Codegen<'a> {
    pub fn new(files: &'a SourceFiles, vars: &'a [Var], user_globals: &'a HashSet<Symbol>, name: &str) -> Self {
        Codegen {
            files,
            vars,
            user_globals,
            image: Image {
                name: name.to_string(),
                files: Vec::new(),
                constants: Vec::new(),
                globals: Vec::new(),
                functions: Vec::new(),
                entry: 0,
                libraries: Vec::new(),
            },
            constant_index: HashMap::new(),
            global_index: HashMap::new(),
            file_index: HashMap::new(),
            loops: HashMap::new(),
        }
    }

    /// Generates the image whose entry function evaluates `body`.
    pub fn finish(mut self, body: &Expr) -> Image {
        let top = Lambda {
            id: 0,
            name: "top level".into(),
            required: Vec::new(),
            optional: Vec::new(),
            rest: None,
            body: body.clone(),
            free: Vec::new(),
        };
        let entry = self.lambda(&top, body.span);
        self.image.entry = entry;
        self.image
    }

    fn lambda(&mut self, lambda: &Lambda, span: Span) -> u32 {
        let mut f = FunctionBuilder {
            insns: Vec::new(),
            positions: Vec::new(),
            slots: HashMap::new(),
            free: lambda.free.iter().enumerate().map(|(i, v)| (*v, i as u32)).collect(),
            locals: 0,
        };
        self.mark(&mut f, span);
        let params = lambda.required.iter().chain(&lambda.optional).chain(&lambda.rest);
        for &param in params {
            let slot = f.new_slot(param);
            if self.vars[param as usize].boxed() {
                f.emit(Insn::Local { i: slot });
                f.emit(Insn::MakeBox {});
                f.emit(Insn::SetLocal { i: slot });
            }
        }
        self.expr(&mut f, &lambda.body, Ctx::Tail);
        let name = if lambda.name.is_empty() {
            format!("lambda at {}", self.files.describe(span))
        } else {
            lambda.name.clone()
        };
        self.image.functions.push(Function {
            name,
            required: lambda.required.len() as u32,
            optional: lambda.optional.len() as u32,
            rest: lambda.rest.is_some(),
            locals: f.locals,
            free: lambda.free.len() as u32,
            code: encode_all(&f.insns),
            positions: f.positions,
        });
        (self.image.functions.len() - 1) as u32
    }

    fn mark(&mut self, f: &mut FunctionBuilder, span: Span) {
        let file = match self.file_index.get(&span.file) {
            Some(&index) => index,
            None => {
                self.image.files.push(self.files.name(span.file).to_string());
                let index = (self.image.files.len() - 1) as u32;
                self.file_index.insert(span.file, index);
                index
            }
        };
        let (line, column) = self.files.line_column(span.file, span.start);
        let pc = f.insns.len() as u32;
        let position = Position { pc, file, line, column };
        match f.positions.last_mut() {
            Some(last) if last.pc == pc => *last = position,
            Some(last) if (last.file, last.line, last.column) == (file, line, column) => {}
            _ => f.positions.push(position),
        }
    }

    fn finish_value(f: &mut FunctionBuilder, ctx: Ctx) {
        if ctx == Ctx::Tail {
            f.emit(Insn::Return {});
        }
    }

    fn expr(&mut self, f: &mut FunctionBuilder, expr: &Expr, ctx: Ctx) {
        let span = expr.span;
        match &expr.kind {
            ExprKind::Const(value) => {
                let k = self.constant(value);
                f.emit(Insn::Const { k });
                Self::finish_value(f, ctx);
            }
            ExprKind::Local(var) => {
                self.load(f, *var);
                Self::finish_value(f, ctx);
            }
            ExprKind::SetLocal(var, value) => {
                if self.vars[*var as usize].boxed() {
                    self.load_raw(f, *var);
                    self.expr(f, value, Ctx::Value);
                    f.emit(Insn::BoxSet {});
                } else {
                    self.expr(f, value, Ctx::Value);
                    let slot = f.slot(*var);
                    f.emit(Insn::SetLocal { i: slot });
                }
                self.unspecified(f, ctx);
            }
            ExprKind::Global(name) => {
                let g = self.global(name);
                self.mark(f, span);
                f.emit(Insn::Global { g });
                Self::finish_value(f, ctx);
            }
            ExprKind::SetGlobal(name, value) | ExprKind::DefineGlobal(name, value) => {
                self.expr(f, value, Ctx::Value);
                let g = self.global(name);
                self.mark(f, span);
                f.emit(match expr.kind {
                    ExprKind::SetGlobal(..) => Insn::SetGlobal { g },
                    _ => Insn::DefineGlobal { g },
                });
                self.unspecified(f, ctx);
            }
            ExprKind::If(test, then, otherwise) => {
                // `(if (not x) a b)` is `(if x b a)`: one instruction fewer on every pass.
                let (mut test, mut then, mut otherwise) = (&**test, &**then, &**otherwise);
                while let Some(x) = self.negated(test) {
                    (test, then, otherwise) = (x, otherwise, then);
                }
                self.expr(f, test, Ctx::Value);
                let branch = f.emit(Insn::JumpIfFalse { t: 0 });
                self.expr(f, then, ctx);
                let skip = (ctx == Ctx::Value).then(|| f.emit(Insn::Jump { t: 0 }));
                let else_pc = f.insns.len() as u32;
                f.insns[branch] = Insn::JumpIfFalse { t: else_pc };
                self.expr(f, otherwise, ctx);
                if let Some(skip) = skip {
                    f.insns[skip] = Insn::Jump { t: f.insns.len() as u32 };
                }
            }
            ExprKind::Lambda(lambda) => {
                self.closure(f, lambda, span, &[]);
                Self::finish_value(f, ctx);
            }
            ExprKind::Call(operator, operands) => {
                if let Some((var, lambda)) = self.loop_of(operator, operands.len()) {
                    return self.inline_loop(f, var, lambda, operands, ctx);
                }
                self.call(f, operator, operands, span, ctx)
            }
            ExprKind::Seq(exprs) => {
                let Some((last, init)) = exprs.split_last() else {
                    self.unspecified(f, ctx);
                    return;
                };
                for e in init {
                    self.expr(f, e, Ctx::Value);
                    f.emit(Insn::Pop {});
                }
                self.expr(f, last, ctx);
            }
            ExprKind::Let(bindings, body) => {
                for (var, init) in bindings {
                    self.expr(f, init, Ctx::Value);
                    let slot = f.new_slot(*var);
                    if self.vars[*var as usize].boxed() {
                        f.emit(Insn::MakeBox {});
                    }
                    f.emit(Insn::SetLocal { i: slot });
                }
                self.expr(f, body, ctx);
            }
            ExprKind::Letrec(bindings, body) => {
                self.letrec(f, bindings);
                self.expr(f, body, ctx);
            }
        }
    }

    fn letrec(&mut self, f: &mut FunctionBuilder, bindings: &[(VarId, Expr)]) {
        for (var, _) in bindings {
            f.new_slot(*var);
        }
        let any_boxed = bindings.iter().any(|(var, _)| self.vars[*var as usize].boxed());
        if letrec_of_lambdas(bindings) && !any_boxed {
            // Make every closure, with placeholders for the group's own variables, then tie the knots.
            let group: Vec<VarId> = bindings.iter().map(|(var, _)| *var).collect();
            for (var, init) in bindings {
                if let ExprKind::Lambda(lambda) = &init.kind {
                    self.closure(f, lambda, init.span, &group);
                    let slot = f.slot(*var);
                    f.emit(Insn::SetLocal { i: slot });
                }
            }
            for (var, init) in bindings {
                if let ExprKind::Lambda(lambda) = &init.kind {
                    for (index, free) in lambda.free.iter().enumerate() {
                        if group.contains(free) {
                            let closure_slot = f.slot(*var);
                            f.emit(Insn::Local { i: closure_slot });
                            self.load_raw(f, *free);
                            f.emit(Insn::PatchFree { i: index as u32 });
                        }
                    }
                }
            }
            return;
        }
        for (var, _) in bindings {
            if self.vars[*var as usize].boxed() {
                let k = self.constant(&Quoted::Unspecified);
                f.emit(Insn::Const { k });
                f.emit(Insn::MakeBox {});
                let slot = f.slot(*var);
                f.emit(Insn::SetLocal { i: slot });
            }
        }
        for (var, init) in bindings {
            if self.vars[*var as usize].boxed() {
                self.load_raw(f, *var);
                self.expr(f, init, Ctx::Value);
                f.emit(Insn::BoxSet {});
            } else {
                self.expr(f, init, Ctx::Value);
                let slot = f.slot(*var);
                f.emit(Insn::SetLocal { i: slot });
            }
        }
    }

    /// Pushes a closure of `lambda`; free variables in `placeholders` are pushed as unspecified.
    fn closure(&mut self, f: &mut FunctionBuilder, lambda: &Lambda, span: Span, placeholders: &[VarId]) {
        for &var in &lambda.free {
            if placeholders.contains(&var) {
                let k = self.constant(&Quoted::Unspecified);
                f.emit(Insn::Const { k });
            } else {
                self.load_raw(f, var);
            }
        }
        let index = self.lambda(lambda, span);
        f.emit(Insn::MakeClosure { f: index, n: lambda.free.len() as u32 });
    }

    /// The variable and lambda of a named `let` (`((letrec ((name lambda)) name) init ...)`) that
    /// can run as a loop: fixed parameters, as many inits, and its name never assigned and only
    /// ever called, with as many arguments, in tail position of its own body (never from a nested
    /// lambda, where it would have to be a closure).
    fn loop_of<'e>(&self, operator: &'e Expr, argc: usize) -> Option<(VarId, &'e Lambda)> {
        let ExprKind::Letrec(bindings, body) = &operator.kind else { return None };
        let [(var, init)] = bindings.as_slice() else { return None };
        let (ExprKind::Local(named), ExprKind::Lambda(lambda)) = (&body.kind, &init.kind) else { return None };
        let fixed = lambda.optional.is_empty() && lambda.rest.is_none() && lambda.required.len() == argc;
        (named == var && fixed && !self.vars[*var as usize].boxed() && only_tail_calls(&lambda.body, *var, argc, true))
            .then_some((*var, &**lambda))
    }

    /// A named-let loop: the inits go to the loop variables' slots, then the body runs; a call of
    /// the name (always in tail position) assigns the variables and jumps back to the body. The
    /// body's value goes where `ctx` says, as the call's would have.
    fn inline_loop(&mut self, f: &mut FunctionBuilder, var: VarId, lambda: &Lambda, inits: &[Expr], ctx: Ctx) {
        for init in inits {
            self.expr(f, init, Ctx::Value);
        }
        for &param in &lambda.required {
            f.new_slot(param);
        }
        self.assign_loop_variables(f, &lambda.required);
        let head = f.insns.len() as u32;
        self.loops.insert(var, InlineLoop { params: lambda.required.clone(), head });
        self.expr(f, &lambda.body, ctx);
        self.loops.remove(&var);
    }

    /// Pops the new values of a loop's variables (pushed in order) into their slots, each in a
    /// fresh box when the variable is boxed: every pass has bindings of its own, as every call had.
    fn assign_loop_variables(&mut self, f: &mut FunctionBuilder, params: &[VarId]) {
        for &param in params.iter().rev() {
            if self.vars[param as usize].boxed() {
                f.emit(Insn::MakeBox {});
            }
            let slot = f.slot(param);
            f.emit(Insn::SetLocal { i: slot });
        }
    }

    fn call(&mut self, f: &mut FunctionBuilder, operator: &Expr, operands: &[Expr], span: Span, ctx: Ctx) {
        if let ExprKind::Local(var) = &operator.kind
            && let Some(inline) = self.loops.get(var)
        {
            // The next pass of an inline loop (`loop_of` checked this call is in tail position).
            let (params, head) = (inline.params.clone(), inline.head);
            for operand in operands {
                self.expr(f, operand, Ctx::Value);
            }
            self.assign_loop_variables(f, &params);
            self.mark(f, span);
            f.emit(Insn::Jump { t: head });
            return;
        }
        if let ExprKind::Global(name) = &operator.kind
            && !self.user_globals.contains(name)
            && let Some(insn) = Insn::primitive(name, operands.len())
        {
            for operand in operands {
                self.expr(f, operand, Ctx::Value);
            }
            self.mark(f, span);
            f.emit(insn);
            Self::finish_value(f, ctx);
            return;
        }
        self.expr(f, operator, Ctx::Value);
        for operand in operands {
            self.expr(f, operand, Ctx::Value);
        }
        self.mark(f, span);
        let n = operands.len() as u32;
        f.emit(match ctx {
            Ctx::Tail => Insn::TailCall { n },
            Ctx::Value => Insn::Call { n },
        });
    }

    /// `x` when `test` is `(not x)` with the standard `not`.
    fn negated<'e>(&self, test: &'e Expr) -> Option<&'e Expr> {
        match &test.kind {
            ExprKind::Call(operator, operands) if operands.len() == 1 => match &operator.kind {
                ExprKind::Global(name)
                    if !self.user_globals.contains(name) && Insn::primitive(name, 1) == Some(Insn::Not {}) =>
                {
                    operands.first()
                }
                _ => None,
            },
            _ => None,
        }
    }

    fn unspecified(&mut self, f: &mut FunctionBuilder, ctx: Ctx) {
        let k = self.constant(&Quoted::Unspecified);
        f.emit(Insn::Const { k });
        Self::finish_value(f, ctx);
    }

    /// Pushes the value of `var`.
    fn load(&mut self, f: &mut FunctionBuilder, var: VarId) {
        let boxed = self.vars[var as usize].boxed();
        f.emit(match (f.slots.get(&var), f.free.get(&var), boxed) {
            (Some(&i), _, false) => Insn::Local { i },
            (Some(&i), _, true) => Insn::LocalBoxRef { i },
            (None, Some(&i), false) => Insn::Free { i },
            (None, Some(&i), true) => Insn::FreeBoxRef { i },
            (None, None, _) => {
                unreachable!("variable {var} is neither local nor free: analysis is wrong")
            }
        });
    }

    /// Pushes what the frame or closure holds for `var`: its box, when it has one.
    fn load_raw(&mut self, f: &mut FunctionBuilder, var: VarId) {
        f.emit(match (f.slots.get(&var), f.free.get(&var)) {
            (Some(&i), _) => Insn::Local { i },
            (None, Some(&i)) => Insn::Free { i },
            (None, None) => {
                unreachable!("variable {var} is neither local nor free: analysis is wrong")
            }
        });
    }

    fn global(&mut self, name: &Symbol) -> u32 {
        if let Some(&g) = self.global_index.get(name) {
            return g;
        }
        self.image.globals.push(name.to_string());
        let g = (self.image.globals.len() - 1) as u32;
        self.global_index.insert(name.clone(), g);
        g
    }

    fn constant(&mut self, value: &Quoted) -> u32 {
        let constant = match value {
            Quoted::Unspecified => Constant::Unspecified,
            Quoted::Nil => Constant::Nil,
            Quoted::Boolean(b) => Constant::Boolean(*b),
            Quoted::Integer(n) => match n.to_i64() {
                Some(small) if fits_fixnum(small) => Constant::Fixnum(small),
                _ => Constant::Integer(n.to_signed_bytes_le()),
            },
            Quoted::Rational(n, d) => {
                Constant::Rational { numerator: n.to_signed_bytes_le(), denominator: d.to_signed_bytes_le() }
            }
            Quoted::Real(x) => Constant::Real(*x),
            Quoted::Character(c) => Constant::Character(u32::from(*c)),
            Quoted::String(s) => Constant::String(s.clone()),
            Quoted::Symbol(s) => Constant::Symbol(s.to_string()),
            Quoted::Bytevector(b) => Constant::Bytevector(b.clone()),
            Quoted::Special(name) => match name.as_str() {
                "eof" => Constant::Eof,
                "default" => Constant::Default,
                _ => Constant::Unspecified,
            },
            Quoted::List(items, tail) => {
                let items = items.iter().map(|item| self.constant(item)).collect();
                let tail = self.constant(tail);
                return self.push_constant(Constant::List { items, tail });
            }
            Quoted::Vector(items) => {
                let items = items.iter().map(|item| self.constant(item)).collect();
                return self.push_constant(Constant::Vector(items));
            }
        };
        let key = format!("{constant:?}");
        if let Some(&k) = self.constant_index.get(&key) {
            return k;
        }
        let k = self.push_constant(constant);
        self.constant_index.insert(key, k);
        k
    }

    fn push_constant(&mut self, constant: Constant) -> u32 {
        self.image.constants.push(constant);
        (self.image.constants.len() - 1) as u32
    }
}

impl FunctionBuilder {
    fn emit(&mut self, insn: Insn) -> usize {
        self.insns.push(insn);
        self.insns.len() - 1
    }

    fn new_slot(&mut self, var: VarId) -> u32 {
        let slot = self.locals;
        self.locals += 1;
        self.slots.insert(var, slot);
        slot
    }

    fn slot(&self, var: VarId) -> u32 {
        self.slots.get(&var).copied().unwrap_or_else(|| unreachable!("variable {var} has no slot"))
    }
}

/// Whether `var` occurs in `expr` only as the operator of calls with `argc` arguments in tail
/// position (`tail`: whether `expr` itself is), and not at all inside nested lambdas.
fn only_tail_calls(expr: &Expr, var: VarId, argc: usize, tail: bool) -> bool {
    let nowhere = |e: &Expr| only_tail_calls(e, var, argc, false);
    match &expr.kind {
        ExprKind::Const(_) | ExprKind::Global(_) => true,
        ExprKind::Local(v) => *v != var,
        ExprKind::SetLocal(v, value) => *v != var && nowhere(value),
        ExprKind::SetGlobal(_, value) | ExprKind::DefineGlobal(_, value) => nowhere(value),
        ExprKind::If(test, then, otherwise) => {
            nowhere(test) && only_tail_calls(then, var, argc, tail) && only_tail_calls(otherwise, var, argc, tail)
        }
        ExprKind::Lambda(lambda) => !lambda.free.contains(&var),
        ExprKind::Call(operator, operands) => {
            let operator_ok = match &operator.kind {
                ExprKind::Local(v) if *v == var => tail && operands.len() == argc,
                _ => nowhere(operator),
            };
            operator_ok && operands.iter().all(nowhere)
        }
        ExprKind::Seq(exprs) => exprs
            .split_last()
            .is_none_or(|(last, init)| init.iter().all(nowhere) && only_tail_calls(last, var, argc, tail)),
        ExprKind::Let(bindings, body) | ExprKind::Letrec(bindings, body) => {
            bindings.iter().all(|(_, init)| nowhere(init)) && only_tail_calls(body, var, argc, tail)
        }
    }
}
