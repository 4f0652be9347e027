//! GitHub Actions workflow commands: `::error file=…,line=…,title=…::message`, one
//! annotation per rule that needs attention (or per policy diagnostic), then a plain
//! line with the verdict. Values are escaped as the runner reads them back (the
//! `escapeData` and `escapeProperty` of actions/toolkit's `command.ts`), so a newline
//! or a `::` in a message cannot end the command or start another.

use std::fmt::Write as _;

use super::ci::{self, Level, Place};
use super::summary_line;
use crate::Analysis;
use crate::report::Report;

/// The annotations of a report; `policy_dir` is the policy's directory relative to the
/// repository's root, so that annotations on the policy point at its files.
pub fn report(report: &Report, policy_dir: &str) -> String {
    let mut out = String::new();
    let findings = ci::findings(report, policy_dir);
    for finding in &findings {
        command(
            &mut out,
            finding.level,
            finding.place().as_ref(),
            &finding.title(),
            &finding.message(),
        );
    }
    let _ = writeln!(
        out,
        "warden: {} — {}",
        report.verdict.as_str(),
        ci::counts(report)
    );
    out
}

/// The annotations of a policy's diagnostics, then the count of errors and warnings.
pub fn diagnostics(analysis: &Analysis, policy_dir: &str) -> String {
    let mut out = String::new();
    for located in ci::located(analysis, policy_dir) {
        command(
            &mut out,
            located.level(),
            located.place.as_ref(),
            &format!("warden {}", located.diagnostic.code),
            &located.text(),
        );
    }
    let errors = analysis.diagnostics.iter().filter(|d| d.is_error()).count();
    let _ = writeln!(
        out,
        "{}",
        summary_line(errors, analysis.diagnostics.len() - errors)
    );
    out
}

/// One workflow command on one line.
fn command(out: &mut String, level: Level, place: Option<&Place>, title: &str, message: &str) {
    out.push_str(match level {
        Level::Error => "::error ",
        Level::Warning => "::warning ",
        Level::Note => "::notice ",
    });
    if let Some(place) = place {
        let _ = write!(out, "file={},", escape_property(&place.path));
        if let Some((line, column)) = place.start {
            let _ = write!(out, "line={line},col={column},");
        }
        if let Some((line, column)) = place.end {
            let _ = write!(out, "endLine={line},endColumn={column},");
        }
    }
    let _ = writeln!(
        out,
        "title={}::{}",
        escape_property(title),
        escape_data(message)
    );
}

/// The message of a command: `%`, CR and LF percent-encoded.
fn escape_data(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
    out
}

/// A property value: as data, and `:` and `,` too (they separate properties).
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_and_properties_are_escaped_as_the_runner_reads_them() {
        assert_eq!(
            escape_data("50% done\r\nnext::x"),
            "50%25 done%0D%0Anext::x"
        );
        assert_eq!(escape_property("a,b: 10%\n"), "a%2Cb%3A 10%25%0A");
    }
}
