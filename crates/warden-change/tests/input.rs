//! Tests of the change model: malformed inputs (snapshots), the example changes and
//! facts, fact merging, the committed JSON Schemas, the view against `RECORDS`, and the
//! declaration (`records.rs`) against the serde types and `docs/change-model.md`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;

use warden_change::model::{ChangeKind, Commit, FileStatus, Person, PrincipalKind, ReviewState};
use warden_change::{
    Change, Datum, INPUTS, InputError, Node, RECORDS, Time, UnknownFields, View, field_index,
    parse_change, parse_facts, record_index,
};

const STRICT: UnknownFields = UnknownFields::Reject;

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

const FACTS: &[(&str, &str)] = &[
    ("facts/org.json", include_str!("data/facts/org.json")),
    (
        "facts/services.json",
        include_str!("data/facts/services.json"),
    ),
    (
        "facts/calendar.json",
        include_str!("data/facts/calendar.json"),
    ),
];

const CHANGES: &[(&str, &str)] = &[
    (
        "pr-ai-control-plane",
        include_str!("data/valid/pr-ai-control-plane.json"),
    ),
    (
        "range-bot-lockfiles",
        include_str!("data/valid/range-bot-lockfiles.json"),
    ),
    (
        "deploy-router-freeze",
        include_str!("data/valid/deploy-router-freeze.json"),
    ),
    (
        "pr-everything",
        include_str!("data/valid/pr-everything.json"),
    ),
];

