//! Lints over the checked policy as a whole, each a warning that is reported only when
//! it is certain:
//!
//! - `unused-function`, `unused-let`: a policy's function or top-level `let` that no
//!   rule, exemption or `policy` block reaches;
//! - `impossible-condition`: a rule's or exemption's `when` whose `and`ed tests of one
//!   value cannot all hold (`k == "a" and k == "b"`, `k in ["a"] and k != "a"`, or
//!   every value of a closed set excluded);
//! - `exempts-impossible-rule`: an exemption that lifts a rule that can never apply;
//! - `shadowed-rule`: a rule whose condition another rule has too, where the other
//!   demands at least as much, so it never changes the verdict;
//! - `covered-glob`: a pattern of a glob, or of `or`ed glob tests on one value, that
//!   matches no path another pattern there does not already match.
//!
//! They run only on a policy without errors: a part that failed to parse or check is
//! a placeholder (or missing), and a lint over it could only guess.

use std::collections::{BTreeMap, BTreeSet};
use warden_syntax::Code;

use warden_syntax::{Diagnostic, FileId, Span};

use crate::checker::{Checker, Owner};
use crate::glob_cover::Cover;
use crate::ir::{self, BinOp, Builtin, ExprKind, GlobId, LocalId};
use crate::optimize::{children, children_ref, structural_key};
use crate::ty::Type;

/// A `let` inlined into a condition to compare it with another rule's stops growing
/// past this many nodes (`let`s that double each other grow exponentially).
const MAX_INLINED_NODES: usize = 10_000;

/// What the lints over the policy read of one rule, taken as soon as the rule is
/// checked ([`rule_facts`]): an analysis that keeps no program (the language server's)
/// then holds no rule's IR beyond its own check.
pub(crate) struct RuleFacts {
    name: String,
    file: FileId,
    span: Span,
    advisory: bool,
    /// `impossible-condition`'s diagnostics, reported when the lints run.
    impossible: Vec<Diagnostic>,
    /// Its condition can never hold.
    never_applies: bool,
    /// `shadowed-rule`'s keys (`None`: the rule cannot be compared).
    keys: Option<RuleKeys>,
    /// `covered-glob`'s findings in its expressions.
    covered: Vec<Covered>,
}

/// The facts of the `index`th rule of the program (what the language server's memo
/// holds of it, if it does). `cover` is the lints' cache of glob automata.
pub(crate) fn rule_facts(
    checker: &mut Checker<'_>,
    index: usize,
    rule: &ir::Rule,
    cover: &mut Cover,
) -> RuleFacts {
    let from = checker.diags.len();
    let never_applies = match checker.replay_lints(index) {
        Some(never) => never,
        None => {
            let impossible = (rule.when.as_ref()).is_some_and(|w| impossible_condition(checker, w));
            let constant_false = (rule.when.as_ref())
                .is_some_and(|when| matches!(crate::lints::fold_bool(when), Some(false)));
            let never = impossible || constant_false;
            checker.store_lints(index, rule.file.0 as usize, from, never);
            never
        }
    };
    let impossible = checker.diags.split_off(from);
    let keys = checker.take_keys(index).unwrap_or_else(|| rule_keys(rule));
    let covered = match checker.replay_covered(index) {
        Some(stored) => stored,
        None => {
            let mut found = Vec::new();
            rule_exprs(rule, &mut |e| visit_globs(checker, e, cover, &mut found));
            checker.store_covered(index, &found);
            found
        }
    };
    RuleFacts {
        name: rule.name.clone(),
        file: rule.file,
        span: rule.span,
        advisory: rule.advisory,
        impossible,
        never_applies,
        keys,
        covered,
    }
}

/// Whether an item of the policy failed to parse: the lints do not run then.
pub(crate) fn unparsed(checker: &Checker<'_>) -> bool {
    checker.files.iter().any(|f| {
        f.module
            .items
            .iter()
            .any(|item| matches!(item, warden_syntax::ast::Item::Error(_)))
    })
}

