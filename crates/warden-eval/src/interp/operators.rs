//! The binary operators: `and`, `or` and `??` evaluate their right operand only when
//! needed; the others take two evaluated operands (`binary_values`, which the
//! explanations reuse to show why a comparison failed).

use std::rc::Rc;

use warden_change::Time;
use warden_change::view::field_index;
use warden_check::ir::{self, BinOp};

use super::{Ctx, Frame, Result};
use crate::budget::SLOT_BYTES;
use crate::value::{ApproverSet, Value};

impl<'a> Ctx<'a, '_> {
    pub(super) fn binary(
        &mut self,
        op: BinOp,
        lhs: &ir::Expr,
        rhs: &ir::Expr,
        frame: &mut Frame<'a>,
        expr: &ir::Expr,
    ) -> Result<'a> {
        match op {
            BinOp::And => {
                return Ok(Value::Bool(
                    self.operand(op, lhs, frame)? && self.operand(op, rhs, frame)?,
                ));
            }
            BinOp::Or => {
                return Ok(Value::Bool(
                    self.operand(op, lhs, frame)? || self.operand(op, rhs, frame)?,
                ));
            }
            BinOp::Coalesce => {
                let left = self.eval(lhs, frame)?;
                return if left.is_null() {
                    self.eval(rhs, frame)
                } else {
                    Ok(left)
                };
            }
            _ => {}
        }
        let left = self.eval(lhs, frame)?;
        let right = self.eval(rhs, frame)?;
        binary_values(self, op, left, right, expr)
    }
}

/// Applies a strict binary operator to two evaluated operands.
pub fn binary_values<'a>(
    ctx: &mut Ctx<'a, '_>,
    op: BinOp,
    left: Value<'a>,
    right: Value<'a>,
    expr: &ir::Expr,
) -> Result<'a> {
    let overflow = || Ctx::error(expr, "integer overflow");
    charge_reading(ctx, op, &left, &right, expr)?;
    Ok(match op {
        BinOp::Eq => Value::Bool(left.equals(&right, &ctx.view)),
        BinOp::Ne => Value::Bool(!left.equals(&right, &ctx.view)),
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
            let Some(ordering) = left.compare(&right) else {
                return Err(Ctx::error(
                    expr,
                    format!(
                        "cannot compare `{}` with `{}`",
                        left.display(&ctx.view),
                        right.display(&ctx.view)
                    ),
                ));
            };
            Value::Bool(match op {
                BinOp::Lt => ordering.is_lt(),
                BinOp::Le => ordering.is_le(),
                BinOp::Gt => ordering.is_gt(),
                _ => ordering.is_ge(),
            })
        }
        BinOp::In => match right {
            Value::List(items) => Value::Bool(items.iter().any(|i| i.equals(&left, &ctx.view))),
            Value::Str(haystack) => match left {
                Value::Str(needle) => Value::Bool(haystack.as_str().contains(needle.as_str())),
                _ => Value::Bool(false),
            },
            _ => Value::Bool(false),
        },
        BinOp::Matches => match (left, right) {
            (Value::Str(text), Value::Glob(glob)) => {
                Value::Bool(ctx.glob_matches(glob, text.as_str(), expr)?)
            }
            _ => Value::Bool(false),
        },
        BinOp::MatchesRegex => match (left, right) {
            (Value::Str(text), Value::Regex(regex)) => Value::Bool(
                ctx.compiled
                    .regex(regex)
                    .map_err(|e| Ctx::error(expr, e))?
                    .is_match(text.as_str()),
            ),
            _ => Value::Bool(false),
        },
        BinOp::Within => {
            let (Value::Time(time), Value::Node(window)) = (&left, &right) else {
                return Ok(Value::Bool(false));
            };
            let record = window.record();
            let bound = |name: &str| match field_index(record, name)
                .map(|f| Value::from_datum(ctx.view.field(*window, f)))
            {
                Some(Value::Time(t)) => Some(t),
                _ => None,
            };
            match (bound("start"), bound("end")) {
                (Some(start), Some(end)) => Value::Bool(start <= *time && *time < end),
                _ => Value::Bool(false),
            }
        }
        BinOp::Add => match (left, right) {
            (Value::Int(a), Value::Int(b)) => Value::Int(a.checked_add(b).ok_or_else(overflow)?),
            (Value::Duration(a), Value::Duration(b)) => {
                Value::Duration(a.checked_add(b).ok_or_else(overflow)?)
            }
            (Value::Time(t), Value::Duration(d)) | (Value::Duration(d), Value::Time(t)) => {
                shift(t, d).ok_or_else(overflow)?
            }
            (Value::Str(a), Value::Str(b)) => {
                let (a, b) = (a.as_str(), b.as_str());
                ctx.charge_string(a.len().saturating_add(b.len()), expr)?;
                let mut joined = String::with_capacity(a.len() + b.len());
                joined.push_str(a);
                joined.push_str(b);
                Value::str(joined)
            }
            (Value::List(a), Value::List(b)) => {
                ctx.charge_list(a.len().saturating_add(b.len()), expr)?;
                Value::List(a.iter().chain(b.iter()).cloned().collect())
            }
            (Value::Approvers(a), Value::Approvers(b)) => {
                let bytes = a.held_bytes().saturating_add(b.held_bytes());
                ctx.charge_built_bytes(bytes, expr)?;
                Value::Approvers(Rc::new(ApproverSet::union(&a, &b)))
            }
            _ => Value::Null,
        },
        BinOp::Sub => match (left, right) {
            (Value::Int(a), Value::Int(b)) => Value::Int(a.checked_sub(b).ok_or_else(overflow)?),
            (Value::Duration(a), Value::Duration(b)) => {
                Value::Duration(a.checked_sub(b).ok_or_else(overflow)?)
            }
            (Value::Time(t), Value::Duration(d)) => {
                shift(t, d.checked_neg().ok_or_else(overflow)?).ok_or_else(overflow)?
            }
            (Value::Time(a), Value::Time(b)) => {
                Value::Duration(a.timestamp().as_second() - b.timestamp().as_second())
            }
            _ => Value::Null,
        },
        BinOp::Mul | BinOp::Div | BinOp::Rem => {
            let (Value::Int(a), Value::Int(b)) = (left, right) else {
                return Ok(Value::Null);
            };
            let result = match op {
                BinOp::Mul => a.checked_mul(b).ok_or_else(overflow)?,
                _ if b == 0 => return Err(Ctx::error(expr, "division by zero")),
                BinOp::Div => a.checked_div(b).ok_or_else(overflow)?,
                _ => a.checked_rem(b).ok_or_else(overflow)?,
            };
            Value::Int(result)
        }
        BinOp::And | BinOp::Or | BinOp::Coalesce => Value::Null,
    })
}

