#!/usr/bin/env python3
"""Keystrokes into `warden-lsp`, for instruction counts per keystroke (docs/benchmarks.md).

Drives the server over stdio on the keystroke bench's policy (834 rules, 5,004 lines:
`crates/warden-lsp/benches/keystroke.rs`): initialize, open it and wait for its
diagnostics; then N single-character edits at the end of a doc comment in the middle,
each sent alone and waited for (its `publishDiagnostics`); then shutdown. Prints the
median, min and max time from an edit to its diagnostics. The server is the command
after N, so it can run under callgrind; instructions per keystroke are the difference
of two runs (N and 0 edits) divided by N:

    scripts/lsp-keystrokes.py 20 valgrind --tool=callgrind target/release/warden-lsp
    scripts/lsp-keystrokes.py 0 valgrind --tool=callgrind target/release/warden-lsp

`--policy FILE` before N types into a copy of FILE instead, at the end of the doc
comment line nearest its middle (`warden generate`'s policy has one per rule).
"""

import os
import sys
import tempfile
import time

from lsp_client import diagnostics_of, open_document, send, start_server, stop, wait_for

RULES = 834


def policy():
    return "".join(
        f"/// Rule {i}: changes to service {i % 40} need its team\nrule r{i:05} {{\n"
        f'  when change.files.any(f => f.path matches glob("services/svc-{i % 40}/**"))\n'
        f'  require 1 approval from team("team-{i % 12}")\n}}\n\n'
        for i in range(RULES)
    )


def main():
    args = sys.argv[1:]
    text = policy()
    if args[0] == "--policy":
        with open(args[1]) as source:
            text = source.read()
        args = args[2:]
    edits = int(args[0])
    folder = tempfile.mkdtemp(prefix="warden-keystrokes-")
    path = os.path.join(folder, "policy.warden")
    with open(path, "w") as out:
        out.write(text)
    uri = "file://" + path
    proc = start_server(args[1:], {
        "capabilities": {}, "workspaceFolders": [{"uri": "file://" + folder, "name": "k"}]})
    open_document(proc, uri, text)
    diagnostics = diagnostics_of(uri)
    lines = text.split("\n")
    docs = [i for i, l in enumerate(lines) if l.startswith("///")] or [len(lines) // 2]
    line = min(docs, key=lambda i: abs(i - len(lines) // 2))
    column = len(lines[line])
    times = []
    for version in range(1, edits + 1):
        at = {"line": line, "character": column}
        column += 1
        start = time.perf_counter()
        send(proc, {"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"range": {"start": at, "end": at}, "text": "x"}]}})
        wait_for(proc, diagnostics)
        times.append(time.perf_counter() - start)
    stop(proc)
    os.remove(path)
    os.rmdir(folder)
    if times:
        times.sort()
        print("median %.1f ms, min %.1f ms, max %.1f ms over %d edits" % (
            times[len(times) // 2] * 1000, times[0] * 1000, times[-1] * 1000, len(times)))


main()
