//! Properties of the whole pipeline over generated input (proptest; case counts are kept
//! small so the file runs in seconds in a debug build):
//!
//! - the JSON report does not depend on the order of the keys in the change's and the
//!   fact files' JSON objects, on the order of the fact files, or on the order in which
//!   a policy directory's files were created;
//! - differential: every glob test the optimizer rewrites or caches (`any`, `all`,
//!   `none`, `count`, `filter` over `change.files`, through a `let`, a function taking
//!   the glob, a union of globs, `touches`), evaluated with the policy-wide automaton or
//!   the small one of a change of few paths, or from the first match of every glob
//!   (what `any` reads), gives what globset says matching each path alone, and the
//!   witness of `any` names the first file that matches (also for a policy whose
//!   patterns all have a shape the index of a large change answers directly).

// Failing loudly is what a test is for.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{RngSeed, TestCaseError};
use serde_json::Value;
use warden::warden_change::UnknownFields;
use warden::{Options, Outcome, Policy, SourceText};

/// Inputs are read as `warden eval` reads them by default.
const STRICT: UnknownFields = UnknownFields::Reject;

fn acme() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/acme")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn acme_facts() -> Vec<(String, String)> {
    ["org", "services", "calendar"]
        .iter()
        .map(|name| {
            let path = format!("facts/{name}.json");
            let text = read(&acme().join(&path));
            (path, text)
        })
        .collect()
}

/// The acme example changes, by name.
fn acme_changes() -> Vec<(String, String)> {
    [
        "deploy-router-freeze",
        "pr-ai-control-plane",
        "range-bot-lockfiles",
    ]
    .iter()
    .map(|name| {
        let text = read(&acme().join(format!("changes/{name}.json")));
        (name.to_string(), text)
    })
    .collect()
}

fn compile(sources: &[SourceText]) -> Policy {
    warden::compile(sources).unwrap_or_else(|analysis| {
        panic!(
            "the policy does not check:\n{}",
            warden::render::diagnostics(&analysis, false)
        )
    })
}

fn report(policy: &Policy, change: &str, facts: &[(String, String)]) -> String {
    let input = warden::read_input("change.json", change, facts, STRICT)
        .unwrap_or_else(|e| panic!("the change does not load: {e}"));
    let options = Options {
        explain: true,
        ..Options::default()
    };
    warden::report_json(&warden::evaluate(policy, &input, options))
}

/// `cases` cases drawn from a fixed seed, so that every run tests the same cases;
/// `PROPTEST_CASES` and `PROPTEST_RNG_SEED` ask for more or other ones (a long run of
/// the differential test after a change to glob matching, for instance).
fn config(cases: u32) -> ProptestConfig {
    let defaults = ProptestConfig::default();
    ProptestConfig {
        cases: if std::env::var_os("PROPTEST_CASES").is_some() {
            defaults.cases
        } else {
            cases
        },
        rng_seed: match defaults.rng_seed {
            RngSeed::Random => RngSeed::Fixed(0x5741_5244_454e),
            seed => seed,
        },
        ..defaults
    }
}

/// A seeded generator (SplitMix64) for the orders proptest does not draw itself: the
/// keys of every JSON object.
struct Shuffler(u64);

impl Shuffler {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) % n as u64) as usize
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }

    /// `value` as JSON text with the keys of every object in a shuffled order
    /// (`serde_json::Value` would write them sorted).
    fn write(&mut self, value: &Value, out: &mut String) {
        match value {
            Value::Object(map) => {
                let mut entries: Vec<_> = map.iter().collect();
                self.shuffle(&mut entries);
                out.push('{');
                for (i, (key, value)) in entries.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::to_string(key).unwrap());
                    out.push(':');
                    self.write(value, out);
                }
                out.push('}');
            }
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    self.write(item, out);
                }
                out.push(']');
            }
            scalar => out.push_str(&serde_json::to_string(scalar).unwrap()),
        }
    }

    fn reorder_keys(&mut self, json: &str) -> String {
        let value: Value = serde_json::from_str(json).unwrap();
        let mut out = String::new();
        self.write(&value, &mut out);
        out
    }
}

