//! `CODEOWNERS` (GitHub and GitLab syntax): who owns each changed file.
//!
//! A line is a pattern and its owners; the last pattern that matches a file gives its
//! owners, and a pattern without owners leaves the file unowned. Patterns follow
//! gitignore as GitHub reads it: a leading `/` anchors at the root, a trailing `/`
//! matches what is below a directory, `*` stays within a path segment, `**` crosses
//! them, a pattern also matches everything below a directory it names (except one
//! ending in `/*`, which matches only the files directly inside), and `\` escapes.
//! GitLab adds sections (`[Name]`, optional `^[Name]`, `[Name][2]` approvals, default
//! owners after the heading) and exclusions (`!pattern`): each section gives the owners
//! of its own last matching pattern, and a file's owners are those of every required
//! section. A file is read with GitLab's rules when it has a section or an exclusion,
//! or lies in a `.gitlab` directory; then a pattern without a leading `/` matches at
//! any depth even when it has a `/` inside (GitHub anchors `docs/api` at the root).
//!
//! Owners become the names policies use: `@org/team` → `team` (`@group/sub/team` →
//! `sub/team`: the organisation, or top-level group, is dropped, as a team's name is
//! unique within it), `@user` → `user`, an e-mail address and a GitLab role (`@@role`)
//! as written. A line that is not a pattern with owners is an error naming the line.

use std::path::Path;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use warden_change::Change;

use crate::{SourceError, read};

/// A parsed `CODEOWNERS` file.
#[derive(Clone, Debug)]
pub struct Codeowners {
    /// The unnamed section (lines before the first heading) first, then each named
    /// section once (names are case-insensitive; a name given twice is one section).
    sections: Vec<Section>,
}

#[derive(Clone, Debug)]
struct Section {
    /// Optional when every heading of the section says so (`^[Name]`).
    optional: bool,
    /// Each rule's owners, in file order; a rule's globs are in `globs`.
    rules: Vec<Vec<String>>,
    /// Glob index → the rule it belongs to.
    rule_of_glob: Vec<usize>,
    globs: GlobSet,
    /// GitLab's `!pattern`s: a file they match has no owners from this section.
    exclusions: GlobSet,
}

/// A section while the file is read.
struct Draft {
    /// Lowercased, to combine headings that differ only in case.
    key: String,
    optional: bool,
    rules: Vec<(Vec<String>, Vec<String>)>,
    exclusions: Vec<String>,
}

/// A line, taken apart.
enum Line<'t> {
    Heading {
        name: &'t str,
        optional: bool,
        owners: Vec<&'t str>,
    },
    Rule {
        pattern: &'t str,
        owners: Vec<&'t str>,
    },
    Exclusion {
        pattern: &'t str,
    },
}

impl Codeowners {
    /// Reads and parses a `CODEOWNERS` file.
    pub fn read(path: &Path) -> Result<Codeowners, SourceError> {
        let text =
            read::read_file(path).map_err(|message| SourceError::new(path.display(), message))?;
        let in_gitlab_directory = path
            .parent()
            .and_then(Path::file_name)
            .is_some_and(|name| name == ".gitlab");
        Codeowners::parse(&path.display().to_string(), &text, in_gitlab_directory)
    }

    /// Parses the text of a `CODEOWNERS` file named `name` in errors; `gitlab` says it
    /// is GitLab's even without a section or an exclusion.
    fn parse(name: &str, text: &str, gitlab: bool) -> Result<Codeowners, SourceError> {
        let mut lines = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let number = index + 1;
            let error = |message: String| SourceError::new(format!("{name}:{number}"), message);
            if let Some(parsed) = parse_line(line).map_err(error)? {
                lines.push((number, parsed));
            }
        }
        let gitlab = gitlab
            || lines
                .iter()
                .any(|(_, line)| !matches!(line, Line::Rule { .. }));

