//! Rewrites a checked program for speed without changing its meaning:
//!
//! - `change.files.any(f => f.path matches G)` and `… f.touches(G)` become
//!   `AnyFileMatches`, answered by one policy-wide glob matcher that sees each path once;
//! - every list computation that depends only on the change (no parameter, no local) is
//!   wrapped in `Cached`: evaluated once per evaluation however many rules use it, with
//!   identical computations (up to names) sharing one slot.

use std::collections::HashMap;
use std::fmt::Write;

use crate::ir::{self, Builtin, CacheId, ExprKind, LocalId};
use crate::ty::Type;

pub fn optimize(mut program: ir::Program) -> ir::Program {
    let mut pass = Pass {
        slots: HashMap::default(),
        files_field: field_index("Change", "files"),
        path_field: field_index("File", "path"),
    };
    let mut free = Vec::new();
    for_each_root(&mut program, &mut |expr| {
        free.clear();
        pass.rewrite(expr, &mut free);
    });
    program.cache_slots = pass.slots.len() as u32;
    program
}

fn field_index(record: &str, field: &str) -> Option<usize> {
    warden_change::view::field_index(warden_change::view::record_index(record)?, field)
}

/// Calls `f` on every top-level expression of the program.
fn for_each_root(program: &mut ir::Program, f: &mut impl FnMut(&mut ir::Expr)) {
    let override_rule = |rule: &mut ir::OverrideRule, f: &mut dyn FnMut(&mut ir::Expr)| {
        f(&mut rule.by);
        rule.conditions.iter_mut().for_each(&mut *f);
    };
    if let Some(rule) = &mut program.settings.default_override {
        override_rule(rule, f);
    }
    for global in &mut program.globals {
        f(&mut global.value);
    }
    for function in &mut program.functions {
        function.lets.iter_mut().for_each(|(_, e)| f(e));
        f(&mut function.body);
    }
    for rule in &mut program.rules {
        if let Some(over) = &mut rule.overridable {
            override_rule(over, f);
        }
        rule.lets.iter_mut().for_each(|(_, e)| f(e));
        if let Some(when) = &mut rule.when {
            f(when);
        }
        for demand in &mut rule.demands {
            match demand {
                ir::Demand::Deny {
                    message, unless, ..
                } => {
                    template(message, f);
                    if let Some(req) = unless {
                        approval(req, f);
                    }
                }
                ir::Demand::Approval(req) => approval(req, f),
                ir::Demand::Condition {
                    condition, message, ..
                } => {
                    f(condition);
                    template(message, f);
                }
            }
        }
        if let Some(message) = &mut rule.message {
            template(message, f);
        }
    }
    for exemption in &mut program.exemptions {
        exemption.lets.iter_mut().for_each(|(_, e)| f(e));
        f(&mut exemption.when);
    }
}

fn template(template: &mut ir::Template, f: &mut dyn FnMut(&mut ir::Expr)) {
    for part in &mut template.parts {
        if let ir::TemplatePart::Hole(expr) = part {
            f(expr);
        }
    }
}

fn approval(req: &mut ir::ApprovalReq, f: &mut dyn FnMut(&mut ir::Expr)) {
    if let ir::ApprovalCount::Computed(count) = &mut req.count {
        f(count);
    }
    match &mut req.source {
        ir::ApproverSource::Set(e)
        | ir::ApproverSource::EachTeam(e)
        | ir::ApproverSource::EachUser(e) => f(e),
    }
    if let Some(condition) = &mut req.condition {
        f(condition);
    }
}

struct Pass {
    /// Structural key of a cached computation → its slot.
    slots: HashMap<String, CacheId, warden_change::Ids>,
    files_field: Option<usize>,
    path_field: Option<usize>,
}

impl Pass {
    /// Rewrites bottom-up, appending to `free` every read of a local the expression
    /// does not bind (one shared list for the whole tree: only whether an expression
    /// added any matters, so nothing is allocated per node).
    fn rewrite(&mut self, expr: &mut ir::Expr, free: &mut Vec<LocalId>) {
        let start = free.len();
        match &mut expr.kind {
            ExprKind::Local(id) => free.push(*id),
            ExprKind::Lambda { param, body } => {
                self.rewrite(body, free);
                let param = *param;
                let mut kept = start;
                for index in start..free.len() {
                    if free[index] != param {
                        free.swap(kept, index);
                        kept += 1;
                    }
                }
                free.truncate(kept);
            }
            _ => children(expr, &mut |child| self.rewrite(child, free)),
        }
        if let Some(fast) = self.file_glob(expr) {
            expr.kind = fast;
            return;
        }
        if free.len() == start && worth_caching(expr) {
            let mut key = String::new();
            structural_key(expr, &mut Vec::new(), &mut key);
            let next = CacheId(self.slots.len() as u32);
            let slot = *self.slots.entry(key).or_insert(next);
            let inner = std::mem::replace(&mut expr.kind, ExprKind::Null);
            let wrapped = ir::Expr {
                kind: inner,
                ..expr.clone()
            };
            expr.kind = ExprKind::Cached {
                slot,
                expr: Box::new(wrapped),
            };
        }
    }

