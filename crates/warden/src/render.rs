//! Renderings for people and machines: policy diagnostics through miette (graphical),
//! as JSON, GitHub annotations or SARIF; the evaluation report as terminal text, and
//! for CI as GitHub annotations, Markdown, SARIF or JUnit XML.

mod ci;
mod excerpt;
pub mod github;
pub mod junit;
pub mod markdown;
pub mod sarif;

use std::borrow::Cow;
use std::fmt::Write;

use anstyle::{AnsiColor, Effects};
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan};
use serde::Serialize;
use warden_syntax::{Diagnostic, FileId, Severity};

use self::excerpt::Excerpt;
use crate::Analysis;
use crate::lines::Lines;
use crate::report::{ApprovalGroup, ExemptionReport, Outcome, Report, RuleReport, Verdict};

/// A diagnostic in the shape miette renders.
struct Rendered<'a> {
    message: &'a str,
    code: &'static str,
    severity: miette::Severity,
    help: Option<String>,
    labels: Vec<LabeledSpan>,
    source: Excerpt<'a>,
}

impl std::fmt::Debug for Rendered<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message)
    }
}

impl std::fmt::Display for Rendered<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message)
    }
}

impl std::error::Error for Rendered<'_> {}

impl miette::Diagnostic for Rendered<'_> {
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
        .with_links(false)
        .with_context_lines(excerpt::CONTEXT_LINES);
    let mut files = FileLines::new(analysis);
    let mut out = String::new();
    for diagnostic in &analysis.diagnostics {
        let file = diagnostic.primary().map(|l| l.file).unwrap_or_default();
        // miette shows one source per diagnostic: labels in other files become notes.
        let mut spans = Vec::new();
        let mut messages = Vec::new();
        let mut notes = Vec::new();
        for label in &diagnostic.labels {
            if label.file == file {
                spans.push((label.span.start, label.span.end));
                messages.push(label.message.clone());
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
        let (source, spans) = Excerpt::new(analysis.path(file), files.get(file), &spans);
        let labels = messages
            .into_iter()
            .zip(spans)
            .map(|(message, (start, end))| LabeledSpan::new(Some(message), start, end - start))
            .collect();
        let rendered = Rendered {
            message: &diagnostic.message,
            code: diagnostic.code.as_str(),
            severity: match diagnostic.severity {
                Severity::Error => miette::Severity::Error,
                Severity::Warning => miette::Severity::Warning,
            },
            help,
            labels,
            source,
        };
        let _ = handler.render_report(&mut out, &rendered);
    }
    let errors = analysis.diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = analysis.diagnostics.len() - errors;
    let _ = writeln!(out, "{}", summary_line(errors, warnings));
    out
}

/// The line index of each file of an analysis, built when a diagnostic first needs it.
struct FileLines<'a> {
    analysis: &'a Analysis,
    lines: Vec<Option<Lines<'a>>>,
}

impl<'a> FileLines<'a> {
    fn new(analysis: &'a Analysis) -> Self {
        FileLines {
            analysis,
            // One more, empty, for a file id out of range (its text is empty).
            lines: std::iter::repeat_with(|| None)
                .take(analysis.files.len() + 1)
                .collect(),
        }
    }

