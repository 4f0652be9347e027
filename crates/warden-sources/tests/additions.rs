//! Tests of what is added to a change whatever its source: Terraform and OpenTofu
//! plans (`tests/data/terraform`) and `CODEOWNERS` files (`tests/data/codeowners`).
//! Each fixture is snapshotted with its source beside what Warden reads from it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use warden_change::{UnknownFields, parse_change};
use warden_sources::Additions;
use warden_sources::codeowners::Codeowners;
use warden_sources::terraform::read_plan;

fn data(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(relative)
}

/// The fixture's text, or what it is when it is not text (a saved binary plan).
fn source(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => format!("<{} bytes of binary data>\n", error.as_bytes().len()),
    }
}

/// Whether the fixture is one that must be rejected (its name, or its directory's,
/// starts with `error-`).
fn is_error_fixture(path: &Path, data: &Path) -> bool {
    path.strip_prefix(data)
        .unwrap()
        .components()
        .any(|part| part.as_os_str().to_string_lossy().starts_with("error-"))
}

/// Every plan of `tests/data/terraform`: the resource changes read, or the error.
#[test]
fn terraform_plans() {
    let root = data("terraform");
    insta::glob!("data/terraform/*", |path| {
        let read = match read_plan(path) {
            Ok(plan) => {
                assert!(
                    !is_error_fixture(path, &root),
                    "{} was accepted",
                    path.display()
                );
                serde_json::to_string_pretty(&plan).unwrap()
            }
            Err(error) => {
                assert!(is_error_fixture(path, &root), "{}: {error}", path.display());
                // The input is named relative to the data directory in snapshots.
                error
                    .to_string()
                    .replace(&format!("{}/", root.display()), "")
            }
        };
        insta::assert_snapshot!(format!("{}\n---\n{read}", source(path)));
    });
}

/// Every `CODEOWNERS` of `tests/data/codeowners`, with the owners of each path of the
/// `paths.txt` beside it (or the error).
#[test]
fn codeowners_files() {
    let root = data("codeowners");
    insta::glob!("data/codeowners/**/CODEOWNERS", |path| {
        let read = match Codeowners::read(path) {
            Ok(codeowners) => {
                assert!(
                    !is_error_fixture(path, &root),
                    "{} was accepted",
                    path.display()
                );
                let paths = std::fs::read_to_string(path.with_file_name("paths.txt")).unwrap();
                paths
                    .lines()
                    .map(|file| format!("{file} -> {:?}", codeowners.owners(file)))
                    .collect::<Vec<_>>()
                    .join("\n")
            }
            Err(error) => {
                assert!(is_error_fixture(path, &root), "{}: {error}", path.display());
                error
                    .to_string()
                    .replace(&format!("{}/", root.display()), "")
            }
        };
        insta::assert_snapshot!(format!("{}---\n{read}", source(path)));
    });
}

/// The additions fill a change: plans appended in order, owners added to those the
/// producer gave (sorted, without duplicates), a renamed file owned by the owners of
/// both its paths.
#[test]
fn additions_fill_plans_and_owners() {
    let change = r#"{
      "schema": "warden.change/v1",
      "kind": "commit_range",
      "id": "acme/shop@9f1c2d7e..c2a7f001",
      "evaluated_at": "2026-12-08T17:00:00Z",
      "repository": {"name": "acme/shop"},
      "title": "Move the legacy code to orders",
      "target": {"ref": "main", "protected": true},
      "author": "erin",
      "revisions": {"base": "9f1c2d7e", "head": "c2a7f001"},
      "files": [
        {"path": "infra/terraform/orders/main.tf", "status": "modified", "additions": 3, "deletions": 1, "owners": ["security", "infra"]},
        {"path": "services/orders/src/legacy.rs", "previous_path": "services/checkout/src/legacy.rs", "status": "renamed", "additions": 0, "deletions": 0},
        {"path": "docs/runbook.md", "status": "added", "additions": 10, "deletions": 0}
      ],
      "commits": [],
      "infra_plans": [{"tool": "terraform", "resources": []}]
    }"#;
    let mut change = parse_change(change, UnknownFields::Reject).unwrap().value;
    let additions = Additions {
        plans: vec![
            data("terraform/aws-replace-db-instance.json"),
            data("terraform/opentofu-1.8-s3-bucket.json"),
        ],
        codeowners: Some(data("codeowners/acme/CODEOWNERS")),
    };
    additions.apply(&mut change).unwrap();

    let tools: Vec<&str> = change.infra_plans.iter().map(|p| p.tool.as_str()).collect();
    assert_eq!(tools, ["terraform", "terraform", "opentofu"]);
    assert_eq!(
        change.infra_plans[1].resources[0].actions,
        ["delete", "create"]
    );
    let owners: Vec<&[String]> = change.files.iter().map(|f| f.owners.as_slice()).collect();
    assert_eq!(
        owners,
        [
            &["dba", "infra", "security"][..],
            &["checkout", "erin@acme.example", "orders"][..],
            &[][..],
        ]
    );
}

/// An unreadable addition is an error naming the file; nothing is half-added.
#[test]
fn a_missing_plan_or_codeowners_is_an_error_naming_it() {
    let missing = data("terraform/no-such-plan.json");
    let error = read_plan(&missing).unwrap_err();
    assert_eq!(error.input, missing.display().to_string());
    let error = Codeowners::read(&data("codeowners/no-such/CODEOWNERS")).unwrap_err();
    assert!(error.input.ends_with("no-such/CODEOWNERS"), "{error}");
}
