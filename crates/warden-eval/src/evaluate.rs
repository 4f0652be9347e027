//! Runs every rule of a compiled policy on one change: exemptions first, then each
//! rule's applicability and demands, then overrides, then the verdict — the maximum
//! over all non-advisory rules, whatever their order.

use std::collections::BTreeMap;
use std::rc::Rc;

use warden_change::Change;
use warden_change::view::{Datum, Node, field_index, record_index};
use warden_check::ir::{self, Demand};

use crate::approvals::{self, Approvals};
use crate::interp::{Compiled, Ctx, EvalError, Frame, RuleLabel};
use crate::report::*;
use crate::value::{ApproverSet, Value, write_joined};

/// The name of the rule `require approval after last push` produces.
pub const LAST_PUSH_RULE: &str = "approval_after_last_push";

#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Also explain the rules that did not apply.
    pub explain: bool,
    /// Evaluation steps allowed before the remaining work fails with an error.
    pub budget: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            explain: false,
            budget: 10_000_000,
        }
    }
}

const MAX_LISTED_APPROVERS: usize = 10;

/// Evaluates a compiled policy on a change (with its facts merged in).
pub fn evaluate(compiled: &Compiled, change: &Change, options: Options) -> Report {
    let mut ctx = Ctx::new(compiled, change, options.budget);
    let approvals = Approvals::collect(&ctx.view);
    let program = ctx.program();

    let (exempted, exemptions) = run_exemptions(&mut ctx);
    // One more for the `approval after last push` rule.
    let mut rules = Vec::with_capacity(program.rules.len() + 1);
    let mut demanded_approvals = false;
    for (rule, label) in program.rules.iter().zip(compiled.labels()) {
        let mut report = match exempted.get(&label.index) {
            Some(exemption) => exempted_report(rule, label, exemption),
            None => {
                let (report, demanded) = run_rule(&mut ctx, rule, label, &approvals, options);
                demanded_approvals |= demanded && !rule.advisory;
                report
            }
        };
        report.doc = label.doc.clone();
        rules.push(report);
    }
    if program.settings.approval_after_last_push {
        rules.push(last_push_rule(&ctx, &approvals, demanded_approvals));
    }
    let overrides = apply_overrides(&mut ctx, &mut rules);

    let verdict = rules
        .iter()
        .filter(|r| !r.advisory)
        .map(|r| r.outcome.verdict())
        .chain(
            exemptions
                .iter()
                .filter(|e| e.error.is_some())
                .map(|_| Verdict::Deny),
        )
        .max()
        .unwrap_or(Verdict::Allow);
    if !options.explain {
        for rule in &mut rules {
            rule.failed_condition = None;
        }
    }
    Report {
        schema: REPORT_SCHEMA,
        verdict,
        change: ChangeSummary {
            id: change.id.clone(),
            kind: change.kind.as_str().to_string(),
            title: change.title.clone(),
        },
        digest: None,
        rules,
        approvals: ApprovalsReport {
            counted: approvals
                .fresh
                .iter()
                .map(|a| CountedApproval {
                    approver: a.approver.to_string(),
                    at: a.at.to_string(),
                })
                .collect(),
            dismissed: approvals.dismissed.clone(),
        },
        overrides,
        exemptions,
    }
}

