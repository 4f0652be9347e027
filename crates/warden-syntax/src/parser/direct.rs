//! The direct parser: one recursive-descent pass over the bytes of a well-formed file,
//! which [`super::parse`] tries before pest.
//!
//! pest and the building of the tree from its pairs were four fifths of loading a policy
//! (docs/design.md, "Two parsers, one grammar"). This parser reads the language of
//! `grammar/warden.pest`, which stays its definition, rule by rule, and builds the tree
//! that pest and `build` build, spans included. It never reports anything: at the first
//! thing it does not expect (a syntax error, a bad literal, nesting near the limits) it
//! declines with `None`, and pest parses the file, so every diagnostic still comes from
//! the grammar. It only has to be right about the files it accepts, and the tests hold it
//! to that: on every fixture, on generated programs and on mutated ones, its tree must be
//! the one pest's path gives (`parse_with_grammar`), and it must accept what that path
//! accepts without a diagnostic (`crates/warden-syntax/tests/parse.rs`,
//! `crates/warden/tests/properties.rs`, the `parse` fuzz target).
//!
//! Each function below names the grammar rule it reads. Where the grammar's ordered
//! choice would backtrack, this parser either looks ahead the same way or, where the
//! other alternative could still succeed, goes back to a [`Mark`]: `require` before an
//! approval or a condition, an operator after an operand that does not apply (the
//! grammar's loop then stops before it: `{ let x = y [1, 2] }` ends the `let` at `y`),
//! arguments that do not parse after a name. A failure of the grammar is undone there;
//! what the grammar accepts but `build` reports (a bad literal, a chain of comparisons,
//! a tree too deep) is a decline, which no alternative undoes.

use super::build::{
    self, IF_LAMBDA_POWER, MAX_EXPR_DEPTH, NEG_POWER, NOT_POWER, Number, POSTFIX_POWER,
    infix_power, is_comparison,
};
use super::errors::is_keyword;
use super::scan;
use crate::ast::{
    ApprovalReq, ApproverSource, BinaryOp, Block, Demand, ExemptItem, Expr, ExprKind, FnItem,
    Ident, Import, ImportTarget, Item, LetItem, Module, Overridability, OverrideClause, Param,
    PolicyEntry, PolicyItem, RuleItem, Template, TemplatePart, TypeExpr, TypeExprKind, UnaryOp,
};
use crate::{MAX_NESTING, Span};

/// What the direct parser made of a file.
#[derive(Debug, PartialEq)]
pub enum Direct {
    /// The file's tree: the one pest's path builds, which would report nothing.
    Parsed(Module),
    /// The grammar does not accept the file: pest's path reports why, item by item.
    Rejected,
    /// The grammar may accept the file, and `build` report something in it, or it is
    /// near the limits: pest's path decides.
    Declined,
}

impl Direct {
    /// The tree, when the file was parsed.
    pub fn into_tree(self) -> Option<Module> {
        match self {
            Direct::Parsed(module) => Some(module),
            Direct::Rejected | Direct::Declined => None,
        }
    }
}

/// Reads `src` (see [`Direct`]), keeping `bodies` of each rule.
pub(super) fn module(src: &str, bodies: super::RuleBodies) -> Direct {
    let mut p = Parser::new(src, 0, src.len());
    let mut items = Vec::new();
    while p.more() {
        match p.checked_item() {
            Some(item) => items.push(bodies.keep(item)),
            None if p.declined => return Direct::Declined,
            None => return Direct::Rejected,
        }
    }
    if p.declined {
        return Direct::Declined;
    }
    items.shrink_to_fit();
    Direct::Parsed(Module { items })
}

/// The one item of `src[start..end]` (what the grammar's `item` rule reads there).
pub(super) fn item(src: &str, start: usize, end: usize) -> Option<Item> {
    let mut p = Parser::new(src, start, end);
    let item = p.checked_item()?;
    (!p.more() && !p.declined).then_some(item)
}

/// The deepest this parser recurses (through `pratt` and `type_expr`): the nesting of
/// brackets and `if`s that may be, and some levels more for prefix operators. Deeper
/// input, rare (a long run of prefixes: `not not … x`), is left to pest's path, which
/// bounds its own recursion. A debug build needs about 1 MiB of stack here: half of a
/// spawned thread's default.
pub(super) const MAX_RECURSION: usize = MAX_NESTING + 32;

/// An expression and the depth of its tree, as `build` counts it (a leaf has depth 1).
type Deep = (Expr, usize);

/// What comes after an operand.
#[derive(Clone, Copy)]
enum Operator {
    /// `.name` or `?.name`, perhaps with arguments.
    Access { optional: bool },
    /// `[index]`
    Index,
    /// An infix operator, and how many bytes it is written with.
    Infix(BinaryOp, usize),
}