    /// Recognises `change.files.any(f => f.path matches G)` and `… f.touches(G)`.
    fn file_glob(&self, expr: &ir::Expr) -> Option<ExprKind> {
        let ExprKind::Builtin {
            op: Builtin::Any,
            args,
            optional: false,
        } = &expr.kind
        else {
            return None;
        };
        let [list, lambda] = args.as_slice() else {
            return None;
        };
        let ExprKind::Field { base, field, .. } = &list.kind else {
            return None;
        };
        if !matches!(base.kind, ExprKind::Change) || Some(*field) != self.files_field {
            return None;
        }
        let ExprKind::Lambda { param, body } = &lambda.kind else {
            return None;
        };
        let is_param = |e: &ir::Expr| matches!(e.kind, ExprKind::Local(l) if l == *param);
        match &body.kind {
            ExprKind::Binary {
                op: ir::BinOp::Matches,
                lhs,
                rhs,
            } => {
                let ExprKind::Field { base, field, .. } = &lhs.kind else {
                    return None;
                };
                let ExprKind::Glob(glob) = rhs.kind else {
                    return None;
                };
                (is_param(base) && Some(*field) == self.path_field).then_some(
                    ExprKind::AnyFileMatches {
                        glob,
                        touches: false,
                    },
                )
            }
            ExprKind::Builtin {
                op: Builtin::Touches,
                args,
                ..
            } => {
                let [file, pattern] = args.as_slice() else {
                    return None;
                };
                let ExprKind::Glob(glob) = pattern.kind else {
                    return None;
                };
                is_param(file).then_some(ExprKind::AnyFileMatches {
                    glob,
                    touches: true,
                })
            }
            _ => None,
        }
    }
}

/// Whether caching pays: computations that walk a list, and function calls.
fn worth_caching(expr: &ir::Expr) -> bool {
    match &expr.kind {
        ExprKind::Call { .. } => true,
        ExprKind::Builtin { op, .. } => matches!(
            op,
            Builtin::Any
                | Builtin::All
                | Builtin::None
                | Builtin::Count
                | Builtin::Filter
                | Builtin::Map
                | Builtin::FlatMap
                | Builtin::Sum
                | Builtin::Min
                | Builtin::Max
                | Builtin::Distinct
                | Builtin::Sorted
        ),
        _ => false,
    }
}

/// One match over the sub-expressions of an expression, for both visitors below.
macro_rules! each_child {
    ($kind:expr, $f:ident, $iter:ident) => {
        match $kind {
            ExprKind::List(items) => items.$iter().for_each(|c| $f(c)),
            ExprKind::Field { base, .. } => $f(base),
            ExprKind::Index { base, index } => {
                $f(base);
                $f(index);
            }
            ExprKind::Call { args, .. } | ExprKind::Builtin { args, .. } => {
                args.$iter().for_each(|c| $f(c))
            }
            ExprKind::Lambda { body, .. } => $f(body),
            ExprKind::Not(inner) | ExprKind::Neg(inner) => $f(inner),
            ExprKind::Binary { lhs, rhs, .. } => {
                $f(lhs);
                $f(rhs);
            }
            ExprKind::If {
                condition,
                then,
                otherwise,
            } => {
                $f(condition);
                $f(then);
                $f(otherwise);
            }
            ExprKind::Cached { expr, .. } => $f(expr),
            ExprKind::Bool(_)
            | ExprKind::Int(_)
            | ExprKind::Duration(_)
            | ExprKind::Str(_)
            | ExprKind::Timestamp(_)
            | ExprKind::Null
            | ExprKind::Unchecked
            | ExprKind::Anyone
            | ExprKind::Change
            | ExprKind::Local(_)
            | ExprKind::Global(_)
            | ExprKind::Glob(_)
            | ExprKind::Regex(_)
            | ExprKind::AnyFileMatches { .. } => {}
        }
    };
}

/// Visits the direct sub-expressions of an expression.
pub fn children(expr: &mut ir::Expr, f: &mut dyn FnMut(&mut ir::Expr)) {
    each_child!(&mut expr.kind, f, iter_mut)
}

