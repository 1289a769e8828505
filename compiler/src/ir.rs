//! The core IR: what every Scheme program is expanded into, and what the passes and codegen consume.
//!
//! Ten forms: constant, local and global reference, local and global assignment, global definition,
//! `if`, `lambda` (with optional and rest parameters), application, sequence, and two binding forms —
//! `Let` (parallel, like `let`) and `Letrec` (sequential, like `letrec*`). Every node keeps the span of
//! the source it came from. Variables are numbered per compilation unit; [`Var`] holds what the
//! analysis pass learns about each.

use chenilles_reader::Span;

use crate::syntax::{Quoted, Symbol};

/// A local variable, numbered within its compilation unit.
pub type VarId = u32;

/// What is known about one local variable.
#[derive(Clone, Debug)]
pub struct Var {
    pub name: Symbol,
    /// The lambda whose frame holds the variable.
    pub owner: LambdaId,
    /// Assigned by `set!` (or initialised after it may have been captured, in a general `letrec`).
    pub assigned: bool,
    /// Referenced from a lambda other than its owner.
    pub captured: bool,
}

impl Var {
    /// Assigned variables live in boxes: every closure must see each assignment, and so must every
    /// re-entry of a continuation, which copies frames but must share variables.
    pub fn boxed(&self) -> bool {
        self.assigned
    }
}

/// Lambdas are numbered within their unit; 0 is the unit's top level.
pub type LambdaId = u32;

#[derive(Clone, Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum ExprKind {
    Const(Quoted),
    Local(VarId),
    SetLocal(VarId, Box<Expr>),
    Global(Symbol),
    SetGlobal(Symbol, Box<Expr>),
    DefineGlobal(Symbol, Box<Expr>),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    Lambda(Box<Lambda>),
    Call(Box<Expr>, Vec<Expr>),
    /// Never empty.
    Seq(Vec<Expr>),
    Let(Vec<(VarId, Expr)>, Box<Expr>),
    Letrec(Vec<(VarId, Expr)>, Box<Expr>),
}

#[derive(Clone, Debug)]
pub struct Lambda {
    pub id: LambdaId,
    pub name: String,
    pub required: Vec<VarId>,
    pub optional: Vec<VarId>,
    pub rest: Option<VarId>,
    pub body: Expr,
    /// Free variables in the order the closure stores them; filled by the analysis pass.
    pub free: Vec<VarId>,
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Expr {
        Expr { kind, span }
    }

    pub fn unspecified(span: Span) -> Expr {
        Expr::new(ExprKind::Const(Quoted::Unspecified), span)
    }
}
