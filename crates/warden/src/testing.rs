//! `warden test`: test cases kept as data beside a policy, run against it, with branch
//! coverage. A case (`warden.case`, `schema/case.schema.json`, `docs/testing.md`) names
//! a change — inline or a file —, fact files, the expected verdict and the expected
//! outcomes of some rules (optionally the approvals still missing). The CLI and the
//! corpus test run cases through the same functions.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use warden_change::UnknownFields;
use warden_check::ir::{ApprovalReq, ApproverSource, Demand, Expr, Template, TemplatePart};
use warden_eval::coverage::{BranchKind, BranchPoint, branch_points};
use warden_eval::{Coverage, LAST_PUSH_RULE};

use crate::{LoadError, Options, Outcome, Policy, Report, Verdict};

/// One test case, as its file holds it. Keys are written in this order.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "A Warden test case (`warden test`)")]
pub struct Case {
    /// What the case shows, for people.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Fact files merged into the change, in order, relative to the case file.
    #[serde(default)]
    pub facts: Vec<String>,
    pub expect: Expect,
    /// The change: a change description (`warden.change/v1`) inline, or the path of a
    /// change file relative to the case file. Kept as written when `--update` rewrites
    /// the case.
    #[schemars(with = "CaseChange")]
    pub change: Box<RawValue>,
}

/// A change, by path or inline.
#[derive(JsonSchema)]
#[serde(untagged)]
#[expect(dead_code, reason = "only its schema is used")]
enum CaseChange {
    /// The path of a change file, relative to the case file.
    File(String),
    /// A change description (`warden.change/v1`, `schema/change.schema.json`).
    Inline(serde_json::Map<String, serde_json::Value>),
}

/// What the case expects.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub verdict: Verdict,
    /// Rule name → outcome. Only the rules listed are checked.
    #[serde(default)]
    pub rules: BTreeMap<String, Outcome>,
    /// Rule name → approver group (as the report names it, e.g. ``team `checkout` ``)
    /// → approvals still missing. For each rule listed, every group still missing
    /// approvals must be listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing_approvals: Option<BTreeMap<String, BTreeMap<String, u32>>>,
}

/// The JSON Schema of a test case (`schema/case.schema.json`).
pub fn case_schema() -> schemars::Schema {
    schemars::schema_for!(Case)
}

/// Where a suite's policy and cases are.
#[derive(Debug, Clone)]
pub struct Suite {
    /// The policy file or directory.
    pub policy: PathBuf,
    /// The directory of `*.json` cases.
    pub cases: PathBuf,
}

impl Suite {
    /// The layout `warden test DIR` expects: the policy is `DIR` (every `.warden` file
    /// below it, as for `warden check DIR`), the cases are `DIR/cases/*.json`; for a
    /// policy file, the `cases` directory beside it.
    pub fn locate(dir: &Path, policy: Option<PathBuf>, cases: Option<PathBuf>) -> Suite {
        let base = if dir.is_file() {
            dir.parent().unwrap_or(Path::new("."))
        } else {
            dir
        };
        Suite {
            cases: cases.unwrap_or_else(|| base.join("cases")),
            policy: policy.unwrap_or_else(|| dir.to_path_buf()),
        }
    }

    /// The case files, `*.json` directly in the cases directory, sorted by name.
    pub fn case_files(&self) -> Result<Vec<PathBuf>, LoadError> {
        let io = |error: std::io::Error| LoadError::Io {
            path: self.cases.clone(),
            message: if error.kind() == std::io::ErrorKind::NotFound {
                format!(
                    "{error}: `warden test DIR` runs the cases `DIR/cases/*.json`; name another directory with `--cases`"
                )
            } else {
                error.to_string()
            },
        };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&self.cases).map_err(io)? {
            let path = entry.map_err(io)?.path();
            if path.extension().is_some_and(|e| e == "json") && path.is_file() {
                files.push(path);
            }
        }
        files.sort();
        if files.is_empty() {
            return Err(LoadError::Io {
                path: self.cases.clone(),
                message: "the directory holds no `*.json` test case".to_string(),
            });
        }
        Ok(files)
    }
}

