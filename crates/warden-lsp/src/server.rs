//! The protocol side: the open documents, the policy each belongs to, publishing
//! diagnostics, and dispatching requests to the pure core with panics contained.

use std::collections::{BTreeMap, BTreeSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use warden::Code;

use lsp_server::{ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidChangeWatchedFiles, DidChangeWorkspaceFolders, DidCloseTextDocument,
    DidOpenTextDocument, DidSaveTextDocument, Notification as _, PublishDiagnostics,
};
use lsp_types::request::{
    CodeActionRequest, CodeLensRequest, Completion, DocumentHighlightRequest,
    DocumentSymbolRequest, ExecuteCommand, FoldingRangeRequest, Formatting, GotoDefinition,
    HoverRequest, InlayHintRequest, PrepareRenameRequest, References, Rename, Request as _,
    SemanticTokensFullRequest, SemanticTokensRangeRequest, SignatureHelpRequest,
    WorkspaceSymbolRequest,
};
use lsp_types::{
    CodeActionOrCommand, CodeActionParams, CodeActionProviderCapability, CompletionOptions,
    CompletionParams, CompletionResponse, DidChangeTextDocumentParams, DidChangeWatchedFilesParams,
    DidChangeWorkspaceFoldersParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams,
    DidSaveTextDocumentParams, DocumentFormattingParams, DocumentSymbolParams,
    DocumentSymbolResponse, FoldingRangeParams, FoldingRangeProviderCapability,
    GotoDefinitionParams, GotoDefinitionResponse, Hover, HoverContents, HoverParams,
    HoverProviderCapability, Location, MarkupContent, MarkupKind, OneOf, PositionEncodingKind,
    PublishDiagnosticsParams, SaveOptions, ServerCapabilities, SymbolInformation,
    TextDocumentSyncCapability, TextDocumentSyncKind, TextDocumentSyncOptions,
    TextDocumentSyncSaveOptions, TextEdit, Uri, WorkspaceFoldersServerCapabilities,
    WorkspaceServerCapabilities, WorkspaceSymbolParams, WorkspaceSymbolResponse,
};
use serde_json::Value;
use warden::SourceText;
use warden_syntax::Span;

use crate::analysis::{self, Indexed};
use crate::code_lens::{self, TestResults};
use crate::position::{self, LineIndex};
use crate::{actions, completion, folding, semantic_tokens, symbols, uri};

/// What the server offers: incremental document sync, hover, completion (also after `.`),
/// go-to-definition, references, rename (with `prepareRename`), document highlights,
/// inlay hints, signature help, formatting (`warden fmt`), document and workspace
/// symbols, folding ranges, quick fixes, semantic tokens and test-outcome code lenses
/// (with the `warden.runTests` command), in UTF-16 positions.
pub fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(PositionEncodingKind::UTF16),
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions {
                    include_text: Some(false),
                })),
                ..TextDocumentSyncOptions::default()
            },
        )),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec![".".to_string()]),
            ..CompletionOptions::default()
        }),
        definition_provider: Some(OneOf::Left(true)),
        // Workspace folders bound the search for a policy's root.
        workspace: Some(WorkspaceServerCapabilities {
            workspace_folders: Some(WorkspaceFoldersServerCapabilities {
                supported: Some(true),
                change_notifications: Some(OneOf::Left(true)),
            }),
            file_operations: None,
        }),
        document_formatting_provider: Some(OneOf::Left(true)),
        document_symbol_provider: Some(OneOf::Left(true)),
        workspace_symbol_provider: Some(OneOf::Left(true)),
        folding_range_provider: Some(FoldingRangeProviderCapability::Simple(true)),
        code_action_provider: Some(CodeActionProviderCapability::Simple(true)),
        references_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Right(lsp_types::RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: lsp_types::WorkDoneProgressOptions::default(),
        })),
        document_highlight_provider: Some(OneOf::Left(true)),
        inlay_hint_provider: Some(OneOf::Left(true)),
        signature_help_provider: Some(lsp_types::SignatureHelpOptions {
            trigger_characters: Some(vec!["(".to_string(), ",".to_string()]),
            retrigger_characters: None,
            work_done_progress_options: lsp_types::WorkDoneProgressOptions::default(),
        }),
        code_lens_provider: Some(lsp_types::CodeLensOptions {
            resolve_provider: Some(false),
        }),
        execute_command_provider: Some(lsp_types::ExecuteCommandOptions {
            commands: vec![code_lens::RUN_TESTS.to_string()],
            ..lsp_types::ExecuteCommandOptions::default()
        }),
        semantic_tokens_provider: Some(
            lsp_types::SemanticTokensServerCapabilities::SemanticTokensOptions(
                lsp_types::SemanticTokensOptions {
                    legend: semantic_tokens::legend(),
                    range: Some(true),
                    full: Some(lsp_types::SemanticTokensFullOptions::Bool(true)),
                    ..lsp_types::SemanticTokensOptions::default()
                },
            ),
        ),
        ..ServerCapabilities::default()
    }
}

/// Why a request failed.
#[derive(Debug)]
pub enum RequestError {
    MethodNotFound,
    InvalidParams(String),
    /// The request is understood but cannot be done (a rename to an invalid name).
    Failed(String),
}

/// Answers a request with `handler`: its result, or the error response; a panic
/// becomes an `InternalError` response, so one bad request never takes the server
/// down.
pub fn dispatch<T>(
    request: &Request,
    handler: impl FnOnce(&Request) -> Result<T, RequestError>,
) -> Result<T, Response> {
    let id = request.id.clone();
    Err(match catch_unwind(AssertUnwindSafe(|| handler(request))) {
        Ok(Ok(result)) => return Ok(result),
        Ok(Err(RequestError::MethodNotFound)) => Response::new_err(
            id,
            ErrorCode::MethodNotFound as i32,
            format!("unknown method `{}`", request.method),
        ),
        Ok(Err(RequestError::InvalidParams(message))) => {
            Response::new_err(id, ErrorCode::InvalidParams as i32, message)
        }
        Ok(Err(RequestError::Failed(message))) => {
            Response::new_err(id, ErrorCode::RequestFailed as i32, message)
        }
        Err(panic) => Response::new_err(
            id,
            ErrorCode::InternalError as i32,
            format!("internal error: {}", panic_message(&*panic)),
        ),
    })
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a handler panicked".to_string())
}

/// The file that makes its directory a policy root: every `.warden` file below it is
/// one policy, as `warden check DIR` reads it.
pub const ROOT_MARKER: &str = ".warden-root";

/// What a file analysed alone reports when it is part of a larger policy: a rule or
/// an imported file defined elsewhere, or no rule at all (a library file).
const NEEDS_DIRECTORY: &[Code] = &[Code::UnknownRule, Code::UnknownModule, Code::NoRules];

/// An open document.
struct Document {
    uri: Uri,
    path: Option<PathBuf>,
    /// Shared with the policy views and analyses made of it, never copied.
    text: Rc<str>,
    /// The key of the policy it was last analysed in (see [`PolicyView::key`]).
    policy: String,
}

/// The policy a document belongs to, as analyzed: its sources (open buffers overriding
/// the disk), the URI of each, and which one is the document.
struct PolicyView {
    /// Names the policy: its root directory, or the document's URI when it is
    /// analysed alone.
    key: String,
    sources: Vec<SourceText>,
    uris: Vec<Option<Uri>>,
    current: usize,
    /// Files of the policy that could not be read (not UTF-8, too large, a refused
    /// link), and why: reported on each, the rest analysed without them.
    unreadable: Vec<(Uri, String)>,
}

