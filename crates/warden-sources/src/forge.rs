//! What the GitHub and GitLab sources share: the saved API files they require, commit
//! messages taken apart, and the change they build checked by the model's own types.

use std::path::{Path, PathBuf};

use serde_json::Value;
use warden_change::Change;

use crate::SourceError;

/// The file `name` of the saved API directory, which must exist; `how` says how to
/// save it, for the message.
pub(crate) fn required(
    input: &Path,
    api: Option<&Path>,
    name: &str,
    how: &str,
) -> Result<PathBuf, SourceError> {
    let Some(dir) = api else {
        return Err(SourceError::new(
            input.display(),
            format!(
                "this change needs the saved API responses: save {how} (docs/ci.md lists \
                 every file) and pass the directory (`--api DIR`; `--github-api` or \
                 `--gitlab-api` with `warden eval`)"
            ),
        ));
    };
    let path = dir.join(name);
    if path.is_file() {
        Ok(path)
    } else {
        Err(SourceError::new(
            path.display(),
            format!("the file is missing: save {how}"),
        ))
    }
}

/// The file `name` of the saved API directory, if there is one.
pub(crate) fn optional(api: Option<&Path>, name: &str) -> Option<PathBuf> {
    api.map(|dir| dir.join(name)).filter(|path| path.is_file())
}

/// A commit message taken apart as git does: the subject (first paragraph joined on
/// one line), the body, and the trailers of its last paragraph. The trailer block is
/// left out of the body, since the trailers are given on their own.
pub(crate) struct Message {
    pub subject: String,
    pub body: String,
    pub trailers: Vec<(String, String)>,
}

impl Message {
    pub(crate) fn parse(message: &str) -> Message {
        let message = message.replace("\r\n", "\n");
        let message = message.trim_matches('\n');
        let (subject, rest) = message.split_once("\n\n").unwrap_or((message, ""));
        let subject = subject.lines().map(str::trim).collect::<Vec<_>>().join(" ");
        let rest = rest.trim_matches('\n');
        let (body, last) = match rest.rsplit_once("\n\n") {
            Some((body, last)) => (body, last),
            None => ("", rest),
        };
        match trailers(last) {
            Some(trailers) => Message {
                subject,
                body: body.trim_end().to_owned(),
                trailers,
            },
            None => Message {
                subject,
                body: rest.trim_end().to_owned(),
                trailers: Vec::new(),
            },
        }
    }

    /// The `subject`, `body` and `trailers` fields of a change's commit.
    pub(crate) fn fields(self, commit: &mut serde_json::Map<String, Value>) {
        let trailers: Vec<Value> = self
            .trailers
            .into_iter()
            .map(|(key, value)| serde_json::json!({ "key": key, "value": value }))
            .collect();
        commit.insert("subject".into(), self.subject.into());
        commit.insert("body".into(), self.body.into());
        commit.insert("trailers".into(), trailers.into());
    }
}

/// The trailers of a paragraph in which every line is `Key: value` (a key of letters,
/// digits and `-`) or the indented continuation of one; `None` for any other
/// paragraph.
fn trailers(paragraph: &str) -> Option<Vec<(String, String)>> {
    let mut trailers: Vec<(String, String)> = Vec::new();
    for line in paragraph.lines() {
        if line.starts_with([' ', '\t']) {
            let (_, value) = trailers.last_mut()?;
            value.push(' ');
            value.push_str(line.trim());
            continue;
        }
        let (key, value) = line.split_once(':')?;
        let is_token = !key.is_empty()
            && key.starts_with(|c: char| c.is_ascii_alphanumeric())
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !is_token {
            return None;
        }
        trailers.push((key.to_owned(), value.trim().to_owned()));
    }
    (!trailers.is_empty()).then_some(trailers)
}

/// A JSON object of `fields`, moved in (`json!` would copy every value it is given,
/// and a change holds megabytes of patches).
pub(crate) fn object<const N: usize>(fields: [(&str, Value); N]) -> Value {
    Value::Object(
        fields
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value))
            .collect(),
    )
}

/// Reads the change a source built as JSON through the model's types. What does not
/// fit is a fault of the source's mapping (every input field it copies was read with
/// its type), reported against the input.
pub(crate) fn change(input: &Path, json: Value) -> Result<Change, SourceError> {
    serde_path_to_error::deserialize(json).map_err(|error| {
        SourceError::at(
            input.display(),
            format!("$.{}", error.path()),
            format!(
                "the change built from it does not fit the model: {}",
                error.inner()
            ),
        )
    })
}

/// The number of lines a diff of hunks (`@@ … @@` and their lines, no file header, as
/// forges' APIs give it) adds and deletes.
pub(crate) fn diff_lines(diff: &str) -> (i64, i64) {
    let mut additions = 0;
    let mut deletions = 0;
    for line in diff.lines() {
        match line.as_bytes().first() {
            Some(b'+') => additions += 1,
            Some(b'-') => deletions += 1,
            _ => {}
        }
    }
    (additions, deletions)
}
