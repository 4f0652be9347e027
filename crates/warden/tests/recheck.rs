//! The language server's checks re-check only the rules an edit changed (the checker's
//! memo, kept in the `ParseCache`): their results must be a fresh check's, always. Random
//! edits of multi-file policies (the acme example and fixtures of `tests/check`), each
//! analysed with the cache the previous one filled, compared with a fresh analysis:
//! diagnostics, program, and the index position requests answer from.

// Failing loudly is what a test is for.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use proptest::prelude::*;
use warden::{Analysis, ParseCache, SourceText};
use warden_check::index::{SymbolKind, Target, TypeId};
use warden_syntax::ast::Item;

/// The policies edited: the acme example (eight files importing each other and the
/// standard library), and fixtures of `tests/check` taken together as policies of
/// several files: two whose lints over the policy run (no error), one with errors
/// (regexes, overrides, impossible values).
fn policies() -> Vec<Vec<SourceText>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let acme = warden::read_policy(&root.join("examples/acme/policy")).unwrap();
    let fixtures = |names: &[&str]| -> Vec<SourceText> {
        (names.iter())
            .map(|name| SourceText {
                path: format!("{name}.warden"),
                text: (std::fs::read_to_string(root.join(format!("tests/check/{name}.warden")))
                    .unwrap())
                .into(),
            })
            .collect()
    };
    vec![
        acme,
        fixtures(&[
            "shadowed-rule",
            "covered-glob",
            "exempts-impossible-rule",
            "unused-function",
            "unused-let",
        ]),
        fixtures(&["impossible-condition", "constant-condition"]),
        fixtures(&[
            "invalid-regex",
            "missing-override-set",
            "impossible-value",
            "regex-as-glob",
        ]),
    ]
}

/// What the analyses must agree on. The index is compared whole: hover, definition and
/// references answer from it.
fn observed(analysis: &Analysis) -> Vec<String> {
    let mut out = vec![
        format!("{:#?}", analysis.diagnostics),
        format!("{:#?}", analysis.program),
    ];
    if let Some(index) = &analysis.index {
        // Type ids are the order types were first met in, which a replay changes: the
        // types themselves are compared.
        let ty = |id: TypeId| format!("{:?}", index.ty(id));
        let target = |target: &Target| match target {
            Target::Method { receiver, name } => format!("method {} of {}", name, ty(*receiver)),
            other => format!("{other:?}"),
        };
        for s in &index.symbols {
            out.push(format!(
                "{} {:?} {} {:?} {:?} {:?} {} {:?} {:?} {}",
                s.name,
                s.kind,
                s.file,
                s.span,
                s.extent,
                s.ty.map(ty),
                s.inferred,
                s.doc,
                s.module,
                s.renamable
            ));
        }
        for r in &index.references {
            out.push(format!(
                "{} {:?} {} {}",
                r.file,
                r.span,
                target(&r.target),
                ty(r.ty)
            ));
        }
        for e in &index.exprs {
            out.push(format!("{} {:?} {}", e.file, e.span, ty(e.ty)));
        }
        for c in &index.calls {
            out.push(format!(
                "{} {:?} {:?} {} {:?}",
                c.file,
                c.span,
                c.callee,
                target(&c.target),
                c.args
            ));
        }
        out.push(format!("{:?}", index.rule_lists));
        let places: Vec<_> = (index.symbols.iter())
            .map(|s| (index.at_place(s.file, s.span.start), index.rule(&s.name)))
            .collect();
        out.push(format!("{places:?}"));
    }
    out
}

fn assert_same(cache: &mut ParseCache, sources: &[SourceText]) {
    let cached = warden::analyze_cached(sources, cache);
    let fresh = warden::analyze(sources);
    assert_eq!(observed(&cached), observed(&fresh));
    let cached = warden::analyze_indexed_cached(sources, cache, None);
    let fresh = warden::analyze_indexed(sources);
    assert_eq!(observed(&cached), observed(&fresh));
}

