//! The protocol side: the open documents, the policy each belongs to, publishing
//! diagnostics, and dispatching requests to the pure core with panics contained.

use std::collections::{BTreeMap, BTreeSet};
use std::error::Error;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, DidSaveTextDocument,
    Notification as _, PublishDiagnostics,
};
use lsp_types::request::{Completion, Formatting, GotoDefinition, HoverRequest, Request as _};
use lsp_types::{
    CompletionOptions, CompletionParams, CompletionResponse, DidChangeTextDocumentParams,
    DidCloseTextDocumentParams, DidOpenTextDocumentParams, DidSaveTextDocumentParams,
    DocumentFormattingParams, GotoDefinitionParams, GotoDefinitionResponse, Hover, HoverContents,
    HoverParams, HoverProviderCapability, Location, MarkupContent, MarkupKind, OneOf,
    PositionEncodingKind, PublishDiagnosticsParams, SaveOptions, ServerCapabilities,
    TextDocumentSyncCapability, TextDocumentSyncKind, TextDocumentSyncOptions,
    TextDocumentSyncSaveOptions, TextEdit, Uri,
};
use serde_json::Value;
use warden::SourceText;

use crate::analysis::{self, Workspace};
use crate::position::LineIndex;
use crate::uri;

type BoxError = Box<dyn Error + Send + Sync>;

/// What the server offers: full-document sync, hover, completion (also after `.`),
/// go-to-definition and formatting (`warden fmt`), in UTF-16 positions.
pub fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(PositionEncodingKind::UTF16),
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::FULL),
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
        document_formatting_provider: Some(OneOf::Left(true)),
        ..ServerCapabilities::default()
    }
}

/// Runs the server on a connection: the initialize handshake, then messages until
/// `shutdown` and `exit` (or until the client goes away).
pub fn run(connection: &Connection) -> Result<(), BoxError> {
    connection.initialize(serde_json::to_value(capabilities())?)?;
    let mut server = Server::default();
    for message in &connection.receiver {
        match &message {
            Message::Request(request) if connection.handle_shutdown(request)? => return Ok(()),
            Message::Notification(notification) if notification.method == "exit" => {
                return Ok(());
            }
            _ => {}
        }
        for outgoing in server.handle(message) {
            connection.sender.send(outgoing)?;
        }
    }
    Ok(())
}

/// Why a request failed.
#[derive(Debug)]
pub enum RequestError {
    MethodNotFound,
    InvalidParams(String),
}

