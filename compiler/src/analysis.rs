//! The analysis pass: which variables are captured by closures, which are assigned, and each lambda's
//! free variables, in the order its closures store them.
//!
//! Its results drive assignment conversion (a variable both assigned and captured lives in a box) and
//! closure conversion (a closure copies the values, or boxes, of its free variables when it is made).

use crate::ir::{Expr, ExprKind, LambdaId, Var, VarId};

/// Annotates `vars` and every lambda's `free` list in `expr`, the body of lambda `owner`.
pub fn analyze(expr: &mut Expr, owner: LambdaId, vars: &mut [Var]) {
    let mut free = Vec::new();
    walk(expr, owner, vars, &mut free);
}

fn note_reference(var: VarId, current: LambdaId, vars: &mut [Var], free: &mut Vec<VarId>) {
    let info = &mut vars[var as usize];
    if info.owner != current {
        info.captured = true;
        if !free.contains(&var) {
            free.push(var);
        }
    }
}

fn walk(expr: &mut Expr, current: LambdaId, vars: &mut [Var], free: &mut Vec<VarId>) {
    match &mut expr.kind {
        ExprKind::Const(_) | ExprKind::Global(_) => {}
        ExprKind::Local(var) => note_reference(*var, current, vars, free),
        ExprKind::SetLocal(var, value) => {
            vars[*var as usize].assigned = true;
            note_reference(*var, current, vars, free);
            walk(value, current, vars, free);
        }
        ExprKind::SetGlobal(_, value) | ExprKind::DefineGlobal(_, value) => walk(value, current, vars, free),
        ExprKind::If(test, then, otherwise) => {
            walk(test, current, vars, free);
            walk(then, current, vars, free);
            walk(otherwise, current, vars, free);
        }
        ExprKind::Lambda(lambda) => {
            let mut inner = Vec::new();
            walk(&mut lambda.body, lambda.id, vars, &mut inner);
            for &var in &inner {
                note_reference(var, current, vars, free);
            }
            lambda.free = inner;
        }
        ExprKind::Call(operator, operands) => {
            walk(operator, current, vars, free);
            for operand in operands {
                walk(operand, current, vars, free);
            }
        }
        ExprKind::Seq(exprs) => {
            for e in exprs {
                walk(e, current, vars, free);
            }
        }
        ExprKind::Let(bindings, body) => {
            for (_, init) in bindings.iter_mut() {
                walk(init, current, vars, free);
            }
            walk(body, current, vars, free);
        }
        ExprKind::Letrec(bindings, body) => {
            if !letrec_of_lambdas(bindings) {
                // Initialised after the closures that may capture them exist: treat as assigned.
                for (var, _) in bindings.iter() {
                    vars[*var as usize].assigned = true;
                }
            }
            for (_, init) in bindings.iter_mut() {
                walk(init, current, vars, free);
            }
            walk(body, current, vars, free);
        }
    }
}

/// Whether every init is a lambda: such a group is compiled by making the closures first and then tying
/// the knots (patching their free-variable slots), without boxes.
pub fn letrec_of_lambdas(bindings: &[(VarId, Expr)]) -> bool {
    bindings.iter().all(|(_, init)| matches!(init.kind, ExprKind::Lambda(_)))
}
