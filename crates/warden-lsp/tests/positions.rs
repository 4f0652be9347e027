//! The position features, tested as rust-analyzer tests its own: one fixture per case
//! under `tests/data/FEATURE/`, one snapshot per fixture with the source (cursor
//! marker kept) beside the server's answer.
//!
//! Fixture format:
//! - `FEATURE` (the fixture's directory) is the request: `hover`, `completion`,
//!   `definition`, `references`, `rename`, `highlight` (documentHighlight), `inlay`
//!   (inlayHint over the whole file) or `signature` (signatureHelp).
//! - `$0` marks the cursor (exactly one per fixture, except `inlay`, which needs none).
//! - A fixture is one file, `main.warden`, analysed alone as `warden check FILE` does;
//!   or several, each starting at a line `//- PATH` (`//- lib/owners.warden`), making
//!   one policy directory (with a `.warden-root` marker). Lines before the first
//!   `//-` are the fixture's header: comments saying what it checks.
//! - Directive line `//= new name: NAME` (rename, anywhere: it is a comment): the name
//!   to rename to.
//!
//! The file holding `$0` is opened in the server (the others are read from disk); the
//! request goes through `Server::handle` as a client's message would.

// Failing loudly is what a test is for.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use lsp_server::{Message, Notification, Request, RequestId};
use serde_json::{Value, json};
use warden_lsp::server::Server;
use warden_syntax::Span;

const CURSOR: &str = "$0";

struct Fixture {
    /// The fixture as written, for its directives.
    raw: String,
    header: String,
    /// Path and text (without the cursor marker).
    files: Vec<(String, String)>,
    /// The file and byte offset of the cursor.
    cursor: Option<(usize, usize)>,
}

fn parse_fixture(source: &str) -> Fixture {
    let mut header = String::new();
    let mut files: Vec<(String, String)> = Vec::new();
    let several = source.lines().any(|l| l.starts_with("//- "));
    if !several {
        files.push(("main.warden".to_string(), String::new()));
    }
    for line in source.split_inclusive('\n') {
        if let Some(path) = line.strip_prefix("//- ") {
            files.push((path.trim().to_string(), String::new()));
        } else if let Some((_, text)) = files.last_mut() {
            text.push_str(line);
        } else {
            header.push_str(line);
        }
    }
    let mut cursor = None;
    for (index, (_, text)) in files.iter_mut().enumerate() {
        if let Some(at) = text.find(CURSOR) {
            assert!(cursor.is_none(), "one cursor per fixture");
            text.replace_range(at..at + CURSOR.len(), "");
            cursor = Some((index, at));
        }
    }
    Fixture {
        raw: source.to_string(),
        header,
        files,
        cursor,
    }
}

fn directive<'a>(source: &'a str, name: &str) -> Option<&'a str> {
    source
        .lines()
        .find_map(|l| {
            l.strip_prefix("//= ")?
                .strip_prefix(name)?
                .strip_prefix(':')
        })
        .map(str::trim)
}

/// A directory for one fixture, inside a repository root so no search climbs out.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "warden-lsp-positions-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    dir
}

/// The LSP position (UTF-16; fixtures are ASCII) of a byte offset, and back.
fn position(text: &str, offset: usize) -> Value {
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let character = offset - before.rfind('\n').map_or(0, |i| i + 1);
    json!({ "line": line, "character": character })
}

fn offset(text: &str, position: &Value) -> usize {
    let line = position["line"].as_u64().unwrap() as usize;
    let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
    start + position["character"].as_u64().unwrap() as usize
}

struct Session {
    server: Server,
    dir: PathBuf,
    next: i32,
}

impl Session {
    fn uri(&self, path: &str) -> String {
        warden_lsp::uri::from_path(&self.dir.join(path))
            .unwrap()
            .as_str()
            .to_string()
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = RequestId::from(self.next);
        let answers = self.server.handle(Message::Request(Request::new(
            id.clone(),
            method.to_string(),
            params,
        )));
        let response = answers
            .into_iter()
            .find_map(|m| match m {
                Message::Response(r) if r.id == id => Some(r),
                _ => None,
            })
            .expect("an answer");
        match response.error {
            Some(error) => json!({ "error": error.message }),
            None => response.result.unwrap_or(Value::Null),
        }
    }
}

