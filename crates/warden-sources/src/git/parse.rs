//! Reading what git prints: the NUL-separated log, the raw diff with its line counts,
//! `check-attr`'s answers, signed commits' headers and remote URLs.

use warden_change::model::FileStatus;

/// The fields of one commit in the log, in the order of [`LOG_FORMAT`].
pub const LOG_FIELDS: usize = 14;

/// `git log -z --format=…`: one NUL between fields, and `-z` ends each commit with one.
/// Nothing in it can hold a NUL, so the fields are split without ambiguity. The
/// trailers are git's own parse (`git interpret-trailers --parse`: the last paragraph,
/// continuation lines unfolded, the 25 % rule), one `Key: value` per line.
pub const LOG_FORMAT: &str = "--format=%H%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI\
%x00%G?%x00%GF%x00%GK%x00%(trailers:only,unfold)%x00%s%x00%b";

/// One commit as the log prints it.
#[derive(Debug, PartialEq)]
pub struct LogCommit<'a> {
    pub sha: &'a str,
    pub parents: Vec<&'a str>,
    pub author: LogPerson<'a>,
    pub committer: LogPerson<'a>,
    /// The signature's state from `%G?`; `None` when the commit is not signed.
    pub signature_state: Option<&'static str>,
    /// The signing key's fingerprint (`%GF`), else its id (`%GK`).
    pub key: &'a str,
    pub trailers: Vec<(&'a str, &'a str)>,
    pub subject: &'a str,
    pub body: &'a str,
}

#[derive(Debug, PartialEq)]
pub struct LogPerson<'a> {
    pub name: &'a str,
    pub email: &'a str,
    /// Strict ISO 8601 (`%aI`).
    pub time: &'a str,
}

/// Splits the log into commits; the error says what does not fit.
pub fn log(text: &str) -> Result<Vec<LogCommit<'_>>, String> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let fields: Vec<&str> = text.split_terminator('\0').collect();
    if !fields.len().is_multiple_of(LOG_FIELDS) {
        return Err(format!(
            "git printed {} fields, not a multiple of the {LOG_FIELDS} asked for each commit",
            fields.len()
        ));
    }
    fields
        .chunks_exact(LOG_FIELDS)
        .map(|commit| {
            let sha = commit[0];
            if !is_object_id(sha) {
                return Err(format!("`{sha}` is not a commit id"));
            }
            let parents: Vec<&str> = commit[1].split_whitespace().collect();
            if let Some(bad) = parents.iter().find(|p| !is_object_id(p)) {
                return Err(format!("commit {sha}: parent `{bad}` is not a commit id"));
            }
            let trailers = commit[11]
                .lines()
                .filter(|line| !line.is_empty())
                .map(|line| {
                    line.split_once(':')
                        .map(|(key, value)| (key.trim(), value.trim()))
                        .ok_or_else(|| format!("commit {sha}: trailer `{line}` has no `:`"))
                })
                .collect::<Result<_, _>>()?;
            let key = if commit[9].is_empty() {
                commit[10]
            } else {
                commit[9]
            };
            Ok(LogCommit {
                sha,
                parents,
                author: LogPerson {
                    name: commit[2],
                    email: commit[3],
                    time: commit[4],
                },
                committer: LogPerson {
                    name: commit[5],
                    email: commit[6],
                    time: commit[7],
                },
                signature_state: signature_state(commit[8])
                    .map_err(|m| format!("commit {sha}: {m}"))?,
                key,
                trailers,
                subject: commit[12],
                body: commit[13].trim_end(),
            })
        })
        .collect()
}

/// `%G?` → the `state` of a signature; `N` (no signature) → none; a letter git does
/// not document → an error.
pub fn signature_state(letter: &str) -> Result<Option<&'static str>, String> {
    Ok(Some(match letter {
        "G" => "verified",
        "B" => "bad",
        "U" => "untrusted",
        "X" => "expired_signature",
        "Y" => "expired_key",
        "R" => "revoked_key",
        "E" => "unverifiable",
        "N" => return Ok(None),
        _ => return Err(format!("unknown signature status `{letter}`")),
    }))
}

