//! Snapshot tests over the fixtures in `tests/parse/`: each `.warden` file is parsed and
//! its source is snapshotted together with a compact rendering of the AST, or with the
//! diagnostics when there are any.

// Failing loudly is what a test is for.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::path::Path;

use warden_syntax::ast::{
    ApprovalReq, ApproverSource, Block, Demand, Expr, ExprKind, Ident, ImportTarget, Item, LetItem,
    Overridability, OverrideClause, PolicyEntry, Template, TemplatePart, TypeExpr, TypeExprKind,
    UnaryOp,
};
use warden_syntax::{Diagnostic, FileId, Span, parse};

#[test]
fn parse_fixtures() {
    insta::glob!("../../../tests", "parse/**/*.warden", |path| {
        let source = std::fs::read_to_string(path).unwrap();
        let (module, diagnostics) = parse(&source, FileId(0));
        let mut out = String::new();
        out.push_str(&source);
        if !source.ends_with('\n') {
            out.push('\n');
        }
        out.push_str("\n---\n\n");
        if diagnostics.is_empty() {
            let mut p = Printer {
                src: &source,
                out: String::new(),
            };
            for item in &module.items {
                p.item(item);
            }
            out.push_str(&p.out);
        } else {
            for d in &diagnostics {
                render_diagnostic(&mut out, &source, d);
            }
            let errors = module
                .items
                .iter()
                .filter(|i| matches!(i, Item::Error(_)))
                .count();
            writeln!(
                out,
                "({} items, {errors} of them errors)",
                module.items.len()
            )
            .unwrap();
        }
        let name = snapshot_name(path);
        insta::with_settings!({
            snapshot_path => "../../../tests/parse/snapshots",
            prepend_module_to_snapshot => false,
            input_file => path,
            omit_expression => true,
            snapshot_suffix => "",
        }, {
            insta::assert_snapshot!(name, out);
        });
    });
}

/// `tests/parse/ok/rules.warden` → `ok__rules`.
fn snapshot_name(path: &Path) -> String {
    let dir = path
        .parent()
        .and_then(|p| p.file_name())
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = path.file_stem().unwrap().to_string_lossy();
    format!("{dir}__{stem}")
}

fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let before = &src[..offset.min(src.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rfind('\n')
        .map_or(before.chars().count(), |n| before[n + 1..].chars().count())
        + 1;
    (line, col)
}

fn render_span(src: &str, span: Span) -> String {
    let (l1, c1) = line_col(src, span.start);
    let (l2, c2) = line_col(src, span.end);
    format!("{l1}:{c1}-{l2}:{c2}")
}

fn render_diagnostic(out: &mut String, src: &str, d: &Diagnostic) {
    let at = d
        .primary()
        .map_or_else(|| "?".to_string(), |l| render_span(src, l.span));
    writeln!(out, "error[{}] {at}: {}", d.code, d.message).unwrap();
    for label in &d.labels {
        writeln!(
            out,
            "  label {}: {}",
            render_span(src, label.span),
            label.message
        )
        .unwrap();
    }
    if let Some(help) = &d.help {
        writeln!(out, "  help: {help}").unwrap();
    }
}

/// Renders the AST as indented S-expressions. Items, lets and demands show their spans
/// as `@line:col-line:col`, and the source text they cover is checked to start with the
/// expected keyword, so a wrong span shows up as a visible anomaly.
struct Printer<'a> {
    src: &'a str,
    out: String,
}