/// The lints over the policy, from the facts of its rules (in program order), its
/// exemptions, and `cover`, the cache of glob automata the facts were taken with.
pub fn run(
    checker: &mut Checker<'_>,
    mut rules: Vec<RuleFacts>,
    exemptions: &[ir::Exemption],
    mut cover: Cover,
) {
    if !unparsed(checker) && !checker.diags.iter().any(Diagnostic::is_error) {
        // A file without rules is a library checked on its own (`no-rules` says so): its
        // definitions are for the files that import it.
        if !rules.is_empty() {
            unused_items(checker);
        }
        for rule in &mut rules {
            checker.diags.append(&mut rule.impossible);
        }
        for exemption in exemptions {
            impossible_condition(checker, &exemption.when);
            for index in &exemption.rules {
                if let Some(rule) = rules.get(*index).filter(|r| r.never_applies) {
                    checker.diags.push(
                        Diagnostic::new(
                            Code::ExemptsImpossibleRule,
                            format!(
                                "exemption `{}` lifts rule `{}`, which can never apply",
                                exemption.name, rule.name
                            ),
                        )
                        .with_label(exemption.file, exemption.span, "this exemption")
                        .with_label(rule.file, rule.span, "its condition never holds")
                        .with_help(format!(
                            "fix the rule's condition, or remove `{}` from the exemption",
                            rule.name
                        )),
                    );
                }
            }
        }
        shadowed_rules(checker, &rules, exemptions);
        covered_globs(checker, &mut rules, exemptions, &mut cover);
    }
    // The memo's keys, taken by `rule_facts`, go back.
    for (index, rule) in rules.into_iter().enumerate() {
        checker.store_keys(index, rule.keys);
    }
}

/// Functions and top-level `let`s of the policy (not of the standard library) that
/// nothing reachable from a rule, an exemption or the `policy` block refers to.
fn unused_items(checker: &mut Checker<'_>) {
    let mut edges: BTreeMap<Owner, Vec<Owner>> = BTreeMap::new();
    for (from, to, _, _) in &checker.deps {
        edges.entry(*from).or_default().push(*to);
    }
    let mut reached: BTreeSet<Owner> = BTreeSet::new();
    let mut pending = checker.used_by_policy.clone();
    while let Some(owner) = pending.pop() {
        if reached.insert(owner) {
            pending.extend(edges.get(&owner).into_iter().flatten().copied());
        }
    }
    let is_policy = |file: usize| checker.files.get(file).is_some_and(|f| !f.std);
    let mut unused = Vec::new();
    for (index, global) in checker.globals.iter().enumerate() {
        let owner = Owner::Global(ir::GlobalId(index as u32));
        if is_policy(global.file) && !reached.contains(&owner) {
            unused.push((global.file, &global.item.name, Code::UnusedLet));
        }
    }
    for (index, function) in checker.functions.iter().enumerate() {
        let owner = Owner::Fn(ir::FnId(index as u32));
        if is_policy(function.file) && !reached.contains(&owner) {
            unused.push((function.file, &function.item.name, Code::UnusedFunction));
        }
    }
    let unused: Vec<(usize, Span, String, Code)> = unused
        .into_iter()
        .filter(|(_, name, _)| !name.name.starts_with('_'))
        .map(|(file, name, code)| (file, name.span, name.name.clone(), code))
        .collect();
    for (file, span, name, code) in unused {
        let what = if code == Code::UnusedFunction {
            "function"
        } else {
            "`let`"
        };
        checker.report(
            file,
            span,
            code,
            format!("the {what} `{name}` is never used"),
            "defined here",
            Some(format!(
                "no rule, exemption or `policy` block uses it, directly or through \
                 other definitions; remove it, or name it `_{name}` to keep it"
            )),
        );
    }
}

/// A literal a value is compared with.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Literal {
    Str(String),
    Int(i64),
    Bool(bool),
}

impl Literal {
    fn of(expr: &ir::Expr) -> Option<Literal> {
        match &expr.kind {
            ExprKind::Str(text) => Some(Literal::Str(text.to_string())),
            ExprKind::Int(value) => Some(Literal::Int(*value)),
            ExprKind::Bool(value) => Some(Literal::Bool(*value)),
            _ => None,
        }
    }
}

