//! `warden fmt`: the one canonical layout of a `.warden` file (see "Formatting" in
//! docs/language.md).
//!
//! The parsed AST is printed through a small Wadler-style pretty printer
//! ([`doc`]) at 100 columns with 2-space indents. Comments are not in the AST, so
//! they are read from the source text with their offsets and printed in front of the
//! first node that starts after them: every comment is kept, in order, and a comment
//! that ended a line of code still does. Literals (strings, messages, numbers) are
//! copied from the source as written. Blank lines between statements and comments are
//! kept (several become one); everything else is decided by the layout.

mod doc;

use doc::{Doc, concat, group, nest, text};

use crate::ast::*;
use crate::parser::comment_start;
use crate::{Diagnostic, FileId, Span};

/// The width the layout aims for. Only text that cannot be broken (a long message or
/// string) goes past it.
pub const WIDTH: usize = 100;
const INDENT: usize = 2;

/// The canonical layout of `source`, or its parse errors: a file that does not parse
/// is never formatted.
pub fn format(source: &str) -> Result<String, Vec<Diagnostic>> {
    // One rule's tree at a time: a large file's trees are never all held.
    let (module, diagnostics) = crate::parse_for(source, FileId(0), crate::RuleBodies::Outlined);
    if !diagnostics.is_empty() {
        return Err(diagnostics);
    }
    let mut printer = Printer {
        src: source,
        comments: comments(source),
        next: 0,
    };
    // About the source's length: grown by doubling, a large file's text would be held
    // at up to twice its length, and three times while it moves.
    let mut out = String::with_capacity(source.len() + source.len() / 8);
    printer.module(&module, &mut out);
    if !out.is_empty() {
        out.push('\n');
    }
    Ok(out)
}

/// A `//` comment (`///` and `//!` included) in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// The byte offset of its `//`.
    pub offset: usize,
    /// From `//` to the end of its line, trailing whitespace cut.
    pub text: String,
    /// Code comes before it on its line.
    pub trailing: bool,
}

/// Every comment of `source`, in order; `//` inside a string or message is no comment.
pub fn comments(source: &str) -> Vec<Comment> {
    let mut found = Vec::new();
    let mut line_start = 0;
    for line in source.split_inclusive('\n') {
        if let Some(start) = comment_start(line) {
            found.push(Comment {
                offset: line_start + start,
                text: line[start..].trim_end().to_string(),
                trailing: !line[..start].trim().is_empty(),
            });
        }
        line_start += line.len();
    }
    found
}

/// A list element, and the comment that ends its line.
type Element = (Doc, Option<String>);

struct Printer<'s> {
    src: &'s str,
    comments: Vec<Comment>,
    /// The first comment not printed yet.
    next: usize,
}

/// Where a sequence of statements stands: before its first line or after one.
struct Lines {
    /// Comments that ended the line of the opening brace.
    opener: Vec<Doc>,
    docs: Vec<Doc>,
    first: bool,
    /// The current line already ends with a comment.
    commented: bool,
}

impl Lines {
    fn new() -> Lines {
        Lines {
            opener: Vec::new(),
            docs: Vec::new(),
            first: true,
            commented: false,
        }
    }
}

