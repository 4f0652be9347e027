//! What each fuzz target does with its input, as plain functions over bytes: the targets
//! in `fuzz_targets/` call them, and so can a debugger or a test replaying a crash.
//! Every function must return for any input; a panic (or an abort, a hang, an overflow
//! in this overflow-checked build) is the bug the fuzzer looks for.

// The harness may fail loudly when the repository's own examples do not load.
#![allow(clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use lsp_server::Message;
use warden::warden_change::UnknownFields;
use warden::{Options, Policy, SourceText};

fn acme() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/acme")
}

/// A budget well below the default: fuzzed policies loop over fuzzed changes, and an
/// exhausted budget is a path worth exercising too.
const BUDGET: u64 = 200_000;

/// The direct parser and pest's path on the input as UTF-8: when the direct parser
/// accepts it, pest's path parses it without a diagnostic into the same tree; when it
/// rejects it, pest's path reports something; and `parse` gives what pest's path gives.
pub fn parse(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let grammar = warden_syntax::parse_with_grammar(text, warden_syntax::FileId(0));
        match warden_syntax::parse_direct(text) {
            // The direct parser accepts only what the grammar accepts, as the same tree.
            warden_syntax::Direct::Parsed(direct) => {
                assert!(
                    grammar.1.is_empty(),
                    "accepted a file with errors: {:?}",
                    grammar.1
                );
                assert_eq!(direct, grammar.0, "the two parsers built different trees");
            }
            // And rejects only what the grammar rejects.
            warden_syntax::Direct::Rejected => {
                assert!(!grammar.1.is_empty(), "rejected a file the grammar accepts");
            }
            warden_syntax::Direct::Declined => {}
        }
        // `parse` reads the items of a broken file with the direct parser first.
        let parsed = warden_syntax::parse(text, warden_syntax::FileId(0));
        assert_eq!(parsed, grammar, "parse differs from pest's path");
        outlines(text, parsed);
    }
}

/// Keeping rule outlines is the same parse with each rule outlined, and each outline
/// parses again into its rule's tree.
fn outlines(
    text: &str,
    (tree, diagnostics): (warden_syntax::ast::Module, Vec<warden_syntax::Diagnostic>),
) {
    use warden_syntax::ast::Item;
    let file = warden_syntax::FileId(0);
    let (outlined, outlined_diagnostics) =
        warden_syntax::parse_for(text, file, warden_syntax::RuleBodies::Outlined);
    assert_eq!(
        outlined_diagnostics, diagnostics,
        "outlined: other diagnostics"
    );
    assert_eq!(
        outlined.items.len(),
        tree.items.len(),
        "outlined: other items"
    );
    for (item, outline) in tree.items.into_iter().zip(&outlined.items) {
        match (item, outline) {
            (Item::Rule(rule), Item::RuleOutline(outline)) => {
                let again = warden_syntax::parse_rule(text, file, outline);
                assert_eq!(again.as_ref(), Some(&*rule), "an outline parsed again");
                assert_eq!(&rule.outline(), outline, "another outline");
            }
            (item, outline) => assert_eq!(&item, outline, "outlined: another item"),
        }
    }
}

/// `warden_syntax::format` on the input as UTF-8: when it formats, the result parses
/// without error, keeps every comment, and formats to itself.
pub fn format(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(once) = warden_syntax::format(text) else {
        return;
    };
    let (_, diagnostics) = warden_syntax::parse(&once, warden_syntax::FileId(0));
    assert!(
        diagnostics.is_empty(),
        "the formatted text does not parse: {diagnostics:?}"
    );
    let comments = |t: &str| -> Vec<String> {
        warden_syntax::format::comments(t)
            .into_iter()
            .map(|c| c.text)
            .collect()
    };
    assert_eq!(
        comments(&once),
        comments(text),
        "formatting lost or changed a comment"
    );
    let twice = warden_syntax::format(&once).expect("the formatted text formats");
    assert_eq!(twice, once, "formatting is not idempotent");
}

/// Parse and check the input as a one-file policy, then render its diagnostics (as
/// `warden check` does, human and JSON), which reads every span against the text.
pub fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let sources = one_file(text);
    let analysis = match warden::compile(&sources) {
        Ok(mut policy) => {
            policy.compile_all_regexes();
            policy.analysis
        }
        Err(analysis) => *analysis,
    };
    let _ = warden::render::diagnostics(&analysis, false);
    let _ = warden::render::diagnostics_json(&analysis);
}

