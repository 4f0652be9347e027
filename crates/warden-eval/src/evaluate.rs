//! Runs every rule of a compiled policy on one change: exemptions first, then each
//! rule's applicability and demands, then overrides, then the verdict — the maximum
//! over all non-advisory rules, whatever their order. Advisory rules (and their
//! overrides) run last, on what the budget has left, so that they cannot change the
//! verdict even by spending the budget; the report keeps the policy's order.

use std::collections::BTreeMap;

use warden_change::Change;
use warden_check::ir::{self, Demand};

use crate::approvals::{self, Approvals, approval_groups, approval_message};
use crate::budget::{Budget, ByteSize};
use crate::compiled::{Compiled, RuleLabel};
use crate::coverage::Coverage;
use crate::globs::PathIndex;
use crate::interp::{Ctx, EvalError, Frame};
use crate::overrides::Overrides;
use crate::report::*;
use crate::value::{Value, write_joined};

/// The name of the rule `require approval after last push` produces.
pub const LAST_PUSH_RULE: &str = "approval_after_last_push";

#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Also explain the rules that did not apply.
    pub explain: bool,
    /// Evaluation steps allowed before the remaining work fails with an error: one
    /// per expression evaluated, and one per 32 bytes an operation scans or builds.
    pub budget: u64,
    /// Bytes of strings and lists the evaluation may build (counted as they are
    /// built, never given back) before the remaining work fails with an error.
    pub max_memory: ByteSize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            explain: false,
            budget: 10_000_000,
            max_memory: ByteSize(256 << 20),
        }
    }
}

/// Evaluates a compiled policy on a change (with its facts merged in).
pub fn evaluate(compiled: &Compiled, change: &Change, options: Options) -> Report {
    evaluate_covered(compiled, change, options, None)
}

/// [`evaluate`] with the index of the change's paths made when the change was read
/// ([`PathIndex::new`] of its files); without it, an evaluation that matches the files
/// against globs indexes them itself. An index of other files is not used.
pub fn evaluate_indexed(
    compiled: &Compiled,
    change: &Change,
    paths: &PathIndex,
    options: Options,
) -> Report {
    run(compiled, change, Some(paths), options, None)
}

/// [`evaluate`], also adding to `coverage` which way each branch point went.
pub fn evaluate_covered(
    compiled: &Compiled,
    change: &Change,
    options: Options,
    coverage: Option<&mut Coverage>,
) -> Report {
    run(compiled, change, None, options, coverage)
}

fn run(
    compiled: &Compiled,
    change: &Change,
    paths: Option<&PathIndex>,
    options: Options,
    mut coverage: Option<&mut Coverage>,
) -> Report {
    let budget = Budget::new(options.budget, options.max_memory);
    let mut ctx = Ctx::new(compiled, change, budget);
    ctx.paths = paths;
    ctx.coverage = coverage
        .as_deref_mut()
        .map(|recorded| Box::new(std::mem::take(recorded)));
    let approvals = Approvals::collect(&ctx.view);
    let program = ctx.program();

    let (exempted, exemptions) = run_exemptions(&mut ctx);
    // One more for the `approval after last push` rule.
    let mut rules = Vec::with_capacity(program.rules.len() + 1);
    let mut demanded_approvals = false;
    let mut advisory = Vec::new();
    for (rule, label) in program.rules.iter().zip(compiled.labels()) {
        let mut report = match exempted.get(&label.index) {
            Some(exemption) => exempted_report(rule, label, exemption),
            None if rule.advisory => {
                // Its place is kept; it runs once every other rule has.
                advisory.push((rule, label));
                blank_report(rule, label, Outcome::NotApplicable)
            }
            None => {
                let (report, demanded) = run_rule(&mut ctx, rule, label, &approvals, options);
                demanded_approvals |= demanded;
                report
            }
        };
        report.doc = label.doc.clone();
        rules.push(report);
    }
    if let Some(location) = &program.settings.approval_after_last_push {
        rules.push(last_push_rule(
            &ctx,
            &approvals,
            demanded_approvals,
            location,
        ));
    }
    let mut overrides = Overrides::new(&ctx);
    overrides.decide(&mut ctx, &rules, |rule| !rule.advisory);
    for (rule, label) in advisory {
        let (mut report, _) = run_rule(&mut ctx, rule, label, &approvals, options);
        report.doc = label.doc.clone();
        if let Some(place) = rules.get_mut(label.index) {
            *place = report;
        }
    }
    overrides.decide(&mut ctx, &rules, |rule| rule.advisory);
    let overrides = overrides.apply(&ctx, &mut rules);

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
    if let (Some(out), Some(recorded)) = (coverage, ctx.coverage.take()) {
        *out = *recorded;
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
        // Exemptions are few: why one did not apply is always worth its evaluation.
        let mut failed_condition = None;
        let result = ctx.in_frame(
            exemption.frame.slots,
            &exemption.lets,
            |ctx, frame| match ctx.bool(&exemption.when, frame) {
                Ok(true) => ctx.witnesses(&exemption.when, frame, &mut witnesses),
                Ok(false) => {
                    failed_condition = ctx.first_failure(&exemption.when, frame)?;
                    Ok(false)
                }
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
            failed_condition,
            error,
        });
    }
    (exempted, reports)
}

fn blank_report(rule: &ir::Rule, label: &RuleLabel, outcome: Outcome) -> RuleReport {
    RuleReport::new(
        label.name.clone(),
        label.location.clone(),
        outcome,
        rule.advisory,
    )
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
                let value = ctx.eval(expr, frame)?;
                ctx.charge_copied(&value, expr)?;
                // Lists read as prose in messages: `a, b, c`, not `[a, b, c]`.
                match value {
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
    let mut because = None;
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
            condition,
            message,
            deny,
            ..
        } => {
            let met = ctx.bool(condition, frame)?;
            let message = if met {
                None
            } else {
                // A bare "false" tells nothing the unmet mark does not.
                because = ctx
                    .first_failure(condition, frame)?
                    .filter(|w| w.detail != "false")
                    .map(Box::new);
                Some(render(ctx, message, frame)?)
            };
            let (text, unmet) = if *deny {
                (
                    format!("require {} else deny", ctx.snippet(condition)),
                    Outcome::Violated,
                )
            } else {
                (
                    format!("require {}", ctx.snippet(condition)),
                    Outcome::Pending,
                )
            };
            (
                RequirementKind::Condition,
                met,
                text,
                message,
                Vec::new(),
                unmet,
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
            because,
        },
        outcome,
    ))
}

/// `require approval after last push` (R03): when some rule demands approvals, one
/// counted approval must come after the latest push, from someone other than the pusher.
fn last_push_rule(
    ctx: &Ctx<'_, '_>,
    approvals: &Approvals<'_>,
    demanded: bool,
    location: &ir::Location,
) -> RuleReport {
    let mut report = RuleReport {
        doc: Some("At least one counted approval must be newer than the last push and come from someone other than the last pusher.".into()),
        ..RuleReport::new(
            LAST_PUSH_RULE.into(),
            location.to_string().into(),
            Outcome::NotApplicable,
            false,
        )
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
        file: None,
    });
    match fresh {
        Some(approval) => {
            report.outcome = Outcome::Satisfied;
            report.witnesses.push(Witness {
                condition: "an approval after it".to_string(),
                detail: format!("{} at {}", approval.approver, approval.at),
                file: None,
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
