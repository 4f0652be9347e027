//! Reading the files a change is built from: bounded UTF-8 text, and JSON with the
//! path of whatever does not fit.

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::SourceError;

/// The most Warden reads of one file (a policy file, a change, a fact file, a saved
/// API response) or of standard input. A change of 10,000 files with their patches is
/// tens of MiB; the limit makes a wrong path such as `/dev/zero` an error instead of a
/// read that ends only when memory does.
pub const MAX_READ_BYTES: u64 = 256 << 20;

/// U+FEFF in UTF-8.
const BYTE_ORDER_MARK: &[u8] = b"\xEF\xBB\xBF";

/// Reads a file as UTF-8 text of at most [`MAX_READ_BYTES`]; the error says why not.
pub fn read_file(path: &Path) -> Result<String, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let size = file.metadata().map_or(0, |m| m.len());
    read_text(file, size)
}

/// Reads UTF-8 text of at most [`MAX_READ_BYTES`] from `reader`; `expected` is a hint
/// of its size. A leading byte-order mark, which some editors write, is dropped. The
/// error says what is wrong, and where for text that is not UTF-8.
pub fn read_text(reader: impl std::io::Read, expected: u64) -> Result<String, String> {
    use std::io::Read as _;
    let capacity = expected.min(MAX_READ_BYTES) as usize;
    let mut bytes = Vec::with_capacity(capacity.saturating_add(1));
    reader
        .take(MAX_READ_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_READ_BYTES {
        return Err(format!(
            "it is larger than {} MiB, the most Warden reads",
            MAX_READ_BYTES >> 20
        ));
    }
    if bytes.starts_with(BYTE_ORDER_MARK) {
        bytes.drain(..BYTE_ORDER_MARK.len());
    }
    String::from_utf8(bytes).map_err(|error| {
        let offset = error.utf8_error().valid_up_to();
        let before = &error.as_bytes()[..offset];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        // Columns count characters, as in every other location Warden reports.
        let column = String::from_utf8_lossy(&before[line_start..])
            .chars()
            .count()
            + 1;
        format!(
            "it is not UTF-8 text: the byte at line {line}, column {column} (offset {offset}) \
             is not valid UTF-8; save the file as UTF-8"
        )
    })
}

/// Reads a JSON file into `T`. An error names the file, the JSON path of the value
/// that does not fit (`$.pull_request.head.sha`) and serde's reason.
pub fn json<T: DeserializeOwned>(path: &Path) -> Result<T, SourceError> {
    let text = read_file(path).map_err(|message| SourceError::new(path.display(), message))?;
    json_text(&path.display().to_string(), &text)
}

/// Parses JSON text (named `name` in errors) into `T`.
pub fn json_text<T: DeserializeOwned>(name: &str, text: &str) -> Result<T, SourceError> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|error| json_error(name, &error))?;
    deserializer
        .end()
        .map_err(|error| SourceError::new(name, format!("{error} after the JSON value")))?;
    Ok(value)
}

/// Reads a saved, paginated API response: every item of every page, in order. The file
/// holds the pages one after another, as `gh api --paginate` prints them
/// (`[…][…]`), or one array of pages (`gh api --paginate --slurp`), or a single page.
/// `items` takes a page apart (a list endpoint's page is the list itself; GitHub's
/// check runs come as `{"check_runs": […]}`).
pub fn pages<P, T>(path: &Path, items: impl Fn(P) -> Vec<T>) -> Result<Vec<T>, SourceError>
where
    P: DeserializeOwned,
{
    let name = path.display().to_string();
    let text = read_file(path).map_err(|message| SourceError::new(&name, message))?;
    let mut all = Vec::new();
    let mut start = 0;
    let mut page_number = 0;
    loop {
        let rest = &text[start..];
        if rest.trim_start().is_empty() {
            break;
        }
        page_number += 1;
        let label = format!("{name} (page {page_number})");
        if is_slurped(rest) {
            // `--slurp`: an array whose items are pages (arrays).
            let mut stream = serde_json::Deserializer::from_str(rest).into_iter();
            let parts: Vec<serde_json::Value> = match stream.next() {
                Some(Ok(parts)) => parts,
                _ => {
                    return Err(json_page::<Vec<serde_json::Value>>(
                        &label,
                        &text[..start],
                        rest,
                    ));
                }
            };
            start += stream.byte_offset();
            for (index, part) in parts.into_iter().enumerate() {
                let label = format!("{name} (page {})", index + 1);
                let page: P = serde_path_to_error::deserialize(part)
                    .map_err(|error| json_error(&label, &error))?;
                all.extend(items(page));
            }
            continue;
        }
        // Straight into `P`, without tracking the JSON path: a file of 3,000 changed
        // files with their patches is megabytes. Only a page that does not fit is read
        // again, to say where.
        let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<P>();
        match stream.next() {
            Some(Ok(page)) => all.extend(items(page)),
            _ => return Err(json_page::<P>(&label, &text[..start], rest)),
        }
        start += stream.byte_offset();
    }
    Ok(all)
}

/// Whether a page is `gh api --slurp`'s array of pages: an array whose first item is
/// an array (a page of a list endpoint is an array of objects).
fn is_slurped(page: &str) -> bool {
    page.trim_start()
        .strip_prefix('[')
        .is_some_and(|rest| rest.trim_start().starts_with('['))
}

/// Why the first JSON value of `rest` is not a `P`, with its JSON path; `before` is
/// the text of the file before it, so that the line and column are the file's.
fn json_page<P: DeserializeOwned>(label: &str, before: &str, rest: &str) -> SourceError {
    let mut deserializer = serde_json::Deserializer::from_str(rest);
    let error = match serde_path_to_error::deserialize::<_, P>(&mut deserializer) {
        Ok(_) => return SourceError::new(label, "the page could not be read twice alike"),
        Err(error) => error,
    };
    let inner = error.inner();
    let mut message = inner.to_string();
    if inner.line() > 0 {
        let in_page = format!(" at line {} column {}", inner.line(), inner.column());
        message.truncate(
            message
                .strip_suffix(&in_page)
                .map_or(message.len(), str::len),
        );
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let line = before.matches('\n').count() + inner.line();
        let column = if inner.line() == 1 {
            before.len() - line_start + inner.column()
        } else {
            inner.column()
        };
        message = format!("{message} at line {line} column {column}");
    }
    SourceError::at(label, json_path(&error), message)
}

/// A serde error with its JSON path.
fn json_error<E: std::fmt::Display>(
    name: &str,
    error: &serde_path_to_error::Error<E>,
) -> SourceError {
    SourceError::at(name, json_path(error), error.inner().to_string())
}

/// The JSON path of a serde error: `$`, `$.a.b`, `$[0].a`.
fn json_path<E>(error: &serde_path_to_error::Error<E>) -> String {
    let path = error.path().to_string();
    if path == "." {
        "$".to_owned()
    } else if path.starts_with('[') {
        format!("${path}")
    } else {
        format!("$.{path}")
    }
}