fn error_report(ctx: &Ctx<'_, '_>, error: &EvalError) -> ErrorReport {
    let program = ctx.program();
    let location = program.location(error.file, error.span);
    ErrorReport {
        message: error.message.clone(),
        location: location.to_string(),
        expression: program
            .snippet(error.file, error.span)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// Evaluates every exemption; returns which rule each one exempts (the first exemption,
/// in policy order, names the rule in the report).
fn run_exemptions(ctx: &mut Ctx<'_, '_>) -> (BTreeMap<usize, String>, Vec<ExemptionReport>) {
    let program = ctx.program();
    let mut exempted = BTreeMap::new();
    let mut reports = Vec::new();
    for exemption in &program.exemptions {
        let mut witnesses = Vec::new();
        let result = ctx.in_frame(
            exemption.frame.slots,
            &exemption.lets,
            |ctx, frame| match ctx.bool(&exemption.when, frame) {
                Ok(true) => ctx.witnesses(&exemption.when, frame, &mut witnesses),
                other => other,
            },
        );
        let (applied, error) = match result {
            Ok(applied) => (applied, None),
            Err(error) => (false, Some(error_report(ctx, &error))),
        };
        if applied {
            for rule in &exemption.rules {
                exempted
                    .entry(*rule)
                    .or_insert_with(|| exemption.name.clone());
            }
        }
        reports.push(ExemptionReport {
            name: exemption.name.clone(),
            location: exemption.location.to_string(),
            applied,
            rules: exemption
                .rules
                .iter()
                .filter_map(|r| program.rules.get(*r))
                .map(|r| r.name.clone())
                .collect(),
            witnesses,
            error,
        });
    }
    (exempted, reports)
}

fn blank_report(rule: &ir::Rule, label: &RuleLabel, outcome: Outcome) -> RuleReport {
    RuleReport {
        name: label.name.clone(),
        location: label.location.clone(),
        doc: None,
        outcome,
        advisory: rule.advisory,
        message: None,
        witnesses: Vec::new(),
        requirements: Vec::new(),
        exempted_by: None,
        overridden_by: None,
        error: None,
        failed_condition: None,
    }
}

fn exempted_report(rule: &ir::Rule, label: &RuleLabel, exemption: &str) -> RuleReport {
    RuleReport {
        exempted_by: Some(exemption.to_string()),
        message: Some(format!("exempted by `{exemption}`")),
        ..blank_report(rule, label, Outcome::Exempted)
    }
}

/// Evaluates one rule; also says whether it demanded approvals (for R03).
fn run_rule<'a, 'p>(
    ctx: &mut Ctx<'a, 'p>,
    rule: &'p ir::Rule,
    label: &RuleLabel,
    approvals: &Approvals<'a>,
    options: Options,
) -> (RuleReport, bool) {
    let result = ctx.in_frame(rule.frame.slots, &rule.lets, |ctx, frame| {
        rule_body(ctx, rule, label, approvals, frame, options)
    });
    match result {
        Ok(result) => result,
        Err(error) => {
            let report = RuleReport {
                message: Some(format!(
                    "the rule could not be evaluated: {}",
                    error.message
                )),
                error: Some(Box::new(error_report(ctx, &error))),
                ..blank_report(rule, label, Outcome::Error)
            };
            (report, false)
        }
    }
}

fn rule_body<'a>(
    ctx: &mut Ctx<'a, '_>,
    rule: &ir::Rule,
    label: &RuleLabel,
    approvals: &Approvals<'a>,
    frame: &mut Frame<'a>,
    options: Options,
) -> Result<(RuleReport, bool), Box<EvalError>> {
    let mut report = blank_report(rule, label, Outcome::NotApplicable);
    if let Some(when) = &rule.when {
        if !ctx.bool(when, frame)? {
            if options.explain {
                report.failed_condition = ctx.first_failure(when, frame)?.map(Box::new);
            }
            return Ok((report, false));
        }
        ctx.witnesses(when, frame, &mut report.witnesses)?;
    }
    let mut outcome = Outcome::Satisfied;
    let mut demanded = false;
    let mut first_unmet = None;
    for demand in &rule.demands {
        let (requirement, demand_outcome) = run_demand(ctx, demand, approvals, frame)?;
        demanded |= matches!(
            demand,
            Demand::Approval(_)
                | Demand::Deny {
                    unless: Some(_),
                    ..
                }
        );
        if !requirement.met && first_unmet.is_none() {
            first_unmet = requirement.message.clone();
        }
        outcome = outcome.max(demand_outcome);
        report.requirements.push(requirement);
    }
    report.outcome = outcome;
    report.message = match &rule.message {
        Some(template) => Some(render(ctx, template, frame)?),
        None => first_unmet,
    };
    Ok((report, demanded))
}

fn render<'a>(
    ctx: &mut Ctx<'a, '_>,
    template: &ir::Template,
    frame: &mut Frame<'a>,
) -> Result<String, Box<EvalError>> {
    let mut out = String::new();
    for part in &template.parts {
        match part {
            ir::TemplatePart::Text(text) => out.push_str(text),
            ir::TemplatePart::Hole(expr) => {
                // Lists read as prose in messages: `a, b, c`, not `[a, b, c]`.
                match ctx.eval(expr, frame)? {
                    Value::List(items) if items.is_empty() => out.push_str("none"),
                    Value::List(items) => write_joined(&items, &ctx.view, &mut out),
                    value => value.write_display(&ctx.view, &mut out),
                }
            }
        }
    }
    Ok(out)
}