/// `path:line:column-line:column «text»` for a location of the fixture.
fn describe(fixture: &Fixture, session: &Session, uri: &str, range: &Value) -> String {
    let (path, text) = fixture
        .files
        .iter()
        .find(|(path, _)| session.uri(path) == uri)
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .unwrap_or((uri, ""));
    let (start, end) = (offset(text, &range["start"]), offset(text, &range["end"]));
    let at = |p: &Value| format!("{}:{}", p["line"], p["character"]);
    format!(
        "{path}:{}-{} «{}»",
        at(&range["start"]),
        at(&range["end"]),
        text.get(start..end).unwrap_or("")
    )
}

fn answer(feature: &str, fixture: &Fixture, session: &mut Session) -> String {
    let (file, at) = fixture.cursor.unwrap_or((0, 0));
    let (path, text) = &fixture.files[file];
    let uri = session.uri(path);
    let document = json!({ "uri": uri });
    let position = position(text, at);
    let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap();
    match feature {
        "hover" => {
            let result = session.request(
                "textDocument/hover",
                json!({ "textDocument": document, "position": position }),
            );
            if result.is_null() {
                return "no hover".to_string();
            }
            format!(
                "{}\n--- range: {}",
                result["contents"]["value"].as_str().unwrap(),
                describe(fixture, session, &uri, &result["range"])
            )
        }
        "completion" => {
            let result = session.request(
                "textDocument/completion",
                json!({ "textDocument": document, "position": position }),
            );
            let items = result.as_array().cloned().unwrap_or_default();
            let mut lines: Vec<String> = items
                .iter()
                .map(|i| {
                    format!(
                        "{} ({}) {}",
                        i["label"].as_str().unwrap(),
                        i["kind"],
                        i["detail"].as_str().unwrap_or("")
                    )
                    .trim_end()
                    .to_string()
                })
                .collect();
            lines.sort();
            lines.join("\n")
        }
        "definition" => {
            let result = session.request(
                "textDocument/definition",
                json!({ "textDocument": document, "position": position }),
            );
            if result.is_null() {
                return "no definition".to_string();
            }
            describe(
                fixture,
                session,
                result["uri"].as_str().unwrap(),
                &result["range"],
            )
        }
        "references" => {
            let result = session.request(
                "textDocument/references",
                json!({ "textDocument": document, "position": position,
                        "context": { "includeDeclaration": true } }),
            );
            let locations = result.as_array().cloned().unwrap_or_default();
            let lines: Vec<String> = locations
                .iter()
                .map(|l| describe(fixture, session, l["uri"].as_str().unwrap(), &l["range"]))
                .collect();
            lines.join("\n")
        }
        "highlight" => {
            let result = session.request(
                "textDocument/documentHighlight",
                json!({ "textDocument": document, "position": position }),
            );
            let highlights = result.as_array().cloned().unwrap_or_default();
            let lines: Vec<String> = highlights
                .iter()
                .map(|h| {
                    let kind = if h["kind"] == json!(3) {
                        "write"
                    } else {
                        "read"
                    };
                    format!("{kind} {}", describe(fixture, session, &uri, &h["range"]))
                })
                .collect();
            lines.join("\n")
        }
        "rename" => {
            let new_name = directive(&fixture.raw, "new name").expect("//= new name: NAME");
            let prepared = session.request(
                "textDocument/prepareRename",
                json!({ "textDocument": document, "position": position }),
            );
            let prepared = match prepared.get("error") {
                Some(error) => format!("error: {}", error.as_str().unwrap()),
                None => describe(fixture, session, &uri, &prepared),
            };
            let result = session.request(
                "textDocument/rename",
                json!({ "textDocument": document, "position": position, "newName": new_name }),
            );
            let mut out = format!("prepareRename: {prepared}\nrename to `{new_name}`:\n");
            if let Some(error) = result.get("error") {
                out.push_str(&format!("error: {}\n", error.as_str().unwrap()));
                return out;
            }
            for (path, text) in &fixture.files {
                let edits = &result["changes"][session.uri(path)];
                let mut edits: Vec<(usize, usize, String)> = edits
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .map(|e| {
                        (
                            offset(text, &e["range"]["start"]),
                            offset(text, &e["range"]["end"]),
                            e["newText"].as_str().unwrap().to_string(),
                        )
                    })
                    .collect();
                edits.sort_by_key(|e| std::cmp::Reverse(e.0));
                let count = edits.len();
                let mut renamed = text.clone();
                for (start, end, new) in edits {
                    renamed.replace_range(start..end, &new);
                }
                out.push_str(&format!("--- {path} ({count} edits)\n{renamed}"));
            }
            out
        }
        "inlay" => {
            let end = position_end(text);
            let result = session.request(
                "textDocument/inlayHint",
                json!({ "textDocument": document,
                        "range": { "start": { "line": 0, "character": 0 }, "end": end } }),
            );
            let mut hinted = text.clone();
            let mut hints: Vec<(usize, String)> = result
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|h| {
                    (
                        offset(text, &h["position"]),
                        h["label"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            hints.sort_by_key(|h| std::cmp::Reverse(h.0));
            for (at, label) in hints {
                hinted.insert_str(at, &format!("⟨{label}⟩"));
            }
            hinted
        }
        "signature" => {
            let result = session.request(
                "textDocument/signatureHelp",
                json!({ "textDocument": document, "position": position }),
            );
            if result.is_null() {
                return "no signature".to_string();
            }
            pretty(&result)
        }
        other => panic!("unknown feature directory `{other}`"),
    }
}

fn position_end(text: &str) -> Value {
    position(text, text.len())
}

/// The fixture's files as the snapshot shows them: the cursor marker back in place.
fn render_source(fixture: &Fixture) -> String {
    let mut out = fixture.header.clone();
    let several = fixture.files.len() > 1;
    for (index, (path, text)) in fixture.files.iter().enumerate() {
        if several {
            out.push_str(&format!("//- {path}\n"));
        }
        let mut text = text.clone();
        if let Some((file, at)) = fixture.cursor
            && file == index
        {
            text.insert_str(at, CURSOR);
        }
        out.push_str(&text);
    }
    out
}

fn write(dir: &Path, path: &str, text: &str) {
    let file = dir.join(path);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(file, text).unwrap();
}

#[test]
fn position_features() {
    let capabilities = serde_json::to_value(warden_lsp::server::capabilities()).unwrap();
    insta::glob!("data/*/*.warden", |path| {
        let feature = path
            .parent()
            .and_then(Path::file_name)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if feature == "features" || feature == "tokens" {
            // protocol.rs's symbols, folding ranges, quick fixes and semantic tokens.
            return;
        }
        let provider = match feature.as_str() {
            "hover" => "hoverProvider",
            "completion" => "completionProvider",
            "definition" => "definitionProvider",
            "references" => "referencesProvider",
            "rename" => "renameProvider",
            "highlight" => "documentHighlightProvider",
            "inlay" => "inlayHintProvider",
            "signature" => "signatureHelpProvider",
            other => panic!("unknown feature directory `{other}`"),
        };
        assert!(
            !capabilities[provider].is_null(),
            "{provider} is not advertised"
        );
        let source = std::fs::read_to_string(path).unwrap();
        let fixture = parse_fixture(&source);
        assert!(
            fixture.cursor.is_some() || feature == "inlay",
            "{path:?} has no `$0`"
        );
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let dir = scratch(&format!("{feature}-{name}"));
        if fixture.files.len() > 1 {
            write(&dir, warden_lsp::server::ROOT_MARKER, "");
        }
        for (path, text) in &fixture.files {
            write(&dir, path, text);
        }
        let mut session = Session {
            server: Server::default(),
            dir: dir.clone(),
            next: 0,
        };
        let (file, _) = fixture.cursor.unwrap_or((0, 0));
        let (path, text) = &fixture.files[file];
        let uri = session.uri(path);
        session.server.handle(Message::Notification(Notification::new(
            "textDocument/didOpen".to_string(),
            json!({ "textDocument": { "uri": uri, "languageId": "warden", "version": 1, "text": text } }),
        )));
        let answer = answer(&feature, &fixture, &mut session);
        let rendered = format!("{}\n=== {feature}\n{answer}\n", render_source(&fixture));
        insta::with_settings!({ omit_expression => true }, {
            insta::assert_snapshot!(rendered);
        });
        let _ = std::fs::remove_dir_all(&dir);
    });
}

/// Every position feature at every offset of a policy (and of each prefix of it, as
/// while it is typed) answers without panicking.
#[test]
fn every_offset_of_a_policy_being_typed_is_answered() {
    use warden_lsp::analysis;
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/completion/locals_in_scope.warden"),
    )
    .unwrap()
    .replace(CURSOR, "mine.");
    let whole = vec![warden::SourceText {
        path: "main.warden".to_string(),
        text: text.as_str().into(),
    }];
    let mut parses = warden::ParseCache::default();
    let indexed = analysis::Indexed::new(&whole, &mut parses, 0, Span::new(0, text.len()));
    for offset in 0..=text.len() {
        analysis::hover(&indexed, 0, offset);
        analysis::definition(&indexed, 0, offset);
        analysis::references(&indexed, 0, offset, true);
        analysis::highlights(&indexed, 0, offset);
        let _ = analysis::rename(&indexed, 0, offset, "renamed");
    }
    analysis::inlay_hints(&indexed, 0);
    // Completion at the end of each prefix: the text as it is being typed (each parse
    // reusing the items of the last one, as the server's do).
    for end in (0..=text.len()).filter(|&end| text.is_char_boundary(end)) {
        let typed = vec![warden::SourceText {
            path: "main.warden".to_string(),
            text: text[..end].into(),
        }];
        warden_lsp::completion::completion(&typed, 0, end, &mut parses);
        let at = Span::new(end, end);
        analysis::signature_at(&analysis::Indexed::new(&typed, &mut parses, 0, at), 0, end);
        analysis::signature_being_typed(&typed, 0, end, &mut parses);
    }
}

/// Every request the server advertises has fixtures: a directory of `data/` (the
/// position features here; symbols, folding ranges and quick fixes in `features`,
/// semantic tokens in `tokens`, read by protocol.rs), or, for formatting and code
/// lenses, the fixtures of `warden fmt` and `warden test` that protocol.rs drives.
#[test]
fn every_advertised_request_has_fixtures() {
    let capabilities = serde_json::to_value(warden_lsp::server::capabilities()).unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests");
    let fixtures = |dir: &Path| {
        std::fs::read_dir(dir)
            .map(|entries| entries.flatten().count())
            .unwrap_or(0)
    };
    let mut advertised: Vec<&str> = capabilities
        .as_object()
        .unwrap()
        .keys()
        .filter(|key| key.ends_with("Provider"))
        .map(String::as_str)
        .collect();
    advertised.sort_unstable();
    for provider in advertised {
        let dir = match provider {
            "hoverProvider" => data.join("hover"),
            "completionProvider" => data.join("completion"),
            "definitionProvider" => data.join("definition"),
            "referencesProvider" => data.join("references"),
            "renameProvider" => data.join("rename"),
            "documentHighlightProvider" => data.join("highlight"),
            "inlayHintProvider" => data.join("inlay"),
            "signatureHelpProvider" => data.join("signature"),
            "documentSymbolProvider"
            | "workspaceSymbolProvider"
            | "foldingRangeProvider"
            | "codeActionProvider" => data.join("features"),
            "semanticTokensProvider" => data.join("tokens"),
            "documentFormattingProvider" => tests.join("format"),
            "codeLensProvider" | "executeCommandProvider" => tests.join("test"),
            other => panic!("{other} is advertised but no fixtures are named for it here"),
        };
        assert!(
            fixtures(&dir) > 0,
            "{provider}: no fixtures in {}",
            dir.display()
        );
    }
}
