//! Break-glass overrides: an entry of `change.overrides` turns a pending or violated
//! rule into `overridden` when the rule is overridable, the person is in the rule's
//! `by` set and every condition of the rule's `overridable` clause holds. Each entry
//! that does not count for a rule says why.

use std::rc::Rc;

use warden_change::view::{Datum, Node, field_index, record_index};
use warden_check::ir;

use crate::evaluate::LAST_PUSH_RULE;
use crate::interp::{Ctx, Frame};
use crate::report::{Outcome, OverrideReport, OverrideUse, Rejection, RuleReport};
use crate::value::{ApproverSet, Value};

/// Applies break-glass overrides to pending and violated rules.
pub fn apply_overrides(ctx: &mut Ctx<'_, '_>, rules: &mut [RuleReport]) -> Vec<OverrideReport> {
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
