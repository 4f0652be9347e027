//! Renderings for people and machines: policy diagnostics through miette (graphical, or
//! JSON), and the evaluation report as terminal text.

use std::fmt::Write;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource};
use serde::Serialize;
use warden_syntax::{Diagnostic, Severity};

use crate::Analysis;
use crate::report::{ApprovalGroup, Outcome, Report, RuleReport, Verdict};

/// A diagnostic in the shape miette renders.
#[derive(Debug)]
struct Rendered {
    message: String,
    code: &'static str,
    severity: miette::Severity,
    help: Option<String>,
    labels: Vec<LabeledSpan>,
    source: NamedSource<String>,
}

impl std::fmt::Display for Rendered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Rendered {}

impl miette::Diagnostic for Rendered {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
}

/// Renders every diagnostic with its source excerpt. `color` selects the themed output.
pub fn diagnostics(analysis: &Analysis, color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let mut out = String::new();
    for diagnostic in &analysis.diagnostics {
        let file = diagnostic.primary().map(|l| l.file).unwrap_or_default();
        // miette shows one source per diagnostic: labels in other files become notes.
        let mut labels = Vec::new();
        let mut notes = Vec::new();
        for label in &diagnostic.labels {
            if label.file == file {
                let span = clamp(label.span, analysis.text(file).len());
                labels.push(LabeledSpan::new(
                    Some(label.message.clone()),
                    span.0,
                    span.1,
                ));
            } else {
                notes.push(format!(
                    "{} (in `{}`)",
                    label.message,
                    analysis.path(label.file)
                ));
            }
        }
        let help = match (&diagnostic.help, notes.is_empty()) {
            (help, true) => help.clone(),
            (Some(help), false) => Some(format!("{help}; {}", notes.join("; "))),
            (None, false) => Some(notes.join("; ")),
        };
        let rendered = Rendered {
            message: diagnostic.message.clone(),
            code: diagnostic.code,
            severity: match diagnostic.severity {
                Severity::Error => miette::Severity::Error,
                Severity::Warning => miette::Severity::Warning,
            },
            help,
            labels,
            source: NamedSource::new(analysis.path(file), analysis.text(file).to_string()),
        };
        let _ = handler.render_report(&mut out, &rendered);
    }
    let errors = analysis.diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = analysis.diagnostics.len() - errors;
    let _ = writeln!(out, "{}", summary_line(errors, warnings));
    out
}

fn clamp(span: warden_syntax::Span, len: usize) -> (usize, usize) {
    let start = span.start.min(len);
    (start, span.end.min(len).saturating_sub(start))
}

