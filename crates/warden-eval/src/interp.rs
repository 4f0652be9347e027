//! The expression interpreter: evaluates IR expressions against the change view, with
//! a step budget, a per-evaluation cache and the policy-wide glob matcher.

use std::collections::HashMap;
use std::rc::Rc;
use std::sync::OnceLock;

use warden_change::view::{Node, View, field_index, record_index};
use warden_change::{Change, Time};
use warden_check::ir::{self, BinOp, Builtin, ExprKind, GlobId, RegexId};
use warden_syntax::{FileId, Span};

use crate::globs::{BuildResult, Globs};
use crate::report::Witness;
use crate::value::{ApproverSet, Str, Value};

/// A checked policy, compiled for evaluation: its globs matched together (so each path
/// is read once per evaluation), its regexes, and the labels every report repeats.
pub struct Compiled {
    pub program: ir::Program,
    globs: Globs,
    /// Each regex of the program, compiled on first use.
    regexes: Vec<OnceLock<BuildResult<regex::Regex>>>,
    labels: Vec<RuleLabel>,
}

impl Compiled {
    /// Prepares a checked program; its patterns are compiled when first used.
    pub fn new(program: ir::Program) -> Compiled {
        let globs = Globs::new(&program.globs);
        let labels = program
            .rules
            .iter()
            .enumerate()
            .map(|(index, rule)| RuleLabel {
                index,
                name: rule.name.as_str().into(),
                location: rule.location.to_string().into(),
                doc: rule.doc.as_deref().map(Rc::from),
            })
            .collect();
        Compiled {
            labels,
            globs,
            regexes: program.regexes.iter().map(|_| OnceLock::new()).collect(),
            program,
        }
    }

    /// A regex of the program, compiled the first time it is asked for. The checker
    /// has checked its syntax; compiling can still exceed the regex crate's size limit.
    pub fn regex(&self, id: RegexId) -> BuildResult<&regex::Regex> {
        let (Some(pattern), Some(cell)) = (
            self.program.regexes.get(id.0 as usize),
            self.regexes.get(id.0 as usize),
        ) else {
            return Err(format!("unknown regex #{}", id.0));
        };
        compile_once(pattern, cell)
            .map_err(|e| format!("the regex `{}` could not be compiled: {e}", pattern.source))
    }

    /// Compiles every regex now (for `warden check`): the regexes that cannot be, each
    /// with why.
    pub fn uncompilable_regexes(&self) -> Vec<(&ir::RegexPattern, String)> {
        self.program
            .regexes
            .iter()
            .zip(&self.regexes)
            .filter_map(|(pattern, cell)| Some((pattern, compile_once(pattern, cell).err()?)))
            .collect()
    }

    /// The name, location and documentation of every rule, in rule order, shared by
    /// every report.
    pub fn labels(&self) -> &[RuleLabel] {
        &self.labels
    }

    pub fn glob_patterns(&self, glob: GlobId) -> String {
        self.program
            .globs
            .get(glob.0 as usize)
            .map(|patterns| {
                let sources: Vec<&str> = patterns.iter().map(|p| p.source.as_str()).collect();
                sources.join("`, `")
            })
            .unwrap_or_default()
    }
}

