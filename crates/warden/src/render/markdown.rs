//! The report as GitHub-flavoured Markdown: a pull-request comment body and the job
//! summary (one rendering for both). It starts with a hidden marker, [`MARKER`], so a
//! bot can find its earlier comment and update it instead of adding another.
//!
//! Text from the change or the policy (titles, messages, reasons, paths, names) never
//! becomes markup: identifiers and conditions go in code spans whose fence is longer
//! than any run of backticks inside, other text has every character that could start
//! markup or HTML backslash-escaped, `@` cannot mention anyone, and every value is one
//! line, cut at [`MAX_TEXT_CHARS`]. The marker is a whole HTML comment on the first line,
//! so nothing after it can close or reopen it. The body stays under GitHub's limit on a
//! comment: past [`MAX_CHARS`], the less important sections are left out, and the last
//! line says so.

use std::fmt::Write as _;

use super::ci::{self, Level};
use super::{Group, group, one_line, unapplied_exemptions_of_note};
use crate::report::{ApprovalGroup, Outcome, Report, RuleReport, Verdict};

/// The first line of every comment Warden writes.
pub const MARKER: &str = "<!-- warden:report -->";

/// GitHub refuses a comment over 65,536 characters; the rest is room for the note that
/// sections were left out.
pub const MAX_CHARS: usize = 60_000;

/// The most characters of one value (a title, a message, a reason) shown.
pub const MAX_TEXT_CHARS: usize = 1_000;

