//! Warden's types, their display, and the compatibility relation the checker uses.

use std::fmt;
use std::rc::Rc;

use warden_change::view::RECORDS;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Type {
    /// The type of an expression that already produced a diagnostic: it is compatible
    /// with everything, so one mistake gives one error.
    Error,
    Bool,
    Int,
    Str,
    Timestamp,
    Duration,
    Glob,
    Regex,
    Approvers,
    /// The type of `null`-only values, e.g. `[].first()`.
    Null,
    List(Rc<Type>),
    Map(Rc<Type>),
    Optional(Rc<Type>),
    /// A record of the change model: an index into `warden_change::view::RECORDS`.
    Record(usize),
    /// A string-literal enumeration; compatible with `string`.
    Enum(Rc<[String]>),
}

impl Type {
    pub fn list(of: Type) -> Type {
        Type::List(Rc::new(of))
    }

    pub fn map(of: Type) -> Type {
        Type::Map(Rc::new(of))
    }

    /// `T?`; optional of optional collapses, and `Error` stays `Error`.
    pub fn optional(of: Type) -> Type {
        match of {
            Type::Optional(_) | Type::Error | Type::Null => of,
            other => Type::Optional(Rc::new(other)),
        }
    }

    pub fn record(name: &str) -> Type {
        warden_change::view::record_index(name).map_or(Type::Error, Type::Record)
    }

    pub fn is_error(&self) -> bool {
        matches!(self, Type::Error)
    }

    pub fn is_optional(&self) -> bool {
        matches!(self, Type::Optional(_) | Type::Null)
    }

    /// The type without its optional wrapper.
    pub fn unwrap_optional(&self) -> &Type {
        match self {
            Type::Optional(inner) => inner,
            other => other,
        }
    }

    /// Strings and string enums share every string operation.
    pub fn is_stringy(&self) -> bool {
        matches!(self, Type::Str | Type::Enum(_) | Type::Error)
    }

    /// The element type of a list (`Error` for anything else).
    pub fn element(&self) -> Type {
        match self {
            Type::List(inner) => (**inner).clone(),
            _ => Type::Error,
        }
    }

    /// Whether a value of type `self` may be used where `expected` is wanted.
    pub fn fits(&self, expected: &Type) -> bool {
        match (self, expected) {
            (Type::Error, _) | (_, Type::Error) => true,
            (Type::Enum(_), Type::Str) => true,
            (Type::Str, Type::Enum(_)) => true,
            (Type::Enum(a), Type::Enum(b)) => a.iter().all(|v| b.contains(v)),
            (Type::Null, Type::Optional(_)) => true,
            (Type::List(a), Type::List(b)) => a.fits(b) || matches!(**a, Type::Null),
            (Type::Map(a), Type::Map(b)) => a.fits(b),
            (Type::Optional(a), Type::Optional(b)) => a.fits(b),
            (a, Type::Optional(b)) => a.fits(b),
            (a, b) => a == b,
        }
    }

    /// The common type of two branches (`if`, list literals, `??`), if there is one.
    pub fn join(&self, other: &Type) -> Option<Type> {
        if self.is_error() {
            return Some(other.clone());
        }
        if other.is_error() || self.fits(other) {
            return Some(other.clone());
        }
        if other.fits(self) {
            return Some(self.clone());
        }
        match (self, other) {
            (Type::Null, t) | (t, Type::Null) => Some(Type::optional(t.clone())),
            (Type::Optional(a), b) | (b, Type::Optional(a)) => a.join(b).map(Type::optional),
            (Type::Enum(_), Type::Enum(_)) => Some(Type::Str),
            _ => None,
        }
    }

    /// Parses the type notation of the change-model table (`list<File>`, `Principal?`,
    /// `"human" | "bot"`). The table is static and tested, so a bad entry maps to `Error`.
    pub fn parse_model(text: &str) -> Type {
        let text = text.trim();
        if let Some(inner) = text.strip_suffix('?') {
            return Type::optional(Type::parse_model(inner));
        }
        if text.starts_with('"') {
            let variants: Vec<String> = text
                .split('|')
                .map(|v| v.trim().trim_matches('"').to_string())
                .collect();
            return Type::Enum(variants.into());
        }
        if let Some(inner) = text.strip_prefix("list<").and_then(|t| t.strip_suffix('>')) {
            return Type::list(Type::parse_model(inner));
        }
        if let Some(inner) = text.strip_prefix("map<").and_then(|t| t.strip_suffix('>')) {
            return Type::map(Type::parse_model(inner));
        }
        Type::named(text).unwrap_or(Type::Error)
    }

    /// A type by the name a policy writes: a primitive or a change-model record.
    pub fn named(name: &str) -> Option<Type> {
        Some(match name {
            "bool" => Type::Bool,
            "int" => Type::Int,
            "string" => Type::Str,
            "timestamp" => Type::Timestamp,
            "duration" => Type::Duration,
            "glob" => Type::Glob,
            "regex" => Type::Regex,
            "approvers" => Type::Approvers,
            other => Type::Record(warden_change::view::record_index(other)?),
        })
    }

    /// Every name `named` accepts, for "did you mean".
    pub fn all_names() -> impl Iterator<Item = &'static str> {
        [
            "bool",
            "int",
            "string",
            "timestamp",
            "duration",
            "glob",
            "regex",
            "approvers",
        ]
        .into_iter()
        .chain(RECORDS.iter().map(|r| r.name))
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Error => f.write_str("unknown"),
            Type::Bool => f.write_str("bool"),
            Type::Int => f.write_str("int"),
            Type::Str => f.write_str("string"),
            Type::Timestamp => f.write_str("timestamp"),
            Type::Duration => f.write_str("duration"),
            Type::Glob => f.write_str("glob"),
            Type::Regex => f.write_str("regex"),
            Type::Approvers => f.write_str("approvers"),
            Type::Null => f.write_str("null"),
            Type::List(inner) => write!(f, "list<{inner}>"),
            Type::Map(inner) => write!(f, "map<{inner}>"),
            Type::Optional(inner) => write!(f, "{inner}?"),
            Type::Record(index) => {
                f.write_str(RECORDS.get(*index).map_or("record", |record| record.name))
            }
            Type::Enum(variants) => {
                let quoted: Vec<String> = variants.iter().map(|v| format!("\"{v}\"")).collect();
                f.write_str(&quoted.join(" | "))
            }
        }
    }
}

/// The fields of a record type: `(name, type)` pairs in table order.
pub fn record_fields(record: usize) -> impl Iterator<Item = (&'static str, Type)> {
    RECORDS
        .get(record)
        .into_iter()
        .flat_map(|r| r.fields.iter())
        .map(|field| (field.name, Type::parse_model(field.ty)))
}
