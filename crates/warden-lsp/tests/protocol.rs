//! Drives the server through an in-memory connection, as an editor would: initialize,
//! open a document with an error, diagnostics, hover, definition, a fix, shutdown.

// Failing loudly is what a test is for.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::{Position, PublishDiagnosticsParams, Range, Uri};
use serde_json::{Value, json};

const MAIN: &str = "import std.ai\n\n/// Checks the files.\nrule r {\n  when change.filez.len() > 0\n  deny \"é: too many\"\n}\n\nexempt bots from r, lib_rule {\n  when change.author.kind == \"bot\"\n}\n";
const FIXED: &str = "rule r {\n  when change.files.len() > 0\n  deny \"too many\"\n}\n";
const LIB: &str =
    "/// In the library.\nrule lib_rule {\n  when change.draft\n  deny \"draft\"\n}\n";

struct Client {
    connection: Connection,
    next_id: i32,
}

impl Client {
    fn recv(&self) -> Message {
        self.connection
            .receiver
            .recv_timeout(Duration::from_secs(30))
            .expect("the server answers")
    }

    fn request(&mut self, method: &str, params: Value) -> Response {
        self.next_id += 1;
        let id = RequestId::from(self.next_id);
        self.connection
            .sender
            .send(Request::new(id.clone(), method.to_string(), params).into())
            .unwrap();
        loop {
            match self.recv() {
                Message::Response(response) if response.id == id => return response,
                _ => {}
            }
        }
    }

    fn notify(&self, method: &str, params: Value) {
        self.connection
            .sender
            .send(Notification::new(method.to_string(), params).into())
            .unwrap();
    }

    /// The next diagnostics published for `uri`, skipping those of other files.
    fn diagnostics_for(&self, uri: &Uri) -> PublishDiagnosticsParams {
        loop {
            if let Message::Notification(notification) = self.recv() {
                assert_eq!(notification.method, "textDocument/publishDiagnostics");
                let params: PublishDiagnosticsParams =
                    serde_json::from_value(notification.params).unwrap();
                if params.uri.as_str() == uri.as_str() {
                    return params;
                }
            }
        }
    }
}

fn temp_policy() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("warden-lsp-protocol-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // A repository root, so the policy root never climbs out of the test directory.
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    std::fs::write(dir.join("lib.warden"), LIB).unwrap();
    // On disk with other text: the open buffer must win.
    std::fs::write(dir.join("main.warden"), "let stale = 1\n").unwrap();
    dir
}

fn position(line: u32, character: u32, uri: &Uri) -> Value {
    json!({ "textDocument": { "uri": uri.as_str() }, "position": { "line": line, "character": character } })
}

