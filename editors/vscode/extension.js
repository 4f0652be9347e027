// The Warden extension: the language (see package.json and syntaxes/) and a client that
// starts `warden-lsp` over stdio. Plain JavaScript, so that packaging needs no build step.
"use strict";

const path = require("path");
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

/** @type {LanguageClient | undefined} */
let client;

/**
 * The server command from `warden.server.path`: a bare name is looked up on PATH by the
 * system; a relative path (`target/release/warden-lsp`) is taken from the first
 * workspace folder, as a user writing it in the workspace settings means.
 */
function serverCommand(configured) {
  const command = (configured || "").trim() || "warden-lsp";
  if (path.isAbsolute(command) || !/[\\/]/.test(command)) {
    return command;
  }
  const folder = vscode.workspace.workspaceFolders?.[0];
  return folder ? path.join(folder.uri.fsPath, command) : command;
}

async function start() {
  const settings = vscode.workspace.getConfiguration("warden.server");
  const command = serverCommand(settings.get("path"));
  const args = settings.get("args") || [];
  const executable = { command, args };
  client = new LanguageClient(
    "warden",
    "Warden",
    { run: executable, debug: executable },
    { documentSelector: [{ scheme: "file", language: "warden" }] },
  );
  try {
    await client.start();
  } catch (error) {
    client = undefined;
    const message = error instanceof Error ? error.message : String(error);
    const choice = await vscode.window.showErrorMessage(
      `Warden: cannot start the language server \`${command}\` (${message}). ` +
        "Build it with `cargo build --release -p warden-lsp` and put it on PATH, " +
        "or set `warden.server.path` to the binary.",
      "Open Settings",
    );
    if (choice === "Open Settings") {
      await vscode.commands.executeCommand("workbench.action.openSettings", "warden.server");
    }
  }
}

async function stop() {
  const running = client;
  client = undefined;
  if (running) {
    await running.stop();
  }
}

async function restart() {
  await stop();
  await start();
}

/** @param {vscode.ExtensionContext} context */
async function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand("warden.restartServer", restart),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration("warden.server")) {
        void restart();
      }
    }),
  );
  await start();
}

function deactivate() {
  return stop();
}

module.exports = { activate, deactivate };