proptest! {
    #![proptest_config(config(24))]

    /// The same change and facts, keys reordered in every object and fact files in any
    /// order, give the same report.
    #[test]
    fn the_report_ignores_key_order_and_fact_file_order(
        change in 0..3usize,
        seed in any::<u64>(),
        fact_order in Just(vec![0usize, 1, 2]).prop_shuffle(),
    ) {
        let policy = acme_policy();
        let facts = acme_facts();
        let (_, text) = &acme_changes()[change];
        let expected = report(policy, text, &facts);
        let mut shuffler = Shuffler(seed);
        let reordered_facts: Vec<(String, String)> = fact_order
            .iter()
            .map(|&i| (facts[i].0.clone(), shuffler.reorder_keys(&facts[i].1)))
            .collect();
        let got = report(policy, &shuffler.reorder_keys(text), &reordered_facts);
        prop_assert_eq!(got, expected);
    }
}

/// The acme policy, compiled once for the whole test binary.
fn acme_policy() -> &'static Policy {
    thread_local! {
        static POLICY: &'static Policy = Box::leak(Box::new(compile(
            &warden::read_policy(&acme().join("policy")).unwrap(),
        )));
    }
    POLICY.with(|policy| *policy)
}

/// A fresh, empty directory under the system's temporary directory.
fn temp_dir(what: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "warden-properties-{}-{what}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes `files` (relative path, text) below a new directory in the given order.
fn write_policy(what: &str, files: &[(String, String)], order: &[usize]) -> PathBuf {
    let dir = temp_dir(what);
    for &i in order {
        let path = dir.join(&files[i].0);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, &files[i].1).unwrap();
    }
    dir
}

/// Evaluates the policy of a directory on the acme change, digests included.
fn directory_report(dir: &Path) -> (Policy, String) {
    let policy = compile(&warden::read_policy(dir).unwrap());
    let facts = acme_facts();
    let (_, change) = &acme_changes()[1];
    let input = warden::read_input("change.json", change, &facts, STRICT)
        .unwrap()
        .with_digest(change, &facts);
    let options = Options {
        explain: true,
        ..Options::default()
    };
    let json = warden::report_json(&warden::evaluate(&policy, &input, options));
    (policy, json)
}

/// Relative paths of policy files: nested directories and names whose byte order
/// differs from their creation order and, on most file systems, from the order in
/// which a directory lists them.
fn policy_paths() -> impl Strategy<Value = Vec<String>> {
    let segment = prop_oneof![
        "[a-c]{1,2}",
        "[A-C_][a-c0-9]{0,2}",
        Just("a.b".to_string()),
        Just("a-b".to_string())
    ];
    let path = (prop::collection::vec(segment, 0..3), "[a-cA-C0-9_.-]{1,3}")
        .prop_map(|(dirs, name)| {
            let mut path = dirs.join("/");
            if !path.is_empty() {
                path.push('/');
            }
            path + &name + ".warden"
        })
        .prop_filter("not hidden", |p| !p.split('/').any(|s| s.starts_with('.')));
    prop::collection::btree_set(path, 1..8)
        .prop_map(|paths| paths.into_iter().collect::<Vec<_>>())
        // `a.warden` and the directory `a.warden/` cannot both exist.
        .prop_filter("no file is a directory", |paths| {
            !paths.iter().any(|p| {
                paths.iter().any(|q| {
                    q.len() > p.len() && q.starts_with(p.as_str()) && q.as_bytes()[p.len()] == b'/'
                })
            })
        })
        // Rule `r<i>` is in the file at `paths[i]`: not their byte order.
        .prop_shuffle()
}