        let mut drafts = vec![Draft::new(String::new(), false)];
        let mut current = 0;
        let mut defaults: Vec<String> = Vec::new();
        for (number, line) in lines {
            let error = |message: String| SourceError::new(format!("{name}:{number}"), message);
            match line {
                Line::Heading {
                    name,
                    optional,
                    owners,
                } => {
                    defaults = owners_of(&owners).map_err(error)?;
                    let key = name.to_lowercase();
                    current = match drafts.iter().position(|d| d.key == key) {
                        Some(index) => {
                            // Required if any of its headings is.
                            drafts[index].optional &= optional;
                            index
                        }
                        None => {
                            drafts.push(Draft::new(key, optional));
                            drafts.len() - 1
                        }
                    };
                }
                Line::Rule { pattern, owners } => {
                    let globs = pattern_globs(pattern, gitlab).map_err(error)?;
                    let owners = if owners.is_empty() && current != 0 {
                        defaults.clone()
                    } else {
                        owners_of(&owners).map_err(error)?
                    };
                    drafts[current].rules.push((globs, owners));
                }
                Line::Exclusion { pattern } => {
                    let globs = pattern_globs(pattern, gitlab).map_err(error)?;
                    drafts[current].exclusions.extend(globs);
                }
            }
        }
        let sections = drafts
            .into_iter()
            .map(|draft| Section::build(draft).map_err(|message| SourceError::new(name, message)))
            .collect::<Result<_, _>>()?;
        Ok(Codeowners { sections })
    }

    /// The owners of `path`: those of its last matching rule in each required section,
    /// without duplicates, in section order.
    pub fn owners(&self, path: &str) -> Vec<String> {
        let mut owners: Vec<String> = Vec::new();
        for section in &self.sections {
            if section.optional || section.exclusions.is_match(path) {
                continue;
            }
            let last = section
                .globs
                .matches(path)
                .into_iter()
                .map(|glob| section.rule_of_glob[glob])
                .max();
            for owner in last.into_iter().flat_map(|rule| &section.rules[rule]) {
                if !owners.contains(owner) {
                    owners.push(owner.clone());
                }
            }
        }
        owners
    }

    /// Adds to each file's `owners` those of its path and of its previous path (a file
    /// moved out of an owned directory still concerns its owners), keeping the owners
    /// the change already gave: sorted, without duplicates.
    pub fn assign(&self, change: &mut Change) -> Result<(), SourceError> {
        for file in change.files.iter_mut() {
            let mut owners = std::mem::take(&mut file.owners);
            owners.extend(self.owners(&file.path));
            if let Some(previous) = &file.previous_path {
                owners.extend(self.owners(previous));
            }
            owners.sort();
            owners.dedup();
            file.owners = owners;
        }
        Ok(())
    }
}

impl Draft {
    fn new(key: String, optional: bool) -> Draft {
        Draft {
            key,
            optional,
            rules: Vec::new(),
            exclusions: Vec::new(),
        }
    }
}

impl Section {
    fn build(draft: Draft) -> Result<Section, String> {
        let mut globs = GlobSetBuilder::new();
        let mut rule_of_glob = Vec::new();
        let mut rules = Vec::with_capacity(draft.rules.len());
        for (index, (patterns, owners)) in draft.rules.into_iter().enumerate() {
            for pattern in patterns {
                globs.add(glob(&pattern)?);
                rule_of_glob.push(index);
            }
            rules.push(owners);
        }
        let mut exclusions = GlobSetBuilder::new();
        for pattern in &draft.exclusions {
            exclusions.add(glob(pattern)?);
        }
        Ok(Section {
            optional: draft.optional,
            rules,
            rule_of_glob,
            globs: globs.build().map_err(|e| e.to_string())?,
            exclusions: exclusions.build().map_err(|e| e.to_string())?,
        })
    }
}

/// Takes a line apart; `None` for a blank line or a comment.
fn parse_line(line: &str) -> Result<Option<Line<'_>>, String> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let (optional, heading) = match line.strip_prefix('^') {
        Some(rest) if rest.starts_with('[') => (true, Some(rest)),
        _ if line.starts_with('[') => (false, Some(line)),
        _ => (false, None),
    };
    if let Some(heading) = heading {
        return parse_heading(heading, optional).map(Some);
    }
    let mut words = words(line);
    let Some(pattern) = words.next() else {
        return Ok(None);
    };
    let owners: Vec<&str> = words.collect();
    if let Some(pattern) = pattern.strip_prefix('!') {
        if !owners.is_empty() {
            return Err(format!(
                "an exclusion (`!{pattern}`) takes no owners, but `{}` follows it",
                owners.join(" ")
            ));
        }
        return Ok(Some(Line::Exclusion { pattern }));
    }
    Ok(Some(Line::Rule { pattern, owners }))
}

