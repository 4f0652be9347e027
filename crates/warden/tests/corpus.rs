//! The corpus: every fixture under `tests/` and every example under `examples/` runs
//! here, one snapshot per fixture with the source beside the rendered output.
//!
//! - `tests/check/**/*.warden`: a policy file and its diagnostics (miette, no colour);
//! - `tests/eval/*/`: `policy.warden`, `change.json`, optional `facts.json`, and
//!   `expect.json` (`{ "verdict": …, "rules": { name: outcome }, "budget": steps?,
//!   "max_memory": "size"? }`),
//!   asserted, then the human report snapshotted;
//! - `examples/*/cases/*.json`: a change with its facts and expected outcomes, against
//!   the example's policy, run by `warden::testing` as `warden test` runs them;
//!   asserted, then snapshotted;
//! - `tests/test/*/`: a policy and its `cases/` (`fail-*` must fail): the results,
//!   diffs, coverage and what `--update` writes, snapshotted;
//! - every example policy and the standard library check with no diagnostic at all;
//! - every JSON report above validates against `schema/report.schema.json`; a few eval
//!   fixtures (and check fixtures) are also rendered in the CI formats — GitHub
//!   workflow commands, Markdown, SARIF (validated against the SARIF 2.1.0 schema) and
//!   JUnit XML (parsed, its counts checked) — one snapshot per fixture;
//! - seeded random edits of the acme policy and change never make Warden panic.

#![expect(
    clippy::panic,
    reason = "a failing fixture fails its test by panicking with the reason"
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use warden::warden_change::UnknownFields;
use warden::{Options, SourceText};

/// The default of `warden eval`: an unknown field in a change or fact file is an error.
const STRICT: UnknownFields = UnknownFields::Reject;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn policy(path: &Path) -> warden::Policy {
    let sources = warden::read_policy(path).unwrap_or_else(|e| panic!("{e}"));
    warden::compile(&sources).unwrap_or_else(|analysis| {
        panic!(
            "{} does not check:\n{}",
            path.display(),
            warden::render::diagnostics(&analysis, false)
        )
    })
}

/// Asserts a report against `{ "verdict": …, "rules": { name: outcome } }`, as
/// `warden test` compares a case's expectation.
fn assert_expected(report: &warden::Report, expect: &Value, what: &str) {
    let field = |name: &str| expect.get(name).cloned().unwrap_or_default();
    let expect = warden::testing::Expect {
        verdict: serde_json::from_value(field("verdict"))
            .unwrap_or_else(|e| panic!("{what}: verdict: {e}")),
        rules: serde_json::from_value(field("rules")).unwrap_or_default(),
        missing_approvals: None,
    };
    let differences = warden::testing::differences(&expect, report);
    assert!(
        differences.is_empty(),
        "{what}:\n{}",
        warden::testing::render_differences(&differences)
    );
}

fn snapshot_settings(dir: &Path) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(dir.join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings
}