proptest! {
    #![proptest_config(config(8))]

    /// The acme policy written file by file in any order gives the report (policy digest
    /// included) of the example directory.
    #[test]
    fn the_report_ignores_the_order_policy_files_were_created(seed in any::<u64>()) {
        let files: Vec<(String, String)> = warden::read_policy(&acme().join("policy"))
            .unwrap()
            .into_iter()
            .map(|s| (s.path, s.text.to_string()))
            .collect();
        let mut order: Vec<usize> = (0..files.len()).collect();
        Shuffler(seed).shuffle(&mut order);
        let (_, expected) = directory_report(&acme().join("policy"));
        let dir = write_policy("acme", &files, &order);
        let (_, got) = directory_report(&dir);
        std::fs::remove_dir_all(&dir).unwrap();
        prop_assert_eq!(got, expected);
    }

    /// Files of one rule each, at generated paths, created in two different orders:
    /// the same report, with the rules in the byte order of their paths.
    #[test]
    fn rules_come_in_the_byte_order_of_their_files(
        (paths, first, second) in policy_paths().prop_flat_map(|paths| {
            let order: Vec<usize> = (0..paths.len()).collect();
            (Just(paths), Just(order.clone()).prop_shuffle(), Just(order).prop_shuffle())
        }),
    ) {
        let files: Vec<(String, String)> = paths
            .iter()
            .enumerate()
            .map(|(i, path)| (path.clone(), format!("rule r{i} {{\n  deny \"{path}\"\n}}\n")))
            .collect();
        let one = write_policy("first", &files, &first);
        let two = write_policy("second", &files, &second);
        let (policy, expected) = directory_report(&one);
        let (_, got) = directory_report(&two);
        std::fs::remove_dir_all(&one).unwrap();
        std::fs::remove_dir_all(&two).unwrap();
        let mut sorted: Vec<usize> = (0..paths.len()).collect();
        sorted.sort_by(|&a, &b| paths[a].as_bytes().cmp(paths[b].as_bytes()));
        let loaded: Vec<&str> = policy
            .analysis
            .files
            .iter()
            .take(paths.len())
            .map(|f| f.path.as_str())
            .collect();
        prop_assert_eq!(loaded, sorted.iter().map(|&i| paths[i].as_str()).collect::<Vec<_>>());
        let report: Value = serde_json::from_str(&got).unwrap();
        let rules: Vec<&str> = report["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|rule| rule["name"].as_str().unwrap())
            .collect();
        let names: Vec<String> = sorted.iter().map(|i| format!("r{i}")).collect();
        prop_assert_eq!(rules, names.iter().map(String::as_str).collect::<Vec<_>>());
        prop_assert_eq!(got, expected);
    }
}

// ---------------------------------------------------------------- the differential test

/// Words that paths and globs share, so that globs match often.
const NAMES: &[&str] = &[
    "src",
    "lib",
    "docs",
    "a",
    "b",
    "ab",
    "main.rs",
    "lib.rs",
    "mod.rs",
    "README.md",
    "Cargo.toml",
    "Cargo.lock",
    "x.go",
    "y.py",
    "test",
    "tests",
    ".github",
    "workflows",
    "ci.yml",
    "é",
    "naïve.txt",
    "a.b.c",
    "_",
    "-",
    "v1.2",
    "readme.md",
    "Main.rs",
    "a*b",
    "[x]",
    "{y}",
    "a b",
];
const EXTENSIONS: &[&str] = &[
    "rs", "md", "lock", "toml", "go", "py", "yml", "txt", "c", "b.c",
];

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(NAMES).prop_map(str::to_string),
        1 => "[a-c]{1,3}(\\.[a-c]{1,2})?",
    ]
}

fn extension() -> impl Strategy<Value = String> {
    prop::sample::select(EXTENSIONS).prop_map(str::to_string)
}