/// A policy's analysis with the checker's index, and the sources it analysed.
struct Retained {
    key: String,
    sources: Vec<SourceText>,
    indexed: Rc<Indexed>,
}

/// Where a file's policy is rooted.
struct Root {
    dir: PathBuf,
    /// Set by a [`ROOT_MARKER`]: the directory is a policy, never a file alone.
    marked: bool,
}

/// The server's state. [`Server::handle`] answers one message without touching the
/// connection, so the fuzzer drives it in-process.
#[derive(Default)]
pub struct Server {
    /// Open documents by URI.
    documents: BTreeMap<String, Document>,
    /// The workspace folders: a policy root is never above the folder of its file.
    folders: Vec<PathBuf>,
    /// Every `file:` URI the client named, by path: diagnostics go to the very string
    /// the client uses, not to a re-encoding of it.
    client_uris: BTreeMap<PathBuf, Uri>,
    /// The documents analysed alone at their last analysis, by URI.
    alone: BTreeSet<String>,
    /// Per policy key: the URIs that diagnostics were last published for, to clear
    /// those that went away.
    published: BTreeMap<String, BTreeSet<String>>,
    /// Documents edited since their last analysis, in the order first edited: edits
    /// queued together are applied together and analysed once (see [`Server::flush`]).
    pending: Vec<Uri>,
    /// Per policy key: its files as last parsed, so an edit re-parses only the items
    /// it changed.
    parses: BTreeMap<String, warden::ParseCache>,
    /// The last policy analysed with the checker's index: the position requests answer
    /// from it while the policy's sources are the ones it was made from.
    retained: Option<Retained>,
    /// The last diagnostics analysis, with its policy's key and sources, and of its
    /// diagnostics those with a quick fix: code actions answer from it while they are
    /// the policy's (a large policy's check takes a second, and editors ask for code
    /// actions as the cursor moves).
    checked: Option<(String, Vec<SourceText>, Rc<warden::Analysis>)>,
    /// Per policy key: its test cases' results, for the code lenses (see
    /// [`code_lens`]): run when first asked for, after a save, and by the command.
    tests: BTreeMap<String, TestResults>,
    /// The client refreshes code lenses when asked (`workspace/codeLens/refresh`).
    lens_refresh: bool,
    /// Test results changed since the client last asked for lenses.
    lenses_stale: bool,
    /// How many requests the server sent the client: their ids.
    sent: u32,
}

/// The notifications that only change a document's text: their analysis waits for
/// [`Server::flush`].
const EDITS: &[&str] = &[
    DidOpenTextDocument::METHOD,
    DidChangeTextDocument::METHOD,
    DidSaveTextDocument::METHOD,
];

impl Server {
    /// Takes the workspace folders from the `initialize` request.
    #[allow(deprecated)] // `rootUri`: the folder of clients without workspace folders.
    pub fn configure(&mut self, params: &lsp_types::InitializeParams) {
        let folders = match &params.workspace_folders {
            Some(folders) => folders.iter().map(|f| f.uri.clone()).collect(),
            None => params.root_uri.iter().cloned().collect::<Vec<_>>(),
        };
        self.folders = folders.iter().filter_map(uri::to_path).collect();
        self.lens_refresh = (params.capabilities.workspace.as_ref())
            .and_then(|w| w.code_lens.as_ref())
            .and_then(|c| c.refresh_support)
            .unwrap_or(false);
    }

    /// Answers one message of the client after the handshake (`initialize`,
    /// `shutdown` and `exit` belong to the [`crate::lifecycle::Session`]): a request
    /// gets its response, a document notification the diagnostics it publishes. A
    /// panic in a handler is contained: an `InternalError` response to a request, a
    /// message on standard error for a notification.
    pub fn handle(&mut self, message: Message) -> Vec<Message> {
        let mut outgoing = self.receive(message);
        outgoing.extend(self.flush());
        outgoing.into_iter().map(Outgoing::into_message).collect()
    }

    /// As [`Server::handle`], except that an edit's analysis is left pending until
    /// [`Server::flush`] or the next message that is not an edit: the loop reading the
    /// client calls this while more messages are queued, so that a burst of keystrokes
    /// is analysed once, and a request behind it waits for one analysis, not one each.
    pub fn receive(&mut self, message: Message) -> Vec<Outgoing> {
        let is_edit =
            matches!(&message, Message::Notification(n) if EDITS.contains(&n.method.as_str()));
        let mut outgoing = Vec::new();
        if !is_edit {
            outgoing.extend(self.flush());
        }
        outgoing.extend(self.answer(message));
        outgoing.extend(self.refresh_lenses().map(Outgoing::Message));
        outgoing
    }

    /// Analyses the documents edited since the last analysis and publishes their
    /// diagnostics.
    pub fn flush(&mut self) -> Vec<Outgoing> {
        (self.analyse_pending().into_iter())
            .map(Outgoing::Diagnostics)
            .collect()
    }

    /// The diagnostics of the documents edited since the last analysis.
    fn analyse_pending(&mut self) -> Vec<PublishDiagnosticsParams> {
        let mut outgoing = Vec::new();
        for uri in std::mem::take(&mut self.pending) {
            match catch_unwind(AssertUnwindSafe(|| self.publish(&uri))) {
                Ok(published) => outgoing.extend(published),
                Err(panic) => eprintln!(
                    "warden-lsp: internal error analysing `{}`: {}",
                    uri.as_str(),
                    panic_message(&*panic)
                ),
            }
        }
        outgoing
    }

    fn answer(&mut self, message: Message) -> Vec<Outgoing> {
        match message {
            Message::Request(request) => {
                vec![match dispatch(&request, |request| self.request(request)) {
                    Ok(json) => Outgoing::Answer(request.id, json),
                    Err(response) => Outgoing::response(response),
                }]
            }
            Message::Notification(notification) => {
                let method = notification.method.clone();
                // Owned, so that a document's text is moved, never copied.
                match catch_unwind(AssertUnwindSafe(|| self.notification(notification))) {
                    Ok(outgoing) => (outgoing.into_iter())
                        .map(|n| Outgoing::Message(Message::Notification(n)))
                        .collect(),
                    Err(panic) => {
                        eprintln!(
                            "warden-lsp: internal error handling `{}`: {}",
                            method,
                            panic_message(&*panic)
                        );
                        Vec::new()
                    }
                }
            }
            Message::Response(_) => Vec::new(),
        }
    }

