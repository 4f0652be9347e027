//! `Time`: an RFC 3339 timestamp that compares by instant and keeps its offset for display.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use jiff::Timestamp;
use jiff::fmt::temporal::Pieces;
use jiff::tz::Offset;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A point in time read from an RFC 3339 string with a UTC offset
/// (`2026-11-26T09:15:00Z`, `2026-11-20T00:00:00-08:00`).
///
/// Equality, ordering and hashing use the instant only, so `09:15:00Z` equals
/// `01:15:00-08:00`; `Display` (and serialization) use the offset it was written with.
#[derive(Clone, Copy, Debug)]
pub struct Time {
    instant: Timestamp,
    offset: Offset,
}

/// The largest UTC offset, 23:59, in seconds.
const MAX_OFFSET_SECONDS: i32 = (23 * 60 + 59) * 60;

/// Why a string is not a [`Time`]. Its `Display` is a lowercase sentence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeError(String);

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TimeError {}

impl Time {
    /// The instant `instant`, displayed in `offset`.
    pub fn new(instant: Timestamp, offset: Offset) -> Time {
        Time { instant, offset }
    }

    /// The instant, in UTC.
    pub fn timestamp(&self) -> Timestamp {
        self.instant
    }

    /// The offset the time was written with.
    pub fn offset(&self) -> Offset {
        self.offset
    }

    /// Parses an RFC 3339 timestamp; the UTC offset (`Z` or `±hh:mm`) is required.
    pub fn parse(text: &str) -> Result<Time, TimeError> {
        // The text is quoted only for a message: a valid timestamp needs none, and
        // quoting cost three times the parse.
        Time::parse_unquoted(text)
            .map_err(|why| TimeError(format!("{} {why}", crate::load::quote_str(text))))
    }

    /// [`Time::parse`], its messages without the quoted text they start with.
    fn parse_unquoted(text: &str) -> Result<Time, String> {
        let example = "like `2026-11-26T09:15:00Z` or `2026-11-20T00:00:00-08:00`";
        let pieces = match Pieces::parse(text) {
            Ok(pieces) => pieces,
            Err(error) => {
                // jiff names the field out of range: "… parameter 'day' for `2026-02` …".
                let error = error.to_string();
                if let Some((_, rest)) = error.split_once("parameter '")
                    && let Some((field, _)) = rest.split_once('\'')
                {
                    return Err(format!(
                        "is not a valid timestamp: its {field} is out of range"
                    ));
                }
                return Err(format!("is not an RFC 3339 timestamp ({example})"));
            }
        };
        if pieces.time().is_none() {
            return Err(format!(
                "has no time of day; write a full timestamp ({example})"
            ));
        }
        let Some(offset) = pieces.to_numeric_offset() else {
            return Err("has no UTC offset; add `Z` for UTC or an offset like `-08:00`".to_owned());
        };
        // jiff reads offsets up to ±25:59:59; RFC 3339 and every real zone stay within
        // ±23:59, as `time_zone` does.
        if offset.seconds().abs() > MAX_OFFSET_SECONDS {
            return Err(
                "has a UTC offset out of range; offsets are from `-23:59` to `+23:59`".to_owned(),
            );
        }
        match text.parse::<Timestamp>() {
            Ok(instant) => Ok(Time { instant, offset }),
            Err(_) => Err(format!("is not a valid RFC 3339 timestamp ({example})")),
        }
    }
}

impl FromStr for Time {
    type Err = TimeError;
    fn from_str(s: &str) -> Result<Time, TimeError> {
        Time::parse(s)
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.offset == Offset::UTC {
            write!(f, "{}", self.instant)
        } else {
            write!(f, "{}", self.instant.display_with_offset(self.offset))
        }
    }
}

impl PartialEq for Time {
    fn eq(&self, other: &Time) -> bool {
        self.instant == other.instant
    }
}

impl Eq for Time {}

impl PartialOrd for Time {
    fn partial_cmp(&self, other: &Time) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Time {
    fn cmp(&self, other: &Time) -> Ordering {
        self.instant.cmp(&other.instant)
    }
}

impl Hash for Time {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.instant.hash(state);
    }
}

impl Serialize for Time {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Time, D::Error> {
        struct TimeVisitor;
        impl Visitor<'_> for TimeVisitor {
            type Value = Time;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RFC 3339 timestamp")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Time, E> {
                Time::parse(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(TimeVisitor)
    }
}

impl schemars::JsonSchema for Time {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Time".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "An RFC 3339 timestamp with a UTC offset: `2026-11-26T09:15:00Z`, `2026-11-20T00:00:00-08:00`.",
            "type": "string",
            "format": "date-time"
        })
    }
}

/// The time zone named by `name`: an IANA name from the bundled database
/// (`America/Los_Angeles`, `UTC`) or a fixed offset `±hh:mm` / `±hh` (`+05:30`).
/// `None` when it is neither.
pub fn time_zone(name: &str) -> Option<jiff::tz::TimeZone> {
    if let Some(rest) = name.strip_prefix('+').or_else(|| name.strip_prefix('-')) {
        let negative = name.starts_with('-');
        let (hours, minutes) = match rest.split_once(':') {
            Some((h, m)) => (h, m),
            None => (rest, "00"),
        };
        let two_digits = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit());
        if !two_digits(hours) || !two_digits(minutes) {
            return None;
        }
        let hours: i32 = hours.parse().ok()?;
        let minutes: i32 = minutes.parse().ok()?;
        let seconds = (hours * 60 + minutes) * 60;
        if minutes > 59 || seconds > MAX_OFFSET_SECONDS {
            return None;
        }
        let offset = Offset::from_seconds(if negative { -seconds } else { seconds }).ok()?;
        return Some(jiff::tz::TimeZone::fixed(offset));
    }
    jiff::tz::TimeZone::get(name).ok()
}
