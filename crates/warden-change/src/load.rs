//! Reading change and fact files: parsing with JSON paths in errors, unknown fields as
//! warnings, merging facts into the change, and validating the result.
//!
//! The pipeline is [`parse_change`], then [`Change::merge_facts`] for each fact file,
//! then [`Change::validate`]; any error rejects the input whole.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;

use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;

use crate::locate;
use crate::model::{Change, ChangeKind, FactKey, Facts, Ids};
use crate::strict::{Context, Strict, UNKNOWN_FIELD};
use crate::time::time_zone;

/// A parsed input and what was noticed but not fatal.
#[derive(Clone, Debug)]
pub struct Loaded<T> {
    pub value: T,
    pub warnings: Vec<InputWarning>,
}

/// Something in the input that is ignored, such as an unknown field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputWarning {
    /// JSON path, e.g. `$.files[2].addition`.
    pub path: String,
    /// A lowercase sentence.
    pub message: String,
}

impl fmt::Display for InputWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Input that does not fit the change model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    /// JSON path, e.g. `$.files[2].additions` (`$` for the whole document).
    pub path: String,
    /// A lowercase sentence: what was expected and what was found.
    pub message: String,
    /// 1-based line of the offending JSON; 0 when unknown (errors found after parsing).
    pub line: usize,
    /// 1-based column; 0 when unknown.
    pub column: usize,
}

impl InputError {
    /// An error found after parsing, without a position.
    pub fn at(path: impl Into<String>, message: impl Into<String>) -> InputError {
        InputError {
            path: path.into(),
            message: message.into(),
            line: 0,
            column: 0,
        }
    }
}

/// `path: message (line:column)`, or `path: message` without a position.
impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)?;
        if self.line > 0 {
            write!(f, " ({}:{})", self.line, self.column)?;
        }
        Ok(())
    }
}

impl std::error::Error for InputError {}

/// What to do with a field the change model does not have.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum UnknownFields {
    /// An error, at the field (the default): a misspelt `files` would otherwise read as
    /// a change of no files.
    #[default]
    Reject,
    /// Ignored, with a warning naming it (`--allow-unknown-fields`), for producers that
    /// add fields of their own.
    Warn,
}

/// Parses a change description (`schema: "warden.change/v1"`).
///
/// Facts given inline are kept; merge fact files with [`Change::merge_facts`] and then
/// call [`Change::validate`].
pub fn parse_change(json: &str, unknown: UnknownFields) -> Result<Loaded<Change>, InputError> {
    parse(json, unknown)
}

/// Parses a fact file (`principals`, `services`, `calendar`).
///
/// With [`UnknownFields::Warn`], a file that gives no facts but has unknown fields is
/// still rejected rather than merged with warnings: it is a misspelt key (`principal`)
/// or the wrong file (a change), and evaluating without the facts it was meant to give
/// could let a change through.
pub fn parse_facts(json: &str, unknown: UnknownFields) -> Result<Loaded<Facts>, InputError> {
    let loaded: Loaded<Facts> = parse(json, unknown)?;
    let facts = &loaded.value;
    let no_facts =
        facts.principals.is_empty() && facts.services.is_empty() && facts.calendar.is_none();
    if no_facts && !loaded.warnings.is_empty() {
        const SHOWN: usize = 3;
        let unknown: Vec<String> = loaded
            .warnings
            .iter()
            .take(SHOWN)
            .map(|w| format!("`{}`", w.path))
            .collect();
        let mut listed = unknown.join(", ");
        if loaded.warnings.len() > SHOWN {
            listed.push_str(&format!(" and {} more", loaded.warnings.len() - SHOWN));
        }
        return Err(InputError::at(
            "$",
            format!(
                "expected facts (`principals`, `services` or `calendar`), found none, \
                 only unknown fields ({listed}): is this a fact file?"
            ),
        ));
    }
    Ok(loaded)
}

