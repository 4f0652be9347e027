//! Break-glass overrides: an entry of `change.overrides` turns a pending or violated
//! rule into `overridden` when the rule is overridable, the person is in the rule's
//! `by` set and every condition of the rule's `overridable` clause holds. Each entry
//! that does not count for a rule says why. Overrides of advisory rules are decided
//! after every other rule has run (see `evaluate`).

use std::rc::Rc;

use warden_change::view::{Datum, Node, field_index, record_index};
use warden_check::ir;

use crate::evaluate::LAST_PUSH_RULE;
use crate::interp::{Ctx, Frame};
use crate::report::{Outcome, OverrideReport, OverrideUse, Rejection, RuleReport};
use crate::value::{ApproverSet, Value};

/// For each override entry that applies to a rule, whether it counts for the rule,
/// and if not why.
type Decision = (usize, Result<(), String>);

/// The overrides of one evaluation: decided rule by rule, in the order the budget
/// should be spent (the rules that decide the verdict first), then applied in policy
/// order.
pub struct Overrides<'a> {
    /// The `change.overrides` entries as records, for the rules' conditions.
    nodes: Vec<Node<'a>>,
    /// By rule: the entries tried, up to the first that counts (empty when the
    /// change has no overrides).
    decisions: Vec<Vec<Decision>>,
}

impl<'a> Overrides<'a> {
    pub fn new(ctx: &Ctx<'a, '_>) -> Overrides<'a> {
        let overrides_field = record_index("Change").and_then(|r| field_index(r, "overrides"));
        let nodes = match overrides_field.map(|f| ctx.view.field(ctx.view.root(), f)) {
            Some(Datum::List(items)) => items
                .into_iter()
                .filter_map(|d| match d {
                    Datum::Node(n) => Some(n),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        Overrides {
            nodes,
            decisions: Vec::new(),
        }
    }

    /// Decides the overrides of the pending and violated rules that `pick` selects.
    pub fn decide(
        &mut self,
        ctx: &mut Ctx<'a, '_>,
        rules: &[RuleReport],
        pick: impl Fn(&RuleReport) -> bool,
    ) {
        let program = ctx.program();
        let change = ctx.change;
        if change.overrides.is_empty() {
            return;
        }
        self.decisions.resize_with(rules.len(), Vec::new);
        for (report, decisions) in rules.iter().zip(&mut self.decisions) {
            if !pick(report) || !matches!(report.outcome, Outcome::Pending | Outcome::Violated) {
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
                let verdict = match (rule_override, self.nodes.get(index)) {
                    (None, _) => Err(format!("rule `{}` cannot be overridden", report.name)),
                    (Some(rule), Some(node)) => override_counts(ctx, rule, entry, *node),
                    (Some(_), None) => Err("the override could not be read".to_string()),
                };
                let counts = verdict.is_ok();
                decisions.push((index, verdict));
                if counts {
                    break;
                }
            }
        }
    }

    /// Applies the decisions to the rules, in policy order; the report of each entry.
    pub fn apply(self, ctx: &Ctx<'_, '_>, rules: &mut [RuleReport]) -> Vec<OverrideReport> {
        let program = ctx.program();
        let change = ctx.change;
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
        for (report, decisions) in rules.iter_mut().zip(self.decisions) {
            for (index, verdict) in decisions {
                let (Some(entry), Some(entry_report)) =
                    (change.overrides.get(index), reports.get_mut(index))
                else {
                    continue;
                };
                match verdict {
                    Ok(()) => {
                        report.outcome = Outcome::Overridden;
                        report.overridden_by = Some(Box::new(OverrideUse {
                            by: entry.by.clone(),
                            reason: entry.reason.clone(),
                            incident: entry.incident.clone(),
                        }));
                        entry_report.applied_to.push(report.name.to_string());
                    }
                    Err(reason) => entry_report.rejected.push(Rejection {
                        rule: report.name.to_string(),
                        reason,
                    }),
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