/// The comment body (and the job summary) for a report: the verdict, every rule that
/// needs action with why it applied and what is missing — who could give a missing
/// approval —, the advisory rules, the rules set aside, the overrides, then the rest
/// briefly.
pub fn report(report: &Report, policy_dir: &str) -> String {
    let mut blocks = vec![header(report)];
    let findings = ci::findings(report, policy_dir);
    for (wanted, heading) in [
        (Group::NeedsAction, "#### Needs action\n"),
        (Group::Advisory, "#### Advisory\n"),
        (Group::SetAside, "#### Set aside\n"),
    ] {
        let mut in_group = findings
            .iter()
            .filter(|f| group(f.rule) == wanted)
            .peekable();
        if in_group.peek().is_some() {
            blocks.push(heading.to_string());
            blocks.extend(in_group.map(rule_block));
        }
    }
    for exemption in unapplied_exemptions_of_note(report, false) {
        let why = exemption
            .failed_condition
            .as_ref()
            .map_or(String::new(), |failed| {
                format!(": {} — {}", code(&failed.condition), inline(&failed.detail))
            });
        blocks.push(format!(
            "ℹ️ exemption {} (for {}) did not apply{why}\n",
            code(&exemption.name),
            exemption
                .rules
                .iter()
                .map(|rule| code(rule))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !report.overrides.is_empty() {
        blocks.push(overrides(report));
    }
    for exemption in &report.exemptions {
        if let Some(error) = &exemption.error {
            blocks.push(format!(
                "❌ exemption {} could not be evaluated at {}: {} in {}\n",
                code(&exemption.name),
                code(&error.location),
                inline(&error.message),
                code(&error.expression)
            ));
        }
    }
    let satisfied: Vec<&RuleReport> = report
        .rules
        .iter()
        .filter(|r| r.outcome == Outcome::Satisfied)
        .collect();
    if !satisfied.is_empty() {
        let mut block = format!(
            "<details><summary>{} satisfied</summary>\n\n",
            plural(satisfied.len(), "rule")
        );
        for rule in satisfied {
            let _ = writeln!(block, "- ✅ {}", code(&rule.name));
        }
        block.push_str("\n</details>\n");
        blocks.push(block);
    }
    if let Some(digest) = &report.digest {
        blocks.push(format!(
            "<sub>policy {} · input {}</sub>\n",
            code(&digest.policy),
            code(&digest.input)
        ));
    }
    join_within_limit(&blocks)
}

/// The blocks separated by blank lines, up to the first that would pass
/// [`MAX_CHARS`] (the header always fits), then a line that says how many were left out.
fn join_within_limit(blocks: &[String]) -> String {
    let mut out = String::new();
    for (index, block) in blocks.iter().enumerate() {
        if !out.is_empty() && out.len() + block.len() >= MAX_CHARS {
            let _ = writeln!(
                out,
                "\n_{} left out to fit a comment; the job log has the whole report._",
                plural(blocks.len() - index, "section")
            );
            break;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(block);
    }
    out
}

fn header(report: &Report) -> String {
    let icon = match report.verdict {
        Verdict::Allow => "✅",
        Verdict::RequireApproval => "⏳",
        Verdict::Deny => "❌",
    };
    format!(
        "{MARKER}\n### {icon} Warden: {}\n\n{} {} — {}\n\n{}\n",
        report.verdict.as_str(),
        text(&report.change.kind.replace('_', " ")),
        code(&report.change.id),
        text(&report.change.title),
        text(&ci::counts(report))
    )
}

/// One rule: its outcome, message, why it applied, what it demands and who could
/// give a missing approval, and where it is.
fn rule_block(finding: &ci::Finding<'_>) -> String {
    let rule = finding.rule;
    let icon = match finding.level {
        Level::Error => "❌",
        Level::Warning => "⏳",
        Level::Note => "ℹ️",
    };
    let advisory = if rule.advisory { ", advisory" } else { "" };
    let mut out = format!(
        "{icon} **{}** — {}{advisory}\n\n",
        code(&rule.name),
        rule.outcome.as_str().replace('_', " ")
    );
    if let Some(message) = &rule.message {
        let _ = writeln!(out, "{}\n", inline(message));
    }
    let mut items = Vec::new();
    if let Some(by) = &rule.overridden_by {
        let incident = by
            .incident
            .as_deref()
            .map(|i| format!(" for {}", code(i)))
            .unwrap_or_default();
        items.push(format!(
            "overridden by {}{incident}: “{}”",
            code(&by.by),
            text(&by.reason)
        ));
    }
    if let Some(exemption) = &rule.exempted_by {
        items.push(format!("exempted by {}", code(exemption)));
    }
    if let Some(error) = &rule.error {
        items.push(format!(
            "could not be evaluated at {}: {} in {}",
            code(&error.location),
            inline(&error.message),
            code(&error.expression)
        ));
    }
    for witness in &rule.witnesses {
        items.push(format!(
            "because {}: {}",
            code(&witness.condition),
            inline(&witness.detail)
        ));
    }
    for requirement in &rule.requirements {
        let mark = if requirement.met { "✔" } else { "✘" };
        let mut item = format!("{mark} {}", code(&requirement.text));
        if let Some(message) = &requirement.message
            && !requirement.met
            && rule.message.as_deref() != Some(message.as_str())
        {
            let _ = write!(item, " — {}", inline(message));
        }
        if let Some(because) = &requirement.because {
            let _ = write!(
                item,
                " — because {}: {}",
                code(&because.condition),
                inline(&because.detail)
            );
        }
        for group in &requirement.groups {
            let _ = write!(item, "\n  - {}", group_line(group));
            for not in &group.not_counted {
                let _ = write!(
                    item,
                    "\n  - not counted: {} — {}",
                    code(&not.approver),
                    inline(&not.reason)
                );
            }
        }
        items.push(item);
    }
    for item in items {
        let _ = writeln!(out, "- {item}");
    }
    if let Some(policy) = &finding.policy {
        let _ = write!(out, "\n<sub>rule at {}", code(&policy.display()));
        if let Some(file) = finding.file {
            let _ = write!(out, " · about {}", code(file));
        }
        out.push_str("</sub>\n");
    }
    out
}

/// `` team `dba`: 1 of 2 (`alice`), **1 missing** — could approve: `bob`, `carol` ``.
fn group_line(group: &ApprovalGroup) -> String {
    let counted: Vec<String> = group.counted.iter().map(|c| code(c)).collect();
    let mut line = format!(
        "{}: {} of {}",
        inline(&group.from),
        group.counted.len().min(group.required as usize),
        group.required
    );
    if !counted.is_empty() {
        let _ = write!(line, " ({})", counted.join(", "));
    }
    if group.missing > 0 {
        let _ = write!(line, ", **{} missing**", group.missing);
        if group.could_approve.is_empty() {
            line.push_str(" — no one in the directory can give it");
        } else {
            let could: Vec<String> = group.could_approve.iter().map(|c| code(c)).collect();
            let _ = write!(
                line,
                " — could approve: {}{}",
                could.join(", "),
                super::more_could_approve(group)
            );
        }
    }
    line
}

fn overrides(report: &Report) -> String {
    let mut out = "#### Break-glass overrides\n\n".to_string();
    for entry in &report.overrides {
        let incident = entry
            .incident
            .as_deref()
            .map(|i| format!(" for {}", code(i)))
            .unwrap_or_default();
        let applied: Vec<String> = entry.applied_to.iter().map(|r| code(r)).collect();
        let applied = if applied.is_empty() {
            "applied to no rule".to_string()
        } else {
            format!("overrode {}", applied.join(", "))
        };
        let _ = writeln!(
            out,
            "- {}{incident}: “{}” — {applied}",
            code(&entry.by),
            text(&entry.reason)
        );
        for rejected in &entry.rejected {
            let _ = writeln!(
                out,
                "  - did not count for {}: {}",
                code(&rejected.rule),
                inline(&rejected.reason)
            );
        }
    }
    out
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// A value on one line, at most [`MAX_TEXT_CHARS`] characters.
fn bounded(value: &str) -> String {
    let line = one_line(value);
    match line.char_indices().nth(MAX_TEXT_CHARS) {
        Some((end, _)) => format!("{}…", &line[..end]),
        None => line,
    }
}

/// Plain text: every character that could start Markdown or HTML backslash-escaped,
/// `@` followed by a zero-width space so it mentions no one.
fn text(value: &str) -> String {
    let value = bounded(value);
    let mut out = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        match c {
            '@' => out.push_str("@&#8203;"),
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '(' | ')' | '#' | '+' | '-' | '.'
            | '!' | '|' | '<' | '>' | '~' | '&' | '$' | ':' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A code span that shows `value` as it is: the fence is one backtick longer than the
/// longest run inside, and padded with spaces when the value starts or ends with a
/// backtick (or with spaces, which a code span would strip).
fn code(value: &str) -> String {
    let value = bounded(value);
    if value.is_empty() {
        return "“”".to_string();
    }
    let mut longest = 0;
    let mut run = 0;
    for c in value.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = value.starts_with('`')
        || value.ends_with('`')
        || (value.starts_with(' ') && value.ends_with(' '));
    if pad {
        format!("{fence} {value} {fence}")
    } else {
        format!("{fence}{value}{fence}")
    }
}

/// Text Warden wrote, which quotes what came from the policy or the change in
/// backticks (`` `alice` is the author ``): the quoted parts as code spans, the rest
/// as plain text; an unpaired backtick is plain text.
fn inline(value: &str) -> String {
    let value = bounded(value);
    let parts: Vec<&str> = value.split('`').collect();
    let mut out = String::new();
    for (index, part) in parts.iter().enumerate() {
        let quoted = index % 2 == 1;
        if quoted && index + 1 < parts.len() {
            out.push_str(&code(part));
        } else if quoted {
            out.push_str(&text(&format!("`{part}")));
        } else {
            out.push_str(&text(part));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_cannot_become_markup_or_a_mention() {
        assert_eq!(
            text("<!-- x --> **@bob** [a](b)\nnext"),
            "\\<\\!\\-\\- x \\-\\-\\> \\*\\*@&#8203;bob\\*\\* \\[a\\]\\(b\\) next"
        );
    }

    #[test]
    fn code_spans_hold_any_backticks() {
        assert_eq!(code("a"), "`a`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`a``"), "``` `a`` ```");
        assert_eq!(code(" a "), "`  a  `");
    }

    #[test]
    fn inline_turns_backticked_parts_into_code() {
        assert_eq!(inline("`alice` is the author"), "`alice` is the author");
        assert_eq!(inline("a `b` c `d"), "a `b` c \\`d");
    }

    /// A report of many rules with long messages stays a comment GitHub accepts, and
    /// says what it left out.
    #[test]
    fn a_long_report_fits_a_comment() {
        use crate::report::{ApprovalsReport, ChangeSummary};
        let rule = |index: usize| RuleReport {
            message: Some("m".repeat(MAX_TEXT_CHARS * 2)),
            ..RuleReport::new(
                format!("rule_{index}").into(),
                format!("policy.warden:{index}:6").into(),
                Outcome::Violated,
                false,
            )
        };
        let report = Report {
            schema: "warden.report/v1",
            verdict: Verdict::Deny,
            change: ChangeSummary {
                id: "github:acme/shop#1".to_string(),
                kind: "pull_request".to_string(),
                title: "t".repeat(MAX_CHARS),
            },
            digest: None,
            rules: (0..200).map(rule).collect(),
            approvals: ApprovalsReport::default(),
            overrides: Vec::new(),
            exemptions: Vec::new(),
        };
        let body = super::report(&report, "policy");
        assert!(body.len() < 65_536, "{} characters", body.len());
        assert!(body.starts_with(MARKER), "{body}");
        assert!(body.contains("rule_10"), "{body}");
        assert!(!body.contains("rule_199"), "{body}");
        assert!(
            body.ends_with(
                "sections left out to fit a comment; the job log has the whole report._\n"
            ),
            "{body}"
        );
    }

    #[test]
    fn long_values_are_cut() {
        let long = "x".repeat(MAX_TEXT_CHARS + 10);
        assert_eq!(text(&long).chars().count(), MAX_TEXT_CHARS + 1);
    }
}
