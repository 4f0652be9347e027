//! Where something is in the JSON text, for the errors serde reports without a useful
//! position: an unknown field, a key given twice (both places), a bad string escape.
//!
//! Only the error path runs this: it reads the text again, borrowing raw values
//! (`serde_json::value::RawValue`) along the error's JSON path, so nothing is built.

use std::collections::HashMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_path_to_error::Segment;

/// A 1-based line and column (in bytes, as serde_json counts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Place {
    pub(crate) line: usize,
    pub(crate) column: usize,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

impl Place {
    fn of(json: &str, offset: usize) -> Place {
        let before = &json.as_bytes()[..offset.min(json.len())];
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |newline| newline + 1);
        Place {
            line: 1 + before.iter().filter(|&&b| b == b'\n').count(),
            column: offset - line_start + 1,
        }
    }

    /// The byte offset of a serde_json error position (the byte after the last one read).
    fn offset(json: &str, line: usize, column: usize) -> usize {
        let line_start = match line.checked_sub(2) {
            Some(newlines) => json
                .match_indices('\n')
                .nth(newlines)
                .map_or(0, |(newline, _)| newline + 1),
            None => 0,
        };
        (line_start + column).min(json.len())
    }
}

/// A key given twice in one object.
pub(crate) struct Duplicate {
    pub(crate) key: String,
    pub(crate) first: Place,
    pub(crate) second: Place,
}

/// The place of the last key of `path` (an object member), e.g. an unknown field.
pub(crate) fn key_place(json: &str, path: &[Segment]) -> Option<Place> {
    let (last, parent) = path.split_last()?;
    let Segment::Map { key } = last else {
        return None;
    };
    let object = value_at(json, parent)?;
    let (_, value) = entries(object)?.into_iter().find(|(k, _)| k == key)?;
    Some(Place::of(json, key_offset(json, value)?))
}

/// The first key given twice in the object at `path` (or in the nearest object on the
/// way to it); only `key` when given (serde names the field it saw twice).
pub(crate) fn duplicate(json: &str, path: &[Segment], key: Option<&str>) -> Option<Duplicate> {
    (0..=path.len()).rev().find_map(|depth| {
        let entries = entries(value_at(json, &path[..depth])?)?;
        // Linear in the object's size: it may be a map of many thousand principals.
        let mut seen: HashMap<&str, &RawValue> = HashMap::with_capacity(entries.len());
        entries.iter().find_map(|(k, second)| {
            if key.is_some_and(|key| key != k) {
                return None;
            }
            let first = seen.insert(k, second)?;
            Some(Duplicate {
                key: k.clone(),
                first: Place::of(json, key_offset(json, first)?),
                second: Place::of(json, key_offset(json, second)?),
            })
        })
    })
}

/// The value at `path`, as raw text borrowed from `json`.
fn value_at<'a>(json: &'a str, path: &[Segment]) -> Option<&'a RawValue> {
    let mut value: &RawValue = serde_json::from_str(json).ok()?;
    for segment in path {
        value = match segment {
            Segment::Map { key } => entries(value)?.into_iter().find(|(k, _)| k == key)?.1,
            Segment::Seq { index } => {
                let items: Vec<&RawValue> = serde_json::from_str(value.get()).ok()?;
                *items.get(*index)?
            }
            Segment::Enum { .. } | Segment::Unknown => return None,
        };
    }
    Some(value)
}

/// The members of a raw object in order, keys given twice included.
fn entries(object: &RawValue) -> Option<Vec<(String, &RawValue)>> {
    struct Entries;
    impl<'de> Visitor<'de> for Entries {
        type Value = Vec<(String, &'de RawValue)>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut entries = Vec::new();
            while let Some(entry) = map.next_entry()? {
                entries.push(entry);
            }
            Ok(entries)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
            Err(de::Error::custom("not an object"))
        }
    }
    let mut deserializer = serde_json::Deserializer::from_str(object.get());
    deserializer.deserialize_map(Entries).ok()
}