/// Answers a request with `handler`; a panic becomes an `InternalError` response, so
/// one bad request never takes the server down.
pub fn dispatch(
    request: &Request,
    handler: impl FnOnce(&Request) -> Result<Value, RequestError>,
) -> Response {
    let id = request.id.clone();
    match catch_unwind(AssertUnwindSafe(|| handler(request))) {
        Ok(Ok(value)) => Response::new_ok(id, value),
        Ok(Err(RequestError::MethodNotFound)) => Response::new_err(
            id,
            ErrorCode::MethodNotFound as i32,
            format!("unknown method `{}`", request.method),
        ),
        Ok(Err(RequestError::InvalidParams(message))) => {
            Response::new_err(id, ErrorCode::InvalidParams as i32, message)
        }
        Err(panic) => Response::new_err(
            id,
            ErrorCode::InternalError as i32,
            format!("internal error: {}", panic_message(&*panic)),
        ),
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a handler panicked".to_string())
}

/// An open document.
struct Document {
    uri: Uri,
    path: Option<PathBuf>,
    text: String,
}

/// The policy a document belongs to, as analyzed: its sources (open buffers overriding
/// the disk), the URI of each, and which one is the document.
struct PolicyView {
    /// The policy root, `None` for a document that is not a file.
    root: Option<PathBuf>,
    sources: Vec<SourceText>,
    uris: Vec<Option<Uri>>,
    current: usize,
}

/// The server's state. [`Server::handle`] answers one message without touching the
/// connection, so the fuzzer drives it in-process.
#[derive(Default)]
pub struct Server {
    /// Open documents by URI.
    documents: BTreeMap<String, Document>,
    /// Per policy (root path, or the URI of a non-file document): the URIs that
    /// diagnostics were last published for, to clear those that went away.
    published: BTreeMap<String, BTreeSet<String>>,
}

impl Server {
    /// Answers one message of the client after the handshake (`shutdown` and `exit`
    /// belong to the connection): a request gets its response, a document notification
    /// the diagnostics it publishes. A panic in a handler is contained: an
    /// `InternalError` response to a request, a message on standard error for a
    /// notification.
    pub fn handle(&mut self, message: Message) -> Vec<Message> {
        match message {
            Message::Request(request) => {
                let response = dispatch(&request, |request| self.request(request));
                vec![Message::Response(response)]
            }
            Message::Notification(notification) => {
                match catch_unwind(AssertUnwindSafe(|| self.notification(&notification))) {
                    Ok(outgoing) => outgoing.into_iter().map(Message::Notification).collect(),
                    Err(panic) => {
                        eprintln!(
                            "warden-lsp: internal error handling `{}`: {}",
                            notification.method,
                            panic_message(&*panic)
                        );
                        Vec::new()
                    }
                }
            }
            Message::Response(_) => Vec::new(),
        }
    }

    fn request(&mut self, request: &Request) -> Result<Value, RequestError> {
        let result = match request.method.as_str() {
            HoverRequest::METHOD => {
                let params: HoverParams = params(request)?;
                let position = params.text_document_position_params;
                self.hover(&position.text_document.uri, position.position)
                    .map(serde_json::to_value)
            }
            Completion::METHOD => {
                let params: CompletionParams = params(request)?;
                let position = params.text_document_position;
                self.completion(&position.text_document.uri, position.position)
                    .map(serde_json::to_value)
            }
            GotoDefinition::METHOD => {
                let params: GotoDefinitionParams = params(request)?;
                let position = params.text_document_position_params;
                self.definition(&position.text_document.uri, position.position)
                    .map(serde_json::to_value)
            }
            Formatting::METHOD => {
                let params: DocumentFormattingParams = params(request)?;
                self.format(&params.text_document.uri)
                    .map(serde_json::to_value)
            }
            _ => return Err(RequestError::MethodNotFound),
        };
        match result {
            Some(Ok(value)) => Ok(value),
            Some(Err(error)) => Err(RequestError::InvalidParams(error.to_string())),
            None => Ok(Value::Null),
        }
    }

    fn notification(&mut self, notification: &Notification) -> Vec<Notification> {
        let uri = match notification.method.as_str() {
            DidOpenTextDocument::METHOD => {
                let Ok(params) = serde_json::from_value::<DidOpenTextDocumentParams>(
                    notification.params.clone(),
                ) else {
                    return Vec::new();
                };
                let document = params.text_document;
                self.open(document.uri.clone(), document.text);
                document.uri
            }
            DidChangeTextDocument::METHOD => {
                let Ok(params) = serde_json::from_value::<DidChangeTextDocumentParams>(
                    notification.params.clone(),
                ) else {
                    return Vec::new();
                };
                // Full sync: the last change holds the whole text.
                if let Some(change) = params.content_changes.into_iter().last() {
                    self.open(params.text_document.uri.clone(), change.text);
                }
                params.text_document.uri
            }
            DidSaveTextDocument::METHOD => {
                let Ok(params) = serde_json::from_value::<DidSaveTextDocumentParams>(
                    notification.params.clone(),
                ) else {
                    return Vec::new();
                };
                if let Some(text) = params.text {
                    self.open(params.text_document.uri.clone(), text);
                }
                params.text_document.uri
            }
            DidCloseTextDocument::METHOD => {
                let Ok(params) = serde_json::from_value::<DidCloseTextDocumentParams>(
                    notification.params.clone(),
                ) else {
                    return Vec::new();
                };
                return self.close(&params.text_document.uri);
            }
            _ => return Vec::new(),
        };
        self.publish(&uri)
    }

    fn open(&mut self, uri: Uri, text: String) {
        let path = uri::to_path(&uri);
        self.documents
            .insert(uri.as_str().to_string(), Document { uri, path, text });
    }

    fn close(&mut self, uri: &Uri) -> Vec<Notification> {
        let Some(document) = self.documents.remove(uri.as_str()) else {
            return Vec::new();
        };
        let key = policy_key(&document);
        // Another open document of the same policy: analyze again, from disk for the
        // closed one. Otherwise clear every diagnostic of the policy.
        let sibling = self
            .documents
            .values()
            .find(|d| policy_key(d) == key)
            .map(|d| d.uri.clone());
        match sibling {
            Some(sibling) => self.publish(&sibling),
            None => self
                .published
                .remove(&key)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|uri| uri.parse::<Uri>().ok())
                .map(|uri| publish_notification(uri, Vec::new()))
                .collect(),
        }
    }

    /// Analyzes the policy of `uri` and publishes diagnostics for each of its files.
    fn publish(&mut self, uri: &Uri) -> Vec<Notification> {
        let Some(view) = self.view(uri) else {
            return Vec::new();
        };
        // As `warden check` does: a policy that checks has every regex compiled, so that
        // one over the size limit is reported while it is written.
        let analysis = match warden::compile(&view.sources) {
            Ok(mut policy) => {
                policy.compile_all_regexes();
                policy.analysis
            }
            Err(analysis) => *analysis,
        };
        let uri_of = |index: usize| view.uris.get(index).cloned().flatten();
        let mut out = Vec::new();
        let mut now = BTreeSet::new();
        for (index, diagnostics) in analysis::lsp_diagnostics(&analysis, &uri_of, view.current) {
            if let Some(uri) = uri_of(index) {
                now.insert(uri.as_str().to_string());
                out.push(publish_notification(uri, diagnostics));
            }
        }
        let key = view.root.as_ref().map_or_else(
            || uri.as_str().to_string(),
            |root| root.to_string_lossy().into_owned(),
        );
        let before = self.published.insert(key, now.clone()).unwrap_or_default();
        for gone in before.difference(&now) {
            if let Ok(uri) = gone.parse::<Uri>() {
                out.push(publish_notification(uri, Vec::new()));
            }
        }
        out
    }

    /// The text of a document: the open buffer, else the file on disk.
    fn text(&self, uri: &Uri) -> Option<String> {
        if let Some(document) = self.documents.get(uri.as_str()) {
            return Some(document.text.clone());
        }
        std::fs::read_to_string(uri::to_path(uri)?).ok()
    }

    /// The policy `uri` belongs to. For a file: every `.warden` file below its policy
    /// root, open buffers overriding the disk. Otherwise the document alone.
    fn view(&self, uri: &Uri) -> Option<PolicyView> {
        let text = self.text(uri)?;
        let Some(path) = uri::to_path(uri) else {
            let name = uri
                .as_str()
                .rsplit('/')
                .next()
                .unwrap_or("policy.warden")
                .to_string();
            return Some(PolicyView {
                root: None,
                sources: vec![SourceText { path: name, text }],
                uris: vec![Some(uri.clone())],
                current: 0,
            });
        };
        let root = policy_root(&path);
        let mut files: BTreeMap<String, String> = warden::read_policy(&root)
            .map(|sources| sources.into_iter().map(|s| (s.path, s.text)).collect())
            .unwrap_or_default();
        for document in self.documents.values() {
            if let Some(relative) = document
                .path
                .as_deref()
                .and_then(|p| relative_path(&root, p))
            {
                files.insert(relative, document.text.clone());
            }
        }
        let current_path = relative_path(&root, &path)?;
        files.insert(current_path.clone(), text);
        let current = files.keys().position(|p| *p == current_path)?;
        let uris = files
            .keys()
            .map(|relative| uri::from_path(&root.join(relative)))
            .collect();
        let sources = files
            .into_iter()
            .map(|(path, text)| SourceText { path, text })
            .collect();
        Some(PolicyView {
            root: Some(root),
            sources,
            uris,
            current,
        })
    }

    fn at(&self, uri: &Uri, position: lsp_types::Position) -> Option<(PolicyView, usize)> {
        let view = self.view(uri)?;
        let text = &view.sources.get(view.current)?.text;
        let offset = LineIndex::new(text).offset(position);
        Some((view, offset))
    }

    fn hover(&self, uri: &Uri, position: lsp_types::Position) -> Option<Hover> {
        let (view, offset) = self.at(uri, position)?;
        let workspace = Workspace {
            policy: &view.sources,
        };
        let (markdown, span) = analysis::hover(&workspace, view.current, offset)?;
        let text = &view.sources.get(view.current)?.text;
        Some(Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value: markdown,
            }),
            range: Some(LineIndex::new(text).range(span)),
        })
    }

    fn completion(&self, uri: &Uri, position: lsp_types::Position) -> Option<CompletionResponse> {
        let (view, offset) = self.at(uri, position)?;
        let workspace = Workspace {
            policy: &view.sources,
        };
        Some(CompletionResponse::Array(analysis::completion(
            &workspace,
            view.current,
            offset,
        )))
    }

    /// `warden fmt`'s layout as one edit of the whole document; no edit when it is
    /// already formatted, and none (`null`) when it does not parse: its diagnostics
    /// are already shown.
    fn format(&self, uri: &Uri) -> Option<Vec<TextEdit>> {
        let text = self.text(uri)?;
        let formatted = warden_syntax::format(&text).ok()?;
        if formatted == text {
            return Some(Vec::new());
        }
        let whole = LineIndex::new(&text).range(warden_syntax::Span::new(0, text.len()));
        Some(vec![TextEdit::new(whole, formatted)])
    }

    fn definition(
        &self,
        uri: &Uri,
        position: lsp_types::Position,
    ) -> Option<GotoDefinitionResponse> {
        let (view, offset) = self.at(uri, position)?;
        let workspace = Workspace {
            policy: &view.sources,
        };
        let (file, span) = analysis::definition(&workspace, view.current, offset)?;
        let target = view.uris.get(file).cloned().flatten()?;
        let range = LineIndex::new(&view.sources.get(file)?.text).range(span);
        Some(GotoDefinitionResponse::Scalar(Location::new(target, range)))
    }
}