    /// The answer to `request`, as JSON text: it is written to the stream as it is
    /// (a large file's symbols or tokens as a JSON tree took hundreds of megabytes).
    fn request(&mut self, request: &Request) -> Result<String, RequestError> {
        let result = match request.method.as_str() {
            HoverRequest::METHOD => {
                let params: HoverParams = params(request)?;
                let position = params.text_document_position_params;
                self.hover(&position.text_document.uri, position.position)
                    .map(|answer| serde_json::to_string(&answer))
            }
            Completion::METHOD => {
                let params: CompletionParams = params(request)?;
                let position = params.text_document_position;
                self.completion(&position.text_document.uri, position.position)
                    .map(|answer| serde_json::to_string(&answer))
            }
            GotoDefinition::METHOD => {
                let params: GotoDefinitionParams = params(request)?;
                let position = params.text_document_position_params;
                self.definition(&position.text_document.uri, position.position)
                    .map(|answer| serde_json::to_string(&answer))
            }
            Formatting::METHOD => {
                let params: DocumentFormattingParams = params(request)?;
                self.format(&params.text_document.uri)
                    .map(|answer| serde_json::to_string(&answer))
            }
            DocumentSymbolRequest::METHOD => {
                let params: DocumentSymbolParams = params(request)?;
                (self.text(&params.text_document.uri)).map(|text| {
                    let nested = symbols::document_symbols(&text);
                    serde_json::to_string(&DocumentSymbolResponse::Nested(nested))
                })
            }
            WorkspaceSymbolRequest::METHOD => {
                let params: WorkspaceSymbolParams = params(request)?;
                let found = self.workspace_symbols(&params.query);
                Some(serde_json::to_string(&WorkspaceSymbolResponse::Flat(found)))
            }
            FoldingRangeRequest::METHOD => {
                let params: FoldingRangeParams = params(request)?;
                (self.text(&params.text_document.uri))
                    .map(|text| serde_json::to_string(&folding::folding_ranges(&text)))
            }
            CodeActionRequest::METHOD => {
                let params: CodeActionParams = params(request)?;
                self.code_actions(&params)
                    .map(|answer| serde_json::to_string(&answer))
            }
            References::METHOD => {
                let params: lsp_types::ReferenceParams = params(request)?;
                let position = params.text_document_position;
                let declaration = params.context.include_declaration;
                (self.references(&position.text_document.uri, position.position, declaration))
                    .map(|answer| serde_json::to_string(&answer))
            }
            DocumentHighlightRequest::METHOD => {
                let params: lsp_types::DocumentHighlightParams = params(request)?;
                let position = params.text_document_position_params;
                (self.highlights(&position.text_document.uri, position.position))
                    .map(|answer| serde_json::to_string(&answer))
            }
            PrepareRenameRequest::METHOD => {
                let params: lsp_types::TextDocumentPositionParams = params(request)?;
                (self.prepare_rename(&params.text_document.uri, params.position)?)
                    .map(|answer| serde_json::to_string(&answer))
            }
            Rename::METHOD => {
                let params: lsp_types::RenameParams = params(request)?;
                let position = params.text_document_position;
                let uri = &position.text_document.uri;
                (self.rename(uri, position.position, &params.new_name)?)
                    .map(|answer| serde_json::to_string(&answer))
            }
            InlayHintRequest::METHOD => {
                let params: lsp_types::InlayHintParams = params(request)?;
                (self.inlay_hints(&params.text_document.uri, params.range))
                    .map(|answer| serde_json::to_string(&answer))
            }
            SignatureHelpRequest::METHOD => {
                let params: lsp_types::SignatureHelpParams = params(request)?;
                let position = params.text_document_position_params;
                (self.signature_help(&position.text_document.uri, position.position))
                    .map(|answer| serde_json::to_string(&answer))
            }
            CodeLensRequest::METHOD => {
                let params: lsp_types::CodeLensParams = params(request)?;
                self.code_lenses(&params.text_document.uri)
                    .map(|answer| serde_json::to_string(&answer))
            }
            ExecuteCommand::METHOD => {
                let params: lsp_types::ExecuteCommandParams = params(request)?;
                if params.command != code_lens::RUN_TESTS {
                    return Err(RequestError::InvalidParams(format!(
                        "unknown command `{}`: the server runs `{}`",
                        params.command,
                        code_lens::RUN_TESTS
                    )));
                }
                let uri = (params.arguments.first())
                    .and_then(|a| a.as_str())
                    .and_then(|a| a.parse::<Uri>().ok());
                Some(serde_json::to_string(&self.run_tests_command(uri.as_ref())))
            }
            SemanticTokensFullRequest::METHOD => {
                let params: lsp_types::SemanticTokensParams = params(request)?;
                (self.text(&params.text_document.uri))
                    .map(|text| Ok(semantic_tokens::semantic_tokens(&text, None)))
            }
            SemanticTokensRangeRequest::METHOD => {
                let params: lsp_types::SemanticTokensRangeParams = params(request)?;
                (self.text(&params.text_document.uri))
                    .map(|text| Ok(semantic_tokens::semantic_tokens(&text, Some(params.range))))
            }
            _ => return Err(RequestError::MethodNotFound),
        };
        match result {
            Some(Ok(json)) => Ok(json),
            Some(Err(error)) => Err(RequestError::InvalidParams(error.to_string())),
            None => Ok("null".to_string()),
        }
    }

    fn notification(&mut self, notification: Notification) -> Vec<Notification> {
        let Notification { method, params } = notification;
        let uri = match method.as_str() {
            DidOpenTextDocument::METHOD => {
                let Ok(params) = serde_json::from_value::<DidOpenTextDocumentParams>(params) else {
                    return Vec::new();
                };
                let document = params.text_document;
                self.open(document.uri.clone(), document.text);
                document.uri
            }
            DidChangeTextDocument::METHOD => {
                let Ok(params) = serde_json::from_value::<DidChangeTextDocumentParams>(params)
                else {
                    return Vec::new();
                };
                let uri = params.text_document.uri;
                if let Some(document) = self.documents.get(uri.as_str()) {
                    // Its policy's analyses are stale: they go before the text is copied.
                    let key = document.policy.clone();
                    self.drop_analyses(&key);
                }
                match self.documents.get_mut(uri.as_str()) {
                    Some(document) => {
                        let mut text = document.text.to_string();
                        for change in params.content_changes {
                            position::apply_change(&mut text, change);
                        }
                        document.text = text.into();
                    }
                    // Not open: only a change of the whole text says what it holds.
                    None => {
                        let whole = (params.content_changes.into_iter())
                            .rfind(|change| change.range.is_none());
                        if let Some(change) = whole {
                            self.open(uri.clone(), change.text);
                        }
                    }
                }
                uri
            }
            DidSaveTextDocument::METHOD => {
                let Ok(params) = serde_json::from_value::<DidSaveTextDocumentParams>(params) else {
                    return Vec::new();
                };
                if let Some(text) = params.text {
                    self.open(params.text_document.uri.clone(), text);
                }
                self.saved(&params.text_document.uri);
                params.text_document.uri
            }
            DidCloseTextDocument::METHOD => {
                let Ok(params) = serde_json::from_value::<DidCloseTextDocumentParams>(params)
                else {
                    return Vec::new();
                };
                return self.close(&params.text_document.uri);
            }
            DidChangeWatchedFiles::METHOD => {
                let Ok(params) = serde_json::from_value::<DidChangeWatchedFilesParams>(params)
                else {
                    return Vec::new();
                };
                for change in params.changes {
                    self.learn_uri(&change.uri);
                }
                return self.republish_all();
            }
            DidChangeWorkspaceFolders::METHOD => {
                let Ok(params) = serde_json::from_value::<DidChangeWorkspaceFoldersParams>(params)
                else {
                    return Vec::new();
                };
                let removed: Vec<PathBuf> = (params.event.removed.iter())
                    .filter_map(|f| uri::to_path(&f.uri))
                    .collect();
                self.folders.retain(|folder| !removed.contains(folder));
                (self.folders).extend(
                    params
                        .event
                        .added
                        .iter()
                        .filter_map(|f| uri::to_path(&f.uri)),
                );
                return self.republish_all();
            }
            _ => return Vec::new(),
        };
        if !self.pending.contains(&uri) {
            self.pending.push(uri);
        }
        Vec::new()
    }