#[test]
fn initialize_diagnose_hover_define_fix_and_shut_down() {
    let dir = temp_policy();
    let uri = warden_lsp::uri::from_path(&dir.join("main.warden")).unwrap();
    let lib_uri = warden_lsp::uri::from_path(&dir.join("lib.warden")).unwrap();
    let (server, connection) = Connection::memory();
    let handle = std::thread::spawn(move || warden_lsp::run(&server).map_err(|e| e.to_string()));
    let mut client = Client {
        connection,
        next_id: 0,
    };

    let initialized = client.request("initialize", json!({ "capabilities": {} }));
    let capabilities = &initialized.result.unwrap()["capabilities"];
    assert_eq!(capabilities["hoverProvider"], json!(true));
    assert_eq!(capabilities["definitionProvider"], json!(true));
    assert_eq!(capabilities["textDocumentSync"]["change"], json!(1));
    assert_eq!(
        capabilities["completionProvider"]["triggerCharacters"],
        json!(["."])
    );
    client.notify("initialized", json!({}));

    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri.as_str(), "languageId": "warden", "version": 1, "text": MAIN } }),
    );
    let published = client.diagnostics_for(&uri);
    let error = published
        .diagnostics
        .iter()
        .find(|d| {
            d.code
                == Some(lsp_types::NumberOrString::String(
                    "unknown-field".to_string(),
                ))
        })
        .unwrap_or_else(|| panic!("no unknown-field diagnostic in {published:?}"));
    // `filez` on line 4, columns 14..19.
    assert_eq!(
        error.range,
        Range::new(Position::new(4, 14), Position::new(4, 19))
    );
    assert!(
        error.message.contains("did you mean `files`"),
        "{}",
        error.message
    );

    // Hover on `files`… of `change.author.kind` (line 9): the `Principal` field.
    let hover = client.request("textDocument/hover", position(9, 22, &uri));
    let result = hover.result.unwrap();
    let value = result["contents"]["value"].as_str().unwrap();
    assert!(value.contains("Principal.kind"), "{value}");
    assert_eq!(
        result["range"],
        json!({ "start": { "line": 9, "character": 21 }, "end": { "line": 9, "character": 25 } })
    );

    // Hover on the rule named in the exemption shows its doc from the other file.
    let hover = client.request("textDocument/hover", position(8, 22, &uri));
    let value = hover.result.unwrap()["contents"]["value"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        value.contains("rule lib_rule") && value.contains("In the library."),
        "{value}"
    );

    // Go to that rule's definition in `lib.warden`.
    let definition = client.request("textDocument/definition", position(8, 22, &uri));
    let location: lsp_types::Location = serde_json::from_value(definition.result.unwrap()).unwrap();
    assert_eq!(location.uri.as_str(), lib_uri.as_str());
    assert_eq!(
        location.range,
        Range::new(Position::new(1, 5), Position::new(1, 13))
    );

    // Completion after `change.`.
    let completion = client.request("textDocument/completion", position(4, 14, &uri));
    let items = completion.result.unwrap();
    let labels: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["label"].as_str())
        .collect();
    assert!(
        labels.contains(&"files") && labels.contains(&"author"),
        "{labels:?}"
    );

    // Unknown requests are refused without harm.
    let unknown = client.request("warden/unknown", json!({}));
    assert_eq!(
        unknown.error.unwrap().code,
        ErrorCode::MethodNotFound as i32
    );

    // Fixing the buffer clears the diagnostics.
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri.as_str(), "version": 2 }, "contentChanges": [{ "text": FIXED }] }),
    );
    let published = client.diagnostics_for(&uri);
    assert_eq!(published.diagnostics, Vec::new());

    // A regex over the size limit is reported as `warden check` reports it.
    let huge = format!(
        "{FIXED}\nlet huge = regex(\"\\\\w{{1000}}\\\\w{{1000}}\")\n\n/// Trains.\nrule train {{\n  when change.title matches_regex huge\n  deny \"no\"\n}}\n"
    );
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri.as_str(), "version": 3 }, "contentChanges": [{ "text": huge }] }),
    );
    let published = client.diagnostics_for(&uri);
    let codes: Vec<_> = published
        .diagnostics
        .iter()
        .map(|d| (&d.code, &d.message))
        .collect();
    assert!(
        published
            .diagnostics
            .iter()
            .any(|d| d.message.contains("is too large to compile")
                && d.code
                    == Some(lsp_types::NumberOrString::String(
                        "invalid-regex".to_string()
                    ))),
        "{codes:?}"
    );

    let shutdown = client.request("shutdown", Value::Null);
    assert_eq!(shutdown.result, Some(Value::Null));
    assert!(shutdown.error.is_none());
    client.notify("exit", Value::Null);
    assert_eq!(handle.join().unwrap(), Ok(()));
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------- editors (editors/)

/// The repository root (this crate is `crates/warden-lsp`).
fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read_text(relative: &str) -> String {
    std::fs::read_to_string(repository().join(relative))
        .unwrap_or_else(|e| panic!("{relative}: {e}"))
}

/// Every word the grammar only accepts as a keyword: the quoted words of its one-line
/// atomic rules that end at a word boundary (`k_rule = @{ "rule" ~ !ident_char }`,
/// `op_and`, `bool_lit`, …). Read from `grammar/warden.pest`, the one source of truth.
fn grammar_keywords() -> BTreeSet<String> {
    let mut keywords = BTreeSet::new();
    for line in read_text("grammar/warden.pest").lines() {
        let Some((_, body)) = line.split_once("= @{") else {
            continue;
        };
        if !body.trim_end().ends_with("~ !ident_char }") {
            continue;
        }
        for (i, literal) in body.split('"').enumerate() {
            if i % 2 == 1 && literal.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                keywords.insert(literal.to_string());
            }
        }
    }
    keywords
}

/// The words of a highlighting pattern, escapes (`\b`, `\s`, `\<`, `\|`) removed.
fn pattern_words(pattern: &str) -> Vec<String> {
    let mut plain = String::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            chars.next();
            plain.push(' ');
        } else {
            plain.push(c);
        }
    }
    plain
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// One highlighting rule: its patterns, and whether it colours what it matches as a
/// keyword (`Some(true)`: all of it, so it must match keywords only; `Some(false)`: a
/// part, through a capture; `None`: no keyword at all).
struct Highlight {
    patterns: Vec<String>,
    keyword: Option<bool>,
}