/// An indexed analysis makes no program (each rule's IR goes once the lints have its
/// facts), and reports what an analysis with a program does.
#[test]
fn an_indexed_analysis_reports_the_same_without_a_program() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut checked = 0;
    for entry in std::fs::read_dir(root.join("tests/check")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "warden") {
            let sources = warden::read_policy(&path).unwrap();
            let indexed = warden::analyze_indexed(&sources);
            assert!(indexed.program.is_none());
            let plain = warden::analyze(&sources);
            assert_eq!(indexed.diagnostics, plain.diagnostics, "{}", path.display());
            checked += 1;
        }
    }
    let acme = warden::read_policy(&root.join("examples/acme/policy")).unwrap();
    assert_eq!(
        warden::analyze_indexed(&acme).diagnostics,
        warden::analyze(&acme).diagnostics
    );
    assert!(checked > 40, "{checked}");
}

/// An edit of one rule's body re-checks that rule alone (and the few that cannot be
/// stored: the first reader of a standard `let`, a rule adding to the policy's override
/// conditions); a new `let` re-checks every rule.
#[test]
fn an_edit_re_checks_only_the_rules_it_changed() {
    let mut sources = policies().swap_remove(0);
    let mut cache = ParseCache::default();
    assert_same(&mut cache, &sources);
    let first = cache.check_stats(false);
    assert!(first.checked > 20, "{first:?}");
    assert_eq!(first.checked - first.stored, 3, "{first:?}");

    let review = sources
        .iter()
        .position(|s| s.path == "review.warden")
        .unwrap();
    edit_text(&mut sources[review], |text| {
        let at = text.find("lines > 1000").unwrap();
        text.replace_range(at..at + "lines > 1000".len(), "lines > 1001");
        // The text above it moves the rules after it.
        text.insert_str(0, "// moved\n");
    });
    assert_same(&mut cache, &sources);
    for indexed in [false, true] {
        let stats = cache.check_stats(indexed);
        assert_eq!(stats.replayed, first.stored - 1, "{stats:?}");
        assert_eq!(stats.checked, first.checked - stats.replayed, "{stats:?}");
    }

    // A new glob and regex above rules that have theirs: those rules' ids move.
    let mut mixed = policies().swap_remove(1);
    assert_same(&mut cache, &mixed);
    edit_text(&mut mixed[0], |text| text.insert_str(0, NEW_PATTERNS));
    assert_same(&mut cache, &mixed);
    let stats = cache.check_stats(false);
    assert!(stats.replayed > 10, "{stats:?}");
    // Again, with a rule that another shadows changed: it is checked with the new ids,
    // the other replayed, and the lint compares them.
    mixed = policies().swap_remove(1);
    assert_same(&mut cache, &mixed);
    edit_text(&mut mixed[0], |text| {
        *text = text.replacen("let touched = ", "let touched  = ", 1);
        text.insert_str(0, NEW_PATTERNS);
    });
    assert_same(&mut cache, &mixed);

    let lib = sources.iter().position(|s| s.path == "lib.warden").unwrap();
    edit_text(&mut sources[lib], |text| text.push_str("\nlet added = 1\n"));
    assert_same(&mut cache, &sources);
    let stats = cache.check_stats(false);
    assert_eq!((stats.checked, stats.replayed), (first.checked, 0));
}