#[test]
fn check_fixtures() {
    let sarif = sarif_validator();
    // Every declared code is given by some fixture.
    let mut given = std::collections::BTreeSet::new();
    insta::glob!("../../../tests", "check/*.warden", |path| {
        let text = read(path);
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let analysis = warden::analyze(&[SourceText {
            path: name,
            text: text.as_str().into(),
        }]);
        assert!(
            !analysis.diagnostics.is_empty(),
            "{} is a check fixture but gives no diagnostic",
            path.display()
        );
        given.extend(analysis.diagnostics.iter().map(|d| d.code));
        // Every fixture's diagnostics are valid in the CI formats too; a few are
        // snapshotted in them by `ci_formats`.
        let what = path.display().to_string();
        assert_workflow_commands(
            &warden::render::github::diagnostics(&analysis, "tests/check"),
            &what,
        );
        assert_valid(
            &sarif,
            &warden::render::sarif::diagnostics(&analysis, "tests/check"),
            &what,
        );
        let rendered = warden::render::diagnostics(&analysis, false);
        snapshot_settings(&root().join("tests/check")).bind(|| {
            insta::assert_snapshot!(format!("{text}\n----- diagnostics -----\n{rendered}"));
        });
    });
    // The parser's codes come from the parse fixtures; `misplaced-item` only from a
    // standard module (the unit tests of warden-check give it).
    for entry in std::fs::read_dir(root().join("tests/parse/errors"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let text = read(&entry.path());
        let source = SourceText {
            path: "p.warden".into(),
            text: text.into(),
        };
        given.extend(
            warden::analyze(&[source])
                .diagnostics
                .iter()
                .map(|d| d.code),
        );
    }
    given.insert(warden::Code::MisplacedItem);
    let missing: Vec<&str> = (warden::Code::ALL.iter())
        .filter(|code| !given.contains(code))
        .map(|code| code.as_str())
        .collect();
    assert!(
        missing.is_empty(),
        "no fixture under tests/check gives {missing:?}: add one"
    );
}

/// The Diagnostics table of docs/language.md is the declaration of the codes
/// (`warden_syntax::CODE_TABLE`) written out; `WARDEN_BLESS=1 cargo test -p warden
/// --test corpus diagnostics_table` rewrites it.
#[test]
fn diagnostics_table_is_the_declaration_of_the_codes() {
    let mut table = String::from("| code | meaning |\n|---|---|\n");
    for (codes, meaning) in warden::CODE_TABLE {
        let names: Vec<String> = codes.iter().map(|c| format!("`{c}`")).collect();
        let warnings = codes
            .iter()
            .all(|c| c.severity() == warden::Severity::Warning);
        let note = match (warnings, codes.len()) {
            (false, _) => "",
            (true, 1) => " (warning)",
            (true, _) => " (warnings)",
        };
        table.push_str(&format!("| {}{note} | {meaning} |\n", names.join(", ")));
    }
    let path = root().join("docs/language.md");
    let language = read(&path);
    let (start, end) = ("<!-- codes: begin -->\n", "<!-- codes: end -->");
    let (before, rest) = language
        .split_once(start)
        .unwrap_or_else(|| panic!("no `{start}` in docs/language.md"));
    let (_, after) = rest
        .split_once(end)
        .unwrap_or_else(|| panic!("no `{end}` in docs/language.md"));
    let expected = format!("{before}{start}{table}{end}{after}");
    if std::env::var_os("WARDEN_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &expected).unwrap_or_else(|e| panic!("{e}"));
        return;
    }
    assert!(
        language == expected,
        "the Diagnostics table of docs/language.md is out of date with the codes' declaration; regenerate it with `WARDEN_BLESS=1 cargo test -p warden --test corpus diagnostics_table`"
    );
}

/// A JSON Schema of the repository, compiled (formats checked too).
fn validator(relative: &str) -> jsonschema::Validator {
    compile_schema(&read(&root().join(relative)), relative)
}

/// The vendored SARIF 2.1.0 schema. Its `language` pattern has a stray `]`, a literal
/// in ECMAScript's regexes but an error for the validator's check of the schema: it
/// is escaped here, which matches the same strings.
fn sarif_validator() -> jsonschema::Validator {
    const STRAY: &str = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#;
    const ESCAPED: &str = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\\]?$""#;
    let relative = "schema/vendor/sarif-schema-2.1.0.json";
    let text = read(&root().join(relative));
    assert!(
        text.contains(STRAY),
        "{relative}: the stray `]` is gone; drop the fix"
    );
    compile_schema(&text.replace(STRAY, ESCAPED), relative)
}

fn compile_schema(text: &str, relative: &str) -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{relative}: {e}"));
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("{relative}: {e}"))
}