/// The name of a case: its file name without `.json`.
pub fn case_name(path: &Path) -> String {
    path.file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned())
}

/// Reads and parses a case file.
pub fn read_case(path: &Path) -> Result<Case, LoadError> {
    let text = crate::read(path)?;
    warden_sources::read::json_text(&path.display().to_string(), &text)
        .map_err(|error| LoadError::Case(error.to_string()))
}

/// One expectation that did not hold: where in `expect` (`verdict`, `rules.NAME`,
/// `missing_approvals.RULE.GROUP`), what the case expects and what the evaluation gave.
#[derive(Debug, Clone, Serialize)]
pub struct Difference {
    pub at: String,
    pub expected: String,
    pub actual: String,
    /// The rule's message, when a rule's outcome differs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A case, run.
#[derive(Debug, Clone)]
pub struct CaseRun {
    pub name: String,
    pub path: PathBuf,
    pub case: Case,
    pub report: Report,
    pub differences: Vec<Difference>,
}

impl CaseRun {
    pub fn passed(&self) -> bool {
        self.differences.is_empty()
    }
}

/// Reads a case and evaluates its change against the policy (strict about unknown
/// fields, default budget, no digests), adding to `coverage` when given.
pub fn run_case(
    policy: &Policy,
    path: &Path,
    coverage: Option<&mut Coverage>,
) -> Result<CaseRun, LoadError> {
    let case = read_case(path)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let facts = case
        .facts
        .iter()
        .map(|fact| Ok((fact.clone(), crate::read(&dir.join(fact))?)))
        .collect::<Result<Vec<_>, LoadError>>()?;
    let (change_name, change_text) = match serde_json::from_str::<String>(case.change.get()) {
        Ok(file) => (file.clone(), crate::read(&dir.join(&file))?),
        Err(_) => (
            format!("{} (change)", path.display()),
            case.change.get().to_string(),
        ),
    };
    let input = crate::read_input(&change_name, &change_text, &facts, UnknownFields::Reject)?;
    let report = warden_eval::evaluate_covered(
        &policy.compiled,
        input.change(),
        Options::default(),
        coverage,
    );
    let differences = differences(&case.expect, &report);
    Ok(CaseRun {
        name: case_name(path),
        path: path.to_path_buf(),
        case,
        report,
        differences,
    })
}

/// Approvals still missing, by rule and group (groups with none missing left out).
fn missing_approvals(report: &Report) -> BTreeMap<String, BTreeMap<String, u32>> {
    let mut missing: BTreeMap<String, BTreeMap<String, u32>> = BTreeMap::new();
    for rule in &report.rules {
        for group in rule.requirements.iter().flat_map(|r| &r.groups) {
            if group.missing > 0 {
                *missing
                    .entry(rule.name.to_string())
                    .or_default()
                    .entry(group.from.clone())
                    .or_default() += group.missing;
            }
        }
    }
    missing
}

/// What differs between the expectation and the report, in the expectation's order.
pub fn differences(expect: &Expect, report: &Report) -> Vec<Difference> {
    let mut out = Vec::new();
    if expect.verdict != report.verdict {
        out.push(Difference {
            at: "verdict".to_string(),
            expected: expect.verdict.as_str().to_string(),
            actual: report.verdict.as_str().to_string(),
            message: None,
        });
    }
    for (name, expected) in &expect.rules {
        let rule = report.rules.iter().find(|r| *r.name == **name);
        let actual = rule.map_or("no such rule", |r| r.outcome.as_str());
        if actual != expected.as_str() {
            out.push(Difference {
                at: format!("rules.{name}"),
                expected: expected.as_str().to_string(),
                actual: actual.to_string(),
                message: rule.and_then(|r| r.message.clone()),
            });
        }
    }
    if let Some(expected) = &expect.missing_approvals {
        let actual = missing_approvals(report);
        for (rule, groups) in expected {
            let got = actual.get(rule);
            let names: BTreeSet<&String> = groups
                .keys()
                .chain(got.into_iter().flat_map(|g| g.keys()))
                .collect();
            for group in names {
                let want = groups.get(group).copied().unwrap_or(0);
                let have = got.and_then(|g| g.get(group)).copied().unwrap_or(0);
                if want != have {
                    out.push(Difference {
                        at: format!("missing_approvals.{rule}.{group}"),
                        expected: want.to_string(),
                        actual: have.to_string(),
                        message: None,
                    });
                }
            }
        }
    }
    out
}

/// The case with its expectation set to what the evaluation gave (`--update`): the
/// verdict; the rules it lists, plus every non-advisory rule that applied; and, when
/// the case has `missing_approvals`, every rule's missing approvals. The rest of the
/// case is kept as written.
pub fn updated_case(run: &CaseRun) -> Case {
    let mut case = run.case.clone();
    let report = &run.report;
    case.expect.verdict = report.verdict;
    let listed: BTreeSet<String> = case.expect.rules.keys().cloned().collect();
    case.expect.rules = report
        .rules
        .iter()
        .filter(|r| {
            listed.contains(&*r.name) || (!r.advisory && r.outcome != Outcome::NotApplicable)
        })
        .map(|r| (r.name.to_string(), r.outcome))
        .collect();
    if case.expect.missing_approvals.is_some() {
        case.expect.missing_approvals = Some(missing_approvals(report));
    }
    case
}

/// A case as its file holds it: pretty-printed JSON with a final newline, keys in a
/// defined order (see [`Case`]).
pub fn case_json(case: &Case) -> Result<String, LoadError> {
    serde_json::to_string_pretty(case)
        .map(|mut text| {
            text.push('\n');
            text
        })
        .map_err(|error| LoadError::Internal(format!("cannot serialize the case: {error}")))
}

/// Branch and outcome coverage of a policy's rules, exemptions, overrides and
/// definitions over the cases run.
#[derive(Debug, Clone, Serialize)]
pub struct CoverageReport {
    pub covered: usize,
    pub total: usize,
    pub percent: f64,
    pub items: Vec<ItemCoverage>,
}

/// The coverage of one rule, exemption, override clause, function or `let`.
#[derive(Debug, Clone, Serialize)]
pub struct ItemCoverage {
    /// `rule`, `exemption`, `override` (a rule's `overridable` clause), `fn` or `let`.
    pub kind: &'static str,
    pub name: String,
    pub location: String,
    /// Each outcome the item can have, and whether a case gave it.
    pub outcomes: Vec<Seen>,
    pub branches: Vec<BranchCoverage>,
    pub covered: usize,
    pub total: usize,
    pub percent: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Seen {
    pub outcome: String,
    pub seen: bool,
}

/// One branch point: where, what it is, and which of its two branches ran.
#[derive(Debug, Clone, Serialize)]
pub struct BranchCoverage {
    pub location: String,
    /// `and`, `or`, `if`, `any`, `all` or `none`.
    pub kind: &'static str,
    /// The operand, condition or quantifier as written (whitespace collapsed).
    pub expression: String,
    pub taken: Vec<&'static str>,
    pub missed: Vec<&'static str>,
}

fn percent(covered: usize, total: usize) -> f64 {
    if total == 0 {
        100.0
    } else {
        // Rounded to a tenth, so the JSON is stable.
        ((covered * 1000) as f64 / total as f64).round() / 10.0
    }
}

fn kind_name(kind: BranchKind) -> &'static str {
    match kind {
        BranchKind::And => "and",
        BranchKind::Or => "or",
        BranchKind::If => "if",
        BranchKind::Any => "any",
        BranchKind::All => "all",
        BranchKind::None => "none",
    }
}

/// The coverage of the policy's own files (the standard library left out) given the
/// branches recorded and the reports of the cases run.
pub fn coverage<'r>(
    policy: &Policy,
    recorded: &Coverage,
    reports: impl IntoIterator<Item = &'r Report>,
) -> CoverageReport {
    let program = &policy.compiled.program;
    let own = |file: warden_syntax::FileId| {
        policy
            .analysis
            .files
            .get(file.0 as usize)
            .is_some_and(|f| !f.std)
    };
    let branches = |exprs: &mut dyn Iterator<Item = &Expr>| {
        let mut points = Vec::new();
        for expr in exprs {
            branch_points(expr, &mut points);
        }
        let mut seen = BTreeSet::new();
        points.retain(|p: &BranchPoint| seen.insert(*p));
        points
            .into_iter()
            .map(|point| {
                let (mut taken, mut missed) = (Vec::new(), Vec::new());
                for value in [true, false] {
                    let label = point.kind.label(value);
                    if recorded.took(&point, value) {
                        taken.push(label);
                    } else {
                        missed.push(label);
                    }
                }
                let span = warden_syntax::Span::new(point.start, point.end);
                BranchCoverage {
                    location: program.location(point.file, span).to_string(),
                    kind: kind_name(point.kind),
                    expression: program
                        .snippet(point.file, span)
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" "),
                    taken,
                    missed,
                }
            })
            .collect::<Vec<_>>()
    };
    // Outcomes seen, by rule or exemption name, and by `override RULE`.
    let mut outcomes_seen: BTreeMap<String, BTreeSet<&'static str>> = BTreeMap::new();
    let mut saw = |key: String, outcome: &'static str| {
        outcomes_seen.entry(key).or_default().insert(outcome);
    };
    for report in reports {
        for rule in &report.rules {
            saw(rule.name.to_string(), rule.outcome.as_str());
        }
        for exemption in &report.exemptions {
            let outcome = if exemption.applied {
                "applied"
            } else {
                "not applied"
            };
            saw(exemption.name.clone(), outcome);
        }
        for entry in &report.overrides {
            for rule in &entry.applied_to {
                saw(override_key(rule), "accepted");
            }
            for rejection in &entry.rejected {
                saw(override_key(&rejection.rule), "rejected");
            }
        }
    }
    let seen = |key: &str, possible: &[&str]| -> Vec<Seen> {
        possible
            .iter()
            .map(|outcome| Seen {
                outcome: (*outcome).to_string(),
                seen: outcomes_seen.get(key).is_some_and(|s| s.contains(outcome)),
            })
            .collect()
    };
    let mut items = Vec::new();
    let exempted: BTreeSet<usize> = program
        .exemptions
        .iter()
        .flat_map(|e| e.rules.iter().copied())
        .collect();
    for (index, rule) in program.rules.iter().enumerate() {
        let mut possible = Vec::new();
        if rule.when.is_some() {
            possible.push(Outcome::NotApplicable);
        }
        let unconditional_deny = rule
            .demands
            .iter()
            .any(|d| matches!(d, Demand::Deny { unless: None, .. }));
        if !unconditional_deny {
            possible.push(Outcome::Satisfied);
        }
        if exempted.contains(&index) {
            possible.push(Outcome::Exempted);
        }
        let can_pend = rule
            .demands
            .iter()
            .any(|d| !matches!(d, Demand::Deny { .. }));
        let can_violate = rule
            .demands
            .iter()
            .any(|d| matches!(d, Demand::Deny { .. }));
        if rule.overridable.is_some() && (can_pend || can_violate) {
            possible.push(Outcome::Overridden);
        }
        if can_pend {
            possible.push(Outcome::Pending);
        }
        if can_violate {
            possible.push(Outcome::Violated);
        }
        let possible: Vec<&str> = possible.iter().map(|o| o.as_str()).collect();
        let mut exprs = rule
            .lets
            .iter()
            .map(|(_, e)| e)
            .chain(&rule.when)
            .chain(rule.demands.iter().flat_map(demand_exprs))
            .chain(rule.message.iter().flat_map(holes));
        items.push(item(
            "rule",
            &rule.name,
            rule.location.to_string(),
            seen(&rule.name, &possible),
            branches(&mut exprs),
        ));
        if let Some(clause) = &rule.overridable {
            let mut exprs = std::iter::once(&clause.by).chain(&clause.conditions);
            items.push(item(
                "override",
                &rule.name,
                rule.location.to_string(),
                seen(&override_key(&rule.name), &["accepted", "rejected"]),
                branches(&mut exprs),
            ));
        }
    }
    if program.settings.approval_after_last_push.is_some() {
        let mut possible = vec!["not_applicable", "satisfied", "pending"];
        if program.settings.default_override.is_some() {
            possible.insert(2, "overridden");
        }
        items.push(item(
            "rule",
            LAST_PUSH_RULE,
            "policy".to_string(),
            seen(LAST_PUSH_RULE, &possible),
            Vec::new(),
        ));
    }
    for exemption in &program.exemptions {
        let mut exprs = exemption
            .lets
            .iter()
            .map(|(_, e)| e)
            .chain(std::iter::once(&exemption.when));
        items.push(item(
            "exemption",
            &exemption.name,
            exemption.location.to_string(),
            seen(&exemption.name, &["applied", "not applied"]),
            branches(&mut exprs),
        ));
    }
    for function in program.functions.iter().filter(|f| own(f.file)) {
        let mut exprs = function
            .lets
            .iter()
            .map(|(_, e)| e)
            .chain(std::iter::once(&function.body));
        let points = branches(&mut exprs);
        if !points.is_empty() {
            let location = program
                .location(function.file, function.body.span)
                .to_string();
            items.push(item("fn", &function.name, location, Vec::new(), points));
        }
    }
    for global in program.globals.iter().filter(|g| own(g.file)) {
        let points = branches(&mut std::iter::once(&global.value));
        if !points.is_empty() {
            let location = program.location(global.file, global.value.span).to_string();
            items.push(item("let", &global.name, location, Vec::new(), points));
        }
    }
    let covered = items.iter().map(|i| i.covered).sum();
    let total = items.iter().map(|i| i.total).sum();
    CoverageReport {
        covered,
        total,
        percent: percent(covered, total),
        items,
    }
}

