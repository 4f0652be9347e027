//! `file:` URIs ↔ paths, with percent-encoding, for the documents the client names.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use lsp_types::Uri;

/// The path of a `file:` URI; `None` for other schemes.
pub fn to_path(uri: &Uri) -> Option<PathBuf> {
    let rest = uri.as_str().strip_prefix("file://")?;
    // Skip the authority (usually empty, or `localhost`).
    let path = &rest[rest.find('/')?..];
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let decoded = percent_decode(path)?;
    // `/C:/dir/file` on Windows.
    let bytes = decoded.as_bytes();
    if cfg!(windows)
        && bytes.len() >= 3
        && bytes.get(2) == Some(&b':')
        && bytes.get(1).is_some_and(u8::is_ascii_alphabetic)
    {
        return Some(PathBuf::from(&decoded[1..]));
    }
    Some(PathBuf::from(decoded))
}

/// The `file:` URI of an absolute path.
pub fn from_path(path: &Path) -> Option<Uri> {
    let text = path.to_string_lossy().replace('\\', "/");
    let text = if text.starts_with('/') {
        text
    } else {
        format!("/{text}")
    };
    Uri::from_str(&format!("file://{}", warden::render::sarif::uri(&text))).ok()
}

/// The URI of the file at `to` (a `/`-separated path relative to a directory) for a
/// client that names the file at `from` (relative to the same directory) `document`:
/// the directory spelled exactly as the client spells it, so that a client comparing
/// URIs as strings recognizes the files it has not opened too. `None` when the
/// document's URI does not end with `from`.
pub fn sibling(document: &Uri, from: &str, to: &str) -> Option<Uri> {
    let text = document.as_str();
    if text.contains(['?', '#']) {
        return None;
    }
    let segments = from.split('/').count();
    let mut parts = text.rsplitn(segments + 1, '/');
    let tail: Vec<&str> = parts.by_ref().take(segments).collect();
    let directory = parts.next()?;
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    if percent_decode(&tail.join("/"))? != from {
        return None;
    }
    Uri::from_str(&format!("{directory}/{}", warden::render::sarif::uri(to))).ok()
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        if byte == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(byte);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
// Failing loudly is what a test is for.
#[allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_paths_with_special_characters() {
        let path = Path::new("/home/me/my policies/é#1.warden");
        let uri = from_path(path).unwrap();
        assert_eq!(
            uri.as_str(),
            "file:///home/me/my%20policies/%C3%A9%231.warden"
        );
        assert_eq!(to_path(&uri).unwrap(), path);
    }

    #[test]
    fn siblings_keep_the_clients_spelling_of_the_directory() {
        // `+` left as is by the client (Neovim), `%2B` as VS Code writes it.
        for directory in ["file:///tmp/a+b", "file:///tmp/a%2Bb", "file:///tmp/a%2bb"] {
            let document = Uri::from_str(&format!("{directory}/lib/x.warden")).unwrap();
            let sibling = sibling(&document, "lib/x.warden", "main warden.warden").unwrap();
            assert_eq!(
                sibling.as_str(),
                format!("{directory}/main%20warden.warden")
            );
        }
        let document = Uri::from_str("file:///tmp/other.warden").unwrap();
        assert_eq!(sibling(&document, "lib/x.warden", "y.warden"), None);
    }

    #[test]
    fn decodes_client_uris() {
        let uri = Uri::from_str("file:///tmp/a%20b/c.warden").unwrap();
        assert_eq!(to_path(&uri).unwrap(), Path::new("/tmp/a b/c.warden"));
        let uri = Uri::from_str("file://localhost/tmp/x.warden").unwrap();
        assert_eq!(to_path(&uri).unwrap(), Path::new("/tmp/x.warden"));
        let uri = Uri::from_str("untitled:Untitled-1").unwrap();
        assert_eq!(to_path(&uri), None);
    }
}
