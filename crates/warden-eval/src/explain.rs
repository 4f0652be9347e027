//! Explanations: the witnesses that made a condition true (which file matched which
//! glob, which commit carried which trailer, the numbers compared), and the first part
//! of a condition that was false. Only run after a rule's outcome is known, so
//! explanation-building stays off the hot path.

use warden_check::ir::{self, BinOp, Builtin, ExprKind};

use crate::interp::{Ctx, Frame, Result};
use crate::report::Witness;
use crate::value::Value;

/// Bounds the witnesses of one condition, so a condition over 10,000 files stays readable.
const MAX_WITNESSES: usize = 12;

impl<'a> Ctx<'a, '_> {
    /// The source of `expr` on one line: runs of whitespace become one space.
    pub fn snippet(&self, expr: &ir::Expr) -> String {
        let text = self.program().snippet(expr.file, expr.span);
        let mut line = String::with_capacity(text.len());
        for word in text.split_whitespace() {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        line
    }

    fn witness(&self, expr: &ir::Expr, detail: String) -> Witness {
        Witness {
            condition: self.snippet(expr),
            detail,
        }
    }

    /// Why `expr`, which evaluated to true, is true.
    pub fn witnesses(
        &mut self,
        expr: &ir::Expr,
        frame: &mut Frame<'a>,
        out: &mut Vec<Witness>,
    ) -> Result<'a, ()> {
        if out.len() >= MAX_WITNESSES {
            return Ok(());
        }
        match &expr.kind {
            ExprKind::Binary {
                op: BinOp::And,
                lhs,
                rhs,
            } => {
                self.witnesses(lhs, frame, out)?;
                self.witnesses(rhs, frame, out)?;
            }
            ExprKind::Binary {
                op: BinOp::Or,
                lhs,
                rhs,
            } => {
                if self.bool(lhs, frame)? {
                    self.witnesses(lhs, frame, out)?;
                } else {
                    self.witnesses(rhs, frame, out)?;
                }
            }
            ExprKind::Cached { slot, expr: inner } => {
                // A cached computation depends only on the change, so its witnesses
                // are the same for every rule that asks.
                if let Some(known) = self.cached_witnesses(*slot) {
                    out.extend(known.iter().cloned());
                } else {
                    let mut found = Vec::new();
                    self.witnesses(inner, frame, &mut found)?;
                    out.extend(found.iter().cloned());
                    self.remember_witnesses(*slot, found);
                }
            }
            ExprKind::Call { func, args } => {
                let (function, mut inner) = self.enter(*func, args, frame, expr)?;
                let before = out.len();
                let result = self.with_lets(&function.lets, |ctx| {
                    ctx.witnesses(&function.body, &mut inner, out)
                });
                self.recycle(inner);
                result?;
                if out.len() == before {
                    out.push(self.witness(expr, "true".to_string()));
                }
            }
            ExprKind::Global(id) => {
                let Some(global) = self.program().globals.get(id.0 as usize) else {
                    return Ok(());
                };
                let mut inner = Self::frame(global.frame.slots);
                self.with_lets(&[], |ctx| ctx.witnesses(&global.value, &mut inner, out))?;
            }
            ExprKind::Builtin {
                op: Builtin::Any,
                args,
                ..
            } => {
                let (Some(list), Some(lambda)) = (args.first(), args.get(1)) else {
                    return Ok(());
                };
                let Value::List(items) = self.eval(list, frame)? else {
                    return Ok(());
                };
                for item in items.iter() {
                    if self.apply_bool(lambda, item.clone(), frame)? {
                        let ExprKind::Lambda { body, .. } = &lambda.kind else {
                            break;
                        };
                        let before = out.len();
                        self.witnesses(body, frame, out)?;
                        let label = match item {
                            Value::Node(node) => format!(
                                "{} {}",
                                node.record_name().to_lowercase(),
                                self.view.label(*node)
                            ),
                            other => other.display(&self.view),
                        };
                        if out.len() == before {
                            out.push(self.witness(expr, format!("true for {label}")));
                        } else if let Some(nested) = out.get_mut(before..) {
                            for witness in nested {
                                witness.detail = format!("{label} › {}", witness.detail);
                            }
                        }
                        break;
                    }
                }
            }
            ExprKind::AnyFileMatches { glob, touches } => {
                if let Some(index) = self.first_file_match(*glob, *touches, expr)?
                    && let Some(file) = self.change.files.get(index)
                {
                    let patterns = self.compiled.glob_patterns(*glob);
                    let detail = match &file.previous_path {
                        Some(previous)
                            if *touches && !self.glob_matches(*glob, &file.path, expr)? =>
                        {
                            format!(
                                "`{previous}` (renamed to `{}`) matches `{patterns}`",
                                file.path
                            )
                        }
                        _ => format!("`{}` matches `{patterns}`", file.path),
                    };
                    out.push(self.witness(expr, detail));
                }
            }
            ExprKind::Not(inner) => {
                let detail = match self.first_failure(inner, frame)? {
                    Some(failed) if failed.condition != self.snippet(inner) => {
                        format!("`{}`: {}", failed.condition, failed.detail)
                    }
                    Some(failed) => failed.detail,
                    None => "false".to_string(),
                };
                out.push(self.witness(expr, format!("not: {detail}")));
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let detail = self.comparison(*op, lhs, rhs, frame)?;
                out.push(self.witness(expr, detail));
            }
            _ => out.push(self.witness(expr, "true".to_string())),
        }
        Ok(())
    }

    /// The operands of a comparison, as values: `6200 > 5000`.
    fn comparison(
        &mut self,
        op: BinOp,
        lhs: &ir::Expr,
        rhs: &ir::Expr,
        frame: &mut Frame<'a>,
    ) -> Result<'a, String> {
        let left = self.eval(lhs, frame)?;
        let right = self.eval(rhs, frame)?;
        let show = |ctx: &Self, value: &Value<'a>| match value {
            Value::Str(s) => format!("`{}`", s.as_str()),
            Value::Glob(glob) => format!("`{}`", ctx.compiled.glob_patterns(*glob)),
            Value::Regex(regex) => format!(
                "regex `{}`",
                ctx.program()
                    .regexes
                    .get(regex.0 as usize)
                    .map_or("", regex::Regex::as_str)
            ),
            other => other.display(&ctx.view),
        };
        if op == BinOp::Within
            && let Value::Node(window) = &right
        {
            return Ok(format!(
                "{} is within {}",
                show(self, &left),
                self.view.label(*window)
            ));
        }
        let mut detail = format!(
            "{} {} {}",
            show(self, &left),
            op.symbol(),
            show(self, &right)
        );
        for side in [lhs, rhs] {
            if let Some(members) = self.counted_members(side, frame)? {
                detail.push_str(&members);
            }
        }
        Ok(detail)
    }

    /// For `xs.len()` in a comparison, the elements behind the number:
    /// ` (vetoes: ivan's review of a41e8b03)`, so a count explains itself.
    fn counted_members(
        &mut self,
        expr: &ir::Expr,
        frame: &mut Frame<'a>,
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
        let mut shown: Vec<String> = items
            .iter()
            .take(SHOWN)
            .map(|i| i.display(&self.view))
            .collect();
        if items.len() > SHOWN {
            shown.push(format!("and {} more", items.len() - SHOWN));
        }
        Ok(Some(format!(
            " ({}: {})",
            self.snippet(list),
            shown.join(", ")
        )))
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
            ExprKind::Binary { op, lhs, rhs } if !matches!(op, BinOp::Or | BinOp::Coalesce) => {
                let detail = self.comparison(*op, lhs, rhs, frame)?;
                Ok(Some(self.witness(expr, format!("{detail} is false"))))
            }
            ExprKind::Builtin {
                op: Builtin::Any,
                args,
                ..
            }
            | ExprKind::Builtin {
                op: Builtin::All,
                args,
                ..
            } => {
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
            _ => Ok(Some(self.witness(expr, "false".to_string()))),
        }
    }
}