    fn get(&mut self, file: FileId) -> &Lines<'a> {
        let analysis = self.analysis;
        let index = (file.0 as usize).min(analysis.files.len());
        self.lines[index].get_or_insert_with(|| Lines::new(analysis.text(file)))
    }
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
    let mut files = FileLines::new(analysis);
    let items: Vec<JsonDiagnostic<'_>> = analysis
        .diagnostics
        .iter()
        .map(|d: &Diagnostic| {
            let primary = d.primary();
            let file = primary.map(|l| l.file).unwrap_or_default();
            let span = primary.map(|l| l.span).unwrap_or_default();
            let (line, column) = files.get(file).line_column(span.start);
            JsonDiagnostic {
                severity: d.severity,
                code: d.code.as_str(),
                message: &d.message,
                file: analysis.path(file),
                span: JsonSpan {
                    start: span.start,
                    end: span.end,
                },
                line,
                column,
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

/// Terminal styles; each prints nothing when colour is off (`{style}` starts it,
/// `{style:#}` ends it).
struct Style {
    bold: anstyle::Style,
    dim: anstyle::Style,
    red: anstyle::Style,
    yellow: anstyle::Style,
    green: anstyle::Style,
    magenta: anstyle::Style,
}

impl Style {
    fn new(color: bool) -> Style {
        let style = |style: anstyle::Style| {
            if color { style } else { anstyle::Style::new() }
        };
        let fg = |color: AnsiColor| style(color.on_default());
        Style {
            bold: style(Effects::BOLD.into()),
            dim: style(Effects::DIMMED.into()),
            red: fg(AnsiColor::Red),
            yellow: fg(AnsiColor::Yellow),
            green: fg(AnsiColor::Green),
            magenta: fg(AnsiColor::Magenta),
        }
    }

    fn outcome(&self, outcome: Outcome) -> anstyle::Style {
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
    let verdict = match report.verdict {
        Verdict::Allow => s.green,
        Verdict::RequireApproval => s.yellow,
        Verdict::Deny => s.red,
    } | s.bold.get_effects();
    let _ = writeln!(
        out,
        "{verdict}{}{verdict:#} — {} {} “{}”",
        report.verdict.as_str(),
        report.change.kind.replace('_', " "),
        report.change.id,
        one_line(&report.change.title)
    );

    // Most severe first: violated and errors, then pending.
    let mut blocking = rules_in(report, Group::NeedsAction);
    blocking.sort_by_key(|r| std::cmp::Reverse(r.outcome));
    detailed_section(&mut out, &s, "needs action", &blocking);
    detailed_section(&mut out, &s, "advisory", &rules_in(report, Group::Advisory));
    detailed_section(
        &mut out,
        &s,
        "set aside",
        &rules_in(report, Group::SetAside),
    );
    unapplied_exemptions(&mut out, &s, report, explain);

    let satisfied = rules_in(report, Group::Satisfied);
    if !satisfied.is_empty() {
        let _ = writeln!(out, "\n{}satisfied{:#}", s.bold, s.bold);
        for rule in satisfied {
            let _ = writeln!(
                out,
                "  {}✔{:#} {}{} {}{}{:#}",
                s.green,
                s.green,
                rule.name,
                advisory_tag(rule),
                s.dim,
                rule.location,
                s.dim
            );
            for witness in &rule.witnesses {
                let _ = writeln!(
                    out,
                    "      because `{}`: {}",
                    quoted(&witness.condition),
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

    let not_applicable = rules_in(report, Group::DidNotApply);
    if explain && !not_applicable.is_empty() {
        let _ = writeln!(out, "\n{}did not apply{:#}", s.bold, s.bold);
        for rule in &not_applicable {
            let _ = writeln!(
                out,
                "  {}·{:#} {} {}{}{:#}",
                s.dim, s.dim, rule.name, s.dim, rule.location, s.dim
            );
            if let Some(failed) = &rule.failed_condition {
                let _ = writeln!(
                    out,
                    "      `{}`: {}",
                    quoted(&failed.condition),
                    failed.detail
                );
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
        let _ = writeln!(out, "\n{}break-glass overrides{:#}", s.bold, s.bold);
        for entry in &report.overrides {
            let incident = entry
                .incident
                .as_deref()
                .map(|i| format!(" for {i}"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {}{}{:#}{incident}: “{}”",
                s.magenta,
                entry.by,
                s.magenta,
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
                    "      {}did not count for {}{:#}: {}",
                    s.red,
                    rejected.rule,
                    s.red,
                    one_line(&rejected.reason)
                );
            }
        }
    }

    let approvals = &report.approvals;
    if !approvals.counted.is_empty() || !approvals.dismissed.is_empty() {
        let _ = writeln!(out, "\n{}approvals{:#}", s.bold, s.bold);
        for approval in &approvals.counted {
            let _ = writeln!(
                out,
                "  {}✔{:#} {} ({})",
                s.green, s.green, approval.approver, approval.at
            );
        }
        for dismissed in &approvals.dismissed {
            let _ = writeln!(
                out,
                "  {}✘{:#} {} ({}): {}",
                s.red,
                s.red,
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
                "\n{}error{:#} in exemption {} ({}): {} in `{}`",
                s.red,
                s.red,
                exemption.name,
                error.location,
                error.message,
                quoted(&error.expression)
            );
        }
    }
    if let Some(digest) = &report.digest {
        let _ = writeln!(
            out,
            "\n{}policy {}\ninput  {}{:#}",
            s.dim, digest.policy, digest.input, s.dim
        );
    }
    out
}

/// Where a report lists a rule. The terminal report, the Markdown comment and the CI
/// levels all group by this one function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Group {
    /// Violated, pending or in error, and not advisory: what decides the verdict.
    NeedsAction,
    /// An advisory rule that is not satisfied: reported, never changes the verdict.
    Advisory,
    /// Overridden or exempted.
    SetAside,
    Satisfied,
    DidNotApply,
}

pub(crate) fn group(rule: &RuleReport) -> Group {
    match rule.outcome {
        Outcome::Satisfied => Group::Satisfied,
        Outcome::NotApplicable => Group::DidNotApply,
        _ if rule.advisory => Group::Advisory,
        Outcome::Overridden | Outcome::Exempted => Group::SetAside,
        Outcome::Violated | Outcome::Error | Outcome::Pending => Group::NeedsAction,
    }
}

/// The report's rules in `wanted`, in policy order.
fn rules_in(report: &Report, wanted: Group) -> Vec<&RuleReport> {
    report.rules.iter().filter(|r| group(r) == wanted).collect()
}

/// The exemptions that did not apply and were evaluated: those naming a rule that
/// needs action or is advisory (what a reader wonders about), or with `all` every one.
pub(crate) fn unapplied_exemptions_of_note(report: &Report, all: bool) -> Vec<&ExemptionReport> {
    let matters = |name: &String| {
        report.rules.iter().any(|rule| {
            *rule.name == **name && matches!(group(rule), Group::NeedsAction | Group::Advisory)
        })
    };
    report
        .exemptions
        .iter()
        .filter(|e| !e.applied && e.error.is_none())
        .filter(|e| all || e.rules.iter().any(matters))
        .collect()
}

/// The exemptions of [`unapplied_exemptions_of_note`], each with the first part of its
/// condition that was false.
fn unapplied_exemptions(out: &mut String, s: &Style, report: &Report, explain: bool) {
    let shown = unapplied_exemptions_of_note(report, explain);
    if shown.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{}exemptions that did not apply{:#}", s.bold, s.bold);
    for exemption in shown {
        let _ = writeln!(
            out,
            "  {}·{:#} {} (for {}) {}{}{:#}",
            s.dim,
            s.dim,
            exemption.name,
            exemption.rules.join(", "),
            s.dim,
            exemption.location,
            s.dim
        );
        if let Some(failed) = &exemption.failed_condition {
            let _ = writeln!(
                out,
                "      `{}`: {}",
                quoted(&failed.condition),
                one_line(&failed.detail)
            );
        }
    }
}

/// A titled list of rules, each with its full explanation; nothing when empty.
fn detailed_section(out: &mut String, s: &Style, title: &str, rules: &[&RuleReport]) {
    if rules.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{}{title}{:#}", s.bold, s.bold);
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
    let outcome = s.outcome(rule.outcome) | s.bold.get_effects();
    let label = rule.outcome.as_str().replace('_', " ").to_uppercase();
    let _ = writeln!(
        out,
        "  {outcome}{label}{outcome:#} {}{}{:#}  {}{}{:#}",
        s.bold, rule.name, s.bold, s.dim, rule.location, s.dim
    );
    explanation(out, rule, s, "    ");
}

/// Why a rule has its outcome and what would change it, one fact a line, each line
/// starting with `indent`: the human report's rule details, and the text of a CI
/// annotation or a test failure.
fn explanation(out: &mut String, rule: &RuleReport, s: &Style, indent: &str) {
    if rule.advisory {
        let _ = writeln!(
            out,
            "{indent}advisory: reported only, does not change the verdict"
        );
    }
    if let Some(message) = &rule.message {
        let _ = writeln!(out, "{indent}{}", one_line(message));
    }
    if let Some(by) = &rule.overridden_by {
        let incident = by
            .incident
            .as_deref()
            .map(|i| format!(" for {i}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{indent}{}overridden by {}{incident}{:#}: “{}”",
            s.magenta,
            by.by,
            s.magenta,
            one_line(&by.reason)
        );
    }
    if let Some(exemption) = &rule.exempted_by {
        let _ = writeln!(
            out,
            "{indent}{}exempted by {exemption}{:#}",
            s.magenta, s.magenta
        );
    }
    if let Some(error) = &rule.error {
        let _ = writeln!(
            out,
            "{indent}{}error{:#} at {}: {} in `{}`",
            s.red,
            s.red,
            error.location,
            error.message,
            quoted(&error.expression)
        );
    }
    if !rule.witnesses.is_empty() {
        let _ = writeln!(out, "{indent}because");
        for witness in &rule.witnesses {
            let _ = writeln!(
                out,
                "{indent}  • `{}`: {}",
                quoted(&witness.condition),
                one_line(&witness.detail)
            );
        }
    }
    for requirement in &rule.requirements {
        let mark = if requirement.met {
            format!("{}✔{:#}", s.green, s.green)
        } else {
            format!("{}✘{:#}", s.red, s.red)
        };
        let _ = writeln!(out, "{indent}{mark} {}", quoted(&requirement.text));
        let vacuous = requirement.met
            && requirement.groups.is_empty()
            && requirement.kind == crate::report::RequirementKind::Approval;
        if let Some(message) = &requirement.message
            && (!requirement.met || vacuous)
            && rule.message.as_deref() != Some(message.as_str())
        {
            let _ = writeln!(out, "{indent}    {}", one_line(message));
        }
        if let Some(because) = &requirement.because {
            let _ = writeln!(
                out,
                "{indent}    because `{}`: {}",
                quoted(&because.condition),
                one_line(&because.detail)
            );
        }
        for group in &requirement.groups {
            group_details(out, group, indent);
        }
    }
}

fn group_details(out: &mut String, group: &ApprovalGroup, indent: &str) {
    let counted = if group.counted.is_empty() {
        "none".to_string()
    } else {
        group.counted.join(", ")
    };
    let _ = writeln!(
        out,
        "{indent}    {} of {} from {}: {counted}",
        group.counted.len().min(group.required as usize),
        group.required,
        group.from
    );
    for not in &group.not_counted {
        let _ = writeln!(
            out,
            "{indent}      not counted: {} — {}",
            not.approver,
            one_line(&not.reason)
        );
    }
    if group.missing > 0 {
        let _ = writeln!(
            out,
            "{indent}      missing {}",
            plural(group.missing as usize, "approval")
        );
        if group.could_approve.is_empty() {
            let _ = writeln!(out, "{indent}      no one in the directory can give it");
        } else {
            let _ = writeln!(
                out,
                "{indent}      could approve: {}{}",
                group.could_approve.join(", "),
                more_could_approve(group)
            );
        }
    }
}

/// ` and 3 more` when more people could approve than the group lists.
fn more_could_approve(group: &ApprovalGroup) -> String {
    if group.more_could_approve > 0 {
        format!(" and {} more", group.more_could_approve)
    } else {
        String::new()
    }
}

/// Policy source quoted in the report (a condition, an expression; already on one
/// line), cut in the middle when longer than a diagnostic shows of a line: a condition
/// over a 45 MB string literal is not echoed whole.
fn quoted(source: &str) -> Cow<'_, str> {
    let half = excerpt::MAX_LINE_CHARS / 2;
    if source.chars().nth(excerpt::MAX_LINE_CHARS).is_none() {
        return Cow::Borrowed(source);
    }
    let head_end = source.char_indices().nth(half).map_or(0, |(i, _)| i);
    let tail_start = source
        .char_indices()
        .rev()
        .nth(half - 2)
        .map_or(source.len(), |(i, _)| i);
    Cow::Owned(format!("{}…{}", &source[..head_end], &source[tail_start..]))
}

/// Text from the change (reasons, titles, messages built from its values) on one line,
/// with control characters — newlines, tabs, terminal escapes — shown as spaces.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}