fn run_demand<'a>(
    ctx: &mut Ctx<'a, '_>,
    demand: &Demand,
    approvals: &Approvals<'a>,
    frame: &mut Frame<'a>,
) -> Result<(Requirement, Outcome), Box<EvalError>> {
    // Each demand gives: what it is, whether it is met, what it says, its approval
    // groups, and the outcome when it is not met.
    let (kind, met, text, message, groups, unmet) = match demand {
        Demand::Deny {
            message, unless, ..
        } => {
            let message = Some(render(ctx, message, frame)?);
            match unless {
                None => (
                    RequirementKind::Deny,
                    false,
                    "deny".to_string(),
                    message,
                    Vec::new(),
                    Outcome::Violated,
                ),
                Some(req) => {
                    let groups = approval_groups(ctx, req, approvals, frame)?;
                    let met = groups.iter().all(|g| g.missing == 0);
                    (
                        RequirementKind::Deny,
                        met,
                        format!("deny unless {}", req.text),
                        message,
                        groups,
                        Outcome::Violated,
                    )
                }
            }
        }
        Demand::Approval(req) => {
            let groups = approval_groups(ctx, req, approvals, frame)?;
            let met = groups.iter().all(|g| g.missing == 0);
            let message = if groups.is_empty() {
                Some("no approver group was named, so nothing is required".to_string())
            } else {
                (!met).then(|| approval_message(&groups))
            };
            (
                RequirementKind::Approval,
                met,
                req.text.clone(),
                message,
                groups,
                Outcome::Pending,
            )
        }
        Demand::Condition {
            condition, message, ..
        } => {
            let met = ctx.bool(condition, frame)?;
            let message = if met {
                None
            } else {
                Some(render(ctx, message, frame)?)
            };
            let text = format!("require {}", ctx.snippet(condition));
            (
                RequirementKind::Condition,
                met,
                text,
                message,
                Vec::new(),
                Outcome::Pending,
            )
        }
    };
    let outcome = if met { Outcome::Satisfied } else { unmet };
    Ok((
        Requirement {
            kind,
            met,
            text,
            message,
            groups,
        },
        outcome,
    ))
}

fn approval_message(groups: &[ApprovalGroup]) -> String {
    let parts: Vec<String> = groups
        .iter()
        .filter(|g| g.missing > 0)
        .map(|g| {
            let noun = if g.missing == 1 {
                "approval"
            } else {
                "approvals"
            };
            format!("{} more {noun} from {}", g.missing, g.from)
        })
        .collect();
    format!("needs {}", parts.join(", "))
}

/// Evaluates an approval requirement: one group, or one per team/user with `each`.
fn approval_groups<'a>(
    ctx: &mut Ctx<'a, '_>,
    req: &ir::ApprovalReq,
    approvals: &Approvals<'a>,
    frame: &mut Frame<'a>,
) -> Result<Vec<ApprovalGroup>, Box<EvalError>> {
    let sets: Vec<ApproverSet> = match &req.source {
        ir::ApproverSource::Set(expr) => match ctx.eval(expr, frame)? {
            Value::Approvers(set) => vec![(*set).clone()],
            _ => Vec::new(),
        },
        ir::ApproverSource::EachTeam(expr) | ir::ApproverSource::EachUser(expr) => {
            let team = matches!(req.source, ir::ApproverSource::EachTeam(_));
            let mut names: Vec<String> = match ctx.eval(expr, frame)? {
                Value::List(items) => items
                    .iter()
                    .filter_map(|v| match v {
                        Value::Str(s) => Some(s.as_str().to_string()),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            };
            names.sort();
            names.dedup();
            names
                .into_iter()
                .map(|n| {
                    if team {
                        ApproverSet::Team(n)
                    } else {
                        ApproverSet::User(n)
                    }
                })
                .collect()
        }
    };
    sets.iter()
        .map(|set| approval_group(ctx, req, set, approvals, frame))
        .collect()
}

fn approval_group<'a>(
    ctx: &mut Ctx<'a, '_>,
    req: &ir::ApprovalReq,
    set: &ApproverSet,
    approvals: &Approvals<'a>,
    frame: &mut Frame<'a>,
) -> Result<ApprovalGroup, Box<EvalError>> {
    let mut counted: Vec<String> = Vec::new();
    let mut not_counted = Vec::new();
    for approval in approvals.usable(req.allow_stale) {
        if !set.contains(&ctx.view, approval.approver)
            || counted.iter().any(|c| c == approval.approver)
        {
            continue;
        }
        if approver_qualifies(ctx, req, approval.approver, frame)? {
            counted.push(approval.approver.to_string());
        } else if let Some(condition) = &req.condition {
            not_counted.push(NotCounted {
                approver: approval.approver.to_string(),
                reason: format!("does not satisfy `{}`", ctx.snippet(condition)),
            });
        }
    }
    for dismissal in &approvals.dismissed {
        let stale_allowed = req.allow_stale && dismissal.reason.starts_with("stale");
        if set.contains(&ctx.view, &dismissal.approver)
            && !stale_allowed
            && !counted.contains(&dismissal.approver)
        {
            not_counted.push(NotCounted {
                approver: dismissal.approver.clone(),
                reason: dismissal.reason.clone(),
            });
        }
    }
    let required = req.count;
    let missing = required.saturating_sub(counted.len() as u32);
    let mut could_approve = Vec::new();
    if missing > 0 {
        let view = &ctx.view;
        let candidates: Vec<&'a str> = set
            .members(view)
            .into_iter()
            .filter(|id| !counted.iter().any(|c| c == id) && approvals.may_approve(view, id))
            .collect();
        for id in candidates {
            if approver_qualifies(ctx, req, id, frame)? {
                could_approve.push(id.to_string());
            }
        }
    }
    let more_could_approve = could_approve.len().saturating_sub(MAX_LISTED_APPROVERS);
    could_approve.truncate(MAX_LISTED_APPROVERS);
    Ok(ApprovalGroup {
        from: set.to_string(),
        required,
        counted,
        missing,
        not_counted,
        could_approve,
        more_could_approve,
    })
}

/// Whether a principal satisfies the requirement's `where` condition.
fn approver_qualifies<'a>(
    ctx: &mut Ctx<'a, '_>,
    req: &ir::ApprovalReq,
    id: &'a str,
    frame: &mut Frame<'a>,
) -> Result<bool, Box<EvalError>> {
    let Some(condition) = &req.condition else {
        return Ok(true);
    };
    let principal = ctx.view.principal(id);
    if let Some(place) = frame.get_mut(req.approver_slot.0 as usize) {
        *place = Value::Node(principal);
    }
    ctx.bool(condition, frame)
}