/// Fails unless every grammar keyword is in a keyword-colouring rule, and every word
/// of a rule that colours all it matches as a keyword is a grammar keyword.
fn assert_highlights_keywords(file: &str, rules: &[Highlight]) {
    let keywords = grammar_keywords();
    // The reading of the pest grammar itself must keep working.
    for expected in [
        "rule",
        "approvals",
        "matches_regex",
        "anyone",
        "null",
        "push",
    ] {
        assert!(keywords.contains(expected), "{expected} in {keywords:?}");
    }
    let missing: Vec<&String> = keywords
        .iter()
        .filter(|keyword| {
            !rules.iter().any(|rule| {
                rule.keyword.is_some()
                    && rule
                        .patterns
                        .iter()
                        .any(|p| pattern_words(p).contains(keyword))
            })
        })
        .collect();
    assert!(
        missing.is_empty(),
        "keywords of grammar/warden.pest that {file} does not highlight: {missing:?}"
    );
    for rule in rules.iter().filter(|rule| rule.keyword == Some(true)) {
        for pattern in &rule.patterns {
            for word in pattern_words(pattern) {
                assert!(
                    keywords.contains(&word),
                    "{file}: `{word}` in the keyword pattern {pattern:?} is no keyword of grammar/warden.pest"
                );
            }
        }
    }
}

/// Every rule of a TextMate grammar that matches text (`match`, `begin`), and every
/// `include` in it.
fn textmate_rules(node: &Value, rules: &mut Vec<Highlight>, includes: &mut Vec<String>) {
    // Reserved words are coloured as keywords, storage types or constants; the
    // contextual ones (`list<`, `import std`) may be coloured as support too.
    let is_reserved = |scope: &str| {
        ["keyword.", "storage.type", "constant.language"]
            .iter()
            .any(|prefix| scope.starts_with(prefix))
    };
    let is_keyword = |scope: &str| is_reserved(scope) || scope.starts_with("support.");
    match node {
        Value::Object(object) => {
            let patterns: Vec<String> = ["match", "begin"]
                .iter()
                .filter_map(|key| object.get(*key)?.as_str().map(str::to_string))
                .collect();
            let name = object.get("name").and_then(Value::as_str);
            let whole = name.is_some_and(is_reserved);
            let captured = name.is_some_and(is_keyword)
                || ["captures", "beginCaptures"].iter().any(|key| {
                    object
                        .get(*key)
                        .and_then(Value::as_object)
                        .is_some_and(|captures| {
                            captures
                                .values()
                                .any(|c| c["name"].as_str().is_some_and(is_keyword))
                        })
                });
            if !patterns.is_empty() {
                let keyword = (whole || captured).then_some(whole);
                rules.push(Highlight { patterns, keyword });
            }
            includes.extend(
                object
                    .get("include")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            );
            object
                .values()
                .for_each(|v| textmate_rules(v, rules, includes));
        }
        Value::Array(items) => items
            .iter()
            .for_each(|v| textmate_rules(v, rules, includes)),
        _ => {}
    }
}

#[test]
fn the_vscode_grammar_highlights_every_keyword_of_the_grammar() {
    let file = "editors/vscode/syntaxes/warden.tmLanguage.json";
    let grammar: Value = serde_json::from_str(&read_text(file)).unwrap();
    let (mut rules, mut includes) = (Vec::new(), Vec::new());
    textmate_rules(&grammar, &mut rules, &mut includes);
    assert_highlights_keywords(file, &rules);

    let repository_rules = grammar["repository"].as_object().unwrap();
    for include in &includes {
        let rule = include
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("include {include}"));
        assert!(
            repository_rules.contains_key(rule),
            "{file}: no rule for include {include}"
        );
    }

    // The extension contributes this grammar for the language its client serves.
    let manifest: Value = serde_json::from_str(&read_text("editors/vscode/package.json")).unwrap();
    let contributes = &manifest["contributes"];
    assert_eq!(contributes["grammars"][0]["language"], json!("warden"));
    assert_eq!(
        contributes["grammars"][0]["scopeName"],
        grammar["scopeName"]
    );
    assert_eq!(
        contributes["grammars"][0]["path"],
        json!("./syntaxes/warden.tmLanguage.json")
    );
    assert_eq!(
        contributes["languages"][0]["extensions"],
        json!([".warden"])
    );
    assert!(
        manifest["activationEvents"]
            .as_array()
            .unwrap()
            .contains(&json!("onLanguage:warden"))
    );
    assert_eq!(
        contributes["configuration"]["properties"]["warden.server.path"]["default"],
        json!("warden-lsp")
    );
}

