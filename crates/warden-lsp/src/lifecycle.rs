//! The life of a session as the LSP specification sets it: `initialize` first,
//! `shutdown` then `exit` (exit status 0, or 1 when `exit` comes without `shutdown`),
//! every request after `shutdown` refused with `InvalidRequest`; and the loops that
//! drive a [`Session`] over standard input/output or an `lsp_server` connection.

use std::io::{BufWriter, Read, Write};
use std::sync::mpsc::{self, TryRecvError};

use lsp_server::{Connection, ErrorCode, Message, Request, RequestId, Response};
use lsp_types::{
    ClientCapabilities, DidChangeWatchedFilesRegistrationOptions, FileSystemWatcher, GlobPattern,
    InitializeParams, InitializeResult, Registration, RegistrationParams, ServerInfo,
};

use crate::server::{self, Outgoing, Server};
use crate::transport::{Frame, FrameReader};

/// The error code for a request before `initialize`.
const SERVER_NOT_INITIALIZED: i32 = -32002;
/// The id of the server's one request to the client: registering the file watchers.
const REGISTER_WATCHERS: &str = "warden/watch";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Uninitialized,
    Running,
    ShutDown,
}

/// One client's session: the handshake, the [`Server`] once initialized, and shutdown.
pub struct Session {
    state: State,
    server: Server,
    watch_dynamically: bool,
}

impl Default for Session {
    fn default() -> Self {
        Session {
            state: State::Uninitialized,
            server: Server::default(),
            watch_dynamically: false,
        }
    }
}

/// What a message led to: the messages to send, and the exit status once `exit` came.
pub struct Step {
    pub outgoing: Vec<Outgoing>,
    pub exit: Option<i32>,
}

impl Session {
    /// Takes one message; the analysis of an edit waits for [`Session::flush`] or the
    /// next message that is not an edit (see [`Server::receive`]).
    pub fn receive(&mut self, message: Message) -> Step {
        let mut step = Step {
            outgoing: Vec::new(),
            exit: None,
        };
        match message {
            Message::Request(request) => step.outgoing = self.request(request),
            Message::Notification(notification) if notification.method == "exit" => {
                step.exit = Some(if self.state == State::ShutDown { 0 } else { 1 });
            }
            Message::Notification(notification) => match self.state {
                State::Running if notification.method == "initialized" => {
                    step.outgoing
                        .extend(self.register_watchers().map(Outgoing::Message));
                }
                State::Running => step.outgoing = self.server.receive(notification.into()),
                // Before `initialize` and after `shutdown`, notifications are dropped.
                State::Uninitialized | State::ShutDown => {}
            },
            // The client's answer to the registration: nothing to do either way.
            Message::Response(_) => {}
        }
        step
    }

    fn request(&mut self, request: Request) -> Vec<Outgoing> {
        let refuse = |code: i32, message: &str| {
            vec![Outgoing::response(Response::new_err(
                request.id.clone(),
                code,
                message.to_string(),
            ))]
        };
        match (self.state, request.method.as_str()) {
            (State::Uninitialized, "initialize") => {
                let params: InitializeParams = match serde_json::from_value(request.params.clone())
                {
                    Ok(params) => params,
                    Err(error) => {
                        return refuse(ErrorCode::InvalidParams as i32, &error.to_string());
                    }
                };
                self.watch_dynamically = can_watch_dynamically(&params.capabilities);
                self.server.configure(&params);
                self.state = State::Running;
                let result = InitializeResult {
                    capabilities: server::capabilities(),
                    server_info: Some(ServerInfo {
                        name: "warden-lsp".to_string(),
                        version: Some(env!("CARGO_PKG_VERSION").to_string()),
                    }),
                };
                vec![Outgoing::response(Response::new_ok(request.id, result))]
            }
            (State::Uninitialized, _) => refuse(
                SERVER_NOT_INITIALIZED,
                "the server is not initialized: send `initialize` first",
            ),
            (State::Running, "initialize") => refuse(
                ErrorCode::InvalidRequest as i32,
                "the server is already initialized",
            ),
            (State::Running, "shutdown") => {
                self.state = State::ShutDown;
                let mut outgoing = self.server.flush();
                outgoing.push(Outgoing::response(Response::new_ok(request.id, ())));
                outgoing
            }
            (State::Running, _) => self.server.receive(request.into()),
            (State::ShutDown, _) => refuse(
                ErrorCode::InvalidRequest as i32,
                "the server is shut down: only `exit` is accepted",
            ),
        }
    }