/// Overrides are counted under a key of their own, beside the rule's outcomes.
fn override_key(rule: &str) -> String {
    format!("override {rule}")
}

/// The expressions in a message template's holes.
fn holes(template: &Template) -> impl Iterator<Item = &Expr> {
    template.parts.iter().filter_map(|part| match part {
        TemplatePart::Hole(expr) => Some(expr),
        TemplatePart::Text(_) => None,
    })
}

/// The expressions of a demand: its condition or approver set and `where`, and its
/// message's holes.
fn demand_exprs(demand: &Demand) -> Vec<&Expr> {
    fn approval(req: &ApprovalReq) -> Vec<&Expr> {
        let source = match &req.source {
            ApproverSource::Set(e) | ApproverSource::EachTeam(e) | ApproverSource::EachUser(e) => e,
        };
        std::iter::once(source).chain(&req.condition).collect()
    }
    match demand {
        Demand::Deny {
            unless, message, ..
        } => unless
            .iter()
            .flat_map(|req| approval(req))
            .chain(holes(message))
            .collect(),
        Demand::Approval(req) => approval(req),
        Demand::Condition {
            condition, message, ..
        } => std::iter::once(condition).chain(holes(message)).collect(),
    }
}

fn item(
    kind: &'static str,
    name: &str,
    location: String,
    outcomes: Vec<Seen>,
    branches: Vec<BranchCoverage>,
) -> ItemCoverage {
    let covered = outcomes.iter().filter(|o| o.seen).count()
        + branches.iter().map(|b| b.taken.len()).sum::<usize>();
    let total = outcomes.len() + branches.len() * 2;
    ItemCoverage {
        kind,
        name: name.to_string(),
        location,
        outcomes,
        branches,
        covered,
        total,
        percent: percent(covered, total),
    }
}

