//! LSP framing over a byte stream: `Content-Length` headers, then a JSON-RPC body.
//!
//! `lsp_server`'s reader ends the connection at the first malformed frame; this one
//! reports it and carries on. A frame whose body is not JSON gets a parse error, one
//! whose JSON is not a message an invalid-request error (with the request's id when it
//! has a usable one, else `null`, as JSON-RPC says). Headers that make no sense (no
//! `Content-Length`, a line that is not `Name: value`) are skipped up to the next
//! `Content-Length` header, and so is the rest of a body that turns out to hold the
//! start of the next frame (a truncated message). Sizes are bounded, so garbage never
//! makes the server hold more than one body of at most [`MAX_BODY_BYTES`].

use std::io::{self, Read, Write};

use lsp_server::{ErrorCode, Message, Notification, Request, RequestId, Response};
use serde_json::Value;

/// The largest body accepted: a whole policy file (at most `warden::MAX_READ_BYTES`)
/// JSON-escaped in a `didOpen`, with room to spare.
pub const MAX_BODY_BYTES: usize = 256 * 1024 * 1024;
/// The longest header line kept; a longer one is garbage.
const MAX_HEADER_LINE: usize = 4096;
const CONTENT_LENGTH: &[u8] = b"content-length:";

/// What one frame of the stream held.
#[derive(Debug)]
pub enum Frame {
    Message(Message),
    /// A frame that is not a message: the error to answer it with.
    Invalid(FrameError),
}

/// The error response to a frame that is not a message. `id` is `None` when the
/// request's id cannot be known, and the response then carries `"id": null`
/// (`RequestId` has no null).
#[derive(Debug, Clone, PartialEq)]
pub struct FrameError {
    pub id: Option<RequestId>,
    pub code: i32,
    pub message: String,
}

impl FrameError {
    /// Writes the error response as one frame.
    pub fn write(&self, output: &mut impl Write) -> io::Result<()> {
        let body = serde_json::json!({
            "jsonrpc": "2.0",
            "id": self.id,
            "error": { "code": self.code, "message": self.message },
        })
        .to_string();
        write!(output, "Content-Length: {}\r\n\r\n{body}", body.len())?;
        output.flush()
    }
}

/// Reads frames from a byte stream, recovering from malformed ones.
pub struct FrameReader<R> {
    input: R,
    buffer: Vec<u8>,
    start: usize,
    /// Set after a malformed header: skip to the next `Content-Length`.
    resync: bool,
}

impl<R: Read> FrameReader<R> {
    pub fn new(input: R) -> Self {
        FrameReader {
            input,
            buffer: Vec::new(),
            start: 0,
            resync: false,
        }
    }

    /// The next frame; `None` at the end of the stream (a partial frame at the end is
    /// dropped). Only an I/O error of the stream itself is an error.
    pub fn next_frame(&mut self) -> io::Result<Option<Frame>> {
        let Some(length) = self.read_headers()? else {
            return Ok(None);
        };
        let Some(length) = length else {
            // Malformed headers: no frame to answer, but the client is told once.
            self.resync = true;
            return Ok(Some(Frame::Invalid(invalid(
                ErrorCode::ParseError,
                "malformed message header: expected `Content-Length: N` then an empty line"
                    .to_string(),
            ))));
        };
        if length > MAX_BODY_BYTES {
            if !self.skip(length)? {
                return Ok(None);
            }
            return Ok(Some(Frame::Invalid(invalid(
                ErrorCode::InvalidRequest,
                format!("message of {length} bytes is over the limit of {MAX_BODY_BYTES}"),
            ))));
        }
        let Some(body) = self.take(length)? else {
            return Ok(None);
        };
        Ok(Some(self.parse(body)))
    }

    /// Reads a header block. `Some(Some(n))`: a `Content-Length` of `n`; `Some(None)`:
    /// malformed headers; `None`: the end of the stream.
    fn read_headers(&mut self) -> io::Result<Option<Option<usize>>> {
        let mut length = None;
        let mut any = false;
        loop {
            let Some(line) = self.line()? else {
                return Ok(None);
            };
            let line = if self.resync {
                // Garbage until a line holding a `Content-Length` header.
                match find_ignore_case(&line, CONTENT_LENGTH) {
                    Some(at) => {
                        self.resync = false;
                        line[at..].to_vec()
                    }
                    None => continue,
                }
            } else {
                line
            };
            if line.is_empty() {
                if !any {
                    // Blank lines between frames are harmless.
                    continue;
                }
                return Ok(Some(length));
            }
            any = true;
            match parse_header(&line) {
                Some(Header::ContentLength(n)) if length.is_none() => length = Some(n),
                Some(Header::Other) => {}
                // Do not wait for an empty line that may never come.
                _ => return Ok(Some(None)),
            }
        }
    }