/// `require approval after last push` (R03): when some rule demands approvals, one
/// counted approval must come after the latest push, from someone other than the pusher.
fn last_push_rule(ctx: &Ctx<'_, '_>, approvals: &Approvals<'_>, demanded: bool) -> RuleReport {
    let mut report = RuleReport {
        name: LAST_PUSH_RULE.into(),
        location: "policy".into(),
        doc: Some("At least one counted approval must be newer than the last push and come from someone other than the last pusher.".into()),
        outcome: Outcome::NotApplicable,
        advisory: false,
        message: None,
        witnesses: Vec::new(),
        requirements: Vec::new(),
        exempted_by: None,
        overridden_by: None,
        error: None,
        failed_condition: None,
    };
    let change = ctx.change;
    if !demanded || change.commits.is_empty() {
        return report;
    }
    let Some((pushed_at, pusher)) = approvals::last_push(change) else {
        report.outcome = Outcome::Pending;
        report.message = Some("no commit records when it was pushed, so no approval can be shown to follow the last push".to_string());
        return report;
    };
    let fresh = approvals
        .fresh
        .iter()
        .find(|a| a.at > pushed_at && Some(a.approver) != pusher);
    let pusher_text = pusher.unwrap_or("an unknown pusher");
    report.witnesses.push(Witness {
        condition: "the last push".to_string(),
        detail: format!("at {pushed_at} by {pusher_text}"),
    });
    match fresh {
        Some(approval) => {
            report.outcome = Outcome::Satisfied;
            report.witnesses.push(Witness {
                condition: "an approval after it".to_string(),
                detail: format!("{} at {}", approval.approver, approval.at),
            });
        }
        None => {
            report.outcome = Outcome::Pending;
            report.message = Some(format!(
                "needs an approval given after the last push ({pushed_at} by {pusher_text}) by someone other than {pusher_text}"
            ));
        }
    }
    report
}