/// A place to come back to when an alternative fails.
#[derive(Clone, Copy)]
struct Mark {
    pos: usize,
    last: usize,
    recursion: usize,
    stack: usize,
}

struct Parser<'s> {
    src: &'s str,
    bytes: &'s [u8],
    pos: usize,
    /// Where the text being read ends: the file's end, an item's, or a template hole's.
    end: usize,
    /// Where the last token read ends: a node's span ends there.
    last: usize,
    /// Nested calls of `pratt` and `type_expr`, which bounds this parser's stack.
    recursion: usize,
    /// Expressions of the argument lists being read: each list is then moved into a
    /// vector of exactly its length.
    stack: Vec<Expr>,
    /// Set on what the grammar reads but `build` would report: pest's path must parse
    /// the file, however the grammar's alternatives would go on.
    declined: bool,
}

/// What applying an operator to an operand gave.
enum Applied {
    Node(Deep),
    /// The operator does not apply (the grammar's loop stops before it): the operand.
    Stop(Deep),
    Declined,
}

impl<'s> Parser<'s> {
    fn new(src: &'s str, start: usize, end: usize) -> Self {
        Parser {
            src,
            bytes: src.as_bytes(),
            pos: start,
            end: end.min(src.len()),
            last: start,
            recursion: 0,
            stack: Vec::new(),
            declined: false,
        }
    }

    // ------------------------------------------------------------------ tokens

    fn byte_at(&self, at: usize) -> Option<u8> {
        if at < self.end {
            self.bytes.get(at).copied()
        } else {
            None
        }
    }

    /// Skips `WHITESPACE`: spaces, `\t`…`\r` and `//` comments.
    fn trivia(&mut self) {
        while let Some(b) = self.byte_at(self.pos) {
            match b {
                b' ' | b'\t'..=b'\r' => self.pos += 1,
                b'/' if self.byte_at(self.pos + 1) == Some(b'/') => {
                    let rest = self.bytes.get(self.pos..self.end).unwrap_or_default();
                    self.pos += rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
                }
                _ => break,
            }
        }
    }

    /// Whether anything but trivia is left.
    fn more(&mut self) -> bool {
        self.trivia();
        self.pos < self.end
    }

    /// The cursor after trivia.
    fn pos_after_trivia(&mut self) -> usize {
        self.trivia();
        self.pos
    }

    /// The next byte after trivia, not consumed.
    fn peek(&mut self) -> Option<u8> {
        self.trivia();
        self.byte_at(self.pos)
    }