    fn learn_uri(&mut self, uri: &Uri) {
        if let Some(path) = uri::to_path(uri) {
            self.client_uris.insert(path, uri.clone());
        }
    }

    fn open(&mut self, uri: Uri, text: String) {
        self.learn_uri(&uri);
        let path = uri::to_path(&uri);
        let policy = self
            .documents
            .remove(uri.as_str())
            .map(|d| d.policy)
            .unwrap_or_default();
        self.documents.insert(
            uri.as_str().to_string(),
            Document {
                uri,
                path,
                text: text.into(),
                policy,
            },
        );
    }

    fn close(&mut self, uri: &Uri) -> Vec<Notification> {
        let Some(document) = self.documents.remove(uri.as_str()) else {
            return Vec::new();
        };
        self.alone.remove(uri.as_str());
        self.parses.remove(uri.as_str());
        // Another open document of the same policy: analyze again, from disk for the
        // closed one. Otherwise clear every diagnostic of the policy.
        let sibling = self
            .documents
            .values()
            .find(|d| d.policy == document.policy)
            .map(|d| d.uri.clone());
        match sibling {
            Some(sibling) => (self.publish(&sibling).into_iter())
                .map(publish_notification)
                .collect(),
            None => {
                self.parses.remove(&document.policy);
                self.drop_analyses(&document.policy);
                self.tests.remove(&document.policy);
                self.published
                    .remove(&document.policy)
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|uri| uri.parse::<Uri>().ok())
                    .map(|uri| publish_notification(no_diagnostics(uri)))
                    .collect()
            }
        }
    }

    /// Analyses every open document's policy again (one document per policy): files
    /// on disk changed.
    fn republish_all(&mut self) -> Vec<Notification> {
        let mut seen = BTreeSet::new();
        let uris: Vec<Uri> = (self.documents.values())
            .filter(|d| d.policy.is_empty() || seen.insert(d.policy.clone()))
            .map(|d| d.uri.clone())
            .collect();
        (uris.iter())
            .flat_map(|uri| self.publish(uri))
            .map(publish_notification)
            .collect()
    }

    /// Analyzes the policy of `uri` and publishes diagnostics for each of its files.
    fn publish(&mut self, uri: &Uri) -> Vec<PublishDiagnosticsParams> {
        let Some((view, analysis)) = self.analyse(uri) else {
            return Vec::new();
        };
        let uri_of = |index: usize| view.uris.get(index).cloned().flatten();
        let mut by_uri: BTreeMap<String, (Uri, Vec<lsp_types::Diagnostic>)> = BTreeMap::new();
        for (index, diagnostics) in analysis::lsp_diagnostics(&analysis, &uri_of, view.current) {
            if let Some(uri) = uri_of(index) {
                by_uri.insert(uri.as_str().to_string(), (uri, diagnostics));
            }
        }
        for (uri, message) in view.unreadable {
            let entry = by_uri
                .entry(uri.as_str().to_string())
                .or_insert_with(|| (uri, Vec::new()));
            entry.1.push(lsp_types::Diagnostic {
                range: lsp_types::Range::default(),
                severity: Some(lsp_types::DiagnosticSeverity::ERROR),
                code: Some(lsp_types::NumberOrString::String(
                    "unreadable-file".to_string(),
                )),
                source: Some("warden".to_string()),
                message,
                ..lsp_types::Diagnostic::default()
            });
        }
        let now: BTreeSet<String> = by_uri.keys().cloned().collect();
        for document in self.documents.values_mut() {
            if now.contains(document.uri.as_str()) {
                document.policy = view.key.clone();
            }
        }
        // A file published for this policy now belongs to no other.
        for (key, uris) in &mut self.published {
            if *key != view.key {
                uris.retain(|uri| !now.contains(uri));
            }
        }
        let before = (self.published)
            .insert(view.key, now.clone())
            .unwrap_or_default();
        let mut out: Vec<PublishDiagnosticsParams> = by_uri
            .into_values()
            .map(|(uri, diagnostics)| PublishDiagnosticsParams {
                uri,
                diagnostics,
                version: None,
            })
            .collect();
        for gone in before.difference(&now) {
            if let Ok(uri) = gone.parse::<Uri>() {
                out.push(no_diagnostics(uri));
            }
        }
        out
    }

    /// The policy of `uri` and its analysis. A file is analysed alone, as `warden
    /// check FILE` does, unless a [`ROOT_MARKER`] makes its directory a policy or it
    /// reports, alone, what only the rest of its directory defines.
    fn analyse(&mut self, uri: &Uri) -> Option<(PolicyView, warden::Analysis)> {
        let alone = self.alone_view(uri)?;
        let Some(path) = uri::to_path(uri) else {
            let analysis = self.check(&alone);
            return Some((alone, analysis));
        };
        let root = self.policy_root(&path);
        if !root.marked {
            let analysis = self.check(&alone);
            // A file just created (empty) has no rule yet, but is no library either.
            let is_empty = alone.sources.iter().all(|s| s.text.trim().is_empty());
            if is_empty || !(analysis.diagnostics.iter()).any(|d| NEEDS_DIRECTORY.contains(&d.code))
            {
                self.alone.insert(uri.as_str().to_string());
                return Some((alone, analysis));
            }
        }
        self.alone.remove(uri.as_str());
        let view = self.directory_view(uri, &path, &root.dir)?;
        let analysis = self.check(&view);
        Some((view, analysis))
    }

    /// Checks a view's policy as `warden check` does (each regex compiled for its size),
    /// re-parsing only the items changed since its last check.
    fn check(&mut self, view: &PolicyView) -> warden::Analysis {
        // An edit made the policy's analyses stale; dropped now, their trees are free
        // to be reused by this parse.
        self.drop_analyses(&view.key);
        let parses = self.parses.entry(view.key.clone()).or_default();
        let analysis = warden::diagnose_cached(&view.sources, parses);
        let fixable = warden::Analysis {
            files: analysis.files.clone(),
            diagnostics: (analysis.diagnostics.iter())
                .filter(|d| actions::has_fix(d))
                .cloned()
                .collect(),
            program: None,
            index: None,
        };
        self.checked = Some((view.key.clone(), view.sources.clone(), Rc::new(fixable)));
        analysis
    }

    /// Drops the analyses kept of the policy `key`.
    fn drop_analyses(&mut self, key: &str) {
        if self.retained.as_ref().is_some_and(|r| r.key == key) {
            self.retained = None;
        }
        if self
            .checked
            .as_ref()
            .is_some_and(|(checked, ..)| checked == key)
        {
            self.checked = None;
        }
    }

    /// The text of a document: the open buffer, else the file on disk.
    fn text(&self, uri: &Uri) -> Option<Rc<str>> {
        if let Some(document) = self.documents.get(uri.as_str()) {
            return Some(document.text.clone());
        }
        warden::read(&uri::to_path(uri)?).ok().map(Rc::from)
    }

    /// The policy `uri` belongs to, as its last analysis found it.
    fn view(&self, uri: &Uri) -> Option<PolicyView> {
        let Some(path) = uri::to_path(uri) else {
            return self.alone_view(uri);
        };
        let root = self.policy_root(&path);
        if !root.marked && self.alone.contains(uri.as_str()) {
            return self.alone_view(uri);
        }
        self.directory_view(uri, &path, &root.dir)
    }

    /// The document alone, named by its file name as `warden check FILE` names it.
    fn alone_view(&self, uri: &Uri) -> Option<PolicyView> {
        let text = self.text(uri)?;
        let name = match uri::to_path(uri) {
            Some(path) => path.file_name()?.to_string_lossy().into_owned(),
            None => uri.as_str().rsplit('/').next()?.to_string(),
        };
        Some(PolicyView {
            key: uri.as_str().to_string(),
            sources: vec![SourceText::new(name, text)],
            uris: vec![Some(uri.clone())],
            current: 0,
            unreadable: Vec::new(),
        })
    }

    /// Every `.warden` file below `root`, open buffers overriding the disk; a file
    /// that cannot be read is left out and reported.
    fn directory_view(&self, uri: &Uri, path: &Path, root: &Path) -> Option<PolicyView> {
        let current_path = relative_path(root, path)?;
        let mut files: BTreeMap<String, Result<Rc<str>, String>> = BTreeMap::new();
        let mut unreadable = Vec::new();
        match warden::policy_files(root) {
            Ok(found) => {
                for (relative, absolute) in found {
                    let text = warden::read(&absolute).map_err(|e| e.to_string());
                    let text = text.map(Rc::from);
                    files.insert(relative, text);
                }
            }
            Err(error) => unreadable.push((
                uri.clone(),
                format!(
                    "the policy directory `{}` cannot be read whole, so only its open files \
                     are analysed: {error}",
                    root.display()
                ),
            )),
        }
        for document in self.documents.values() {
            if let Some(relative) = (document.path.as_deref()).and_then(|p| relative_path(root, p))
            {
                files.insert(relative, Ok(document.text.clone()));
            }
        }
        files.insert(current_path.clone(), Ok(self.text(uri)?));
        let mut sources = Vec::new();
        let mut uris = Vec::new();
        for (relative, text) in files {
            let file_uri = self.uri_for(&root.join(&relative), uri, &current_path, &relative);
            match text {
                Ok(text) => {
                    sources.push(SourceText::new(relative, text));
                    uris.push(file_uri);
                }
                Err(error) => {
                    if let Some(file_uri) = file_uri {
                        unreadable.push((
                            file_uri,
                            format!("{error}; the rest of the policy is analysed without it"),
                        ));
                    }
                }
            }
        }
        let current = sources.iter().position(|s| s.path == current_path)?;
        Some(PolicyView {
            key: root.to_string_lossy().into_owned(),
            sources,
            uris,
            current,
            unreadable,
        })
    }

    /// The URI to publish a file's diagnostics to: the one the client named it by,
    /// else one spelled as the client spells the document's (`relative` from the
    /// document's `current`).
    fn uri_for(&self, path: &Path, document: &Uri, current: &str, relative: &str) -> Option<Uri> {
        if let Some(known) = self.client_uris.get(path) {
            return Some(known.clone());
        }
        uri::sibling(document, current, relative).or_else(|| uri::from_path(path))
    }

    /// The policy root of a file: the nearest directory holding a [`ROOT_MARKER`];
    /// without one, its directory, extended upwards while the parent directory holds
    /// `.warden` files itself (so `lib/owners.warden` belongs to the policy above it).
    /// Neither search leaves a repository (a `.git` entry) or a workspace folder.
    fn policy_root(&self, file: &Path) -> Root {
        let start = file
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let is_boundary =
            |dir: &Path| dir.join(".git").exists() || self.folders.iter().any(|f| f == dir);
        for dir in start.ancestors() {
            if dir.join(ROOT_MARKER).is_file() {
                return Root {
                    dir: dir.to_path_buf(),
                    marked: true,
                };
            }
            if is_boundary(dir) {
                break;
            }
        }
        let mut dir = start;
        while !is_boundary(&dir) {
            let Some(parent) = dir.parent() else { break };
            if !has_warden_files(parent) {
                break;
            }
            dir = parent.to_path_buf();
        }
        Root { dir, marked: false }
    }

    fn at(&self, uri: &Uri, position: lsp_types::Position) -> Option<(PolicyView, usize)> {
        let view = self.view(uri)?;
        let text = &view.sources.get(view.current)?.text;
        let offset = LineIndex::new(text).offset(position);
        Some((view, offset))
    }

    fn hover(&mut self, uri: &Uri, position: lsp_types::Position) -> Option<Hover> {
        let (view, indexed, offset) = self.indexed(uri, position)?;
        let (markdown, span) = analysis::hover(&indexed, view.current, offset)?;
        let text = &view.sources.get(view.current)?.text;
        Some(Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value: markdown,
            }),
            range: Some(LineIndex::new(text).range(span)),
        })
    }

    fn completion(
        &mut self,
        uri: &Uri,
        position: lsp_types::Position,
    ) -> Option<CompletionResponse> {
        let (view, offset) = self.at(uri, position)?;
        // Completion analyses the text with a placeholder at the cursor, parsed into the
        // policy's cache: the analyses of the text as it is would hold its old trees.
        self.drop_analyses(&view.key);
        Some(CompletionResponse::Array(completion::completion(
            &view.sources,
            view.current,
            offset,
            self.parses.entry(view.key.clone()).or_default(),
        )))
    }

    /// `warden fmt`'s layout as one edit of the lines it changes; no edit when it is
    /// already formatted, and none (`null`) when it does not parse: its diagnostics
    /// are already shown.
    fn format(&self, uri: &Uri) -> Option<Vec<TextEdit>> {
        let text = self.text(uri)?;
        let mut formatted = warden_syntax::format(&text).ok()?;
        if *formatted == *text {
            return Some(Vec::new());
        }
        let (span, new) = changed_lines(&text, &formatted);
        formatted.truncate(new.end);
        formatted.drain(..new.start);
        Some(vec![TextEdit::new(
            LineIndex::new(&text).range(span),
            formatted,
        )])
    }

    fn definition(
        &mut self,
        uri: &Uri,
        position: lsp_types::Position,
    ) -> Option<GotoDefinitionResponse> {
        let (view, indexed, offset) = self.indexed(uri, position)?;
        let (file, span) = analysis::definition(&indexed, view.current, offset)?;
        let location = location(&view, file, span)?;
        Some(GotoDefinitionResponse::Scalar(location))
    }
}

