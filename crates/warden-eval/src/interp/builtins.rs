//! The built-in methods and functions: `team`/`user`/`principal`/`service`, and the
//! methods of lists, strings, maps, times, durations and files. Lambdas are applied
//! through the interpreter; `change.files` quantifiers over a glob go to the match
//! lists (`file_matches`).

use std::collections::HashSet;
use std::rc::Rc;

use foldhash::fast::FixedState;

use warden_change::view::{Datum, Node};
use warden_check::ir::{self, BinOp, Builtin, ExprKind};

use super::{Ctx, Frame, Result};
use crate::budget::{SHARED_HEADER_BYTES, SLOT_BYTES};
use crate::value::{ApproverSet, Str, Value, list_held_bytes};

impl<'a> Ctx<'a, '_> {
    pub(super) fn builtin(
        &mut self,
        op: Builtin,
        args: &[ir::Expr],
        optional: bool,
        frame: &mut Frame<'a>,
        expr: &ir::Expr,
    ) -> Result<'a> {
        let Some(receiver_expr) = args.first() else {
            return Err(Self::error(expr, "missing receiver"));
        };
        let lambda = args.get(1);
        match op {
            Builtin::Team | Builtin::User => {
                let name = self.text(receiver_expr, frame)?;
                self.charge_string(name.as_str().len(), expr)?;
                let name = name.as_str().to_string();
                let set = if op == Builtin::Team {
                    ApproverSet::Team(name)
                } else {
                    ApproverSet::User(name)
                };
                return Ok(Value::Approvers(Rc::new(set)));
            }
            Builtin::Principal => {
                let id = self.text(receiver_expr, frame)?;
                self.charge_scan(id.as_str().len(), expr)?;
                let known = self.change.principals.get_key_value(id.as_str());
                return Ok(
                    known.map_or(Value::Null, |(id, _)| Value::Node(self.view.principal(id)))
                );
            }
            Builtin::Service => {
                let name = self.text(receiver_expr, frame)?;
                self.charge_scan(name.as_str().len(), expr)?;
                return Ok(self
                    .view
                    .service(name.as_str())
                    .map_or(Value::Null, Value::Node));
            }
            _ => {}
        }
        if let (Builtin::Sum, Some(lambda)) = (op, lambda)
            && let Some(total) = self.change_files_sum(receiver_expr, lambda, frame, expr)?
        {
            return Ok(total);
        }
        let receiver = self.eval(receiver_expr, frame)?;
        if receiver.is_null() && optional {
            return Ok(Value::Null);
        }
        match receiver {
            Value::List(items) => self.list_method(op, &items, lambda, frame, expr),
            Value::Str(s) => self.string_method(op, s, lambda, frame, expr),
            Value::Map(map) => {
                let key = match lambda {
                    Some(arg) => Some(self.text(arg, frame)?),
                    None => None,
                };
                match &key {
                    Some(key) => self.charge_scan(key.as_str().len(), expr)?,
                    None => self.charge_list(map.len(), expr)?,
                }
                Ok(match (op, key) {
                    (Builtin::MapGet, Some(key)) => map
                        .get(key.as_str())
                        .map_or(Value::Null, |v| Value::Str(Str::Borrowed(v))),
                    (Builtin::MapContainsKey, Some(key)) => {
                        Value::Bool(map.contains_key(key.as_str()))
                    }
                    _ => Value::List(map.keys().map(|k| Value::Str(Str::Borrowed(k))).collect()),
                })
            }
            Value::Time(time) => {
                let zone_name = match lambda {
                    Some(arg) => self.text(arg, frame)?,
                    None => return Err(Self::error(expr, "a time zone is required")),
                };
                self.charge_scan(zone_name.as_str().len(), expr)?;
                let Some(zone) = warden_change::time_zone(zone_name.as_str()) else {
                    return Err(Self::error(
                        expr,
                        format!(
                            "`{}` is not a known time zone (an IANA name like `America/Los_Angeles`, or an offset like `+05:30`)",
                            zone_name.as_str()
                        ),
                    ));
                };
                let local = time.timestamp().to_zoned_datetime(zone);
                Ok(match op {
                    Builtin::Weekday => Value::str(weekday_name(local.weekday())),
                    Builtin::Hour => Value::Int(i64::from(local.hour())),
                    // The zone's abbreviation (`CET`), or its offset when it has none.
                    Builtin::FormatTime => {
                        Value::str(local.strftime("%Y-%m-%d %H:%M %Z").to_string())
                    }
                    _ => Value::Int(i64::from(local.minute())),
                })
            }
            Value::Duration(seconds) => Ok(Value::Int(if op == Builtin::Hours {
                seconds / 3600
            } else {
                seconds / 60
            })),
            Value::Node(node) => {
                // `File.touches(glob)`: the path or the previous path matches.
                let Some(Value::Glob(glob)) = lambda.map(|g| self.eval(g, frame)).transpose()?
                else {
                    return Err(Self::error(expr, "expected a glob"));
                };
                self.touches(node, glob, expr)
            }
            other => Err(Self::error(
                expr,
                format!("no method on `{}`", other.display(&self.view)),
            )),
        }
    }

    fn list_method(
        &mut self,
        op: Builtin,
        items: &Rc<[Value<'a>]>,
        arg: Option<&ir::Expr>,
        frame: &mut Frame<'a>,
        expr: &ir::Expr,
    ) -> Result<'a> {
        Ok(match op {
            Builtin::Any | Builtin::All | Builtin::None | Builtin::Count | Builtin::Filter => {
                let Some(lambda) = arg else {
                    return Err(Self::error(expr, "missing lambda"));
                };
                if let Some(answer) = self.files_quantifier(op, items, lambda, frame)? {
                    if let Value::List(kept) = &answer {
                        self.charge_list(kept.len(), expr)?;
                    }
                    return Ok(answer);
                }
                let mut count = 0i64;
                let mut kept = Vec::new();
                for item in items.iter() {
                    let hit = self.apply_bool(lambda, item.clone(), frame)?;
                    match (op, hit) {
                        (Builtin::Any, true) => return Ok(Value::Bool(true)),
                        (Builtin::All, false) | (Builtin::None, true) => {
                            return Ok(Value::Bool(false));
                        }
                        (Builtin::Count, true) => count += 1,
                        (Builtin::Filter, true) => kept.push(item.clone()),
                        _ => {}
                    }
                }
                match op {
                    Builtin::Any => Value::Bool(false),
                    Builtin::All | Builtin::None => Value::Bool(true),
                    Builtin::Count => Value::Int(count),
                    _ => {
                        self.charge_list(kept.len(), expr)?;
                        Value::List(kept.into())
                    }
                }
            }
            Builtin::Map | Builtin::FlatMap => {
                let Some(lambda) = arg else {
                    return Err(Self::error(expr, "missing lambda"));
                };
                self.charge_list(items.len(), expr)?;
                let mut out = Vec::with_capacity(items.len());
                for item in items.iter() {
                    match (op, self.apply(lambda, item.clone(), frame)?) {
                        (Builtin::FlatMap, Value::List(inner)) => {
                            self.charge_list(inner.len(), expr)?;
                            out.extend(inner.iter().cloned());
                        }
                        (Builtin::FlatMap, _) => {}
                        (_, value) => out.push(value),
                    }
                }
                Value::List(out.into())
            }
            Builtin::Sum | Builtin::Min | Builtin::Max => {
                self.charge_work(SLOT_BYTES.saturating_mul(items.len() as u64), expr)?;
                if let (Builtin::Sum, Some(lambda)) = (op, arg)
                    && let Some(total) = self.field_sum(
                        items.iter().map(|item| match item {
                            Value::Node(node) => Some(*node),
                            _ => None,
                        }),
                        lambda,
                        frame,
                    )
                {
                    return Ok(total);
                }
                self.fold(op, items, arg, frame, expr)?
            }
            Builtin::Len => Value::Int(items.len() as i64),
            Builtin::IsEmpty => Value::Bool(items.is_empty()),
            Builtin::Contains => {
                let Some(needle) = arg else {
                    return Err(Self::error(expr, "missing argument"));
                };
                let needle = self.eval(needle, frame)?;
                // Each element may be compared with the whole needle.
                let per_item = SLOT_BYTES + needle.held_bytes(self.remaining_bytes());
                self.charge_work(per_item.saturating_mul(items.len() as u64), expr)?;
                Value::Bool(items.iter().any(|i| i.equals(&needle, &self.view)))
            }
            Builtin::First => items.first().cloned().unwrap_or(Value::Null),
            Builtin::Last => items.last().cloned().unwrap_or(Value::Null),
            Builtin::Distinct => {
                // Strings (the usual case: owners, teams, labels) are looked up in a
                // set, each read once; other values are compared with every distinct
                // one before them.
                let mut texts: HashSet<&str, FixedState> = HashSet::default();
                let mut others = 0u64;
                let mut out: Vec<Value<'a>> = Vec::new();
                for item in items.iter() {
                    let new = match item {
                        Value::Str(text) => {
                            self.charge_scan(text.as_str().len(), expr)?;
                            texts.insert(text.as_str())
                        }
                        _ => {
                            let per_compare = SLOT_BYTES + item.held_bytes(self.remaining_bytes());
                            self.charge_work(per_compare.saturating_mul(others), expr)?;
                            let new = !out.iter().any(|o| o.equals(item, &self.view));
                            others += u64::from(new);
                            new
                        }
                    };
                    if new {
                        out.push(item.clone());
                    }
                }
                self.charge_list(out.len(), expr)?;
                Value::List(out.into())
            }
            Builtin::Sorted => {
                // About log2(n) comparisons of each element.
                let held = list_held_bytes(items, self.remaining_bytes());
                let rounds = u64::from(usize::BITS - items.len().leading_zeros());
                self.charge_work(held.saturating_mul(rounds), expr)?;
                self.charge_list(items.len(), expr)?;
                let mut out = items.to_vec();
                out.sort_by(|a, b| a.compare(b).unwrap_or(std::cmp::Ordering::Equal));
                Value::List(out.into())
            }
            _ => return Err(Self::error(expr, "not a list method")),
        })
    }

    /// `sum` of an integer field of each record, or of two such fields added:
    /// `files.sum(f => f.additions + f.deletions)`, the usual size of a change. The
    /// fields are read straight from the view, and the steps the interpreter would
    /// count for each element (one per expression of the lambda's body) are charged at
    /// once. `None`, with nothing charged, for any other shape, for a value that is not
    /// an integer, on overflow and when the budget could not pay for every element:
    /// the general way then gives the same answer, or the same error at the same place.
    /// The sum, minimum or maximum of a list, element by element.
    fn fold(
        &mut self,
        op: Builtin,
        items: &[Value<'a>],
        lambda: Option<&ir::Expr>,
        frame: &mut Frame<'a>,
        expr: &ir::Expr,
    ) -> Result<'a> {
        let mut fold = Fold::new(op);
        for item in items {
            let number = match lambda {
                Some(lambda) => self.apply(lambda, item.clone(), frame)?,
                None => item.clone(),
            };
            fold.push(number, expr)?;
        }
        Ok(fold.finish())
    }

    /// `change.files.sum(…)`, charged as the general way charges it: a sum of fields
    /// (`f => f.a + f.b`) is added up over the change's files themselves, without
    /// making the list of files; any other sum, or one that overflows or exceeds the
    /// budget, is then folded element by element. `None` when the receiver is not
    /// `change.files`.
    fn change_files_sum(
        &mut self,
        receiver: &ir::Expr,
        lambda: &ir::Expr,
        frame: &mut Frame<'a>,
        expr: &ir::Expr,
    ) -> Result<'a, Option<Value<'a>>> {
        let ExprKind::Field { base, field, .. } = &receiver.kind else {
            return Ok(None);
        };
        if !matches!(base.kind, ExprKind::Change) || Some(*field) != self.fields.change_files {
            return Ok(None);
        }
        // The steps of reading `change.files`: the field and `change`.
        if !self.charge_steps(2) {
            return Err(self.exhausted(receiver));
        }
        let files = &self.change.files;
        self.charge_work(SLOT_BYTES.saturating_mul(files.len() as u64), expr)?;
        let nodes = files.iter().map(|file| Some(Node::File(file)));
        if let Some(total) = self.field_sum(nodes, lambda, frame) {
            return Ok(Some(total));
        }
        let Value::List(items) = self.change_field(*field) else {
            return Ok(None);
        };
        self.fold(Builtin::Sum, &items, Some(lambda), frame, expr)
            .map(Some)
    }

    fn field_sum(
        &mut self,
        items: impl ExactSizeIterator<Item = Option<Node<'a>>>,
        lambda: &ir::Expr,
        frame: &mut Frame<'a>,
    ) -> Option<Value<'a>> {
        let ExprKind::Lambda { param, body } = &lambda.kind else {
            return None;
        };
        let field_of_param = |e: &ir::Expr| match &e.kind {
            ExprKind::Field { base, field, .. } if matches!(base.kind, ExprKind::Local(l) if l == *param) => {
                Some(*field)
            }
            _ => None,
        };
        // The fields added up, and the steps of one element: two for `f.a` (the field
        // and the parameter), five for `f.a + f.b`.
        let (first, second, steps) = match &body.kind {
            ExprKind::Binary {
                op: BinOp::Add,
                lhs,
                rhs,
            } => (field_of_param(lhs)?, Some(field_of_param(rhs)?), 5),
            _ => (field_of_param(body)?, None, 2),
        };
        let (additions, deletions) = (self.fields.file_additions, self.fields.file_deletions);
        let int = |node: Node<'a>, field: usize| match node {
            // The usual sum, of changed lines, read without a datum made per file.
            Node::File(file) if Some(field) == additions => Some(file.additions),
            Node::File(file) if Some(field) == deletions => Some(file.deletions),
            _ => match self.view.field(node, field) {
                Datum::Int(i) => Some(i),
                _ => None,
            },
        };
        let mut total = 0i64;
        let len = items.len();
        let mut last = None;
        for node in items {
            let node = node?;
            if matches!(node, Node::Change(_)) {
                return None;
            }
            let mut value = int(node, first)?;
            if let Some(second) = second {
                value = value.checked_add(int(node, second)?)?;
            }
            total = total.checked_add(value)?;
            last = Some(node);
        }
        if !self.charge_steps(steps * len as u64) {
            return None;
        }
        // The parameter's slot holds the last element afterwards, as after the loop.
        if let (Some(last), Some(place)) = (last, frame.get_mut(param.0 as usize)) {
            *place = Value::Node(last);
        }
        Some(Value::Int(total))
    }

    fn string_method(
        &mut self,
        op: Builtin,
        s: Str<'a>,
        arg: Option<&ir::Expr>,
        frame: &mut Frame<'a>,
        expr: &ir::Expr,
    ) -> Result<'a> {
        // The common cases return the string itself: text that is already trimmed or
        // already in the wanted case (checked for ASCII only) needs no new string.
        let text = s.as_str();
        if !matches!(op, Builtin::StartsWith | Builtin::EndsWith) {
            self.charge_scan(text.len(), expr)?;
        }
        let unchanged = match op {
            Builtin::Trim => text.trim().len() == text.len(),
            Builtin::Lower => text.is_ascii() && !text.bytes().any(|b| b.is_ascii_uppercase()),
            Builtin::Upper => text.is_ascii() && !text.bytes().any(|b| b.is_ascii_lowercase()),
            _ => false,
        };
        if unchanged {
            return Ok(Value::Str(s));
        }
        if let (Builtin::Trim, Str::Borrowed(borrowed)) = (op, &s) {
            return Ok(Value::Str(Str::Borrowed(borrowed.trim())));
        }
        let other = match arg {
            Some(arg) => Some(self.text(arg, frame)?),
            None => None,
        };
        let other = other.as_ref().map(Str::as_str).unwrap_or("");
        self.charge_scan(other.len(), expr)?;
        Ok(match op {
            Builtin::StrLen => Value::Int(text.chars().count() as i64),
            Builtin::StrContains => Value::Bool(text.contains(other)),
            Builtin::StartsWith => Value::Bool(text.starts_with(other)),
            Builtin::EndsWith => Value::Bool(text.ends_with(other)),
            Builtin::Lower | Builtin::Upper => {
                self.charge_string(text.len(), expr)?;
                let changed = if op == Builtin::Lower {
                    text.to_lowercase()
                } else {
                    text.to_uppercase()
                };
                // A few characters grow when their case changes.
                self.charge_string(changed.len().saturating_sub(text.len()), expr)?;
                Value::str(changed)
            }
            Builtin::Trim => {
                let trimmed = text.trim();
                self.charge_string(trimmed.len(), expr)?;
                Value::str(trimmed)
            }
            Builtin::Split => {
                // Counted first (no further than the budget could pay for), so that a
                // split too large for the budget builds nothing.
                let affordable = self.remaining_bytes() / (SLOT_BYTES + SHARED_HEADER_BYTES);
                let pieces = text
                    .split(other)
                    .take(
                        usize::try_from(affordable)
                            .unwrap_or(usize::MAX)
                            .saturating_add(1),
                    )
                    .count();
                self.charge_list(pieces, expr)?;
                let headers = SHARED_HEADER_BYTES.saturating_mul(pieces as u64);
                self.charge_built_bytes((text.len() as u64).saturating_add(headers), expr)?;
                Value::List(text.split(other).map(Value::str).collect())
            }
            _ => return Err(Self::error(expr, "not a string method")),
        })
    }
}

