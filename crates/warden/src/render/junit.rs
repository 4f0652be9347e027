//! JUnit XML, for CI test reports: one `<testsuite>` for the change, one `<testcase>`
//! per rule. A violated rule is a `<failure>`, a pending one a `<failure>` of type
//! `pending`, a rule that could not be evaluated an `<error>`; a rule that did not
//! apply, was set aside, or is advisory and not satisfied is `<skipped>` with why; a
//! satisfied rule passes. Times are `0`, so the same report gives the same XML.

use std::fmt::Write as _;

use super::ci::{self, plain_explanation};
use crate::report::{Outcome, Report, RuleReport};

/// The XML document of a report; `policy_dir` is the policy's directory relative to
/// the repository's root (a test case's `file`).
pub fn report(report: &Report, policy_dir: &str) -> String {
    let mut cases = String::new();
    let (mut failures, mut errors, mut skipped) = (0, 0, 0);
    for rule in &report.rules {
        let place = ci::policy_place(rule, policy_dir);
        let _ = write!(
            cases,
            "    <testcase name=\"{}\" classname=\"{}\"",
            attribute(&rule.name),
            attribute(place.as_ref().map_or("warden", |p| p.path.as_str()))
        );
        if let Some(place) = &place {
            let _ = write!(cases, " file=\"{}\"", attribute(&place.path));
            if let Some((line, _)) = place.start {
                let _ = write!(cases, " line=\"{line}\"");
            }
        }
        cases.push_str(" time=\"0\"");
        match outcome_element(rule) {
            None => cases.push_str("/>\n"),
            Some((element, kind, message)) => {
                match element {
                    "failure" => failures += 1,
                    "error" => errors += 1,
                    _ => skipped += 1,
                }
                let _ = write!(cases, ">\n      <{element}");
                if let Some(kind) = kind {
                    let _ = write!(cases, " type=\"{kind}\"");
                }
                let _ = write!(cases, " message=\"{}\"", attribute(&message));
                let body = plain_explanation(rule);
                if body.is_empty() {
                    cases.push_str("/>\n");
                } else {
                    let _ = writeln!(cases, ">{}</{element}>", text(&body));
                }
                cases.push_str("    </testcase>\n");
            }
        }
    }
    let tests = report.rules.len();
    let counts = format!(
        "tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"0\""
    );
    let suite = format!(
        "warden: {} {}",
        report.change.kind.replace('_', " "),
        report.change.id
    );
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(out, "<testsuites name=\"warden\" {counts}>");
    let _ = writeln!(out, "  <testsuite name=\"{}\" {counts}>", attribute(&suite));
    out.push_str("    <properties>\n");
    for (name, value) in [
        ("verdict", report.verdict.as_str()),
        ("change.id", &report.change.id),
        ("change.kind", &report.change.kind),
        ("change.title", &report.change.title),
    ] {
        let _ = writeln!(
            out,
            "      <property name=\"{name}\" value=\"{}\"/>",
            attribute(value)
        );
    }
    out.push_str("    </properties>\n");
    out.push_str(&cases);
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// One test of a suite that is not a report (`warden test`'s cases): its name, file,
/// and, when it failed, the failure's message and body.
pub struct TestResult {
    pub name: String,
    pub file: String,
    pub failure: Option<(String, String)>,
}

/// The XML document of a suite of tests, named `suite`.
pub fn test_results(suite: &str, tests: &[TestResult]) -> String {
    let failures = tests.iter().filter(|t| t.failure.is_some()).count();
    let counts = format!(
        "tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\" time=\"0\"",
        tests.len()
    );
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(out, "<testsuites name=\"warden\" {counts}>");
    let _ = writeln!(out, "  <testsuite name=\"{}\" {counts}>", attribute(suite));
    for test in tests {
        let _ = write!(
            out,
            "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" time=\"0\"",
            attribute(&test.name),
            attribute(suite),
            attribute(&test.file)
        );
        match &test.failure {
            None => out.push_str("/>\n"),
            Some((message, body)) => {
                let _ = writeln!(
                    out,
                    ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>",
                    attribute(message),
                    text(body)
                );
            }
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// The element inside a rule's test case (`failure`, `error` or `skipped`), its
/// `type` (the outcome; `skipped` has none in the common JUnit schema), and its
/// message; `None` for a rule that passes.
fn outcome_element(rule: &RuleReport) -> Option<(&'static str, Option<&'static str>, String)> {
    let message = || {
        rule.message
            .clone()
            .unwrap_or_else(|| format!("rule `{}` is {}", rule.name, rule.outcome.as_str()))
    };
    Some(match rule.outcome {
        Outcome::Satisfied => return None,
        Outcome::NotApplicable => ("skipped", None, "did not apply".to_string()),
        Outcome::Overridden | Outcome::Exempted => ("skipped", None, ci::title(rule)),
        _ if rule.advisory => ("skipped", None, ci::title(rule)),
        Outcome::Pending => ("failure", Some("pending"), message()),
        Outcome::Violated => ("failure", Some("violated"), message()),
        Outcome::Error => (
            "error",
            Some("error"),
            rule.error
                .as_ref()
                .map_or_else(message, |e| e.message.clone()),
        ),
    })
}

/// Text content: `&`, `<` and `>` escaped, and characters XML 1.0 cannot hold
/// (control characters other than tab and line breaks, U+FFFE, U+FFFF) replaced.
fn text(value: &str) -> String {
    escape(value, false)
}

/// An attribute value in double quotes: as text, and `"`, `'`, tabs and line breaks
/// as references (a parser would turn them into spaces).
fn attribute(value: &str) -> String {
    escape(value, true)
}

fn escape(value: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\'' if attribute => out.push_str("&apos;"),
            '\t' | '\n' | '\r' if attribute => {
                let _ = write!(out, "&#{};", u32::from(c));
            }
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_characters_xml_cannot_hold_are_escaped() {
        assert_eq!(
            text("a < b && c > d\u{1b}[0m"),
            "a &lt; b &amp;&amp; c &gt; d\u{FFFD}[0m"
        );
        assert_eq!(
            attribute("say \"hi\"\n'x'"),
            "say &quot;hi&quot;&#10;&apos;x&apos;"
        );
    }
}
