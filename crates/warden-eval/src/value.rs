//! Runtime values. Records and most strings borrow from the change (`'a`), so reading
//! the input costs no copies.

use std::cmp::Ordering;
use std::fmt;
use std::rc::Rc;

use indexmap::IndexMap;
use warden_change::Time;
use warden_change::view::{Datum, Node, View};
use warden_check::ir::{GlobId, RegexId};

use crate::budget::SLOT_BYTES;

#[derive(Debug, Clone)]
pub enum Value<'a> {
    /// A `let` slot not evaluated yet; read through `Ctx`, it never escapes a frame.
    Unset,
    Null,
    Bool(bool),
    Int(i64),
    Str(Str<'a>),
    Time(Time),
    /// Seconds.
    Duration(i64),
    Glob(GlobId),
    Regex(RegexId),
    Approvers(Rc<ApproverSet>),
    List(Rc<[Value<'a>]>),
    Map(&'a IndexMap<String, String>),
    Node(Node<'a>),
}

/// A string borrowed from the input or built during evaluation.
#[derive(Debug, Clone)]
pub enum Str<'a> {
    Borrowed(&'a str),
    Owned(Rc<str>),
}

impl Str<'_> {
    pub fn as_str(&self) -> &str {
        match self {
            Str::Borrowed(s) => s,
            Str::Owned(s) => s,
        }
    }
}

/// Who may approve: the value of `team("x")`, `user("y")`, `anyone` and their unions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApproverSet {
    Anyone,
    Team(String),
    User(String),
    Union(Vec<ApproverSet>),
}

impl ApproverSet {
    pub fn contains(&self, view: &View<'_>, principal: &str) -> bool {
        match self {
            ApproverSet::Anyone => true,
            ApproverSet::User(id) => id == principal,
            ApproverSet::Team(team) => view
                .principal_facts(principal)
                .is_some_and(|p| p.teams.iter().any(|t| t == team)),
            ApproverSet::Union(sets) => sets.iter().any(|s| s.contains(view, principal)),
        }
    }

    /// The directory's principals in the set, sorted by id.
    pub fn members<'a>(&self, view: &View<'a>) -> Vec<&'a str> {
        match self {
            ApproverSet::Anyone => view.principal_ids().to_vec(),
            ApproverSet::User(user) => {
                let ids = view.principal_ids();
                let at = ids.binary_search(&user.as_str()).ok();
                at.and_then(|at| ids.get(at)).copied().into_iter().collect()
            }
            ApproverSet::Team(team) => view.team_members(team).to_vec(),
            ApproverSet::Union(sets) => {
                let mut members: Vec<&'a str> =
                    sets.iter().flat_map(|set| set.members(view)).collect();
                members.sort_unstable();
                members.dedup();
                members
            }
        }
    }

    /// The bytes the set holds (see [`Value::held_bytes`]): a union is flat.
    pub fn held_bytes(&self) -> u64 {
        match self {
            ApproverSet::Anyone => SLOT_BYTES,
            ApproverSet::Team(name) | ApproverSet::User(name) => SLOT_BYTES + name.len() as u64,
            ApproverSet::Union(sets) => sets.iter().map(ApproverSet::held_bytes).sum(),
        }
    }

    pub fn union(a: &ApproverSet, b: &ApproverSet) -> ApproverSet {
        let mut parts = Vec::new();
        for set in [a, b] {
            match set {
                ApproverSet::Union(inner) => parts.extend(inner.iter().cloned()),
                other => parts.push(other.clone()),
            }
        }
        ApproverSet::Union(parts)
    }
}

impl fmt::Display for ApproverSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApproverSet::Anyone => f.write_str("anyone"),
            ApproverSet::Team(team) => write!(f, "team `{team}`"),
            ApproverSet::User(user) => write!(f, "`{user}`"),
            ApproverSet::Union(sets) => {
                let parts: Vec<String> = sets.iter().map(ToString::to_string).collect();
                f.write_str(&parts.join(" or "))
            }
        }
    }
}

impl<'a> Value<'a> {
    pub fn from_datum(datum: Datum<'a>) -> Value<'a> {
        match datum {
            Datum::Null => Value::Null,
            Datum::Bool(b) => Value::Bool(b),
            Datum::Int(i) => Value::Int(i),
            Datum::Str(s) => Value::Str(Str::Borrowed(s)),
            Datum::Time(t) => Value::Time(t),
            Datum::List(items) => Value::List(items.into_iter().map(Value::from_datum).collect()),
            Datum::Map(m) => Value::Map(m),
            Datum::Node(n) => Value::Node(n),
        }
    }

    pub fn str(text: impl Into<Rc<str>>) -> Value<'a> {
        Value::Str(Str::Owned(text.into()))
    }