/// The human rendering of a run: a line per case, what differed under each failed
/// case, and the totals (`N passed, N failed`).
pub fn render_runs(runs: &[CaseRun]) -> String {
    let mut out = String::new();
    for run in runs {
        if run.passed() {
            let _ = writeln!(out, "PASS {}", run.name);
            continue;
        }
        let _ = writeln!(out, "FAIL {} ({})", run.name, run.path.display());
        out.push_str(&render_differences(&run.differences));
    }
    let failed = runs.iter().filter(|r| !r.passed()).count();
    let _ = writeln!(out, "{} passed, {failed} failed", runs.len() - failed);
    out
}

/// What differed, as a diff: `-` the expectation, `+` what the evaluation gave.
pub fn render_differences(differences: &[Difference]) -> String {
    let mut out = String::new();
    for difference in differences {
        let _ = writeln!(out, "  {}", difference.at);
        let _ = writeln!(out, "    - expected: {}", difference.expected);
        let _ = writeln!(out, "    + actual:   {}", difference.actual);
        if let Some(message) = &difference.message {
            let _ = writeln!(out, "      ({message})");
        }
    }
    out
}

/// The coverage summary; with `detail`, every item and what it missed.
pub fn render_coverage(coverage: &CoverageReport, detail: bool) -> String {
    let mut out = format!(
        "coverage: {:.1}% ({} of {} outcomes and branches)\n",
        coverage.percent, coverage.covered, coverage.total
    );
    if !detail {
        return out;
    }
    for item in &coverage.items {
        let _ = writeln!(
            out,
            "  {} {} ({}): {:.1}% ({} of {})",
            item.kind, item.name, item.location, item.percent, item.covered, item.total
        );
        let missed: Vec<&str> = item
            .outcomes
            .iter()
            .filter(|o| !o.seen)
            .map(|o| o.outcome.as_str())
            .collect();
        if !missed.is_empty() {
            let _ = writeln!(out, "    outcome never seen: {}", missed.join(", "));
        }
        for branch in item.branches.iter().filter(|b| !b.missed.is_empty()) {
            let _ = writeln!(
                out,
                "    {} `{}` at {}: never {}",
                branch.kind,
                branch.expression,
                branch.location,
                branch.missed.join(", never ")
            );
        }
    }
    out
}