fn parse<T: DeserializeOwned>(json: &str, unknown: UnknownFields) -> Result<Loaded<T>, InputError> {
    // The fast parse tracks nothing: not the JSON path of every value (that halves the
    // parsing speed), nor the path of skipped fields. Input with unknown fields is
    // parsed again to name them in warnings (or reject the first), and failing input
    // to say where it fails.
    let context = Context::default();
    let mut deserializer = serde_json::Deserializer::from_str(json);
    let fast = T::deserialize(Strict(&mut deserializer, &context))
        .and_then(|value| deserializer.end().map(|()| value));
    match fast {
        Ok(value) if !context.skipped.get() => Ok(Loaded {
            value,
            warnings: Vec::new(),
        }),
        Ok(_) if unknown == UnknownFields::Warn => parse_noting_skipped(json),
        _ => parse_tracking_paths(json, unknown),
    }
}

/// The parse for input with unknown fields: the same, naming each skipped field.
fn parse_noting_skipped<T: DeserializeOwned>(json: &str) -> Result<Loaded<T>, InputError> {
    let mut warnings = Vec::new();
    let context = Context::default();
    let mut deserializer = serde_json::Deserializer::from_str(json);
    let parsed: Result<T, _> =
        serde_ignored::deserialize(Strict(&mut deserializer, &context), |path| {
            warnings.push(ignored_warning(&path));
        });
    match parsed {
        Ok(value) if deserializer.end().is_ok() => Ok(Loaded { value, warnings }),
        _ => parse_tracking_paths(json, UnknownFields::Warn),
    }
}

fn ignored_warning(path: &serde_ignored::Path<'_>) -> InputWarning {
    let (path, field) = ignored_path(path);
    InputWarning {
        path,
        message: match field {
            Some(field) => format!("unknown field {}, ignored", quote_key(&field)),
            None => "unknown value, ignored".to_owned(),
        },
    }
}

/// The slow parse that knows where it is, for an error message with a JSON path; it
/// rejects the first unknown field unless they are allowed.
fn parse_tracking_paths<T: DeserializeOwned>(
    json: &str,
    unknown: UnknownFields,
) -> Result<Loaded<T>, InputError> {
    let mut warnings = Vec::new();
    let mut deserializer = serde_json::Deserializer::from_str(json);
    let result = match unknown {
        UnknownFields::Reject => {
            let context = Context::rejecting_unknown();
            serde_path_to_error::deserialize(Strict(&mut deserializer, &context)).map_err(|error| {
                match unknown_field(json, &error, &context) {
                    Some(error) => error,
                    None => located_error(json, &error),
                }
            })
        }
        UnknownFields::Warn => {
            let context = Context::default();
            let mut on_ignored =
                |path: serde_ignored::Path<'_>| warnings.push(ignored_warning(&path));
            serde_path_to_error::deserialize(serde_ignored::Deserializer::new(
                Strict(&mut deserializer, &context),
                &mut on_ignored,
            ))
            .map_err(|error| located_error(json, &error))
        }
    };
    let value = result?;
    if let Err(error) = deserializer.end() {
        return Err(json_error(json, "$".to_owned(), &error));
    }
    Ok(Loaded { value, warnings })
}

type PathError = serde_path_to_error::Error<serde_json::Error>;

/// The error for the unknown field [`Strict`] rejected, at the field's name; `None`
/// for any other error.
fn unknown_field(json: &str, error: &PathError, context: &Context) -> Option<InputError> {
    if bare_message(error.inner()) != UNKNOWN_FIELD {
        return None;
    }
    let segments: Vec<Segment> = error.path().iter().cloned().collect();
    let Some(Segment::Map { key }) = segments.last() else {
        return None;
    };
    let hint = "`--allow-unknown-fields` ignores unknown fields";
    let message = match warden_syntax::suggest(key, context.fields.get().iter().copied()) {
        Some(field) => format!(
            "unknown field {}, did you mean `{field}`? ({hint})",
            quote_key(key)
        ),
        None => format!("unknown field {} ({hint})", quote_key(key)),
    };
    let place = locate::key_place(json, &segments);
    Some(InputError {
        path: render_path(error.path()),
        message,
        line: place.map_or(0, |p| p.line),
        column: place.map_or(0, |p| p.column),
    })
}