/// The requests answered from the checker's index (see [`analysis::Indexed`]): each
/// answers from the analysis of the document's policy as it is now, so none waits on
/// a stale analysis: the retained one when its sources are the policy's, else a new
/// one (parsing only the items changed since the last analysis), then retained.
impl Server {
    fn indexed(
        &mut self,
        uri: &Uri,
        position: lsp_types::Position,
    ) -> Option<(PolicyView, Rc<Indexed>, usize)> {
        let (view, offset) = self.at(uri, position)?;
        let indexed = self.indexed_policy(&view, Span::new(offset, offset));
        Some((view, indexed, offset))
    }

    /// The analysis with the checker's index of the policy of `view`, for requests
    /// over `span` of its current file.
    fn indexed_policy(&mut self, view: &PolicyView, span: Span) -> Rc<Indexed> {
        if let Some(retained) = &self.retained
            && retained.key == view.key
            && same(&retained.sources, view)
            && retained.indexed.answers(view.current, span)
        {
            return retained.indexed.clone();
        }
        // The trees of the last retained analysis go first: the new one reuses them.
        self.retained = None;
        let parses = self.parses.entry(view.key.clone()).or_default();
        let indexed = Rc::new(Indexed::new(&view.sources, parses, view.current, span));
        self.retained = Some(Retained {
            key: view.key.clone(),
            sources: view.sources.clone(),
            indexed: indexed.clone(),
        });
        indexed
    }

