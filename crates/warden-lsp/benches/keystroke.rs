//! Keystroke latency of the release `warden-lsp`, driven as an editor drives it: over
//! stdio, on a generated 5,000-line policy. `cargo bench -p warden-lsp --bench keystroke`
//! prints the median of 30 single-character edits, each sent alone, to the next
//! `publishDiagnostics` of the document; then a burst of 32 edits sent together with a
//! hover behind them: the time to the hover's answer and how many analyses ran.
//! `WARDEN_LSP=PATH` drives the server at `PATH` instead of this tree's.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const RULES: usize = 834;
const EDITS: usize = 30;
const BURST: usize = 32;
const TIMEOUT: Duration = Duration::from_secs(60);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("warden-lsp-keystroke-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let text = policy();
    let path = dir.join("policy.warden");
    std::fs::write(&path, &text)?;
    let folder = format!("file://{}", dir.display());
    let uri = format!("file://{}", path.display());

    // `WARDEN_LSP` runs another server (an older build, or one under callgrind) for an
    // A/B comparison under the same bench.
    let server =
        std::env::var_os("WARDEN_LSP").unwrap_or_else(|| env!("CARGO_BIN_EXE_warden-lsp").into());
    let mut child = Command::new(server)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let mut client = Client::new(&mut child)?;
    client.send(
        &json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "capabilities": {}, "workspaceFolders": [{"uri": folder, "name": "bench"}]}}),
    )?;
    let initialized = client.response(0)?;
    let incremental = initialized["result"]["capabilities"]["textDocumentSync"]["change"] == 2;
    client.notify("initialized", json!({}))?;
    client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "warden", "version": 0, "text": text}}),
    )?;
    client.diagnostics(&uri)?;

    // Type at the end of a doc comment in the middle of the policy.
    let line = (RULES / 2) * 6;
    let mut document = text.clone();
    let mut version = 0;
    let mut edit = |document: &mut String| {
        version += 1;
        let column = document.lines().nth(line).map_or(0, str::len);
        let offset: usize = document
            .lines()
            .take(line)
            .map(|l| l.len() + 1)
            .sum::<usize>()
            + column;
        document.insert(offset, 'x');
        let change = if incremental {
            let at = json!({"line": line, "character": column});
            json!({"range": {"start": at, "end": at}, "text": "x"})
        } else {
            json!({"text": document})
        };
        json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]})
    };

    let mut times = Vec::new();
    for _ in 0..EDITS {
        let params = edit(&mut document);
        let start = Instant::now();
        client.notify("textDocument/didChange", params)?;
        client.diagnostics(&uri)?;
        times.push(start.elapsed());
    }
    times.sort();
    let median = times[times.len() / 2];

    let start = Instant::now();
    for _ in 0..BURST {
        let params = edit(&mut document);
        client.notify("textDocument/didChange", params)?;
    }
    client.send(
        &json!({"jsonrpc": "2.0", "id": 1, "method": "textDocument/hover", "params": {
        "textDocument": {"uri": uri}, "position": {"line": line + 1, "character": 2}}}),
    )?;
    client.response(1)?;
    let burst = start.elapsed();
    let analyses = client.published;

    client.send(&json!({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}))?;
    client.response(2)?;
    client.notify("exit", Value::Null)?;
    child.wait()?;
    let _ = std::fs::remove_dir_all(&dir);

    let lines = text.lines().count();
    let sync = if incremental { "incremental" } else { "full" };
    println!(
        "keystroke ({lines} lines, {sync} sync): median {:.1} ms, min {:.1} ms, max {:.1} ms over {EDITS} edits",
        ms(median),
        ms(times[0]),
        ms(times[times.len() - 1]),
    );
    println!(
        "burst of {BURST} edits + hover: hover answered after {:.1} ms, {} analyses published before it",
        ms(burst),
        analyses.saturating_sub(1 + EDITS),
    );
    Ok(())
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// About 5,000 lines: rules of six lines each, every one of which checks.
fn policy() -> String {
    let mut out = String::new();
    for i in 0..RULES {
        out.push_str(&format!(
            "/// Rule {i}: changes to service {svc} need its team\nrule r{i:05} {{\n  when change.files.any(f => f.path matches glob(\"services/svc-{svc}/**\"))\n  require 1 approval from team(\"team-{team}\")\n}}\n\n",
            svc = i % 40,
            team = i % 12,
        ));
    }
    out
}

struct Client {
    input: ChildStdin,
    messages: Receiver<Value>,
    /// `publishDiagnostics` seen so far.
    published: usize,
}

impl Client {
    fn new(child: &mut Child) -> Result<Client, Box<dyn std::error::Error>> {
        let input = child.stdin.take().ok_or("no stdin")?;
        let output = child.stdout.take().ok_or("no stdout")?;
        let (sender, messages) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(output);
            while let Some(message) = read_frame(&mut reader) {
                if sender.send(message).is_err() {
                    break;
                }
            }
        });
        Ok(Client {
            input,
            messages,
            published: 0,
        })
    }

    fn send(&mut self, message: &Value) -> std::io::Result<()> {
        let body = message.to_string();
        write!(self.input, "Content-Length: {}\r\n\r\n{body}", body.len())?;
        self.input.flush()
    }

    fn notify(&mut self, method: &str, params: Value) -> std::io::Result<()> {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}))
    }

    fn next(&mut self) -> Result<Value, Box<dyn std::error::Error>> {
        let message = self.messages.recv_timeout(TIMEOUT)?;
        if message["method"] == "textDocument/publishDiagnostics" {
            self.published += 1;
        }
        Ok(message)
    }

    fn response(&mut self, id: i64) -> Result<Value, Box<dyn std::error::Error>> {
        loop {
            let message = self.next()?;
            if message.get("method").is_none() && message["id"] == id {
                return Ok(message);
            }
        }
    }

    fn diagnostics(&mut self, uri: &str) -> Result<Value, Box<dyn std::error::Error>> {
        loop {
            let message = self.next()?;
            if message["method"] == "textDocument/publishDiagnostics"
                && message["params"]["uri"] == uri
            {
                return Ok(message);
            }
        }
    }
}

fn read_frame(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(value) = line.strip_prefix("Content-Length:") {
            length = value.trim().parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}
