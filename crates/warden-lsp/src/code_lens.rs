//! `textDocument/codeLens`: above each rule, its outcomes on the policy's `warden
//! test` cases, and at the top of the file the suite's totals; every lens runs
//! the [`RUN_TESTS`] command, which runs the cases again.
//!
//! The cases are run by the library's runner ([`warden::testing::run_case`]), never on
//! a keystroke: when a lens is first asked for, after a save, and by the command. The
//! server keeps only the [`TestResults`] summary (the case names, each rule's outcome,
//! where a case's expectation failed), not the reports.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use lsp_types::{CodeLens, Command, Uri};
use warden::SourceText;
use warden::testing::{self, CaseRun};
use warden_syntax::ast::Item;
use warden_syntax::{FileId, RuleBodies};

use crate::position::LineIndex;

/// The command the lenses run: run the cases of the policy of the document given as
/// its argument (of every open document's policy without one).
pub const RUN_TESTS: &str = "warden.runTests";

/// What a run of a suite left: each case's summary, or why the cases could not run.
#[derive(Debug, Clone)]
pub struct TestResults {
    /// The cases directory.
    pub cases: PathBuf,
    pub outcome: Result<Vec<CaseSummary>, String>,
}

/// One case, run.
#[derive(Debug, Clone)]
pub struct CaseSummary {
    pub name: String,
    /// Rule name → its outcome in this case.
    pub outcomes: BTreeMap<String, &'static str>,
    /// Where the case's expectation did not hold (`verdict`, `rules.NAME`,
    /// `missing_approvals.RULE.GROUP`).
    pub differences: Vec<String>,
}

impl CaseSummary {
    fn new(run: &CaseRun) -> CaseSummary {
        CaseSummary {
            name: run.name.clone(),
            outcomes: (run.report.rules.iter())
                .map(|rule| (rule.name.to_string(), rule.outcome.as_str()))
                .collect(),
            differences: run.differences.iter().map(|d| d.at.clone()).collect(),
        }
    }

    /// Whether an expectation about `rule` failed in this case.
    fn fails_on(&self, rule: &str) -> bool {
        self.differences.iter().any(|at| {
            at.strip_prefix("rules.") == Some(rule)
                || (at.strip_prefix("missing_approvals."))
                    .and_then(|rest| rest.strip_prefix(rule))
                    .is_some_and(|rest| rest.starts_with('.'))
        })
    }
}

/// The cases directory of a policy rooted at `root`, as `warden test DIR` finds it:
/// `DIR/cases`, for the nearest `DIR` from `root` up to the first directory `is_top`
/// accepts (the workspace folder or repository root) that has one — so
/// `examples/acme/policy/*.warden` finds `examples/acme/cases`.
pub fn find_cases(root: &Path, is_top: impl Fn(&Path) -> bool) -> Option<PathBuf> {
    for dir in root.ancestors() {
        let cases = dir.join("cases");
        if cases.is_dir() {
            return Some(cases);
        }
        if is_top(dir) {
            break;
        }
    }
    None
}

/// Runs every case of `cases` against the policy of `sources`, as `warden test` does
/// (the same loading, the same runner).
pub fn run_tests(sources: &[SourceText], cases: &Path) -> TestResults {
    let outcome = warden::compile(sources)
        .map_err(|analysis| {
            let errors = (analysis.diagnostics.iter())
                .filter(|d| d.severity == warden_syntax::Severity::Error)
                .count();
            format!("the policy does not check ({errors} error(s)): fix it to run its cases")
        })
        .and_then(|policy| {
            let suite = testing::Suite {
                policy: PathBuf::new(),
                cases: cases.to_path_buf(),
            };
            let files = suite.case_files().map_err(|e| e.to_string())?;
            (files.iter())
                .map(|path| {
                    testing::run_case(&policy, path, None)
                        .map(|run| CaseSummary::new(&run))
                        .map_err(|e| format!("case `{}`: {e}", testing::case_name(path)))
                })
                .collect()
        });
    TestResults {
        cases: cases.to_path_buf(),
        outcome,
    }
}

/// The totals of a run: `12 cases: 11 pass, 1 fail`.
pub fn summary(results: &TestResults) -> String {
    match &results.outcome {
        Ok(cases) => {
            let failed = cases.iter().filter(|c| !c.differences.is_empty()).count();
            format!(
                "{} case(s): {} pass, {failed} fail",
                cases.len(),
                cases.len() - failed
            )
        }
        Err(error) => format!("cases not run: {error}"),
    }
}

/// The lenses of a document: the suite's totals at its top, and each rule's outcomes
/// above the rule.
pub fn code_lenses(text: &str, uri: &Uri, results: &TestResults) -> Vec<CodeLens> {
    // Only the rules' names are read.
    let (module, _) = warden_syntax::parse_for(text, FileId(0), RuleBodies::Outlined);
    let lines = LineIndex::new(text);
    let command = |title: String| Command {
        title,
        command: RUN_TESTS.to_string(),
        arguments: Some(vec![serde_json::Value::String(uri.as_str().to_string())]),
    };
    let top = lsp_types::Position::new(0, 0);
    let mut lenses = vec![CodeLens {
        range: lsp_types::Range::new(top, top),
        command: Some(command(format!("warden test: {}", summary(results)))),
        data: None,
    }];
    let Ok(cases) = &results.outcome else {
        return lenses;
    };
    for item in &module.items {
        let Item::RuleOutline(rule) = item else {
            continue;
        };
        lenses.push(CodeLens {
            range: lines.range(rule.name.span),
            command: Some(command(rule_title(&rule.name.name, cases))),
            data: None,
        });
    }
    lenses
}

/// `3 cases: 2 pass, 1 fail · satisfied 2, pending 1`: whether the cases'
/// expectations about the rule held, and the outcomes it had.
fn rule_title(rule: &str, cases: &[CaseSummary]) -> String {
    let mut outcomes: BTreeMap<&str, usize> = BTreeMap::new();
    for case in cases {
        if let Some(outcome) = case.outcomes.get(rule) {
            *outcomes.entry(outcome).or_default() += 1;
        }
    }
    if outcomes.is_empty() {
        return "not in the last test run: save to run the cases again".to_string();
    }
    let failing: Vec<&str> = (cases.iter())
        .filter(|case| case.fails_on(rule))
        .map(|case| case.name.as_str())
        .collect();
    let outcomes = (outcomes.iter())
        .map(|(outcome, count)| format!("{outcome} {count}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut title = format!(
        "{} case(s): {} pass, {} fail · {outcomes}",
        cases.len(),
        cases.len() - failing.len(),
        failing.len()
    );
    if !failing.is_empty() {
        title.push_str(&format!(" · failing: {}", failing.join(", ")));
    }
    title
}