    fn references(
        &mut self,
        uri: &Uri,
        position: lsp_types::Position,
        declaration: bool,
    ) -> Option<Vec<Location>> {
        let (view, indexed, offset) = self.indexed(uri, position)?;
        let places = analysis::references(&indexed, view.current, offset, declaration);
        Some(
            places
                .into_iter()
                .filter_map(|(file, span)| location(&view, file, span))
                .collect(),
        )
    }

    fn highlights(
        &mut self,
        uri: &Uri,
        position: lsp_types::Position,
    ) -> Option<Vec<lsp_types::DocumentHighlight>> {
        let (view, indexed, offset) = self.indexed(uri, position)?;
        let lines = LineIndex::new(&view.sources.get(view.current)?.text);
        let highlights = analysis::highlights(&indexed, view.current, offset);
        Some(
            (highlights.into_iter())
                .map(|(span, definition)| lsp_types::DocumentHighlight {
                    range: lines.range(span),
                    kind: Some(if definition {
                        lsp_types::DocumentHighlightKind::WRITE
                    } else {
                        lsp_types::DocumentHighlightKind::READ
                    }),
                })
                .collect(),
        )
    }

    fn prepare_rename(
        &mut self,
        uri: &Uri,
        position: lsp_types::Position,
    ) -> Result<Option<lsp_types::PrepareRenameResponse>, RequestError> {
        let Some((view, indexed, offset)) = self.indexed(uri, position) else {
            return Ok(None);
        };
        let span = analysis::prepare_rename(&indexed, view.current, offset)
            .map_err(RequestError::Failed)?;
        let text = view.sources.get(view.current).map_or("", |s| &*s.text);
        let range = LineIndex::new(text).range(span);
        Ok(Some(lsp_types::PrepareRenameResponse::Range(range)))
    }

    fn rename(
        &mut self,
        uri: &Uri,
        position: lsp_types::Position,
        new_name: &str,
    ) -> Result<Option<lsp_types::WorkspaceEdit>, RequestError> {
        let Some((view, indexed, offset)) = self.indexed(uri, position) else {
            return Ok(None);
        };
        let places = analysis::rename(&indexed, view.current, offset, new_name)
            .map_err(RequestError::Failed)?;
        // By URI string: `Uri` is a poor map key (clippy's `mutable_key_type`).
        let mut by_uri: BTreeMap<String, (Uri, Vec<TextEdit>)> = BTreeMap::new();
        for (file, span) in places {
            if let Some(location) = location(&view, file, span) {
                let key = location.uri.as_str().to_string();
                (by_uri
                    .entry(key)
                    .or_insert_with(|| (location.uri, Vec::new()))
                    .1)
                    .push(TextEdit::new(location.range, new_name.to_string()));
            }
        }
        Ok(Some(lsp_types::WorkspaceEdit::new(
            by_uri.into_values().collect(),
        )))
    }

    fn inlay_hints(
        &mut self,
        uri: &Uri,
        range: lsp_types::Range,
    ) -> Option<Vec<lsp_types::InlayHint>> {
        let view = self.view(uri)?;
        let lines = LineIndex::new(&view.sources.get(view.current)?.text);
        let span = Span::new(lines.offset(range.start), lines.offset(range.end));
        let indexed = self.indexed_policy(&view, span);
        let hints = analysis::inlay_hints(&indexed, view.current);
        Some(
            (hints.into_iter())
                .map(|(offset, label)| lsp_types::InlayHint {
                    position: lines.position(offset),
                    label: lsp_types::InlayHintLabel::String(label),
                    kind: Some(lsp_types::InlayHintKind::TYPE),
                    text_edits: None,
                    tooltip: None,
                    padding_left: None,
                    padding_right: None,
                    data: None,
                })
                .filter(|hint| range.start <= hint.position && hint.position <= range.end)
                .collect(),
        )
    }

    fn signature_help(
        &mut self,
        uri: &Uri,
        position: lsp_types::Position,
    ) -> Option<lsp_types::SignatureHelp> {
        let (view, offset) = self.at(uri, position)?;
        let indexed = self.indexed_policy(&view, Span::new(offset, offset));
        let found = match analysis::signature_at(&indexed, view.current, offset) {
            Some(found) => found,
            None => {
                // As completion: the text with a placeholder is parsed into the policy's
                // cache, and the analyses of the text as it is would hold its old trees.
                drop(indexed);
                self.drop_analyses(&view.key);
                let parses = self.parses.entry(view.key.clone()).or_default();
                analysis::signature_being_typed(&view.sources, view.current, offset, parses)?
            }
        };
        let parameters = (found.params.into_iter())
            .map(|param| lsp_types::ParameterInformation {
                label: lsp_types::ParameterLabel::Simple(param),
                documentation: None,
            })
            .collect();
        let documentation = found.doc.map(|value| {
            lsp_types::Documentation::MarkupContent(MarkupContent {
                kind: MarkupKind::Markdown,
                value,
            })
        });
        Some(lsp_types::SignatureHelp {
            signatures: vec![lsp_types::SignatureInformation {
                label: found.label,
                documentation,
                parameters: Some(parameters),
                active_parameter: Some(found.active as u32),
            }],
            active_signature: Some(0),
            active_parameter: Some(found.active as u32),
        })
    }
}

/// The location of `span` in file `file` of a view, if the file has a URI.
fn location(view: &PolicyView, file: usize, span: warden_syntax::Span) -> Option<Location> {
    let target = view.uris.get(file).cloned().flatten()?;
    let range = LineIndex::new(&view.sources.get(file)?.text).range(span);
    Some(Location::new(target, range))
}

/// The test cases behind the code lenses ([`code_lens`]). They run only when a lens
/// is asked for and the policy's results are not cached, and for the command: never
/// on a keystroke, so diagnostics never wait for them. A save drops the policy's
/// results and asks the client to refresh its lenses, whose request runs them again.
impl Server {
    /// The lenses of a document, running its policy's cases when none are cached;
    /// none when the policy has no cases directory.
    fn code_lenses(&mut self, uri: &Uri) -> Option<Vec<lsp_types::CodeLens>> {
        let view = self.view(uri)?;
        if !self.tests.contains_key(&view.key) {
            let results = self.run_tests(uri, &view)?;
            self.tests.insert(view.key.clone(), results);
        }
        let text = &view.sources.get(view.current)?.text;
        let results = self.tests.get(&view.key)?;
        Some(code_lens::code_lenses(text, uri, results))
    }

    /// Runs the cases of the policy of `view` (the policy of `uri`), if it has any.
    fn run_tests(&self, uri: &Uri, view: &PolicyView) -> Option<TestResults> {
        let root = self.policy_root(&uri::to_path(uri)?);
        let is_top =
            |dir: &Path| dir.join(".git").exists() || self.folders.iter().any(|f| f == dir);
        let cases = code_lens::find_cases(&root.dir, is_top)?;
        Some(code_lens::run_tests(&view.sources, &cases))
    }