    /// Publishes the diagnostics of the edits received since the last analysis: the
    /// loops call it when no other message is queued.
    pub fn flush(&mut self) -> Vec<Outgoing> {
        self.server.flush()
    }

    /// Asks the client to watch the policy files, which it reports with
    /// `workspace/didChangeWatchedFiles`.
    fn register_watchers(&self) -> Option<Message> {
        if !self.watch_dynamically {
            return None;
        }
        let watcher = |pattern: &str| FileSystemWatcher {
            glob_pattern: GlobPattern::String(pattern.to_string()),
            kind: None,
        };
        let options = DidChangeWatchedFilesRegistrationOptions {
            watchers: vec![
                watcher("**/*.warden"),
                watcher(&format!("**/{}", server::ROOT_MARKER)),
            ],
        };
        let params = RegistrationParams {
            registrations: vec![Registration {
                id: REGISTER_WATCHERS.to_string(),
                method: "workspace/didChangeWatchedFiles".to_string(),
                register_options: serde_json::to_value(options).ok(),
            }],
        };
        Some(Message::Request(Request::new(
            RequestId::from(REGISTER_WATCHERS.to_string()),
            "client/registerCapability".to_string(),
            params,
        )))
    }
}

fn can_watch_dynamically(capabilities: &ClientCapabilities) -> bool {
    capabilities
        .workspace
        .as_ref()
        .and_then(|w| w.did_change_watched_files.as_ref())
        .and_then(|w| w.dynamic_registration)
        .unwrap_or(false)
}

/// Serves one client over a byte stream (standard input/output) until `exit` or the
/// end of the input; returns the exit status. A malformed frame is answered with an
/// error and the session goes on. A thread reads the frames, so that the messages
/// already sent are seen together: edits queued behind one another are analysed once.
pub fn serve(input: impl Read + Send + 'static, output: impl Write) -> std::io::Result<i32> {
    let (sender, frames) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = FrameReader::new(input);
        loop {
            let frame = reader.next_frame();
            let last = !matches!(frame, Ok(Some(_)));
            if sender.send(frame).is_err() || last {
                break;
            }
        }
    });
    let mut output = BufWriter::new(output);
    let mut session = Session::default();
    let mut next = frames.recv();
    // A closed channel is the end of the input.
    while let Ok(frame) = next {
        let Some(frame) = frame? else { break };
        match frame {
            Frame::Message(message) => {
                let step = session.receive(message);
                for message in step.outgoing {
                    message.write(&mut output)?;
                }
                if let Some(status) = step.exit {
                    output.flush()?;
                    return Ok(status);
                }
            }
            Frame::Invalid(error) => error.write(&mut output)?,
        }
        next = match frames.try_recv() {
            Ok(frame) => Ok(frame),
            Err(TryRecvError::Empty) => {
                for message in session.flush() {
                    message.write(&mut output)?;
                }
                output.flush()?;
                frames.recv()
            }
            Err(TryRecvError::Disconnected) => Err(mpsc::RecvError),
        };
    }
    for message in session.flush() {
        message.write(&mut output)?;
    }
    output.flush()?;
    // The client went away without `exit`.
    Ok(if session.state == State::ShutDown {
        0
    } else {
        1
    })
}

/// Serves one client over an `lsp_server` connection (the tests' in-memory one);
/// `exit` without `shutdown` is an error.
pub fn run(connection: &Connection) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let mut session = Session::default();
    let Ok(mut message) = connection.receiver.recv() else {
        return Ok(());
    };
    loop {
        let step = session.receive(message);
        for message in step.outgoing {
            connection.sender.send(message.into_message())?;
        }
        match step.exit {
            Some(0) => return Ok(()),
            Some(_) => return Err("`exit` came without `shutdown`".into()),
            None => {}
        }
        message = match connection.receiver.try_recv() {
            Ok(message) => message,
            Err(error) => {
                for message in session.flush() {
                    connection.sender.send(message.into_message())?;
                }
                if error.is_disconnected() {
                    return Ok(());
                }
                match connection.receiver.recv() {
                    Ok(message) => message,
                    Err(_) => return Ok(()),
                }
            }
        };
    }
}
