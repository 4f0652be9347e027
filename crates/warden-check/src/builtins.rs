//! Signatures of the built-in functions and methods: which exist for which receiver,
//! what arguments they take and what they return.

use crate::ir::Builtin;
use crate::ty::Type;

/// What one argument of a built-in must be.
#[derive(Debug, Clone)]
pub enum Param {
    Value(Type),
    /// A lambda over the receiver's elements; its body must fit `Body`.
    Lambda(LambdaBody),
}

#[derive(Debug, Clone)]
pub enum LambdaBody {
    Bool,
    /// Anything; the method's result is built from the body's type.
    Any,
    /// A list; `flat_map`.
    List,
    /// A summable/orderable number: `int`, `duration` (or `timestamp` for min/max).
    Number {
        timestamps: bool,
    },
}

/// How the result type follows from the receiver and the lambda body.
#[derive(Debug, Clone)]
pub enum Returns {
    Fixed(Type),
    /// The receiver's element type, optional (`first`, `min`).
    ElementOptional,
    /// The receiver's type (`filter`, `distinct`).
    Receiver,
    /// `list<body>` (`map`) or the body's list type (`flat_map`).
    ListOfBody,
    BodyList,
    /// The body type, or the element type without a lambda (`sum`).
    BodyOrElement,
    /// The same, optional (`min`, `max`).
    BodyOrElementOptional,
    /// The map's value type, optional (`get`).
    MapValueOptional,
}

#[derive(Debug, Clone)]
pub struct MethodSig {
    pub op: Builtin,
    pub params: Vec<Param>,
    /// `sum()`, `min()`, `max()` also work without the lambda on a list of numbers.
    pub lambda_optional: bool,
    pub returns: Returns,
}

fn sig(op: Builtin, params: Vec<Param>, returns: Returns) -> MethodSig {
    MethodSig {
        op,
        params,
        lambda_optional: false,
        returns,
    }
}

fn number_fold(op: Builtin, timestamps: bool, returns: Returns) -> MethodSig {
    MethodSig {
        op,
        params: vec![Param::Lambda(LambdaBody::Number { timestamps })],
        lambda_optional: true,
        returns,
    }
}

