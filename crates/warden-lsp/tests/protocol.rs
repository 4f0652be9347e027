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
    assert_eq!(capabilities["documentFormattingProvider"], json!(true));
    assert_eq!(capabilities["textDocumentSync"]["change"], json!(2));
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

// Robustness: the bugs of issue 14, each with its regression test, and the fuzzing of
// the message handling.

/// A directory for one test, inside a repository root so no search climbs out of it.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("warden-lsp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    dir
}

/// A server on an in-memory connection, initialized with `capabilities`.
fn start(capabilities: Value) -> (Client, std::thread::JoinHandle<Result<(), String>>) {
    let (server, connection) = Connection::memory();
    let handle = std::thread::spawn(move || warden_lsp::run(&server).map_err(|e| e.to_string()));
    let mut client = Client {
        connection,
        next_id: 0,
    };
    let initialized = client.request("initialize", json!({ "capabilities": capabilities }));
    assert!(initialized.error.is_none(), "{initialized:?}");
    client.notify("initialized", json!({}));
    (client, handle)
}

fn open(client: &Client, uri: &str, text: &str) {
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": "warden", "version": 1, "text": text } }),
    );
}

fn codes(published: &PublishDiagnosticsParams) -> Vec<String> {
    published
        .diagnostics
        .iter()
        .filter_map(|d| match &d.code {
            Some(lsp_types::NumberOrString::String(code)) => Some(code.clone()),
            _ => None,
        })
        .collect()
}

fn uri_of(text: &str) -> Uri {
    text.parse().unwrap()
}

const RULE_R: &str = "rule r {\n  when change.draft\n  deny \"draft\"\n}\n";