    /// The word after trivia (`[A-Za-z_][A-Za-z0-9_]*`, or empty), not consumed.
    fn peek_word(&mut self) -> &'s str {
        self.trivia();
        let start = self.pos;
        let mut end = start;
        if self
            .byte_at(end)
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        {
            end += 1;
            while self
                .byte_at(end)
                .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
            {
                end += 1;
            }
        }
        self.src.get(start..end).unwrap_or_default()
    }

    /// Consumes `len` bytes from the cursor as one token.
    fn take(&mut self, len: usize) -> Span {
        let span = Span::new(self.pos, self.pos + len);
        self.pos += len;
        self.last = self.pos;
        span
    }

    /// The keyword (or contextual word) `word`, if it is next.
    fn keyword(&mut self, word: &str) -> Option<Span> {
        (self.peek_word() == word).then(|| self.take(word.len()))
    }

    /// The punctuation `text`, if it is next.
    fn punct(&mut self, text: &str) -> Option<Span> {
        self.trivia();
        let rest = self.bytes.get(self.pos..self.end)?;
        rest.starts_with(text.as_bytes())
            .then(|| self.take(text.len()))
    }

    /// `assign`: a `=` that is not `==` or `=>`.
    fn assign(&mut self) -> Option<Span> {
        let next = self.peek()?;
        let after = self.byte_at(self.pos + 1);
        (next == b'=' && after != Some(b'=') && after != Some(b'>')).then(|| self.take(1))
    }

    /// `ident`: a word that is no keyword.
    fn ident(&mut self) -> Option<Ident> {
        let word = self.peek_word();
        if word.is_empty() || is_keyword(word) {
            return None;
        }
        Some(self.word_ident(word))
    }

    /// `member`: any word, keywords included.
    fn member(&mut self) -> Option<Ident> {
        let word = self.peek_word();
        (!word.is_empty()).then(|| self.word_ident(word))
    }

    /// Consumes `word`, which is next, as a name.
    fn word_ident(&mut self, word: &str) -> Ident {
        Ident {
            name: word.to_string(),
            span: self.take(word.len()),
        }
    }

    /// `(k_WORD ~ RULE)?`: what `read` gives after `word` when `word` is next (`None`
    /// when it does not parse), or `Some(None)` without it.
    fn clause<T>(
        &mut self,
        word: &str,
        read: impl FnOnce(&mut Self) -> Option<T>,
    ) -> Option<Option<T>> {
        match self.keyword(word) {
            Some(_) => read(self).map(Some),
            None => Some(None),
        }
    }

    /// `k_approval`: `approval` or `approvals`.
    fn approval_keyword(&mut self) -> Option<Span> {
        let word = self.peek_word();
        matches!(word, "approval" | "approvals").then(|| self.take(word.len()))
    }

    /// The span from `start` to the end of the last token read.
    fn since(&self, start: usize) -> Span {
        Span::new(start, self.last)
    }

    fn mark(&self) -> Mark {
        Mark {
            pos: self.pos,
            last: self.last,
            recursion: self.recursion,
            stack: self.stack.len(),
        }
    }

    fn reset(&mut self, mark: Mark) {
        self.pos = mark.pos;
        self.last = mark.last;
        self.recursion = mark.recursion;
        self.stack.truncate(mark.stack);
    }

    /// Gives up on the file, which pest's path then parses.
    fn decline<T>(&mut self) -> Option<T> {
        self.declined = true;
        None
    }

    /// Enters a recursive rule; declines when the recursion is deeper than `build`'s
    /// trees may be.
    fn recurse(&mut self) -> Option<()> {
        self.recursion += 1;
        if self.recursion > MAX_RECURSION {
            return self.decline();
        }
        Some(())
    }

    // ------------------------------------------------------------------ items

    /// An item, unless pest's path could find it nested too deeply: that path looks for
    /// deep nesting in an item only where brackets and `if`s, counted anywhere in it,
    /// are more than [`MAX_NESTING`] (`scan::nesting_violation`), and so does this one.
    /// (Counting is cheaper than following the nesting as `scan::Nesting` does, whose
    /// idea of where a string ends may differ from the grammar's.)
    fn checked_item(&mut self) -> Option<Item> {
        let item = self.item()?;
        let span = item.span();
        let text = self.bytes.get(span.start..span.end)?;
        if scan::openers(text) > MAX_NESTING {
            return self.decline();
        }
        Some(item)
    }

    /// `item_kind`
    fn item(&mut self) -> Option<Item> {
        Some(match self.peek_word() {
            "let" => Item::Let(Box::new(self.let_item()?)),
            "fn" => Item::Fn(Box::new(self.fn_item()?)),
            "rule" => Item::Rule(Box::new(self.rule_item()?)),
            "import" => Item::Import(self.import_item()?),
            "exempt" => Item::Exempt(Box::new(self.exempt_item()?)),
            "policy" => Item::Policy(self.policy_item()?),
            _ => return None,
        })
    }

    /// `import_item`
    fn import_item(&mut self) -> Option<Import> {
        let start = self.keyword("import")?.start;
        let target = if self.keyword("std").is_some() {
            let mut segments = Vec::new();
            while self.punct(".").is_some() {
                segments.push(self.ident()?);
            }
            if segments.is_empty() {
                return None;
            }
            ImportTarget::Std(segments)
        } else {
            let (path, span) = self.string()?;
            ImportTarget::File { path, span }
        };
        let alias = self.clause("as", Self::ident)?;
        Some(Import {
            target,
            alias,
            span: self.since(start),
        })
    }

    /// `let_item`
    fn let_item(&mut self) -> Option<LetItem> {
        let start = self.keyword("let")?.start;
        let name = self.ident()?;
        let ty = match self.punct(":") {
            Some(_) => Some(self.type_expr()?),
            None => None,
        };
        self.assign()?;
        let value = self.expr()?;
        Some(LetItem {
            doc: build::doc_comment(self.src, start),
            name,
            ty,
            value,
            span: self.since(start),
        })
    }

    /// `let_item*`
    fn lets(&mut self) -> Option<Vec<LetItem>> {
        let mut lets = Vec::new();
        while self.peek_word() == "let" {
            lets.push(self.let_item()?);
        }
        Some(lets)
    }

    /// `fn_item`
    fn fn_item(&mut self) -> Option<FnItem> {
        let start = self.keyword("fn")?.start;
        let name = self.ident()?;
        self.punct("(")?;
        let mut params = Vec::new();
        if self.punct(")").is_none() {
            loop {
                let name = self.ident()?;
                self.punct(":")?;
                params.push(Param {
                    name,
                    ty: self.type_expr()?,
                });
                if self.punct(",").is_none() {
                    self.punct(")")?;
                    break;
                }
                if self.punct(")").is_some() {
                    break;
                }
            }
        }
        self.punct("->")?;
        let ret = self.type_expr()?;
        let body = if self.assign().is_some() {
            Block {
                lets: Vec::new(),
                result: self.expr()?,
            }
        } else {
            self.punct("{")?;
            let lets = self.lets()?;
            let result = self.expr()?;
            self.punct("}")?;
            Block { lets, result }
        };
        Some(FnItem {
            doc: build::doc_comment(self.src, start),
            name,
            params,
            ret,
            body,
            span: self.since(start),
        })
    }

    /// `rule_item`
    fn rule_item(&mut self) -> Option<RuleItem> {
        let start = self.keyword("rule")?.start;
        let name = self.ident()?;
        let advisory = self.keyword("advisory").is_some();
        let overridable = if self.keyword("not").is_some() {
            self.keyword("overridable")?;
            Overridability::Never
        } else if self.peek_word() == "overridable" {
            Overridability::Clause(Box::new(self.override_clause(false)?))
        } else {
            Overridability::Default
        };
        self.punct("{")?;
        let mut lets = self.lets()?;
        let when = self.clause("when", Self::expr)?;
        let mut demands = Vec::new();
        loop {
            match self.peek_word() {
                "deny" => demands.push(self.deny()?),
                "require" => demands.push(self.require()?),
                _ => break,
            }
        }
        if demands.is_empty() {
            return None;
        }
        let message = self.clause("message", Self::template)?;
        self.punct("}")?;
        // As `build` does: a first push reserves four places.
        lets.shrink_to_fit();
        demands.shrink_to_fit();
        Some(RuleItem {
            doc: build::doc_comment(self.src, start),
            name,
            advisory,
            overridable,
            lets,
            when,
            demands,
            message,
            span: self.since(start),
        })
    }

    /// `override_clause`, or `policy_overridable` (where `by` is required).
    fn override_clause(&mut self, by_required: bool) -> Option<OverrideClause> {
        let start = self.keyword("overridable")?.start;
        let by = match self.keyword("by") {
            Some(_) => Some(self.expr()?),
            None if by_required => return None,
            None => None,
        };
        let condition = self.clause("where", Self::expr)?;
        Some(OverrideClause {
            by,
            condition,
            span: self.since(start),
        })
    }

    /// `deny`
    fn deny(&mut self) -> Option<Demand> {
        let start = self.keyword("deny")?.start;
        let message = self.template()?;
        let unless = self.clause("unless", |p| p.approval().map(Box::new))?;
        Some(Demand::Deny {
            message,
            unless,
            span: self.since(start),
        })
    }

    /// `require_approval | require_condition`, in the grammar's order: the approval is
    /// tried first, and the condition read from the same place when it fails.
    fn require(&mut self) -> Option<Demand> {
        let start = self.keyword("require")?.start;
        let mark = self.mark();
        if let Some(approval) = self.approval() {
            return Some(Demand::Approval(Box::new(approval)));
        }
        if self.declined {
            return None;
        }
        self.reset(mark);
        let condition = self.expr()?;
        self.keyword("else")?;
        let deny = self.keyword("deny").is_some();
        let message = self.template()?;
        Some(Demand::Condition {
            condition,
            message,
            deny,
            span: self.since(start),
        })
    }

    /// `approval`
    fn approval(&mut self) -> Option<ApprovalReq> {
        let start = self.pos_after_trivia();
        let count = self.approval_count()?;
        self.approval_keyword()?;
        self.keyword("from")?;
        let source = if self.keyword("each").is_some() {
            let team = self.keyword("team").is_some();
            if !team {
                self.keyword("user")?;
            }
            self.keyword("in")?;
            let set = self.expr()?;
            if team {
                ApproverSource::EachTeam(set)
            } else {
                ApproverSource::EachUser(set)
            }
        } else {
            ApproverSource::Set(self.expr()?)
        };
        let condition = self.clause("where", Self::expr)?;
        let allow_stale = self.keyword("allow").is_some();
        if allow_stale {
            self.keyword("stale")?;
        }
        // Only now, as `build` checks it once the grammar has read the approval: a count
        // that is no `u32` could start a condition instead (`require 2h else "…"`).
        let Some(count) = count else {
            return self.decline();
        };
        Some(ApprovalReq {
            count,
            source,
            condition,
            allow_stale,
            span: self.since(start),
        })
    }

    /// `approval_count`: an integer literal, or a parenthesised expression; inside, `None`
    /// for a literal that is no count (`build` reports it).
    fn approval_count(&mut self) -> Option<Option<Expr>> {
        match self.peek()? {
            b'0'..=b'9' => {
                let (text, span) = self.number_token();
                Some(match build::number_value(text) {
                    Ok(Number::Int(n)) if u32::try_from(n).is_ok() => Some(Expr {
                        kind: ExprKind::Int(n),
                        span,
                    }),
                    _ => None,
                })
            }
            b'(' => self.paren().map(|(expr, _)| Some(expr)),
            _ => None,
        }
    }

    /// `exempt_item`
    fn exempt_item(&mut self) -> Option<ExemptItem> {
        let start = self.keyword("exempt")?.start;
        let name = self.ident()?;
        self.keyword("from")?;
        let mut rules = vec![self.ident()?];
        while self.punct(",").is_some() {
            rules.push(self.ident()?);
        }
        self.punct("{")?;
        let lets = self.lets()?;
        self.keyword("when")?;
        let when = self.expr()?;
        self.punct("}")?;
        Some(ExemptItem {
            doc: build::doc_comment(self.src, start),
            name,
            rules,
            lets,
            when,
            span: self.since(start),
        })
    }

    /// `policy_item`
    fn policy_item(&mut self) -> Option<PolicyItem> {
        let start = self.keyword("policy")?.start;
        self.punct("{")?;
        let mut entries = Vec::new();
        loop {
            match self.peek_word() {
                "overridable" => {
                    entries.push(PolicyEntry::Overridable(self.override_clause(true)?));
                }
                "require" => {
                    let from = self.take("require".len()).start;
                    self.approval_keyword()?;
                    self.keyword("after")?;
                    self.keyword("last")?;
                    self.keyword("push")?;
                    entries.push(PolicyEntry::ApprovalAfterLastPush(self.since(from)));
                }
                _ => break,
            }
        }
        self.punct("}")?;
        Some(PolicyItem {
            entries,
            span: self.since(start),
        })
    }

    // ------------------------------------------------------------------ types

    /// `type_expr`
    fn type_expr(&mut self) -> Option<TypeExpr> {
        self.recurse()?;
        let start = self.pos_after_trivia();
        let word = self.peek_word();
        let mark = self.mark();
        let generic = if matches!(word, "list" | "map") {
            self.take(word.len());
            match self.punct("<") {
                Some(_) => {
                    let inner = Box::new(self.type_expr()?);
                    self.punct(">")?;
                    Some(if word == "list" {
                        TypeExprKind::List(inner)
                    } else {
                        TypeExprKind::Map(inner)
                    })
                }
                // `list` alone is a type name.
                None => {
                    self.reset(mark);
                    None
                }
            }
        } else {
            None
        };
        let ty = if let Some(kind) = generic {
            TypeExpr {
                kind,
                span: self.since(start),
            }
        } else if self.byte_at(start) == Some(b'"') {
            let mut variants = vec![self.string()?.0];
            while self.punct("|").is_some() {
                variants.push(self.string()?.0);
            }
            TypeExpr {
                kind: TypeExprKind::Enum(variants),
                span: self.since(start),
            }
        } else {
            let name = self.ident()?;
            TypeExpr {
                kind: TypeExprKind::Named(name.name),
                span: name.span,
            }
        };
        let ty = match self.punct("?") {
            Some(_) => TypeExpr {
                kind: TypeExprKind::Optional(Box::new(ty)),
                span: self.since(start),
            },
            None => ty,
        };
        self.recursion -= 1;
        Some(ty)
    }

    // ------------------------------------------------------------------ expressions

    /// `expr`
    fn expr(&mut self) -> Option<Expr> {
        self.pratt(0).map(|(expr, _)| expr)
    }

    /// A node of depth `depth`; a decline where `build` reports the tree as too deep.
    fn node(&mut self, kind: ExprKind, span: Span, depth: usize) -> Option<Deep> {
        if depth > MAX_EXPR_DEPTH {
            return self.decline();
        }
        Some((Expr { kind, span }, depth))
    }

    /// Top-down operator precedence over the same sequence of operands and operators
    /// that the grammar's `expr` reads and `build` folds, with the same binding powers:
    /// the operators that bind tighter than `rbp`, folded into the operand at the cursor.
    fn pratt(&mut self, rbp: u32) -> Option<Deep> {
        self.recurse()?;
        let mut lhs = self.operand()?;
        loop {
            let mark = self.mark();
            let Some(op) = self.operator() else {
                self.reset(mark);
                break;
            };
            let power = match op {
                Operator::Access { .. } | Operator::Index => POSTFIX_POWER,
                Operator::Infix(op, _) => infix_power(op).0,
            };
            if power <= rbp {
                self.reset(mark);
                break;
            }
            match self.apply(op, lhs) {
                Applied::Node(node) => lhs = node,
                Applied::Stop(operand) => {
                    self.reset(mark);
                    lhs = operand;
                    break;
                }
                Applied::Declined => return None,
            }
        }
        self.recursion -= 1;
        Some(lhs)
    }

    /// The operator at the cursor (after trivia), not consumed: what the grammar's loop
    /// after an operand accepts (`access`, `opt_access`, `index`, `infix`).
    fn operator(&mut self) -> Option<Operator> {
        let first = self.peek()?;
        let second = self.byte_at(self.pos + 1);
        let infix = |op, len| Some(Operator::Infix(op, len));
        match (first, second) {
            (b'.', _) => Some(Operator::Access { optional: false }),
            (b'?', Some(b'.')) => Some(Operator::Access { optional: true }),
            (b'?', Some(b'?')) => infix(BinaryOp::Coalesce, 2),
            (b'[', _) => Some(Operator::Index),
            (b'=', Some(b'=')) => infix(BinaryOp::Eq, 2),
            (b'!', Some(b'=')) => infix(BinaryOp::Ne, 2),
            (b'<', Some(b'=')) => infix(BinaryOp::Le, 2),
            (b'<', _) => infix(BinaryOp::Lt, 1),
            (b'>', Some(b'=')) => infix(BinaryOp::Ge, 2),
            (b'>', _) => infix(BinaryOp::Gt, 1),
            (b'+', _) => infix(BinaryOp::Add, 1),
            (b'-', next) if next != Some(b'>') => infix(BinaryOp::Sub, 1),
            (b'*', _) => infix(BinaryOp::Mul, 1),
            (b'/', _) => infix(BinaryOp::Div, 1),
            (b'%', _) => infix(BinaryOp::Rem, 1),
            (b'a'..=b'z', _) => {
                let word = self.peek_word();
                let op = match word {
                    "or" => BinaryOp::Or,
                    "and" => BinaryOp::And,
                    "in" => BinaryOp::In,
                    "matches" => BinaryOp::Matches,
                    "matches_regex" => BinaryOp::MatchesRegex,
                    "within" => BinaryOp::Within,
                    _ => return None,
                };
                infix(op, word.len())
            }
            _ => None,
        }
    }

    /// Applies the operator at the cursor to `lhs`, reading its right operand or its
    /// arguments.
    fn apply(&mut self, op: Operator, (lhs, dl): Deep) -> Applied {
        let (kind, span, depth) = match op {
            Operator::Access { optional } => {
                let Some((name, args, from)) = self.access(optional) else {
                    return self.stop((lhs, dl));
                };
                let span = lhs.span.to(self.since(from));
                let base = Box::new(lhs);
                match args {
                    None => {
                        let kind = ExprKind::Field {
                            base,
                            name,
                            optional,
                        };
                        (kind, span, dl + 1)
                    }
                    Some((args, da)) => {
                        let kind = ExprKind::MethodCall {
                            base,
                            name,
                            args,
                            optional,
                        };
                        (kind, span, dl.max(da) + 1)
                    }
                }
            }
            Operator::Index => {
                let Some((index, di, from)) = self.index() else {
                    return self.stop((lhs, dl));
                };
                let span = lhs.span.to(self.since(from));
                let kind = ExprKind::Index {
                    base: Box::new(lhs),
                    index: Box::new(index),
                };
                (kind, span, dl.max(di) + 1)
            }
            Operator::Infix(op, len) => {
                let op_span = self.take(len);
                let (power, right) = infix_power(op);
                let Some((rhs, dr)) = self.pratt(if right { power - 1 } else { power }) else {
                    return self.stop((lhs, dl));
                };
                // A chain of comparisons is an error that `build` words.
                if is_comparison(op)
                    && matches!(&lhs.kind, ExprKind::Binary { op: first, .. } if is_comparison(*first))
                {
                    self.declined = true;
                    return Applied::Declined;
                }
                let span = lhs.span.to(rhs.span);
                let kind = ExprKind::Binary {
                    op,
                    op_span,
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                };
                (kind, span, dl.max(dr) + 1)
            }
        };
        match self.node(kind, span, depth) {
            Some(node) => Applied::Node(node),
            None => Applied::Declined,
        }
    }

    /// `access` or `opt_access`, whose `.` or `?.` is at the cursor: the member, its
    /// arguments if it has any, and where the operator starts.
    #[allow(clippy::type_complexity)]
    fn access(&mut self, optional: bool) -> Option<(Ident, Option<(Vec<Expr>, usize)>, usize)> {
        let from = self.take(if optional { 2 } else { 1 }).start;
        let name = self.member()?;
        Some((name, self.call_args(), from))
    }

    /// `index`, whose `[` is at the cursor: the index, its depth, and where `[` is.
    fn index(&mut self) -> Option<(Expr, usize, usize)> {
        let from = self.take(1).start;
        let (index, depth) = self.pratt(0)?;
        self.punct("]")?;
        Some((index, depth, from))
    }

    /// `(lparen ~ args ~ rparen)?` after a name or a member: the arguments and the depth
    /// of the deepest, or `None`, with the cursor before the `(`, where there are none or
    /// they do not parse (the grammar's optional part is then empty).
    fn call_args(&mut self) -> Option<(Vec<Expr>, usize)> {
        if self.peek() != Some(b'(') {
            return None;
        }
        let mark = self.mark();
        self.take(1);
        let args = self.args(")");
        if args.is_none() {
            self.reset(mark);
        }
        args
    }

    /// After an operator that did not parse: the operand, unless that was a decline.
    fn stop(&self, operand: Deep) -> Applied {
        if self.declined {
            Applied::Declined
        } else {
            Applied::Stop(operand)
        }
    }

    /// `operand`: prefix operators, then a primary.
    fn operand(&mut self) -> Option<Deep> {
        let start = self.pos_after_trivia();
        match self.byte_at(start)? {
            b'-' => {
                let op_span = self.take(1);
                self.unary(UnaryOp::Neg, op_span, NEG_POWER)
            }
            b'"' => {
                let (text, span) = self.string()?;
                self.node(ExprKind::Str(text), span, 1)
            }
            b'0'..=b'9' => {
                let (text, span) = self.number_token();
                let kind = match build::number_value(text) {
                    Ok(Number::Int(n)) => ExprKind::Int(n),
                    Ok(Number::Duration(s)) => ExprKind::Duration(s),
                    Err(_) => return self.decline(),
                };
                self.node(kind, span, 1)
            }
            b'(' => self.paren(),
            b'[' => {
                let from = self.take(1).start;
                let (items, depth) = self.args("]")?;
                self.node(ExprKind::List(items), self.since(from), depth + 1)
            }
            _ => self.word_operand(),
        }
    }

    /// An operand that starts with a word: `if` and `not` prefixes, literals named by a
    /// keyword, a lambda parameter, a name or a call.
    fn word_operand(&mut self) -> Option<Deep> {
        let word = self.peek_word();
        match word {
            "if" => self.if_prefix(),
            "not" => {
                let op_span = self.take(word.len());
                self.unary(UnaryOp::Not, op_span, NOT_POWER)
            }
            "true" | "false" => self.leaf(ExprKind::Bool(word == "true"), word.len()),
            "null" => self.leaf(ExprKind::Null, word.len()),
            "anyone" => self.leaf(ExprKind::Anyone, word.len()),
            _ => {
                let name = self.ident()?;
                let start = name.span.start;
                match self.peek() {
                    Some(b'=') if self.byte_at(self.pos + 1) == Some(b'>') => {
                        // `lambda_prefix`: the body extends as far as it can.
                        self.take(2);
                        let op_span = self.since(start);
                        let (body, depth) = self.pratt(IF_LAMBDA_POWER - 1)?;
                        let span = op_span.to(body.span);
                        let kind = ExprKind::Lambda {
                            param: name,
                            body: Box::new(body),
                        };
                        self.node(kind, span, depth + 1)
                    }
                    _ => match self.call_args() {
                        Some((args, depth)) => {
                            let kind = ExprKind::Call { callee: name, args };
                            self.node(kind, self.since(start), depth + 1)
                        }
                        None => {
                            let span = name.span;
                            self.node(ExprKind::Name(name), span, 1)
                        }
                    },
                }
            }
        }
    }

    /// A literal of `len` bytes at the cursor.
    fn leaf(&mut self, kind: ExprKind, len: usize) -> Option<Deep> {
        let span = self.take(len);
        Some((Expr { kind, span }, 1))
    }

    /// A prefix operator's node over the operand that follows it.
    fn unary(&mut self, op: UnaryOp, op_span: Span, power: u32) -> Option<Deep> {
        let (operand, depth) = self.pratt(power - 1)?;
        let span = op_span.to(operand.span);
        let kind = ExprKind::Unary {
            op,
            operand: Box::new(operand),
        };
        self.node(kind, span, depth + 1)
    }

    /// `if_prefix` and the operand after it (the `else` branch).
    fn if_prefix(&mut self) -> Option<Deep> {
        let start = self.keyword("if")?.start;
        let (condition, dc) = self.pratt(0)?;
        self.keyword("then")?;
        let (then, dt) = self.pratt(0)?;
        self.keyword("else")?;
        let op_span = self.since(start);
        let (otherwise, de) = self.pratt(IF_LAMBDA_POWER - 1)?;
        let span = op_span.to(otherwise.span);
        let kind = ExprKind::If {
            condition: Box::new(condition),
            then: Box::new(then),
            otherwise: Box::new(otherwise),
        };
        self.node(kind, span, dc.max(dt).max(de) + 1)
    }

    /// `paren`
    fn paren(&mut self) -> Option<Deep> {
        let from = self.punct("(")?.start;
        let (inner, depth) = self.pratt(0)?;
        self.punct(")")?;
        self.node(
            ExprKind::Paren(Box::new(inner)),
            self.since(from),
            depth + 1,
        )
    }

    /// `args` and the bracket `close` after them (the opening one is read): the
    /// expressions, and the depth of the deepest.
    fn args(&mut self, close: &str) -> Option<(Vec<Expr>, usize)> {
        let base = self.stack.len();
        let mut depth = 0;
        loop {
            if self.punct(close).is_some() {
                break;
            }
            let (expr, d) = self.pratt(0)?;
            depth = depth.max(d);
            self.stack.push(expr);
            if self.punct(",").is_none() {
                self.punct(close)?;
                break;
            }
        }
        Some((self.stack.drain(base..).collect(), depth))
    }

    // ------------------------------------------------------------------ literals

    /// `number`: a digit, then letters, digits and `_` (checked by `number_value`).
    fn number_token(&mut self) -> (&'s str, Span) {
        let start = self.pos;
        let mut end = start + 1;
        while self
            .byte_at(end)
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            end += 1;
        }
        let span = self.take(end - start);
        (self.src.get(start..end).unwrap_or_default(), span)
    }

    /// `string`, with its escapes resolved.
    fn string(&mut self) -> Option<(String, Span)> {
        let start = self.pos_after_trivia();
        if self.byte_at(start) != Some(b'"') {
            return None;
        }
        let mut text = String::new();
        let mut run = start + 1;
        let mut i = run;
        loop {
            match self.byte_at(i)? {
                b'"' => break,
                b'\n' => return None,
                b'\\' => {
                    text.push_str(self.src.get(run..i)?);
                    let (resolved, len) = self.escape(i)?;
                    text.push(resolved);
                    i += len;
                    run = i;
                }
                _ => i += 1,
            }
        }
        // Most strings have no escape: their text is one exact copy.
        if run == start + 1 {
            text = self.src.get(run..i)?.to_string();
        } else {
            text.push_str(self.src.get(run..i)?);
        }
        self.pos = i;
        self.take(1);
        Some((text, self.since(start)))
    }

    /// The escape whose backslash is at `at`: what it stands for and its length. The
    /// grammar reads any character but a newline after a backslash; `build` reports the
    /// unknown ones.
    fn escape(&mut self, at: usize) -> Option<(char, usize)> {
        let next = self.src.get(at + 1..self.end)?.chars().next()?;
        if next == '\n' {
            return None;
        }
        match build::unescape(next) {
            Some(resolved) => Some((resolved, 1 + next.len_utf8())),
            None => self.decline(),
        }
    }

    /// `template`: a message with its escapes resolved and its holes parsed.
    fn template(&mut self) -> Option<Template> {
        let start = self.pos_after_trivia();
        if self.byte_at(start) != Some(b'"') {
            return None;
        }
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut run = start + 1;
        let mut i = run;
        loop {
            match self.byte_at(i)? {
                b'"' => break,
                b'\n' => return None,
                // Unmatched: `build` reports it.
                b'}' => return self.decline(),
                b'\\' => {
                    text.push_str(self.src.get(run..i)?);
                    let (resolved, len) = self.escape(i)?;
                    text.push(resolved);
                    i += len;
                    run = i;
                }
                b'{' => {
                    text.push_str(self.src.get(run..i)?);
                    // A `{` that opens no hole is text to the grammar, which `build` reports;
                    // so is a hole that is no expression.
                    let Some(close) = scan::hole_end(self.bytes.get(..self.end)?, i) else {
                        return self.decline();
                    };
                    // `build` rejects a `{` in a hole, outside the strings it sees there
                    // (it does not look for comments: `{"a" // {`).
                    let inside = self.src.get(i + 1..close)?;
                    if build::brace_outside_strings(inside).is_some() {
                        return self.decline();
                    }
                    if !text.is_empty() {
                        parts.push(TemplatePart::Text(std::mem::take(&mut text)));
                    }
                    let Some(hole) = self.hole(i + 1, close) else {
                        return self.decline();
                    };
                    parts.push(TemplatePart::Hole(hole));
                    i = close + 1;
                    run = i;
                }
                _ => i += 1,
            }
        }
        text.push_str(self.src.get(run..i)?);
        if !text.is_empty() {
            parts.push(TemplatePart::Text(text));
        }
        parts.shrink_to_fit();
        self.pos = i;
        self.take(1);
        Some(Template {
            parts,
            span: self.since(start),
        })
    }

    /// The expression of a template hole, `src[start..end]` (what the grammar's `hole`
    /// rule reads there).
    fn hole(&mut self, start: usize, end: usize) -> Option<Expr> {
        let (pos, outer_end) = (self.pos, self.end);
        self.pos = start;
        self.end = end;
        let expr = self.expr();
        let rest = self.more();
        self.pos = pos;
        self.end = outer_end;
        expr.filter(|_| !rest)
    }
}
