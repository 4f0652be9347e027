//! Branch coverage, for `warden test`: which way each branch point of the policy went
//! over a set of evaluations. A branch point is an operand of an `and`/`or` chain, an
//! `if`, or a quantifier (`any`, `all`, `none`, and the glob matches the optimiser
//! answers from the file matcher); each has two branches, its value true or false.
//! Recording is off unless the caller asks for it (`evaluate_covered`): the
//! interpreter checks one `Option` at a branch point and does nothing more.

use std::collections::BTreeMap;

use warden_check::ir::{self, BinOp, Builtin, ExprKind};
use warden_syntax::FileId;

use crate::interp::{Ctx, Frame, Result};
use crate::value::Value;

/// What kind of question a branch point asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BranchKind {
    /// An operand of an `and` chain.
    And,
    /// An operand of an `or` chain.
    Or,
    /// An `if`'s condition: `then` taken (true) or `else` (false).
    If,
    /// `any`: true when an item matched.
    Any,
    /// `all`: true when every item held.
    All,
    /// `none`: true when no item matched.
    None,
}

impl BranchKind {
    /// What the branch taken when the point's value is `value` is called.
    pub fn label(self, value: bool) -> &'static str {
        match (self, value) {
            (BranchKind::And | BranchKind::Or, true) => "true",
            (BranchKind::And | BranchKind::Or, false) => "false",
            (BranchKind::If, true) => "then",
            (BranchKind::If, false) => "else",
            (BranchKind::Any, true) | (BranchKind::None, false) => "found",
            (BranchKind::Any, false) | (BranchKind::None, true) => "not found",
            (BranchKind::All, true) => "all held",
            (BranchKind::All, false) => "counterexample found",
        }
    }
}

/// A branch point: where it is written, and what it asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BranchPoint {
    pub file: FileId,
    pub start: usize,
    pub end: usize,
    pub kind: BranchKind,
}

impl BranchPoint {
    fn at(expr: &ir::Expr, kind: BranchKind) -> BranchPoint {
        BranchPoint {
            file: expr.file,
            start: expr.span.start,
            end: expr.span.end,
            kind,
        }
    }
}

/// The values each branch point took: bit 0 true, bit 1 false.
#[derive(Debug, Clone, Default)]
pub struct Coverage {
    taken: BTreeMap<BranchPoint, u8>,
}

impl Coverage {
    fn record(&mut self, point: BranchPoint, value: bool) {
        *self.taken.entry(point).or_default() |= if value { 1 } else { 2 };
    }

    /// Whether the point took the value `value` in some recorded evaluation.
    pub fn took(&self, point: &BranchPoint, value: bool) -> bool {
        let bit = if value { 1 } else { 2 };
        self.taken.get(point).is_some_and(|taken| taken & bit != 0)
    }
}

/// The branch point a quantifier is, if it is one.
fn quantifier(expr: &ir::Expr) -> Option<BranchKind> {
    match &expr.kind {
        ExprKind::Builtin { op, .. } => match op {
            Builtin::Any => Some(BranchKind::Any),
            Builtin::All => Some(BranchKind::All),
            Builtin::None => Some(BranchKind::None),
            _ => None,
        },
        ExprKind::AnyFileMatches { .. } => Some(BranchKind::Any),
        _ => None,
    }
}

/// The operand kind of `op`, for `and` and `or`.
fn chain(op: BinOp) -> Option<BranchKind> {
    match op {
        BinOp::And => Some(BranchKind::And),
        BinOp::Or => Some(BranchKind::Or),
        _ => None,
    }
}

/// Whether `expr` continues a chain of `op`: its operands are the branch points, not it.
fn continues(expr: &ir::Expr, op: BinOp) -> bool {
    matches!(&expr.kind, ExprKind::Binary { op: inner, .. } if *inner == op)
}

impl<'a> Ctx<'a, '_> {
    /// Records the value of a quantifier, when recording.
    #[inline]
    pub(crate) fn cover_result(&mut self, expr: &ir::Expr, value: &Value<'a>) {
        // The `Option` first: when off, nothing else is looked at.
        if let Some(coverage) = &mut self.coverage
            && let (Some(kind), Value::Bool(value)) = (quantifier(expr), value)
        {
            coverage.record(BranchPoint::at(expr, kind), *value);
        }
    }

    /// Records which arm an `if` took, when recording.
    #[inline]
    pub(crate) fn cover_if(&mut self, expr: &ir::Expr, taken: bool) {
        if let Some(coverage) = &mut self.coverage {
            coverage.record(BranchPoint::at(expr, BranchKind::If), taken);
        }
    }

    /// Evaluates an operand of `and`/`or`, recording its value when recording.
    #[inline]
    pub(crate) fn operand(
        &mut self,
        op: BinOp,
        operand: &ir::Expr,
        frame: &mut Frame<'a>,
    ) -> Result<'a, bool> {
        let value = self.bool(operand, frame)?;
        if let Some(coverage) = &mut self.coverage
            && let Some(kind) = chain(op)
            && !continues(operand, op)
        {
            coverage.record(BranchPoint::at(operand, kind), value);
        }
        Ok(value)
    }
}

/// Adds the branch points of `expr` to `out`, in source order. Calls are not followed:
/// a function's branch points are its own.
pub fn branch_points(expr: &ir::Expr, out: &mut Vec<BranchPoint>) {
    if let Some(kind) = quantifier(expr) {
        out.push(BranchPoint::at(expr, kind));
    }
    match &expr.kind {
        ExprKind::Binary { op, lhs, rhs } => {
            for operand in [lhs, rhs] {
                if let Some(kind) = chain(*op)
                    && !continues(operand, *op)
                {
                    out.push(BranchPoint::at(operand, kind));
                }
                branch_points(operand, out);
            }
        }
        ExprKind::If { .. } => {
            out.push(BranchPoint::at(expr, BranchKind::If));
            expr.for_each_child(&mut |part| branch_points(part, out));
        }
        _ => expr.for_each_child(&mut |child| branch_points(child, out)),
    }
}