#[test]
fn one_file_policies_in_one_folder_are_analysed_alone_unless_a_marker_joins_them() {
    let dir = scratch("alone");
    std::fs::write(dir.join("a.warden"), RULE_R).unwrap();
    std::fs::write(dir.join("b.warden"), RULE_R).unwrap();
    let uri = warden_lsp::uri::from_path(&dir.join("a.warden")).unwrap();
    let (client, _handle) = start(json!({}));
    open(&client, uri.as_str(), RULE_R);
    let published = client.diagnostics_for(&uri);
    assert_eq!(codes(&published), Vec::<String>::new());
    // A file just created is alone too (its `no-rules` is its own, no duplicate).
    std::fs::write(dir.join("c.warden"), "").unwrap();
    let c = warden_lsp::uri::from_path(&dir.join("c.warden")).unwrap();
    open(&client, c.as_str(), "");
    assert_eq!(
        codes(&client.diagnostics_for(&c)),
        vec!["no-rules".to_string()]
    );

    // A root marker makes the folder one policy: now the duplicate is real.
    std::fs::write(dir.join(".warden-root"), "").unwrap();
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri.as_str(), "version": 2 }, "contentChanges": [{ "text": RULE_R }] }),
    );
    // Reported at the second definition, in the file not open.
    let b = warden_lsp::uri::from_path(&dir.join("b.warden")).unwrap();
    let published = client.diagnostics_for(&b);
    assert!(
        codes(&published).contains(&"duplicate-rule".to_string()),
        "{published:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A large policy's index holds the locals of the rules around the request alone
/// (`Scope::Around`): a hover in another rule analyses the policy again, and each
/// answers from its rule.
#[test]
fn a_large_policy_answers_requests_in_any_rule() {
    let padding = "// padding\n".repeat(warden::LARGE_POLICY_BYTES / 10);
    let text = format!(
        "let limit = 10\n\nrule first {{\n  let count = change.files.len()\n  when count > limit\n  \
         deny \"many\"\n}}\n\n{padding}\nrule second {{\n  let names = change.labels\n  \
         when names.contains(\"x\") and limit > 1\n  deny \"labelled\"\n}}\n"
    );
    let dir = scratch("large");
    std::fs::write(dir.join("big.warden"), &text).unwrap();
    let uri = warden_lsp::uri::from_path(&dir.join("big.warden")).unwrap();
    let (mut client, _handle) = start(json!({}));
    open(&client, uri.as_str(), &text);
    assert_eq!(codes(&client.diagnostics_for(&uri)), Vec::<String>::new());
    let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() as u32;
    let mut hover = |line: u32, character: u32| {
        let response = client.request("textDocument/hover", position(line, character, &uri));
        response.result.unwrap()["contents"]["value"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (first, second) = (line_of("when count"), line_of("when names"));
    for _ in 0..2 {
        assert!(
            hover(first, 8).contains("let count: int"),
            "{}",
            hover(first, 8)
        );
        let second_hover = hover(second, 8);
        assert!(
            second_hover.contains("let names: list<string>"),
            "{second_hover}"
        );
    }
    // Every use of a top-level `let`, whichever rule the request is in.
    let response = client.request(
        "textDocument/references",
        json!({ "textDocument": { "uri": uri.as_str() }, "position": { "line": 0, "character": 5 },
                "context": { "includeDeclaration": true } }),
    );
    let lines: Vec<u64> = (response.result.unwrap().as_array().unwrap().iter())
        .map(|l| l["range"]["start"]["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, vec![0, u64::from(first), u64::from(second)]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Code actions answer from the last diagnostics while the text is theirs, and from
/// the text as it is after an edit, even one not analysed yet.
#[test]
fn code_actions_follow_the_text() {
    let dir = scratch("actions");
    let typo = "rule r {\n  when change.filez.len() > 0\n  deny \"many\"\n}\n";
    std::fs::write(dir.join("p.warden"), typo).unwrap();
    let uri = warden_lsp::uri::from_path(&dir.join("p.warden")).unwrap();
    let (mut client, _handle) = start(json!({}));
    open(&client, uri.as_str(), typo);
    assert_eq!(codes(&client.diagnostics_for(&uri)), vec!["unknown-field"]);
    let titles = |client: &mut Client| -> Vec<String> {
        let range = json!({ "start": { "line": 1, "character": 0 }, "end": { "line": 1, "character": 30 } });
        let response = client.request(
            "textDocument/codeAction",
            json!({ "textDocument": { "uri": uri.as_str() }, "range": range, "context": { "diagnostics": [] } }),
        );
        (response.result.unwrap().as_array().unwrap().iter())
            .map(|action| action["title"].as_str().unwrap().to_string())
            .collect()
    };
    for _ in 0..2 {
        assert_eq!(titles(&mut client), vec!["Replace with `files`"]);
    }
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri.as_str(), "version": 2 },
                "contentChanges": [{ "text": typo.replace("filez", "files") }] }),
    );
    // Asked before the edit's diagnostics are read: answered from the text as edited.
    assert_eq!(titles(&mut client), Vec::<String>::new());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_file_that_is_not_utf8_is_reported_and_hides_no_other_file() {
    let dir = scratch("utf8");
    std::fs::write(dir.join("lib.warden"), "let limit = 3\n").unwrap();
    std::fs::write(dir.join("bad.warden"), b"let x = \"\xff\xfe\"\n").unwrap();
    let main = "import \"lib.warden\" as lib\n\nrule r {\n  when change.files.len() > lib.limit\n  deny \"too many\"\n}\n";
    std::fs::write(dir.join("main.warden"), main).unwrap();
    let uri = warden_lsp::uri::from_path(&dir.join("main.warden")).unwrap();
    let bad = warden_lsp::uri::from_path(&dir.join("bad.warden")).unwrap();
    let (client, _handle) = start(json!({}));
    open(&client, uri.as_str(), main);
    let mut main_codes = None;
    let mut bad_published = None;
    while main_codes.is_none() || bad_published.is_none() {
        let Message::Notification(notification) = client.recv() else {
            continue;
        };
        let params: PublishDiagnosticsParams = serde_json::from_value(notification.params).unwrap();
        if params.uri == uri {
            main_codes = Some(codes(&params));
        } else if params.uri == bad {
            bad_published = Some(params);
        }
    }
    assert_eq!(main_codes.unwrap(), Vec::<String>::new());
    let bad_published = bad_published.unwrap();
    assert_eq!(codes(&bad_published), vec!["unreadable-file".to_string()]);
    let message = &bad_published.diagnostics[0].message;
    assert!(message.contains("UTF-8"), "{message}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn diagnostics_go_to_the_uri_the_client_wrote() {
    let dir = scratch("uri").join("a+b");
    std::fs::create_dir_all(&dir).unwrap();
    let main = "exempt bots from lib_rule {\n  when change.author.kind == \"bot\"\n}\n";
    std::fs::write(
        dir.join("lib.warden"),
        "rule lib_rule {\n  when change.draftt\n  deny \"draft\"\n}\n",
    )
    .unwrap();
    // The client leaves `+` as it is (Neovim does); a re-encoding would say `%2B`.
    let uri = format!("file://{}/main.warden", dir.display());
    assert!(uri.contains("a+b"));
    let lib = uri_of(&format!("file://{}/lib.warden", dir.display()));
    let (client, _handle) = start(json!({}));
    open(&client, &uri, main);
    // The unopened library's diagnostics, under the client's spelling of the folder.
    let published = client.diagnostics_for(&lib);
    assert!(
        codes(&published).contains(&"unknown-field".to_string()),
        "{published:?}"
    );
    let _ = std::fs::remove_dir_all(dir.parent().unwrap());
}

#[test]
fn files_changed_on_disk_are_read_again_when_the_client_reports_them() {
    let dir = scratch("watch");
    let main = "exempt bots from lib_rule {\n  when change.author.kind == \"bot\"\n}\n";
    std::fs::write(dir.join("main.warden"), main).unwrap();
    std::fs::write(
        dir.join("lib.warden"),
        "rule lib_rule {\n  when change.draft\n  deny \"draft\"\n}\n",
    )
    .unwrap();
    let uri = warden_lsp::uri::from_path(&dir.join("main.warden")).unwrap();
    let lib = warden_lsp::uri::from_path(&dir.join("lib.warden")).unwrap();
    let (client, _handle) = start(json!({
        "workspace": { "didChangeWatchedFiles": { "dynamicRegistration": true } }
    }));
    // The server asks to watch the policy files.
    let registration = loop {
        if let Message::Request(request) = client.recv() {
            break request;
        }
    };
    assert_eq!(registration.method, "client/registerCapability");
    let registrations = &registration.params["registrations"];
    assert_eq!(
        registrations[0]["method"],
        json!("workspace/didChangeWatchedFiles")
    );
    assert_eq!(
        registrations[0]["registerOptions"]["watchers"][0]["globPattern"],
        json!("**/*.warden")
    );
    client
        .connection
        .sender
        .send(Response::new_ok(registration.id, ()).into())
        .unwrap();

    open(&client, uri.as_str(), main);
    assert_eq!(codes(&client.diagnostics_for(&uri)), Vec::<String>::new());
    std::fs::write(
        dir.join("lib.warden"),
        "rule renamed {\n  when change.draft\n  deny \"draft\"\n}\n",
    )
    .unwrap();
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": lib.as_str(), "type": 2 }] }),
    );
    let published = client.diagnostics_for(&uri);
    assert!(
        codes(&published).contains(&"unknown-rule".to_string()),
        "{published:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn requests_after_shutdown_are_refused_and_exit_without_shutdown_fails() {
    let (client, handle) = start(json!({}));
    client.notify("exit", Value::Null);
    assert!(handle.join().unwrap().is_err());

    let (mut client, handle) = start(json!({}));
    let shutdown = client.request("shutdown", Value::Null);
    assert!(shutdown.error.is_none());
    let late = client.request("textDocument/hover", position(0, 0, &uri_of("untitled:x")));
    assert_eq!(late.error.unwrap().code, ErrorCode::InvalidRequest as i32);
    client.notify("exit", Value::Null);
    assert_eq!(handle.join().unwrap(), Ok(()));
}

/// The bodies of the frames in `bytes`, as JSON.
fn frames(mut bytes: &[u8]) -> Vec<Value> {
    let mut out = Vec::new();
    while let Some(at) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
        let header = std::str::from_utf8(&bytes[..at]).unwrap();
        let length: usize = header
            .strip_prefix("Content-Length: ")
            .unwrap()
            .parse()
            .unwrap();
        let body = &bytes[at + 4..at + 4 + length];
        out.push(serde_json::from_slice(body).unwrap());
        bytes = &bytes[at + 4 + length..];
    }
    out
}

fn frame(body: &str) -> String {
    format!("Content-Length: {}\r\n\r\n{body}", body.len())
}

/// Runs the binary on `input`; its exit code and the messages it wrote.
fn run_binary(args: &[&str], input: &[u8]) -> (Option<i32>, Vec<Value>, String) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_warden-lsp"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // The binary may exit before reading it all (`--version`): a broken pipe is fine.
    let _ = stdin.write_all(input);
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    let stdout = if args.is_empty() {
        frames(&output.stdout)
    } else {
        vec![Value::String(String::from_utf8(output.stdout).unwrap())]
    };
    (
        output.status.code(),
        stdout,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn malformed_frames_get_errors_and_never_end_the_server() {
    let initialize =
        frame(r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}"#);
    let hover = frame(
        r#"{"jsonrpc":"2.0","id":10,"method":"textDocument/hover","params":{"textDocument":{"uri":"untitled:x"},"position":{"line":0,"character":0}}}"#,
    );
    let input = [
        initialize,
        // Not JSON.
        frame("{bad}"),
        // No `Content-Length`: skipped up to the next frame.
        "Content-Type: application/json\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"shutdown\"}"
            .to_string(),
        // Truncated JSON, longer than what follows it: the next frame is read again.
        "Content-Length: 60\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":9,".to_string(),
        hover,
        // JSON, but not a message: the id is kept when it is usable.
        frame(r#"{"jsonrpc":"2.0","id":11,"method":5}"#),
        frame("[1,2]"),
        frame(r#"{"jsonrpc":"2.0","id":12,"method":"shutdown"}"#),
        frame(r#"{"jsonrpc":"2.0","id":13,"method":"textDocument/hover","params":{}}"#),
        frame(r#"{"jsonrpc":"2.0","method":"exit"}"#),
    ]
    .concat();
    let (code, messages, stderr) = run_binary(&[], input.as_bytes());
    assert_eq!(code, Some(0), "{stderr}");
    let summary: Vec<(Value, Value)> = messages
        .iter()
        .map(|m| (m["id"].clone(), m["error"]["code"].clone()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (json!(1), Value::Null),
            (Value::Null, json!(-32700)),
            (Value::Null, json!(-32700)),
            (Value::Null, json!(-32700)),
            (json!(10), Value::Null),
            (json!(11), json!(-32600)),
            (Value::Null, json!(-32600)),
            (json!(12), Value::Null),
            (json!(13), json!(-32600)),
        ],
        "{messages:#?}"
    );
    assert_eq!(
        messages[0]["result"]["serverInfo"]["name"],
        json!("warden-lsp")
    );
}

#[test]
fn exit_without_shutdown_fails_and_version_and_help_do_not_start_the_server() {
    let input = [
        frame(r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}"#),
        frame(r#"{"jsonrpc":"2.0","method":"exit"}"#),
    ]
    .concat();
    let (code, _, stderr) = run_binary(&[], input.as_bytes());
    assert_eq!(code, Some(1), "{stderr}");

    // The input would be a session; these print and exit before reading it.
    let (code, out, _) = run_binary(&["--version"], input.as_bytes());
    assert_eq!(code, Some(0));
    assert_eq!(
        out,
        vec![json!(format!("warden-lsp {}\n", env!("CARGO_PKG_VERSION")))]
    );
    let (code, out, _) = run_binary(&["--help"], input.as_bytes());
    assert_eq!(code, Some(0));
    let help = out[0].as_str().unwrap();
    assert!(
        help.contains("Usage: warden-lsp") && help.contains(".warden-root"),
        "{help}"
    );
    let (code, _, stderr) = run_binary(&["--bogus"], b"");
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("unexpected arguments `--bogus`"),
        "{stderr}"
    );
}

mod fuzz {
    //! Random sessions through the whole server in-process (frames, lifecycle,
    //! analysis): no panic, no hang (every input is finite and each frame consumes
    //! some of it), and with well-formed frames every request answered exactly once.

    use super::{frame, frames};
    use proptest::prelude::*;
    use serde_json::{Value, json};

    const PIECES: &[&str] = &[
        "rule r {",
        "}",
        "\n",
        "  when ",
        "change.files",
        ".len()",
        " > 3",
        "deny \"x\"",
        "let a = 1",
        "exempt b from r {",
        "import std.ai",
        "\"",
        "(",
        ")",
        "é",
        "😀",
        "?.",
        "??",
        "fn f(x: int) -> int = x",
        "[",
        "]",
        ".",
        "files.map(f => f.path)",
        "#",
        "// c",
        "/// doc",
        "require approval",
        "0x",
        "\t",
        "advisory",
    ];

    fn text() -> impl Strategy<Value = String> {
        proptest::collection::vec(proptest::sample::select(PIECES), 0..40)
            .prop_map(|pieces| pieces.concat())
    }

    #[derive(Debug, Clone)]
    enum Step {
        Open(u8, String),
        /// Replace the characters from `at` (of the document as last sent) with `text`.
        Edit(u8, usize, usize, String),
        Close(u8),
        Ask(u8, &'static str, u32, u32),
        Unknown,
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (0u8..3, text()).prop_map(|(d, t)| Step::Open(d, t)),
            (0u8..3, 0usize..400, 0usize..20, text())
                .prop_map(|(d, a, l, t)| Step::Edit(d, a, l, t)),
            (0u8..3).prop_map(Step::Close),
            (
                0u8..3,
                proptest::sample::select(
                    &[
                        "textDocument/hover",
                        "textDocument/completion",
                        "textDocument/definition",
                        "textDocument/documentHighlight",
                        "textDocument/prepareRename",
                        "textDocument/signatureHelp",
                        "textDocument/semanticTokens/full",
                        "textDocument/codeLens",
                    ][..]
                ),
                0u32..12,
                0u32..90
            )
                .prop_map(|(d, m, l, c)| Step::Ask(d, m, l, c)),
            Just(Step::Unknown),
        ]
    }

    fn uri(document: u8) -> String {
        format!("untitled:Untitled-{document}")
    }

    /// The frames of a session of `steps`, and the ids of its requests.
    fn session(steps: &[Step]) -> (String, Vec<i64>) {
        let mut out = vec![frame(
            r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"capabilities":{}}}"#,
        )];
        let mut ids = vec![0];
        let mut texts: [String; 3] = Default::default();
        let notify = |method: &str, params: Value| {
            frame(&json!({ "jsonrpc": "2.0", "method": method, "params": params }).to_string())
        };
        for (index, step) in steps.iter().enumerate() {
            let id = index as i64 + 1;
            match step {
                Step::Open(d, text) => {
                    texts[usize::from(*d)] = text.clone();
                    out.push(notify(
                        "textDocument/didOpen",
                        json!({ "textDocument": { "uri": uri(*d), "languageId": "warden", "version": 1, "text": text } }),
                    ));
                }
                Step::Edit(d, at, length, text) => {
                    let old = &texts[usize::from(*d)];
                    let chars: Vec<char> = old.chars().collect();
                    let at = (*at).min(chars.len());
                    let end = (at + length).min(chars.len());
                    let new: String = chars[..at]
                        .iter()
                        .chain(text.chars().collect::<Vec<_>>().iter())
                        .chain(chars[end..].iter())
                        .collect();
                    texts[usize::from(*d)] = new.clone();
                    out.push(notify(
                        "textDocument/didChange",
                        json!({ "textDocument": { "uri": uri(*d), "version": id }, "contentChanges": [{ "text": new }] }),
                    ));
                }
                Step::Close(d) => out.push(notify(
                    "textDocument/didClose",
                    json!({ "textDocument": { "uri": uri(*d) } }),
                )),
                Step::Ask(d, method, line, character) => {
                    ids.push(id);
                    out.push(frame(
                        &json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": {
                            "textDocument": { "uri": uri(*d) },
                            "position": { "line": line, "character": character } } })
                        .to_string(),
                    ));
                }
                Step::Unknown => {
                    ids.push(id);
                    out.push(frame(
                        &json!({ "jsonrpc": "2.0", "id": id, "method": "warden/nothing" })
                            .to_string(),
                    ));
                }
            }
        }
        let last = steps.len() as i64 + 1;
        ids.push(last);
        out.push(frame(
            &json!({ "jsonrpc": "2.0", "id": last, "method": "shutdown" }).to_string(),
        ));
        out.push(frame(r#"{"jsonrpc":"2.0","method":"exit"}"#));
        (out.concat(), ids)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        #[test]
        fn random_documents_and_edits_get_one_answer_per_request(
            steps in proptest::collection::vec(step(), 0..24)
        ) {
            let (input, ids) = session(&steps);
            let mut output = Vec::new();
            let status = warden_lsp::serve(std::io::Cursor::new(input.into_bytes()), &mut output).unwrap();
            prop_assert_eq!(status, 0);
            let answered: Vec<i64> = frames(&output)
                .iter()
                .filter(|m| m.get("method").is_none())
                .filter_map(|m| m["id"].as_i64())
                .collect();
            prop_assert_eq!(answered, ids);
        }

        #[test]
        fn random_frames_never_end_the_server_early(
            pieces in proptest::collection::vec(
                prop_oneof![
                    proptest::collection::vec(any::<u8>(), 0..64),
                    text().prop_map(|t| frame(&t).into_bytes()),
                    "[ -~]{0,40}".prop_map(|t| format!("Content-Length: {}\r\n\r\n{t}", t.len() + 3).into_bytes()),
                    Just(b"Content-Length: 18446744073709551616\r\n\r\n".to_vec()),
                    Just(b"Content-Length: 999999999999\r\n\r\n".to_vec()),
                    Just(b"\r\n".to_vec()),
                    Just(frame(r#"{"jsonrpc":"2.0","id":{"a":1},"method":"x"}"#).into_bytes()),
                ],
                0..16,
            )
        ) {
            // A session whose middle is garbage: the server reads it all and stays up
            // to answer what follows whenever the garbage left the framing intact.
            let mut input = frame(
                r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"capabilities":{}}}"#,
            )
            .into_bytes();
            input.extend(pieces.concat());
            let mut output = Vec::new();
            let status = warden_lsp::serve(std::io::Cursor::new(input), &mut output);
            prop_assert!(status.is_ok());
            // Whatever came out is whole frames of JSON-RPC.
            for message in frames(&output) {
                prop_assert_eq!(&message["jsonrpc"], &json!("2.0"));
            }
        }
    }
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

/// Edits queued together are applied in order and analysed once, before the request
/// behind them is answered; range edits give the diagnostics the whole text gives.
#[test]
fn queued_range_edits_are_analysed_once_as_the_whole_text_is() {
    use warden_lsp::server::{Outgoing, Server};
    let uri = "untitled:edits.warden";
    let notification = |method: &str, params: Value| -> Message {
        Notification::new(method.to_string(), params).into()
    };
    let open = |text: &str| {
        notification(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": "warden", "version": 0, "text": text } }),
        )
    };
    let published = |messages: &[Message]| -> Vec<Value> {
        messages
            .iter()
            .filter_map(|m| match m {
                Message::Notification(n) if n.method == "textDocument/publishDiagnostics" => {
                    Some(n.params["diagnostics"].clone())
                }
                _ => None,
            })
            .collect()
    };
    let mut server = Server::default();
    assert!(server.receive(open(FIXED)).is_empty());
    // `files` → `filez` (an error), a comment with non-ASCII text, a new line.
    let edits = [
        ((1, 18), (1, 19), "z"),
        ((0, 0), (0, 0), "// é😀 x\n"),
        ((0, 7), (0, 8), "≥"),
        ((3, 17), (3, 17), "\n  message \"no\""),
    ];
    for (version, (start, end, text)) in edits.into_iter().enumerate() {
        let range = json!({ "start": { "line": start.0, "character": start.1 }, "end": { "line": end.0, "character": end.1 } });
        let change = notification(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri, "version": version + 1 }, "contentChanges": [{ "range": range, "text": text }] }),
        );
        assert!(server.receive(change).is_empty(), "analysis waits");
    }
    let hover = Request::new(
        RequestId::from(1),
        "textDocument/hover".to_string(),
        json!({ "textDocument": { "uri": uri }, "position": { "line": 2, "character": 3 } }),
    );
    let answered: Vec<Message> = (server.receive(hover.into()).into_iter())
        .map(Outgoing::into_message)
        .collect();
    assert!(
        matches!(answered.last(), Some(Message::Response(r)) if r.id == RequestId::from(1)),
        "{answered:?}"
    );
    let incremental = published(&answered);
    assert_eq!(incremental.len(), 1, "one analysis for four edits");
    assert!(server.flush().is_empty());

    let whole = "// é😀 ≥\nrule r {\n  when change.filez.len() > 0\n  deny \"too many\"\n  message \"no\"\n}\n";
    let full = published(&Server::default().handle(open(whole)));
    assert_eq!(incremental, full);
    assert!(
        full[0].to_string().contains("filez"),
        "the edits reached the checker: {full:?}"
    );
}

// Protocol features (issue 14, part 2): document and workspace symbols, folding ranges
// and quick fixes, one snapshot per fixture of `tests/data/features`. A fixture's first
// line `// query: Q` is the workspace symbol query; the quick fixes are asked for the
// lines marked `// <- fixes`, else for the whole file.

/// `text` with the edits of one file applied (ASCII fixtures: characters are bytes).
fn apply(text: &str, edits: &[Value]) -> String {
    let offset = |position: &Value| {
        let line = position["line"].as_u64().unwrap() as usize;
        let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
        start + position["character"].as_u64().unwrap() as usize
    };
    let mut edits: Vec<(usize, usize, &str)> = edits
        .iter()
        .map(|e| {
            let range = &e["range"];
            let text = e["newText"].as_str().unwrap();
            (offset(&range["start"]), offset(&range["end"]), text)
        })
        .collect();
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    let mut out = text.to_string();
    for (start, end, new) in edits {
        out.replace_range(start..end, new);
    }
    out
}

#[test]
fn symbols_folding_ranges_and_quick_fixes() {
    let capabilities = serde_json::to_value(warden_lsp::server::capabilities()).unwrap();
    for provider in [
        "documentSymbolProvider",
        "workspaceSymbolProvider",
        "foldingRangeProvider",
        "codeActionProvider",
    ] {
        assert_eq!(capabilities[provider], json!(true), "{provider}");
    }
    insta::glob!("data/features/*.warden", |path| {
        let source = std::fs::read_to_string(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let dir = scratch(&format!("features-{name}"));
        std::fs::write(dir.join(&name), &source).unwrap();
        let uri = warden_lsp::uri::from_path(&dir.join(&name)).unwrap();
        let (mut client, _handle) = start(json!({}));
        open(&client, uri.as_str(), &source);
        let published = client.diagnostics_for(&uri);
        let document = json!({ "textDocument": { "uri": uri.as_str() } });
        let mut result = |method: &str, params: Value| {
            let response = client.request(method, params);
            assert!(response.error.is_none(), "{method}: {response:?}");
            response.result.unwrap()
        };
        let symbols = result("textDocument/documentSymbol", document.clone());
        let folding = result("textDocument/foldingRange", document.clone());
        let query = source
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("// query: "))
            .unwrap_or_default();
        let mut workspace = result("workspace/symbol", json!({ "query": query }));
        // The scratch directory differs per run: name files by their file name.
        for symbol in workspace.as_array_mut().unwrap() {
            let file = symbol["location"]["uri"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next();
            symbol["location"]["uri"] = json!(file);
        }
        let marked: Vec<usize> = (source.lines().enumerate())
            .filter(|(_, line)| line.ends_with("// <- fixes"))
            .map(|(number, _)| number)
            .collect();
        let (first, last) = match (marked.first(), marked.last()) {
            (Some(first), Some(last)) => (*first, last + 1),
            _ => (0, source.lines().count()),
        };
        let range = json!({ "start": { "line": first, "character": 0 }, "end": { "line": last, "character": 0 } });
        let actions = result(
            "textDocument/codeAction",
            json!({ "textDocument": { "uri": uri.as_str() }, "range": range,
                    "context": { "diagnostics": published.diagnostics } }),
        );
        let mut fixes = String::new();
        for action in actions.as_array().unwrap() {
            let edits = &action["edit"]["changes"][uri.as_str()];
            let resolves = &action["diagnostics"][0]["code"];
            fixes.push_str(&format!(
                "--- {} (resolves {resolves})\n{}",
                action["title"].as_str().unwrap(),
                apply(&source, edits.as_array().unwrap())
            ));
        }
        let pretty = |value: &Value| serde_json::to_string_pretty(value).unwrap();
        let rendered = format!(
            "{source}\n=== documentSymbol\n{}\n=== foldingRange\n{}\n=== workspace/symbol {query:?}\n{}\n=== codeAction (lines {first}..{last})\n{fixes}",
            pretty(&symbols),
            pretty(&folding),
            pretty(&workspace),
        );
        insta::with_settings!({ omit_expression => true }, {
            insta::assert_snapshot!(rendered);
        });
        let _ = std::fs::remove_dir_all(&dir);
    });
}

/// The keyword docs of hover are the grammar's keywords: one doc for each, none for a
/// word the grammar does not reserve; and the item keywords completion offers are
/// keywords too.
#[test]
fn keyword_docs_are_the_grammars_keywords() {
    let grammar = grammar_keywords();
    let documented: BTreeSet<String> = warden_lsp::analysis::KEYWORDS
        .iter()
        .map(|(keyword, _)| keyword.to_string())
        .collect();
    assert_eq!(
        documented.difference(&grammar).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "documented but not keywords of grammar/warden.pest"
    );
    assert_eq!(
        grammar.difference(&documented).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "keywords of grammar/warden.pest without a doc in analysis::KEYWORDS"
    );
    for keyword in warden_syntax::ITEM_KEYWORDS {
        assert!(grammar.contains(keyword), "{keyword}");
    }
}

/// The semantic tokens of each `data/tokens/*.warden`, full and for a range, one line
/// per token: `line:column length type [modifiers] text`.
#[test]
fn semantic_tokens() {
    let capabilities = serde_json::to_value(warden_lsp::server::capabilities()).unwrap();
    let provider = &capabilities["semanticTokensProvider"];
    assert_eq!(provider["full"], json!(true));
    assert_eq!(provider["range"], json!(true));
    let legend: lsp_types::SemanticTokensLegend =
        serde_json::from_value(provider["legend"].clone()).unwrap();
    insta::glob!("data/tokens/*.warden", |path| {
        let source = std::fs::read_to_string(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let dir = scratch(&format!("tokens-{name}"));
        std::fs::write(dir.join(&name), &source).unwrap();
        let uri = warden_lsp::uri::from_path(&dir.join(&name)).unwrap();
        let (mut client, _handle) = start(json!({}));
        open(&client, uri.as_str(), &source);
        let document = json!({ "textDocument": { "uri": uri.as_str() } });
        let full = client.request("textDocument/semanticTokens/full", document);
        let range = json!({ "start": { "line": 10, "character": 0 }, "end": { "line": 12, "character": 0 } });
        let part = client.request(
            "textDocument/semanticTokens/range",
            json!({ "textDocument": { "uri": uri.as_str() }, "range": range }),
        );
        let render = |response: Response| {
            let tokens: lsp_types::SemanticTokens =
                serde_json::from_value(response.result.unwrap()).unwrap();
            let lines: Vec<Vec<u16>> = source.lines().map(|l| l.encode_utf16().collect()).collect();
            let (mut line, mut column) = (0, 0);
            let mut out = String::new();
            for token in tokens.data {
                line += token.delta_line;
                column = if token.delta_line == 0 {
                    column + token.delta_start
                } else {
                    token.delta_start
                };
                let units =
                    &lines[line as usize][column as usize..(column + token.length) as usize];
                let modifiers: Vec<&str> = (legend.token_modifiers.iter().enumerate())
                    .filter(|(bit, _)| token.token_modifiers_bitset & (1 << bit) != 0)
                    .map(|(_, m)| m.as_str())
                    .collect();
                out.push_str(&format!(
                    "{}:{} {} {}{} {}\n",
                    line + 1,
                    column + 1,
                    token.length,
                    legend.token_types[token.token_type as usize].as_str(),
                    if modifiers.is_empty() {
                        String::new()
                    } else {
                        format!(" [{}]", modifiers.join(", "))
                    },
                    String::from_utf16(units).unwrap(),
                ));
            }
            out
        };
        let rendered = format!(
            "{source}\n=== semanticTokens/full\n{}\n=== semanticTokens/range (lines 11..12)\n{}",
            render(full),
            render(part),
        );
        insta::with_settings!({ omit_expression => true }, {
            insta::assert_snapshot!(rendered);
        });
        let _ = std::fs::remove_dir_all(&dir);
    });
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// The code lenses of each policy of `warden test`'s own fixtures
/// (`tests/test/*/policy.warden`, beside their cases): the suite's totals and each
/// rule's outcomes, as `warden test` gives them on the same cases; then the
/// `warden.runTests` command, the lens refresh it asks for, and the refresh after a
/// save.
#[test]
fn code_lenses_show_test_outcomes_and_the_command_runs_them() {
    let capabilities = serde_json::to_value(warden_lsp::server::capabilities()).unwrap();
    assert_eq!(
        capabilities["executeCommandProvider"]["commands"],
        json!(["warden.runTests"])
    );
    assert_eq!(
        capabilities["codeLensProvider"]["resolveProvider"],
        json!(false)
    );
    insta::glob!("../../../tests", "test/*/policy.warden", |path| {
        let fixture = path.parent().unwrap();
        let name = fixture.file_name().unwrap().to_string_lossy().into_owned();
        let dir = scratch(&format!("lens-{name}"));
        copy_dir(fixture, &dir);
        let source = std::fs::read_to_string(path).unwrap();
        let uri = warden_lsp::uri::from_path(&dir.join("policy.warden")).unwrap();
        let (mut client, _handle) =
            start(json!({ "workspace": { "codeLens": { "refreshSupport": true } } }));
        open(&client, uri.as_str(), &source);
        client.diagnostics_for(&uri);
        let document = json!({ "textDocument": { "uri": uri.as_str() } });
        let render = |lenses: &Value| {
            let mut out = String::new();
            for lens in lenses.as_array().unwrap() {
                let command = &lens["command"];
                assert_eq!(command["command"], json!("warden.runTests"));
                assert_eq!(command["arguments"], json!([uri.as_str()]));
                out.push_str(&format!(
                    "{}:{}-{}:{} {}\n",
                    lens["range"]["start"]["line"].as_u64().unwrap() + 1,
                    lens["range"]["start"]["character"].as_u64().unwrap() + 1,
                    lens["range"]["end"]["line"].as_u64().unwrap() + 1,
                    lens["range"]["end"]["character"].as_u64().unwrap() + 1,
                    command["title"].as_str().unwrap()
                ));
            }
            out
        };
        let lenses = client.request("textDocument/codeLens", document.clone());
        let first = render(&lenses.result.unwrap());

        let ran = client.request(
            "workspace/executeCommand",
            json!({ "command": "warden.runTests", "arguments": [uri.as_str()] }),
        );
        let said = ran
            .result
            .unwrap()
            .as_str()
            .unwrap()
            .replace(&*dir.to_string_lossy(), "DIR");
        let Message::Request(refresh) = client.recv() else {
            panic!("no refresh after the command")
        };
        assert_eq!(refresh.method, "workspace/codeLens/refresh");

        // A save makes the results stale: the client is asked to refresh, and its
        // next request runs the cases again (here with a rule's outcome changed).
        let when = source.find("  when ").unwrap();
        let line_end = when + source[when..].find('\n').unwrap();
        let edited = format!("{}  when false{}", &source[..when], &source[line_end..]);
        std::fs::write(dir.join("policy.warden"), &edited).unwrap();
        client.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri.as_str(), "version": 2 }, "contentChanges": [{ "text": edited }] }),
        );
        client.notify("textDocument/didSave", document.clone());
        // The edit's diagnostics come first when the server read the edit before the
        // save arrived (on a busy machine), after the refresh when it read both at once.
        let refresh = loop {
            match client.recv() {
                Message::Request(request) => break request,
                Message::Notification(n) if n.method == "textDocument/publishDiagnostics" => {}
                other => panic!("no refresh after a save: {other:?}"),
            }
        };
        assert_eq!(refresh.method, "workspace/codeLens/refresh");
        let after = client.request("textDocument/codeLens", document.clone());
        let after = render(&after.result.unwrap());

        let unknown = client.request(
            "workspace/executeCommand",
            json!({ "command": "warden.other", "arguments": [] }),
        );
        assert_eq!(unknown.error.unwrap().code, ErrorCode::InvalidParams as i32);

        let rendered = format!(
            "{source}\n=== codeLens\n{first}\n=== workspace/executeCommand warden.runTests\n{said}\n\n=== codeLens after the first `when` is saved as `when false`\n{after}"
        );
        insta::with_settings!({ omit_expression => true }, {
            insta::assert_snapshot!(rendered);
        });
        let _ = std::fs::remove_dir_all(&dir);
    });
}
