//! The expression interpreter: evaluates IR expressions against the change view, with
//! a budget of work and memory, `let`s evaluated on first use and a per-evaluation
//! cache. Its parts
//! have their own modules: the built-in methods, the operators, and the per-glob
//! match lists over the change's files.

mod builtins;
mod file_matches;
pub mod operators;

use std::rc::Rc;

use warden_change::view::{Node, View, field_index, record_index};
use warden_change::{Change, Time};
use warden_check::ir::{self, ExprKind};
use warden_syntax::{FileId, Span};

use crate::budget::{Budget, SHARED_HEADER_BYTES, SLOT_BYTES};
use crate::compiled::Compiled;
use crate::globs::{PathIndex, Places};
use crate::report::Witness;
use crate::value::{ApproverSet, Str, Value};
use file_matches::{FileMatches, FirstMatches};

/// Why an expression could not be evaluated; makes the rule's outcome `error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError {
    pub message: String,
    pub file: FileId,
    pub span: Span,
}

/// Errors are rare and values are returned constantly: the error is boxed so that a
/// `Result` is no larger than the value it carries.
pub type Result<'a, T = Value<'a>> = std::result::Result<T, Box<EvalError>>;

enum GlobalSlot<'a> {
    Unset,
    InProgress,
    Done(Result<'a>),
}

/// Field indexes the interpreter treats specially, resolved once.
struct Fields {
    change_files: Option<usize>,
    file_path: Option<usize>,
    file_previous_path: Option<usize>,
    file_additions: Option<usize>,
    file_deletions: Option<usize>,
}

pub struct Ctx<'a, 'p> {
    pub view: View<'a>,
    pub change: &'a Change,
    pub compiled: &'p Compiled,
    cache: Vec<Option<Result<'a>>>,
    /// The witnesses of cached computations, once explained.
    witness_cache: Vec<Option<Rc<[Witness]>>>,
    globals: Vec<GlobalSlot<'a>>,
    file_matches: Option<FileMatches>,
    /// The first file matching each glob, when `any` asked before any list was made.
    first_matches: Option<FirstMatches>,
    /// What the glob tables say of each directory and name of the change, kept for the
    /// second of the matchers that make the lists and the first matches.
    places: Option<Places<'p>>,
    /// The index of the change's paths, when the caller has one.
    pub paths: Option<&'a PathIndex>,
    /// The change's fields, by field index, as they are first read.
    root_fields: Vec<Option<Value<'a>>>,
    fields: Fields,
    spare_frames: Vec<Frame<'a>>,
    /// The `let`s of the body being evaluated (see `with_lets`).
    lets: &'p [(ir::LocalId, ir::Expr)],
    budget: Budget,
    /// Where branch coverage is recorded, for `warden test` (off: `None`).
    pub coverage: Option<Box<crate::coverage::Coverage>>,
}

pub type Frame<'a> = Vec<Value<'a>>;

impl<'a, 'p> Ctx<'a, 'p> {
    pub fn new(compiled: &'p Compiled, change: &'a Change, budget: Budget) -> Self {
        let program = &compiled.program;
        Ctx {
            view: View::new(change),
            change,
            compiled,
            cache: (0..program.cache_slots).map(|_| None).collect(),
            witness_cache: (0..program.cache_slots).map(|_| None).collect(),
            globals: program.globals.iter().map(|_| GlobalSlot::Unset).collect(),
            file_matches: None,
            first_matches: None,
            places: None,
            paths: None,
            root_fields: vec![
                None;
                record_index("Change")
                    .and_then(|r| warden_change::view::RECORDS.get(r))
                    .map_or(0, |r| r.fields.len())
            ],
            fields: Fields {
                change_files: record_index("Change").and_then(|r| field_index(r, "files")),
                file_path: record_index("File").and_then(|r| field_index(r, "path")),
                file_previous_path: record_index("File")
                    .and_then(|r| field_index(r, "previous_path")),
                file_additions: record_index("File").and_then(|r| field_index(r, "additions")),
                file_deletions: record_index("File").and_then(|r| field_index(r, "deletions")),
            },
            spare_frames: Vec::new(),
            lets: &[],
            budget,
            coverage: None,
        }
    }