/// Parses, merges every fact file, validates; panics with the errors otherwise.
fn load(json: &str) -> Change {
    let loaded = parse_change(json, STRICT).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(loaded.warnings, vec![], "unexpected warnings");
    let mut change = loaded.value;
    for (source, facts) in FACTS {
        let facts = parse_facts(facts, STRICT).unwrap_or_else(|e| panic!("{source}: {e}"));
        assert_eq!(facts.warnings, vec![], "{source}: unexpected warnings");
        change
            .merge_facts(facts.value, source)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let mut errors = change.assign_services();
    errors.extend(change.validate());
    assert!(errors.is_empty(), "{errors:?}");
    change
}

fn change(name: &str) -> Change {
    let (_, json) = CHANGES
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no test change {name}"));
    load(json)
}

// ---------------------------------------------------------------------------------
// Malformed input

/// Every file of `tests/data/invalid` is rejected; the snapshot shows the input and
/// the errors (`path: message (line:column)`).
#[test]
fn invalid_inputs() {
    insta::glob!("data/invalid/*.json", |path| {
        let input = fs::read_to_string(path).unwrap();
        let rendered = match parse_change(&input, STRICT) {
            Err(error) => error.to_string(),
            Ok(loaded) => {
                let errors = loaded.value.validate();
                assert!(!errors.is_empty(), "{} was accepted", path.display());
                render(&errors)
            }
        };
        let shown = if input.len() > 1500 {
            format!("{}…", &input[..1500])
        } else {
            input
        };
        insta::assert_snapshot!(format!("{shown}\n---\n{rendered}"));
    });
}

/// Every file of `tests/data/invalid-facts` is rejected as a fact file.
#[test]
fn invalid_fact_files() {
    insta::glob!("data/invalid-facts/*.json", |path| {
        let input = fs::read_to_string(path).unwrap();
        let error = parse_facts(&input, STRICT).unwrap_err();
        insta::assert_snapshot!(format!("{input}\n---\n{error}"));
    });
}

fn render(errors: &[InputError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn error_positions_point_at_the_value() {
    let json = "{\n  \"schema\": \"warden.change/v1\",\n  \"kind\": 3\n}";
    let error = parse_change(json, STRICT).unwrap_err();
    assert_eq!(error.path, "$.kind");
    assert_eq!((error.line, error.column), (3, 11));
    assert_eq!(
        error.message,
        "expected one of `pull_request`, `commit_range` or `deployment`, found the integer `3`"
    );
}

const UNKNOWN_FIELDS: &str = r#"{
  "schema": "warden.change/v1", "kind": "pull_request", "id": "x",
  "evaluated_at": "2026-11-26T09:15:00Z", "repository": { "name": "r", "owner": "acme" },
  "title": "t", "author": "alice", "revisions": { "base": "a", "head": "b" },
  "labels": [], "commits": [], "reviews": [],
  "files": [ { "path": "a", "status": "added", "additions": 1, "deletions": 0, "addition": 1 } ],
  "principals": { "renovate[bot]": { "kind": "bot", "team": [] } },
  "extra": { "deep": [1, 2] }
}"#;

#[test]
fn unknown_fields_are_errors_at_the_first() {
    let error = parse_change(UNKNOWN_FIELDS, STRICT).unwrap_err();
    assert_eq!(
        error.to_string(),
        "$.repository.owner: unknown field `owner` (`--allow-unknown-fields` ignores \
         unknown fields) (3:72)"
    );
    let error = parse_facts(
        r#"{ "principals": { "a": { "kind": "human", "team": [] } } }"#,
        STRICT,
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "$.principals.a.team: unknown field `team`, did you mean `teams`? \
         (`--allow-unknown-fields` ignores unknown fields) (1:43)"
    );
}

#[test]
fn unknown_fields_are_warnings_when_allowed() {
    let loaded = parse_change(UNKNOWN_FIELDS, UnknownFields::Warn).unwrap();
    let warnings: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [
            "$.repository.owner: unknown field `owner`, ignored",
            "$.files[0].addition: unknown field `addition`, ignored",
            "$.principals[\"renovate[bot]\"].team: unknown field `team`, ignored",
            "$.extra: unknown field `extra`, ignored",
        ]
    );
    let facts = parse_facts(
        r#"{ "principals": { "a": { "kind": "human" } }, "teams": {} }"#,
        UnknownFields::Warn,
    )
    .unwrap();
    assert_eq!(facts.warnings.len(), 1);
    assert_eq!(facts.warnings[0].path, "$.teams");
}

/// A misspelt key, or a change passed as a fact file, would silently drop every fact,
/// even when unknown fields are allowed.
#[test]
fn a_fact_file_with_no_facts_and_unknown_fields_is_rejected() {
    let warn = UnknownFields::Warn;
    let error = parse_facts(r#"{ "principal": { "a": { "kind": "human" } } }"#, warn).unwrap_err();
    assert_eq!(error.path, "$");
    assert_eq!(
        error.message,
        "expected facts (`principals`, `services` or `calendar`), found none, only \
         unknown fields (`$.principal`): is this a fact file?"
    );
    let (_, change) = CHANGES[0];
    let error = parse_facts(change, warn).unwrap_err();
    assert!(
        error.message.contains("(`$.schema`, `$.kind`, `$.id` and "),
        "{}",
        error.message
    );
    // No facts and nothing unknown is an empty fact file, which is fine.
    assert!(parse_facts("{}", STRICT).unwrap().warnings.is_empty());
    assert!(parse_facts(r#"{ "principals": {}, "services": null }"#, STRICT).is_ok());
}

#[test]
fn nulls_are_accepted_where_fields_may_be_omitted() {
    let change = change("pr-everything");
    assert_eq!(change.description, "");
    assert!(change.labels.is_empty());
    assert!(change.links.tickets.is_empty());
    assert!(change.repository.properties.is_empty());
    assert!(change.infra_plans[1].resources.is_empty());
    assert!(!change.files[1].generated);
}

#[test]
fn never_panics_on_truncated_or_mangled_input() {
    for (_, json) in CHANGES.iter().chain(FACTS) {
        for end in (0..json.len()).step_by(7) {
            if let Some(prefix) = json.get(..end) {
                let _ = parse_change(prefix, STRICT);
                let _ = parse_facts(prefix, STRICT);
            }
        }
        for from in ["\"", ":", ",", "[", "{", "Z"] {
            let escapes = ["\\", "\\u12", "\\ud800", "\\udc00\\u", "\\ud800\\n"];
            for to in ["", "null", "[]", "{}", "1", "\"\""]
                .into_iter()
                .chain(escapes)
            {
                let mangled = json.replacen(from, to, 3);
                let _ = parse_change(&mangled, STRICT);
                let _ = parse_change(&mangled, UnknownFields::Warn);
            }
        }
    }
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(parse_change(&deep, STRICT).is_err());
    // An unknown field is skipped (or rejected) without recursion, however deep.
    let json = CHANGES[0]
        .1
        .replacen('{', &format!("{{\"extra\": {deep},"), 1);
    let warn = UnknownFields::Warn;
    assert_eq!(parse_change(&json, warn).unwrap().warnings.len(), 1);
    assert_eq!(parse_change(&json, STRICT).unwrap_err().path, "$.extra");
    let deep = format!(
        "{{\"principals\": {{\"a\": {}1{}}}}}",
        "{\"x\": ".repeat(50_000),
        "}".repeat(50_000)
    );
    assert!(parse_facts(&deep, STRICT).is_err());
}

// ---------------------------------------------------------------------------------
// Examples and facts

#[test]
fn examples_parse_merge_and_validate() {
    for (name, _) in CHANGES {
        let change = change(name);
        assert_eq!(
            change.principals.len(),
            10 + usize::from(*name == "pr-everything")
        );
        assert_eq!(change.services.len(), 5);
        assert_eq!(change.calendar.as_ref().map(|c| c.freezes.len()), Some(2));
    }
}

/// A catalogue's `paths` name the services of the files they match (by the path or
/// the previous path), added to those the producer gave, sorted and without
/// duplicates; an invalid glob is an error at its place in the facts.
#[test]
fn service_paths_fill_files_services() {
    let everything = change("pr-everything");
    let services: Vec<(&str, Vec<&str>)> = everything
        .files
        .iter()
        .map(|f| {
            let names = f.services.iter().map(String::as_str).collect();
            (f.path.as_str(), names)
        })
        .collect();
    insta::assert_debug_snapshot!(services);

    let mut moved = parse_change(include_str!("data/valid/pr-ai-control-plane.json"), STRICT)
        .unwrap()
        .value;
    let file = &mut moved.files[0];
    file.previous_path = Some("services/orders/src/old_name.rs".to_owned());
    file.services = vec!["traffic-router".to_owned(), "checkout".to_owned()];
    moved
        .merge_facts(parse_facts(FACTS[1].1, STRICT).unwrap().value, FACTS[1].0)
        .unwrap();
    assert_eq!(moved.assign_services(), vec![]);
    assert_eq!(
        moved.files[0].services,
        ["checkout", "orders", "traffic-router"]
    );

    let bad = r#"{ "services": { "search": { "tier": 2, "plane": "data", "owner": "checkout",
        "oncall": "oncall", "timezone": "UTC", "paths": ["services/search/**", "services/{search"] } } }"#;
    let mut change = parse_change(include_str!("data/valid/pr-everything.json"), STRICT)
        .unwrap()
        .value;
    change
        .merge_facts(parse_facts(bad, STRICT).unwrap().value, "bad.json")
        .unwrap();
    let before = change.files.clone();
    assert_eq!(
        render(&change.assign_services()),
        "$.services.search.paths[1]: `\"services/{search\"` is not a valid glob: unclosed alternate group; missing '}' (maybe escape '{' with '[{]'?)"
    );
    assert_eq!(*change.files, *before, "nothing is assigned on an error");
}

#[test]
fn round_trips_through_json() {
    for (name, _) in CHANGES {
        let change = change(name);
        let json = serde_json::to_string(&change).unwrap();
        let again = parse_change(&json, STRICT).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(again.warnings, vec![]);
        assert_eq!(serde_json::to_string(&again.value).unwrap(), json);
    }
}

#[test]
fn identical_facts_merge_and_conflicts_name_both_sources() {
    let mut change = change("pr-ai-control-plane");
    // The same facts again: fine, nothing duplicated.
    for (source, facts) in FACTS {
        change
            .merge_facts(parse_facts(facts, STRICT).unwrap().value, source)
            .unwrap();
    }
    assert_eq!(change.calendar.as_ref().unwrap().freezes.len(), 2);

    let other = r#"{ "principals": { "bob": { "kind": "human", "teams": [] } } }"#;
    let error = change
        .merge_facts(parse_facts(other, STRICT).unwrap().value, "other.json")
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "$.principals.bob: principal `bob` is defined differently in facts/org.json and in other.json"
    );

    let other = r#"{ "services": { "checkout": { "tier": 0, "plane": "data", "owner": "checkout",
        "oncall": "oncall", "timezone": "UTC" } }, "principals": { "zed": { "kind": "bot" } } }"#;
    let error = change
        .merge_facts(parse_facts(other, STRICT).unwrap().value, "svc.json")
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "$.services.checkout: service `checkout` is defined differently in facts/services.json and in svc.json"
    );
    assert!(
        !change.principals.contains_key("zed"),
        "nothing is merged on error"
    );

    let other = r#"{ "calendar": { "freezes": [ { "name": "peak-2026",
        "start": "2026-11-20T08:00:00Z", "end": "2026-12-03T00:00:00Z", "scope": {} } ] } }"#;
    let error = change
        .merge_facts(parse_facts(other, STRICT).unwrap().value, "cal.json")
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "$.calendar.freezes[0]: freeze `peak-2026` is defined differently in facts/calendar.json and in cal.json"
    );

    // Inline facts are "the change".
    let mut inline = parse_change(include_str!("data/valid/pr-everything.json"), STRICT)
        .unwrap()
        .value;
    // `erin` is inline too, identically.
    inline
        .merge_facts(parse_facts(FACTS[0].1, STRICT).unwrap().value, "org.json")
        .unwrap();
    let other = r#"{ "principals": { "web-flow": { "kind": "human" } } }"#;
    let error = inline
        .merge_facts(parse_facts(other, STRICT).unwrap().value, "other.json")
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "$.principals.web-flow: principal `web-flow` is defined differently in the change and in other.json"
    );
}

