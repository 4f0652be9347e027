//! `warden fmt`'s layout: snapshot tests over the fixtures in `tests/format/` (each
//! source beside its formatted text), and, over every `.warden` file of the
//! repository that parses, the properties the formatter promises: the result parses to
//! the same tree (spans aside), keeps every comment in order, and is a fixed point.

// Failing loudly is what a test is for.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use warden_syntax::format::{WIDTH, comments};
use warden_syntax::{FileId, format, parse};

#[test]
fn format_fixtures() {
    insta::glob!("../../../tests", "format/*.warden", |path| {
        let source = std::fs::read_to_string(path).unwrap();
        let formatted = format(&source).unwrap_or_else(|d| panic!("{d:#?}"));
        let out = format!("{source}\n---\n\n{formatted}");
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        insta::with_settings!({
            snapshot_path => "../../../tests/format/snapshots",
            prepend_module_to_snapshot => false,
            input_file => path,
            omit_expression => true,
            snapshot_suffix => "",
        }, {
            insta::assert_snapshot!(name, out);
        });
    });
}

/// Every `.warden` file of the repository, test fixtures included.
fn repository_sources() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            let hidden = path.file_name().unwrap().to_string_lossy().starts_with('.');
            if path.is_dir() && !hidden && !path.ends_with("target") {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "warden") {
                out.push(path);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut out = Vec::new();
    for dir in ["tests", "examples", "stdlib", "crates"] {
        walk(&root.join(dir), &mut out);
    }
    out
}

/// The tree as JSON without its spans (`{"start": …, "end": …}` objects become null):
/// what the file means, whatever its layout.
fn meaning(source: &str) -> serde_json::Value {
    fn strip(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                let is_span =
                    map.len() == 2 && map.contains_key("start") && map.contains_key("end");
                if is_span {
                    *value = serde_json::Value::Null;
                } else {
                    map.values_mut().for_each(strip);
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let (module, diagnostics) = parse(source, FileId(0));
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
    let mut value = serde_json::to_value(&module).unwrap();
    strip(&mut value);
    value
}

fn comment_texts(source: &str) -> Vec<String> {
    comments(source).into_iter().map(|c| c.text).collect()
}

#[test]
fn formatting_keeps_meaning_and_comments_and_is_idempotent() {
    let mut formatted_files = 0;
    for path in repository_sources() {
        let source = std::fs::read_to_string(&path).unwrap();
        let shown = path.display();
        let Ok(once) = format(&source) else {
            // Files with parse errors are refused; the parser's own tests cover them.
            assert!(!parse(&source, FileId(0)).1.is_empty(), "{shown}");
            continue;
        };
        formatted_files += 1;
        assert_eq!(
            meaning(&once),
            meaning(&source),
            "{shown}: meaning changed\n{once}"
        );
        assert_eq!(
            comment_texts(&once),
            comment_texts(&source),
            "{shown}: comments\n{once}"
        );
        let twice = format(&once).unwrap();
        assert_eq!(twice, once, "{shown}: not idempotent");
        assert!(once.ends_with('\n') || once.is_empty(), "{shown}");
        for line in once.lines() {
            assert_eq!(line.trim_end(), line, "{shown}: trailing space");
        }
    }
    assert!(
        formatted_files > 50,
        "only {formatted_files} files formatted"
    );
}

#[test]
fn files_that_do_not_parse_are_refused() {
    let diagnostics = format("rule r {\n  when\n}\n").unwrap_err();
    assert_eq!(diagnostics.len(), 1);
}

#[test]
fn only_unbreakable_text_goes_past_the_width() {
    let long_names = (0..12)
        .map(|i| format!("name_number_{i}"))
        .collect::<Vec<_>>();
    let source = format!(
        "let x = [{}]\nrule r {{\n  when {}\n  deny \"{}\"\n}}\n",
        long_names.join(", "),
        long_names.join(" and "),
        "m".repeat(120)
    );
    let once = format(&source).unwrap();
    let over: Vec<&str> = once.lines().filter(|l| l.chars().count() > WIDTH).collect();
    assert_eq!(over.len(), 1, "{once}");
    assert!(over[0].starts_with("  deny \"mmm"), "{once}");
}

/// The source with `insert` put at every place `at` allows, one place at a time.
fn insertions(source: &str, insert: &str, at: impl Fn(&str, usize) -> bool) -> Vec<String> {
    (0..source.len())
        .filter(|&i| source.is_char_boundary(i) && at(source, i))
        .map(|i| format!("{}{insert}{}", &source[..i], &source[i..]))
        .collect()
}

/// Comments anywhere between tokens (at the end of any line, on a line of their own
/// after any line, after any space outside strings and comments) are kept, in order,
/// and the result is a fixed point with the original's meaning.
#[test]
fn comments_in_every_place_are_kept() {
    // A space outside strings and comments: no quote and no `//` before it on its line.
    let plain_space = |s: &str, i: usize| {
        let line_start = s[..i].rfind('\n').map_or(0, |n| n + 1);
        let before = &s[line_start..i];
        s.as_bytes()[i] == b' ' && !before.contains('"') && !before.contains("//")
    };
    let line_end = |s: &str, i: usize| s.as_bytes()[i] == b'\n';
    let mut variants = Vec::new();
    for fixture in ["layout", "comments"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("../../tests/format/{fixture}.warden"));
        let source = std::fs::read_to_string(path).unwrap();
        variants.extend(insertions(&source, " // end", line_end));
        variants.extend(insertions(&source, "\n// own line", line_end));
        variants.extend(insertions(&source, " // between\n", plain_space));
    }
    assert!(variants.len() > 200, "{}", variants.len());
    for variant in variants {
        let once = format(&variant).unwrap_or_else(|d| panic!("{variant}\n{d:#?}"));
        assert_eq!(meaning(&once), meaning(&variant), "{variant}\n---\n{once}");
        assert_eq!(
            comment_texts(&once),
            comment_texts(&variant),
            "{variant}\n---\n{once}"
        );
        assert_eq!(
            format(&once).unwrap(),
            once,
            "not idempotent:\n{variant}\n---\n{once}"
        );
    }
}
