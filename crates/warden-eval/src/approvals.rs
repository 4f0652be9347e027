//! Which approvals count. Approvals are filtered data, not a count: each one that does
//! not count is kept with the reason, so the report can say who was dismissed and why.
//!
//! Code changes take approvals from reviews (only each reviewer's latest review; not by
//! the author, a commit author, committer or co-author, a bot or an unknown principal;
//! not dismissed; on the head revision, else stale). Deployments take them from
//! `deployment.approvals`, bound to the deployed artifact and not by the author or the
//! initiator.
//!
//! A rule's approval demand is then grouped here: one group per approver set (or per
//! team or user with `each`), each saying who counted, who did not and why, how many
//! are missing and who could still approve.

use std::collections::BTreeMap;

use serde::Serialize;
use warden_change::model::{PrincipalKind, ReviewState};
use warden_change::view::{View, parse_person};
use warden_change::{Change, ChangeKind, Time};
use warden_check::ir;

use crate::budget::SLOT_BYTES;
use crate::interp::{Ctx, EvalError, Frame};
use crate::report::{ApprovalGroup, NotCounted};
use crate::value::{ApproverSet, Value};

/// An approval that counts (for stale ones: only where a requirement allows them).
#[derive(Debug, Clone)]
pub struct Approval<'a> {
    pub approver: &'a str,
    pub at: Time,
}

/// An approval that does not count, and why.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema, PartialEq, Eq)]
pub struct Dismissal {
    pub approver: String,
    pub at: String,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct Approvals<'a> {
    /// Counted approvals, one per approver, in the order given.
    pub fresh: Vec<Approval<'a>>,
    /// Approvals of an earlier revision, for requirements that `allow stale`.
    pub stale: Vec<Approval<'a>>,
    pub dismissed: Vec<Dismissal>,
    /// Principals who may never approve this change, with the reason.
    pub ineligible: BTreeMap<&'a str, String>,
}

impl<'a> Approvals<'a> {
    pub fn collect(view: &View<'a>) -> Approvals<'a> {
        let change = view.change();
        let mut approvals = Approvals::default();
        approvals
            .ineligible
            .insert(view.author_id(), "is the change's author".to_string());
        match (&change.kind, &change.deployment) {
            (ChangeKind::Deployment, Some(deployment)) => {
                approvals
                    .ineligible
                    .entry(deployment.initiator.as_str())
                    .or_insert_with(|| "initiated the deployment".to_string());
                approvals.collect_deployment(view, change);
            }
            _ => {
                approvals.contributors(view, change);
                approvals.collect_reviews(view, change);
            }
        }
        approvals
    }

    /// Commit authors, committers and human co-authors may not approve (R02).
    fn contributors(&mut self, view: &View<'a>, change: &'a Change) {
        for commit in &change.commits {
            let short: String = commit.sha.chars().take(8).collect();
            let people = [
                (&commit.author, "authored"),
                (&commit.committer, "committed"),
            ];
            for (person, role) in people {
                let id = person
                    .principal
                    .as_deref()
                    .or_else(|| principal_id(view, &person.email));
                if let Some(id) = id {
                    self.ineligible
                        .entry(id)
                        .or_insert_with(|| format!("{role} commit {short}"));
                }
            }
            for trailer in commit
                .trailers
                .iter()
                .filter(|t| t.key.eq_ignore_ascii_case("co-authored-by"))
            {
                let person = parse_person(&trailer.value);
                if let Some(id) = principal_id(view, person.email) {
                    self.ineligible
                        .entry(id)
                        .or_insert_with(|| format!("co-authored commit {short}"));
                }
            }
        }
    }

    fn collect_reviews(&mut self, view: &View<'a>, change: &'a Change) {
        let head = change.revisions.as_ref().map(|r| r.head.as_str());
        let mut latest: BTreeMap<&str, usize> = BTreeMap::new();
        for (index, review) in change.reviews.iter().enumerate() {
            let entry = latest.entry(review.reviewer.as_str()).or_insert(index);
            if change
                .reviews
                .get(*entry)
                .is_some_and(|current| review.submitted_at >= current.submitted_at)
            {
                *entry = index;
            }
        }
        for (index, review) in change.reviews.iter().enumerate() {
            if review.state != ReviewState::Approved {
                continue;
            }
            let dismiss = |reason: String| Dismissal {
                approver: review.reviewer.clone(),
                at: review.submitted_at.to_string(),
                reason,
            };
            if latest.get(review.reviewer.as_str()) != Some(&index) {
                self.dismissed.push(dismiss(
                    "superseded by the reviewer's later review".to_string(),
                ));
                continue;
            }
            if review.dismissed {
                self.dismissed
                    .push(dismiss("the review was dismissed".to_string()));
                continue;
            }
            if let Some(reason) = self.reject(view, &review.reviewer) {
                self.dismissed.push(dismiss(reason));
                continue;
            }
            let stale = head.is_some_and(|head| head != review.commit);
            let approval = Approval {
                approver: review.reviewer.as_str(),
                at: review.submitted_at,
            };
            if stale {
                let short: String = review.commit.chars().take(8).collect();
                let head_short: String = head.unwrap_or("").chars().take(8).collect();
                self.dismissed.push(dismiss(format!(
                    "stale: approved {short}, but the head is {head_short}"
                )));
                self.stale.push(approval);
            } else {
                self.fresh.push(approval);
            }
        }
    }

    fn collect_deployment(&mut self, view: &View<'a>, change: &'a Change) {
        let Some(deployment) = &change.deployment else {
            return;
        };
        let digest = deployment.artifact.digest.as_str();
        for approval in &deployment.approvals {
            let dismiss = |reason: String| Dismissal {
                approver: approval.approver.clone(),
                at: approval.at.to_string(),
                reason,
            };
            if approval.artifact != digest {
                self.dismissed.push(dismiss(format!(
                    "approved artifact {}, not the deployed {digest}",
                    approval.artifact
                )));
                continue;
            }
            if let Some(reason) = self.reject(view, &approval.approver) {
                self.dismissed.push(dismiss(reason));
                continue;
            }
            if self.fresh.iter().any(|a| a.approver == approval.approver) {
                continue;
            }
            self.fresh.push(Approval {
                approver: approval.approver.as_str(),
                at: approval.at,
            });
        }
    }

    /// Why a principal's approval cannot count, if it cannot.
    fn reject(&self, view: &View<'a>, id: &str) -> Option<String> {
        match view.principal_facts(id) {
            None => return Some("not in the org directory".to_string()),
            Some(facts) if facts.kind != PrincipalKind::Human => {
                return Some(format!("a {} cannot approve", facts.kind.as_str()));
            }
            Some(_) => {}
        }
        self.ineligible.get(id).cloned()
    }

    /// Whether `id` may approve at all (for "who could still approve").
    pub fn may_approve(&self, view: &View<'a>, id: &str) -> bool {
        // `reject` without building its reason.
        view.principal_facts(id)
            .is_some_and(|facts| facts.kind == PrincipalKind::Human)
            && !self.ineligible.contains_key(id)
    }

    /// The approvals a requirement may count.
    pub fn usable(&self, allow_stale: bool) -> impl Iterator<Item = &Approval<'a>> {
        let stale: &[Approval<'a>] = if allow_stale { &self.stale } else { &[] };
        self.fresh.iter().chain(
            stale
                .iter()
                .filter(|s| !self.fresh.iter().any(|f| f.approver == s.approver)),
        )
    }
}

fn principal_id<'a>(view: &View<'a>, email: &str) -> Option<&'a str> {
    match view.principal_by_email(email)? {
        warden_change::view::Node::Principal(p) => Some(p.id),
        _ => None,
    }
}