/// An edit of a `let`'s or `fn`'s text re-checks the rules that read it, directly or
/// through other `let`s and `fn`s, and replays the others; renaming one (the shape of
/// the environment) re-checks every rule.
#[test]
fn an_edit_of_a_let_re_checks_its_readers_alone() {
    let lib = "let limit = 1000\nlet threshold = limit\nlet twice = limit * 2\n\
               let label = \"big\"\n\nfn large(n: int) -> bool {\n  n > twice\n}\n";
    let rules = "rule reads_threshold {\n  when change.files.len() > threshold\n  deny \"many\"\n}\n\n\
                 rule calls_large {\n  when large(change.files.len())\n  deny \"large\"\n}\n\n\
                 rule reads_label {\n  when change.labels.contains(label)\n  deny \"labelled\"\n}\n\n\
                 rule reads_nothing {\n  when change.draft\n  deny \"draft\"\n}\n";
    let mut sources = vec![SourceText::new("policy.warden", format!("{lib}\n{rules}"))];
    let mut cache = ParseCache::default();
    assert_same(&mut cache, &sources);
    let replayed_checked = |cache: &ParseCache| {
        let (plain, indexed) = (cache.check_stats(false), cache.check_stats(true));
        assert_eq!(plain, indexed);
        (plain.replayed, plain.checked)
    };
    assert_eq!(replayed_checked(&cache), (0, 4));
    // `limit` is read through `threshold` by `reads_threshold`, and through `twice` and
    // `large` by `calls_large`.
    edit_text(&mut sources[0], |text| {
        *text = text.replace("= 1000", "= 1001")
    });
    assert_same(&mut cache, &sources);
    assert_eq!(replayed_checked(&cache), (2, 2));
    // A function's body: its callers alone.
    edit_text(&mut sources[0], |text| {
        *text = text.replace("n > twice", "n >= twice")
    });
    assert_same(&mut cache, &sources);
    assert_eq!(replayed_checked(&cache), (3, 1));
    // A type changed: its readers are checked again with the new type (the rule reading
    // it through `threshold` now compares a number with a string).
    edit_text(&mut sources[0], |text| {
        *text = text.replace("= 1001", "= \"many\"")
    });
    assert_same(&mut cache, &sources);
    assert_eq!(replayed_checked(&cache), (2, 2));
    edit_text(&mut sources[0], |text| *text = text.replace("\"big\"", "1"));
    assert_same(&mut cache, &sources);
    assert_eq!(replayed_checked(&cache), (3, 1));
    // A name changed: every rule.
    edit_text(&mut sources[0], |text| {
        *text = text.replace("let label = 1", "let labels = 1")
    });
    assert_same(&mut cache, &sources);
    assert_eq!(replayed_checked(&cache), (0, 4));
}

/// Above `LARGE_POLICY_BYTES` of policy text, every analysis checks every rule, and the memo
/// holds nothing (memory first); the results are a fresh check's all the same.
#[test]
fn a_policy_above_the_memo_limit_is_checked_whole() {
    let rule = |i: usize| {
        format!(
            "/// Rule {i}.\nrule r{i} {{\n  when change.files.any(f => f.path matches \"svc-{i}/**\")\n  \
             require 1 approval from team(\"team-{i}\")\n}}\n\n"
        )
    };
    let mut text = String::new();
    let mut rules = 0;
    while text.len() <= warden::LARGE_POLICY_BYTES {
        text.push_str(&rule(rules));
        rules += 1;
    }
    let mut sources = vec![SourceText {
        path: "big.warden".to_string(),
        text: text.into(),
    }];
    let mut cache = ParseCache::default();
    assert_same(&mut cache, &sources);
    edit_text(&mut sources[0], |text| text.push_str(&rule(rules)));
    assert_same(&mut cache, &sources);
    for indexed in [false, true] {
        let stats = cache.check_stats(indexed);
        assert_eq!(stats, warden_check::Stats::default(), "{stats:?}");
    }
    // Below the limit again, the memo works again.
    edit_text(&mut sources[0], |text| {
        text.truncate(warden::LARGE_POLICY_BYTES / 2);
        let end = text.rfind("/// Rule").unwrap();
        text.truncate(end);
    });
    assert_same(&mut cache, &sources);
    edit_text(&mut sources[0], |text| text.push_str(&rule(rules)));
    assert_same(&mut cache, &sources);
    assert!(cache.check_stats(false).replayed > 1000);
}

