//! The common shapes of glob, answered by hash look-ups instead of an automaton.
//!
//! Most globs of a policy name a directory (`payments/**`), a directory's files of one
//! kind (`db/migrations/*.sql`, `services/a/**/*.proto`), a kind of file anywhere
//! (`**/*.tf`), a file name anywhere (`**/Dockerfile`), a directory name anywhere
//! (`**/migrations/**`) or one path. Each is a test on a path's parent directory, its
//! ancestors, its segments or its file name, so a policy's globs of these shapes become
//! tables keyed by those parts, and a path is matched with a few look-ups however many
//! globs there are (globset does the same with its strategies, Cedar's users with
//! precomputed projections). Every other pattern stays with the automaton.
//!
//! A pattern gets a shape only when its whole syntax is one of the forms below, read
//! from its source; the tests check each against globset's matcher.

/// What a pattern requires of the last segment of a path (its file name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Name {
    Any,
    /// Ends with this (non-empty, no `/`): `*.rs`.
    Suffix(Box<str>),
    /// Is exactly this (non-empty, no `/`).
    Exact(Box<str>),
}

impl Name {
    pub fn matches(&self, name: &str) -> bool {
        match self {
            Name::Any => true,
            Name::Suffix(suffix) => name.ends_with(&**suffix),
            Name::Exact(exact) => name == &**exact,
        }
    }
}

/// A pattern of a common shape. `dir` never ends with `/` (it may be empty: the root
/// of an absolute path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// One path: `a/b.txt`.
    Path(Box<str>),
    /// Below `dir`, at any depth, with a file name like `name`: `a/**`, `a/**/*.rs`,
    /// `a/**/BUILD`.
    Below { dir: Box<str>, name: Name },
    /// Directly in `dir` (`None`: the path has no `/`): `a/*.rs`, `a/*`, `*.md`.
    In { dir: Option<Box<str>>, name: Name },
    /// At any depth: `**/*.tf`, `**/Dockerfile`, `**`.
    Anywhere(Name),
    /// Below a directory of this name at any depth: `**/migrations/**`.
    BelowSegment(Box<str>),
}

impl Shape {
    /// The shape of a glob, from its source; `None` for any other form.
    pub fn of(glob: &str) -> Option<Shape> {
        use Token::*;
        let tokens = tokens(glob)?;
        Some(match tokens.as_slice() {
            [Literal(path)] => Shape::Path((*path).into()),
            [Everything] => Shape::Anywhere(Name::Any),
            [Literal(dir), Inside] => Shape::Below {
                dir: (*dir).into(),
                name: Name::Any,
            },
            [Literal(dir), Deeper, rest @ ..] => Shape::Below {
                dir: (*dir).into(),
                name: name(rest)?,
            },
            [Literal(dir), Star, rest @ ..] => {
                let dir = dir.strip_suffix('/')?;
                Shape::In {
                    dir: Some(dir.into()),
                    name: after_star(rest)?,
                }
            }
            [Star, rest @ ..] => Shape::In {
                dir: None,
                name: after_star(rest)?,
            },
            [AnyDir, Literal(segment), Inside] if !segment.contains('/') => {
                Shape::BelowSegment((*segment).into())
            }
            [AnyDir, rest @ ..] => Shape::Anywhere(name(rest)?),
            _ => return None,
        })
    }

    /// Whether the first path of a change the shape matches can be read from the
    /// change's index alone: the first file below a directory (`d/**`), directly in one
    /// (`d/*.rs`), with a name (`**/NAME`) or with an extension (`**/*.EXT`: a name
    /// ends with `.EXT`, `EXT` without a `.`, exactly when its text from its last `.`
    /// is `.EXT`).
    pub fn first_is_indexed(&self) -> bool {
        match self {
            Shape::Below {
                name: Name::Any, ..
            }
            | Shape::In { dir: Some(_), .. }
            | Shape::Anywhere(Name::Exact(_)) => true,
            Shape::Anywhere(Name::Suffix(suffix)) => {
                suffix.starts_with('.') && suffix.matches('.').count() == 1
            }
            _ => false,
        }
    }