// ---------------------------------------------------------------------------------
// Timestamps

#[test]
fn timestamps_compare_by_instant_and_keep_their_offset() {
    let utc: Time = "2026-11-20T08:00:00Z".parse().unwrap();
    let pacific: Time = "2026-11-20T00:00:00-08:00".parse().unwrap();
    let later: Time = "2026-11-20T00:00:01.5-08:00".parse().unwrap();
    assert_eq!(utc, pacific);
    assert!(later > utc);
    assert_eq!(utc.to_string(), "2026-11-20T08:00:00Z");
    assert_eq!(pacific.to_string(), "2026-11-20T00:00:00-08:00");
    assert_eq!(later.to_string(), "2026-11-20T00:00:01.5-08:00");
    assert_eq!(
        serde_json::to_string(&pacific).unwrap(),
        "\"2026-11-20T00:00:00-08:00\""
    );
    assert_eq!(
        "2026-11-20T00:00:00"
            .parse::<Time>()
            .unwrap_err()
            .to_string(),
        "`\"2026-11-20T00:00:00\"` has no UTC offset; add `Z` for UTC or an offset like `-08:00`"
    );
    assert!(warden_change::time_zone("America/Los_Angeles").is_some());
    assert!(warden_change::time_zone("+05:30").is_some());
    assert!(warden_change::time_zone("-08").is_some());
    assert!(warden_change::time_zone("+5:30").is_none());
    assert!(warden_change::time_zone("Mars/Olympus").is_none());
}