/// A full SHA-1 or SHA-256 object id.
pub fn is_object_id(text: &str) -> bool {
    matches!(text.len(), 40 | 64) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// One changed file of the diff.
#[derive(Debug, PartialEq)]
pub struct DiffFile {
    pub path: String,
    pub previous_path: Option<String>,
    pub status: FileStatus,
    /// `None` for a binary file (`-` in `--numstat`).
    pub lines: Option<(i64, i64)>,
}

/// Reads `git diff -z --raw --numstat`: every raw record (`:modes ids STATUS`, then
/// one path, or two for a rename or copy), then the line counts of the same files in
/// the same order (`added TAB deleted TAB path`, or `added TAB deleted TAB` and two
/// paths).
pub fn diff(output: &[u8]) -> Result<Vec<DiffFile>, String> {
    let mut tokens = output
        .split(|&b| b == 0)
        .filter(|t| !t.is_empty())
        .peekable();
    let mut files = Vec::new();
    while let Some(record) = tokens.next_if(|t| t.starts_with(b":")) {
        let record =
            std::str::from_utf8(record).map_err(|_| "a raw diff record is not text".to_string())?;
        let letters = record.rsplit(' ').next().unwrap_or_default();
        let status = match letters.chars().next() {
            Some('A') => FileStatus::Added,
            Some('M') => FileStatus::Modified,
            Some('D') => FileStatus::Removed,
            Some('R') => FileStatus::Renamed,
            Some('C') => FileStatus::Copied,
            Some('T') => FileStatus::Changed,
            _ => return Err(format!("unexpected file status `{letters}` in `{record}`")),
        };
        let (previous_path, path) = if matches!(status, FileStatus::Renamed | FileStatus::Copied) {
            let from = next_path(&mut tokens, "path a file was renamed or copied from")?;
            (
                Some(from),
                next_path(&mut tokens, "path of a renamed file")?,
            )
        } else {
            (None, next_path(&mut tokens, "path of a changed file")?)
        };
        files.push(DiffFile {
            path,
            previous_path,
            status,
            lines: None,
        });
    }
    for file in &mut files {
        let counts = tokens
            .next()
            .ok_or_else(|| format!("no line counts for `{}`", file.path))?;
        let counts = std::str::from_utf8(counts)
            .map_err(|_| format!("the line counts of `{}` are not text", file.path))?;
        let mut parts = counts.splitn(3, '\t');
        let (added, deleted, rest) = (parts.next(), parts.next(), parts.next());
        let path = match rest {
            Some("") => {
                next_path(&mut tokens, "path a file was renamed from")?;
                next_path(&mut tokens, "path of a renamed file")?
            }
            Some(path) => path.to_string(),
            None => return Err(format!("line counts `{counts}` have no path")),
        };
        if path != file.path {
            return Err(format!(
                "the line counts are for `{path}` where `{}` was expected",
                file.path
            ));
        }
        file.lines = match (added, deleted) {
            (Some("-"), Some("-")) => None,
            (Some(added), Some(deleted)) => Some(
                added
                    .parse()
                    .ok()
                    .zip(deleted.parse().ok())
                    .ok_or_else(|| format!("line counts `{counts}` are not numbers"))?,
            ),
            _ => return Err(format!("line counts `{counts}` are not two numbers")),
        };
    }
    if let Some(extra) = tokens.next() {
        return Err(format!(
            "unexpected `{}` after the line counts",
            String::from_utf8_lossy(extra)
        ));
    }
    Ok(files)
}

/// The next NUL-separated token of the diff, a path.
fn next_path<'a>(
    tokens: &mut impl Iterator<Item = &'a [u8]>,
    what: &str,
) -> Result<String, String> {
    let token = tokens
        .next()
        .ok_or_else(|| format!("the output ends before the {what}"))?;
    utf8_path(token)
}

/// A path as git printed it; Warden's paths are UTF-8.
fn utf8_path(bytes: &[u8]) -> Result<String, String> {
    String::from_utf8(bytes.to_vec()).map_err(|_| {
        format!(
            "the path `{}` is not UTF-8, which Warden's change model needs; rename the file",
            String::from_utf8_lossy(bytes)
        )
    })
}

/// The value of one attribute of one path, as `git check-attr` prints it: `set`,
/// `unset`, `unspecified`, or the value given.
pub type Attribute<'a> = (&'a str, &'a str, &'a str);