    pub fn program(&self) -> &'p ir::Program {
        &self.compiled.program
    }

    /// A frame of `slots` unset slots; a recycled one when there is one (see
    /// [`Ctx::recycle`]).
    fn frame(&mut self, slots: u32) -> Frame<'a> {
        let mut frame = self.spare_frames.pop().unwrap_or_default();
        frame.resize(slots as usize, Value::Unset);
        frame
    }

    /// Runs `f` in a frame of `slots` slots, with `lets` as the body's `let`s, and
    /// recycles the frame after: a rule, a definition, an exemption, an override.
    pub fn in_frame<T>(
        &mut self,
        slots: u32,
        lets: &'p [(ir::LocalId, ir::Expr)],
        f: impl FnOnce(&mut Self, &mut Frame<'a>) -> T,
    ) -> T {
        let mut frame = self.frame(slots);
        let result = self.with_lets(lets, |ctx| f(ctx, &mut frame));
        self.recycle(frame);
        result
    }

    fn error(expr: &ir::Expr, message: impl Into<String>) -> Box<EvalError> {
        Box::new(EvalError {
            message: message.into(),
            file: expr.file,
            span: expr.span,
        })
    }

    /// The error of an expression evaluated once the budget is spent.
    #[cold]
    fn exhausted(&self, expr: &ir::Expr) -> Box<EvalError> {
        Self::error(expr, self.budget.exhausted())
    }

    /// Counts `steps` expressions evaluated at once, if the budget can pay for all of
    /// them; otherwise counts nothing and returns false.
    pub fn charge_steps(&mut self, steps: u64) -> bool {
        self.budget.steps(steps)
    }

    /// Charges the work of scanning `bytes` (see [`Budget`]).
    pub fn charge_scan(&mut self, bytes: usize, at: &ir::Expr) -> Result<'a, ()> {
        self.charge_work(bytes as u64, at)
    }

    /// Charges work worth `bytes` scanned: comparisons, searches, sorting.
    pub fn charge_work(&mut self, bytes: u64, at: &ir::Expr) -> Result<'a, ()> {
        if self.budget.scan(bytes) {
            Ok(())
        } else {
            Err(self.exhausted(at))
        }
    }

    /// Charges building a string of `bytes` bytes, in memory and work; before the
    /// string is built where its size is known, so an exhausted budget allocates
    /// nothing.
    pub fn charge_string(&mut self, bytes: usize, at: &ir::Expr) -> Result<'a, ()> {
        self.charge_built_bytes((bytes as u64).saturating_add(SHARED_HEADER_BYTES), at)
    }

    /// Charges building a list of `len` elements (its slots; the elements are
    /// charged where they are built).
    pub fn charge_list(&mut self, len: usize, at: &ir::Expr) -> Result<'a, ()> {
        let bytes = SLOT_BYTES.saturating_mul(len as u64);
        self.charge_built_bytes(bytes.saturating_add(SHARED_HEADER_BYTES), at)
    }

    /// Charges `bytes` built, in memory and work.
    pub fn charge_built_bytes(&mut self, bytes: u64, at: &ir::Expr) -> Result<'a, ()> {
        if self.budget.build(bytes) {
            Ok(())
        } else {
            Err(self.exhausted(at))
        }
    }

    /// Charges copying a value's contents (into a message, an explanation or a
    /// list of approver names) before it is copied: about the bytes it holds, in
    /// memory and work.
    pub fn charge_copied(&mut self, value: &Value<'a>, at: &ir::Expr) -> Result<'a, ()> {
        let bytes = value.held_bytes(self.budget.remaining_bytes());
        self.charge_built_bytes(bytes, at)
    }

    /// What the budget has left, in bytes: a bound for walks over shared values.
    pub fn remaining_bytes(&self) -> u64 {
        self.budget.remaining_bytes()
    }

    pub fn bool(&mut self, expr: &ir::Expr, frame: &mut Frame<'a>) -> Result<'a, bool> {
        match self.eval(expr, frame)? {
            Value::Bool(b) => Ok(b),
            other => Err(Self::error(
                expr,
                format!("expected a bool, found `{}`", other.display(&self.view)),
            )),
        }
    }

    pub fn eval(&mut self, expr: &ir::Expr, frame: &mut Frame<'a>) -> Result<'a> {
        if !self.budget.step() {
            return Err(self.exhausted(expr));
        }
        Ok(match &expr.kind {
            ExprKind::Bool(b) => Value::Bool(*b),
            ExprKind::Int(i) => Value::Int(*i),
            ExprKind::Duration(d) => Value::Duration(*d),
            ExprKind::Str(s) => Value::Str(Str::Owned(s.clone())),
            ExprKind::Timestamp(t) => Value::Time(Time::new(*t, jiff::tz::Offset::UTC)),
            ExprKind::Null => Value::Null,
            ExprKind::Anyone => Value::Approvers(Rc::new(ApproverSet::Anyone)),
            ExprKind::Unchecked => {
                return Err(Self::error(
                    expr,
                    "internal error: a standard definition the checker skipped was evaluated",
                ));
            }
            ExprKind::Glob(id) => Value::Glob(*id),
            ExprKind::Regex(id) => Value::Regex(*id),
            ExprKind::List(items) => {
                self.charge_list(items.len(), expr)?;
                let values = items
                    .iter()
                    .map(|i| self.eval(i, frame))
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                Value::List(values.into())
            }
            ExprKind::Change => Value::Node(self.view.root()),
            ExprKind::Local(slot) => match frame.get(slot.0 as usize) {
                Some(Value::Unset) => self.force_let(*slot, frame)?,
                Some(value) => value.clone(),
                None => Value::Null,
            },
            ExprKind::Global(id) => self.global(*id, expr)?,
            ExprKind::Field { base, field, .. } => match self.eval(base, frame)? {
                Value::Null => Value::Null,
                Value::Node(Node::Change(_)) => self.change_field(*field),
                Value::Node(node) => {
                    let value = Value::from_datum(self.view.field(node, *field));
                    if let Value::List(items) = &value {
                        self.charge_list(items.len(), expr)?;
                    }
                    value
                }
                other => {
                    return Err(Self::error(
                        expr,
                        format!("`{}` has no fields", other.display(&self.view)),
                    ));
                }
            },
            ExprKind::Index { base, index } => {
                let base = self.eval(base, frame)?;
                let index = self.eval(index, frame)?;
                match (base, index) {
                    (Value::List(items), Value::Int(i)) => usize::try_from(i)
                        .ok()
                        .and_then(|i| items.get(i).cloned())
                        .unwrap_or(Value::Null),
                    (Value::Map(map), Value::Str(key)) => map
                        .get(key.as_str())
                        .map_or(Value::Null, |v| Value::Str(Str::Borrowed(v))),
                    _ => Value::Null,
                }
            }
            ExprKind::Call { func, args } => {
                let (function, mut callee) = self.enter(*func, args, frame, expr)?;
                let result =
                    self.with_lets(&function.lets, |ctx| ctx.eval(&function.body, &mut callee));
                self.recycle(callee);
                result?
            }
            ExprKind::Builtin { op, args, optional } => {
                let value = self.builtin(*op, args, *optional, frame, expr)?;
                self.cover_result(expr, &value);
                value
            }
            ExprKind::Lambda { .. } => return Err(Self::error(expr, "a lambda is not a value")),
            ExprKind::Not(inner) => Value::Bool(!self.bool(inner, frame)?),
            ExprKind::Neg(inner) => match self.eval(inner, frame)? {
                Value::Int(i) => Value::Int(
                    i.checked_neg()
                        .ok_or_else(|| Self::error(expr, "integer overflow"))?,
                ),
                Value::Duration(d) => Value::Duration(
                    d.checked_neg()
                        .ok_or_else(|| Self::error(expr, "integer overflow"))?,
                ),
                _ => Value::Null,
            },
            ExprKind::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs, frame, expr)?,
            ExprKind::If {
                condition,
                then,
                otherwise,
            } => {
                let taken = self.bool(condition, frame)?;
                self.cover_if(expr, taken);
                if taken {
                    self.eval(then, frame)?
                } else {
                    self.eval(otherwise, frame)?
                }
            }
            ExprKind::AnyFileMatches { glob, touches } => {
                let value = Value::Bool(self.first_file_match(*glob, *touches, expr)?.is_some());
                self.cover_result(expr, &value);
                value
            }
            ExprKind::Cached { slot, expr: inner } => {
                let index = slot.0 as usize;
                if let Some(Some(done)) = self.cache.get(index) {
                    return done.clone();
                }
                let result = self.eval(inner, frame);
                if let Some(entry) = self.cache.get_mut(index) {
                    *entry = Some(result.clone());
                }
                result?
            }
        })
    }

    fn global(&mut self, id: ir::GlobalId, at: &ir::Expr) -> Result<'a> {
        let index = id.0 as usize;
        match self.globals.get(index) {
            Some(GlobalSlot::Done(result)) => return result.clone(),
            Some(GlobalSlot::InProgress) => {
                return Err(Self::error(at, "a definition depends on itself"));
            }
            _ => {}
        }
        let Some(global) = self.program().globals.get(index) else {
            return Err(Self::error(at, "unknown definition"));
        };
        if let Some(slot) = self.globals.get_mut(index) {
            *slot = GlobalSlot::InProgress;
        }
        let result = self.in_frame(global.frame.slots, &[], |ctx, frame| {
            ctx.eval(&global.value, frame)
        });
        if let Some(slot) = self.globals.get_mut(index) {
            *slot = GlobalSlot::Done(result.clone());
        }
        result
    }

    pub fn cached_witnesses(&self, slot: ir::CacheId) -> Option<Rc<[Witness]>> {
        self.witness_cache.get(slot.0 as usize).cloned().flatten()
    }

    pub fn remember_witnesses(&mut self, slot: ir::CacheId, witnesses: Vec<Witness>) {
        if let Some(entry) = self.witness_cache.get_mut(slot.0 as usize) {
            *entry = Some(witnesses.into());
        }
    }

    /// Starts a call: the function and its frame, with the arguments evaluated
    /// (in the caller's frame) straight into the parameters' slots.
    pub fn enter(
        &mut self,
        func: ir::FnId,
        args: &[ir::Expr],
        caller: &mut Frame<'a>,
        at: &ir::Expr,
    ) -> Result<'a, (&'p ir::Function, Frame<'a>)> {
        let Some(function) = self.program().functions.get(func.0 as usize) else {
            return Err(Self::error(at, "unknown function"));
        };
        let mut frame = self.frame(function.frame.slots);
        for (slot, arg) in function.params.iter().zip(args) {
            let value = self.eval(arg, caller)?;
            if let Some(place) = frame.get_mut(slot.0 as usize) {
                *place = value;
            }
        }
        Ok((function, frame))
    }

    /// Keeps a finished frame for the next call, rule or definition: they are frequent,
    /// and most of their cost would otherwise be allocating frames.
    pub fn recycle(&mut self, mut frame: Frame<'a>) {
        frame.clear();
        self.spare_frames.push(frame);
    }

    /// Runs `f` with `lets` as the current body's `let`s: each is evaluated the first
    /// time it is read, so a rule pays only for the bindings its outcome needs.
    pub fn with_lets<T>(
        &mut self,
        lets: &'p [(ir::LocalId, ir::Expr)],
        f: impl FnOnce(&mut Self) -> T,
    ) -> T {
        let outer = std::mem::replace(&mut self.lets, lets);
        let result = f(self);
        self.lets = outer;
        result
    }

    /// Evaluates the `let` bound to `slot` and keeps its value in the frame.
    fn force_let(&mut self, slot: ir::LocalId, frame: &mut Frame<'a>) -> Result<'a> {
        let Some((_, value)) = self.lets.iter().find(|(s, _)| *s == slot) else {
            return Ok(Value::Null);
        };
        let value = self.eval(value, frame)?;
        if let Some(place) = frame.get_mut(slot.0 as usize) {
            *place = value.clone();
        }
        Ok(value)
    }

    /// A field of the change, converted once per evaluation: `change.files` and the
    /// other lists are read by many rules, and sharing the list also lets list
    /// methods recognise `change.files` (see `files_quantifier`).
    fn change_field(&mut self, field: usize) -> Value<'a> {
        if let Some(Some(value)) = self.root_fields.get(field) {
            return value.clone();
        }
        let value = Value::from_datum(self.view.field(self.view.root(), field));
        if let Some(slot) = self.root_fields.get_mut(field) {
            *slot = Some(value.clone());
        }
        value
    }

    /// Evaluates a lambda's body with its parameter bound to `value`.
    pub fn apply(
        &mut self,
        lambda: &ir::Expr,
        value: Value<'a>,
        frame: &mut Frame<'a>,
    ) -> Result<'a> {
        let ExprKind::Lambda { param, body } = &lambda.kind else {
            return Err(Self::error(lambda, "expected a lambda"));
        };
        if let Some(place) = frame.get_mut(param.0 as usize) {
            *place = value;
        }
        self.eval(body, frame)
    }

    pub fn apply_bool(
        &mut self,
        lambda: &ir::Expr,
        value: Value<'a>,
        frame: &mut Frame<'a>,
    ) -> Result<'a, bool> {
        match self.apply(lambda, value, frame)? {
            Value::Bool(b) => Ok(b),
            _ => Err(Self::error(lambda, "expected a bool")),
        }
    }

    fn text(&mut self, expr: &ir::Expr, frame: &mut Frame<'a>) -> Result<'a, Str<'a>> {
        match self.eval(expr, frame)? {
            Value::Str(s) => Ok(s),
            other => Err(Self::error(
                expr,
                format!("expected a string, found `{}`", other.display(&self.view)),
            )),
        }
    }
}