/// One path segment of a glob: literals, `*`, `**`, `?`, alternations, classes,
/// extensions, prefixes.
fn glob_segment() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => name(),
        2 => Just("*".to_string()),
        2 => Just("**".to_string()),
        2 => extension().prop_map(|e| format!("*.{e}")),
        1 => name().prop_map(|n| format!("{n}*")),
        1 => name().prop_map(|n| format!("*{n}*")),
        1 => name().prop_map(|n| {
            // One character of the name replaced by `?`.
            let chars: Vec<char> = n.chars().collect();
            let at = chars.len() / 2;
            chars
                .iter()
                .enumerate()
                .map(|(i, &c)| if i == at { '?' } else { c })
                .collect()
        }),
        1 => (name(), name()).prop_map(|(a, b)| format!("{{{a},{b}}}")),
        1 => (extension(), extension()).prop_map(|(a, b)| format!("*.{{{a},{b}}}")),
        1 => ("[abcé.]{1,3}", "[a-c]{0,2}").prop_map(|(class, rest)| format!("[{class}]{rest}")),
        1 => ("[a-c]", "[a-c]{0,2}").prop_map(|(class, rest)| format!("[!{class}]{rest}")),
        1 => Just("[a-b]*".to_string()),
        // Escaped wildcards stand for themselves.
        1 => prop::sample::select(&["a\\*b", "\\[x\\]", "\\{y\\}", "a\\?b"][..])
            .prop_map(str::to_string),
    ]
}

/// A glob pattern: the shapes the matcher could special-case (literal path, `D/**`,
/// `**/*.EXT`, `**/NAME`, `D/*.EXT`) and free combinations of segments.
fn glob_pattern() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => path(),
        1 => name().prop_map(|d| format!("{d}/**")),
        1 => extension().prop_map(|e| format!("**/*.{e}")),
        1 => name().prop_map(|n| format!("**/{n}")),
        1 => (name(), extension()).prop_map(|(d, e)| format!("{d}/*.{e}")),
        4 => prop::collection::vec(glob_segment(), 1..5).prop_map(|s| s.join("/")),
    ]
    .prop_filter("a valid glob", |p| reference_matcher(p, true).is_some())
}

fn path() -> impl Strategy<Value = String> {
    prop::collection::vec(name(), 1..6).prop_map(|segments| segments.join("/"))
}

/// Files of a change: distinct paths, some renamed from another path.
fn files(count: std::ops::Range<usize>) -> impl Strategy<Value = Vec<(String, Option<String>)>> {
    prop::collection::btree_map(path(), prop::option::weighted(0.2, path()), count)
        .prop_map(|files| files.into_iter().collect())
        .prop_shuffle()
}

/// A change of few paths (below the threshold of 64 where a change gets an automaton of
/// only the patterns it could match), around the threshold, or of many.
fn change_files() -> impl Strategy<Value = Vec<(String, Option<String>)>> {
    prop_oneof![6 => files(0..12), 1 => files(60..70), 1 => files(100..160)]
}

/// globset's verdict on one pattern, built as the checker builds it.
fn reference_matcher(pattern: &str, literal_separator: bool) -> Option<globset::GlobMatcher> {
    globset::GlobBuilder::new(pattern)
        .literal_separator(literal_separator)
        .build()
        .ok()
        .map(|glob| glob.compile_matcher())
}

/// How a rule names its glob.
#[derive(Debug, Clone)]
enum GlobRef {
    /// A top-level `let g<i>`.
    Global(usize),
    /// `glob("…", …)` written where it is used.
    Inline(usize),
    /// A string literal (for a glob of one pattern).
    Literal(usize),
    /// A `let` of the rule.
    RuleLet(usize),
    /// `g<i> + g<j>`: either.
    Union(usize, usize),
}

/// What a rule computes from its glob `G`, with `f` a file.
#[derive(Debug, Clone, Copy)]
enum Form {
    /// `when change.files.any(f => f.path matches G)`: the outcome says, and the
    /// witness names the first matching file.
    When,
    Any,
    All,
    None,
    Count,
    FilterLen,
    /// `filter(…).map(f => f.additions)`: the indices of the matching files.
    FilterIndices,
    /// `map(f => if f.path matches G then 1 else 0)`.
    Bits,
    AnyNot,
    Touches,
    TouchesIndices,
    /// Through functions taking the glob: `hits(G)`, `which(G)`, `touched(G)`.
    FnCount,
    FnIndices,
    FnTouched,
}