/// A large policy's analyses without a program hold each rule's outline and parse the
/// rule again when they check it: with a comment long enough to make each policy large
/// at the end of a file, nothing moves, and they report what the trees do, and index the
/// same.
#[test]
fn a_large_policy_checks_its_rules_from_their_outlines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut all = policies();
    for entry in std::fs::read_dir(root.join("tests/check")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "warden") {
            all.push(warden::read_policy(&path).unwrap());
        }
    }
    let padding = format!(
        "\n{}\n",
        "// padding\n".repeat(warden::LARGE_POLICY_BYTES / 10)
    );
    for sources in all {
        let mut padded = sources.clone();
        let last = padded.len() - 1;
        edit_text(&mut padded[last], |text| text.push_str(&padding));
        let plain = warden::analyze(&sources);
        let mut cache = ParseCache::default();
        let diagnosed = warden::diagnose_cached(&padded, &mut cache);
        assert_eq!(
            diagnosed.diagnostics, plain.diagnostics,
            "{}",
            sources[0].path
        );
        assert!(
            (diagnosed.files.iter())
                .flat_map(|f| &f.module.items)
                .all(|item| !matches!(item, Item::Rule(_))),
            "{}",
            sources[0].path
        );
        let indexed = warden::analyze_indexed_cached(&padded, &mut cache, None);
        assert_eq!(
            observed(&indexed),
            observed(&warden::analyze_indexed(&sources))
        );
    }
}

/// Of a large policy, an index around a place holds every item's symbol and every use
/// of one (what references and rename read), and of the rule there all that the whole
/// index holds; of the other rules, nothing local. It says where it answers.
#[test]
fn a_large_policy_is_indexed_around_a_place() {
    let mut sources = policies().swap_remove(0);
    let file = sources
        .iter()
        .position(|s| s.path == "review.warden")
        .unwrap();
    let (module, _) = warden_syntax::parse(&sources[file].text, warden_syntax::FileId(0));
    let rules: Vec<warden_syntax::Span> = (module.items.iter())
        .filter_map(|item| match item {
            Item::Rule(rule) => Some(rule.span),
            _ => None,
        })
        .collect();
    assert!(rules.len() > 2);
    let padding = format!(
        "\n{}\n",
        "// padding\n".repeat(warden::LARGE_POLICY_BYTES / 10)
    );
    edit_text(&mut sources[file], |text| text.push_str(&padding));
    let mut cache = ParseCache::default();
    let whole = warden::analyze_indexed_cached(&sources, &mut cache, None)
        .index
        .unwrap();
    let inside = rules[1];
    let at = warden_syntax::Span::new(inside.start + 3, inside.start + 3);
    let around =
        (warden::analyze_indexed_cached(&sources, &mut cache, Some((file, at))).index).unwrap();
    let in_rule = |f: usize, span: warden_syntax::Span| {
        f == file && inside.start <= span.start && span.end <= inside.end
    };
    // The rules other than the one around `at`, anywhere in the policy.
    let other_rules: Vec<(usize, warden_syntax::Span)> = (whole.symbols.iter())
        .filter(|s| s.kind == SymbolKind::Rule && !in_rule(s.file, s.extent))
        .map(|s| (s.file, s.extent))
        .collect();
    let in_other_rule = |f: usize, span: warden_syntax::Span| {
        (other_rules.iter()).any(|(rf, r)| *rf == f && r.start <= span.start && span.end <= r.end)
    };
    let expected = entries(&whole, |f, span, item| item || !in_other_rule(f, span));
    assert_eq!(entries(&around, |_, _, _| true), expected);
    assert!(expected.len() < entries(&whole, |_, _, _| true).len());
    assert!(around.answers(file, at) && around.answers(file, inside));
    assert!(!around.answers(file, rules[0]) && !around.answers(file, rules[2]));
    assert!(whole.answers(file, rules[0]));
    // Symbols of items, and uses of one, are everywhere.
    let kinds = (around.symbols.iter()).filter(|s| in_other_rule(s.file, s.span));
    assert!(kinds.clone().all(|s| s.kind.is_item()) && kinds.count() > 20);
    assert!((around.references.iter()).any(|r| in_other_rule(r.file, r.span)));
}

