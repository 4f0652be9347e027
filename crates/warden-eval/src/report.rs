//! The result of an evaluation: the verdict and, for every rule, its outcome and the
//! data that explains it. Serialized as the JSON report (`warden.report/v1`, documented
//! in `docs/report.md`); the human rendering is built from the same data. Every list is
//! serialized even when empty (the schema requires it); only absent optional values
//! are left out.

use std::rc::Rc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::approvals::Dismissal;

pub const REPORT_SCHEMA: &str = "warden.report/v1";

/// `allow < require-approval < deny`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Allow,
    RequireApproval,
    Deny,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allow => "allow",
            Verdict::RequireApproval => "require-approval",
            Verdict::Deny => "deny",
        }
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    NotApplicable,
    Satisfied,
    Exempted,
    Overridden,
    Pending,
    Violated,
    Error,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::NotApplicable => "not_applicable",
            Outcome::Satisfied => "satisfied",
            Outcome::Exempted => "exempted",
            Outcome::Overridden => "overridden",
            Outcome::Pending => "pending",
            Outcome::Violated => "violated",
            Outcome::Error => "error",
        }
    }

    /// What the outcome contributes to the verdict.
    pub fn verdict(self) -> Verdict {
        match self {
            Outcome::Pending => Verdict::RequireApproval,
            Outcome::Violated | Outcome::Error => Verdict::Deny,
            _ => Verdict::Allow,
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Report {
    pub schema: &'static str,
    pub verdict: Verdict,
    pub change: ChangeSummary,
    /// Filled in by the caller that read the files (`sha256:` of policy and input).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<Digest>,
    pub rules: Vec<RuleReport>,
    pub approvals: ApprovalsReport,
    pub overrides: Vec<OverrideReport>,
    pub exemptions: Vec<ExemptionReport>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ChangeSummary {
    pub id: String,
    pub kind: String,
    pub title: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, JsonSchema)]
pub struct Digest {
    pub policy: String,
    pub input: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RuleReport {
    pub name: Rc<str>,
    /// `path:line:column` of the rule's name.
    pub location: Rc<str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub doc: Option<Rc<str>>,
    pub outcome: Outcome,
    /// Advisory rules are reported but never change the verdict.
    pub advisory: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Why the rule applied: the facts that made its `when` true.
    pub witnesses: Vec<Witness>,
    pub requirements: Vec<Requirement>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exempted_by: Option<String>,
    // The rarely set parts are boxed: a report is moved several times per rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overridden_by: Option<Box<OverrideUse>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Box<ErrorReport>>,
    /// With `--explain`, for a rule that did not apply: the first condition that failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_condition: Option<Box<Witness>>,
}

impl RuleReport {
    /// A report with only what every rule has; the evaluation fills in the rest.
    pub fn new(name: Rc<str>, location: Rc<str>, outcome: Outcome, advisory: bool) -> Self {
        RuleReport {
            name,
            location,
            doc: None,
            outcome,
            advisory,
            message: None,
            witnesses: Vec::new(),
            requirements: Vec::new(),
            exempted_by: None,
            overridden_by: None,
            error: None,
            failed_condition: None,
        }
    }
}

/// One fact behind a decision: the condition as written, and what made it so.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, JsonSchema)]
pub struct Witness {
    pub condition: String,
    pub detail: String,
    /// The changed file the fact is about (`change.files`' path), when it is about one:
    /// where CI annotations point.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequirementKind {
    Approval,
    Condition,
    Deny,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Requirement {
    pub kind: RequirementKind,
    pub met: bool,
    /// The demand as written.
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Approval requirements, one per approver group (one group unless `each`).
    pub groups: Vec<ApprovalGroup>,
    /// For an unmet condition (`require COND else …`): the first part of it that was
    /// false, with the values that made it so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub because: Option<Box<Witness>>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ApprovalGroup {
    /// Who may approve, e.g. ``team `checkout` ``.
    pub from: String,
    pub required: u32,
    pub counted: Vec<String>,
    pub missing: u32,
    /// Approvals by people of this group that did not count, with the reason.
    pub not_counted: Vec<NotCounted>,
    /// People who could still approve (at most 10 listed).
    pub could_approve: Vec<String>,
    /// How many more could approve than are listed.
    pub more_could_approve: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, JsonSchema)]
pub struct NotCounted {
    pub approver: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ErrorReport {
    pub message: String,
    pub location: String,
    pub expression: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, JsonSchema)]
pub struct OverrideUse {
    pub by: String,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident: Option<String>,
}

#[derive(Debug, Clone, Serialize, Default, JsonSchema)]
pub struct ApprovalsReport {
    pub counted: Vec<CountedApproval>,
    pub dismissed: Vec<Dismissal>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CountedApproval {
    pub approver: String,
    pub at: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct OverrideReport {
    pub by: String,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident: Option<String>,
    /// The rules the override names; empty means every overridable rule.
    pub rules: Vec<String>,
    pub applied_to: Vec<String>,
    pub rejected: Vec<Rejection>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, JsonSchema)]
pub struct Rejection {
    pub rule: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ExemptionReport {
    pub name: String,
    pub location: String,
    pub applied: bool,
    pub rules: Vec<String>,
    pub witnesses: Vec<Witness>,
    /// For an exemption that did not apply: the first part of its `when` that was
    /// false, with the values compared (as `--explain` gives for a rule).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_condition: Option<Witness>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorReport>,
}