#[test]
fn the_vim_syntax_highlights_every_keyword_of_the_grammar() {
    let file = "editors/vim/syntax/warden.vim";
    let mut rules = Vec::new();
    for line in read_text(file).lines() {
        let mut words = line.split_whitespace();
        let (Some("syn"), Some(kind), Some(group)) = (words.next(), words.next(), words.next())
        else {
            continue;
        };
        let reserved = [
            "wardenKeyword",
            "wardenDeclaration",
            "wardenImport",
            "wardenOperatorWord",
            "wardenConstant",
        ]
        .contains(&group);
        // `list` and `map` are keywords only before `<`, where they are types.
        let keyword = (reserved || group == "wardenType").then_some(reserved && kind == "keyword");
        let patterns = match kind {
            "keyword" => words.map(str::to_string).collect(),
            "match" => vec![line.split('"').nth(1).unwrap_or_default().to_string()],
            _ => continue,
        };
        rules.push(Highlight { patterns, keyword });
    }
    assert_highlights_keywords(file, &rules);
}

/// Loads the VS Code extension and drives the real server binary through its client
/// library (`editors/vscode/test/e2e.js`). Needs `node` and `npm ci` in `editors/vscode`;
/// skipped with a message otherwise.
#[test]
fn vscode_client_end_to_end() {
    let extension = repository().join("editors/vscode");
    let node = std::process::Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: `node` is not installed (the VS Code client test needs it)");
        return;
    }
    if !extension
        .join("node_modules/vscode-languageserver-protocol")
        .is_dir()
    {
        eprintln!("skipped: run `npm ci` in editors/vscode for the VS Code client test");
        return;
    }
    let run = std::process::Command::new("node")
        .arg("test/e2e.js")
        .arg(env!("CARGO_BIN_EXE_warden-lsp"))
        .current_dir(&extension)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "test/e2e.js failed:\n{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
}

/// Drives the real server binary through Vim's own LSP client layer (the `lsp` channel
/// mode, `editors/vim/test/e2e.vim`). Skipped with a message without a Vim that has it.
#[test]
fn vim_client_end_to_end() {
    if !std::process::Command::new("vim")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        eprintln!("skipped: `vim` is not installed (the Vim client test needs it)");
        return;
    }
    let dir = std::env::temp_dir().join(format!("warden-lsp-vim-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    std::fs::write(
        dir.join("main.warden"),
        "rule r {\n  when change.filez.len() > 0\n  deny \"too many\"\n}\n",
    )
    .unwrap();
    let out = dir.join("result.json");
    let run = std::process::Command::new("vim")
        .args(["-Nu", "NONE", "-i", "NONE", "-es", "-S"])
        .arg(repository().join("editors/vim/test/e2e.vim"))
        .env("WARDEN_LSP", env!("CARGO_BIN_EXE_warden-lsp"))
        .env("WARDEN_E2E_DIR", &dir)
        .env("WARDEN_E2E_OUT", &out)
        .output()
        .unwrap();
    let result: Value = std::fs::read_to_string(&out)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_else(|| panic!("e2e.vim wrote no result: {run:?}"));
    let _ = std::fs::remove_dir_all(&dir);
    if let Some(why) = result["skip"].as_str() {
        eprintln!("skipped: {why}");
        return;
    }
    assert_eq!(result["error"], Value::Null, "{result}");
    assert_eq!(result["hover"], json!(true), "{result}");
    let diagnostic = result["published"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["uri"].as_str().unwrap().ends_with("/main.warden"))
        .find_map(|p| p["diagnostics"].get(0))
        .unwrap_or_else(|| panic!("no diagnostics for main.warden: {result}"));
    assert_eq!(diagnostic["code"], json!("unknown-field"), "{result}");
    assert_eq!(
        diagnostic["range"],
        json!({ "start": { "line": 1, "character": 14 }, "end": { "line": 1, "character": 19 } })
    );
    assert_eq!(result["shutdown"], Value::Null, "{result}");
    assert_eq!(
        (&result["status"], &result["exitval"]),
        (&json!("dead"), &json!(0)),
        "{result}"
    );
}
