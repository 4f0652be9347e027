#!/bin/sh
# Regenerates the seed corpora in fuzz/seeds/ from the repository's fixtures and
# examples (needs `jq` for the LSP sessions). Each seed is named by the hash of its
# content, as libFuzzer names its own, so running this twice adds nothing.
set -eu
cd "$(dirname "$0")/.."
rm -rf fuzz/seeds
mkdir -p fuzz/seeds/policy fuzz/seeds/change fuzz/seeds/lsp

add() { # add DIR < content
    tmp=$(mktemp)
    cat > "$tmp"
    mv "$tmp" "fuzz/seeds/$1/$(sha1sum < "$tmp" | cut -c1-40)"
}

# Policies: parse fixtures, check fixtures, evaluation fixtures, the examples and the
# standard library (parse, check and eval_policy).
for file in $(find tests/parse tests/check tests/eval examples stdlib -name '*.warden' | sort); do
    add policy < "$file"
done

# Changes: the example changes, each case's change, each evaluation fixture's change.
for file in examples/acme/changes/*.json tests/eval/*/change.json; do
    add change < "$file"
done
for file in examples/acme/cases/*.json; do
    jq '.change' "$file" | add change
done

# Language server sessions: open a policy, ask each position request, semantic tokens,
# code lenses and quick fixes, edit it down to its first half, close it; one JSON
# message per line.
for file in tests/parse/*/*.warden examples/acme/policy/*.warden; do
    half=$(($(wc -c < "$file") / 2))
    head -c "$half" "$file" | jq -c -R -s --rawfile text "$file" '
        {textDocument: {uri: "untitled:policy.warden"}, position: {line: 3, character: 8}} as $at
        | {jsonrpc: "2.0", method: "textDocument/didOpen", params: {textDocument:
            {uri: "untitled:policy.warden", languageId: "warden", version: 1, text: $text}}},
          {jsonrpc: "2.0", id: 1, method: "textDocument/hover", params: $at},
          {jsonrpc: "2.0", id: 2, method: "textDocument/completion", params: $at},
          {jsonrpc: "2.0", id: 3, method: "textDocument/definition", params: $at},
          {jsonrpc: "2.0", id: 4, method: "textDocument/references", params: ($at + {context: {includeDeclaration: true}})},
          {jsonrpc: "2.0", id: 5, method: "textDocument/prepareRename", params: $at},
          {jsonrpc: "2.0", id: 6, method: "textDocument/rename", params: ($at + {newName: "renamed"})},
          {jsonrpc: "2.0", id: 7, method: "textDocument/documentHighlight", params: $at},
          {jsonrpc: "2.0", id: 8, method: "textDocument/signatureHelp", params: $at},
          {jsonrpc: "2.0", id: 9, method: "textDocument/inlayHint", params: {textDocument: $at.textDocument,
            range: {start: {line: 0, character: 0}, end: {line: 100, character: 0}}}},
          {jsonrpc: "2.0", id: 10, method: "textDocument/semanticTokens/full", params: {textDocument: $at.textDocument}},
          {jsonrpc: "2.0", id: 11, method: "textDocument/codeLens", params: {textDocument: $at.textDocument}},
          {jsonrpc: "2.0", id: 12, method: "textDocument/codeAction", params: {textDocument: $at.textDocument,
            range: {start: {line: 0, character: 0}, end: {line: 100, character: 0}}, context: {diagnostics: []}}},
          {jsonrpc: "2.0", method: "textDocument/didChange", params: {textDocument:
            {uri: "untitled:policy.warden", version: 2}, contentChanges: [{text: .}]}},
          {jsonrpc: "2.0", method: "textDocument/didClose", params: {textDocument: $at.textDocument}}' |
        add lsp
done