/// The method `name` on a receiver of type `receiver` (already without `?`).
pub fn method(receiver: &Type, name: &str) -> Option<MethodSig> {
    use Param::{Lambda, Value};
    use Returns::*;
    let element = receiver.element();
    Some(match receiver {
        Type::List(_) => match name {
            "any" => sig(
                Builtin::Any,
                vec![Lambda(LambdaBody::Bool)],
                Fixed(Type::Bool),
            ),
            "all" => sig(
                Builtin::All,
                vec![Lambda(LambdaBody::Bool)],
                Fixed(Type::Bool),
            ),
            "none" => sig(
                Builtin::None,
                vec![Lambda(LambdaBody::Bool)],
                Fixed(Type::Bool),
            ),
            "count" => sig(
                Builtin::Count,
                vec![Lambda(LambdaBody::Bool)],
                Fixed(Type::Int),
            ),
            "filter" => sig(Builtin::Filter, vec![Lambda(LambdaBody::Bool)], Receiver),
            "map" => sig(Builtin::Map, vec![Lambda(LambdaBody::Any)], ListOfBody),
            "flat_map" => sig(Builtin::FlatMap, vec![Lambda(LambdaBody::List)], BodyList),
            "sum" => number_fold(Builtin::Sum, false, BodyOrElement),
            "min" => number_fold(Builtin::Min, true, BodyOrElementOptional),
            "max" => number_fold(Builtin::Max, true, BodyOrElementOptional),
            "len" => sig(Builtin::Len, vec![], Fixed(Type::Int)),
            "is_empty" => sig(Builtin::IsEmpty, vec![], Fixed(Type::Bool)),
            "contains" => sig(Builtin::Contains, vec![Value(element)], Fixed(Type::Bool)),
            "first" => sig(Builtin::First, vec![], ElementOptional),
            "last" => sig(Builtin::Last, vec![], ElementOptional),
            "distinct" => sig(Builtin::Distinct, vec![], Receiver),
            "sorted" => sig(Builtin::Sorted, vec![], Receiver),
            _ => return None,
        },
        Type::Str | Type::Enum(_) => {
            let text = || vec![Value(Type::Str)];
            match name {
                "len" => sig(Builtin::StrLen, vec![], Fixed(Type::Int)),
                "contains" => sig(Builtin::StrContains, text(), Fixed(Type::Bool)),
                "starts_with" => sig(Builtin::StartsWith, text(), Fixed(Type::Bool)),
                "ends_with" => sig(Builtin::EndsWith, text(), Fixed(Type::Bool)),
                "lower" => sig(Builtin::Lower, vec![], Fixed(Type::Str)),
                "upper" => sig(Builtin::Upper, vec![], Fixed(Type::Str)),
                "trim" => sig(Builtin::Trim, vec![], Fixed(Type::Str)),
                "split" => sig(Builtin::Split, text(), Fixed(Type::list(Type::Str))),
                _ => return None,
            }
        }
        Type::Map(_) => match name {
            "get" => sig(Builtin::MapGet, vec![Value(Type::Str)], MapValueOptional),
            "keys" => sig(Builtin::MapKeys, vec![], Fixed(Type::list(Type::Str))),
            "contains_key" => sig(
                Builtin::MapContainsKey,
                vec![Value(Type::Str)],
                Fixed(Type::Bool),
            ),
            _ => return None,
        },
        Type::Timestamp => match name {
            "weekday" => sig(
                Builtin::Weekday,
                vec![Value(Type::Str)],
                Fixed(Type::Enum(
                    crate::ir::WEEKDAYS.map(String::from).to_vec().into(),
                )),
            ),
            "hour" => sig(Builtin::Hour, vec![Value(Type::Str)], Fixed(Type::Int)),
            "minute" => sig(Builtin::Minute, vec![Value(Type::Str)], Fixed(Type::Int)),
            // For messages: `t.format("Europe/Berlin")` is `"2026-11-28 14:05 CET"`.
            "format" => sig(
                Builtin::FormatTime,
                vec![Value(Type::Str)],
                Fixed(Type::Str),
            ),
            _ => return None,
        },
        Type::Duration => match name {
            "minutes" => sig(Builtin::Minutes, vec![], Fixed(Type::Int)),
            "hours" => sig(Builtin::Hours, vec![], Fixed(Type::Int)),
            _ => return None,
        },
        Type::Record(_) if *receiver == Type::record("File") => match name {
            "touches" => sig(Builtin::Touches, vec![Value(Type::Glob)], Fixed(Type::Bool)),
            _ => return None,
        },
        _ => return None,
    })
}

/// Every method's name, on whatever receiver.
pub const METHOD_NAMES: &[&str] = &[
    "any",
    "all",
    "none",
    "count",
    "filter",
    "map",
    "flat_map",
    "sum",
    "min",
    "max",
    "len",
    "is_empty",
    "contains",
    "first",
    "last",
    "distinct",
    "sorted",
    "starts_with",
    "ends_with",
    "lower",
    "upper",
    "trim",
    "split",
    "get",
    "keys",
    "contains_key",
    "weekday",
    "hour",
    "minute",
    "format",
    "minutes",
    "hours",
    "touches",
];

/// Method names that exist for a receiver, for "did you mean".
pub fn method_names(receiver: &Type) -> Vec<&'static str> {
    METHOD_NAMES
        .iter()
        .copied()
        .filter(|name| method(receiver, name).is_some())
        .collect()
}

/// Free functions: `glob`, `regex`, `timestamp` and `duration` take literals and are
/// handled by the checker itself; these take values.
pub fn function(name: &str) -> Option<(Builtin, Type, Type)> {
    Some(match name {
        "team" => (Builtin::Team, Type::Str, Type::Approvers),
        "user" => (Builtin::User, Type::Str, Type::Approvers),
        "principal" => (
            Builtin::Principal,
            Type::Str,
            Type::optional(Type::record("Principal")),
        ),
        "service" => (
            Builtin::Service,
            Type::Str,
            Type::optional(Type::record("Service")),
        ),
        _ => return None,
    })
}