impl Form {
    /// Whether the glob is the right operand of `matches` (not a method or function
    /// argument).
    fn uses_matches(self) -> bool {
        !matches!(
            self,
            Form::Touches
                | Form::TouchesIndices
                | Form::FnCount
                | Form::FnIndices
                | Form::FnTouched
        )
    }
}

const FORMS: &[Form] = &[
    Form::When,
    Form::Any,
    Form::All,
    Form::None,
    Form::Count,
    Form::FilterLen,
    Form::FilterIndices,
    Form::Bits,
    Form::AnyNot,
    Form::Touches,
    Form::TouchesIndices,
    Form::FnCount,
    Form::FnIndices,
    Form::FnTouched,
];

#[derive(Debug, Clone)]
struct Case {
    /// Each glob: its patterns (any of them matching).
    globs: Vec<Vec<String>>,
    rules: Vec<(Form, GlobRef)>,
    /// Changes evaluated one after the other with the same compiled policy (so the
    /// automata kept between evaluations are exercised), each its files.
    changes: Vec<Vec<(String, Option<String>)>>,
}

fn case() -> impl Strategy<Value = Case> {
    case_of(glob_pattern().boxed(), change_files().boxed())
}

/// A case whose patterns all have a shape whose first match the index of a large
/// change answers (`d/**`, `d/*.EXT`, `**/*.EXT`, `**/NAME`), its changes mostly
/// above the threshold of 64 files where the index has them.
fn case_of_indexed_shapes() -> impl Strategy<Value = Case> {
    let extension = prop::sample::select(EXTENSIONS)
        .prop_filter("one dot", |e| !e.contains('.'))
        .prop_map(str::to_string);
    let dir = || prop::sample::select(FEW_DIRS).prop_map(str::to_string);
    let pattern = prop_oneof![
        dir().prop_map(|d| format!("{d}/**")),
        extension.clone().prop_map(|e| format!("**/*.{e}")),
        name().prop_map(|n| format!("**/{n}")),
        (dir(), extension.clone()).prop_map(|(d, e)| format!("{d}/*.{e}")),
    ]
    .prop_filter("a valid glob", |p| reference_matcher(p, true).is_some());
    // Paths in few directories, so that a directory has several files of a kind.
    let path = (dir(), name(), prop::option::of(extension))
        .prop_map(|(dir, name, ext)| {
            let file = match ext {
                Some(ext) => format!("{name}.{ext}"),
                None => name,
            };
            if dir.is_empty() {
                file
            } else {
                format!("{dir}/{file}")
            }
        })
        .boxed();
    let files = |count: std::ops::Range<usize>| {
        prop::collection::btree_map(
            path.clone(),
            prop::option::weighted(0.1, path.clone()),
            count,
        )
        .prop_map(|files| files.into_iter().collect::<Vec<_>>())
        .prop_shuffle()
    };
    let changes = prop_oneof![1 => files(0..12), 1 => files(60..70), 3 => files(100..200)];
    case_of(pattern.boxed(), changes.boxed())
}

/// The directories of [`case_of_indexed_shapes`]' paths (`""`: the root).
const FEW_DIRS: &[&str] = &["", "a", "a/b", "a/b/c", "src", "x.y"];