/// What one `and`ed test says of a value: it is one of `allowed`, or none of `excluded`.
struct Constraint<'e> {
    subject: &'e ir::Expr,
    allowed: Option<BTreeSet<Literal>>,
    excluded: BTreeSet<Literal>,
    test: &'e ir::Expr,
}

/// Reads a test of the form `S == lit`, `S != lit`, `S in [lits]`, `not (S in [lits])`
/// or a boolean `S` / `not S`.
fn constraint(test: &ir::Expr) -> Option<Constraint<'_>> {
    let (negated, inner) = match &test.kind {
        ExprKind::Not(inner) => (true, &**inner),
        _ => (false, test),
    };
    let (subject, literals, equal) = match &inner.kind {
        ExprKind::Binary {
            op: op @ (BinOp::Eq | BinOp::Ne),
            lhs,
            rhs,
        } => {
            let (subject, literal) = match (Literal::of(lhs), Literal::of(rhs)) {
                (None, Some(literal)) => (&**lhs, literal),
                (Some(literal), None) => (&**rhs, literal),
                _ => return None,
            };
            (subject, BTreeSet::from([literal]), *op == BinOp::Eq)
        }
        ExprKind::Binary {
            op: BinOp::In,
            lhs,
            rhs,
        } => {
            let ExprKind::List(items) = &rhs.kind else {
                return None;
            };
            let literals = items.iter().map(Literal::of).collect::<Option<_>>()?;
            (&**lhs, literals, true)
        }
        _ if inner.ty == Type::Bool && Literal::of(inner).is_none() => {
            (inner, BTreeSet::from([Literal::Bool(true)]), true)
        }
        _ => return None,
    };
    let (allowed, excluded) = if equal != negated {
        (Some(literals), BTreeSet::new())
    } else {
        (None, literals)
    };
    Some(Constraint {
        subject,
        allowed,
        excluded,
        test,
    })
}

/// What the `and`ed tests of one value leave it: one of `allowed` (`None`: any value),
/// none of `excluded`; and the tests that said so.
struct Possible<'e> {
    allowed: Option<BTreeSet<Literal>>,
    excluded: BTreeSet<Literal>,
    tests: Vec<&'e ir::Expr>,
}

/// Every value a (non-optional) closed type can take.
fn closed_values(ty: &Type) -> Option<BTreeSet<Literal>> {
    match ty {
        Type::Bool => Some(BTreeSet::from([Literal::Bool(false), Literal::Bool(true)])),
        Type::Enum(values) => Some(values.iter().cloned().map(Literal::Str).collect()),
        _ => None,
    }
}

/// The operands of a chain of `and`s.
fn conjuncts<'e>(expr: &'e ir::Expr, out: &mut Vec<&'e ir::Expr>) {
    match &expr.kind {
        ExprKind::Binary {
            op: BinOp::And,
            lhs,
            rhs,
        } => {
            conjuncts(lhs, out);
            conjuncts(rhs, out);
        }
        _ => out.push(expr),
    }
}

/// A key equal for two expressions of one body exactly when they are the same
/// computation: every slot keeps its own number.
fn body_key(expr: &ir::Expr) -> String {
    let mut slots = Vec::new();
    max_slot(expr, &mut slots);
    let mut key = String::new();
    structural_key(expr, &mut slots, &mut key);
    key
}

/// Fills `slots` with `LocalId(0..=max)` over the slots an expression mentions, so that
/// `structural_key` numbers each free slot by itself.
fn max_slot(expr: &ir::Expr, slots: &mut Vec<LocalId>) {
    let slot = match &expr.kind {
        ExprKind::Local(id) | ExprKind::Lambda { param: id, .. } => Some(id.0),
        _ => None,
    };
    if let Some(slot) = slot {
        while slots.len() <= slot as usize {
            slots.push(LocalId(slots.len() as u32));
        }
    }
    children_ref(expr, &mut |child| max_slot(child, slots));
}