    /// `warden.runTests`: runs the cases of the policy of `uri`, or of every open
    /// document's policy, and says what they gave.
    fn run_tests_command(&mut self, uri: Option<&Uri>) -> String {
        let uris: Vec<Uri> = match uri {
            Some(uri) => vec![uri.clone()],
            None => self.documents.values().map(|d| d.uri.clone()).collect(),
        };
        let mut said = BTreeMap::new();
        for uri in uris {
            let Some(view) = self.view(&uri) else {
                continue;
            };
            if said.contains_key(&view.key) {
                continue;
            }
            let summary = match self.run_tests(&uri, &view) {
                Some(results) => {
                    let summary = format!(
                        "{}: {}",
                        results.cases.display(),
                        code_lens::summary(&results)
                    );
                    self.tests.insert(view.key.clone(), results);
                    self.lenses_stale = true;
                    summary
                }
                None => format!(
                    "`{}`: no `cases` directory beside the policy (see docs/testing.md)",
                    uri.as_str()
                ),
            };
            said.insert(view.key, summary);
        }
        said.into_values().collect::<Vec<_>>().join("\n")
    }

    /// A document was saved: its policy's results are stale.
    fn saved(&mut self, uri: &Uri) {
        let key = self.documents.get(uri.as_str()).map(|d| d.policy.clone());
        if let Some(key) = key
            && self.tests.remove(&key).is_some()
        {
            self.lenses_stale = true;
        }
    }

    /// `workspace/codeLens/refresh`, when results changed and the client takes it.
    fn refresh_lenses(&mut self) -> Option<Message> {
        if !std::mem::take(&mut self.lenses_stale) || !self.lens_refresh {
            return None;
        }
        self.sent += 1;
        Some(Message::Request(Request::new(
            lsp_server::RequestId::from(format!("warden/refresh/{}", self.sent)),
            lsp_types::request::CodeLensRefresh::METHOD.to_string(),
            Value::Null,
        )))
    }
}

/// The requests answered by the feature modules ([`symbols`], [`actions`]) over a
/// document's policy.
impl Server {
    /// The symbols of the policies of the open documents, each file once.
    fn workspace_symbols(&self, query: &str) -> Vec<SymbolInformation> {
        let mut files: BTreeMap<String, (Uri, SourceText)> = BTreeMap::new();
        for document in self.documents.values() {
            let Some(view) = self.view(&document.uri) else {
                continue;
            };
            for (source, uri) in view.sources.into_iter().zip(view.uris) {
                if let Some(uri) = uri {
                    files.insert(uri.as_str().to_string(), (uri, source));
                }
            }
        }
        let files: Vec<(Uri, &SourceText)> = files
            .values()
            .map(|(uri, source)| (uri.clone(), source))
            .collect();
        symbols::workspace_symbols(&files, query)
    }

    /// Quick fixes from the checker's diagnostics of the document's policy.
    fn code_actions(&mut self, params: &CodeActionParams) -> Option<Vec<CodeActionOrCommand>> {
        let uri = &params.text_document.uri;
        let view = self.view(uri)?;
        if !(self.checked.as_ref())
            .is_some_and(|(key, sources, _)| *key == view.key && same(sources, &view))
        {
            self.check(&view);
        }
        let analysis = self.checked.as_ref()?.2.clone();
        Some(actions::code_actions(
            &analysis,
            view.current,
            uri,
            params.range,
            &params.context.diagnostics,
        ))
    }
}

/// Whether `sources` are the sources of `view`'s policy as they are now.
fn same(sources: &[SourceText], view: &PolicyView) -> bool {
    sources.len() == view.sources.len()
        && (sources.iter().zip(&view.sources)).all(|(a, b)| a.path == b.path && a.text == b.text)
}

/// The whole lines of `old` that differ from `new`, and the range of `new` that replaces
/// them: the lines before and after are the same in both. A formatting edit of a large
/// file then holds the lines it changes, not the whole file (editors keep the cursor
/// too).
fn changed_lines(old: &str, new: &str) -> (Span, std::ops::Range<usize>) {
    let common = |a: &mut dyn Iterator<Item = (u8, u8)>| a.take_while(|(x, y)| x == y).count();
    let same_start = common(&mut old.bytes().zip(new.bytes()));
    // Back to the start of a line: after a newline, a character starts.
    let prefix = old.as_bytes()[..same_start]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let rest = old.len().min(new.len()) - prefix;
    let same_end = common(&mut old.bytes().rev().zip(new.bytes().rev())).min(rest);
    // Forward to the start of a line of `old`; the same bytes follow in `new`, starting
    // with the same character.
    let mut suffix = same_end;
    while suffix > 0 && old.as_bytes().get(old.len() - suffix - 1) != Some(&b'\n') {
        suffix -= 1;
    }
    (
        Span::new(prefix, old.len() - suffix),
        prefix..new.len() - suffix,
    )
}

fn params<P: serde::de::DeserializeOwned>(request: &Request) -> Result<P, RequestError> {
    serde_json::from_value(request.params.clone())
        .map_err(|e| RequestError::InvalidParams(e.to_string()))
}

fn publish_notification(params: PublishDiagnosticsParams) -> Notification {
    Notification::new(PublishDiagnostics::METHOD.to_string(), params)
}

/// Clears the diagnostics of `uri`.
fn no_diagnostics(uri: Uri) -> PublishDiagnosticsParams {
    PublishDiagnosticsParams {
        uri,
        diagnostics: Vec::new(),
        version: None,
    }
}

/// A message for the client. Published diagnostics stay typed until written: a large
/// policy's hundreds of them are serialised straight to the stream, never through a
/// `serde_json::Value` tree, whose building, writing and dropping took more of a
/// keystroke's time than checking the policy.
#[derive(Debug)]
pub enum Outgoing {
    Message(Message),
    Diagnostics(PublishDiagnosticsParams),
    /// The answer to a request: its result as JSON text, written as it is (see
    /// [`Server::request`]).
    Answer(RequestId, String),
}

impl Outgoing {
    pub fn response(response: Response) -> Outgoing {
        Outgoing::Message(Message::Response(response))
    }

    pub fn into_message(self) -> Message {
        match self {
            Outgoing::Message(message) => message,
            Outgoing::Diagnostics(params) => Message::Notification(publish_notification(params)),
            // The server's own JSON: it parses.
            Outgoing::Answer(id, json) => Message::Response(Response::new_ok(
                id,
                serde_json::from_str::<Value>(&json).unwrap_or(Value::Null),
            )),
        }
    }

    /// Writes the message as one frame (`Content-Length` header and JSON body), as
    /// [`Message::write`] does.
    pub fn write(&self, output: &mut impl std::io::Write) -> std::io::Result<()> {
        match self {
            Outgoing::Message(message) => message.write(output),
            Outgoing::Diagnostics(params) => {
                #[derive(serde::Serialize)]
                struct Frame<'a> {
                    jsonrpc: &'static str,
                    method: &'static str,
                    params: &'a PublishDiagnosticsParams,
                }
                let body = serde_json::to_vec(&Frame {
                    jsonrpc: "2.0",
                    method: PublishDiagnostics::METHOD,
                    params,
                })?;
                write_frame(output, &[&body])
            }
            // The result is written as it is, not copied into the body.
            Outgoing::Answer(id, result) => {
                let id = serde_json::to_string(id)?;
                let head = format!(r#"{{"jsonrpc":"2.0","id":{id},"result":"#);
                write_frame(output, &[head.as_bytes(), result.as_bytes(), b"}"])
            }
        }
    }
}

/// Writes one frame: its `Content-Length` header and its JSON body, the concatenation
/// of the parts of `body`.
fn write_frame(output: &mut impl std::io::Write, body: &[&[u8]]) -> std::io::Result<()> {
    let length: usize = body.iter().map(|part| part.len()).sum();
    write!(output, "Content-Length: {length}\r\n\r\n")?;
    for part in body {
        output.write_all(part)?;
    }
    output.flush()
}