/// A text that is equal for two expressions exactly when they compute the same thing:
/// spans are left out and lambda parameters are numbered by binding depth. Written
/// without `fmt` for the common nodes (the keys of a 1,000-rule policy took a tenth of
/// loading it through `write!`); only compared, never shown.
pub(crate) fn structural_key(expr: &ir::Expr, bound: &mut Vec<LocalId>, out: &mut String) {
    out.push('(');
    match &expr.kind {
        ExprKind::Bool(v) => out.push_str(if *v { "b1" } else { "b0" }),
        ExprKind::Int(v) => tagged(out, 'i', *v),
        ExprKind::Duration(v) => tagged(out, 'd', *v),
        ExprKind::Str(v) => {
            // Length first, so that no string can be read as another's end.
            tagged(out, 's', v.len() as i64);
            out.push(':');
            out.push_str(v);
        }
        ExprKind::Timestamp(v) => {
            let _ = write!(out, "t{v}");
        }
        ExprKind::Null => out.push('n'),
        ExprKind::Anyone => out.push('a'),
        ExprKind::Unchecked => out.push('u'),
        ExprKind::Change => out.push('c'),
        ExprKind::Local(id) => {
            let depth = bound.iter().rposition(|b| b == id);
            tagged(out, 'l', depth.map_or(-1, |d| d as i64));
        }
        ExprKind::Global(id) => tagged(out, 'g', id.0.into()),
        ExprKind::Glob(id) => tagged(out, 'G', id.0.into()),
        ExprKind::Regex(id) => tagged(out, 'R', id.0.into()),
        ExprKind::AnyFileMatches { glob, touches } => {
            tagged(out, 'F', glob.0.into());
            out.push(if *touches { 't' } else { 'p' });
        }
        ExprKind::Field {
            field, optional, ..
        } => {
            tagged(out, 'f', *field as i64);
            out.push(if *optional { '?' } else { '.' });
        }
        ExprKind::Call { func, .. } => tagged(out, 'C', func.0.into()),
        ExprKind::Builtin { op, optional, .. } => {
            tagged(out, 'B', *op as i64);
            out.push(if *optional { '?' } else { '.' });
        }
        ExprKind::Binary { op, .. } => tagged(out, 'O', *op as i64),
        ExprKind::Lambda { param, body } => {
            bound.push(*param);
            out.push('L');
            structural_key(body, bound, out);
            bound.pop();
            out.push(')');
            return;
        }
        ExprKind::Cached { slot, .. } => tagged(out, 'K', slot.0.into()),
        ExprKind::List(_) => out.push_str("list"),
        ExprKind::Index { .. } => out.push_str("index"),
        ExprKind::Not(_) => out.push_str("not"),
        ExprKind::Neg(_) => out.push_str("neg"),
        ExprKind::If { .. } => out.push_str("if"),
    }
    out.push(':');
    type_key(&expr.ty, out);
    if !matches!(expr.kind, ExprKind::Cached { .. }) {
        children_ref(expr, &mut |child| structural_key(child, bound, out));
    }
    out.push(')');
}

/// `tag` and a number in decimal.
fn tagged(out: &mut String, tag: char, number: i64) {
    out.push(tag);
    if number < 0 {
        out.push('-');
    }
    let mut digits = [0u8; 20];
    let mut rest = number.unsigned_abs();
    let mut at = digits.len();
    while let Some(next) = at.checked_sub(1) {
        at = next;
        if let Some(digit) = digits.get_mut(at) {
            *digit = b'0' + (rest % 10) as u8;
        }
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.push_str(std::str::from_utf8(digits.get(at..).unwrap_or_default()).unwrap_or_default());
}

/// A type, written so that two types have the same text only if they are equal.
fn type_key(ty: &Type, out: &mut String) {
    match ty {
        Type::Error => out.push('E'),
        Type::Bool => out.push('b'),
        Type::Int => out.push('i'),
        Type::Str => out.push('s'),
        Type::Timestamp => out.push('t'),
        Type::Duration => out.push('d'),
        Type::Glob => out.push('g'),
        Type::Regex => out.push('r'),
        Type::Approvers => out.push('a'),
        Type::Null => out.push('n'),
        Type::List(inner) => {
            out.push('L');
            type_key(inner, out);
        }
        Type::Map(inner) => {
            out.push('M');
            type_key(inner, out);
        }
        Type::Optional(inner) => {
            out.push('O');
            type_key(inner, out);
        }
        Type::Record(index) => tagged(out, 'R', *index as i64),
        Type::Enum(variants) => {
            tagged(out, 'e', variants.len() as i64);
            for variant in variants.iter() {
                tagged(out, ':', variant.len() as i64);
                out.push(':');
                out.push_str(variant);
            }
        }
    }
}

/// Visits the direct sub-expressions of an expression, read-only.
pub fn children_ref(expr: &ir::Expr, f: &mut dyn FnMut(&ir::Expr)) {
    each_child!(&expr.kind, f, iter)
}