/// Computes a value once per thread (the fuzzer runs one) and keeps it for the life of
/// the process: the policy and inputs hold `Rc`s, so a `static` cannot.
macro_rules! once {
    ($ty:ty, $init:expr) => {{
        thread_local! {
            static VALUE: &'static $ty = Box::leak(Box::new($init));
        }
        VALUE.with(|value| *value)
    }};
}

/// The acme policy, compiled once per process.
fn acme_policy() -> &'static Policy {
    once!(Policy, {
        let sources = warden::read_policy(&acme().join("policy")).expect("examples/acme/policy");
        warden::compile(&sources)
            .ok()
            .expect("examples/acme/policy checks")
    })
}

/// The acme fact files, as `(path, text)`.
fn acme_facts() -> &'static [(String, String)] {
    once!(
        Vec<(String, String)>,
        ["org", "services", "calendar"]
            .iter()
            .map(|name| {
                let path = acme().join("facts").join(format!("{name}.json"));
                let text = warden::read(&path).expect("examples/acme/facts");
                (path.display().to_string(), text)
            })
            .collect()
    )
}

/// The three acme changes with their facts merged in.
fn acme_inputs() -> &'static [warden::Input] {
    once!(
        Vec<warden::Input>,
        [
            "deploy-router-freeze",
            "pr-ai-control-plane",
            "range-bot-lockfiles"
        ]
        .iter()
        .map(|name| {
            let path = acme().join("changes").join(format!("{name}.json"));
            let text = warden::read(&path).expect("examples/acme/changes");
            warden::read_input(name, &text, acme_facts(), UnknownFields::Reject)
                .ok()
                .expect("the acme changes load")
                .with_digest(&text, acme_facts())
        })
        .collect()
    )
}

/// Evaluates a report and renders it every way a user or CI sees it.
fn evaluate(policy: &Policy, input: &warden::Input) {
    let options = Options {
        explain: true,
        budget: BUDGET,
        ..Options::default()
    };
    let report = warden::evaluate(policy, input, options);
    let _ = warden::report_json(&report);
    let _ = warden::render::report(&report, false, true);
    let _ = warden::render::github::report(&report, "policy");
    let _ = warden::render::markdown::report(&report, "policy");
    let _ = warden::render::sarif::report(&report, "policy");
    let _ = warden::render::junit::report(&report, "policy");
}

/// The input as a change (JSON), loaded with the acme facts — strictly, and with
/// unknown fields allowed, which takes the parse that names them — and evaluated
/// against the acme policy; a rejected change renders its errors.
pub fn eval_change(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let policy = acme_policy();
    for unknown in [UnknownFields::Reject, UnknownFields::Warn] {
        match warden::read_input("change.json", text, acme_facts(), unknown) {
            Ok(input) => evaluate(policy, &input.with_digest(text, acme_facts())),
            Err(error) => {
                let _ = error.to_string();
            }
        }
    }
}

/// The input as a one-file policy, checked and, when it checks, evaluated on each acme
/// change.
pub fn eval_policy(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let sources = one_file(text);
    let Ok(policy) = warden::compile(&sources) else {
        return;
    };
    for input in acme_inputs() {
        evaluate(&policy, input);
    }
}

/// The input as LSP messages, one JSON object per line, handled in order by one server
/// (after the handshake, which the connection does). Messages naming a `file://` URI are
/// skipped: the server reads a file's policy directory from disk, and the fuzzer must not
/// walk the machine's file system.
pub fn lsp(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut server = warden_lsp::server::Server::default();
    for line in text.lines() {
        let Ok(message) = serde_json::from_str::<Message>(line) else {
            continue;
        };
        let touches_disk =
            serde_json::to_string(&message).map_or(true, |json| json.contains("file://"));
        if touches_disk {
            continue;
        }
        for outgoing in server.handle(message) {
            let _ = serde_json::to_string(&outgoing);
        }
    }
}

/// The input as the one file of a policy.
fn one_file(text: &str) -> [SourceText; 1] {
    [SourceText {
        path: "policy.warden".to_string(),
        text: text.into(),
    }]
}
