"""The JSON-RPC framing of the language server protocol over a child's stdio, shared by
the scripts that drive `warden-lsp` (`lsp-memory.py`, `lsp-requests.py`,
`lsp-keystrokes.py`), and the peak memory they report."""

import json
import pathlib


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