/// Reads `git check-attr -z`: `path NUL attribute NUL value NUL`, repeated.
pub fn attributes(output: &str) -> Result<Vec<Attribute<'_>>, String> {
    let fields: Vec<&str> = output.split_terminator('\0').collect();
    if !fields.len().is_multiple_of(3) {
        return Err(format!(
            "git printed {} fields, not path, attribute and value triples",
            fields.len()
        ));
    }
    Ok(fields
        .chunks_exact(3)
        .map(|triple| (triple[0], triple[1], triple[2]))
        .collect())
}

/// The patches of `git diff -p`, one per file, in the diff's order: each starts at a
/// `diff --git` line (lines of a hunk start with ` `, `+`, `-` or `\`, never with it).
pub fn patches(text: &str) -> Vec<&str> {
    let mut starts: Vec<usize> = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.starts_with("diff --git ") {
            starts.push(offset);
        }
        offset += line.len();
    }
    starts
        .iter()
        .enumerate()
        .map(|(i, &start)| &text[start..starts.get(i + 1).copied().unwrap_or(text.len())])
        .collect()
}

/// The kind of signature in a raw commit (`git cat-file commit`): `ssh`, `gpg` or
/// `x509`, from the armour of its `gpgsig` header; `None` when there is none.
pub fn signature_type(raw_commit: &str) -> Option<&'static str> {
    let headers = raw_commit.split("\n\n").next().unwrap_or_default();
    let armour = headers.lines().find_map(|line| {
        line.strip_prefix("gpgsig ")
            .or_else(|| line.strip_prefix("gpgsig-sha256 "))
    })?;
    match armour.trim() {
        "-----BEGIN SSH SIGNATURE-----" => Some("ssh"),
        "-----BEGIN PGP SIGNATURE-----" | "-----BEGIN PGP MESSAGE-----" => Some("gpg"),
        "-----BEGIN SIGNED MESSAGE-----" => Some("x509"),
        _ => None,
    }
}

/// `owner/name` from a remote URL: `git@github.com:owner/name.git`,
/// `ssh://git@host:22/owner/name.git`, `https://host/group/sub/name`, … — the path
/// after the host, without `.git`.
pub fn repository_name(url: &str) -> Option<String> {
    let url = url.trim();
    let path = if let Some((_, rest)) = url.split_once("://") {
        rest.split_once('/')?.1
    } else {
        // scp-like `[user@]host:path`; a local path has no `:` before its first `/`.
        let (host, path) = url.split_once(':')?;
        if host.contains('/') {
            return None;
        }
        path
    };
    let path = path.trim_matches('/');
    let path = path
        .strip_suffix(".git")
        .unwrap_or(path)
        .trim_end_matches('/');
    let (owner, name) = path.rsplit_once('/')?;
    (!owner.is_empty() && !name.is_empty()).then(|| path.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn repository_names_from_remote_urls() {
        for (url, name) in [
            ("git@github.com:acme/shop.git", Some("acme/shop")),
            ("https://github.com/acme/shop", Some("acme/shop")),
            ("https://github.com/acme/shop.git/", Some("acme/shop")),
            (
                "ssh://git@gitlab.example:2222/g/sub/shop.git",
                Some("g/sub/shop"),
            ),
            ("https://token@gitlab.example/g/shop.git", Some("g/shop")),
            ("/srv/git/shop.git", None),
            ("https://github.com/shop", None),
        ] {
            assert_eq!(repository_name(url).as_deref(), name, "{url}");
        }
    }

    #[test]
    fn a_rename_and_a_binary_file_in_the_raw_diff() {
        let output = b":100644 100644 1 1 R086\0a\0b\0:000000 100644 0 2 A\0logo.png\0\
3\t1\t\0a\0b\0-\t-\tlogo.png\0";
        let files = diff(output).unwrap();
        assert_eq!(files[0].previous_path.as_deref(), Some("a"));
        assert_eq!(files[0].lines, Some((3, 1)));
        assert_eq!(files[1].status, FileStatus::Added);
        assert_eq!(files[1].lines, None);
        assert!(diff(b":100644 100644 1 1 U\0a\0").is_err());
        assert!(diff(b":100644 100644 1 1 M\0a\x001\t1\tb\0").is_err());
    }
}