fn case_of(
    pattern: BoxedStrategy<String>,
    change: BoxedStrategy<Vec<(String, Option<String>)>>,
) -> impl Strategy<Value = Case> {
    let globs = prop::collection::vec(prop::collection::vec(pattern, 1..4), 1..6);
    globs
        .prop_flat_map(move |globs| {
            let n = globs.len();
            let single: Vec<usize> = (0..n).filter(|&i| globs[i].len() == 1).collect();
            let glob_ref = prop_oneof![
                3 => (0..n).prop_map(GlobRef::Global),
                2 => (0..n).prop_map(GlobRef::Inline),
                1 => if single.is_empty() {
                    (0..n).prop_map(GlobRef::Inline).boxed()
                } else {
                    prop::sample::select(single).prop_map(GlobRef::Literal).boxed()
                },
                1 => (0..n).prop_map(GlobRef::RuleLet),
                1 => (0..n, 0..n).prop_map(|(a, b)| GlobRef::Union(a, b)),
            ];
            let rules = prop::collection::vec((prop::sample::select(FORMS), glob_ref), 1..24);
            let changes = prop::collection::vec(change.clone(), 1..20);
            (Just(globs), rules, changes)
        })
        .prop_map(|(globs, rules, changes)| Case {
            globs,
            rules,
            changes,
        })
}

fn glob_call(patterns: &[String]) -> String {
    let args: Vec<String> = patterns.iter().map(|p| format!("{p:?}")).collect();
    format!("glob({})", args.join(", "))
}

/// The policy of a case: a `let` per glob, the three functions, one rule per test
/// (`r<k>`), each showing its value in its message.
fn policy_text(case: &Case) -> String {
    let mut text = String::new();
    for (i, patterns) in case.globs.iter().enumerate() {
        writeln!(text, "let g{i} = {}", glob_call(patterns)).unwrap();
    }
    text.push_str(
        "\nfn hits(g: glob) -> int {\n  change.files.count(f => f.path matches g)\n}\n\
         fn which(g: glob) -> list<int> {\n  change.files.filter(f => f.path matches g).map(f => f.additions)\n}\n\
         fn touched(g: glob) -> bool {\n  change.files.any(f => f.touches(g))\n}\n",
    );
    for (k, (form, glob)) in case.rules.iter().enumerate() {
        let (local, g) = match glob {
            GlobRef::Global(i) => (None, format!("g{i}")),
            GlobRef::Inline(i) => (None, glob_call(&case.globs[*i])),
            // Only `matches` takes a string literal for a glob.
            GlobRef::Literal(i) if form.uses_matches() => {
                (None, format!("{:?}", case.globs[*i][0]))
            }
            GlobRef::Literal(i) => (None, glob_call(&case.globs[*i])),
            GlobRef::RuleLet(i) => (Some(glob_call(&case.globs[*i])), "local".to_string()),
            GlobRef::Union(a, b) => (None, format!("g{a} + g{b}")),
        };
        let files = "change.files";
        let value = match form {
            Form::When => None,
            Form::Any => Some(format!("{files}.any(f => f.path matches {g})")),
            Form::All => Some(format!("{files}.all(f => f.path matches {g})")),
            Form::None => Some(format!("{files}.none(f => f.path matches {g})")),
            Form::Count => Some(format!("{files}.count(f => f.path matches {g})")),
            Form::FilterLen => Some(format!("{files}.filter(f => f.path matches {g}).len()")),
            Form::FilterIndices => Some(format!(
                "{files}.filter(f => f.path matches {g}).map(f => f.additions)"
            )),
            Form::Bits => Some(format!(
                "{files}.map(f => if f.path matches {g} then 1 else 0)"
            )),
            Form::AnyNot => Some(format!("{files}.any(f => not (f.path matches {g}))")),
            Form::Touches => Some(format!("{files}.count(f => f.touches({g}))")),
            Form::TouchesIndices => Some(format!(
                "{files}.filter(f => f.touches({g})).map(f => f.additions)"
            )),
            Form::FnCount => Some(format!("hits({g})")),
            Form::FnIndices => Some(format!("which({g})")),
            Form::FnTouched => Some(format!("touched({g})")),
        };
        writeln!(text, "\nrule r{k} {{").unwrap();
        if let Some(local) = local {
            writeln!(text, "  let local = {local}").unwrap();
        }
        match value {
            Some(value) => {
                writeln!(text, "  let v = {value}\n  deny \"{{v}}\"").unwrap();
            }
            None => {
                writeln!(
                    text,
                    "  when {files}.any(f => f.path matches {g})\n  deny \"hit\""
                )
                .unwrap();
            }
        }
        text.push_str("}\n");
    }
    text
}

