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

/// Method names that exist for a receiver, for "did you mean".
pub fn method_names(receiver: &Type) -> Vec<&'static str> {
    const CANDIDATES: &[&str] = &[
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
    CANDIDATES
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
