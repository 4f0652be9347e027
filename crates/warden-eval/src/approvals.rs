//! Which approvals count. Approvals are filtered data, not a count: each one that does
//! not count is kept with the reason, so the report can say who was dismissed and why.
//!
//! Code changes take approvals from reviews (only each reviewer's latest review; not by
//! the author, a commit author, committer or co-author, a bot or an unknown principal;
//! not dismissed; on the head revision, else stale). Deployments take them from
//! `deployment.approvals`, bound to the deployed artifact and not by the author or the
//! initiator.

use std::collections::BTreeMap;

use serde::Serialize;
use warden_change::model::{PrincipalKind, ReviewState};
use warden_change::view::{View, parse_person};
use warden_change::{Change, ChangeKind, Time};

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
            .insert(change.author.as_str(), "is the change's author".to_string());
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