/// The entries of an index that `keep` keeps (given a file, a span, and whether it is
/// an item's symbol or a use of one), with each symbol a use names written out.
fn entries(
    index: &warden_check::index::Index,
    keep: impl Fn(usize, warden_syntax::Span, bool) -> bool,
) -> Vec<String> {
    let item = SymbolKind::is_item;
    let named = |target: &Target| match target {
        Target::Symbol(id) => {
            let s = &index.symbols[*id];
            (
                format!("{} {:?} {} {:?}", s.name, s.kind, s.file, s.span),
                item(s.kind),
            )
        }
        Target::Method { receiver, name } => {
            (format!("method {name} of {:?}", index.ty(*receiver)), false)
        }
        other => (format!("{other:?}"), false),
    };
    let mut out = Vec::new();
    // A body's symbol by where it is written and where it can be used: the `override`
    // of a rule's override condition is written nowhere.
    let kept = |s: &&warden_check::index::Symbol| {
        keep(s.file, s.span, item(s.kind)) && keep(s.file, s.extent, item(s.kind))
    };
    for s in index.symbols.iter().filter(kept) {
        let ty = s.ty.map(|t| index.ty(t));
        out.push(format!(
            "symbol {} {:?} {} {:?} {ty:?}",
            s.name, s.kind, s.file, s.span
        ));
    }
    for r in &index.references {
        let (target, of_item) = named(&r.target);
        if keep(r.file, r.span, of_item) {
            out.push(format!(
                "use {} {:?} {target} {:?}",
                r.file,
                r.span,
                index.ty(r.ty)
            ));
        }
    }
    for e in (index.exprs.iter()).filter(|e| keep(e.file, e.span, false)) {
        out.push(format!("expr {} {:?} {:?}", e.file, e.span, index.ty(e.ty)));
    }
    for c in (index.calls.iter()).filter(|c| keep(c.file, c.span, false)) {
        let (target, _) = named(&c.target);
        out.push(format!(
            "call {} {:?} {target} {:?}",
            c.file, c.span, c.args
        ));
    }
    out
}

/// Edits a source's text in place.
fn edit_text(source: &mut SourceText, change: impl FnOnce(&mut String)) {
    let mut text = source.text.to_string();
    change(&mut text);
    source.text = text.into();
}

const NEW_PATTERNS: &str = "rule patterns {\n  when change.files.any(f => f.path matches \"new/**\" \
    or f.path matches_regex regex(\"^n\"))\n  deny \"new\"\n}\n\n";

const SNIPPETS: &[&str] = &[
    NEW_PATTERNS,
    " ",
    "\n",
    "x",
    "1",
    "\"",
    "}",
    "/// d\n",
    "// c\n",
    " + 1",
    " and true",
    "rule q {\n  deny \"q\"\n}\n",
    "let z = 1\n",
    "exempt",
    "overridable ",
];

#[derive(Debug, Clone)]
enum Edit {
    Insert(usize, usize, usize),
    Delete(usize, usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        3 => (any::<usize>(), any::<usize>(), 0..SNIPPETS.len())
            .prop_map(|(file, at, s)| Edit::Insert(file, at, s)),
        1 => (any::<usize>(), any::<usize>(), 0..12usize)
            .prop_map(|(file, at, len)| Edit::Delete(file, at, len)),
    ]
}

/// The char boundary at or before `at % (len + 1)`.
fn boundary(text: &str, at: usize) -> usize {
    let mut at = at % (text.len() + 1);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn re_checks_equal_fresh_checks(
        policy in 0..4usize,
        edits in prop::collection::vec(edit(), 1..8),
    ) {
        let mut sources = policies().swap_remove(policy);
        let mut cache = ParseCache::default();
        assert_same(&mut cache, &sources);
        let files = sources.len();
        for edit in edits {
            match edit {
                Edit::Insert(file, at, snippet) => edit_text(&mut sources[file % files], |text| {
                    let at = boundary(text, at);
                    text.insert_str(at, SNIPPETS[snippet]);
                }),
                Edit::Delete(file, at, len) => edit_text(&mut sources[file % files], |text| {
                    let start = boundary(text, at);
                    let end = boundary(text, (start + len).min(text.len()));
                    text.replace_range(start..end.max(start), "");
                }),
            }
            assert_same(&mut cache, &sources);
        }
    }
}