/// The record whose key a free function takes, and that key: `principal("ana")` and
/// `user("ana")` name a `Principal` by `id`, `service("cart")` a `Service` by `name`.
pub fn identified_record(function: &str) -> Option<(&'static str, &'static str)> {
    match function {
        "principal" | "user" => Some(("Principal", "id")),
        "service" => Some(("Service", "name")),
        _ => None,
    }
}

/// Every free function name, for "did you mean".
pub const FUNCTION_NAMES: &[&str] = &[
    "glob",
    "regex",
    "timestamp",
    "duration",
    "team",
    "user",
    "principal",
    "service",
];

/// A built-in's signature and doc, for the language server's hover, completion and
/// signature help.
#[derive(Debug, Clone, PartialEq)]
pub struct Signature {
    /// `list<File>.` for a method; empty for a free function.
    pub receiver: String,
    pub name: String,
    pub params: Vec<String>,
    pub returns: String,
    pub doc: &'static str,
}

impl Signature {
    /// `name(a, b) -> R` with the receiver before it, and where each parameter is in
    /// that text (byte offsets).
    pub fn label(&self) -> (String, Vec<(usize, usize)>) {
        let mut label = format!("{}{}(", self.receiver, self.name);
        let mut offsets = Vec::new();
        for (i, param) in self.params.iter().enumerate() {
            if i > 0 {
                label.push_str(", ");
            }
            offsets.push((label.len(), label.len() + param.len()));
            label.push_str(param);
        }
        label.push_str(&format!(") -> {}", self.returns));
        (label, offsets)
    }
}

/// The signature of method `name` on `receiver` (without `?`).
pub fn method_signature(receiver: &Type, name: &str) -> Option<Signature> {
    let sig = method(receiver, name)?;
    let element = receiver.element();
    // What `sum`, `min` and `max` fold: the elements, when numbers, else the lambda's.
    let number = |timestamps: bool| match &element {
        Type::Int | Type::Duration => element.to_string(),
        Type::Timestamp if timestamps => element.to_string(),
        _ if timestamps => "int | duration | timestamp".to_string(),
        _ => "int | duration".to_string(),
    };
    let params = sig
        .params
        .iter()
        .map(|param| match param {
            Param::Value(ty) => ty.to_string(),
            Param::Lambda(body) => {
                let body = match body {
                    LambdaBody::Bool => "bool".to_string(),
                    LambdaBody::Any => "U".to_string(),
                    LambdaBody::List => "list<U>".to_string(),
                    LambdaBody::Number { timestamps } => number(*timestamps),
                };
                // `sum()`, `min()`, `max()`: the lambda may be left out.
                match sig.lambda_optional {
                    true => format!("[{element} => {body}]"),
                    false => format!("{element} => {body}"),
                }
            }
        })
        .collect();
    let returns = match &sig.returns {
        Returns::Fixed(ty) => ty.to_string(),
        Returns::ElementOptional => Type::optional(element.clone()).to_string(),
        Returns::BodyOrElementOptional => match number(true) {
            single if !single.contains('|') => format!("{single}?"),
            union => format!("({union})?"),
        },
        Returns::Receiver => receiver.to_string(),
        Returns::ListOfBody | Returns::BodyList => "list<U>".to_string(),
        Returns::BodyOrElement => number(false),
        Returns::MapValueOptional => match receiver {
            Type::Map(value) => Type::optional((**value).clone()).to_string(),
            _ => Type::Error.to_string(),
        },
    };
    Some(Signature {
        receiver: format!("{receiver}."),
        name: name.to_string(),
        params,
        returns,
        doc: method_doc(sig.op),
    })
}

