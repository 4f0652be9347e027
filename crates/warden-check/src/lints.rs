//! Checks over the whole policy: recursion, unused imports, constant conditions (the
//! lints over the checked rules as a whole are in `policy_lints`).

use std::collections::BTreeMap;
use warden_syntax::Code;

use crate::checker::{Checker, Owner};
use crate::ir::{self, BinOp, ExprKind};

/// Functions may not recurse, directly or through other functions and `let`s: every
/// evaluation must terminate. Reports each cycle once, at the call that closes it.
pub fn recursion(checker: &mut Checker<'_>) {
    let mut edges: BTreeMap<Owner, Vec<(Owner, usize, warden_syntax::Span)>> = BTreeMap::new();
    for (from, to, file, span) in &checker.deps {
        edges.entry(*from).or_default().push((*to, *file, *span));
    }
    let mut state: BTreeMap<Owner, u8> = BTreeMap::new(); // 1 = on the stack, 2 = done
    let mut reported = Vec::new();
    let nodes: Vec<Owner> = edges.keys().copied().collect();
    for start in nodes {
        let mut path = Vec::new();
        visit(start, &edges, &mut state, &mut path, &mut reported);
    }
    for (cycle, file, span) in reported {
        let names: Vec<String> = cycle.iter().map(|o| owner_name(checker, *o)).collect();
        let message = match names.as_slice() {
            [one] => format!("`{one}` calls itself"),
            _ => format!(
                "{} call each other in a cycle",
                names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        checker.report(file, span, Code::Recursion, message, "this call closes the cycle", Some("Warden functions cannot recurse, so that every evaluation terminates; iterate with list methods such as `any` or `map` instead".to_string()));
    }
}

type Cycle = (Vec<Owner>, usize, warden_syntax::Span);

fn visit(
    node: Owner,
    edges: &BTreeMap<Owner, Vec<(Owner, usize, warden_syntax::Span)>>,
    state: &mut BTreeMap<Owner, u8>,
    path: &mut Vec<Owner>,
    reported: &mut Vec<Cycle>,
) {
    match state.get(&node) {
        Some(2) => return,
        Some(_) => return,
        None => {}
    }
    state.insert(node, 1);
    path.push(node);
    for (next, file, span) in edges.get(&node).map(Vec::as_slice).unwrap_or(&[]) {
        if state.get(next) == Some(&1) {
            let start = path.iter().position(|o| o == next).unwrap_or(0);
            let cycle: Vec<Owner> = path.get(start..).map(<[Owner]>::to_vec).unwrap_or_default();
            // A cycle made only of `let`s is already reported when it is evaluated.
            if cycle.iter().any(|o| matches!(o, Owner::Fn(_))) {
                reported.push((cycle, *file, *span));
            }
        } else {
            visit(*next, edges, state, path, reported);
        }
    }
    path.pop();
    state.insert(node, 2);
}

fn owner_name(checker: &Checker<'_>, owner: Owner) -> String {
    match owner {
        Owner::Global(id) => checker
            .globals
            .get(id.0 as usize)
            .map_or_else(String::new, |g| g.item.name.name.clone()),
        Owner::Fn(id) => checker
            .functions
            .get(id.0 as usize)
            .map_or_else(String::new, |f| f.item.name.name.clone()),
    }
}

pub fn unused_imports(checker: &mut Checker<'_>) {
    let mut unused = Vec::new();
    for (file, module) in checker.modules.iter().enumerate() {
        for (alias, import) in &module.imports {
            if !import.used {
                unused.push((file, import.span, alias.clone()));
            }
        }
    }
    for (file, span, alias) in unused {
        checker.report(
            file,
            span,
            Code::UnusedImport,
            format!("`{alias}` is imported but never used"),
            "unused import",
            Some("remove the import".to_string()),
        );
    }
}

/// Warns about a condition, or an operand of `and`/`or` in it, that does not depend on
/// the change: it is always true or always false, which is almost always a mistake.
pub fn constant_condition(checker: &mut Checker<'_>, file: usize, lowered: &ir::Expr) {
    let mut found = Vec::new();
    collect_constant(lowered, &mut found);
    for (span, value) in found {
        let text = checker.snippet(file, span);
        let (message, help) = match value {
            Some(true) => (
                format!("`{text}` is always true"),
                "remove it: a rule without `when` applies to every change",
            ),
            Some(false) => (
                format!("`{text}` is always false"),
                "the rule can never apply; remove it or fix the condition",
            ),
            None => (
                format!("`{text}` does not depend on the change"),
                "a condition should test the change; this one always gives the same answer",
            ),
        };
        checker.report(
            file,
            span,
            Code::ConstantCondition,
            message,
            "constant condition",
            Some(help.to_string()),
        );
    }
}

fn collect_constant(expr: &ir::Expr, found: &mut Vec<(warden_syntax::Span, Option<bool>)>) {
    if let ExprKind::Binary {
        op: BinOp::And | BinOp::Or,
        lhs,
        rhs,
    } = &expr.kind
        && depends_on_input(expr)
    {
        collect_constant(lhs, found);
        collect_constant(rhs, found);
        return;
    }
    if !depends_on_input(expr) && !contains_error(expr) {
        found.push((expr.span, fold_bool(expr)));
    }
}

/// Whether an expression holds a part that already failed to check: such a part is a
/// placeholder, so the expression only looks constant.
fn contains_error(expr: &ir::Expr) -> bool {
    if expr.ty.is_error() {
        return true;
    }
    let mut found = false;
    crate::optimize::children_ref(expr, &mut |child| found |= contains_error(child));
    found
}

/// Whether an expression reads the change, a binding or a definition.
fn depends_on_input(expr: &ir::Expr) -> bool {
    match &expr.kind {
        ExprKind::Change
        | ExprKind::Local(_)
        | ExprKind::Global(_)
        | ExprKind::Call { .. }
        | ExprKind::AnyFileMatches { .. } => true,
        _ => {
            let mut depends = false;
            crate::optimize::children_ref(expr, &mut |child| depends |= depends_on_input(child));
            depends
        }
    }
}

/// Folds a constant boolean expression built from literals, when that is simple.
pub fn fold_bool(expr: &ir::Expr) -> Option<bool> {
    match &expr.kind {
        ExprKind::Bool(value) => Some(*value),
        ExprKind::Not(inner) => fold_bool(inner).map(|v| !v),
        ExprKind::Binary { op, lhs, rhs } => match op {
            BinOp::And => Some(fold_bool(lhs)? && fold_bool(rhs)?),
            BinOp::Or => Some(fold_bool(lhs)? || fold_bool(rhs)?),
            _ => {
                let ordering = match (&lhs.kind, &rhs.kind) {
                    (ExprKind::Int(a), ExprKind::Int(b)) => a.cmp(b),
                    (ExprKind::Str(a), ExprKind::Str(b)) => a.cmp(b),
                    (ExprKind::Bool(a), ExprKind::Bool(b)) => a.cmp(b),
                    _ => return None,
                };
                match op {
                    BinOp::Eq => Some(ordering.is_eq()),
                    BinOp::Ne => Some(ordering.is_ne()),
                    BinOp::Lt => Some(ordering.is_lt()),
                    BinOp::Le => Some(ordering.is_le()),
                    BinOp::Gt => Some(ordering.is_gt()),
                    BinOp::Ge => Some(ordering.is_ge()),
                    _ => None,
                }
            }
        },
        _ => None,
    }
}