/// The `/`-separated path of `path` relative to `root`.
fn relative_path(root: &Path, path: &Path) -> Option<String> {
    let relative = path.strip_prefix(root).ok()?;
    Some(relative.to_string_lossy().replace('\\', "/"))
}

fn has_warden_files(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.flatten().any(|entry| {
            entry.path().extension().is_some_and(|e| e == "warden") && entry.path().is_file()
        })
    })
}

#[cfg(test)]
// Failing loudly is what a test is for.
#[allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use lsp_server::RequestId;

    #[test]
    fn a_panicking_handler_answers_an_internal_error() {
        let request = Request::new(
            RequestId::from(7),
            "textDocument/hover".to_string(),
            Value::Null,
        );
        let response = dispatch::<Value>(&request, |_| panic!("boom")).unwrap_err();
        assert_eq!(response.id, RequestId::from(7));
        let error = response.error.unwrap();
        assert_eq!(error.code, ErrorCode::InternalError as i32);
        assert!(error.message.contains("boom"), "{}", error.message);
        let response =
            dispatch::<Value>(&request, |_| Err(RequestError::MethodNotFound)).unwrap_err();
        assert_eq!(
            response.error.unwrap().code,
            ErrorCode::MethodNotFound as i32
        );
    }

    /// A formatting edit replaces the lines that change, and applied it gives the
    /// formatted text.
    #[test]
    fn a_formatting_edit_replaces_the_lines_that_change() {
        let cases = [
            ("a\nb\nc\n", "a\nB\nc\n", "b\n", "B\n"),
            ("a\nb  x\nc\n", "a\nb x\nc\n", "b  x\n", "b x\n"),
            ("one\n", "two\n", "one\n", "two\n"),
            ("a\n\n\nb\n", "a\n\nb\n", "\n", ""),
            ("é\nx é\n", "é\nx  é\n", "x é\n", "x  é\n"),
            ("x\n", "x\ny\n", "", "y\n"),
            ("p\nq", "p\nq\n", "q", "q\n"),
        ];
        let apply = |old: &str, new: &str| {
            let (span, range) = changed_lines(old, new);
            let text = &new[range];
            let mut applied = old.to_string();
            applied.replace_range(span.start..span.end, text);
            assert_eq!(applied, new);
            (old[span.start..span.end].to_string(), text.to_string())
        };
        for (old, new, replaced, with) in cases {
            assert_eq!(apply(old, new), (replaced.to_string(), with.to_string()));
        }
        // Every fixture of `warden fmt`, and its prefixes.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/format");
        let mut formatted = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "warden") {
                continue;
            }
            let text = std::fs::read_to_string(path).unwrap();
            for (cut, _) in text.char_indices().step_by(3) {
                if let Ok(new) = warden_syntax::format(&text[..cut]) {
                    apply(&text[..cut], &new);
                    formatted += 1;
                }
            }
        }
        assert!(formatted > 100, "{formatted}");
    }

    /// Answers and diagnostics, written without a JSON tree, are the frames their
    /// messages would be.
    #[test]
    fn typed_answers_are_written_as_their_messages() {
        let tokens = semantic_tokens::semantic_tokens("rule r {\n  deny \"x\"\n}\n", None);
        let params =
            PublishDiagnosticsParams::new("file:///p.warden".parse().unwrap(), Vec::new(), Some(3));
        for outgoing in [
            Outgoing::Answer(RequestId::from(9), tokens),
            Outgoing::Answer(RequestId::from("a\"b".to_string()), "null".to_string()),
            Outgoing::Diagnostics(params),
        ] {
            let mut typed = Vec::new();
            outgoing.write(&mut typed).unwrap();
            let mut expected = Vec::new();
            outgoing.into_message().write(&mut expected).unwrap();
            let body = |frame: &[u8]| -> Value {
                let text = std::str::from_utf8(frame).unwrap();
                let (header, body) = text.split_once("\r\n\r\n").unwrap();
                assert_eq!(header, format!("Content-Length: {}", body.len()));
                serde_json::from_str(body).unwrap()
            };
            assert_eq!(body(&typed), body(&expected));
        }
    }

    /// Position requests share one indexed analysis while the text is unchanged, and
    /// an edit is never answered from the analysis before it.
    #[test]
    fn position_requests_answer_from_the_text_as_edited() {
        let mut server = Server::default();
        let uri = "untitled:policy.warden";
        let text = |value: &str| {
            format!(
                "let limit = {value}\n\nrule r {{\n  when limit != {value}\n  deny \"no\"\n}}\n"
            )
        };
        let notify = |method: &str, params: Value| {
            Message::Notification(Notification::new(method.to_string(), params))
        };
        let hover = |server: &mut Server| {
            let request = Request::new(
                RequestId::from(1),
                HoverRequest::METHOD.to_string(),
                serde_json::json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 5}}),
            );
            let answers = server.handle(Message::Request(request));
            let Some(Message::Response(response)) = answers.into_iter().next_back() else {
                panic!("no answer");
            };
            response.result.unwrap()["contents"]["value"].to_string()
        };
        server.handle(notify(
            DidOpenTextDocument::METHOD,
            serde_json::json!({"textDocument": {"uri": uri, "languageId": "warden", "version": 0, "text": text("3")}}),
        ));
        let before = hover(&mut server);
        assert!(before.contains("int"), "{before}");
        assert_eq!(hover(&mut server), before);
        server.handle(notify(
            DidChangeTextDocument::METHOD,
            serde_json::json!({"textDocument": {"uri": uri, "version": 1}, "contentChanges": [{"text": text("\"x\"")}]}),
        ));
        let after = hover(&mut server);
        assert!(after.contains("string"), "{after}");
    }

    #[test]
    fn policy_root_climbs_into_parent_policies_and_stops_at_a_marker_or_folder() {
        let base = std::env::temp_dir().join(format!("warden-lsp-root-{}", std::process::id()));
        let lib = base.join("policy").join("lib");
        std::fs::create_dir_all(&lib).unwrap();
        std::fs::write(base.join("policy").join("main.warden"), "let a = 1\n").unwrap();
        std::fs::write(lib.join("owners.warden"), "let b = 2\n").unwrap();
        std::fs::write(base.join("top.warden"), "let c = 3\n").unwrap();
        std::fs::write(base.join(".git"), "").unwrap();
        let mut server = Server::default();
        let root = |server: &Server, file: &Path| {
            let root = server.policy_root(file);
            (root.dir, root.marked)
        };
        // No marker: up to the repository root, through directories of policy files.
        assert_eq!(
            root(&server, &lib.join("owners.warden")),
            (base.clone(), false)
        );
        // A workspace folder bounds the climb.
        server.folders = vec![base.join("policy")];
        assert_eq!(
            root(&server, &lib.join("owners.warden")),
            (base.join("policy"), false)
        );
        // A marker wins, and says the directory is a policy.
        std::fs::write(lib.join(ROOT_MARKER), "").unwrap();
        assert_eq!(
            root(&server, &lib.join("owners.warden")),
            (lib.clone(), true)
        );
        assert_eq!(
            root(&server, &base.join("policy").join("main.warden")),
            (base.join("policy"), false)
        );
        let _ = std::fs::remove_dir_all(&base);
    }
}