fn summary_line(errors: usize, warnings: usize) -> String {
    let plural = |n: usize, word: &str| {
        if n == 1 {
            format!("{n} {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    match (errors, warnings) {
        (0, 0) => "policy ok".to_string(),
        (0, w) => format!("policy ok, {}", plural(w, "warning")),
        (e, w) => format!("{}, {}", plural(e, "error"), plural(w, "warning")),
    }
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    severity: Severity,
    code: &'a str,
    message: &'a str,
    file: &'a str,
    /// Byte offsets into the file.
    span: JsonSpan,
    line: usize,
    column: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonSpan {
    start: usize,
    end: usize,
}

/// Every diagnostic as JSON (`--error-format json`): severity, code, message, file,
/// span, line and column, label and help.
pub fn diagnostics_json(analysis: &Analysis) -> String {
    let items: Vec<JsonDiagnostic<'_>> = analysis
        .diagnostics
        .iter()
        .map(|d: &Diagnostic| {
            let primary = d.primary();
            let file = primary.map(|l| l.file).unwrap_or_default();
            let span = primary.map(|l| l.span).unwrap_or_default();
            let text = analysis.text(file);
            let before = text.get(..span.start).unwrap_or("");
            JsonDiagnostic {
                severity: d.severity,
                code: d.code,
                message: &d.message,
                file: analysis.path(file),
                span: JsonSpan {
                    start: span.start,
                    end: span.end,
                },
                line: before.matches('\n').count() + 1,
                column: before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1,
                label: primary.map(|l| l.message.as_str()),
                help: d.help.as_deref(),
            }
        })
        .collect();
    serde_json::to_string_pretty(&items).map_or_else(
        |e| format!("[\"{e}\"]"),
        |mut s| {
            s.push('\n');
            s
        },
    )
}

/// Terminal styles; empty strings when colour is off.
struct Style {
    bold: &'static str,
    dim: &'static str,
    red: &'static str,
    yellow: &'static str,
    green: &'static str,
    magenta: &'static str,
    reset: &'static str,
}

impl Style {
    fn new(color: bool) -> Style {
        if color {
            Style {
                bold: "\x1b[1m",
                dim: "\x1b[2m",
                red: "\x1b[31m",
                yellow: "\x1b[33m",
                green: "\x1b[32m",
                magenta: "\x1b[35m",
                reset: "\x1b[0m",
            }
        } else {
            Style {
                bold: "",
                dim: "",
                red: "",
                yellow: "",
                green: "",
                magenta: "",
                reset: "",
            }
        }
    }

    fn outcome(&self, outcome: Outcome) -> &'static str {
        match outcome {
            Outcome::Violated | Outcome::Error => self.red,
            Outcome::Pending => self.yellow,
            Outcome::Overridden | Outcome::Exempted => self.magenta,
            Outcome::Satisfied | Outcome::NotApplicable => self.green,
        }
    }
}

/// The report as terminal text: the verdict, then every rule that needs action with
/// why it applied and what would satisfy it, then overrides and exemptions
/// (prominently), then the rest briefly. `explain` adds the rules that did not apply.
pub fn report(report: &Report, color: bool, explain: bool) -> String {
    let s = Style::new(color);
    let mut out = String::new();
    let verdict_color = match report.verdict {
        Verdict::Allow => s.green,
        Verdict::RequireApproval => s.yellow,
        Verdict::Deny => s.red,
    };
    let _ = writeln!(
        out,
        "{}{verdict_color}{}{} — {} {} “{}”",
        s.bold,
        report.verdict.as_str(),
        s.reset,
        report.change.kind.replace('_', " "),
        report.change.id,
        one_line(&report.change.title)
    );

    // Most severe first: violated and errors, then pending.
    let mut blocking = rules_with(
        report,
        &[Outcome::Violated, Outcome::Error, Outcome::Pending],
    );
    blocking.sort_by_key(|r| std::cmp::Reverse(r.outcome));
    detailed_section(&mut out, &s, "needs action", &blocking);
    let set_aside = rules_with(report, &[Outcome::Overridden, Outcome::Exempted]);
    detailed_section(&mut out, &s, "set aside", &set_aside);

    let satisfied: Vec<&RuleReport> = report
        .rules
        .iter()
        .filter(|r| r.outcome == Outcome::Satisfied)
        .collect();
    if !satisfied.is_empty() {
        let _ = writeln!(out, "\n{}satisfied{}", s.bold, s.reset);
        for rule in satisfied {
            let _ = writeln!(
                out,
                "  {}✔{} {}{} {}{}{}",
                s.green,
                s.reset,
                rule.name,
                advisory_tag(rule),
                s.dim,
                rule.location,
                s.reset
            );
            for witness in &rule.witnesses {
                let _ = writeln!(
                    out,
                    "      because `{}`: {}",
                    witness.condition,
                    one_line(&witness.detail)
                );
            }
            for requirement in &rule.requirements {
                for group in &requirement.groups {
                    if !group.counted.is_empty() {
                        let _ = writeln!(
                            out,
                            "      {} from {}: {}",
                            plural(group.required as usize, "approval"),
                            group.from,
                            group.counted.join(", ")
                        );
                    }
                }
            }
        }
    }

    let not_applicable: Vec<&RuleReport> = report
        .rules
        .iter()
        .filter(|r| r.outcome == Outcome::NotApplicable)
        .collect();
    if explain && !not_applicable.is_empty() {
        let _ = writeln!(out, "\n{}did not apply{}", s.bold, s.reset);
        for rule in &not_applicable {
            let _ = writeln!(
                out,
                "  {}·{} {} {}{}{}",
                s.dim, s.reset, rule.name, s.dim, rule.location, s.reset
            );
            if let Some(failed) = &rule.failed_condition {
                let _ = writeln!(out, "      `{}`: {}", failed.condition, failed.detail);
            }
        }
    } else if !not_applicable.is_empty() {
        let _ = writeln!(
            out,
            "\n{} did not apply (--explain lists them)",
            plural(not_applicable.len(), "rule")
        );
    }

    if !report.overrides.is_empty() {
        let _ = writeln!(out, "\n{}break-glass overrides{}", s.bold, s.reset);
        for entry in &report.overrides {
            let incident = entry
                .incident
                .as_deref()
                .map(|i| format!(" for {i}"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {}{}{}{incident}: “{}”",
                s.magenta,
                entry.by,
                s.reset,
                one_line(&entry.reason)
            );
            if entry.applied_to.is_empty() {
                let _ = writeln!(out, "      applied to no rule");
            } else {
                let _ = writeln!(out, "      overrode {}", entry.applied_to.join(", "));
            }
            for rejected in &entry.rejected {
                let _ = writeln!(
                    out,
                    "      {}did not count for {}{}: {}",
                    s.red,
                    rejected.rule,
                    s.reset,
                    one_line(&rejected.reason)
                );
            }
        }
    }

    let approvals = &report.approvals;
    if !approvals.counted.is_empty() || !approvals.dismissed.is_empty() {
        let _ = writeln!(out, "\n{}approvals{}", s.bold, s.reset);
        for approval in &approvals.counted {
            let _ = writeln!(
                out,
                "  {}✔{} {} ({})",
                s.green, s.reset, approval.approver, approval.at
            );
        }
        for dismissed in &approvals.dismissed {
            let _ = writeln!(
                out,
                "  {}✘{} {} ({}): {}",
                s.red,
                s.reset,
                dismissed.approver,
                dismissed.at,
                one_line(&dismissed.reason)
            );
        }
    }
    for exemption in report.exemptions.iter().filter(|e| e.error.is_some()) {
        if let Some(error) = &exemption.error {
            let _ = writeln!(
                out,
                "\n{}error{} in exemption {} ({}): {} in `{}`",
                s.red, s.reset, exemption.name, error.location, error.message, error.expression
            );
        }
    }
    if let Some(digest) = &report.digest {
        let _ = writeln!(
            out,
            "\n{}policy {}\ninput  {}{}",
            s.dim, digest.policy, digest.input, s.reset
        );
    }
    out
}

fn rules_with<'r>(report: &'r Report, outcomes: &[Outcome]) -> Vec<&'r RuleReport> {
    report
        .rules
        .iter()
        .filter(|r| outcomes.contains(&r.outcome))
        .collect()
}

/// A titled list of rules, each with its full explanation; nothing when empty.
fn detailed_section(out: &mut String, s: &Style, title: &str, rules: &[&RuleReport]) {
    if rules.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{}{title}{}", s.bold, s.reset);
    for rule in rules {
        rule_details(out, rule, s);
    }
}

fn advisory_tag(rule: &RuleReport) -> &'static str {
    if rule.advisory { " (advisory)" } else { "" }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn rule_details(out: &mut String, rule: &RuleReport, s: &Style) {
    let color = s.outcome(rule.outcome);
    let label = rule.outcome.as_str().replace('_', " ").to_uppercase();
    let _ = writeln!(
        out,
        "  {color}{}{label}{} {}{}{}  {}{}{}",
        s.bold, s.reset, s.bold, rule.name, s.reset, s.dim, rule.location, s.reset
    );
    if rule.advisory {
        let _ = writeln!(
            out,
            "    advisory: reported only, does not change the verdict"
        );
    }
    if let Some(message) = &rule.message {
        let _ = writeln!(out, "    {}", one_line(message));
    }
    if let Some(by) = &rule.overridden_by {
        let incident = by
            .incident
            .as_deref()
            .map(|i| format!(" for {i}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "    {}overridden by {}{incident}{}: “{}”",
            s.magenta,
            by.by,
            s.reset,
            one_line(&by.reason)
        );
    }
    if let Some(error) = &rule.error {
        let _ = writeln!(
            out,
            "    {}error{} at {}: {} in `{}`",
            s.red, s.reset, error.location, error.message, error.expression
        );
    }
    if !rule.witnesses.is_empty() {
        let _ = writeln!(out, "    because");
        for witness in &rule.witnesses {
            let _ = writeln!(
                out,
                "      • `{}`: {}",
                witness.condition,
                one_line(&witness.detail)
            );
        }
    }
    for requirement in &rule.requirements {
        let mark = if requirement.met {
            format!("{}✔{}", s.green, s.reset)
        } else {
            format!("{}✘{}", s.red, s.reset)
        };
        let _ = writeln!(out, "    {mark} {}", requirement.text);
        let vacuous = requirement.met
            && requirement.groups.is_empty()
            && requirement.kind == crate::report::RequirementKind::Approval;
        if let Some(message) = &requirement.message
            && (!requirement.met || vacuous)
            && rule.message.as_deref() != Some(message.as_str())
        {
            let _ = writeln!(out, "        {}", one_line(message));
        }
        for group in &requirement.groups {
            group_details(out, group);
        }
    }
}

fn group_details(out: &mut String, group: &ApprovalGroup) {
    let counted = if group.counted.is_empty() {
        "none".to_string()
    } else {
        group.counted.join(", ")
    };
    let _ = writeln!(
        out,
        "        {} of {} from {}: {counted}",
        group.counted.len().min(group.required as usize),
        group.required,
        group.from
    );
    for not in &group.not_counted {
        let _ = writeln!(
            out,
            "          not counted: {} — {}",
            not.approver,
            one_line(&not.reason)
        );
    }
    if group.missing > 0 {
        let _ = writeln!(
            out,
            "          missing {}",
            plural(group.missing as usize, "approval")
        );
        if group.could_approve.is_empty() {
            let _ = writeln!(out, "          no one in the directory can give it");
        } else {
            let more = if group.more_could_approve > 0 {
                format!(" and {} more", group.more_could_approve)
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "          could approve: {}{more}",
                group.could_approve.join(", ")
            );
        }
    }
}

/// Text from the change (reasons, titles, messages built from its values) on one line,
/// with control characters — newlines, tabs, terminal escapes — shown as spaces.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}