/// A regex compiled on first use, or why it cannot be.
fn compile_once<'c>(
    pattern: &ir::RegexPattern,
    cell: &'c OnceLock<BuildResult<regex::Regex>>,
) -> BuildResult<&'c regex::Regex> {
    cell.get_or_init(|| {
        regex::Regex::new(&pattern.source).map_err(|e| {
            let reason = e.to_string();
            let last = reason.lines().last().unwrap_or_default();
            last.trim().trim_end_matches('.').to_string()
        })
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// What a report says of a rule whatever the change: built once per policy.
pub struct RuleLabel {
    pub index: usize,
    pub name: Rc<str>,
    pub location: Rc<str>,
    pub doc: Option<Rc<str>>,
}

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

/// For each glob, the files (indexes, ascending) whose path matches, and those whose
/// path or previous path matches (`touches`). Built in one pass over the paths.
struct FileMatches {
    path: Vec<Vec<u32>>,
    /// `None` when no file has a previous path: `touches` is then `path`.
    touch: Option<Vec<Vec<u32>>>,
    /// A file's index by the address of its path, so that `f.path matches G` and
    /// `f.touches(G)` inside any function read the table instead of matching again.
    by_path: HashMap<usize, u32, foldhash::fast::FixedState>,
}

impl FileMatches {
    /// The index of the file whose path is exactly this string (same memory).
    fn file_of(&self, change: &Change, text: &str) -> Option<u32> {
        let index = *self.by_path.get(&(text.as_ptr() as usize))?;
        let file = change.files.get(index as usize)?;
        (file.path.len() == text.len()).then_some(index)
    }

    /// The table of `f.path matches G` or of `f.touches(G)`.
    fn table(&self, touches: bool) -> &[Vec<u32>] {
        match &self.touch {
            Some(touch) if touches => touch,
            _ => &self.path,
        }
    }

    fn has(table: &[Vec<u32>], glob: GlobId, file: u32) -> bool {
        table
            .get(glob.0 as usize)
            .is_some_and(|files| files.binary_search(&file).is_ok())
    }
}

/// Field indexes the interpreter treats specially, resolved once.
struct Fields {
    change_files: Option<usize>,
    file_path: Option<usize>,
    file_previous_path: Option<usize>,
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
    /// The change's fields, by field index, as they are first read.
    root_fields: Vec<Option<Value<'a>>>,
    fields: Fields,
    spare_frames: Vec<Frame<'a>>,
    /// The `let`s of the body being evaluated (see `with_lets`).
    lets: &'p [(ir::LocalId, ir::Expr)],
    steps: u64,
    budget: u64,
}

pub type Frame<'a> = Vec<Value<'a>>;

impl<'a, 'p> Ctx<'a, 'p> {
    pub fn new(compiled: &'p Compiled, change: &'a Change, budget: u64) -> Self {
        let program = &compiled.program;
        Ctx {
            view: View::new(change),
            change,
            compiled,
            cache: (0..program.cache_slots).map(|_| None).collect(),
            witness_cache: (0..program.cache_slots).map(|_| None).collect(),
            globals: program.globals.iter().map(|_| GlobalSlot::Unset).collect(),
            file_matches: None,
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
            },
            spare_frames: Vec::new(),
            lets: &[],
            steps: 0,
            budget,
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
        self.steps += 1;
        if self.steps > self.budget {
            return Err(Self::error(
                expr,
                format!(
                    "the evaluation budget of {} steps is exhausted",
                    self.budget
                ),
            ));
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
                Value::Node(node) => Value::from_datum(self.view.field(node, *field)),
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
                self.builtin(*op, args, *optional, frame, expr)?
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
                if self.bool(condition, frame)? {
                    self.eval(then, frame)?
                } else {
                    self.eval(otherwise, frame)?
                }
            }
            ExprKind::AnyFileMatches { glob, touches } => {
                Value::Bool(self.first_file_match(*glob, *touches, expr)?.is_some())
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

    /// The files matching a glob (path only, or path or previous path), through the
    /// policy-wide matcher that sees each path once per evaluation.
    pub fn files_matching(
        &mut self,
        glob: GlobId,
        touches: bool,
        at: &ir::Expr,
    ) -> Result<'a, &[u32]> {
        if self.file_matches.is_none() {
            let table = self.match_files().map_err(|e| {
                Self::error(at, format!("the policy's globs could not be compiled: {e}"))
            })?;
            self.file_matches = Some(table);
        }
        let Some(matches) = &self.file_matches else {
            return Ok(&[]);
        };
        let table = matches.table(touches);
        Ok(table.get(glob.0 as usize).map_or(&[], Vec::as_slice))
    }

    /// Matches every path (and previous path) of the change against every glob once.
    fn match_files(&self) -> BuildResult<FileMatches> {
        let globs = &self.compiled.globs;
        let mut path: Vec<Vec<u32>> = vec![Vec::new(); globs.len()];
        let renamed = self.change.files.iter().any(|f| f.previous_path.is_some());
        let mut touch = renamed.then(|| vec![Vec::new(); globs.len()]);
        let paths = self.change.files.iter().flat_map(|file| {
            std::iter::once(file.path.as_str()).chain(file.previous_path.as_deref())
        });
        let mut matcher = globs.matcher(paths)?;
        // A glob with several matching patterns is reported once per pattern: a file
        // is added when it is not already the last one.
        let add = |table: &mut Vec<Vec<u32>>, glob: GlobId, index: u32| {
            if let Some(files) = table.get_mut(glob.0 as usize)
                && files.last() != Some(&index)
            {
                files.push(index);
            }
        };
        for (index, file) in self.change.files.iter().enumerate() {
            let index = index as u32;
            matcher.matching(&file.path, |glob| {
                add(&mut path, glob, index);
                if let Some(touch) = &mut touch {
                    add(touch, glob, index);
                }
            });
            if let (Some(previous), Some(touch)) = (&file.previous_path, &mut touch) {
                matcher.matching(previous, |glob| add(touch, glob, index));
            }
        }
        let by_path = self
            .change
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| (f.path.as_ptr() as usize, i as u32))
            .collect();
        Ok(FileMatches {
            path,
            touch,
            by_path,
        })
    }

    /// Index of the first file matching a glob.
    pub fn first_file_match(
        &mut self,
        glob: GlobId,
        touches: bool,
        at: &ir::Expr,
    ) -> Result<'a, Option<usize>> {
        Ok(self
            .files_matching(glob, touches, at)?
            .first()
            .map(|i| *i as usize))
    }

    /// When `lambda` is a glob test on its parameter (`f => f.touches(G)` or
    /// `f => f.path matches G`, `G` not depending on `f`), the glob and whether it
    /// is `touches`.
    fn file_glob_test(
        &mut self,
        lambda: &ir::Expr,
        frame: &mut Frame<'a>,
    ) -> Result<'a, Option<(GlobId, bool)>> {
        let ExprKind::Lambda { param, body } = &lambda.kind else {
            return Ok(None);
        };
        let is_param = |e: &ir::Expr| matches!(e.kind, ExprKind::Local(l) if l == *param);
        let (pattern, touches) = match &body.kind {
            ExprKind::Builtin {
                op: Builtin::Touches,
                args,
                ..
            } => match args.as_slice() {
                [file, pattern] if is_param(file) => (pattern, true),
                _ => return Ok(None),
            },
            ExprKind::Binary {
                op: BinOp::Matches,
                lhs,
                rhs,
            } => match &lhs.kind {
                ExprKind::Field { base, field, .. }
                    if is_param(base) && Some(*field) == self.fields.file_path =>
                {
                    (&**rhs, false)
                }
                _ => return Ok(None),
            },
            _ => return Ok(None),
        };
        if !matches!(
            pattern.kind,
            ExprKind::Glob(_) | ExprKind::Global(_) | ExprKind::Local(_)
        ) || is_param(pattern)
        {
            return Ok(None);
        }
        Ok(match self.eval(pattern, frame)? {
            Value::Glob(glob) => Some((glob, touches)),
            _ => None,
        })
    }

    /// `any`, `all`, `none`, `count` and `filter` of a glob test over `change.files`,
    /// answered from the policy-wide matcher.
    fn files_quantifier(
        &mut self,
        op: Builtin,
        items: &Rc<[Value<'a>]>,
        lambda: &ir::Expr,
        frame: &mut Frame<'a>,
    ) -> Result<'a, Option<Value<'a>>> {
        let files = self
            .fields
            .change_files
            .and_then(|f| self.root_fields.get(f))
            .and_then(Option::as_ref);
        let is_files = matches!(files, Some(Value::List(files)) if Rc::ptr_eq(files, items));
        if !is_files {
            return Ok(None);
        }
        let Some((glob, touches)) = self.file_glob_test(lambda, frame)? else {
            return Ok(None);
        };
        let total = items.len();
        let hits = self.files_matching(glob, touches, lambda)?;
        Ok(Some(match op {
            Builtin::Any => Value::Bool(!hits.is_empty()),
            Builtin::None => Value::Bool(hits.is_empty()),
            Builtin::All => Value::Bool(hits.len() == total),
            Builtin::Count => Value::Int(hits.len() as i64),
            _ => Value::List(
                hits.iter()
                    .filter_map(|i| items.get(*i as usize).cloned())
                    .collect(),
            ),
        }))
    }

    pub fn glob_matches(&self, glob: GlobId, text: &str, at: &ir::Expr) -> Result<'a, bool> {
        if let Some(table) = &self.file_matches
            && let Some(file) = table.file_of(self.change, text)
        {
            return Ok(FileMatches::has(&table.path, glob, file));
        }
        self.compiled
            .globs
            .is_match(glob, text)
            .map_err(|e| Self::error(at, format!("the glob could not be compiled: {e}")))
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

    fn builtin(
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
                let name = self.text(receiver_expr, frame)?.as_str().to_string();
                let set = if op == Builtin::Team {
                    ApproverSet::Team(name)
                } else {
                    ApproverSet::User(name)
                };
                return Ok(Value::Approvers(Rc::new(set)));
            }
            Builtin::Principal => {
                let id = self.text(receiver_expr, frame)?;
                let known = self.change.principals.get_key_value(id.as_str());
                return Ok(
                    known.map_or(Value::Null, |(id, _)| Value::Node(self.view.principal(id)))
                );
            }
            Builtin::Service => {
                let name = self.text(receiver_expr, frame)?;
                return Ok(self
                    .view
                    .service(name.as_str())
                    .map_or(Value::Null, Value::Node));
            }
            _ => {}
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
                if let (Node::File(file), Some(table)) = (node, &self.file_matches)
                    && let Some(index) = table.file_of(self.change, &file.path)
                {
                    return Ok(Value::Bool(FileMatches::has(
                        table.table(true),
                        glob,
                        index,
                    )));
                }
                let mut touched = false;
                let fields = [self.fields.file_path, self.fields.file_previous_path];
                for field in fields.into_iter().flatten() {
                    if let Value::Str(path) = Value::from_datum(self.view.field(node, field)) {
                        touched |= self.glob_matches(glob, path.as_str(), expr)?;
                    }
                }
                Ok(Value::Bool(touched))
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
                    _ => Value::List(kept.into()),
                }
            }
            Builtin::Map | Builtin::FlatMap => {
                let Some(lambda) = arg else {
                    return Err(Self::error(expr, "missing lambda"));
                };
                let mut out = Vec::with_capacity(items.len());
                for item in items.iter() {
                    match (op, self.apply(lambda, item.clone(), frame)?) {
                        (Builtin::FlatMap, Value::List(inner)) => out.extend(inner.iter().cloned()),
                        (Builtin::FlatMap, _) => {}
                        (_, value) => out.push(value),
                    }
                }
                Value::List(out.into())
            }
            Builtin::Sum | Builtin::Min | Builtin::Max => {
                let mut fold = Fold::new(op);
                for item in items.iter() {
                    let number = match arg {
                        Some(lambda) => self.apply(lambda, item.clone(), frame)?,
                        None => item.clone(),
                    };
                    fold.push(number, expr)?;
                }
                fold.finish()
            }
            Builtin::Len => Value::Int(items.len() as i64),
            Builtin::IsEmpty => Value::Bool(items.is_empty()),
            Builtin::Contains => {
                let Some(needle) = arg else {
                    return Err(Self::error(expr, "missing argument"));
                };
                let needle = self.eval(needle, frame)?;
                Value::Bool(items.iter().any(|i| i.equals(&needle, &self.view)))
            }
            Builtin::First => items.first().cloned().unwrap_or(Value::Null),
            Builtin::Last => items.last().cloned().unwrap_or(Value::Null),
            Builtin::Distinct => {
                let mut out: Vec<Value<'a>> = Vec::new();
                for item in items.iter() {
                    if !out.iter().any(|o| o.equals(item, &self.view)) {
                        out.push(item.clone());
                    }
                }
                Value::List(out.into())
            }
            Builtin::Sorted => {
                let mut out = items.to_vec();
                out.sort_by(|a, b| a.compare(b).unwrap_or(std::cmp::Ordering::Equal));
                Value::List(out.into())
            }
            _ => return Err(Self::error(expr, "not a list method")),
        })
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
        Ok(match op {
            Builtin::StrLen => Value::Int(text.chars().count() as i64),
            Builtin::StrContains => Value::Bool(text.contains(other)),
            Builtin::StartsWith => Value::Bool(text.starts_with(other)),
            Builtin::EndsWith => Value::Bool(text.ends_with(other)),
            Builtin::Lower => Value::str(text.to_lowercase()),
            Builtin::Upper => Value::str(text.to_uppercase()),
            Builtin::Trim => Value::str(text.trim()),
            Builtin::Split => Value::List(text.split(other).map(Value::str).collect()),
            _ => return Err(Self::error(expr, "not a string method")),
        })
    }

    fn binary(
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
                    self.bool(lhs, frame)? && self.bool(rhs, frame)?,
                ));
            }
            BinOp::Or => {
                return Ok(Value::Bool(
                    self.bool(lhs, frame)? || self.bool(rhs, frame)?,
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

/// Applies a strict binary operator to two evaluated operands.
pub fn binary_values<'a>(
    ctx: &Ctx<'a, '_>,
    op: BinOp,
    left: Value<'a>,
    right: Value<'a>,
    expr: &ir::Expr,
) -> Result<'a> {
    let overflow = || Ctx::error(expr, "integer overflow");
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
            (Value::Str(a), Value::Str(b)) => Value::str(format!("{}{}", a.as_str(), b.as_str())),
            (Value::List(a), Value::List(b)) => {
                Value::List(a.iter().chain(b.iter()).cloned().collect())
            }
            (Value::Approvers(a), Value::Approvers(b)) => {
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

fn weekday_name(day: jiff::civil::Weekday) -> &'static str {
    use jiff::civil::Weekday::*;
    match day {
        Monday => "mon",
        Tuesday => "tue",
        Wednesday => "wed",
        Thursday => "thu",
        Friday => "fri",
        Saturday => "sat",
        Sunday => "sun",
    }
}