    /// Whether the shape matches `path`.
    pub fn matches(&self, path: &str) -> bool {
        let (parent, name) = split(path);
        match self {
            Shape::Path(p) => path == &**p,
            Shape::Below { dir, name: n } => {
                path.strip_prefix(&**dir)
                    .is_some_and(|rest| rest.starts_with('/'))
                    && n.matches(name)
            }
            Shape::In { dir, name: n } => parent == dir.as_deref() && n.matches(name),
            Shape::Anywhere(n) => n.matches(name),
            Shape::BelowSegment(segment) => {
                parent.is_some_and(|parent| parent.split('/').any(|s| s == &**segment))
            }
        }
    }
}

/// A path's parent directory (`None` without a `/`) and its file name.
pub fn split(path: &str) -> (Option<&str>, &str) {
    match last(path, b'/') {
        Some(slash) => (path.get(..slash), path.get(slash + 1..).unwrap_or_default()),
        None => (None, path),
    }
}

/// The position of the last `byte` (ASCII) of `text`. Names are short: a plain loop
/// is quicker than a searcher.
pub fn last(text: &str, byte: u8) -> Option<usize> {
    text.bytes().rposition(|b| b == byte)
}

/// The file-name part after a `**/` or `/**/`: a name, or `*` and what follows it.
fn name(tokens: &[Token<'_>]) -> Option<Name> {
    match tokens {
        [Token::Literal(name)] if !name.contains('/') => Some(Name::Exact((*name).into())),
        [Token::Star, rest @ ..] => after_star(rest),
        _ => None,
    }
}

/// The rest of a file name after a `*`: nothing or a suffix.
fn after_star(tokens: &[Token<'_>]) -> Option<Name> {
    match tokens {
        [] => Some(Name::Any),
        [Token::Literal(suffix)] if !suffix.contains('/') => Some(Name::Suffix((*suffix).into())),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'g> {
    /// Characters matched as themselves (no wildcard, class, brace or escape).
    Literal(&'g str),
    /// `*` within a segment: `[^/]*`.
    Star,
    /// A leading `**/`: `(?:/?|.*/)`.
    AnyDir,
    /// `/**/` between two parts: `(?:/|/.*/)`. Only directly after a literal.
    Deeper,
    /// A trailing `/**`: `/.*`.
    Inside,
    /// The whole glob `**`: `.*`.
    Everything,
}

/// Splits a glob into the tokens above, or `None` if it has any other syntax (`?`,
/// classes, alternatives, escapes, a `**` that is not a whole segment).
fn tokens(glob: &str) -> Option<Vec<Token<'_>>> {
    if glob == "**" {
        return Some(vec![Token::Everything]);
    }
    let mut tokens = Vec::new();
    let mut rest = glob;
    if let Some(after) = rest.strip_prefix("**/") {
        tokens.push(Token::AnyDir);
        rest = after;
    }
    while !rest.is_empty() {
        let (token, after) = if let Some(after) = rest.strip_prefix("/**/") {
            (Token::Deeper, after)
        } else if rest == "/**" {
            (Token::Inside, "")
        } else if rest.starts_with("**") {
            return None;
        } else if let Some(after) = rest.strip_prefix('*') {
            (Token::Star, after)
        } else {
            // A literal ends at a wildcard or other syntax, or where a `/**` begins.
            let end = rest
                .char_indices()
                .find(|&(at, c)| {
                    matches!(c, '*' | '?' | '[' | ']' | '{' | '}' | '\\')
                        || rest.get(at..).is_some_and(|r| r.starts_with("/**"))
                })
                .map_or(rest.len(), |(at, _)| at);
            if end == 0 {
                return None;
            }
            (Token::Literal(rest.get(..end)?), rest.get(end..)?)
        };
        // `/**/` and `/**` follow a literal (a leading one is other syntax).
        if matches!(token, Token::Deeper | Token::Inside)
            && !matches!(tokens.last(), Some(Token::Literal(_)))
        {
            return None;
        }
        tokens.push(token);
        rest = after;
    }
    Some(tokens)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn name(exact: &str) -> Name {
        Name::Exact(exact.into())
    }

    fn suffix(suffix: &str) -> Name {
        Name::Suffix(suffix.into())
    }

    #[test]
    fn each_form_gets_its_shape() {
        let below = |dir: &str, name| Shape::Below {
            dir: dir.into(),
            name,
        };
        let within = |dir: Option<&str>, name| Shape::In {
            dir: dir.map(Into::into),
            name,
        };
        let cases = [
            ("a/b.txt", Some(Shape::Path("a/b.txt".into()))),
            ("Makefile", Some(Shape::Path("Makefile".into()))),
            ("payments/**", Some(below("payments", Name::Any))),
            ("a.b/c/**", Some(below("a.b/c", Name::Any))),
            ("/abs/**", Some(below("/abs", Name::Any))),
            ("a//**", Some(below("a/", Name::Any))),
            ("svc/**/*.proto", Some(below("svc", suffix(".proto")))),
            ("svc/**/BUILD", Some(below("svc", name("BUILD")))),
            ("svc/**/*", Some(below("svc", Name::Any))),
            (
                "db/migrations/*.sql",
                Some(within(Some("db/migrations"), suffix(".sql"))),
            ),
            ("docs/*", Some(within(Some("docs"), Name::Any))),
            ("/*.md", Some(within(Some(""), suffix(".md")))),
            ("*.md", Some(within(None, suffix(".md")))),
            ("*", Some(within(None, Name::Any))),
            ("**", Some(Shape::Anywhere(Name::Any))),
            ("**/", None),
            ("**/*", Some(Shape::Anywhere(Name::Any))),
            ("**/*.tf", Some(Shape::Anywhere(suffix(".tf")))),
            ("**/*.tar.gz", Some(Shape::Anywhere(suffix(".tar.gz")))),
            ("**/*_test", Some(Shape::Anywhere(suffix("_test")))),
            ("**/Dockerfile", Some(Shape::Anywhere(name("Dockerfile")))),
            (
                "**/migrations/**",
                Some(Shape::BelowSegment("migrations".into())),
            ),
            // Other syntax, or shapes not worth a table: the automaton.
            ("**/a/b/**", None),
            ("**/a/b", None),
            ("a/**/b/**", None),
            ("a/**/**/b", None),
            ("**/**", None),
            ("/**", None),
            ("/**/a", None),
            ("a**", None),
            ("a/**b", None),
            ("a/*b/c", None),
            ("a/*/b", None),
            ("a*b", None),
            ("*.rs/**", None),
            ("a/**/", None),
            ("src/?.rs", None),
            ("{a,b}/**", None),
            ("[ab]/**", None),
            ("a\\*b", None),
            ("a\nb", Some(Shape::Path("a\nb".into()))),
            ("", None),
        ];
        for (glob, shape) in cases {
            assert_eq!(Shape::of(glob), shape, "{glob:?}");
        }
    }

    /// globset's answer, as the checker configures it.
    fn reference(glob: &str) -> Option<globset::GlobMatcher> {
        let glob = globset::GlobBuilder::new(glob)
            .literal_separator(true)
            .build()
            .ok()?;
        Some(glob.compile_matcher())
    }

    /// Every string of at most `most` pieces, sorted, without repeats.
    fn sequences(pieces: &[&str], most: usize) -> Vec<String> {
        let mut all = vec![String::new()];
        for _ in 0..most {
            let longer: Vec<String> = all
                .iter()
                .flat_map(|s| pieces.iter().map(move |p| format!("{s}{p}")))
                .collect();
            all.extend(longer);
        }
        all.sort();
        all.dedup();
        all
    }

    /// Every glob of up to four pieces and every path of up to five: whenever a glob
    /// has a shape, the shape matches exactly the paths globset matches.
    #[test]
    fn every_small_glob_with_a_shape_matches_as_globset_does() {
        let globs = sequences(&["a", "b.c", ".", "/", "*", "**", "?"], 4);
        let paths = sequences(&["a", "b", ".", "/", "\n", "c"], 5);
        let mut shaped = 0;
        for glob in &globs {
            let Some(shape) = Shape::of(glob) else {
                continue;
            };
            let reference = reference(glob).unwrap();
            shaped += 1;
            for path in &paths {
                assert_eq!(
                    shape.matches(path),
                    reference.is_match(path),
                    "{glob:?} on {path:?}"
                );
            }
        }
        assert!(shaped > 200, "{shaped} globs with a shape");
    }
}