fn shift<'a>(time: Time, seconds: i64) -> Option<Value<'a>> {
    let moved = time
        .timestamp()
        .checked_add(jiff::SignedDuration::from_secs(seconds))
        .ok()?;
    Some(Value::Time(Time::new(moved, time.offset())))
}

/// Charges the work of reading the operands: comparing strings or lists, searching a
/// list or a string, matching a glob or a regex (building is charged where it is done).
fn charge_reading<'a>(
    ctx: &mut Ctx<'a, '_>,
    op: BinOp,
    left: &Value<'a>,
    right: &Value<'a>,
    expr: &ir::Expr,
) -> Result<'a, ()> {
    let bytes = match (op, left, right) {
        (_, Value::Str(a), Value::Str(b)) if op != BinOp::Add => {
            if op == BinOp::In {
                a.as_str().len() + b.as_str().len()
            } else {
                a.as_str().len().min(b.as_str().len())
            }
        }
        (BinOp::Eq | BinOp::Ne, Value::List(_), Value::List(_)) => {
            let cap = ctx.remaining_bytes();
            let shorter = left.held_bytes(cap).min(right.held_bytes(cap));
            return ctx.charge_work(shorter, expr);
        }
        (BinOp::In, _, Value::List(items)) => {
            // Each element may be compared with the whole of the left operand.
            let per_item = SLOT_BYTES + left.held_bytes(ctx.remaining_bytes());
            return ctx.charge_work(per_item.saturating_mul(items.len() as u64), expr);
        }
        (BinOp::Matches | BinOp::MatchesRegex, Value::Str(text), _) => text.as_str().len(),
        _ => return Ok(()),
    };
    ctx.charge_scan(bytes, expr)
}