// ---------------------------------------------------------------------------------
// JSON Schemas

fn check_schema(file: &str, schema: schemars::Schema) {
    let path = crate_dir().join("../../schema").join(file);
    let generated = format!("{}\n", serde_json::to_string_pretty(&schema).unwrap());
    if std::env::var_os("WARDEN_BLESS").is_some_and(|v| v == "1") {
        fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "schema/{file} is out of date with crates/warden-change (the serde types of \
         model.rs, the docs of records.rs); regenerate it with `WARDEN_BLESS=1 cargo test -p warden-change --test input schemas`"
    );
}

#[test]
fn schemas_are_up_to_date() {
    check_schema("change.schema.json", warden_change::change_schema());
    check_schema("facts.schema.json", warden_change::facts_schema());
}

// ---------------------------------------------------------------------------------
// The view

/// Does `datum` fit the Warden type `ty`?
fn fits(ty: &str, datum: &Datum<'_>) -> bool {
    if let Some(inner) = ty.strip_suffix('?') {
        return matches!(datum, Datum::Null) || fits(inner, datum);
    }
    if let Some(inner) = ty.strip_prefix("list<").and_then(|t| t.strip_suffix('>')) {
        return matches!(datum, Datum::List(items) if items.iter().all(|d| fits(inner, d)));
    }
    if ty.starts_with('"') {
        let allowed: Vec<&str> = ty.split(" | ").map(|s| s.trim_matches('"')).collect();
        return matches!(datum, Datum::Str(s) if allowed.contains(s));
    }
    match (ty, datum) {
        ("string", Datum::Str(_))
        | ("int", Datum::Int(_))
        | ("bool", Datum::Bool(_))
        | ("timestamp", Datum::Time(_))
        | ("map<string>", Datum::Map(_)) => true,
        (record, Datum::Node(node)) => RECORDS[node.record()].name == record,
        _ => false,
    }
}