/// Applies break-glass overrides to pending and violated rules.
fn apply_overrides(ctx: &mut Ctx<'_, '_>, rules: &mut [RuleReport]) -> Vec<OverrideReport> {
    let program = ctx.program();
    let change = ctx.change;
    let overrides_field = record_index("Change").and_then(|r| field_index(r, "overrides"));
    let nodes: Vec<Node<'_>> = match overrides_field.map(|f| ctx.view.field(ctx.view.root(), f)) {
        Some(Datum::List(items)) => items
            .into_iter()
            .filter_map(|d| match d {
                Datum::Node(n) => Some(n),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let mut reports: Vec<OverrideReport> = change
        .overrides
        .iter()
        .map(|o| OverrideReport {
            by: o.by.clone(),
            reason: o.reason.clone(),
            incident: o.incident.clone(),
            rules: o.rules.clone(),
            applied_to: Vec::new(),
            rejected: Vec::new(),
        })
        .collect();
    for report in rules.iter_mut() {
        if !matches!(report.outcome, Outcome::Pending | Outcome::Violated) {
            continue;
        }
        let rule_override = if &*report.name == LAST_PUSH_RULE {
            program.settings.default_override.as_ref()
        } else {
            program
                .rules
                .iter()
                .find(|r| *r.name == *report.name)
                .and_then(|r| r.overridable.as_ref())
        };
        for (index, entry) in change.overrides.iter().enumerate() {
            if !entry.rules.is_empty() && !entry.rules.iter().any(|r| **r == *report.name) {
                continue;
            }
            let verdict = match (rule_override, nodes.get(index)) {
                (None, _) => Err(format!("rule `{}` cannot be overridden", report.name)),
                (Some(rule), Some(node)) => override_counts(ctx, rule, entry, *node),
                (Some(_), None) => Err("the override could not be read".to_string()),
            };
            match verdict {
                Ok(()) => {
                    report.outcome = Outcome::Overridden;
                    report.overridden_by = Some(Box::new(OverrideUse {
                        by: entry.by.clone(),
                        reason: entry.reason.clone(),
                        incident: entry.incident.clone(),
                    }));
                    if let Some(r) = reports.get_mut(index) {
                        r.applied_to.push(report.name.to_string());
                    }
                    break;
                }
                Err(reason) => {
                    if let Some(r) = reports.get_mut(index) {
                        r.rejected.push(Rejection {
                            rule: report.name.to_string(),
                            reason,
                        });
                    }
                }
            }
        }
    }
    for (report, entry) in reports.iter_mut().zip(&change.overrides) {
        for name in &entry.rules {
            let known = name == LAST_PUSH_RULE || program.rules.iter().any(|r| r.name == *name);
            if !known {
                report.rejected.push(Rejection {
                    rule: name.clone(),
                    reason: format!("there is no rule `{name}` in this policy"),
                });
            }
        }
    }
    reports
}

/// Whether an override entry counts for a rule; the reason when it does not.
fn override_counts<'a>(
    ctx: &mut Ctx<'a, '_>,
    rule: &ir::OverrideRule,
    entry: &warden_change::model::Override,
    node: Node<'a>,
) -> Result<(), String> {
    ctx.in_frame(rule.frame.slots, &[], |ctx, frame| {
        if let Some(place) = frame.get_mut(rule.slot.0 as usize) {
            *place = Value::Node(node);
        }
        override_holds(ctx, rule, entry, frame)
    })
}

/// [`override_counts`] with `override` bound in `frame`.
fn override_holds<'a>(
    ctx: &mut Ctx<'a, '_>,
    rule: &ir::OverrideRule,
    entry: &warden_change::model::Override,
    frame: &mut Frame<'a>,
) -> Result<(), String> {
    let set = match ctx.eval(&rule.by, frame) {
        Ok(Value::Approvers(set)) => set,
        Ok(_) => Rc::new(ApproverSet::Union(Vec::new())),
        Err(error) => {
            return Err(format!(
                "could not evaluate who may override: {}",
                error.message
            ));
        }
    };
    match ctx.view.principal_facts(&entry.by) {
        None => return Err(format!("`{}` is not in the org directory", entry.by)),
        Some(facts) if facts.kind != warden_change::model::PrincipalKind::Human => {
            return Err(format!(
                "`{}` is a {}, not a person",
                entry.by,
                facts.kind.as_str()
            ));
        }
        Some(_) => {}
    }
    if !set.contains(&ctx.view, &entry.by) {
        return Err(format!("`{}` is not in {set}", entry.by));
    }
    if entry.reason.trim().is_empty() {
        return Err("the override gives no reason".to_string());
    }
    for condition in &rule.conditions {
        match ctx.bool(condition, frame) {
            Ok(true) => {}
            Ok(false) => {
                let detail = match ctx.first_failure(condition, frame) {
                    Ok(Some(w)) => format!("`{}` ({})", w.condition, w.detail),
                    _ => format!("`{}`", ctx.snippet(condition)),
                };
                return Err(format!("the override condition {detail} does not hold"));
            }
            Err(error) => return Err(format!("the override condition failed: {}", error.message)),
        }
    }
    Ok(())
}
