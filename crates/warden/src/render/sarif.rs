//! SARIF 2.1.0 (OASIS), the format code scanning reads. One run; its tool's rules are
//! the policy's rules (or, for `warden check`, the diagnostic codes that occur), and
//! one result per rule that needs attention (per diagnostic). A result points at the
//! changed file a witness names, with the rule in the policy as a related location,
//! or else at the policy. A rule set aside by an override or exemption is a result
//! with an accepted external suppression that says why. No timestamps, no GUIDs: the
//! same report gives the same log.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::ci::{self, Level, Place};
use crate::Analysis;
use crate::report::{Outcome, Report, RuleReport};
use warden_syntax::Code;

/// The schema a log names in `$schema`.
pub const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The log of a report; `policy_dir` is the policy's directory relative to the
/// repository's root.
pub fn report(report: &Report, policy_dir: &str) -> String {
    let rules: Vec<Value> = report.rules.iter().map(descriptor).collect();
    let results: Vec<Value> = ci::findings(report, policy_dir)
        .iter()
        .map(|finding| {
            let mut result = json!({
                "ruleId": &*finding.rule.name,
                "ruleIndex": finding.index,
                "level": level(finding.level),
                "message": { "text": finding.message() },
                "properties": { "outcome": finding.rule.outcome.as_str() },
            });
            if let Some(place) = finding.place() {
                result["locations"] = json!([location(&place)]);
            }
            if finding.file.is_some()
                && let Some(policy) = &finding.policy
            {
                let mut related = location(policy);
                related["id"] = json!(0);
                related["message"] = json!({ "text": format!("rule `{}`", finding.rule.name) });
                result["relatedLocations"] = json!([related]);
            }
            if let Some(justification) = suppression(finding.rule) {
                result["suppressions"] = json!([{
                    "kind": "external",
                    "status": "accepted",
                    "justification": justification,
                }]);
            }
            result
        })
        .collect();
    let properties = json!({
        "verdict": report.verdict.as_str(),
        "change": {
            "id": report.change.id,
            "kind": report.change.kind,
            "title": report.change.title,
        },
    });
    log(rules, results, properties)
}

/// The log of a policy's diagnostics.
pub fn diagnostics(analysis: &Analysis, policy_dir: &str) -> String {
    // The rules by name, so `ruleIndex` is a binary search.
    let codes: Vec<Code> = analysis
        .diagnostics
        .iter()
        .map(|d| (d.code.as_str(), d.code))
        .collect::<BTreeMap<_, _>>()
        .into_values()
        .collect();
    let rules = codes
        .iter()
        .map(|code| {
            json!({
                "id": code,
                "shortDescription": { "text": format!("warden check: {code}") },
                "fullDescription": { "text": code.meaning() },
            })
        })
        .collect();
    let results = ci::located(analysis, policy_dir)
        .iter()
        .map(|located| {
            let code = located.diagnostic.code;
            let mut result = json!({
                "ruleId": code,
                "ruleIndex": codes.binary_search_by_key(&code.as_str(), |c| c.as_str()).unwrap_or_default(),
                "level": level(located.level()),
                "message": { "text": located.text() },
            });
            if let Some(place) = &located.place {
                result["locations"] = json!([location(place)]);
            }
            result
        })
        .collect();
    let errors = analysis.diagnostics.iter().filter(|d| d.is_error()).count();
    log(rules, results, json!({ "errors": errors }))
}

/// The log around one run of Warden.
fn log(rules: Vec<Value>, results: Vec<Value>, properties: Value) -> String {
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "warden",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                },
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
            "properties": properties,
        }],
    });
    serde_json::to_string_pretty(&log).map_or_else(
        |e| format!("{{\"error\": \"{e}\"}}\n"),
        |mut s| {
            s.push('\n');
            s
        },
    )
}

/// A policy rule as a SARIF reporting descriptor.
fn descriptor(rule: &RuleReport) -> Value {
    let short = rule
        .doc
        .as_deref()
        .and_then(|doc| doc.lines().next())
        .filter(|line| !line.trim().is_empty())
        .map_or_else(|| format!("rule `{}`", rule.name), str::to_string);
    let mut descriptor = json!({
        "id": &*rule.name,
        "shortDescription": { "text": short },
        "defaultConfiguration": { "level": if rule.advisory { "note" } else { "error" } },
        "properties": { "advisory": rule.advisory, "location": &*rule.location },
    });
    if let Some(doc) = &rule.doc {
        descriptor["fullDescription"] = json!({ "text": &**doc });
    }
    descriptor
}

fn level(level: Level) -> &'static str {
    match level {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Note => "note",
    }
}

/// Why a rule was set aside, for its suppression.
fn suppression(rule: &RuleReport) -> Option<String> {
    match rule.outcome {
        Outcome::Overridden => Some(rule.overridden_by.as_ref().map_or_else(
            || "overridden".to_string(),
            |by| {
                let incident = by
                    .incident
                    .as_deref()
                    .map(|i| format!(" for {i}"))
                    .unwrap_or_default();
                format!("overridden by {}{incident}: {}", by.by, by.reason)
            },
        )),
        Outcome::Exempted => Some(format!(
            "exempted by {}",
            rule.exempted_by.as_deref().unwrap_or("an exemption")
        )),
        _ => None,
    }
}

/// A physical location. Code scanning wants a line: a changed file, which has none
/// here, is shown from its first.
fn location(place: &Place) -> Value {
    let (line, column) = place.start.unwrap_or((1, 1));
    let mut region = json!({ "startLine": line, "startColumn": column });
    if let Some((end_line, end_column)) = place.end {
        region["endLine"] = json!(end_line);
        region["endColumn"] = json!(end_column);
    }
    json!({
        "physicalLocation": {
            "artifactLocation": { "uri": uri(&place.path) },
            "region": region,
        },
    })
}

/// A relative path as a URI reference: every byte but letters, digits, `-._~` and `/`
/// percent-encoded (a space, `%`, `#`, `?` or `:` in a path would otherwise change
/// what the reference means). The language server encodes paths the same way, as VS
/// Code does.
pub fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(uri("src/a b#1:é.rs"), "src/a%20b%231%3A%C3%A9.rs");
    }
}