impl Printer<'_> {
    /// Whether the line above the one holding `offset` is blank.
    fn blank_above(&self, offset: usize) -> bool {
        let head = &self.src[..offset.min(self.src.len())];
        let Some(line_start) = head.rfind('\n') else {
            return false;
        };
        let above = &head[..line_start];
        let above_start = above.rfind('\n').map_or(0, |n| n + 1);
        above[above_start..].trim().is_empty()
    }

    /// The comments before `offset` not printed yet.
    fn take_before(&mut self, offset: usize) -> Vec<Comment> {
        let start = self.next;
        while self
            .comments
            .get(self.next)
            .is_some_and(|c| c.offset < offset)
        {
            self.next += 1;
        }
        self.comments[start..self.next].to_vec()
    }

    /// Starts a new line of `lines` for what begins at `offset`, after the comments
    /// before it: a comment that ended the previous line stays there, the others get
    /// lines of their own, and a blank line of the source is kept.
    fn line_at(&mut self, lines: &mut Lines, offset: usize) {
        for comment in self.take_before(offset) {
            self.comment_line(lines, comment);
        }
        self.newline(lines, offset);
    }

    /// A comment that ended a line of code ends the current line, unless one already
    /// does; any other gets a line of its own.
    fn comment_line(&self, lines: &mut Lines, comment: Comment) {
        if comment.trailing && !lines.commented {
            let line = if lines.first {
                &mut lines.opener
            } else {
                &mut lines.docs
            };
            line.push(text(format!(" {}", comment.text)));
        } else {
            self.newline(lines, comment.offset);
            lines.docs.push(text(comment.text));
        }
        lines.commented = true;
    }

    fn newline(&self, lines: &mut Lines, offset: usize) {
        if !lines.first {
            lines.docs.push(Doc::HardLine);
            if self.blank_above(offset) {
                lines.docs.push(Doc::HardLine);
            }
        }
        lines.first = false;
        lines.commented = false;
    }

    /// Ends `lines` with the comments before `end` (a closing brace or the file's
    /// end): the comments that ended the opening brace's line, and the body.
    fn close_lines(&mut self, mut lines: Lines, end: usize) -> (Doc, Doc) {
        for comment in self.take_before(end) {
            self.comment_line(&mut lines, comment);
        }
        (concat(lines.opener), concat(lines.docs))
    }

    fn has_comments_before(&self, offset: usize) -> bool {
        self.comments
            .get(self.next)
            .is_some_and(|c| c.offset < offset)
    }

    /// Comments before `offset` inside an expression, each on a line of its own.
    fn comments_before(&mut self, offset: usize) -> Doc {
        let comments = self.take_before(offset);
        concat(
            comments
                .into_iter()
                .flat_map(|c| [text(c.text), Doc::HardLine])
                .collect(),
        )
    }

    /// The source text of `span`, for literals that are printed as written.
    fn verbatim(&self, span: Span) -> Doc {
        text(self.src.get(span.start..span.end).unwrap_or_default())
    }

    /// Where keyword `kw` stands when it is the last code before `offset`; otherwise
    /// (a comment between them) `offset`.
    fn keyword_before(&self, offset: usize, kw: &str) -> usize {
        let mut head = self.src[..offset.min(self.src.len())].trim_end();
        // Comments between the keyword and `offset` are skipped.
        loop {
            let line_start = head.rfind('\n').map_or(0, |n| n + 1);
            match comment_start(&head[line_start..]) {
                Some(start) => head = head[..line_start + start].trim_end(),
                None => break,
            }
        }
        match head.strip_suffix(kw) {
            Some(rest) if !rest.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_') => {
                rest.len()
            }
            _ => offset,
        }
    }

    /// Lays the file out into `out`, a line at a time: the lines before an item are
    /// complete once it starts (only a comment can end its own line), so they are
    /// rendered and dropped then. A top-level line ends with a hard break, where the
    /// renderer's look-ahead stops: the text is the whole document's, without holding
    /// a large file's whole document.
    fn module(&mut self, module: &Module, out: &mut String) {
        let mut lines = Lines::new();
        for item in &module.items {
            let start = item.span().start;
            self.line_at(&mut lines, start);
            if let Some(last) = (lines.docs.iter()).rposition(|d| matches!(d, Doc::HardLine)) {
                let complete: Vec<Doc> = lines.docs.drain(..=last).collect();
                out.push_str(&doc::render(&concat(complete), WIDTH));
            }
            let doc = self.item(item);
            lines.docs.push(doc);
        }
        // Nothing opens a file, so no comment ends an opener's line.
        let (_, rest) = self.close_lines(lines, usize::MAX);
        out.push_str(&doc::render(&rest, WIDTH));
    }

    fn item(&mut self, item: &Item) -> Doc {
        match item {
            Item::Import(import) => self.import(import),
            Item::Let(l) => self.let_item(l),
            Item::Fn(f) => self.fn_item(f),
            Item::Rule(rule) => self.rule(rule),
            Item::RuleOutline(outline) => match crate::parse_rule(self.src, FileId(0), outline) {
                Some(rule) => self.rule(&rule),
                // Not reached: the outline was taken from this text.
                None => self.verbatim(outline.span),
            },
            Item::Exempt(exempt) => self.exempt(exempt),
            Item::Policy(policy) => self.policy(policy),
            // `format` refuses files with parse errors, so there is none; printing it
            // as written keeps the function total.
            Item::Error(span) => self.verbatim(*span),
        }
    }

    fn import(&mut self, import: &Import) -> Doc {
        let target = match &import.target {
            ImportTarget::Std(path) => {
                let names: Vec<&str> = path.iter().map(|i| i.name.as_str()).collect();
                text(format!("std.{}", names.join(".")))
            }
            ImportTarget::File { span, .. } => self.verbatim(*span),
        };
        let alias = match &import.alias {
            Some(alias) => text(format!(" as {}", alias.name)),
            None => text(""),
        };
        concat(vec![text("import "), target, alias])
    }

    fn let_item(&mut self, l: &LetItem) -> Doc {
        let mut docs = vec![text(format!("let {}", l.name.name))];
        if let Some(ty) = &l.ty {
            docs.push(text(": "));
            docs.push(type_expr(ty));
        }
        docs.push(text(" ="));
        docs.push(self.assigned(&l.value));
        concat(docs)
    }

    /// ` VALUE` after `=`: on the line when it fits, else on the next line when it fits
    /// there; else a value that ends in brackets or breaks its own way (a call, a list, a
    /// method chain) stays on the line and breaks inside, anything else moves to the
    /// next line and breaks there.
    fn assigned(&mut self, value: &Expr) -> Doc {
        let hug = hugs(value) && !self.has_comments_before(value.span.start);
        let comments = self.comments_before(value.span.start);
        let doc = self.expr(value);
        if hug {
            Doc::Assign(INDENT, Box::new(doc))
        } else {
            group(nest(INDENT, concat(vec![Doc::Line, comments, doc])))
        }
    }

    fn fn_item(&mut self, f: &FnItem) -> Doc {
        let params = f
            .params
            .iter()
            .map(|p| {
                let doc = concat(vec![
                    self.comments_before(p.name.span.start),
                    text(format!("{}: ", p.name.name)),
                    type_expr(&p.ty),
                ]);
                (doc, None)
            })
            .collect();
        let params = self.bracketed("(", params, ")", f.ret.span.start);
        let head = concat(vec![
            text(format!("fn {}", f.name.name)),
            params,
            text(" -> "),
            type_expr(&f.ret),
        ]);
        if f.body.lets.is_empty() {
            return concat(vec![head, text(" ="), self.assigned(&f.body.result)]);
        }
        let mut lines = Lines::new();
        for l in &f.body.lets {
            self.line_at(&mut lines, l.span.start);
            let doc = self.let_item(l);
            lines.docs.push(doc);
        }
        self.line_at(&mut lines, f.body.result.span.start);
        let result = self.expr(&f.body.result);
        lines.docs.push(result);
        self.braced(head, lines, f.span.end)
    }

    /// `HEAD {`, the lines indented, `}`.
    fn braced(&mut self, head: Doc, lines: Lines, end: usize) -> Doc {
        let (opener, body) = self.close_lines(lines, end.saturating_sub(1));
        concat(vec![
            head,
            text(" {"),
            opener,
            nest(INDENT, concat(vec![Doc::HardLine, body])),
            Doc::HardLine,
            text("}"),
        ])
    }

    fn rule(&mut self, rule: &RuleItem) -> Doc {
        let mut head = vec![text(format!("rule {}", rule.name.name))];
        if rule.advisory {
            head.push(text(" advisory"));
        }
        match &rule.overridable {
            Overridability::Default => {}
            Overridability::Never => head.push(text(" not overridable")),
            Overridability::Clause(clause) => {
                head.push(text(" "));
                head.push(self.override_clause(clause));
            }
        }
        let mut lines = Lines::new();
        self.lets(&mut lines, &rule.lets);
        if let Some(when) = &rule.when {
            self.when(&mut lines, when);
        }
        for demand in &rule.demands {
            let doc = self.demand(&mut lines, demand);
            lines.docs.push(doc);
        }
        if let Some(message) = &rule.message {
            self.line_at(
                &mut lines,
                self.keyword_before(message.span.start, "message"),
            );
            let doc = concat(vec![
                text("message "),
                self.comments_before(message.span.start),
                self.verbatim(message.span),
            ]);
            lines.docs.push(doc);
        }
        self.braced(group(concat(head)), lines, rule.span.end)
    }

    fn lets(&mut self, lines: &mut Lines, lets: &[LetItem]) {
        for l in lets {
            self.line_at(lines, l.span.start);
            let doc = self.let_item(l);
            lines.docs.push(doc);
        }
    }

    fn when(&mut self, lines: &mut Lines, when: &Expr) {
        self.line_at(lines, self.keyword_before(when.span.start, "when"));
        let doc = concat(vec![text("when"), self.assigned_inline(when)]);
        lines.docs.push(doc);
    }

    /// ` EXPR` after a keyword; comments before it move it to the next line.
    fn assigned_inline(&mut self, value: &Expr) -> Doc {
        let inline = !self.has_comments_before(value.span.start);
        let comments = self.comments_before(value.span.start);
        let doc = self.expr(value);
        if inline {
            concat(vec![text(" "), doc])
        } else {
            nest(INDENT, concat(vec![Doc::HardLine, comments, doc]))
        }
    }

    fn override_clause(&mut self, clause: &OverrideClause) -> Doc {
        let mut docs = vec![text("overridable")];
        if let Some(by) = &clause.by {
            docs.push(text(" by"));
            docs.push(self.assigned_inline(by));
        }
        if let Some(condition) = &clause.condition {
            docs.push(nest(
                INDENT,
                concat(vec![
                    Doc::Line,
                    text("where"),
                    self.assigned_inline(condition),
                ]),
            ));
        }
        group(concat(docs))
    }

    fn demand(&mut self, lines: &mut Lines, demand: &Demand) -> Doc {
        match demand {
            Demand::Deny {
                message,
                unless,
                span,
            } => {
                self.line_at(lines, span.start);
                let mut docs = vec![
                    text("deny "),
                    self.comments_before(message.span.start),
                    self.verbatim(message.span),
                ];
                if let Some(approval) = unless {
                    docs.push(nest(
                        INDENT,
                        concat(vec![Doc::Line, text("unless "), self.approval(approval)]),
                    ));
                }
                group(concat(docs))
            }
            Demand::Approval(approval) => {
                self.line_at(lines, self.keyword_before(approval.span.start, "require"));
                concat(vec![text("require "), self.approval(approval)])
            }
            Demand::Condition {
                condition,
                message,
                deny,
                span,
            } => {
                self.line_at(lines, span.start);
                let condition = self.assigned_inline(condition);
                let message = concat(vec![
                    self.comments_before(message.span.start),
                    self.verbatim(message.span),
                ]);
                group(concat(vec![
                    text("require"),
                    condition,
                    nest(
                        INDENT,
                        concat(vec![
                            Doc::Line,
                            text(if *deny { "else deny " } else { "else " }),
                            message,
                        ]),
                    ),
                ]))
            }
        }
    }

    fn approval(&mut self, approval: &ApprovalReq) -> Doc {
        // The noun follows a literal count; a computed one is always plural.
        let noun = if matches!(approval.count.kind, ExprKind::Int(1)) {
            "approval"
        } else {
            "approvals"
        };
        let mut docs = vec![
            nest(INDENT, self.comments_before(approval.count.span.start)),
            self.expr(&approval.count),
            text(format!(" {noun} from ")),
        ];
        let (prefix, set) = match &approval.source {
            ApproverSource::Set(set) => ("", set),
            ApproverSource::EachTeam(set) => ("each team in ", set),
            ApproverSource::EachUser(set) => ("each user in ", set),
        };
        docs.push(text(prefix));
        docs.push(self.comments_before(set.span.start));
        docs.push(self.expr(set));
        if let Some(condition) = &approval.condition {
            docs.push(nest(
                INDENT,
                concat(vec![
                    Doc::Line,
                    text("where"),
                    self.assigned_inline(condition),
                ]),
            ));
        }
        if approval.allow_stale {
            docs.push(nest(INDENT, concat(vec![Doc::Line, text("allow stale")])));
        }
        group(concat(docs))
    }

    fn exempt(&mut self, exempt: &ExemptItem) -> Doc {
        let rules: Vec<&str> = exempt.rules.iter().map(|r| r.name.as_str()).collect();
        let head = text(format!(
            "exempt {} from {}",
            exempt.name.name,
            rules.join(", ")
        ));
        let mut lines = Lines::new();
        self.lets(&mut lines, &exempt.lets);
        self.when(&mut lines, &exempt.when);
        self.braced(head, lines, exempt.span.end)
    }

    fn policy(&mut self, policy: &PolicyItem) -> Doc {
        let mut lines = Lines::new();
        for entry in &policy.entries {
            match entry {
                PolicyEntry::Overridable(clause) => {
                    self.line_at(&mut lines, clause.span.start);
                    let doc = self.override_clause(clause);
                    lines.docs.push(doc);
                }
                PolicyEntry::ApprovalAfterLastPush(span) => {
                    self.line_at(&mut lines, span.start);
                    lines.docs.push(text("require approval after last push"));
                }
            }
        }
        self.braced(text("policy"), lines, policy.span.end)
    }

    /// `OPEN a, b, c CLOSE` on one line, or one element a line when that does not fit.
    /// Each element may carry the comment that ended its line. `end` is where the
    /// closing bracket stands, for the comments before it.
    fn bracketed(&mut self, open: &str, elements: Vec<Element>, close: &str, end: usize) -> Doc {
        let count = elements.len();
        // An empty list's comments start with their own line break.
        let mut inner = if count == 0 {
            vec![]
        } else {
            vec![Doc::SoftLine]
        };
        for (i, (element, trailing)) in elements.into_iter().enumerate() {
            inner.push(element);
            if i + 1 < count {
                inner.push(text(","));
            }
            if let Some(comment) = trailing {
                inner.push(text(format!(" {comment}")));
                inner.push(Doc::BreakParent);
            }
            if i + 1 < count {
                inner.push(Doc::Line);
            }
        }
        for comment in self.take_before(end) {
            if comment.trailing && count > 0 {
                inner.push(text(format!(" {}", comment.text)));
            } else {
                inner.push(Doc::HardLine);
                inner.push(text(comment.text));
            }
            inner.push(Doc::BreakParent);
        }
        if inner.is_empty() {
            return text(format!("{open}{close}"));
        }
        group(concat(vec![
            text(open),
            nest(INDENT, concat(inner)),
            Doc::SoftLine,
            text(close),
        ]))
    }

    /// The elements of a list or argument list, each after its comments, with the
    /// comment that ends its line (after the comma) if there is one.
    fn elements(&mut self, exprs: &[Expr]) -> Vec<Element> {
        let mut elements = Vec::with_capacity(exprs.len());
        for (i, e) in exprs.iter().enumerate() {
            let doc = concat(vec![self.comments_before(e.span.start), self.expr(e)]);
            let trailing = match (self.comments.get(self.next), exprs.get(i + 1)) {
                (Some(c), Some(next)) if c.trailing && c.offset < next.span.start => {
                    self.next += 1;
                    Some(c.text.clone())
                }
                _ => None,
            };
            elements.push((doc, trailing));
        }
        elements
    }

    fn args(&mut self, open: &str, args: &[Expr], close: &str, end: usize) -> Doc {
        let literals = args.len() > 1
            && args
                .iter()
                .all(|a| matches!(a.kind, ExprKind::Str(_) | ExprKind::Int(_)))
            && !self.has_comments_before(end + 1);
        if !literals {
            let elements = self.elements(args);
            return self.bracketed(open, elements, close, end);
        }
        // Literals (glob patterns, names) fill their lines instead of taking one each.
        let count = args.len();
        let elements = args
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let comma = if i + 1 < count { "," } else { "" };
                concat(vec![self.verbatim(a.span), text(comma)])
            })
            .collect();
        group(concat(vec![
            text(open),
            nest(INDENT, concat(vec![Doc::SoftLine, Doc::Fill(elements)])),
            Doc::SoftLine,
            text(close),
        ]))
    }

    fn expr(&mut self, e: &Expr) -> Doc {
        match &e.kind {
            ExprKind::Bool(b) => text(if *b { "true" } else { "false" }),
            ExprKind::Int(_) | ExprKind::Duration(_) | ExprKind::Str(_) => self.verbatim(e.span),
            ExprKind::Anyone => text("anyone"),
            ExprKind::Null => text("null"),
            ExprKind::List(items) => self.args("[", items, "]", e.span.end.saturating_sub(1)),
            ExprKind::Name(name) => text(name.name.clone()),
            ExprKind::Call { callee, args } => {
                self.args(&format!("{}(", callee.name), args, ")", e.span.end - 1)
            }
            ExprKind::Field { .. } | ExprKind::MethodCall { .. } | ExprKind::Index { .. } => {
                self.chain(e)
            }
            ExprKind::Lambda { param, body } => {
                let body = concat(vec![self.comments_before(body.span.start), self.expr(body)]);
                concat(vec![text(format!("{} => ", param.name)), body])
            }
            ExprKind::Unary { op, operand } => {
                let op = match op {
                    UnaryOp::Not => "not ",
                    UnaryOp::Neg => "-",
                };
                let operand = concat(vec![
                    self.comments_before(operand.span.start),
                    self.expr(operand),
                ]);
                concat(vec![text(op), operand])
            }
            ExprKind::Binary { op, lhs, rhs, .. } => self.binary(*op, lhs, rhs),
            ExprKind::If { .. } => self.if_chain(e),
            ExprKind::Paren(inner) => {
                let inner = concat(vec![
                    self.comments_before(inner.span.start),
                    self.expr(inner),
                ]);
                group(concat(vec![
                    text("("),
                    nest(INDENT, concat(vec![Doc::SoftLine, inner])),
                    Doc::SoftLine,
                    text(")"),
                ]))
            }
        }
    }

    /// `a OP b OP c` (left-nested, one operator): one line, or one operand a line with
    /// the operator in front.
    fn binary(&mut self, op: BinaryOp, lhs: &Expr, rhs: &Expr) -> Doc {
        let mut operands = vec![rhs];
        let mut first = lhs;
        while let ExprKind::Binary {
            op: inner,
            lhs,
            rhs,
            ..
        } = &first.kind
            && *inner == op
        {
            operands.push(rhs);
            first = lhs;
        }
        let mut docs = vec![self.expr(first)];
        let mut rest = Vec::new();
        for operand in operands.into_iter().rev() {
            rest.push(Doc::Line);
            // Comments before the operand go before its operator.
            rest.push(self.comments_before(operand.span.start));
            rest.push(text(format!("{} ", op.symbol())));
            rest.push(self.expr(operand));
        }
        docs.push(nest(INDENT, concat(rest)));
        group(concat(docs))
    }

    /// `if a then b else if c then d else e`: one line, or one branch a line.
    fn if_chain(&mut self, e: &Expr) -> Doc {
        let mut docs = Vec::new();
        let mut current = e;
        let mut prefix = "if ";
        while let ExprKind::If {
            condition,
            then,
            otherwise,
        } = &current.kind
        {
            docs.push(text(prefix));
            docs.push(self.comments_before(condition.span.start));
            docs.push(self.expr(condition));
            docs.push(text(" then "));
            docs.push(self.comments_before(then.span.start));
            docs.push(self.expr(then));
            docs.push(Doc::Line);
            prefix = "else if ";
            current = otherwise;
        }
        docs.push(text("else "));
        docs.push(self.comments_before(current.span.start));
        docs.push(self.expr(current));
        group(concat(docs))
    }

    /// `base.a(x).b.c(y)[i]`: one line, or the base and its first call on the first
    /// line and each further call on a line of its own.
    fn chain(&mut self, e: &Expr) -> Doc {
        let mut links = Vec::new();
        let mut base = e;
        while let ExprKind::Field { base: b, .. }
        | ExprKind::MethodCall { base: b, .. }
        | ExprKind::Index { base: b, .. } = &base.kind
        {
            links.push(base);
            base = b;
        }
        links.reverse();
        let mut head = vec![self.expr(base)];
        let mut tail: Vec<Doc> = Vec::new();
        let mut calls = 0;
        for link in links {
            let (doc, is_call) = match &link.kind {
                ExprKind::Field { name, optional, .. } => {
                    let dot = if *optional { "?." } else { "." };
                    (text(format!("{dot}{}", name.name)), false)
                }
                ExprKind::MethodCall {
                    name,
                    args,
                    optional,
                    ..
                } => {
                    let dot = if *optional { "?." } else { "." };
                    let open = format!("{dot}{}(", name.name);
                    (self.args(&open, args, ")", link.span.end - 1), true)
                }
                ExprKind::Index { index, .. } => {
                    let index = concat(vec![
                        self.comments_before(index.span.start),
                        self.expr(index),
                    ]);
                    (concat(vec![text("["), index, text("]")]), false)
                }
                // `links` holds only the three kinds above.
                _ => (text(""), false),
            };
            if calls == 0 {
                head.push(doc);
            } else if is_call || matches!(link.kind, ExprKind::Field { .. }) {
                tail.push(Doc::SoftLine);
                tail.push(doc);
            } else {
                tail.push(doc);
            }
            calls += usize::from(is_call);
        }
        if tail.is_empty() {
            return concat(head);
        }
        group(concat(vec![concat(head), nest(INDENT, concat(tail))]))
    }
}