/// Asserts that `json` parses and validates, listing every error with its JSON path.
fn assert_valid(validator: &jsonschema::Validator, json: &str, what: &str) {
    let instance: Value =
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{what}: not JSON: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .map(|error| format!("{} at `{}`", error, error.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not validate:\n  {}",
        errors.join("\n  ")
    );
}

/// The report validates against `schema/report.schema.json`.
fn assert_report_valid(schema: &jsonschema::Validator, report: &warden::Report, what: &str) {
    assert_valid(schema, &warden::report_json(report), what);
}

/// A fixture of `tests/eval`, evaluated with `--explain`: the report, the policy
/// source and the change text.
fn evaluate_fixture(path: &Path) -> (warden::Report, String, String) {
    let dir = path.parent().unwrap_or(Path::new("."));
    let policy = policy(path);
    let facts_path = dir.join("facts.json");
    let facts: Vec<(String, String)> = if facts_path.exists() {
        vec![("facts.json".to_string(), read(&facts_path))]
    } else {
        Vec::new()
    };
    let change = read(&dir.join("change.json"));
    let input = warden::read_input("change.json", &change, &facts, STRICT)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let expect: Value = serde_json::from_str(&read(&dir.join("expect.json")))
        .unwrap_or_else(|e| panic!("expect.json: {e}"));
    // `"budget": N` and `"max_memory": "1MiB"` in expect.json evaluate with a
    // smaller budget or memory cap.
    let defaults = Options::default();
    let budget = expect["budget"].as_u64().unwrap_or(defaults.budget);
    let max_memory = expect["max_memory"]
        .as_str()
        .map_or(defaults.max_memory, |size| {
            size.parse()
                .unwrap_or_else(|e| panic!("{}: max_memory: {e}", dir.display()))
        });
    let report = warden::evaluate(
        &policy,
        &input,
        Options {
            explain: true,
            budget,
            max_memory,
        },
    );
    assert_expected(&report, &expect, &dir.display().to_string());
    (report, read(path), change)
}

#[test]
fn eval_fixtures() {
    let schema = validator("schema/report.schema.json");
    insta::glob!("../../../tests", "eval/*/policy.warden", |path| {
        let (report, source, change) = evaluate_fixture(path);
        assert_report_valid(&schema, &report, &path.display().to_string());
        let rendered = warden::render::report(&report, false, true);
        snapshot_settings(&root().join("tests/eval")).bind(|| {
            insta::assert_snapshot!(format!(
                "{source}\n----- change.json -----\n{change}\n----- report -----\n{rendered}"
            ));
        });
    });
}

#[test]
fn example_cases() {
    let schema = validator("schema/report.schema.json");
    let mut policies = BTreeMap::new();
    insta::glob!("../../../examples", "*/cases/*.json", |path| {
        let case_dir = path.parent().unwrap_or(Path::new("."));
        let example = case_dir.parent().unwrap_or(Path::new(".")).to_path_buf();
        let policy = policies
            .entry(example.clone())
            .or_insert_with(|| policy(&example));
        // The runner of `warden test`: without digests, as they change with every
        // edit of the policy (the determinism test covers them).
        let run = warden::testing::run_case(policy, path, None)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            run.passed(),
            "{}:\n{}",
            path.display(),
            warden::testing::render_differences(&run.differences)
        );
        assert_report_valid(&schema, &run.report, &path.display().to_string());
        let rendered = warden::render::report(&run.report, false, false);
        snapshot_settings(case_dir).bind(|| {
            insta::assert_snapshot!(format!(
                "{}\n----- report -----\n{rendered}",
                run.case.description
            ));
        });
    });
}

/// `tests/test/*/`: a policy (`policy.warden`) and its `cases/`, run as `warden test`
/// runs them. A case named `fail-*` must fail; every other must pass. The snapshot
/// holds the results with their diffs, the coverage, and what `--update` would write
/// into each failing case.
#[test]
fn test_suites() {
    insta::glob!("../../../tests", "test/*/policy.warden", |path| {
        let dir = path.parent().unwrap_or(Path::new("."));
        let suite = warden::testing::Suite::locate(dir, None, None);
        let policy = policy(&suite.policy);
        let mut recorded = warden::Coverage::default();
        let runs: Vec<_> = suite
            .case_files()
            .unwrap_or_else(|e| panic!("{e}"))
            .iter()
            .map(|case| {
                warden::testing::run_case(&policy, case, Some(&mut recorded))
                    .unwrap_or_else(|e| panic!("{}: {e}", case.display()))
            })
            .collect();
        let mut updates = String::new();
        for run in &runs {
            assert_eq!(
                run.passed(),
                !run.name.starts_with("fail-"),
                "{}: a `fail-` case must fail, any other pass",
                run.name
            );
            if !run.passed() {
                let updated = warden::testing::case_json(&warden::testing::updated_case(run))
                    .unwrap_or_else(|e| panic!("{e}"));
                updates.push_str(&format!(
                    "----- --update writes {} -----\n{updated}",
                    run.name
                ));
            }
        }
        let coverage =
            warden::testing::coverage(&policy, &recorded, runs.iter().map(|run| &run.report));
        let results = warden::testing::render_runs(&runs);
        let coverage = warden::testing::render_coverage(&coverage, true);
        // Paths as the suite names them, whatever the machine's checkout.
        let results = results.replace(&format!("{}/", dir.display()), "");
        snapshot_settings(&root().join("tests/test")).bind(|| {
            insta::assert_snapshot!(format!(
                "{}\n----- results -----\n{results}{coverage}{updates}",
                read(path)
            ));
        });
    });
}