    /// One line without its `\r\n` (or `\n`), at most [`MAX_HEADER_LINE`] bytes kept;
    /// `None` at the end of the stream.
    fn line(&mut self) -> io::Result<Option<Vec<u8>>> {
        let mut line = Vec::new();
        loop {
            let available = &self.buffer[self.start..];
            if let Some(end) = available.iter().position(|&b| b == b'\n') {
                let keep = end.min(MAX_HEADER_LINE.saturating_sub(line.len()));
                line.extend_from_slice(&available[..keep]);
                self.start += end + 1;
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(Some(line));
            }
            let keep = available
                .len()
                .min(MAX_HEADER_LINE.saturating_sub(line.len()));
            line.extend_from_slice(&available[..keep]);
            self.start = self.buffer.len();
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    /// Exactly `length` bytes; `None` if the stream ends first.
    fn take(&mut self, length: usize) -> io::Result<Option<Vec<u8>>> {
        while self.buffer.len() - self.start < length {
            if !self.fill()? {
                return Ok(None);
            }
        }
        // The body keeps the buffer's allocation (a large message is not copied); the
        // bytes after it, usually few, move to a new buffer.
        let rest = self.buffer.split_off(self.start + length);
        let mut body = std::mem::replace(&mut self.buffer, rest);
        body.drain(..self.start);
        self.start = 0;
        Ok(Some(body))
    }

    /// Discards `length` bytes; `false` if the stream ends first.
    fn skip(&mut self, mut length: usize) -> io::Result<bool> {
        loop {
            let available = self.buffer.len() - self.start;
            if available >= length {
                self.start += length;
                return Ok(true);
            }
            length -= available;
            self.start = self.buffer.len();
            if !self.fill()? {
                return Ok(false);
            }
        }
    }

    /// Reads more of the stream into the buffer; `false` at its end.
    fn fill(&mut self) -> io::Result<bool> {
        if self.start > 0 {
            self.buffer.drain(..self.start);
            self.start = 0;
        }
        let mut chunk = [0u8; 64 * 1024];
        loop {
            match self.input.read(&mut chunk) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.buffer.extend_from_slice(&chunk[..n]);
                    return Ok(true);
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(error),
            }
        }
    }

    /// The message a body holds, or the error to answer it with.
    fn parse(&mut self, body: Vec<u8>) -> Frame {
        let value: Value = match serde_json::from_slice(&body) {
            Ok(value) => value,
            Err(error) => {
                // A body cut short swallows the start of the next frame: read that
                // frame again from its header.
                if let Some(at) = find_ignore_case(&body, CONTENT_LENGTH) {
                    let mut rest = body[at..].to_vec();
                    rest.extend_from_slice(&self.buffer[self.start..]);
                    self.buffer = rest;
                    self.start = 0;
                }
                return Frame::Invalid(invalid(
                    ErrorCode::ParseError,
                    format!("the message is not JSON: {error}"),
                ));
            }
        };
        let id = value.get("id").cloned();
        let usable_id = id
            .clone()
            .and_then(|id| serde_json::from_value::<RequestId>(id).ok());
        // An id that is neither a string nor an integer would otherwise make a request
        // a notification, never answered.
        let bad_id = id.as_ref().is_some_and(|id| !id.is_null()) && usable_id.is_none();
        let is_object = value.is_object();
        let has_version = value.get("jsonrpc").and_then(Value::as_str) == Some("2.0");
        // Which kind the message is comes from its keys: `Message` alone would take a
        // request with a bad `method` for a response, never answered.
        let decoded = if value.get("method").is_some() {
            if id.as_ref().is_some_and(|id| !id.is_null()) {
                serde_json::from_value::<Request>(value).map(Message::Request)
            } else {
                serde_json::from_value::<Notification>(value).map(Message::Notification)
            }
        } else {
            serde_json::from_value::<Response>(value).map(Message::Response)
        };
        match decoded {
            Ok(message) if is_object && has_version && !bad_id => Frame::Message(message),
            result => {
                let reason = match result {
                    Err(error) => error.to_string(),
                    Ok(_) if bad_id => "`id` must be an integer or a string".to_string(),
                    Ok(_) => "`jsonrpc` must be \"2.0\"".to_string(),
                };
                Frame::Invalid(FrameError {
                    id: usable_id,
                    code: ErrorCode::InvalidRequest as i32,
                    message: format!(
                        "not a JSON-RPC 2.0 request, notification or response: {reason}"
                    ),
                })
            }
        }
    }
}

enum Header {
    ContentLength(usize),
    Other,
}

fn parse_header(line: &[u8]) -> Option<Header> {
    let line = std::str::from_utf8(line).ok()?;
    let (name, value) = line.split_once(':')?;
    let name = name.trim();
    if name.is_empty() || name.contains(char::is_whitespace) {
        return None;
    }
    if name.eq_ignore_ascii_case("content-length") {
        value.trim().parse().ok().map(Header::ContentLength)
    } else {
        Some(Header::Other)
    }
}

fn find_ignore_case(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window.eq_ignore_ascii_case(needle))
}

fn invalid(code: ErrorCode, message: String) -> FrameError {
    FrameError {
        id: None,
        code: code as i32,
        message,
    }
}