/// `sum`, `min` or `max`, one value at a time. Values of other types are skipped;
/// a sum with a duration in it is a duration.
struct Fold<'a> {
    op: Builtin,
    total: i64,
    duration: bool,
    best: Option<Value<'a>>,
}

impl<'a> Fold<'a> {
    fn new(op: Builtin) -> Fold<'a> {
        Fold {
            op,
            total: 0,
            duration: false,
            best: None,
        }
    }

    fn push(&mut self, n: Value<'a>, expr: &ir::Expr) -> Result<'a, ()> {
        if self.op == Builtin::Sum {
            let value = match n {
                Value::Int(i) => i,
                Value::Duration(d) => {
                    self.duration = true;
                    d
                }
                _ => return Ok(()),
            };
            self.total = self
                .total
                .checked_add(value)
                .ok_or_else(|| Ctx::error(expr, "integer overflow in `sum`"))?;
            return Ok(());
        }
        let wanted = if self.op == Builtin::Min {
            std::cmp::Ordering::Less
        } else {
            std::cmp::Ordering::Greater
        };
        if self
            .best
            .as_ref()
            .is_none_or(|current| n.compare(current) == Some(wanted))
        {
            self.best = Some(n);
        }
        Ok(())
    }

    fn finish(self) -> Value<'a> {
        match self.op {
            Builtin::Sum if self.duration => Value::Duration(self.total),
            Builtin::Sum => Value::Int(self.total),
            _ => self.best.unwrap_or(Value::Null),
        }
    }
}

fn weekday_name(day: jiff::civil::Weekday) -> &'static str {
    // The checker types the result by the same table.
    let monday_first = usize::try_from(day.to_monday_zero_offset()).unwrap_or_default();
    ir::WEEKDAYS.get(monday_first).copied().unwrap_or_default()
}