/// The change: the acme pull request with the given files, each file's `additions`
/// its index (what `FilterIndices` reads).
fn change_text(base: &Value, files: &[(String, Option<String>)]) -> String {
    let files: Vec<Value> = files
        .iter()
        .enumerate()
        .map(|(i, (path, previous))| {
            serde_json::json!({
                "path": path,
                "previous_path": previous,
                "status": if previous.is_some() { "renamed" } else { "modified" },
                "additions": i,
                "deletions": 0,
                "binary": false,
                "generated": false,
                "owners": [],
                "services": [],
            })
        })
        .collect();
    let mut change = base.clone();
    change["files"] = Value::Array(files);
    change.to_string()
}

/// What a rule should show, computed with globset one path at a time.
#[derive(Debug, PartialEq)]
enum Expected {
    /// Whether the rule applied: the file its witness names, if it did.
    Applies(Option<String>),
    Bool(bool),
    Ints(Vec<usize>),
}

fn expected(
    case: &Case,
    form: Form,
    glob: &GlobRef,
    files: &[(String, Option<String>)],
    literal_separator: bool,
) -> Expected {
    let patterns: Vec<&String> = match glob {
        GlobRef::Global(i) | GlobRef::Inline(i) | GlobRef::Literal(i) | GlobRef::RuleLet(i) => {
            case.globs[*i].iter().collect()
        }
        GlobRef::Union(a, b) => case.globs[*a].iter().chain(&case.globs[*b]).collect(),
    };
    let matchers: Vec<globset::GlobMatcher> = patterns
        .iter()
        .map(|p| reference_matcher(p, literal_separator).unwrap())
        .collect();
    let matches = |path: &str| matchers.iter().any(|m| m.is_match(path));
    let hit: Vec<bool> = files.iter().map(|(path, _)| matches(path)).collect();
    let touched: Vec<bool> = files
        .iter()
        .map(|(path, previous)| matches(path) || previous.as_deref().is_some_and(matches))
        .collect();
    let indices =
        |flags: &[bool]| -> Vec<usize> { (0..flags.len()).filter(|&i| flags[i]).collect() };
    let count = |flags: &[bool]| flags.iter().filter(|&&b| b).count();
    match form {
        Form::When => Expected::Applies(
            hit.iter()
                .position(|&h| h)
                .map(|first| files[first].0.clone()),
        ),
        Form::Any => Expected::Bool(hit.contains(&true)),
        Form::All => Expected::Bool(!hit.contains(&false)),
        Form::None => Expected::Bool(!hit.contains(&true)),
        Form::AnyNot => Expected::Bool(hit.contains(&false)),
        Form::FnTouched => Expected::Bool(touched.contains(&true)),
        Form::Count | Form::FilterLen | Form::FnCount => Expected::Ints(vec![count(&hit)]),
        Form::Touches => Expected::Ints(vec![count(&touched)]),
        Form::FilterIndices | Form::FnIndices => Expected::Ints(indices(&hit)),
        Form::TouchesIndices => Expected::Ints(indices(&touched)),
        Form::Bits => Expected::Ints(hit.iter().map(|&b| usize::from(b)).collect()),
    }
}