/// Visits every node reachable from `node`, checking each field against its type and
/// recording which fields were seen non-null.
fn walk<'a>(view: &View<'a>, node: Node<'a>, seen: &mut BTreeSet<(usize, usize)>, depth: usize) {
    assert!(depth < 16, "cycle through {}", view.label(node));
    let record = &RECORDS[node.record()];
    assert_eq!(format!("{node:?}").split('(').next(), Some(record.name));
    assert!(!view.label(node).is_empty());
    assert!(view.same(node, node));
    for (i, field) in record.fields.iter().enumerate() {
        let datum = view.field(node, i);
        assert!(
            fits(field.ty, &datum),
            "{}.{}: {datum:?} is not a {}",
            record.name,
            field.name,
            field.ty
        );
        let mut nodes = Vec::new();
        match &datum {
            Datum::Null => continue,
            Datum::List(items) if items.is_empty() => continue,
            Datum::List(items) => nodes.extend(items.iter().filter_map(|d| match d {
                Datum::Node(n) => Some(*n),
                _ => None,
            })),
            Datum::Node(n) => nodes.push(*n),
            _ => {}
        }
        seen.insert((node.record(), i));
        for child in nodes {
            walk(view, child, seen, depth + 1);
        }
    }
    assert!(matches!(view.field(node, record.fields.len()), Datum::Null));
}

#[test]
fn every_field_of_every_record_has_its_declared_type() {
    let mut seen = BTreeSet::new();
    let changes: Vec<Change> = CHANGES.iter().map(|(name, _)| change(name)).collect();
    for change in &changes {
        let view = View::new(change);
        walk(&view, view.root(), &mut seen, 0);
    }
    let seen = &seen;
    let never: Vec<String> = RECORDS
        .iter()
        .enumerate()
        .flat_map(|(r, record)| {
            record
                .fields
                .iter()
                .enumerate()
                .filter(move |(f, _)| !seen.contains(&(r, *f)))
                .map(move |(_, field)| format!("{}.{}", record.name, field.name))
        })
        .collect();
    assert!(
        never.is_empty(),
        "never seen with a value in the test changes: {never:?}"
    );
}

#[test]
fn records_table_is_consistent() {
    assert_eq!(RECORDS[0].name, "Change");
    for (i, record) in RECORDS.iter().enumerate() {
        assert_eq!(record_index(record.name), Some(i));
        for (j, field) in record.fields.iter().enumerate() {
            assert_eq!(field_index(i, field.name), Some(j), "{}", record.name);
            // Every record a type names exists.
            let base = field
                .ty
                .trim_end_matches('?')
                .trim_start_matches("list<")
                .trim_end_matches('>');
            let builtin = ["string", "int", "bool", "timestamp", "map<string"];
            if !builtin.contains(&base) && !base.starts_with('"') {
                assert!(
                    record_index(base).is_some(),
                    "{}.{}",
                    record.name,
                    field.name
                );
            }
        }
    }
}