    /// The bytes a value holds, for the budget: a string's bytes, a list's slots and
    /// what its elements hold, an approver set's names, a slot for anything else. The walk stops once past `cap`: lists share their elements, so a list
    /// nested in itself a few times over holds more than a walk should visit.
    pub fn held_bytes(&self, cap: u64) -> u64 {
        match self {
            Value::Str(s) => s.as_str().len() as u64,
            Value::List(items) => list_held_bytes(items, cap),
            Value::Approvers(set) => set.held_bytes(),
            _ => SLOT_BYTES,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null | Value::Unset)
    }

    /// Equality as `==` sees it; records compare by identity.
    pub fn equals(&self, other: &Value<'a>, view: &View<'a>) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Str(a), Value::Str(b)) => a.as_str() == b.as_str(),
            (Value::Time(a), Value::Time(b)) => a == b,
            (Value::Duration(a), Value::Duration(b)) => a == b,
            (Value::Glob(a), Value::Glob(b)) => a == b,
            (Value::Regex(a), Value::Regex(b)) => a == b,
            (Value::Approvers(a), Value::Approvers(b)) => a == b,
            (Value::List(a), Value::List(b)) => {
                a.len() == b.len() && a.iter().zip(b.iter()).all(|(x, y)| x.equals(y, view))
            }
            (Value::Map(a), Value::Map(b)) => a == b,
            (Value::Node(a), Value::Node(b)) => view.same(*a, *b),
            _ => false,
        }
    }

    /// Ordering of ints, durations, timestamps and strings (checked statically).
    pub fn compare(&self, other: &Value<'a>) -> Option<Ordering> {
        match (self, other) {
            (Value::Int(a), Value::Int(b)) | (Value::Duration(a), Value::Duration(b)) => {
                Some(a.cmp(b))
            }
            (Value::Time(a), Value::Time(b)) => a.partial_cmp(b),
            (Value::Str(a), Value::Str(b)) => Some(a.as_str().cmp(b.as_str())),
            _ => None,
        }
    }

    /// How a value reads in a message or an explanation.
    pub fn display(&self, view: &View<'a>) -> String {
        let mut out = String::new();
        self.write_display(view, &mut out);
        out
    }

    /// Appends [`Value::display`] to `out`: messages and explanations are built in one
    /// buffer rather than from a string per value.
    pub fn write_display(&self, view: &View<'a>, out: &mut String) {
        match self {
            Value::Null | Value::Unset => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => append(out, format_args!("{i}")),
            Value::Str(s) => out.push_str(s.as_str()),
            Value::Time(t) => append(out, format_args!("{t}")),
            Value::Duration(seconds) => write_duration(*seconds, out),
            Value::Glob(id) => append(out, format_args!("glob #{}", id.0)),
            Value::Regex(id) => append(out, format_args!("regex #{}", id.0)),
            Value::Approvers(set) => append(out, format_args!("{set}")),
            Value::List(items) => {
                out.push('[');
                write_joined(items, view, out);
                out.push(']');
            }
            Value::Map(map) => {
                out.push('{');
                for (index, (key, value)) in map.iter().enumerate() {
                    if index > 0 {
                        out.push_str(", ");
                    }
                    append(out, format_args!("{key}: {value}"));
                }
                out.push('}');
            }
            Value::Node(node) => out.push_str(&view.label(*node)),
        }
    }
}

/// [`Value::held_bytes`] of a list's elements.
pub fn list_held_bytes(items: &[Value<'_>], cap: u64) -> u64 {
    let mut total = SLOT_BYTES.saturating_mul(items.len() as u64);
    for item in items {
        if total > cap {
            break;
        }
        total = total.saturating_add(item.held_bytes(cap));
    }
    total
}

/// Appends the values as prose, `a, b, c`.
pub fn write_joined<'a>(items: &[Value<'a>], view: &View<'a>, out: &mut String) {
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            out.push_str(", ");
        }
        item.write_display(view, out);
    }
}

/// Appends formatted text; writing to a `String` cannot fail.
fn append(out: &mut String, text: fmt::Arguments<'_>) {
    let _ = fmt::Write::write_fmt(out, text);
}

/// `90m`, `2h30m`, `1d`, `45s`.
fn write_duration(seconds: i64, out: &mut String) {
    if seconds == 0 {
        out.push_str("0s");
        return;
    }
    if seconds < 0 {
        out.push('-');
    }
    let mut rest = seconds.unsigned_abs();
    for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
        if rest >= size {
            append(out, format_args!("{}{unit}", rest / size));
            rest %= size;
        }
    }
}
