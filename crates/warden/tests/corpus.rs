//! The corpus: every fixture under `tests/` and every example under `examples/` runs

#![expect(
    clippy::panic,
    reason = "a failing fixture fails its test by panicking with the reason"
)]
//! here, one snapshot per fixture with the source beside the rendered output.
//!
//! - `tests/check/**/*.warden`: a policy file and its diagnostics (miette, no colour);
//! - `tests/eval/*/`: `policy.warden`, `change.json`, optional `facts.json`, and
//!   `expect.json` (`{ "verdict": …, "rules": { name: outcome }, "budget": steps? }`),
//!   asserted, then the human report snapshotted;
//! - `examples/*/cases/*.json`: a change with its facts and expected outcomes, against
//!   the example's policy; asserted, then snapshotted;
//! - every example policy and the standard library check with no diagnostic at all.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use warden::{Options, SourceText};

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

/// Asserts a report against `{ "verdict": …, "rules": { name: outcome } }`.
fn assert_expected(report: &warden::Report, expect: &Value, what: &str) {
    let mut failures = Vec::new();
    if let Some(verdict) = expect.get("verdict").and_then(Value::as_str)
        && verdict != report.verdict.as_str()
    {
        failures.push(format!(
            "verdict: expected {verdict}, got {}",
            report.verdict.as_str()
        ));
    }
    if let Some(rules) = expect.get("rules").and_then(Value::as_object) {
        for (name, outcome) in rules {
            let got = report
                .rules
                .iter()
                .find(|r| *r.name == **name)
                .map_or("missing", |r| r.outcome.as_str());
            if Some(got) != outcome.as_str() {
                failures.push(format!(
                    "rule {name}: expected {}, got {got}",
                    outcome.as_str().unwrap_or("?")
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{what}:\n  {}", failures.join("\n  "));
}

fn snapshot_settings(dir: &Path) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(dir.join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings
}

#[test]
fn check_fixtures() {
    insta::glob!("../../../tests", "check/*.warden", |path| {
        let text = read(path);
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let analysis = warden::analyze(&[SourceText {
            path: name,
            text: text.clone(),
        }]);
        assert!(
            !analysis.diagnostics.is_empty(),
            "{} is a check fixture but gives no diagnostic",
            path.display()
        );
        let rendered = warden::render::diagnostics(&analysis, false);
        snapshot_settings(&root().join("tests/check")).bind(|| {
            insta::assert_snapshot!(format!("{text}\n----- diagnostics -----\n{rendered}"));
        });
    });
}

#[test]
fn eval_fixtures() {
    insta::glob!("../../../tests", "eval/*/policy.warden", |path| {
        let dir = path.parent().unwrap_or(Path::new("."));
        let policy = policy(path);
        let facts_path = dir.join("facts.json");
        let facts: Vec<(String, String)> = if facts_path.exists() {
            vec![("facts.json".to_string(), read(&facts_path))]
        } else {
            Vec::new()
        };
        let change = read(&dir.join("change.json"));
        let input = warden::read_input("change.json", &change, &facts)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let expect: Value = serde_json::from_str(&read(&dir.join("expect.json")))
            .unwrap_or_else(|e| panic!("expect.json: {e}"));
        // `"budget": N` in expect.json evaluates with a smaller step budget.
        let budget = expect["budget"]
            .as_u64()
            .unwrap_or(Options::default().budget);
        let report = warden::evaluate(
            &policy,
            &input,
            Options {
                explain: true,
                budget,
            },
        );
        assert_expected(&report, &expect, &dir.display().to_string());
        let rendered = warden::render::report(&report, false, true);
        let source = read(path);
        snapshot_settings(&root().join("tests/eval")).bind(|| {
            insta::assert_snapshot!(format!(
                "{source}\n----- change.json -----\n{change}\n----- report -----\n{rendered}"
            ));
        });
    });
}

#[test]
fn example_cases() {
    let mut policies = BTreeMap::new();
    insta::glob!("../../../examples", "*/cases/*.json", |path| {
        let case_dir = path.parent().unwrap_or(Path::new("."));
        let example = case_dir.parent().unwrap_or(Path::new(".")).to_path_buf();
        let policy = policies
            .entry(example.clone())
            .or_insert_with(|| policy(&example));
        let case: Value =
            serde_json::from_str(&read(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let facts: Vec<(String, String)> = case["facts"]
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(Value::as_str)
                    .map(|f| (f.to_string(), read(&case_dir.join(f))))
                    .collect()
            })
            .unwrap_or_default();
        let change = serde_json::to_string(&case["change"]).unwrap_or_default();
        let input = warden::read_input("change", &change, &facts)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // Without digests: they change with every edit of the policy, and the
        // determinism test covers them.
        let report = warden::evaluate(policy, &input, Options::default());
        assert_expected(&report, &case["expect"], &path.display().to_string());
        let description = case["description"].as_str().unwrap_or("");
        let rendered = warden::render::report(&report, false, false);
        snapshot_settings(case_dir).bind(|| {
            insta::assert_snapshot!(format!("{description}\n----- report -----\n{rendered}"));
        });
    });
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

/// The same input gives byte-identical JSON.
#[test]
fn evaluation_is_deterministic() {
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
                let input = warden::read_input(change, &text, &facts)
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
                text: code.to_string(),
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