/// The record tables of `docs/change-model.md` ("What policies see"), rendered from
/// `RECORDS`, and the other spellings the closed value sets read.
fn records_markdown() -> String {
    /// A table cell: a `|` of a type or doc must not split it.
    fn cell(text: &str) -> String {
        text.replace('|', "\\|")
    }
    let mut out = String::new();
    for record in RECORDS {
        out += &format!("\n### {}\n\n{}\n\n", record.name, record.doc);
        out += "| field | type | notes |\n|---|---|---|\n";
        for field in record.fields {
            out += &format!(
                "| `{}` | `{}` | {} |\n",
                field.name,
                cell(field.ty),
                cell(field.doc)
            );
        }
    }
    let enums = [
        ("change `kind`", ChangeKind::ALIASES),
        ("file `status`", FileStatus::ALIASES),
        ("review `state`", ReviewState::ALIASES),
        ("principal `kind`", PrincipalKind::ALIASES),
    ];
    let aliases: Vec<String> = enums
        .iter()
        .flat_map(|(field, aliases)| {
            aliases
                .iter()
                .map(move |(alias, value)| format!("a {field} `{alias}` reads as `{value}`"))
        })
        .collect();
    if !aliases.is_empty() {
        out += &format!("\nOther spellings: {}.\n", aliases.join("; "));
    }
    out
}

/// The record tables of `docs/change-model.md` are those `RECORDS` gives, between
/// the markers; `WARDEN_BLESS=1` rewrites them.
#[test]
fn docs_list_the_records() {
    const START: &str = "<!-- generated: records -->\n";
    const END: &str = "<!-- end: records -->";
    let path = crate_dir().join("../../docs/change-model.md");
    let docs = fs::read_to_string(&path).unwrap();
    let (before, rest) = docs.split_once(START).expect("the start marker");
    let (committed, after) = rest.split_once(END).expect("the end marker");
    let generated = format!("{}\n", records_markdown());
    if std::env::var_os("WARDEN_BLESS").is_some_and(|v| v == "1") {
        fs::write(&path, format!("{before}{START}{generated}{END}{after}")).unwrap();
        return;
    }
    assert!(
        committed == generated,
        "the record tables of docs/change-model.md are out of date with the declaration \
         in crates/warden-change/src/records.rs; regenerate them with \
         `WARDEN_BLESS=1 cargo test -p warden-change --test input docs`"
    );
}

/// The serde types and the declaration agree: every JSON field of a record's input
/// type is read by a field of the record or listed as input-only, and every JSON
/// field the declaration names exists. Every record type of the JSON is the input of
/// a record (or the fact file, whose fields are the change's).
#[test]
fn inputs_match_the_serde_types() {
    let schema = serde_json::to_value(warden_change::change_schema()).unwrap();
    let facts = serde_json::to_value(warden_change::facts_schema()).unwrap();
    let properties = |schema: &serde_json::Value| -> BTreeSet<String> {
        schema["properties"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    };
    assert_eq!(INPUTS.len(), RECORDS.len());
    let mut inputs = BTreeSet::new();
    for (record, input) in RECORDS.iter().zip(INPUTS) {
        assert_eq!(input.fields.len(), record.fields.len(), "{}", record.name);
        let def = if input.input == "Change" {
            &schema
        } else {
            &schema["$defs"][input.input]
        };
        let declared: BTreeSet<String> = input
            .fields
            .iter()
            .flatten()
            .chain(input.input_only)
            .map(|name| (*name).to_owned())
            .collect();
        let json = properties(def);
        assert!(
            json == declared,
            "{} is read from `{}`: JSON fields no field of the record reads (declare \
             them in records.rs, or list them after `also`): {:?}; JSON fields the \
             declaration names that `{}` does not have: {:?}",
            record.name,
            input.input,
            json.difference(&declared).collect::<Vec<_>>(),
            input.input,
            declared.difference(&json).collect::<Vec<_>>(),
        );
        inputs.insert(input.input.to_owned());
    }
    let records_of_the_json: BTreeSet<String> = schema["$defs"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, def)| def.get("properties").is_some())
        .map(|(name, _)| name.clone())
        .chain(["Change".to_owned()])
        .collect();
    assert_eq!(records_of_the_json, inputs);
    assert!(properties(&facts).is_subset(&properties(&schema)));
}

