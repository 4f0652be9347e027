//! Explanations: the witnesses that made a condition true (which file matched which
//! glob, which commit carried which trailer, the numbers compared), and the first part
//! of a condition that was false. Only run after a rule's outcome is known, so
//! explanation-building stays off the hot path.

use std::fmt::Write as _;

use warden_change::view::Node;
use warden_check::ir::{self, BinOp, Builtin, ExprKind};

use crate::interp::operators::binary_values;
use crate::interp::{Ctx, Frame, Result};
use crate::report::Witness;
use crate::value::{Value, list_held_bytes, write_joined};

/// Bounds the witnesses of one condition, so a condition over 10,000 files stays readable.
const MAX_WITNESSES: usize = 12;

impl<'a> Ctx<'a, '_> {
    /// The source of `expr` on one line: runs of whitespace become one space.
    pub fn snippet(&self, expr: &ir::Expr) -> String {
        let mut line = String::new();
        self.write_snippet(expr, &mut line);
        line
    }

    /// Appends [`Ctx::snippet`] to `out`.
    fn write_snippet(&self, expr: &ir::Expr, out: &mut String) {
        let text = self.program().snippet(expr.file, expr.span);
        out.reserve(text.len());
        // Most snippets are already one line with single spaces: copied as they are.
        let one_line = text.bytes().all(|b| b == b' ' || b.is_ascii_graphic())
            && !text.starts_with(' ')
            && !text.ends_with(' ')
            && !text.contains("  ");
        if one_line {
            out.push_str(text);
            return;
        }
        for (index, word) in text.split_whitespace().enumerate() {
            if index > 0 {
                out.push(' ');
            }
            out.push_str(word);
        }
    }

    fn witness(&self, expr: &ir::Expr, detail: String) -> Witness {
        Witness {
            condition: self.snippet(expr),
            detail,
            file: None,
        }
    }

    /// Evaluates a condition and, when it is true, appends why to `out` (when it is
    /// false, `out` is left as it was). Each part is evaluated once on the way down:
    /// explaining by evaluating a part and then explaining it again would repeat the
    /// innermost work once per level of function calls and quantifiers.
    pub fn witnesses(
        &mut self,
        expr: &ir::Expr,
        frame: &mut Frame<'a>,
        out: &mut Vec<Witness>,
    ) -> Result<'a, bool> {
        if out.len() >= MAX_WITNESSES {
            return self.bool(expr, frame);
        }
        let mark = out.len();
        let holds = match &expr.kind {
            ExprKind::Binary {
                op: BinOp::And,
                lhs,
                rhs,
            } => self.witnesses(lhs, frame, out)? && self.witnesses(rhs, frame, out)?,
            ExprKind::Binary {
                op: BinOp::Or,
                lhs,
                rhs,
            } => {
                self.witnesses(lhs, frame, out)? || {
                    out.truncate(mark);
                    self.witnesses(rhs, frame, out)?
                }
            }
            ExprKind::Cached { slot, expr: inner } => {
                // A cached computation depends only on the change: its value is known
                // once evaluated, and its witnesses are the same for every rule.
                if !self.bool(expr, frame)? {
                    return Ok(false);
                }
                if let Some(known) = self.cached_witnesses(*slot) {
                    out.extend(known.iter().cloned());
                } else {
                    let mut found = Vec::new();
                    self.witnesses(inner, frame, &mut found)?;
                    out.extend(found.iter().cloned());
                    self.remember_witnesses(*slot, found);
                }
                true
            }
            ExprKind::Call { func, args } => {
                let (function, mut inner) = self.enter(*func, args, frame, expr)?;
                let result = self.with_lets(&function.lets, |ctx| {
                    ctx.witnesses(&function.body, &mut inner, out)
                });
                self.recycle(inner);
                let holds = result?;
                if holds && out.len() == mark {
                    out.push(self.witness(expr, "true".to_string()));
                }
                holds
            }
            ExprKind::Global(id) => {
                let Some(global) = self.program().globals.get(id.0 as usize) else {
                    return Ok(false);
                };
                self.in_frame(global.frame.slots, &[], |ctx, frame| {
                    ctx.witnesses(&global.value, frame, out)
                })?
            }
            ExprKind::Builtin {
                op: Builtin::Any,
                args,
                ..
            } => self.any_witnesses(expr, args, frame, out)?,
            ExprKind::AnyFileMatches { glob, touches } => {
                let Some(index) = self.first_file_match(*glob, *touches, expr)? else {
                    return Ok(false);
                };
                if let Some(file) = self.change.files.get(index) {
                    let mut detail = String::new();
                    detail.push('`');
                    match &file.previous_path {
                        Some(previous)
                            if *touches && !self.glob_matches(*glob, &file.path, expr)? =>
                        {
                            detail.push_str(previous);
                            detail.push_str("` (renamed to `");
                            detail.push_str(&file.path);
                            detail.push_str("`)");
                        }
                        _ => {
                            detail.push_str(&file.path);
                            detail.push('`');
                        }
                    }
                    detail.push_str(" matches `");
                    self.compiled.write_glob_patterns(*glob, &mut detail);
                    detail.push('`');
                    out.push(Witness {
                        file: Some(file.path.clone()),
                        ..self.witness(expr, detail)
                    });
                }
                true
            }
            ExprKind::Not(inner) => {
                if self.bool(inner, frame)? {
                    return Ok(false);
                }
                // Why the negated condition is false: the part of it that is (`hour >= 9`:
                // 8 >= 9 is false), its values when it is a comparison (8 >= 9 is false),
                // or else the condition itself (`provenance` is false).
                let inner_text = self.snippet(inner);
                let detail = match self.first_failure(inner, frame)? {
                    Some(failed) if failed.condition != inner_text => {
                        format!("`{}`: {}", failed.condition, failed.detail)
                    }
                    Some(failed) if failed.detail != FALSE => failed.detail,
                    _ => format!("`{inner_text}` is false"),
                };
                out.push(self.witness(expr, detail));
                true
            }
            ExprKind::Binary { op, lhs, rhs } => {
                // `??` is evaluated whole; the other operators (not short-circuit) as
                // `Ctx::binary` does, keeping the operands for the explanation.
                let coalesce = *op == BinOp::Coalesce;
                if coalesce && !self.bool(expr, frame)? {
                    return Ok(false);
                }
                let left = self.eval(lhs, frame)?;
                let right = self.eval(rhs, frame)?;
                if !coalesce
                    && !matches!(
                        binary_values(self, *op, left.clone(), right.clone(), expr)?,
                        Value::Bool(true)
                    )
                {
                    return Ok(false);
                }
                let (detail, file) =
                    self.comparison(*op, (lhs, left), (rhs, right), true, frame)?;
                out.push(Witness {
                    file,
                    ..self.witness(expr, detail)
                });
                true
            }
            _ => {
                if !self.bool(expr, frame)? {
                    return Ok(false);
                }
                out.push(self.witness(expr, "true".to_string()));
                true
            }
        };
        if !holds {
            out.truncate(mark);
        }
        Ok(holds)
    }

    /// `xs.any(x => …)`: the witnesses of the first element for which it holds, each
    /// prefixed with that element.
    fn any_witnesses(
        &mut self,
        expr: &ir::Expr,
        args: &[ir::Expr],
        frame: &mut Frame<'a>,
        out: &mut Vec<Witness>,
    ) -> Result<'a, bool> {
        let (Some(list), Some(lambda)) = (args.first(), args.get(1)) else {
            return self.bool(expr, frame);
        };
        let ExprKind::Lambda { param, body } = &lambda.kind else {
            return self.bool(expr, frame);
        };
        let Value::List(items) = self.eval(list, frame)? else {
            return Ok(false);
        };
        for item in items.iter() {
            if let Some(place) = frame.get_mut(param.0 as usize) {
                *place = item.clone();
            }
            let before = out.len();
            if !self.witnesses(body, frame, out)? {
                continue;
            }
            let label = self.element_label(item, expr)?;
            // The facts about one changed file point at it, unless a nested one already
            // names a file of its own.
            let file = self.changed_file(item);
            if out.len() == before {
                out.push(Witness {
                    file,
                    ..self.witness(expr, format!("true for {label}"))
                });
            } else if let Some(nested) = out.get_mut(before..) {
                for witness in nested {
                    witness.detail = format!("{label} › {}", witness.detail);
                    if witness.file.is_none() {
                        witness.file.clone_from(&file);
                    }
                }
            }
            return Ok(true);
        }
        Ok(false)
    }

    /// How an element of a list is named in an explanation: `service checkout`, `42`.
    fn element_label(&mut self, item: &Value<'a>, expr: &ir::Expr) -> Result<'a, String> {
        Ok(match item {
            Value::Node(node) => self.view.element_label(*node),
            other => {
                self.charge_copied(other, expr)?;
                other.display(&self.view)
            }
        })
    }

    /// `xs.all(x => …)` that is false: the first element it fails for, and why
    /// (`false for wave 2: \`w.traffic_percent <= 10\`: 100 <= 10 is false`).
    fn first_counterexample(
        &mut self,
        expr: &ir::Expr,
        args: &[ir::Expr],
        frame: &mut Frame<'a>,
    ) -> Result<'a, Option<String>> {
        let (Some(list), Some(lambda)) = (args.first(), args.get(1)) else {
            return Ok(None);
        };
        let ExprKind::Lambda { param, body } = &lambda.kind else {
            return Ok(None);
        };
        let Value::List(items) = self.eval(list, frame)? else {
            return Ok(None);
        };
        for item in items.iter() {
            if let Some(place) = frame.get_mut(param.0 as usize) {
                *place = item.clone();
            }
            if self.bool(body, frame)? {
                continue;
            }
            let label = self.element_label(item, expr)?;
            return Ok(Some(match self.first_failure(body, frame)? {
                Some(why) => format!("false for {label}: `{}`: {}", why.condition, why.detail),
                None => format!("false for {label}"),
            }));
        }
        Ok(None)
    }

    /// A comparison shown with the values of its operands: `6200 > 5000`, or when it
    /// does not hold `6200 > 9000 is false`; a count is followed by what it counts.
    /// Also the changed file the first counted element is or names, if any.
    fn comparison(
        &mut self,
        op: BinOp,
        (lhs, left): (&ir::Expr, Value<'a>),
        (rhs, right): (&ir::Expr, Value<'a>),
        holds: bool,
        frame: &mut Frame<'a>,
    ) -> Result<'a, (String, Option<String>)> {
        self.charge_copied(&left, lhs)?;
        self.charge_copied(&right, rhs)?;
        let mut detail = String::new();
        self.write_operand(&left, &mut detail);
        if op == BinOp::Within
            && let Value::Node(window) = &right
        {
            detail.push_str(if holds {
                " is within "
            } else {
                " is not within "
            });
            detail.push_str(&self.view.label(*window));
            return Ok((detail, None));
        }
        detail.push(' ');
        detail.push_str(op.symbol());
        detail.push(' ');
        self.write_operand(&right, &mut detail);
        if !holds {
            detail.push_str(" is false");
        }
        let mut file = None;
        for side in [lhs, rhs] {
            let counted = self.write_counted_members(side, frame, &mut detail)?;
            file = file.or(counted);
        }
        Ok((detail, file))
    }

    /// The changed file a value is or names: a file of the change, or a string that is
    /// the path of one (`files.map(f => f.path)`).
    fn changed_file(&self, value: &Value<'a>) -> Option<String> {
        match value {
            Value::Node(Node::File(file)) => Some(file.path.clone()),
            Value::Str(text) => self
                .change
                .files
                .iter()
                .find(|file| file.path == text.as_str())
                .map(|file| file.path.clone()),
            _ => None,
        }
    }

    /// An operand of a comparison: strings, globs and regexes quoted as written.
    fn write_operand(&self, value: &Value<'a>, out: &mut String) {
        match value {
            Value::Str(s) => {
                out.push('`');
                out.push_str(s.as_str());
                out.push('`');
            }
            Value::Glob(glob) => {
                out.push('`');
                self.compiled.write_glob_patterns(*glob, out);
                out.push('`');
            }
            Value::Regex(regex) => {
                out.push_str("regex `");
                let pattern = self.program().regexes.get(regex.0 as usize);
                out.push_str(pattern.map_or("", |p| p.source.as_str()));
                out.push('`');
            }
            other => other.write_display(&self.view, out),
        }
    }

    /// For `xs.len()` in a comparison, appends the elements behind the number:
    /// ` (vetoes: ivan's review of a41e8b03)`, so a count explains itself. Returns the
    /// changed file the first element is or names, if it is or names one.
    fn write_counted_members(
        &mut self,
        expr: &ir::Expr,
        frame: &mut Frame<'a>,
        out: &mut String,
    ) -> Result<'a, Option<String>> {
        const SHOWN: usize = 5;
        let ExprKind::Builtin {
            op: Builtin::Len,
            args,
            ..
        } = &expr.kind
        else {
            return Ok(None);
        };
        let Some(list) = args.first() else {
            return Ok(None);
        };
        let Value::List(items) = self.eval(list, frame)? else {
            return Ok(None);
        };
        if items.is_empty() {
            return Ok(None);
        }
        let shown = items.get(..SHOWN).unwrap_or(&items);
        let bytes = list_held_bytes(shown, self.remaining_bytes());
        self.charge_built_bytes(bytes, list)?;
        out.push_str(" (");
        self.write_snippet(list, out);
        out.push_str(": ");
        write_joined(shown, &self.view, out);
        if items.len() > SHOWN {
            let _ = write!(out, ", and {} more", items.len() - SHOWN);
        }
        out.push(')');
        Ok(shown.first().and_then(|first| self.changed_file(first)))
    }

    /// The first part of a false condition that made it false, for `--explain`.
    pub fn first_failure(
        &mut self,
        expr: &ir::Expr,
        frame: &mut Frame<'a>,
    ) -> Result<'a, Option<Witness>> {
        match &expr.kind {
            ExprKind::Binary {
                op: BinOp::And,
                lhs,
                rhs,
            } => {
                if !self.bool(lhs, frame)? {
                    self.first_failure(lhs, frame)
                } else {
                    self.first_failure(rhs, frame)
                }
            }
            ExprKind::Cached { expr: inner, .. } => self.first_failure(inner, frame),
            ExprKind::Binary { op: BinOp::Or, .. } => {
                // Every alternative is false: each says why, with its values.
                let mut alternatives = Vec::new();
                or_operands(expr, &mut alternatives);
                let mut detail = String::new();
                for alternative in alternatives {
                    if let Some(failed) = self.first_failure(alternative, frame)? {
                        if !detail.is_empty() {
                            detail.push_str("; ");
                        }
                        detail.push('`');
                        detail.push_str(&failed.condition);
                        detail.push_str("`: ");
                        detail.push_str(&failed.detail);
                    }
                }
                Ok(Some(self.witness(expr, detail)))
            }
            ExprKind::Binary { op, lhs, rhs } if !matches!(op, BinOp::Or | BinOp::Coalesce) => {
                let left = self.eval(lhs, frame)?;
                let right = self.eval(rhs, frame)?;
                let (detail, _) = self.comparison(*op, (lhs, left), (rhs, right), false, frame)?;
                Ok(Some(self.witness(expr, detail)))
            }
            ExprKind::Builtin {
                op: op @ (Builtin::Any | Builtin::All),
                args,
                ..
            } => {
                if *op == Builtin::All
                    && let Some(detail) = self.first_counterexample(expr, args, frame)?
                {
                    return Ok(Some(self.witness(expr, detail)));
                }
                let size = match args.first().map(|l| self.eval(l, frame)).transpose()? {
                    Some(Value::List(items)) => items.len(),
                    _ => 0,
                };
                let detail = match size {
                    0 => "the list is empty".to_string(),
                    1 => "false for its one element".to_string(),
                    n => format!("false over its {n} elements"),
                };
                Ok(Some(self.witness(expr, detail)))
            }
            ExprKind::AnyFileMatches { .. } => Ok(Some(self.witness(
                expr,
                match self.change.files.len() {
                    0 => "the change has no files".to_string(),
                    1 => "its one file does not match".to_string(),
                    n => format!("none of its {n} files matches"),
                },
            ))),
            _ => Ok(Some(self.witness(expr, FALSE.to_string()))),
        }
    }
}

/// The operands of a chain of `or`s, left to right: `a or b or c` gives `a`, `b`, `c`.
fn or_operands<'e>(expr: &'e ir::Expr, out: &mut Vec<&'e ir::Expr>) {
    match &expr.kind {
        ExprKind::Binary {
            op: BinOp::Or,
            lhs,
            rhs,
        } => {
            or_operands(lhs, out);
            or_operands(rhs, out);
        }
        _ => out.push(expr),
    }
}

/// The detail of a false condition that has nothing more specific to show.
const FALSE: &str = "false";
