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
            let status = warden_lsp::serve(input.as_bytes(), &mut output).unwrap();
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
            let status = warden_lsp::serve(&input[..], &mut output);
            prop_assert!(status.is_ok());
            // Whatever came out is whole frames of JSON-RPC.
            for message in frames(&output) {
                prop_assert_eq!(&message["jsonrpc"], &json!("2.0"));
            }
        }
    }
}