/// The latest push of a code change: when, and by whom (R03).
pub fn last_push(change: &Change) -> Option<(Time, Option<&str>)> {
    change
        .commits
        .iter()
        .filter_map(|c| Some((c.pushed_at?, c.pushed_by.as_deref())))
        .max_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal))
}

/// The most approvers a group lists as able to approve; the report counts the rest.
const MAX_LISTED_APPROVERS: usize = 10;

pub fn approval_message(groups: &[ApprovalGroup]) -> String {
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
pub fn approval_groups<'a>(
    ctx: &mut Ctx<'a, '_>,
    req: &ir::ApprovalReq,
    approvals: &Approvals<'a>,
    frame: &mut Frame<'a>,
) -> Result<Vec<ApprovalGroup>, Box<EvalError>> {
    let required = required_count(ctx, req, frame)?;
    let (ir::ApproverSource::Set(source)
    | ir::ApproverSource::EachTeam(source)
    | ir::ApproverSource::EachUser(source)) = &req.source;
    let sets: Vec<ApproverSet> = match &req.source {
        ir::ApproverSource::Set(expr) => match ctx.eval(expr, frame)? {
            Value::Approvers(set) => {
                ctx.charge_built_bytes(set.held_bytes(), expr)?;
                vec![(*set).clone()]
            }
            _ => Vec::new(),
        },
        ir::ApproverSource::EachTeam(expr) | ir::ApproverSource::EachUser(expr) => {
            let team = matches!(req.source, ir::ApproverSource::EachTeam(_));
            let value = ctx.eval(expr, frame)?;
            ctx.charge_copied(&value, expr)?;
            let mut names: Vec<String> = match value {
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
    // Each group is a report of its own, and reads every approval.
    let groups = sets.len() as u64;
    let read = approvals.fresh.len() + approvals.stale.len() + approvals.dismissed.len();
    ctx.charge_work(
        SLOT_BYTES
            .saturating_mul(read as u64)
            .saturating_mul(groups),
        source,
    )?;
    let group_bytes = std::mem::size_of::<ApprovalGroup>() as u64;
    ctx.charge_built_bytes(group_bytes.saturating_mul(groups), source)?;
    sets.iter()
        .map(|set| approval_group(ctx, req, required, set, approvals, frame))
        .collect()
}

/// The number of approvals a requirement asks for. A computed count below 1 (or beyond
/// what any group could hold) is an error, never a requirement that is always met.
fn required_count<'a>(
    ctx: &mut Ctx<'a, '_>,
    req: &ir::ApprovalReq,
    frame: &mut Frame<'a>,
) -> Result<u32, Box<EvalError>> {
    let expr = match &req.count {
        ir::ApprovalCount::Fixed(count) => return Ok(*count),
        ir::ApprovalCount::Computed(expr) => expr,
    };
    let value = ctx.eval(expr, frame)?;
    let problem = match value {
        Value::Int(n) if n < 1 => "a requirement needs at least 1 approval",
        Value::Int(n) => match u32::try_from(n) {
            Ok(count) => return Ok(count),
            Err(_) => "no requirement can ask for that many",
        },
        // The checker types the count `int`; anything else is a bug, reported closed.
        _ => "a count must be an `int`",
    };
    Err(Box::new(EvalError {
        message: format!(
            "the approval count is {}, and {problem}",
            value.display(&ctx.view)
        ),
        file: expr.file,
        span: expr.span,
    }))
}

fn approval_group<'a>(
    ctx: &mut Ctx<'a, '_>,
    req: &ir::ApprovalReq,
    required: u32,
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