/// What a method does, by the operation its declaration in [`method`] names.
fn method_doc(op: Builtin) -> &'static str {
    match op {
        Builtin::Any => "Whether some element satisfies the condition (false on an empty list).",
        Builtin::All => "Whether every element satisfies the condition (true on an empty list).",
        Builtin::None => "Whether no element satisfies the condition.",
        Builtin::Count => "How many elements satisfy the condition.",
        Builtin::Filter => "The elements that satisfy the condition, in order.",
        Builtin::Map => "The lambda's value for each element, in order.",
        Builtin::FlatMap => "The lists the lambda gives for each element, concatenated.",
        Builtin::Sum => "The sum of the elements (or of the lambda's values).",
        Builtin::Min => "The least element (or lambda value); null on an empty list.",
        Builtin::Max => "The greatest element (or lambda value); null on an empty list.",
        Builtin::Len => "The number of elements.",
        Builtin::IsEmpty => "Whether the list has no element.",
        Builtin::Contains => "Whether the value is an element of the list.",
        Builtin::First => "The first element; null on an empty list.",
        Builtin::Last => "The last element; null on an empty list.",
        Builtin::Distinct => "The elements without repeats, in order of first occurrence.",
        Builtin::Sorted => "The elements in ascending order.",
        Builtin::StrLen => "The number of characters.",
        Builtin::StrContains => "Whether the text occurs in the string.",
        Builtin::StartsWith => "Whether the string starts with the text.",
        Builtin::EndsWith => "Whether the string ends with the text.",
        Builtin::Lower => "The string in lower case.",
        Builtin::Upper => "The string in upper case.",
        Builtin::Trim => "The string without leading and trailing whitespace.",
        Builtin::Split => "The pieces of the string between occurrences of the separator.",
        Builtin::MapGet => "The entry of the key; null when absent.",
        Builtin::MapKeys => "The map's keys, sorted.",
        Builtin::MapContainsKey => "Whether the map has an entry for the key.",
        Builtin::Weekday => {
            "The day of the week in the time zone (`\"Europe/Berlin\"`, `\"+05:30\"`)."
        }
        Builtin::Hour => "The hour (0–23) in the time zone.",
        Builtin::Minute => "The minute (0–59) in the time zone.",
        Builtin::FormatTime => "The time as `2026-11-28 14:05 CET` in the time zone, for messages.",
        Builtin::Minutes => "The duration in whole minutes.",
        Builtin::Hours => "The duration in whole hours.",
        Builtin::Touches => {
            "Whether the file's path, or for a rename its previous path, matches the glob."
        }
        _ => "",
    }
}

/// The signature of free function `name`.
pub fn function_signature(name: &str) -> Option<Signature> {
    let (param, returns, doc) = match name {
        "glob" => (
            "pattern: string, …".to_string(),
            Type::Glob,
            "A glob of literal patterns; several match any of them.",
        ),
        "regex" => (
            "pattern: string".to_string(),
            Type::Regex,
            "A regular expression, from a literal pattern.",
        ),
        "timestamp" => (
            "text: string".to_string(),
            Type::Timestamp,
            "A time, from an RFC 3339 literal.",
        ),
        "duration" => (
            "text: string".to_string(),
            Type::Duration,
            "A duration, from a literal such as `\"90m\"`.",
        ),
        _ => {
            let (_, param, returns) = function(name)?;
            let key = identified_record(name).map_or("name", |(_, key)| key);
            let doc = match name {
                "team" => "The members of a team, as an approver set.",
                "user" => "One principal, by id, as an approver set.",
                "principal" => "The principal of this id; null when not in the directory.",
                _ => "The service of this name; null when not in the catalogue.",
            };
            (format!("{key}: {param}"), returns, doc)
        }
    };
    Some(Signature {
        receiver: String::new(),
        name: name.to_string(),
        params: vec![param],
        returns: returns.to_string(),
        doc,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every method of every receiver, and every free function, has a signature and a
    /// doc for the language server.
    #[test]
    fn every_builtin_has_a_signature_and_a_doc() {
        let receivers = [
            Type::list(Type::Int),
            Type::Str,
            Type::map(Type::Int),
            Type::Timestamp,
            Type::Duration,
            Type::record("File"),
        ];
        for receiver in &receivers {
            for name in method_names(receiver) {
                let signature = method_signature(receiver, name);
                assert!(
                    signature.is_some_and(|s| !s.doc.is_empty()),
                    "{receiver}.{name}"
                );
            }
        }
        for name in FUNCTION_NAMES {
            assert!(
                function_signature(name).is_some_and(|s| !s.doc.is_empty()),
                "{name}"
            );
        }
    }
}