/// `schema/case.schema.json` documents the test case format; it must match the type,
/// and every case of the repository must validate against it.
/// `WARDEN_BLESS=1 cargo test -p warden --test corpus case_schema` rewrites it.
#[test]
fn case_schema_is_up_to_date_and_every_case_fits() {
    let path = root().join("schema/case.schema.json");
    let schema = format!(
        "{}\n",
        serde_json::to_string_pretty(&warden::testing::case_schema()).unwrap_or_default()
    );
    if std::env::var_os("WARDEN_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &schema).unwrap_or_else(|e| panic!("{e}"));
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == schema,
        "schema/case.schema.json is out of date with `warden::testing::Case`; regenerate it with `WARDEN_BLESS=1 cargo test -p warden --test corpus case_schema`"
    );
    let validator = validator("schema/case.schema.json");
    let mut checked = 0;
    for pattern in ["examples/*/cases/*.json", "tests/test/*/cases/*.json"] {
        let (dir, rest) = pattern.split_once("/*/").unwrap_or_default();
        for entry in std::fs::read_dir(root().join(dir))
            .into_iter()
            .flatten()
            .flatten()
        {
            let cases = entry.path().join(rest.trim_end_matches("/*.json"));
            for case in std::fs::read_dir(&cases).into_iter().flatten().flatten() {
                let case = case.path();
                if case.extension().is_some_and(|e| e == "json") {
                    assert_valid(&validator, &read(&case), &case.display().to_string());
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 100, "only {checked} cases found");
}

/// Examples and the standard library are held to "no diagnostic at all".
#[test]
fn examples_and_stdlib_are_clean() {
    let stdlib_only = warden::analyze_stdlib();
    assert!(
        stdlib_only.diagnostics.is_empty(),
        "the standard library has diagnostics:\n{}",
        warden::render::diagnostics(&stdlib_only, false)
    );
    // A standard module's glob is translated only when an evaluation needs it (the
    // checker trusts it): every one must translate.
    let program = stdlib_only
        .program
        .as_ref()
        .expect("the standard library compiles");
    let patterns: Vec<_> = program.globs.iter().flatten().collect();
    assert!(
        patterns.len() > 50,
        "only {} patterns found",
        patterns.len()
    );
    for pattern in patterns {
        if let Err(error) = pattern.regex() {
            panic!("{error}");
        }
    }
    let mut checked = 0;
    for entry in std::fs::read_dir(root().join("examples"))
        .into_iter()
        .flatten()
        .flatten()
    {
        if entry.path().is_dir() {
            let sources = warden::read_policy(&entry.path()).unwrap_or_else(|e| panic!("{e}"));
            let analysis = warden::analyze(&sources);
            assert!(
                analysis.diagnostics.is_empty(),
                "{} has diagnostics:\n{}",
                entry.path().display(),
                warden::render::diagnostics(&analysis, false)
            );
            checked += 1;
        }
    }
    assert!(checked > 0, "no example found");
}

/// The same input gives byte-identical JSON, valid against its schema (with digests).
#[test]
fn evaluation_is_deterministic() {
    let schema = validator("schema/report.schema.json");
    let example = root().join("examples/acme");
    let facts: Vec<(String, String)> = ["org", "services", "calendar"]
        .iter()
        .map(|f| {
            (
                format!("{f}.json"),
                read(&example.join(format!("facts/{f}.json"))),
            )
        })
        .collect();
    for change in [
        "pr-ai-control-plane",
        "deploy-router-freeze",
        "range-bot-lockfiles",
    ] {
        let text = read(&example.join(format!("changes/{change}.json")));
        let runs: Vec<String> = (0..2)
            .map(|_| {
                let policy = policy(&example);
                let input = warden::read_input(change, &text, &facts, STRICT)
                    .unwrap_or_else(|e| panic!("{e}"))
                    .with_digest(&text, &facts);
                warden::report_json(&warden::evaluate(
                    &policy,
                    &input,
                    Options {
                        explain: true,
                        ..Options::default()
                    },
                ))
            })
            .collect();
        assert_eq!(runs[0], runs[1], "{change}: two evaluations differ");
        assert_valid(&schema, &runs[0], change);
        assert!(
            runs[0].contains("\"input\": \"sha256:"),
            "{change}: no input digest"
        );
    }
}

/// `schema/report.schema.json` documents the JSON report; it must match the types.
/// `WARDEN_BLESS=1 cargo test -p warden --test corpus` rewrites it.
#[test]
fn report_schema_is_up_to_date() {
    let path = root().join("schema/report.schema.json");
    let schema = warden_eval_schema();
    if std::env::var_os("WARDEN_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &schema).unwrap_or_else(|e| panic!("{e}"));
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == schema,
        "schema/report.schema.json is out of date with the report types; regenerate it with `WARDEN_BLESS=1 cargo test -p warden --test corpus report_schema`"
    );
}

fn warden_eval_schema() -> String {
    let schema = warden::report_schema();
    format!(
        "{}\n",
        serde_json::to_string_pretty(&schema).unwrap_or_default()
    )
}

/// A few eval fixtures — allow with an advisory finding, pending approvals with who
/// could give them, a deny whose witness names a changed file, a rule error,
/// overrides, and hostile text — in every CI format; each output is checked (workflow
/// command syntax, the Markdown marker and size, SARIF against its schema, JUnit XML
/// parsed and counted), then snapshotted together.
#[test]
fn ci_formats() {
    let sarif = sarif_validator();
    let mut annotated_files = 0;
    insta::glob!(
        "../../../tests",
        "eval/{advisory-rule-does-not-change-verdict,could-approve-lists-eligible-members-of-a-union,deny-unless-approval-violated,rule-error-unknown-time-zone-denies,override-without-rule-list-covers-every-overridable-rule,ci-formats-escape-hostile-text,exemption-not-applied-says-why,advisory-pending-listed-under-advisory}/policy.warden",
        |path| {
            let (report, source, _) = evaluate_fixture(path);
            let what = path.display().to_string();
            // The fixture's directory relative to the repository, as CI would name it.
            let repository = root().canonicalize().unwrap_or_else(|e| panic!("{e}"));
            let dir = path
                .parent()
                .and_then(|d| d.strip_prefix(&repository).ok())
                .map_or_else(String::new, |d| d.display().to_string());
            assert!(!dir.is_empty(), "{what}: not in the repository");
            let github = warden::render::github::report(&report, &dir);
            assert_workflow_commands(&github, &what);
            // Each annotation's file, decoded, is a changed file a witness names or
            // the policy: escaping loses nothing.
            let policy_file = format!("{dir}/policy.warden");
            let files = github.lines().filter_map(|line| {
                let (_, properties) = line.split_once(' ')?;
                let (properties, _) = properties.split_once("::")?;
                properties.split(',').find_map(|p| p.strip_prefix("file="))
            });
            for file in files {
                annotated_files += 1;
                let file = decode_property(file);
                assert!(
                    file == policy_file
                        || report
                            .rules
                            .iter()
                            .flat_map(|r| &r.witnesses)
                            .any(|w| w.file.as_deref() == Some(&*file)),
                    "{what}: an annotation on `{file}`"
                );
            }
            let markdown = warden::render::markdown::report(&report, &dir);
            assert!(
                markdown.starts_with(&format!("{}\n", warden::render::markdown::MARKER)),
                "{what}: the comment does not start with the marker"
            );
            assert!(markdown.len() < 65_536, "{what}: the comment is too long");
            let sarif_log = warden::render::sarif::report(&report, &dir);
            assert_valid(&sarif, &sarif_log, &what);
            let junit = warden::render::junit::report(&report, &dir);
            assert_junit(&junit, &report, &what);
            snapshot_settings(&root().join("tests/eval")).bind(|| {
                insta::assert_snapshot!(format!(
                    "{source}\n----- github -----\n{github}\n----- markdown -----\n{markdown}\n----- sarif -----\n{sarif_log}\n----- junit -----\n{junit}"
                ));
            });
        }
    );
    assert!(annotated_files > 0, "no annotation names a file");
    insta::glob!(
        "../../../tests",
        "check/{three-broken-rules,unused-import}.warden",
        |path| {
            let text = read(path);
            let analysis = warden::analyze(&[SourceText {
                path: "policy.warden".to_string(),
                text: text.as_str().into(),
            }]);
            let github = warden::render::github::diagnostics(&analysis, "policy");
            let sarif_log = warden::render::sarif::diagnostics(&analysis, "policy");
            snapshot_settings(&root().join("tests/check")).bind(|| {
                insta::assert_snapshot!(format!(
                    "{text}\n----- github -----\n{github}\n----- sarif -----\n{sarif_log}"
                ));
            });
        }
    );
}

/// Every line but the last is a workflow command — `::error`, `::warning` or
/// `::notice`, then `key=value` properties of known keys (so no value holds a raw `,`),
/// positive numbers for positions, `::` and a message; the last line is plain text.
fn assert_workflow_commands(output: &str, what: &str) {
    let lines: Vec<&str> = output.lines().collect();
    let Some((last, commands)) = lines.split_last() else {
        panic!("{what}: no output");
    };
    assert!(!last.starts_with("::"), "{what}: no closing line");
    for line in commands {
        let rest = line
            .strip_prefix("::")
            .unwrap_or_else(|| panic!("{what}: not a command: {line}"));
        let (command, rest) = rest
            .split_once(' ')
            .unwrap_or_else(|| panic!("{what}: no properties: {line}"));
        assert!(
            ["error", "warning", "notice"].contains(&command),
            "{what}: `{command}`"
        );
        let (properties, message) = rest
            .split_once("::")
            .unwrap_or_else(|| panic!("{what}: no message: {line}"));
        assert!(!message.is_empty(), "{what}: empty message: {line}");
        for property in properties.split(',') {
            let (key, value) = property
                .split_once('=')
                .unwrap_or_else(|| panic!("{what}: `{property}` is not key=value"));
            assert!(
                ["file", "line", "col", "endLine", "endColumn", "title"].contains(&key),
                "{what}: unknown property `{key}`"
            );
            assert!(!value.is_empty(), "{what}: `{key}` is empty");
            if ["line", "col", "endLine", "endColumn"].contains(&key) {
                assert!(
                    value.parse::<usize>().is_ok_and(|n| n > 0),
                    "{what}: {key}={value}"
                );
            }
        }
    }
}

/// A workflow command's property value as the runner reads it.
fn decode_property(value: &str) -> String {
    value
        .replace("%2C", ",")
        .replace("%3A", ":")
        .replace("%0A", "\n")
        .replace("%0D", "\r")
        .replace("%25", "%")
}

/// The JUnit XML parses; one suite holds one test case per rule, in order; a case
/// holds at most one `failure`, `error` or `skipped`; the counts are the suite's and
/// the root's attributes.
fn assert_junit(xml: &str, report: &warden::Report, what: &str) {
    let document =
        roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("{what}: not XML: {e}"));
    let root = document.root_element();
    assert_eq!(root.tag_name().name(), "testsuites", "{what}");
    let suites: Vec<_> = root
        .children()
        .filter(roxmltree::Node::is_element)
        .collect();
    assert_eq!(suites.len(), 1, "{what}: one test suite");
    let suite = suites[0];
    assert_eq!(suite.tag_name().name(), "testsuite", "{what}");
    let mut names = Vec::new();
    let mut counts = BTreeMap::from([("failure", 0), ("error", 0), ("skipped", 0)]);
    for child in suite.children().filter(roxmltree::Node::is_element) {
        match child.tag_name().name() {
            "properties" => continue,
            "testcase" => {}
            other => panic!("{what}: `{other}` in a test suite"),
        }
        names.push(child.attribute("name").unwrap_or_default().to_string());
        assert!(
            child.attribute("classname").is_some(),
            "{what}: no classname"
        );
        let outcomes: Vec<_> = child
            .children()
            .filter(roxmltree::Node::is_element)
            .collect();
        assert!(
            outcomes.len() <= 1,
            "{what}: a test case with several outcomes"
        );
        if let Some(outcome) = outcomes.first() {
            let name = outcome.tag_name().name();
            *counts
                .get_mut(name)
                .unwrap_or_else(|| panic!("{what}: `{name}` in a test case")) += 1;
        }
    }
    let rules: Vec<String> = report.rules.iter().map(|r| r.name.to_string()).collect();
    assert_eq!(names, rules, "{what}: one test case per rule");
    for element in [root, suite] {
        let attribute = |name: &str| {
            element
                .attribute(name)
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or_else(|| panic!("{what}: no `{name}` count"))
        };
        assert_eq!(attribute("tests"), rules.len(), "{what}: tests");
        assert_eq!(attribute("failures"), counts["failure"], "{what}: failures");
        assert_eq!(attribute("errors"), counts["error"], "{what}: errors");
        assert_eq!(attribute("skipped"), counts["skipped"], "{what}: skipped");
    }
}

/// Every ```warden block of the docs is a policy that checks without a diagnostic, so
/// the reference cannot drift from the language.
#[test]
fn doc_examples_check() {
    let mut checked = 0;
    for entry in std::fs::read_dir(root().join("docs"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "md") {
            continue;
        }
        let text = read(&path);
        for (index, block) in text.split("```warden\n").skip(1).enumerate() {
            let code = block.split("```").next().unwrap_or("");
            let name = format!("{}#{index}.warden", path.display());
            let analysis = warden::analyze(&[SourceText {
                path: name.clone(),
                text: code.into(),
            }]);
            assert!(
                analysis.diagnostics.is_empty(),
                "{name}:\n{}",
                warden::render::diagnostics(&analysis, false)
            );
            checked += 1;
        }
    }
    assert!(checked > 0, "no ```warden block found in docs/");
}

/// Malformed input never panics: seeded random edits of the acme policy and of its
/// change are checked, evaluated and rendered, and every diagnostic points into its
/// file. (The same idea as a fuzzer, deterministic and on stable Rust.)
#[test]
fn mutated_policies_and_changes_never_panic() {
    const POLICY_MUTANTS: usize = 60;
    const CHANGE_MUTANTS: usize = 150;
    const POLICY_EDITS: &[&str] = &[
        "{",
        "}",
        "(",
        ")",
        "[",
        "\"",
        "\\",
        ".",
        "?.",
        "=>",
        " and ",
        " not ",
        "rule ",
        "let ",
        "fn ",
        "import ",
        "99999999999999999999",
        "-",
        "1d",
        "é",
        "\n",
        "// ",
        "{x}",
        "??",
    ];
    const CHANGE_EDITS: &[&str] = &[
        "null",
        "[]",
        "{}",
        "\"x\"",
        "-1",
        "1e999",
        "18446744073709551616",
        "true",
        ",",
        ":",
        "\"2026-13-40T25:00:00Z\"",
        "\"\\ud800\"",
        "é",
        "\"schema\": \"x\",",
    ];
    let example = root().join("examples/acme");
    let sources = warden::read_policy(&example.join("policy")).unwrap_or_else(|e| panic!("{e}"));
    let change = read(&example.join("changes/pr-ai-control-plane.json"));
    let facts: Vec<(String, String)> = ["org", "services", "calendar"]
        .iter()
        .map(|f| {
            (
                format!("{f}.json"),
                read(&example.join(format!("facts/{f}.json"))),
            )
        })
        .collect();
    let mut random = Xorshift(0x5eed_1234_abcd_0001);
    let policy = policy(&example);
    // How many mutants checked and evaluated, and how many inputs were accepted: both
    // paths must have been taken for the test to mean anything.
    let (mut evaluated, mut accepted) = (0, 0);

    for case in 0..POLICY_MUTANTS {
        let mut mutant = sources.clone();
        let Some(file) = mutant.get_mut(random.below(sources.len())) else {
            continue;
        };
        file.text = random.mutate(&file.text, POLICY_EDITS).into();
        let analysis = warden::analyze(&mutant);
        for diagnostic in &analysis.diagnostics {
            for label in &diagnostic.labels {
                let text = analysis.files.get(label.file.0 as usize).map(|f| &*f.text);
                assert!(
                    text.is_some_and(|t| label.span.end <= t.len()
                        && t.is_char_boundary(label.span.start)
                        && t.is_char_boundary(label.span.end)),
                    "policy mutant {case}: `{}` points outside its file",
                    diagnostic.code
                );
            }
        }
        let _ = warden::render::diagnostics(&analysis, false);
        let _ = warden::render::diagnostics_json(&analysis);
        let _ = warden::render::github::diagnostics(&analysis, "policy");
        let _ = warden::render::sarif::diagnostics(&analysis, "policy");
        if let Ok(compiled) = warden::compile(&mutant) {
            let input = warden::read_input("change.json", &change, &facts, STRICT)
                .unwrap_or_else(|e| panic!("{e}"));
            let report = warden::evaluate(&compiled, &input, Options::default());
            let _ = warden::render::report(&report, false, true);
            evaluated += 1;
        }
    }

    for case in 0..CHANGE_MUTANTS {
        let text = random.mutate(&change, CHANGE_EDITS);
        match warden::read_input("change.json", &text, &facts, STRICT) {
            Ok(input) => {
                let report = warden::evaluate(&policy, &input, Options::default());
                let _ = warden::report_json(&report);
                let _ = warden::render::report(&report, false, true);
                let _ = warden::render::github::report(&report, "policy");
                let _ = warden::render::markdown::report(&report, "policy");
                let _ = warden::render::sarif::report(&report, "policy");
                let _ = warden::render::junit::report(&report, "policy");
                accepted += 1;
            }
            Err(error) => assert!(
                !error.to_string().trim().is_empty(),
                "change mutant {case}: an error without a message"
            ),
        }
    }
    assert!(
        (1..POLICY_MUTANTS).contains(&evaluated),
        "{evaluated} of {POLICY_MUTANTS} policy mutants checked clean"
    );
    assert!(
        (1..CHANGE_MUTANTS).contains(&accepted),
        "{accepted} of {CHANGE_MUTANTS} change mutants were accepted"
    );
}

/// xorshift64*: a fixed sequence, so that a failure names a case that can be rerun.
struct Xorshift(u64);

impl Xorshift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// `text` after one to three edits: a deleted run, an inserted token, or a run
    /// copied elsewhere. Offsets are moved back to character boundaries.
    fn mutate(&mut self, text: &str, tokens: &[&str]) -> String {
        let mut out = text.to_string();
        for _ in 0..=self.below(3) {
            let boundary = |s: &str, mut at: usize| {
                while !s.is_char_boundary(at) {
                    at -= 1;
                }
                at
            };
            let at = boundary(&out, self.below(out.len() + 1));
            let end = boundary(&out, (at + 1 + self.below(24)).min(out.len()));
            match self.below(3) {
                0 => out.replace_range(at..end, ""),
                1 => out.insert_str(at, tokens[self.below(tokens.len())]),
                _ => {
                    let run = out[at..end].to_string();
                    let to = boundary(&out, self.below(out.len() + 1));
                    out.insert_str(to, &run);
                }
            }
        }
        out
    }
}