impl Printer<'_> {
    fn at(&self, span: Span) -> String {
        format!("@{}", render_span(self.src, span))
    }

    fn line(&mut self, indent: usize, text: &str) {
        writeln!(self.out, "{}{text}", "  ".repeat(indent)).unwrap();
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Import(i) => {
                let target = match &i.target {
                    ImportTarget::Std(segments) => format!(
                        "std.{}",
                        segments
                            .iter()
                            .map(|s| s.name.as_str())
                            .collect::<Vec<_>>()
                            .join(".")
                    ),
                    ImportTarget::File { path, span } => {
                        format!("file {path:?} {}", self.at(*span))
                    }
                };
                let alias = i
                    .alias
                    .as_ref()
                    .map(|a| format!(" as {}", a.name))
                    .unwrap_or_default();
                let line = format!("(import {target}{alias}) {}", self.at(i.span));
                self.line(0, &line);
            }
            Item::Let(l) => self.let_item(0, l),
            Item::Fn(f) => {
                self.doc(0, &f.doc);
                let params: Vec<String> = f
                    .params
                    .iter()
                    .map(|p| format!("{}: {}", p.name.name, ty(&p.ty)))
                    .collect();
                let line = format!(
                    "(fn {}({}) -> {} {}",
                    f.name.name,
                    params.join(", "),
                    ty(&f.ret),
                    self.at(f.span)
                );
                self.line(0, &line);
                self.block(1, &f.body);
                self.line(0, ")");
            }
            Item::Policy(p) => {
                let line = format!("(policy {}", self.at(p.span));
                self.line(0, &line);
                for entry in &p.entries {
                    match entry {
                        PolicyEntry::Overridable(c) => self.override_clause(1, c),
                        PolicyEntry::ApprovalAfterLastPush(span) => {
                            let line =
                                format!("(require-approval-after-last-push {})", self.at(*span));
                            self.line(1, &line);
                        }
                    }
                }
                self.line(0, ")");
            }
            Item::Rule(r) => {
                self.doc(0, &r.doc);
                let advisory = if r.advisory { " advisory" } else { "" };
                let line = format!("(rule {}{advisory} {}", r.name.name, self.at(r.span));
                self.line(0, &line);
                match &r.overridable {
                    Overridability::Default => {}
                    Overridability::Never => self.line(1, "(not-overridable)"),
                    Overridability::Clause(c) => self.override_clause(1, c),
                }
                for l in &r.lets {
                    self.let_item(1, l);
                }
                if let Some(when) = &r.when {
                    let line = format!("(when {})", expr(when));
                    self.line(1, &line);
                }
                for d in &r.demands {
                    self.demand(1, d);
                }
                if let Some(m) = &r.message {
                    let line = format!("(message {})", template(m));
                    self.line(1, &line);
                }
                self.line(0, ")");
            }
            Item::Exempt(e) => {
                self.doc(0, &e.doc);
                let rules: Vec<&str> = e.rules.iter().map(|r| r.name.as_str()).collect();
                let line = format!(
                    "(exempt {} from [{}] {}",
                    e.name.name,
                    rules.join(", "),
                    self.at(e.span)
                );
                self.line(0, &line);
                for l in &e.lets {
                    self.let_item(1, l);
                }
                let line = format!("(when {})", expr(&e.when));
                self.line(1, &line);
                self.line(0, ")");
            }
            Item::Error(span) => {
                let line = format!("(error {})", self.at(*span));
                self.line(0, &line);
            }
        }
    }

    fn doc(&mut self, indent: usize, doc: &Option<String>) {
        if let Some(doc) = doc {
            let line = format!("(doc {doc:?})");
            self.line(indent, &line);
        }
    }

    fn let_item(&mut self, indent: usize, l: &LetItem) {
        self.doc(indent, &l.doc);
        let ty =
            l.ty.as_ref()
                .map(|t| format!(": {}", ty(t)))
                .unwrap_or_default();
        let line = format!(
            "(let {}{ty} {} {})",
            l.name.name,
            expr(&l.value),
            self.at(l.span)
        );
        self.line(indent, &line);
    }

    fn block(&mut self, indent: usize, b: &Block) {
        for l in &b.lets {
            self.let_item(indent, l);
        }
        let line = expr(&b.result);
        self.line(indent, &line);
    }

    fn override_clause(&mut self, indent: usize, c: &OverrideClause) {
        let mut line = String::from("(overridable");
        if let Some(by) = &c.by {
            write!(line, " by {}", expr(by)).unwrap();
        }
        if let Some(cond) = &c.condition {
            write!(line, " where {}", expr(cond)).unwrap();
        }
        write!(line, ") {}", self.at(c.span)).unwrap();
        self.line(indent, &line);
    }

    fn demand(&mut self, indent: usize, d: &Demand) {
        let line = match d {
            Demand::Deny {
                message,
                unless,
                span,
            } => {
                let unless = unless
                    .as_ref()
                    .map(|a| format!(" unless {}", approval(a)))
                    .unwrap_or_default();
                format!("(deny {}{unless}) {}", template(message), self.at(*span))
            }
            Demand::Approval(a) => format!("(require {}) {}", approval(a), self.at(a.span)),
            Demand::Condition {
                condition,
                message,
                deny,
                span,
            } => format!(
                "(require {} else{} {}) {}",
                expr(condition),
                if *deny { " deny" } else { "" },
                template(message),
                self.at(*span)
            ),
        };
        self.line(indent, &line);
    }
}