/// `[Name]`, `[Name][2]`, then default owners; `text` starts at `[`.
fn parse_heading(text: &str, optional: bool) -> Result<Line<'_>, String> {
    let Some((name, mut rest)) = text[1..].split_once(']') else {
        return Err(format!(
            "the section heading `{text}` has no `]`; write `[Section name]`"
        ));
    };
    let name = name.trim();
    if name.is_empty() {
        return Err("a section heading needs a name: `[Section name]`".to_owned());
    }
    if let Some(count) = rest.strip_prefix('[') {
        let Some((count, after)) = count.split_once(']') else {
            return Err(format!(
                "the approval count of section `{name}` has no `]`; write `[{name}][2]`"
            ));
        };
        if count.parse::<u32>().map_or(true, |n| n == 0) {
            return Err(format!(
                "the approval count of section `{name}` is `{count}`, not a number of 1 or more"
            ));
        }
        rest = after;
    }
    if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
        return Err(format!(
            "unexpected `{rest}` after the heading of section `{name}`; owners follow it after a space"
        ));
    }
    Ok(Line::Heading {
        name,
        optional,
        owners: words(rest).collect(),
    })
}

/// The words of a line: split at whitespace not escaped by `\`, up to a word that
/// starts a comment (`#`).
fn words(line: &str) -> impl Iterator<Item = &str> {
    let mut rest = line;
    std::iter::from_fn(move || {
        rest = rest.trim_start();
        if rest.is_empty() {
            return None;
        }
        let mut end = rest.len();
        let mut escaped = false;
        for (index, c) in rest.char_indices() {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c.is_whitespace() {
                end = index;
                break;
            }
        }
        let (word, after) = rest.split_at(end);
        rest = after;
        Some(word)
    })
    .take_while(|word| !word.starts_with('#'))
}

/// The names policies use for the owners of a line.
fn owners_of(words: &[&str]) -> Result<Vec<String>, String> {
    words.iter().map(|word| owner(word)).collect()
}

fn owner(word: &str) -> Result<String, String> {
    let name_chars = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    if let Some(role) = word.strip_prefix("@@") {
        if name_chars(role) {
            return Ok(word.to_owned());
        }
    } else if let Some(name) = word.strip_prefix('@') {
        let segments: Vec<&str> = name.split('/').collect();
        if segments.iter().all(|s| name_chars(s)) {
            return Ok(match segments.split_first() {
                Some((_, team)) if !team.is_empty() => team.join("/"),
                _ => name.to_owned(),
            });
        }
    } else if let Some((local, domain)) = word.split_once('@')
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
    {
        return Ok(word.to_owned());
    }
    Err(format!(
        "`{word}` is not an owner: write `@user`, `@org/team` or an e-mail address \
         (a comment after the owners starts with `#`)"
    ))
}

/// The globs (Warden's syntax: `*` within a segment, `**` across) that together match
/// what a `CODEOWNERS` pattern matches.
fn pattern_globs(pattern: &str, gitlab: bool) -> Result<Vec<String>, String> {
    let (rooted, rest) = match pattern.strip_prefix('/') {
        Some(rest) => (true, rest),
        None => (false, pattern),
    };
    let (directory, rest) = match rest.strip_suffix('/') {
        Some(rest) => (true, rest),
        None => (false, rest),
    };
    if rest.is_empty() || rest.ends_with('/') || rest.starts_with('/') {
        return Err(format!(
            "`{pattern}` is not a file pattern: write `/dir/`, `*.ext`, `dir/**/name`, …"
        ));
    }
    // Character classes and alternatives are not CODEOWNERS syntax: literal text.
    let mut escaped = String::with_capacity(rest.len());
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                escaped.push(c);
                if let Some(next) = chars.next() {
                    escaped.push(next);
                }
            }
            '[' | ']' | '{' | '}' => {
                escaped.push('\\');
                escaped.push(c);
            }
            c => escaped.push(c),
        }
    }
    let anchored = rooted || (!gitlab && rest.contains('/'));
    let base = if anchored {
        escaped
    } else {
        format!("**/{escaped}")
    };
    // `/*` and `dir/*` match only the files directly inside (GitHub's example says
    // `docs/*` does not own `docs/build-app/troubleshooting.md`); a lone `*` is
    // everything, which `**/*` already is.
    let children_only = rest == "*" || rest.ends_with("/*");
    let globs = if directory {
        vec![format!("{base}/**")]
    } else if children_only || base.ends_with("**") {
        vec![base]
    } else {
        vec![format!("{base}/**"), base]
    };
    for pattern in &globs {
        glob(pattern)?;
    }
    Ok(globs)
}

/// A glob with the semantics of Warden's own (`*` does not cross `/`).
fn glob(pattern: &str) -> Result<globset::Glob, String> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|error| format!("`{pattern}` is not a valid pattern: {}", error.kind()))
}
