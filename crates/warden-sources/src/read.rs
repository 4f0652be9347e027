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
    let stream = serde_json::Deserializer::from_str(&text).into_iter::<serde_json::Value>();
    let mut page_number = 0;
    for page in stream {
        let page = page.map_err(|error| SourceError::new(&name, error.to_string()))?;
        page_number += 1;
        // `--slurp`: an array whose items are pages (arrays or objects).
        let slurped = matches!(&page, serde_json::Value::Array(items)
            if !items.is_empty() && items.iter().all(|item| item.is_array()));
        let parts = match page {
            serde_json::Value::Array(parts) if slurped => parts,
            page => vec![page],
        };
        for (index, part) in parts.into_iter().enumerate() {
            let label = if slurped {
                format!("{name} (page {})", index + 1)
            } else {
                format!("{name} (page {page_number})")
            };
            let page: P = serde_path_to_error::deserialize(part)
                .map_err(|error| json_error(&label, &error))?;
            all.extend(items(page));
        }
    }
    Ok(all)
}

/// A serde error with its JSON path.
fn json_error<E: std::fmt::Display>(
    name: &str,
    error: &serde_path_to_error::Error<E>,
) -> SourceError {
    let path = error.path().to_string();
    let at = if path == "." {
        "$".to_owned()
    } else if path.starts_with('[') {
        format!("${path}")
    } else {
        format!("$.{path}")
    };
    SourceError::at(name, at, error.inner().to_string())
}