/// The JSON result of a run (`warden.test/v1`, `docs/testing.md`).
pub fn runs_json(runs: &[CaseRun], coverage: Option<&CoverageReport>) -> String {
    #[derive(Serialize)]
    struct Results<'r> {
        schema: &'static str,
        passed: usize,
        failed: usize,
        cases: Vec<CaseResult<'r>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        coverage: Option<&'r CoverageReport>,
    }
    #[derive(Serialize)]
    struct CaseResult<'r> {
        name: &'r str,
        file: String,
        description: &'r str,
        passed: bool,
        verdict: &'static str,
        differences: &'r [Difference],
    }
    let failed = runs.iter().filter(|r| !r.passed()).count();
    let results = Results {
        schema: "warden.test/v1",
        passed: runs.len() - failed,
        failed,
        cases: runs
            .iter()
            .map(|run| CaseResult {
                name: &run.name,
                file: run.path.display().to_string(),
                description: &run.case.description,
                passed: run.passed(),
                verdict: run.report.verdict.as_str(),
                differences: &run.differences,
            })
            .collect(),
        coverage,
    };
    match serde_json::to_string_pretty(&results) {
        Ok(mut json) => {
            json.push('\n');
            json
        }
        Err(error) => format!("{{\"error\": \"{error}\"}}\n"),
    }
}

/// The JUnit XML result of a run: one test case per case, a failure holding the diff.
pub fn runs_junit(runs: &[CaseRun]) -> String {
    let results: Vec<crate::render::junit::TestResult> = runs
        .iter()
        .map(|run| crate::render::junit::TestResult {
            name: run.name.clone(),
            file: run.path.display().to_string(),
            failure: (!run.passed()).then(|| {
                (
                    format!("{} expectation(s) differ", run.differences.len()),
                    render_differences(&run.differences),
                )
            }),
        })
        .collect();
    crate::render::junit::test_results("warden test", &results)
}
