#!/usr/bin/env python3
"""Peak memory and time of each request `warden-lsp` answers on one policy file.

Drives the server over stdio: initialize, open the file and wait for its diagnostics;
then, at the use of the first local `let` in the middle of the file, each position
request in turn (hover, definition, references, document highlight, rename,
completion, signature help, code action), then the whole-document requests (symbols,
folding ranges, code lenses, inlay hints, formatting). Prints, after each, the
answer's size, the time it took and the server's peak resident set so far (VmHWM of
/proc/PID/status), in MB (10^6 bytes). For docs/benchmarks.md:

    scripts/lsp-requests.py target/release/warden-lsp /tmp/gen10m/policy/generated.warden
"""

import pathlib
import re
import sys
import time

from lsp_client import open_document, peak_mb, send, start_server, stop, wait_for


def main():
    server, file = sys.argv[1], pathlib.Path(sys.argv[2]).resolve()
    uri = file.as_uri()
    text = file.read_text()
    lines = text.split("\n")
    proc = start_server([server], {
        "processId": None, "rootUri": file.parent.as_uri(), "capabilities": {},
    })
    open_document(proc, uri, text)
    print(f"open: {peak_mb(proc):.0f} MB")

    # The first `let NAME = …` of a rule from the middle on, and its next use.
    middle = len(lines) // 2
    let_line, name = next(
        (i, m.group(1)) for i in range(middle, len(lines))
        if (m := re.match(r"\s+let (\w+) = ", lines[i])))
    use_line = next(i for i in range(let_line + 1, len(lines))
                    if re.search(rf"\b{name}\b", lines[i]))
    at = {"line": use_line, "character": re.search(rf"\b{name}\b", lines[use_line]).start() + 1}
    call = {"line": let_line, "character": len(lines[let_line]) - 2}
    whole = {"start": {"line": 0, "character": 0}, "end": {"line": 100, "character": 0}}
    requests = [
        ("textDocument/hover", {"position": at}),
        ("textDocument/definition", {"position": at}),
        ("textDocument/references", {"position": at, "context": {"includeDeclaration": True}}),
        ("textDocument/documentHighlight", {"position": at}),
        ("textDocument/rename", {"position": at, "newName": "renamed"}),
        ("textDocument/completion", {"position": at}),
        ("textDocument/signatureHelp", {"position": call}),
        ("textDocument/codeAction", {"range": {"start": at, "end": at},
                                     "context": {"diagnostics": []}}),
        ("textDocument/documentSymbol", {}),
        ("textDocument/foldingRange", {}),
        ("textDocument/codeLens", {}),
        ("textDocument/inlayHint", {"range": whole}),
        ("textDocument/formatting", {"options": {"tabSize": 2, "insertSpaces": True}}),
    ]
    for id_, (method, params) in enumerate(requests, start=10):
        params = {"textDocument": {"uri": uri}, **params}
        start = time.monotonic()
        send(proc, {"jsonrpc": "2.0", "id": id_, "method": method, "params": params})
        result = wait_for(proc, lambda m, id_=id_: m.get("id") == id_).get("result")
        took = time.monotonic() - start
        size = len(result) if isinstance(result, (list, dict)) else int(result is not None)
        print(f"{method}: {size} in the answer, {took:.2f} s, {peak_mb(proc):.0f} MB")

    stop(proc)


if __name__ == "__main__":
    main()
