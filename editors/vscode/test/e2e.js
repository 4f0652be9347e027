// End-to-end: loads the extension (see loadExtension), then drives `warden-lsp` over
// stdio with the protocol layer of `vscode-languageclient` (`vscode-languageserver-protocol`,
// the library the extension's client sends every message through): initialize, open a
// document with an error, wait for its diagnostics, hover, fix the document, see the
// diagnostics cleared, shut down.
//
//   node test/e2e.js PATH/TO/warden-lsp
//
// Exits 0 when every step holds, 1 with the reason otherwise. Run by the Rust test
// `vscode_client_end_to_end` in crates/warden-lsp/tests/protocol.rs.
"use strict";

const assert = require("assert/strict");
const childProcess = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { pathToFileURL } = require("url");
const {
  createProtocolConnection,
  StreamMessageReader,
  StreamMessageWriter,
  InitializeRequest,
  InitializedNotification,
  DidOpenTextDocumentNotification,
  DidChangeTextDocumentNotification,
  PublishDiagnosticsNotification,
  HoverRequest,
  ShutdownRequest,
  ExitNotification,
} = require("vscode-languageserver-protocol/node");

// A hang must fail the test, not stall it.
const TIMEOUT_MS = 60_000;

const BROKEN = 'rule r {\n  when change.filez.len() > 0\n  deny "too many: {change.author.name}"\n}\n';
const FIXED = 'rule r {\n  when change.files.len() > 0\n  deny "too many: {change.author.name}"\n}\n';

/**
 * Loads extension.js outside VS Code, the `vscode` module replaced by a stand-in whose
 * every member is another stand-in: this checks that the extension's own requires
 * (the client library included) resolve and that it exports its entry points.
 */
function loadExtension() {
  const stub = (name) =>
    new Proxy(function () {}, {
      get: (target, key) => (key in target ? target[key] : stub(`${name}.${String(key)}`)),
      construct: () => stub(`new ${name}`),
      apply: () => stub(`${name}()`),
    });
  const Module = require("module");
  const load = Module._load;
  Module._load = function (request, ...rest) {
    return request === "vscode" ? stub("vscode") : load.call(this, request, ...rest);
  };
  try {
    const extension = require("../extension.js");
    assert.equal(typeof extension.activate, "function", "extension.js exports activate");
    assert.equal(typeof extension.deactivate, "function", "extension.js exports deactivate");
  } finally {
    Module._load = load;
  }
}

async function main() {
  loadExtension();
  const server = process.argv[2];
  if (!server) {
    throw new Error("usage: node test/e2e.js PATH/TO/warden-lsp");
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "warden-vscode-e2e-"));
  // A repository root, so the server's policy root stays in the test directory.
  fs.mkdirSync(path.join(dir, ".git"));
  const file = path.join(dir, "main.warden");
  fs.writeFileSync(file, BROKEN);
  const uri = pathToFileURL(file).href;

  const child = childProcess.spawn(server, [], { stdio: ["pipe", "pipe", "inherit"] });
  const exited = new Promise((resolve, reject) => {
    child.on("exit", (code, signal) => resolve({ code, signal }));
    child.on("error", reject);
  });
  const connection = createProtocolConnection(
    new StreamMessageReader(child.stdout),
    new StreamMessageWriter(child.stdin),
  );
  // Diagnostics arrive as notifications: queue them per URI, in order.
  const published = [];
  let notify = () => {};
  connection.onNotification(PublishDiagnosticsNotification.type, (params) => {
    published.push(params);
    notify();
  });
  const nextDiagnostics = async () => {
    for (;;) {
      const index = published.findIndex((p) => p.uri === uri);
      if (index >= 0) {
        return published.splice(index, 1)[0].diagnostics;
      }
      await new Promise((resolve) => (notify = resolve));
    }
  };
  connection.listen();

  try {
    const folder = pathToFileURL(dir).href;
    const initialized = await connection.sendRequest(InitializeRequest.type, {
      processId: process.pid,
      rootUri: folder,
      workspaceFolders: [{ uri: folder, name: "e2e" }],
      capabilities: {},
    });
    assert.ok(initialized.capabilities.hoverProvider, "the server offers hover");
    await connection.sendNotification(InitializedNotification.type, {});

    await connection.sendNotification(DidOpenTextDocumentNotification.type, {
      textDocument: { uri, languageId: "warden", version: 1, text: BROKEN },
    });
    const diagnostics = await nextDiagnostics();
    const unknownField = diagnostics.find((d) => d.code === "unknown-field");
    assert.ok(unknownField, `an unknown-field diagnostic in ${JSON.stringify(diagnostics)}`);
    // `filez` on line 1, columns 14..19 (UTF-16).
    assert.deepEqual(unknownField.range, {
      start: { line: 1, character: 14 },
      end: { line: 1, character: 19 },
    });
    assert.match(unknownField.message, /files/);

    // Hover on `author` inside the message's `{…}` hole.
    const hover = await connection.sendRequest(HoverRequest.type, {
      textDocument: { uri },
      position: { line: 2, character: 27 },
    });
    assert.ok(hover && JSON.stringify(hover.contents).includes("author"), `hover: ${JSON.stringify(hover)}`);

    await connection.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri, version: 2 },
      contentChanges: [{ text: FIXED }],
    });
    assert.deepEqual(await nextDiagnostics(), []);

    assert.equal(await connection.sendRequest(ShutdownRequest.type), null);
    await connection.sendNotification(ExitNotification.type);
    const { code, signal } = await exited;
    assert.equal(signal, null, "the server exits by itself");
    assert.equal(code, 0, "the server exits with 0 after shutdown");
    console.log("e2e: extension loaded; diagnostics, hover, fix and shutdown through vscode-languageserver-protocol: ok");
  } finally {
    connection.dispose();
    child.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const timer = setTimeout(() => {
  console.error(`e2e: no result after ${TIMEOUT_MS} ms`);
  process.exit(1);
}, TIMEOUT_MS);
main().then(
  () => {
    clearTimeout(timer);
    process.exit(0);
  },
  (error) => {
    console.error(`e2e: ${error.stack || error}`);
    process.exit(1);
  },
);