/// A parse error with its JSON path; a key given twice names both places.
fn located_error(json: &str, error: &PathError) -> InputError {
    let inner = error.inner();
    let raw = bare_message(inner);
    let field = raw
        .strip_prefix("duplicate field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(field, _)| field);
    let map_key = raw.starts_with("invalid entry: found duplicate key");
    if field.is_some() || map_key {
        let segments: Vec<Segment> = error.path().iter().cloned().collect();
        if let Some(duplicate) = locate::duplicate(json, &segments, field) {
            let mut path = render_path(error.path());
            push_key(&mut path, &duplicate.key);
            return InputError {
                path,
                message: format!(
                    "the key {} is given twice (first at {}); an object gives each key once",
                    quote_key(&duplicate.key),
                    duplicate.first
                ),
                line: duplicate.second.line,
                column: duplicate.second.column,
            };
        }
    }
    json_error(json, render_path(error.path()), inner)
}

/// serde_json's message without the position it appends (` at line 3 column 7`).
fn bare_message(error: &serde_json::Error) -> String {
    let mut raw = error.to_string();
    if let Some(end) = raw.rfind(" at line ")
        && error.line() > 0
    {
        raw.truncate(end);
    }
    raw
}

fn json_error(json: &str, path: String, error: &serde_json::Error) -> InputError {
    let raw = bare_message(error);
    let raw = raw.as_str();
    let syntax = matches!(
        error.classify(),
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof
    );
    if syntax && let Some((message, place)) = escape_error(raw, json, error) {
        return InputError {
            path,
            message,
            line: place.line,
            column: place.column,
        };
    }
    InputError {
        // A syntax error has no meaningful path beyond where the parser was.
        path,
        message: clean_message(raw, syntax),
        line: error.line(),
        column: error.column(),
    }
}

/// serde_json's escape errors, made precise (a lone surrogate is not an "unexpected
/// end of hex escape"), at the escape.
fn escape_error(
    raw: &str,
    json: &str,
    error: &serde_json::Error,
) -> Option<(String, locate::Place)> {
    let escape = matches!(
        raw,
        "invalid escape" | "lone leading surrogate in hex escape" | "unexpected end of hex escape"
    );
    if !escape {
        return None;
    }
    let (message, place) = locate::bad_escape(json, error.line(), error.column())?;
    Some((format!("invalid JSON: {message}"), place))
}

/// Rewrites serde's and serde_json's wording into one lowercase sentence.
fn clean_message(raw: &str, syntax: bool) -> String {
    if let Some(rest) = raw.strip_prefix("invalid type: ")
        && let Some((found, expected)) = rest.rsplit_once(", expected ")
    {
        let expected = expected_text(expected);
        // serde_json reads an integer beyond 64 bits as a float (`1e30`): say why it
        // does not fit rather than show a float the input never wrote.
        let too_large = found
            .strip_prefix("floating point `")
            .and_then(|n| n.strip_suffix('`'))
            .and_then(|n| n.parse::<f64>().ok())
            .is_some_and(|n| n.fract() == 0.0 && n.abs() >= 2f64.powi(63));
        if expected == "an integer" && too_large {
            return "expected an integer that fits in 64 bits, found a larger one".to_owned();
        }
        return format!("expected {expected}, found {}", found_text(found));
    }
    if let Some(rest) = raw.strip_prefix("invalid value: ")
        && let Some((found, expected)) = rest.rsplit_once(", expected ")
    {
        let expected = match expected_text(expected) {
            e if e == "an integer" => "an integer that fits in 64 bits".to_owned(),
            e => e,
        };
        return format!("expected {expected}, found {}", found_text(found));
    }
    if let Some(field) = raw.strip_prefix("missing field ") {
        return format!("missing required field {field}");
    }
    if let Some(field) = raw.strip_prefix("duplicate field ") {
        return format!("field {field} is given twice");
    }
    if let Some(rest) = raw.strip_prefix("unknown variant ") {
        if let Some((found, expected)) = rest.split_once(", expected ") {
            let expected = expected.strip_prefix("one of ").unwrap_or(expected);
            return format!("expected {}, found {found}", or_list(expected));
        }
        if let Some((found, _)) = rest.split_once(", there are no variants") {
            return format!("unexpected value {found}");
        }
    }
    let message = match raw {
        "recursion limit exceeded" => {
            return "the input is nested too deeply (more than 128 levels)".to_owned();
        }
        "EOF while parsing a value" => "unexpected end of input, expected a value",
        "EOF while parsing a list" => "unexpected end of input inside a list",
        "EOF while parsing an object" => "unexpected end of input inside an object",
        "EOF while parsing a string" => "unexpected end of input inside a string",
        "expected value" | "expected ident" => "expected a JSON value",
        "key must be a string" => "object keys must be strings",
        "trailing characters" => "unexpected characters after the end of the document",
        "trailing comma" => "trailing comma",
        "control character (\\u0000-\\u001F) found while parsing a string" => {
            "unescaped control character in a string"
        }
        other => other,
    };
    let message = lowercase_first(message);
    if syntax {
        format!("invalid JSON: {message}")
    } else {
        message
    }
}

/// `` `a`, `b`, `c` `` → `` `a`, `b` or `c` ``.
fn or_list(list: &str) -> String {
    match list.rsplit_once(", ") {
        Some((head, last)) => format!("{head} or {last}"),
        None => list.to_owned(),
    }
}

fn expected_text(expected: &str) -> String {
    match expected {
        "i8" | "i16" | "i32" | "i64" | "i128" | "u8" | "u16" | "u32" | "u64" | "u128" | "isize"
        | "usize" => "an integer".to_owned(),
        "f32" | "f64" => "a number".to_owned(),
        "a sequence" => "a list".to_owned(),
        "a map" => "an object".to_owned(),
        "a boolean" => "`true` or `false`".to_owned(),
        e if e.starts_with("struct ") => "an object".to_owned(),
        e if e.starts_with("enum ") || e == "variant identifier" => "a string".to_owned(),
        e => e.to_owned(),
    }
}

fn found_text(found: &str) -> String {
    if let Some(s) = found.strip_prefix("string ") {
        return format!("the string `{}`", truncate(s));
    }
    if let Some(n) = found.strip_prefix("integer ") {
        return format!("the integer {n}");
    }
    if let Some(n) = found.strip_prefix("floating point ") {
        return format!("the number {n}");
    }
    if let Some(b) = found.strip_prefix("boolean ") {
        return b.to_owned();
    }
    match found {
        "sequence" => "a list".to_owned(),
        "map" => "an object".to_owned(),
        "unit value" | "unit" | "null" => "null".to_owned(),
        other => other.to_owned(),
    }
}

fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

const MAX_QUOTED: usize = 60;

/// Cuts a long string for a message, at a character boundary.
fn truncate(s: &str) -> String {
    match s.char_indices().nth(MAX_QUOTED) {
        Some((end, _)) => format!("{}…", &s[..end]),
        None => s.to_owned(),
    }
}

/// A string value for a message: `` `"text"` `` (JSON-quoted, cut when long).
pub(crate) fn quote_str(s: &str) -> String {
    let quoted = serde_json::Value::from(s).to_string();
    format!("`{}`", truncate(&quoted))
}

/// A key for a message: `` `name` `` (cut when long).
fn quote_key(s: &str) -> String {
    format!("`{}`", truncate(s))
}

/// `$.files[2].additions`; keys that are not plain names are quoted (`$.principals["renovate[bot]"]`).
fn render_path(path: &serde_path_to_error::Path) -> String {
    let mut out = String::from("$");
    for segment in path.iter() {
        match segment {
            serde_path_to_error::Segment::Seq { index } => push_index(&mut out, *index),
            serde_path_to_error::Segment::Map { key } => push_key(&mut out, key),
            // Unknown: inside a value that failed to parse as JSON; stop at its parent.
            serde_path_to_error::Segment::Enum { .. } | serde_path_to_error::Segment::Unknown => {}
        }
    }
    out
}

/// The rendered path of an ignored value, and its field name when it is a field.
fn ignored_path(path: &serde_ignored::Path<'_>) -> (String, Option<String>) {
    fn walk(path: &serde_ignored::Path<'_>, out: &mut String) {
        match path {
            serde_ignored::Path::Root => out.push('$'),
            serde_ignored::Path::Seq { parent, index } => {
                walk(parent, out);
                push_index(out, *index);
            }
            serde_ignored::Path::Map { parent, key } => {
                walk(parent, out);
                push_key(out, key);
            }
            serde_ignored::Path::Some { parent }
            | serde_ignored::Path::NewtypeStruct { parent }
            | serde_ignored::Path::NewtypeVariant { parent } => walk(parent, out),
        }
    }
    let mut out = String::new();
    walk(path, &mut out);
    let field = match path {
        serde_ignored::Path::Map { key, .. } => Some(key.clone()),
        _ => None,
    };
    (out, field)
}

fn push_index(out: &mut String, index: usize) {
    out.push('[');
    out.push_str(&index.to_string());
    out.push(']');
}

pub(crate) fn push_key(out: &mut String, key: &str) {
    let plain = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if plain {
        out.push('.');
        out.push_str(key);
    } else {
        out.push('[');
        out.push_str(&serde_json::Value::from(key).to_string());
        out.push(']');
    }
}

pub(crate) fn key_path(prefix: &str, key: &str) -> String {
    let mut out = prefix.to_owned();
    push_key(&mut out, key);
    out
}

const INLINE: &str = "the change";

impl Change {
    /// Merges a fact file into the change. `source` names the file in messages.
    ///
    /// A principal, service or freeze defined again with the same contents is fine; with
    /// different contents it is an error naming both sources, and nothing is merged.
    pub fn merge_facts(&mut self, facts: Facts, source: &str) -> Result<(), InputError> {
        let origin = |origins: &indexmap::IndexMap<FactKey, String>, key: FactKey| {
            origins
                .get(&key)
                .cloned()
                .unwrap_or_else(|| INLINE.to_owned())
        };
        for (id, principal) in &facts.principals {
            if let Some(existing) = self.principals.get(id)
                && existing != principal
            {
                let first = origin(&self.origins, FactKey::Principal(id.clone()));
                return Err(InputError::at(
                    key_path("$.principals", id),
                    format!(
                        "principal {} is defined differently in {first} and in {source}",
                        quote_key(id)
                    ),
                ));
            }
        }
        for (name, service) in &facts.services {
            if let Some(existing) = self.services.get(name)
                && existing != service
            {
                let first = origin(&self.origins, FactKey::Service(name.clone()));
                return Err(InputError::at(
                    key_path("$.services", name),
                    format!(
                        "service {} is defined differently in {first} and in {source}",
                        quote_key(name)
                    ),
                ));
            }
        }
        let freezes = facts
            .calendar
            .as_ref()
            .map(|c| c.freezes.as_slice())
            .unwrap_or_default();
        let existing_freezes = self
            .calendar
            .as_ref()
            .map(|c| c.freezes.as_slice())
            .unwrap_or_default();
        for (index, freeze) in freezes.iter().enumerate() {
            // Also catches the same name twice within this file.
            let earlier = existing_freezes.iter().chain(&freezes[..index]);
            if let Some(conflict) = earlier
                .into_iter()
                .find(|f| f.name == freeze.name && *f != freeze)
            {
                let first = if freezes[..index].iter().any(|f| std::ptr::eq(f, conflict)) {
                    source.to_owned()
                } else {
                    origin(&self.origins, FactKey::Freeze(freeze.name.clone()))
                };
                return Err(InputError::at(
                    format!("$.calendar.freezes[{index}]"),
                    format!(
                        "freeze {} is defined differently in {first} and in {source}",
                        quote_key(&freeze.name)
                    ),
                ));
            }
        }

        for (id, principal) in facts.principals {
            if !self.principals.contains_key(&id) {
                self.origins
                    .insert(FactKey::Principal(id.clone()), source.to_owned());
                self.principals.insert(id, principal);
            }
        }
        for (name, service) in facts.services {
            if !self.services.contains_key(&name) {
                self.origins
                    .insert(FactKey::Service(name.clone()), source.to_owned());
                self.services.insert(name, service);
            }
        }
        if let Some(calendar) = facts.calendar {
            let mine = self.calendar.get_or_insert_with(Default::default);
            for freeze in calendar.freezes {
                if !mine.freezes.contains(&freeze) {
                    self.origins
                        .entry(FactKey::Freeze(freeze.name.clone()))
                        .or_insert_with(|| source.to_owned());
                    mine.freezes.push(freeze);
                }
            }
        }
        Ok(())
    }

    /// Checks what the types alone cannot: the fields a kind needs, numbers in range,
    /// time zones that exist. Call it after merging the facts; any error rejects the
    /// change.
    pub fn validate(&self) -> Vec<InputError> {
        let mut errors = Errors(Vec::new());
        let kind = self.kind.as_str();
        // The lists a kind of change must give, even empty: a producer that left one
        // out (or misspelt it) would otherwise be read as a change of no files, no
        // commits, no services deployed… and rules about them would let it through.
        let required: &[(&str, bool)] = match self.kind {
            ChangeKind::PullRequest => &[
                ("labels", self.labels.is_given()),
                ("files", self.files.is_given()),
                ("commits", self.commits.is_given()),
                ("reviews", self.reviews.is_given()),
            ],
            ChangeKind::CommitRange => &[
                ("files", self.files.is_given()),
                ("commits", self.commits.is_given()),
            ],
            ChangeKind::Deployment => &[],
        };
        for (field, given) in required {
            if !given {
                errors.push(
                    format!("$.{field}"),
                    format!("a {kind} change needs `{field}`, a list (`[]` when there are none)"),
                );
            }
        }
        match self.kind {
            ChangeKind::Deployment => match &self.deployment {
                None => errors.push(
                    "$.deployment",
                    "a deployment change needs `deployment`".into(),
                ),
                Some(deployment) => {
                    for (field, given) in [
                        ("services", deployment.services.is_given()),
                        ("plan", deployment.plan.is_given()),
                    ] {
                        if !given {
                            errors.push(
                                format!("$.deployment.{field}"),
                                format!(
                                    "a deployment needs `{field}`, a list (`[]` when there are none)"
                                ),
                            );
                        }
                    }
                }
            },
            ChangeKind::PullRequest | ChangeKind::CommitRange => {
                if self.revisions.is_none() {
                    errors.push(
                        "$.revisions",
                        format!("a {kind} change needs `revisions` (`base` and `head`)"),
                    );
                }
                if self.deployment.is_some() {
                    errors.push(
                        "$.deployment",
                        format!("only a deployment change has `deployment`, this is a {kind}"),
                    );
                }
            }
        }
        // A file or commit listed twice would be counted twice (lines, approvals after
        // the last push): such input is ambiguous, so it is rejected.
        let mut paths = FirstSeen::with_capacity(self.files.len());
        for (i, file) in self.files.iter().enumerate() {
            errors.non_negative(|| format!("$.files[{i}].additions"), file.additions);
            errors.non_negative(|| format!("$.files[{i}].deletions"), file.deletions);
            if let Some(first) = paths.repeat(&file.path, i) {
                errors.push(
                    format!("$.files[{i}].path"),
                    format!(
                        "the file {} is listed twice (first at `$.files[{first}]`); a change lists each file once",
                        quote_str(&file.path)
                    ),
                );
            }
        }
        let mut shas = FirstSeen::with_capacity(self.commits.len());
        for (i, commit) in self.commits.iter().enumerate() {
            if let Some(first) = shas.repeat(&commit.sha, i) {
                errors.push(
                    format!("$.commits[{i}].sha"),
                    format!(
                        "the commit {} is listed twice (first at `$.commits[{first}]`); a change lists each commit once",
                        quote_str(&commit.sha)
                    ),
                );
            }
        }
        errors.non_negative(|| "$.threads.unresolved".into(), self.threads.unresolved);
        for (i, wave) in self.deployment.iter().flat_map(|d| &d.plan).enumerate() {
            let at = format!("$.deployment.plan[{i}]");
            errors.non_negative(|| format!("{at}.wave"), wave.wave);
            errors.non_negative(|| format!("{at}.bake_minutes"), wave.bake_minutes);
            if let Some(cells) = wave.cells {
                errors.non_negative(|| format!("{at}.cells"), cells);
            }
            if !(0..=100).contains(&wave.traffic_percent) {
                errors.push(
                    format!("{at}.traffic_percent"),
                    format!(
                        "expected a percentage from 0 to 100, found {}",
                        wave.traffic_percent
                    ),
                );
            }
        }
        for (id, principal) in &self.principals {
            if let Some(level) = principal.level {
                errors.non_negative(|| format!("{}.level", key_path("$.principals", id)), level);
            }
            if let Some(zone) = &principal.timezone
                && time_zone(zone).is_none()
            {
                errors.push(
                    format!("{}.timezone", key_path("$.principals", id)),
                    unknown_zone(zone),
                );
            }
        }
        for (name, service) in &self.services {
            let at = key_path("$.services", name);
            errors.non_negative(|| format!("{at}.tier"), service.tier);
            if time_zone(&service.timezone).is_none() {
                errors.push(format!("{at}.timezone"), unknown_zone(&service.timezone));
            }
        }
        for (i, freeze) in self.calendar.iter().flat_map(|c| &c.freezes).enumerate() {
            let at = format!("$.calendar.freezes[{i}]");
            if freeze.end <= freeze.start {
                errors.push(
                    format!("{at}.end"),
                    format!(
                        "freeze {} must end after it starts, but it starts at {} and ends at {}",
                        quote_key(&freeze.name),
                        freeze.start,
                        freeze.end
                    ),
                );
            }
            for (j, tier) in freeze.scope.tiers.iter().enumerate() {
                errors.non_negative(|| format!("{at}.scope.tiers[{j}]"), *tier);
            }
        }
        errors.0
    }
}

struct Errors(Vec<InputError>);

/// The index at which each key of a list was first seen.
struct FirstSeen<'c>(HashMap<&'c str, usize, Ids>);

impl<'c> FirstSeen<'c> {
    fn with_capacity(capacity: usize) -> Self {
        FirstSeen(HashMap::with_capacity_and_hasher(capacity, Ids::default()))
    }

    /// Records `key` at `index`; the index of its first occurrence when it was seen before.
    fn repeat(&mut self, key: &'c str, index: usize) -> Option<usize> {
        match self.0.entry(key) {
            Entry::Occupied(first) => Some(*first.get()),
            Entry::Vacant(slot) => {
                slot.insert(index);
                None
            }
        }
    }
}

impl Errors {
    fn push(&mut self, path: impl Into<String>, message: String) {
        self.0.push(InputError::at(path, message));
    }

    /// The path is only formatted for a negative value: thousands of files are checked.
    fn non_negative(&mut self, path: impl FnOnce() -> String, value: i64) {
        if value < 0 {
            self.push(path(), format!("expected 0 or more, found {value}"));
        }
    }
}

fn unknown_zone(zone: &str) -> String {
    format!(
        "unknown time zone {}; expected an IANA name like `America/Los_Angeles` or an offset like `+05:30`",
        quote_str(zone)
    )
}