fn approval(a: &ApprovalReq) -> String {
    let source = match &a.source {
        ApproverSource::Set(e) => expr(e),
        ApproverSource::EachTeam(e) => format!("(each-team {})", expr(e)),
        ApproverSource::EachUser(e) => format!("(each-user {})", expr(e)),
    };
    let mut s = format!("(approvals {} from {source}", expr(&a.count));
    if let Some(c) = &a.condition {
        write!(s, " where {}", expr(c)).unwrap();
    }
    if a.allow_stale {
        s.push_str(" allow-stale");
    }
    s.push(')');
    s
}

fn template(t: &Template) -> String {
    let parts: Vec<String> = t
        .parts
        .iter()
        .map(|p| match p {
            TemplatePart::Text(text) => format!("{text:?}"),
            TemplatePart::Hole(e) => format!("{{{}}}", expr(e)),
        })
        .collect();
    format!("(template {})", parts.join(" "))
}

fn ty(t: &TypeExpr) -> String {
    match &t.kind {
        TypeExprKind::Named(n) => n.clone(),
        TypeExprKind::List(inner) => format!("list<{}>", ty(inner)),
        TypeExprKind::Map(inner) => format!("map<{}>", ty(inner)),
        TypeExprKind::Optional(inner) => format!("{}?", ty(inner)),
        TypeExprKind::Enum(variants) => variants
            .iter()
            .map(|v| format!("{v:?}"))
            .collect::<Vec<_>>()
            .join(" | "),
    }
}

fn name(i: &Ident) -> &str {
    &i.name
}

/// Expressions print without spans, except binary operators, which show the byte span
/// of the operator token (`+@12..13`).
fn expr(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Int(n) => n.to_string(),
        ExprKind::Duration(s) => format!("{s}s"),
        ExprKind::Str(s) => format!("{s:?}"),
        ExprKind::Anyone => "anyone".to_string(),
        ExprKind::Null => "null".to_string(),
        ExprKind::List(items) => {
            let items: Vec<String> = items.iter().map(expr).collect();
            format!("[{}]", items.join(" "))
        }
        ExprKind::Name(i) => name(i).to_string(),
        ExprKind::Field {
            base,
            name: field,
            optional,
        } => format!(
            "({} {} {})",
            if *optional { "?." } else { "." },
            expr(base),
            field.name
        ),
        ExprKind::Call { callee, args } => {
            let args: Vec<String> = args.iter().map(expr).collect();
            format!("(call {}{})", callee.name, prefixed(&args))
        }
        ExprKind::MethodCall {
            base,
            name: method,
            args,
            optional,
        } => {
            let args: Vec<String> = args.iter().map(expr).collect();
            format!(
                "({} {} {}{})",
                if *optional { "?.call" } else { ".call" },
                expr(base),
                method.name,
                prefixed(&args)
            )
        }
        ExprKind::Index { base, index } => format!("(index {} {})", expr(base), expr(index)),
        ExprKind::Lambda { param, body } => format!("(=> {} {})", param.name, expr(body)),
        ExprKind::Unary { op, operand } => {
            let op = match op {
                UnaryOp::Not => "not",
                UnaryOp::Neg => "neg",
            };
            format!("({op} {})", expr(operand))
        }
        ExprKind::Binary {
            op,
            op_span,
            lhs,
            rhs,
        } => format!(
            "({}@{}..{} {} {})",
            op.symbol(),
            op_span.start,
            op_span.end,
            expr(lhs),
            expr(rhs)
        ),
        ExprKind::If {
            condition,
            then,
            otherwise,
        } => format!(
            "(if {} {} {})",
            expr(condition),
            expr(then),
            expr(otherwise)
        ),
        ExprKind::Paren(inner) => format!("(paren {})", expr(inner)),
    }
}

fn prefixed(args: &[String]) -> String {
    args.iter().map(|a| format!(" {a}")).collect()
}
