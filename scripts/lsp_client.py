"""The JSON-RPC framing of the language server protocol over a child's stdio, shared by
the scripts that drive `warden-lsp` (`lsp-memory.py`, `lsp-requests.py`,
`lsp-keystrokes.py`), and the peak memory they report."""

import json
import pathlib
import subprocess


def send(proc, message):
    body = json.dumps(message).encode()
    proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    proc.stdin.flush()


def receive(proc):
    length = None
    while True:
        line = proc.stdout.readline()
        if not line:
            raise SystemExit("warden-lsp closed its output")
        line = line.strip()
        if not line:
            break
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    return json.loads(proc.stdout.read(length))


def wait_for(proc, accept):
    """The first message `accept` takes; the ones before it are dropped."""
    while True:
        message = receive(proc)
        if accept(message):
            return message


def peak_mb(proc):
    """The peak resident set of `proc` so far (VmHWM), in MB (10^6 bytes)."""
    for line in pathlib.Path(f"/proc/{proc.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024 / 1e6
    raise SystemExit("no VmHWM")


def start_server(command, initialize):
    """`command` started as a language server and initialized with `initialize`'s
    params."""
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    send(proc, {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": initialize})
    wait_for(proc, lambda m: m.get("id") == 0)
    send(proc, {"jsonrpc": "2.0", "method": "initialized", "params": {}})
    return proc


def diagnostics_of(uri):
    """Accepts the diagnostics published for `uri`."""
    return lambda m: (m.get("method") == "textDocument/publishDiagnostics"
                      and m["params"]["uri"] == uri)


def open_document(proc, uri, text):
    """Opens `text` as `uri`; returns the diagnostics published for it."""
    send(proc, {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
        "textDocument": {"uri": uri, "languageId": "warden", "version": 0, "text": text},
    }})
    return wait_for(proc, diagnostics_of(uri))["params"]["diagnostics"]


def stop(proc):
    """Shuts the server down and waits for it to exit."""
    send(proc, {"jsonrpc": "2.0", "id": 1, "method": "shutdown"})
    wait_for(proc, lambda m: m.get("id") == 1)
    send(proc, {"jsonrpc": "2.0", "method": "exit"})
    proc.wait(timeout=60)