/// A value that stays on the line of its `=`: it breaks inside its own brackets.
fn hugs(e: &Expr) -> bool {
    matches!(
        e.kind,
        ExprKind::List(_)
            | ExprKind::Call { .. }
            | ExprKind::MethodCall { .. }
            | ExprKind::Field { .. }
            | ExprKind::Index { .. }
            | ExprKind::Name(_)
            | ExprKind::Str(_)
            | ExprKind::Int(_)
            | ExprKind::Duration(_)
            | ExprKind::Bool(_)
            | ExprKind::Null
            | ExprKind::Anyone
    )
}

fn type_expr(ty: &TypeExpr) -> Doc {
    match &ty.kind {
        TypeExprKind::Named(name) => text(name.clone()),
        TypeExprKind::List(inner) => concat(vec![text("list<"), type_expr(inner), text(">")]),
        TypeExprKind::Map(inner) => concat(vec![text("map<"), type_expr(inner), text(">")]),
        TypeExprKind::Optional(inner) => concat(vec![type_expr(inner), text("?")]),
        TypeExprKind::Enum(names) => {
            let quoted: Vec<String> = names.iter().map(|n| quote(n)).collect();
            text(quoted.join(" | "))
        }
    }
}

/// `s` as a string literal: the escapes of a plain string (docs/language.md).
fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
