//! What the CI formats (GitHub annotations, SARIF, JUnit, the Markdown comment) share:
//! which rules need attention and how much, where each points — the changed file a
//! witness names, else the rule in the policy — and where a diagnostic is.

use std::fmt::Write as _;

use warden_syntax::{Diagnostic, Severity};

use super::{FileLines, Group, Style, explanation, group};
use crate::Analysis;
use crate::report::{Outcome, Report, RuleReport};

/// How much a finding matters to CI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Level {
    /// A violated rule or one that could not be evaluated: the verdict is deny.
    Error,
    /// A pending rule: approvals are missing.
    Warning,
    /// An advisory rule that is not satisfied, or a rule set aside by an override or
    /// an exemption: worth seeing, changes nothing.
    Note,
}

/// A place in the repository: a path relative to its root and, in a policy file, the
/// 1-based line and column (in characters) where it starts and, for a diagnostic,
/// where it ends (the column after its last character).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Place {
    pub path: String,
    pub start: Option<(usize, usize)>,
    pub end: Option<(usize, usize)>,
}

/// A rule that needs attention.
pub(super) struct Finding<'r> {
    pub rule: &'r RuleReport,
    /// The rule's index in the report.
    pub index: usize,
    pub level: Level,
    /// The changed file the rule's first witness about a file names.
    pub file: Option<&'r str>,
    /// The rule in the policy: the expression that failed for an `error`, else its name.
    pub policy: Option<Place>,
}

impl Finding<'_> {
    /// Where CI shows the finding: the changed file, else the policy.
    pub fn place(&self) -> Option<Place> {
        match self.file {
            Some(path) => Some(Place {
                path: path.to_string(),
                start: None,
                end: None,
            }),
            None => self.policy.clone(),
        }
    }

    /// `warden: frozen (violated)`.
    pub fn title(&self) -> String {
        title(self.rule)
    }

    /// Why, on several lines; when the finding points at a changed file, the last line
    /// names the rule's place in the policy.
    pub fn message(&self) -> String {
        let mut text = plain_explanation(self.rule);
        if self.file.is_some()
            && let Some(policy) = &self.policy
        {
            let _ = write!(text, "\nrule at {}", policy.display());
        }
        text
    }
}

impl Place {
    /// `path:line:column`, or the path alone.
    pub fn display(&self) -> String {
        match self.start {
            Some((line, column)) => format!("{}:{line}:{column}", self.path),
            None => self.path.clone(),
        }
    }
}

/// The level of a rule's outcome; `None` when it needs no attention.
pub(super) fn level(rule: &RuleReport) -> Option<Level> {
    match group(rule) {
        Group::Satisfied | Group::DidNotApply => None,
        Group::Advisory | Group::SetAside => Some(Level::Note),
        Group::NeedsAction if rule.outcome == Outcome::Pending => Some(Level::Warning),
        Group::NeedsAction => Some(Level::Error),
    }
}

/// Every rule that needs attention, most severe first, then in policy order.
pub(super) fn findings<'r>(report: &'r Report, policy_dir: &str) -> Vec<Finding<'r>> {
    let mut found: Vec<Finding<'r>> = report
        .rules
        .iter()
        .enumerate()
        .filter_map(|(index, rule)| {
            Some(Finding {
                rule,
                index,
                level: level(rule)?,
                file: rule.witnesses.iter().find_map(|w| w.file.as_deref()),
                policy: policy_place(rule, policy_dir),
            })
        })
        .collect();
    found.sort_by_key(|f| f.level);
    found
}

/// How many rules need action, and how many are advisory findings, set aside,
/// satisfied or did not apply: `2 rules need action, 5 satisfied, 3 did not apply`.
pub(super) fn counts(report: &Report) -> String {
    let count = |wanted: Group| report.rules.iter().filter(|r| group(r) == wanted).count();
    let mut parts = vec![match count(Group::NeedsAction) {
        0 => "no rule needs action".to_string(),
        1 => "1 rule needs action".to_string(),
        n => format!("{n} rules need action"),
    }];
    for (n, what) in [
        (count(Group::Advisory), "advisory"),
        (count(Group::SetAside), "set aside"),
        (count(Group::Satisfied), "satisfied"),
        (count(Group::DidNotApply), "did not apply"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    parts.join(", ")
}

/// `warden: frozen (violated)`, `warden: review (pending, advisory)`.
pub(super) fn title(rule: &RuleReport) -> String {
    let advisory = if rule.advisory { ", advisory" } else { "" };
    format!(
        "warden: {} ({}{advisory})",
        rule.name,
        rule.outcome.as_str().replace('_', " ")
    )
}

/// The human report's explanation of a rule, without colour or indentation; the
/// rule's documentation when there is nothing else to say.
pub(super) fn plain_explanation(rule: &RuleReport) -> String {
    let mut text = String::new();
    explanation(&mut text, rule, &Style::new(false), "");
    if text.is_empty()
        && let Some(doc) = &rule.doc
    {
        text.push_str(doc);
    }
    let trimmed = text.trim_end().len();
    text.truncate(trimmed);
    text
}

/// Where the rule is in the policy, from its `path:line:column` (the failing
/// expression's for an `error`), relative to the repository.
pub(super) fn policy_place(rule: &RuleReport, policy_dir: &str) -> Option<Place> {
    let location = rule.error.as_ref().map_or(&*rule.location, |e| &e.location);
    let mut parts = location.rsplitn(3, ':');
    let column = parts.next()?.parse().ok()?;
    let line = parts.next()?.parse().ok()?;
    let path = parts.next()?;
    Some(Place {
        path: in_repository(policy_dir, path),
        start: Some((line, column)),
        end: None,
    })
}

/// A policy file's path relative to the repository: `policy_dir` (the directory the
/// policy was read from, relative to the repository's root) joined with the path
/// relative to it.
pub(super) fn in_repository(policy_dir: &str, path: &str) -> String {
    let dir = policy_dir.trim_end_matches('/');
    if dir.is_empty() || dir == "." {
        path.to_string()
    } else {
        format!("{dir}/{path}")
    }
}

/// A policy diagnostic with its place (its primary label's span) resolved.
pub(super) struct Located<'a> {
    pub diagnostic: &'a Diagnostic,
    pub place: Option<Place>,
}

impl Located<'_> {
    pub fn level(&self) -> Level {
        match self.diagnostic.severity {
            Severity::Error => Level::Error,
            Severity::Warning => Level::Warning,
        }
    }

    /// The message, then the primary label and the help on lines of their own.
    pub fn text(&self) -> String {
        let mut text = self.diagnostic.message.clone();
        if let Some(label) = self.diagnostic.primary()
            && !label.message.is_empty()
        {
            let _ = write!(text, "\n{}", label.message);
        }
        if let Some(help) = &self.diagnostic.help {
            let _ = write!(text, "\nhelp: {help}");
        }
        text
    }
}

/// Every diagnostic of an analysis with its place in the repository.
pub(super) fn located<'a>(analysis: &'a Analysis, policy_dir: &str) -> Vec<Located<'a>> {
    let mut files = FileLines::new(analysis);
    analysis
        .diagnostics
        .iter()
        .map(|diagnostic| Located {
            diagnostic,
            place: diagnostic.primary().map(|label| {
                let lines = files.get(label.file);
                Place {
                    path: in_repository(policy_dir, analysis.path(label.file)),
                    start: Some(lines.line_column(label.span.start)),
                    end: Some(lines.line_column(label.span.end)),
                }
            }),
        })
        .collect()
}
