#!/usr/bin/env python3
"""Peak memory of `warden-lsp` on one policy file, for docs/benchmarks.md.

Drives the server over stdio as an editor would: initialize, open the file and wait
for its diagnostics; then a hover and one keystroke (an edit inserting a space at the
end of the file), and wait for the diagnostics again; then ask for the document's
semantic tokens, symbols and folding ranges, as an editor does. Prints the server's peak resident set (VmHWM of /proc/PID/status)
after each phase, in MB (10^6 bytes).

    scripts/lsp-memory.py target/release/warden-lsp /tmp/gen10m/policy/generated.warden
"""

import pathlib
import sys

from lsp_client import (
    diagnostics_of, open_document, peak_mb, send, start_server, stop, wait_for,
)


def main():
    server, file = sys.argv[1], pathlib.Path(sys.argv[2]).resolve()
    uri = file.as_uri()
    text = file.read_text()
    proc = start_server([server], {
        "processId": None,
        "rootUri": file.parent.as_uri(),
        "capabilities": {"general": {"positionEncodings": ["utf-16"]}},
    })
    diagnostics = diagnostics_of(uri)
    count = len(open_document(proc, uri, text))
    print(f"open, {count} diagnostics: {peak_mb(proc):.0f} MB")

    # Hover on the first rule's name; then type a space at the end of the file.
    lines = text.split("\n")
    line = next(i for i, l in enumerate(lines) if l.startswith("rule "))
    send(proc, {"jsonrpc": "2.0", "id": 2, "method": "textDocument/hover", "params": {
        "textDocument": {"uri": uri}, "position": {"line": line, "character": 6},
    }})
    wait_for(proc, lambda m: m.get("id") == 2)
    print(f"+ hover: {peak_mb(proc):.0f} MB")
    end = {"line": len(lines) - 1, "character": len(lines[-1].encode("utf-16-le")) // 2}
    send(proc, {"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
        "textDocument": {"uri": uri, "version": 2},
        "contentChanges": [{"range": {"start": end, "end": end}, "text": " "}],
    }})
    count = len(wait_for(proc, diagnostics)["params"]["diagnostics"])
    print(f"+ a keystroke, {count} diagnostics: {peak_mb(proc):.0f} MB")

    # What an editor asks for next: the whole document's semantic tokens.
    send(proc, {"jsonrpc": "2.0", "id": 4, "method": "textDocument/semanticTokens/full",
                "params": {"textDocument": {"uri": uri}}})
    tokens = len(wait_for(proc, lambda m: m.get("id") == 4)["result"]["data"]) // 5
    print(f"+ semantic tokens, {tokens} tokens: {peak_mb(proc):.0f} MB")

    # And the outline and folding ranges.
    for id_, method in [(5, "textDocument/documentSymbol"), (6, "textDocument/foldingRange")]:
        send(proc, {"jsonrpc": "2.0", "id": id_, "method": method,
                    "params": {"textDocument": {"uri": uri}}})
        wait_for(proc, lambda m, id_=id_: m.get("id") == id_)
    print(f"+ document symbols and folding ranges: {peak_mb(proc):.0f} MB")

    stop(proc)


if __name__ == "__main__":
    main()