/// A source builds a commit with `Commit::new` and fills in the rest; the message is
/// derived when first read.
#[test]
fn sources_build_commits() {
    let person = |email: &str| Person {
        principal: None,
        name: None,
        email: email.to_owned(),
        time: None,
    };
    let mut commit = Commit::new(
        "a41e8b03".to_owned(),
        person("ann@example.com"),
        person("bob@example.com"),
        "Subject".to_owned(),
    );
    commit.body = "Body".to_owned();
    assert_eq!(commit.message(), "Subject\n\nBody");
    let json = serde_json::to_string(&commit).unwrap();
    assert_eq!(serde_json::from_str::<Commit>(&json).unwrap(), commit);
}

/// Git tools spell a removed file `deleted`; the alias reads as `removed`.
#[test]
fn aliases_read_as_their_value() {
    let (_, json) = CHANGES[0];
    for spelling in ["deleted", "DELETED", "removed"] {
        let json = json.replacen(
            "\"status\": \"modified\"",
            &format!("\"status\": \"{spelling}\""),
            1,
        );
        let change = parse_change(&json, STRICT).unwrap().value;
        assert_eq!(change.files[0].status, FileStatus::Removed);
        assert_eq!(change.files[0].status.as_str(), "removed");
    }
    assert_eq!(FileStatus::ALIASES, [("deleted", "removed")]);
    let error = parse_change(&json.replacen("\"modified\"", "\"gone\"", 1), STRICT).unwrap_err();
    assert!(
        error.message.starts_with("expected one of `added`, "),
        "{error}"
    );
}

fn get<'a>(view: &View<'a>, node: Node<'a>, name: &str) -> Datum<'a> {
    let index = field_index(node.record(), name)
        .unwrap_or_else(|| panic!("no field {name} in {}", node.record_name()));
    view.field(node, index)
}

fn node(datum: Datum<'_>) -> Node<'_> {
    match datum {
        Datum::Node(n) => n,
        other => panic!("not a node: {other:?}"),
    }
}

fn list(datum: Datum<'_>) -> Vec<Datum<'_>> {
    match datum {
        Datum::List(items) => items,
        other => panic!("not a list: {other:?}"),
    }
}

fn string<'a>(datum: &Datum<'a>) -> &'a str {
    match datum {
        Datum::Str(s) => s,
        other => panic!("not a string: {other:?}"),
    }
}

fn strings<'a>(datum: Datum<'a>) -> Vec<&'a str> {
    list(datum).iter().map(string).collect()
}