fn params<P: serde::de::DeserializeOwned>(request: &Request) -> Result<P, RequestError> {
    serde_json::from_value(request.params.clone())
        .map_err(|e| RequestError::InvalidParams(e.to_string()))
}

fn publish_notification(uri: Uri, diagnostics: Vec<lsp_types::Diagnostic>) -> Notification {
    Notification::new(
        PublishDiagnostics::METHOD.to_string(),
        PublishDiagnosticsParams {
            uri,
            diagnostics,
            version: None,
        },
    )
}

fn policy_key(document: &Document) -> String {
    match &document.path {
        Some(path) => policy_root(path).to_string_lossy().into_owned(),
        None => document.uri.as_str().to_string(),
    }
}

/// The `/`-separated path of `path` relative to `root`.
fn relative_path(root: &Path, path: &Path) -> Option<String> {
    let relative = path.strip_prefix(root).ok()?;
    Some(relative.to_string_lossy().replace('\\', "/"))
}

/// The policy a `.warden` file belongs to: its directory, extended upwards while the
/// parent directory holds `.warden` files itself (so `lib/owners.warden` belongs to
/// the policy above it), stopping at a repository root (a `.git` entry).
pub fn policy_root(file: &Path) -> PathBuf {
    let mut root = file
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    while !root.join(".git").exists() {
        let Some(parent) = root.parent() else { break };
        if !has_warden_files(parent) {
            break;
        }
        root = parent.to_path_buf();
    }
    root
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
        let response = dispatch(&request, |_| panic!("boom"));
        assert_eq!(response.id, RequestId::from(7));
        let error = response.error.unwrap();
        assert_eq!(error.code, ErrorCode::InternalError as i32);
        assert!(error.message.contains("boom"), "{}", error.message);
        let response = dispatch(&request, |_| Err(RequestError::MethodNotFound));
        assert_eq!(
            response.error.unwrap().code,
            ErrorCode::MethodNotFound as i32
        );
    }

    #[test]
    fn policy_root_climbs_into_parent_policies() {
        let base = std::env::temp_dir().join(format!("warden-lsp-root-{}", std::process::id()));
        let lib = base.join("policy").join("lib");
        std::fs::create_dir_all(&lib).unwrap();
        std::fs::write(base.join("policy").join("main.warden"), "let a = 1\n").unwrap();
        std::fs::write(lib.join("owners.warden"), "let b = 2\n").unwrap();
        std::fs::write(base.join(".git"), "").unwrap();
        assert_eq!(policy_root(&lib.join("owners.warden")), base.join("policy"));
        assert_eq!(
            policy_root(&base.join("policy").join("main.warden")),
            base.join("policy")
        );
        let _ = std::fs::remove_dir_all(&base);
    }
}