/// The offset of the opening quote of the key whose value is `value` (a slice of
/// `json`): back over `:` and spaces to the key's closing quote, then to the first
/// quote before it that no backslash escapes.
fn key_offset(json: &str, value: &RawValue) -> Option<usize> {
    let start = (value.get().as_ptr() as usize).checked_sub(json.as_ptr() as usize)?;
    let bytes = json.as_bytes().get(..start)?;
    let before_value = bytes.iter().rposition(|b| !b.is_ascii_whitespace())?;
    let colon = (bytes[before_value] == b':').then_some(before_value)?;
    let closing = bytes[..colon]
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())?;
    (0..closing).rev().find(|&i| {
        let backslashes = bytes[..i].iter().rev().take_while(|&&b| b == b'\\').count();
        bytes[i] == b'"' && backslashes % 2 == 0
    })
}

/// A precise message for serde_json's escape errors ("invalid escape", "lone leading
/// surrogate in hex escape", "unexpected end of hex escape"), which name the wrong
/// problem for some inputs: the escapes of the error's line are read again, and the
/// first bad one up to the error is described, at its place.
pub(crate) fn bad_escape(json: &str, line: usize, column: usize) -> Option<(String, Place)> {
    let end = Place::offset(json, line, column);
    let bytes = json.as_bytes();
    let line_start = bytes[..end]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |newline| newline + 1);
    let hex_at = |i: usize| -> Option<u16> {
        let digits = json.get(i..i + 4)?;
        digits
            .bytes()
            .all(|b| b.is_ascii_hexdigit())
            .then(|| u16::from_str_radix(digits, 16).ok())?
    };
    // Strings never span lines (a raw newline in one is an error), so the line
    // starts outside of any string.
    let mut in_string = false;
    let mut i = line_start;
    while i < end {
        match bytes[i] {
            b'"' => in_string = !in_string,
            b'\\' if in_string => {
                let place = Place::of(json, i);
                // The escape as written: the backslash and `len` characters.
                let shown = |len: usize| {
                    let end = json[i + 1..]
                        .char_indices()
                        .nth(len)
                        .map_or(json.len(), |(after, _)| i + 1 + after);
                    &json[i..end]
                };
                match bytes.get(i + 1) {
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 1,
                    Some(b'u') => match hex_at(i + 2) {
                        None => {
                            let digits = json[i + 2..]
                                .chars()
                                .take(4)
                                .take_while(|c| !matches!(c, '"' | '\\'))
                                .count();
                            return Some((
                                format!(
                                    "invalid escape `{}`: `\\u` takes four hex digits, as in `\\u00e9`",
                                    shown(1 + digits)
                                ),
                                place,
                            ));
                        }
                        Some(0xD800..=0xDBFF) => {
                            let paired = bytes.get(i + 6..i + 8) == Some(b"\\u")
                                && matches!(hex_at(i + 8), Some(0xDC00..=0xDFFF));
                            if !paired {
                                return Some((
                                    format!(
                                        "lone surrogate `{}`: a leading surrogate (`\\ud800`–`\\udbff`) must be followed by a trailing one (`\\udc00`–`\\udfff`), as in `\\ud83d\\ude00`; or write the character itself",
                                        shown(5)
                                    ),
                                    place,
                                ));
                            }
                            i += 11;
                        }
                        Some(0xDC00..=0xDFFF) => {
                            return Some((
                                format!(
                                    "lone surrogate `{}`: a trailing surrogate (`\\udc00`–`\\udfff`) must follow a leading one (`\\ud800`–`\\udbff`), as in `\\ud83d\\ude00`; or write the character itself",
                                    shown(5)
                                ),
                                place,
                            ));
                        }
                        Some(_) => i += 5,
                    },
                    _ => {
                        return Some((
                            format!(
                                "invalid escape `{}`: a string can escape only `\\\"`, `\\\\`, `\\/`, `\\b`, `\\f`, `\\n`, `\\r`, `\\t` and `\\uXXXX` (a backslash itself is `\\\\`)",
                                shown(1)
                            ),
                            place,
                        ));
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}