#[test]
fn derived_fields() {
    let change = change("pr-everything");
    let view = View::new(&change);
    let root = view.root();

    // Latest reviews: frank's 09:30+05:30 (04:00Z) ties with two other 04:00Z reviews;
    // the later one in the list wins, and the order is that of `reviews`.
    let latest: Vec<String> = list(get(&view, root, "latest_reviews"))
        .into_iter()
        .map(|d| {
            let review = node(d);
            format!(
                "{} {}",
                view.label(review),
                string(&get(&view, review, "state"))
            )
        })
        .collect();
    assert_eq!(
        latest,
        [
            "bob's review of 4e5f6a7b commented",
            "frank's review of 4e5f6a7b commented"
        ]
    );

    // Services: every name, sorted; only catalogue entries in `services`.
    assert_eq!(
        strings(get(&view, root, "service_names")),
        ["billing", "docs-site", "orders"]
    );
    let services: Vec<String> = list(get(&view, root, "services"))
        .into_iter()
        .map(|d| view.label(node(d)))
        .collect();
    assert_eq!(services, ["docs-site", "orders"]);

    let commit = node(list(get(&view, root, "commits")).remove(0));
    assert_eq!(view.label(commit), "4e5f6a7b");
    assert_eq!(
        string(&get(&view, commit, "message")),
        "Add orders read replica"
    );
    // Author resolved by e-mail (case-insensitively), committer by the id given even
    // though it is not in the directory.
    let author = node(get(&view, commit, "author"));
    let principal = node(get(&view, author, "principal"));
    assert_eq!(view.label(principal), "erin");
    let committer = node(get(&view, commit, "committer"));
    let principal = node(get(&view, committer, "principal"));
    assert_eq!(string(&get(&view, principal, "kind")), "bot");

    // Co-authors: the AI has no principal; Frank resolves by e-mail.
    let co_authors: Vec<(String, Option<String>)> = list(get(&view, commit, "co_authors"))
        .into_iter()
        .map(|d| {
            let person = node(d);
            let name = string(&get(&view, person, "name")).to_owned();
            let email = string(&get(&view, person, "email"));
            assert!(email.contains('@'));
            let principal = match get(&view, person, "principal") {
                Datum::Null => None,
                d => Some(view.label(node(d))),
            };
            (name, principal)
        })
        .collect();
    assert_eq!(
        co_authors,
        [
            ("Claude".to_owned(), None),
            ("Frank Osei".to_owned(), Some("frank".to_owned()))
        ]
    );

    // An override whose incident is not linked.
    let over = node(list(get(&view, root, "overrides")).remove(0));
    assert_eq!(string(&get(&view, over, "incident_key")), "INC-0000");
    assert!(matches!(get(&view, over, "incident"), Datum::Null));
    assert_eq!(view.label(over), "frank's exemption override");

    // Unknown principals.
    let ghost = view.principal("ghost");
    assert_eq!(string(&get(&view, ghost, "kind")), "unknown");
    assert!(matches!(get(&view, ghost, "level"), Datum::Null));
    assert!(list(get(&view, ghost, "teams")).is_empty());
    assert!(view.same(ghost, view.principal("ghost")));
    assert!(!view.same(ghost, view.principal("frank")));
    assert!(view.service("billing").is_none());
    assert!(view.principal_facts("frank").is_some());

    // Time fields keep their offset.
    match get(&view, root, "evaluated_at") {
        Datum::Time(t) => assert_eq!(t.to_string(), "2026-11-27T10:00:00+05:30"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn deployment_view() {
    let change = change("deploy-router-freeze");
    let view = View::new(&change);
    let root = view.root();
    let deployment = node(get(&view, root, "deployment"));
    assert_eq!(view.label(deployment), "deployment to production");
    let waves: Vec<String> = list(get(&view, deployment, "plan"))
        .into_iter()
        .map(|d| view.label(node(d)))
        .collect();
    assert_eq!(waves, ["wave 1", "wave 2", "wave 3"]);
    let over = node(list(get(&view, root, "overrides")).remove(0));
    let incident = node(get(&view, over, "incident"));
    assert_eq!(view.label(incident), "INC-7731");
    let linked = node(list(get(&view, node(get(&view, root, "links")), "incidents")).remove(0));
    assert!(view.same(incident, linked));
    assert!(!view.same(incident, over));
    assert_eq!(
        strings(get(&view, root, "service_names")),
        ["traffic-router"]
    );
    let calendar = node(get(&view, root, "calendar"));
    assert_eq!(list(get(&view, calendar, "freezes")).len(), 2);
    let author = node(get(&view, root, "author"));
    let initiator = node(get(&view, deployment, "initiator"));
    assert!(view.same(author, initiator));
}

#[test]
fn labels_and_empty_calendar() {
    let change = parse_change(include_str!("data/valid/pr-ai-control-plane.json"), STRICT)
        .unwrap()
        .value;
    let view = View::new(&change);
    let root = view.root();
    let reviews: Vec<String> = list(get(&view, root, "reviews"))
        .into_iter()
        .map(|d| view.label(node(d)))
        .collect();
    assert_eq!(reviews[2], "bob's review of a41e8b03");
    let calendar = node(get(&view, root, "calendar"));
    assert!(list(get(&view, calendar, "freezes")).is_empty());
    // Without facts, everyone is unknown.
    let author = node(get(&view, root, "author"));
    assert_eq!(string(&get(&view, author, "kind")), "unknown");
    assert_eq!(
        record_index("Principal"),
        Some(author.record()),
        "principal record"
    );
}