/// What the report shows for a rule, read as the expected value's kind: whether it
/// applied, a boolean message, or the integers in its message (a number, or a list
/// shown as prose: only the digits matter).
fn shown(rule: &warden::report::RuleReport, like: &Expected) -> Result<Expected, String> {
    let message = rule.message.as_deref().unwrap_or("");
    match (rule.outcome, like) {
        (Outcome::Violated, Expected::Applies(_)) => match rule.witnesses.as_slice() {
            [witness] => Ok(Expected::Applies(witness.file.clone())),
            other => Err(format!("{} witnesses", other.len())),
        },
        (Outcome::NotApplicable, Expected::Applies(_)) => Ok(Expected::Applies(None)),
        (Outcome::Violated, Expected::Bool(_)) => match message {
            "true" => Ok(Expected::Bool(true)),
            "false" => Ok(Expected::Bool(false)),
            other => Err(format!("message `{other}` is no boolean")),
        },
        (Outcome::Violated, Expected::Ints(_)) => Ok(Expected::Ints(
            message
                .split(|c: char| !c.is_ascii_digit())
                .filter(|s| !s.is_empty())
                .map(|s| s.parse().unwrap())
                .collect(),
        )),
        (outcome, _) => Err(format!("outcome {} ({message})", outcome.as_str())),
    }
}

fn acme_pull_request() -> Value {
    let (_, text) = &acme_changes()[1];
    serde_json::from_str(text).unwrap()
}

/// Every rule of every change of the case whose report differs from the reference.
fn mismatches(case: &Case, literal_separator: bool) -> Vec<String> {
    let policy = compile(&[SourceText {
        path: "globs.warden".to_string(),
        text: policy_text(case).into(),
    }]);
    let base = acme_pull_request();
    let facts = acme_facts();
    let mut out = Vec::new();
    // The first change again at the end: an automaton kept from an earlier evaluation.
    let again = case.changes.first().into_iter();
    for (c, files) in case.changes.iter().chain(again).enumerate() {
        let input = warden::read_input("change.json", &change_text(&base, files), &facts, STRICT)
            .unwrap_or_else(|e| panic!("the change does not load: {e}"));
        let report = warden::evaluate(&policy, &input, Options::default());
        for (k, (form, glob)) in case.rules.iter().enumerate() {
            let want = expected(case, *form, glob, files, literal_separator);
            let name = format!("r{k}");
            let Some(rule) = report.rules.iter().find(|r| *r.name == *name) else {
                out.push(format!("change {c}: rule {name} missing"));
                continue;
            };
            match shown(rule, &want) {
                Ok(got) if got == want => {}
                Ok(got) => out.push(format!(
                    "change {c} ({} files): {name} ({form:?} of {glob:?}): Warden {got:?}, globset {want:?}",
                    files.len()
                )),
                Err(error) => out.push(format!("change {c}: {name}: {error}")),
            }
        }
    }
    out
}

/// Fails with every disagreement between Warden and globset on `case`, and its policy.
fn agrees_with_globset(case: &Case) -> Result<(), TestCaseError> {
    let wrong = mismatches(case, true);
    if wrong.is_empty() {
        return Ok(());
    }
    Err(TestCaseError::fail(format!(
        "{}\n--- policy ---\n{}",
        wrong.join("\n"),
        policy_text(case)
    )))
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn glob_tests_agree_with_globset_one_path_at_a_time(case in case()) {
        agrees_with_globset(&case)?;
    }

    /// The same, with every pattern of a shape whose first match is read from the
    /// index of a large change (on both sides of its threshold of 64 files).
    #[test]
    fn indexed_first_matches_agree_with_globset(case in case_of_indexed_shapes()) {
        agrees_with_globset(&case)?;
    }
}

/// The differential test can fail: a reference where `*` crosses `/` disagrees with
/// Warden, in every form, on a path where that matters.
#[test]
fn the_differential_test_catches_a_wrong_reference() {
    let case = Case {
        globs: vec![vec!["src/*.rs".to_string()]],
        rules: FORMS
            .iter()
            .map(|&form| (form, GlobRef::Global(0)))
            .collect(),
        changes: vec![vec![("src/a/b.rs".to_string(), None)]],
    };
    assert_eq!(mismatches(&case, true), Vec::<String>::new());
    let wrong = mismatches(&case, false);
    // Each form, for the change and for the same change evaluated again.
    assert_eq!(wrong.len(), 2 * FORMS.len(), "{wrong:#?}");
}