/// Reports the first value whose `and`ed tests in `condition` cannot all hold;
/// returns whether there was one.
fn impossible_condition(checker: &mut Checker<'_>, condition: &ir::Expr) -> bool {
    let mut tests = Vec::new();
    conjuncts(condition, &mut tests);
    let mut values: BTreeMap<String, Possible<'_>> = BTreeMap::new();
    for test in tests {
        let Some(constraint) = constraint(test) else {
            continue;
        };
        let closed = closed_values(&constraint.subject.ty);
        let entry = values
            .entry(body_key(constraint.subject))
            .or_insert_with(|| Possible {
                allowed: closed.clone(),
                excluded: BTreeSet::new(),
                tests: Vec::new(),
            });
        entry.allowed = match (entry.allowed.take(), constraint.allowed) {
            (Some(known), Some(allowed)) => Some(known.intersection(&allowed).cloned().collect()),
            (known, allowed) => known.or(allowed),
        };
        entry.excluded.extend(constraint.excluded);
        entry.tests.push(constraint.test);
        let possible = entry
            .allowed
            .as_ref()
            .is_none_or(|allowed| allowed.iter().any(|v| !entry.excluded.contains(v)));
        if possible {
            continue;
        }
        let subject = checker.snippet(condition.file.0 as usize, constraint.subject.span);
        let file = condition.file;
        let (last, earlier) = entry.tests.split_last().unwrap_or((&test, &[]));
        let list = entry
            .tests
            .iter()
            .map(|t| format!("`{}`", checker.snippet(file.0 as usize, t.span)))
            .collect::<Vec<_>>()
            .join(" and ");
        let mut diagnostic = Diagnostic::new(
            Code::ImpossibleCondition,
            format!("this condition can never hold: no `{subject}` passes {list}"),
        )
        .with_label(file, last.span, "contradicts what is tested before");
        for test in earlier {
            diagnostic = diagnostic.with_label(file, test.span, "tested here");
        }
        let help = match &closed {
            Some(values) => format!(
                "`{subject}` is always one of {}; fix the tests, or remove the item if it is not needed",
                values
                    .iter()
                    .map(|v| match v {
                        Literal::Str(s) => format!("`\"{s}\"`"),
                        Literal::Int(i) => format!("`{i}`"),
                        Literal::Bool(b) => format!("`{b}`"),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            _ => "fix the tests, or remove the item if it is not needed".to_string(),
        };
        checker.diags.push(diagnostic.with_help(help));
        return true;
    }
    false
}

/// A rule's parts as keys that are equal exactly when two rules compute the same
/// thing: its `let`s are inlined, so names and slots do not matter.
#[derive(Debug)]
pub(crate) struct RuleKeys {
    when: Option<String>,
    deny: bool,
    /// Per `deny unless` / approval demand: (is a `deny unless`, who and where,
    /// approvals asked).
    approvals: Vec<(bool, String, u32)>,
    /// `require COND` demands: (is a `require COND else deny`, the condition).
    conditions: Vec<(bool, String)>,
    overridable: Option<String>,
}

fn inlined_key(expr: &ir::Expr, lets: &[(LocalId, ir::Expr)]) -> Option<String> {
    let mut expr = expr.clone();
    let mut budget = MAX_INLINED_NODES;
    inline(&mut expr, lets, &mut budget)?;
    let mut key = String::new();
    structural_key(&expr, &mut Vec::new(), &mut key);
    // Kept for every rule until the lint ends: without the room growing left.
    key.shrink_to_fit();
    Some(key)
}

/// Replaces each read of a `let` by its value (itself inlined), within a budget of nodes.
fn inline(expr: &mut ir::Expr, lets: &[(LocalId, ir::Expr)], budget: &mut usize) -> Option<()> {
    *budget = budget.checked_sub(1)?;
    if let ExprKind::Local(id) = &expr.kind
        && let Some(position) = lets.iter().position(|(slot, _)| slot == id)
    {
        let (earlier, rest) = lets.split_at(position);
        let value = &rest.first()?.1;
        *expr = value.clone();
        return inline(expr, earlier, budget);
    }
    let mut result = Some(());
    children(expr, &mut |child| {
        if result.is_some() {
            result = inline(child, lets, budget);
        }
    });
    result
}

fn approval_key(req: &ir::ApprovalReq, lets: &[(LocalId, ir::Expr)]) -> Option<String> {
    let (kind, source) = match &req.source {
        ir::ApproverSource::Set(set) => ("set", set),
        ir::ApproverSource::EachTeam(list) => ("each team", list),
        ir::ApproverSource::EachUser(list) => ("each user", list),
    };
    let condition = match &req.condition {
        Some(condition) => inlined_key(condition, lets)?,
        None => String::new(),
    };
    Some(format!(
        "{kind}|{}|{condition}|{}",
        inlined_key(source, lets)?,
        req.allow_stale
    ))
}

fn rule_keys(rule: &ir::Rule) -> Option<RuleKeys> {
    let lets = &rule.lets;
    let mut keys = RuleKeys {
        when: match &rule.when {
            Some(when) => Some(inlined_key(when, lets)?),
            None => None,
        },
        deny: false,
        approvals: Vec::new(),
        conditions: Vec::new(),
        overridable: match &rule.overridable {
            Some(over) => {
                let mut key = inlined_key(&over.by, &[])?;
                for condition in &over.conditions {
                    key.push('|');
                    key.push_str(&inlined_key(condition, &[])?);
                }
                Some(key)
            }
            None => None,
        },
    };
    for demand in &rule.demands {
        match demand {
            ir::Demand::Deny { unless: None, .. } => keys.deny = true,
            ir::Demand::Deny {
                unless: Some(req), ..
            } => keys
                .approvals
                .push((true, approval_key(req, lets)?, fixed_count(req)?)),
            ir::Demand::Approval(req) => {
                keys.approvals
                    .push((false, approval_key(req, lets)?, fixed_count(req)?))
            }
            ir::Demand::Condition {
                condition, deny, ..
            } => keys.conditions.push((*deny, inlined_key(condition, lets)?)),
        }
    }
    // A rule has a demand or two; a first push reserves four.
    keys.approvals.shrink_to_fit();
    keys.conditions.shrink_to_fit();
    Some(keys)
}

/// Whether `strong`, applying whenever `weak` does, leaves `weak` nothing to add to
/// the verdict: it denies outright, or each of `weak`'s demands is one of its own (an
/// approval asked as often or more, a `deny unless` for a plain approval).
fn dominates(strong: &RuleKeys, weak: &RuleKeys) -> bool {
    if strong.deny {
        return true;
    }
    if weak.deny {
        return false;
    }
    let approvals = weak.approvals.iter().all(|(weak_denies, who, count)| {
        strong
            .approvals
            .iter()
            .any(|(denies, strong_who, strong_count)| {
                strong_who == who && strong_count >= count && (*denies || !weak_denies)
            })
    });
    approvals
        && weak.conditions.iter().all(|(weak_denies, condition)| {
            strong.conditions.iter().any(|(denies, strong_condition)| {
                strong_condition == condition && (*denies || !weak_denies)
            })
        })
}

/// The count of an approval demand when it is a literal; a computed count cannot be
/// compared, so its rule is left out of the shadowing check.
fn fixed_count(req: &ir::ApprovalReq) -> Option<u32> {
    match req.count {
        ir::ApprovalCount::Fixed(count) => Some(count),
        ir::ApprovalCount::Computed(_) => None,
    }
}

fn shadowed_rules(checker: &mut Checker<'_>, rules: &[RuleFacts], exemptions: &[ir::Exemption]) {
    // Only rules of one condition can shadow each other: compare within those groups.
    let mut by_condition: BTreeMap<&Option<String>, Vec<usize>> = BTreeMap::new();
    for (index, rule) in rules.iter().enumerate() {
        if let Some(key) = &rule.keys {
            by_condition.entry(&key.when).or_default().push(index);
        }
    }
    for (weak_index, weak) in rules.iter().enumerate() {
        let Some(weak_keys) = &weak.keys else {
            continue;
        };
        let same_condition = by_condition
            .get(&weak_keys.when)
            .map_or(&[][..], Vec::as_slice);
        let shadow = same_condition.iter().find_map(|&strong_index| {
            let strong = rules.get(strong_index)?;
            let strong_keys = strong.keys.as_ref()?;
            let shadows = strong_index != weak_index
                && (weak.advisory || !strong.advisory)
                // An override of the strong rule must lift the weak one too.
                && (strong_keys.overridable.is_none()
                    || strong_keys.overridable == weak_keys.overridable)
                // So must an exemption.
                && exemptions.iter().all(|e| {
                    !e.rules.contains(&strong_index) || e.rules.contains(&weak_index)
                })
                && dominates(strong_keys, weak_keys)
                // Two rules that demand the same: the later one is reported.
                && (strong_index < weak_index || !dominates(weak_keys, strong_keys));
            shadows.then_some(strong)
        });
        let Some(strong) = shadow else {
            continue;
        };
        checker.diags.push(
            Diagnostic::new(
                Code::ShadowedRule,
                format!(
                    "rule `{}` never changes the verdict: rule `{}` applies under the same condition and demands at least as much",
                    weak.name, strong.name
                ),
            )
            .with_label(weak.file, weak.span, "shadowed")
            .with_label(strong.file, strong.span, "by this rule")
            .with_help(format!(
                "remove `{}`, or change its condition or its demands",
                weak.name
            )),
        );
    }
}

/// Calls `f` on every expression a rule holds.
fn rule_exprs<'a>(rule: &'a ir::Rule, f: &mut dyn FnMut(&'a ir::Expr)) {
    if let Some(over) = &rule.overridable {
        f(&over.by);
        over.conditions.iter().for_each(&mut *f);
    }
    rule.lets.iter().for_each(|(_, e)| f(e));
    rule.when.iter().for_each(&mut *f);
    for demand in &rule.demands {
        match demand {
            ir::Demand::Deny {
                message, unless, ..
            } => {
                template_exprs(message, f);
                if let Some(req) = unless {
                    approval_exprs(req, f);
                }
            }
            ir::Demand::Approval(req) => approval_exprs(req, f),
            ir::Demand::Condition {
                condition, message, ..
            } => {
                f(condition);
                template_exprs(message, f);
            }
        }
    }
    if let Some(message) = &rule.message {
        template_exprs(message, f);
    }
}

fn template_exprs<'a>(template: &'a ir::Template, f: &mut dyn FnMut(&'a ir::Expr)) {
    for part in &template.parts {
        if let ir::TemplatePart::Hole(expr) = part {
            f(expr);
        }
    }
}

fn approval_exprs<'a>(req: &'a ir::ApprovalReq, f: &mut dyn FnMut(&'a ir::Expr)) {
    match &req.source {
        ir::ApproverSource::Set(e)
        | ir::ApproverSource::EachTeam(e)
        | ir::ApproverSource::EachUser(e) => f(e),
    }
    req.condition.iter().for_each(&mut *f);
}

/// Globs in the policy's own code: each glob's patterns, and `or`ed glob tests of one
/// value, checked for a pattern another one there already covers.
fn covered_globs(
    checker: &mut Checker<'_>,
    rules: &mut [RuleFacts],
    exemptions: &[ir::Exemption],
    cover: &mut Cover,
) {
    let mut found = Vec::new();
    for rule in rules {
        found.append(&mut rule.covered);
    }
    let mut roots: Vec<&ir::Expr> = Vec::new();
    for exemption in exemptions {
        roots.extend(exemption.lets.iter().map(|(_, e)| e));
        roots.push(&exemption.when);
    }
    let is_policy = |file: usize| checker.files.get(file).is_some_and(|f| !f.std);
    for global in &checker.globals {
        if is_policy(global.file)
            && let Some(ir) = &global.ir
        {
            roots.push(&ir.value);
        }
    }
    for function in &checker.functions {
        if is_policy(function.file)
            && let Some(ir) = &function.ir
        {
            function_exprs(ir, &mut |e| roots.push(e));
        }
    }
    for root in roots {
        visit_globs(checker, root, cover, &mut found);
    }
    for (file, span, narrow, wide) in found {
        let (message, help) = if narrow == wide {
            (
                format!("`{narrow}` is given twice"),
                "remove one of them".to_string(),
            )
        } else {
            (
                format!("`{narrow}` matches no path that `{wide}` does not already match"),
                format!("remove `{narrow}`, or make it say what `{wide}` does not"),
            )
        };
        checker.diags.push(
            Diagnostic::new(Code::CoveredGlob, message)
                .with_label(file, span, format!("`{narrow}` is covered by `{wide}`"))
                .with_help(help),
        );
    }
}

fn function_exprs<'a>(function: &'a ir::Function, f: &mut dyn FnMut(&'a ir::Expr)) {
    function.lets.iter().for_each(|(_, e)| f(e));
    f(&function.body);
}

pub(crate) type Covered = (warden_syntax::FileId, Span, String, String);

fn visit_globs(
    checker: &Checker<'_>,
    expr: &ir::Expr,
    cover: &mut Cover,
    found: &mut Vec<Covered>,
) {
    match &expr.kind {
        ExprKind::Glob(id) => {
            let patterns = glob_patterns(checker, *id);
            for (index, narrow) in patterns.iter().enumerate() {
                let wide = patterns.iter().enumerate().find(|(other, wide)| {
                    *other != index
                        && cover.covers(wide, narrow)
                        // Two patterns that match the same: the later one is reported.
                        && (*other < index || !cover.covers(narrow, wide))
                });
                if let Some((_, wide)) = wide {
                    found.push((
                        expr.file,
                        expr.span,
                        narrow.source.clone(),
                        wide.source.clone(),
                    ));
                }
            }
        }
        ExprKind::Binary { op: BinOp::Or, .. } => {
            let mut operands = Vec::new();
            disjuncts(expr, &mut operands);
            let tests: Vec<(String, &ir::Expr)> = operands
                .iter()
                .filter_map(|operand| glob_test(checker, operand))
                .collect();
            for (index, (subject, glob)) in tests.iter().enumerate() {
                let Some(narrow_id) = checker.static_glob(glob) else {
                    continue;
                };
                for narrow in glob_patterns(checker, narrow_id) {
                    let wide = tests.iter().enumerate().find_map(
                        |(other, (other_subject, other_glob))| {
                            if other == index || other_subject != subject {
                                return None;
                            }
                            let other_id = checker.static_glob(other_glob)?;
                            glob_patterns(checker, other_id).into_iter().find(|wide| {
                                cover.covers(wide, &narrow)
                                    && (other < index || !cover.covers(&narrow, wide))
                            })
                        },
                    );
                    if let Some(wide) = wide {
                        found.push((glob.file, glob.span, narrow.source.clone(), wide.source));
                    }
                }
            }
            for operand in operands {
                visit_globs(checker, operand, cover, found);
            }
            return;
        }
        _ => {}
    }
    children_ref(expr, &mut |child| visit_globs(checker, child, cover, found));
}

/// The operands of a chain of `or`s.
fn disjuncts<'e>(expr: &'e ir::Expr, out: &mut Vec<&'e ir::Expr>) {
    match &expr.kind {
        ExprKind::Binary {
            op: BinOp::Or,
            lhs,
            rhs,
        } => {
            disjuncts(lhs, out);
            disjuncts(rhs, out);
        }
        _ => out.push(expr),
    }
}

/// `S matches G` or `S.touches(G)`: what is tested (as a key) and the glob.
fn glob_test<'e>(checker: &Checker<'_>, expr: &'e ir::Expr) -> Option<(String, &'e ir::Expr)> {
    let (test, subject, glob) = match &expr.kind {
        ExprKind::Binary {
            op: BinOp::Matches,
            lhs,
            rhs,
        } => ("matches", &**lhs, &**rhs),
        ExprKind::Builtin {
            op: Builtin::Touches,
            args,
            optional: false,
        } => match args.as_slice() {
            [subject, glob] => ("touches", subject, glob),
            _ => return None,
        },
        _ => return None,
    };
    checker.static_glob(glob)?;
    Some((format!("{test}{}", body_key(subject)), glob))
}

fn glob_patterns(checker: &Checker<'_>, id: GlobId) -> Vec<ir::GlobPattern> {
    checker
        .globs
        .get_index(id.0 as usize)
        .map(|(sources, _)| {
            sources
                .iter()
                .filter_map(|source| checker.glob_patterns.get(source).cloned())
                .collect()
        })
        .unwrap_or_default()
}
