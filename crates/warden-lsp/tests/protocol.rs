//! Drives the server through an in-memory connection, as an editor would: initialize,
//! open a document with an error, diagnostics, hover, definition, a fix, shutdown.

// Failing loudly is what a test is for.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

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
    assert_eq!(capabilities["documentFormattingProvider"], json!(true));
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

    // Formatting: `warden fmt`'s layout as one edit of the whole document.
    let messy = "rule  r {when change.draft\n deny \"no\" }\n";
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri.as_str(), "version": 4 }, "contentChanges": [{ "text": messy }] }),
    );
    client.diagnostics_for(&uri);
    let formatting = json!({ "textDocument": { "uri": uri.as_str() }, "options": { "tabSize": 2, "insertSpaces": true } });
    let edits = client.request("textDocument/formatting", formatting.clone());
    assert_eq!(
        edits.result,
        Some(json!([{
            "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 2, "character": 0 } },
            "newText": "rule r {\n  when change.draft\n  deny \"no\"\n}\n"
        }]))
    );
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri.as_str(), "version": 5 }, "contentChanges": [{ "text": "rule r {\n" }] }),
    );
    client.diagnostics_for(&uri);
    let edits = client.request("textDocument/formatting", formatting);
    assert_eq!(
        edits.result,
        Some(Value::Null),
        "a file that does not parse"
    );

    let shutdown = client.request("shutdown", Value::Null);
    assert_eq!(shutdown.result, Some(Value::Null));
    assert!(shutdown.error.is_none());
    client.notify("exit", Value::Null);
    assert_eq!(handle.join().unwrap(), Ok(()));
    let _ = std::fs::remove_dir_all(&dir);
}
