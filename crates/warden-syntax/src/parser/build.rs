//! Builds AST nodes from pest's parse tree. The grammar guarantees the tree's shape, but
//! nothing here relies on that blindly: a surprise becomes an internal-error diagnostic,
//! never a panic. Expression depth is tracked while building so that no tree deeper
//! than `MAX_EXPR_DEPTH` reaches later stages (their recursion must not overflow).

use crate::Code;
use std::iter::Peekable;

use pest::Parser as _;
use pest::iterators::{Pair, Pairs};

use super::errors::{self, Place, Subject};
use super::{Rule, WardenParser, scan};
use crate::ast::{
    ApprovalReq, ApproverSource, BinaryOp, Block, Demand, ExemptItem, Expr, ExprKind, FnItem,
    Ident, Import, ImportTarget, Item, LetItem, Overridability, OverrideClause, Param, PolicyEntry,
    PolicyItem, RuleItem, Template, TemplatePart, TypeExpr, TypeExprKind, UnaryOp,
};
use crate::{Diagnostic, FileId, MAX_NESTING, Span};

pub(super) type Res<T> = Result<T, Diagnostic>;

/// The deepest expression tree the parser builds. Deeper input is rejected.
pub(super) const MAX_EXPR_DEPTH: usize = MAX_NESTING * 4;

/// How an operator applies to its operands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Affix {
    Prefix,
    Postfix,
    /// An infix operator, left-associative.
    Left,
    /// An infix operator, right-associative.
    Right,
}

/// Binding powers of the prefix and postfix operators (docs/language.md, "Expressions"),
/// beside [`infix_power`]'s: the numbers are the ones pest's `PrattParser` would give these
/// levels. `if … else` and `x =>` bind loosest, so that their operand extends as far as
/// it can.
pub(super) const IF_LAMBDA_POWER: u32 = 20;
pub(super) const NOT_POWER: u32 = 50;
pub(super) const NEG_POWER: u32 = 100;
pub(super) const POSTFIX_POWER: u32 = 110;

/// How tightly the comparisons bind: all alike, between `and` and `??`.
const COMPARISON_POWER: u32 = 60;

/// How tightly an infix operator binds, and whether it is right-associative (only `??`).
/// Comparisons are non-associative: parsed left-associatively, then a chain is reported
/// (see [`Cx::infix`]).
pub(super) fn infix_power(op: BinaryOp) -> (u32, bool) {
    match op {
        BinaryOp::Or => (30, false),
        BinaryOp::And => (40, false),
        BinaryOp::Eq
        | BinaryOp::Ne
        | BinaryOp::Lt
        | BinaryOp::Le
        | BinaryOp::Gt
        | BinaryOp::Ge
        | BinaryOp::In
        | BinaryOp::Matches
        | BinaryOp::MatchesRegex
        | BinaryOp::Within => (COMPARISON_POWER, false),
        BinaryOp::Coalesce => (70, true),
        BinaryOp::Add | BinaryOp::Sub => (80, false),
        BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem => (90, false),
    }
}

/// Where the last token of `pair` ends (an offset in pest's input), before any trivia
/// the pair includes. Trivia is skipped only between the parts of a non-atomic rule,
/// and every non-atomic rule of the grammar ends with a rule of its own (a token, a
/// keyword, an expression…), so the end of its last inner pair, recursively, is where
/// its code ends. (Cutting trailing comments from the text instead takes a `//` in a
/// message's hole for one: `deny "{f("//")}"`.) The compound-atomic `string` and
/// `template` end with their closing quote and hold no trivia.
fn token_end(pair: &Pair<'_, Rule>) -> usize {
    if matches!(pair.as_rule(), Rule::string | Rule::template) {
        return pair.as_span().end();
    }
    match pair.clone().into_inner().next_back() {
        Some(last) => token_end(&last),
        None => pair.as_span().end(),
    }
}

/// The binary operator an operator rule stands for.
fn binary_op(rule: Rule) -> Option<BinaryOp> {
    Some(match rule {
        Rule::op_or => BinaryOp::Or,
        Rule::op_and => BinaryOp::And,
        Rule::op_eq => BinaryOp::Eq,
        Rule::op_ne => BinaryOp::Ne,
        Rule::op_lt => BinaryOp::Lt,
        Rule::op_le => BinaryOp::Le,
        Rule::op_gt => BinaryOp::Gt,
        Rule::op_ge => BinaryOp::Ge,
        Rule::op_in => BinaryOp::In,
        Rule::op_matches => BinaryOp::Matches,
        Rule::op_matches_regex => BinaryOp::MatchesRegex,
        Rule::op_within => BinaryOp::Within,
        Rule::op_coalesce => BinaryOp::Coalesce,
        Rule::op_add => BinaryOp::Add,
        Rule::op_sub => BinaryOp::Sub,
        Rule::op_mul => BinaryOp::Mul,
        Rule::op_div => BinaryOp::Div,
        Rule::op_rem => BinaryOp::Rem,
        _ => return None,
    })
}

/// Operator precedence: how an operator rule applies and how tightly it binds, or `None`
/// for a primary.
fn binding(rule: Rule) -> Option<(Affix, u32)> {
    Some(match rule {
        Rule::if_prefix | Rule::lambda_prefix => (Affix::Prefix, IF_LAMBDA_POWER),
        Rule::op_not => (Affix::Prefix, NOT_POWER),
        Rule::op_neg => (Affix::Prefix, NEG_POWER),
        Rule::access | Rule::opt_access | Rule::index => (Affix::Postfix, POSTFIX_POWER),
        _ => {
            let (power, right) = infix_power(binary_op(rule)?);
            (if right { Affix::Right } else { Affix::Left }, power)
        }
    })
}

/// The binding power of the operator that comes next (0 at the end). Anything else
/// binds tightest, so that `led` reports it.
fn lbp(ops: &mut Ops<'_>) -> u32 {
    match ops.peek() {
        None => 0,
        Some(op) => binding(op.as_rule()).map_or(u32::MAX, |(_, prec)| prec),
    }
}

/// The flat sequence of an `expr`'s prefix operators, primaries, postfix and infix
/// operators, as the Pratt fold consumes it.
type Ops<'i> = Peekable<Pairs<'i, Rule>>;

/// An expression and the depth of its tree (a leaf has depth 1).
type Deep = (Expr, usize);

/// Building context: the whole file (for doc comments) and where the text that pest
/// parsed starts in it (pest's offsets are relative to that text).
pub(super) struct Cx<'s> {
    pub src: &'s str,
    pub base: usize,
    pub file: FileId,
}

impl<'s> Cx<'s> {
    /// The pair's span in the file, without trailing whitespace and comments: pest
    /// includes them when a rule ends with an optional or repeated part.
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        let text = s.as_str();
        let start = self.base + s.start();
        // Trailing trivia ends with whitespace, or with a comment at the very end of the
        // input: a pair that ends earlier, on something else, has none.
        let plain_end = text.as_bytes().last().is_some_and(|&b| !scan::is_space(b))
            && s.end() < s.get_input().len();
        let end = if plain_end { s.end() } else { token_end(pair) };
        Span::new(start, self.base + end)
    }

    /// The tree does not have the shape the grammar promises: a bug in Warden.
    pub(super) fn shape(&self, span: Span) -> Diagnostic {
        Diagnostic::new(Code::SyntaxError, "the parser could not make sense of this")
            .with_label(self.file, span, "unexpected syntax tree here")
            .with_help("this is a bug in Warden's parser; please report it with this input")
    }

    fn too_deep(&self, at: Span) -> Diagnostic {
        Diagnostic::new(
            Code::NestingTooDeep,
            format!("expression is nested deeper than {MAX_EXPR_DEPTH} levels"),
        )
        .with_label(self.file, at, "the limit is exceeded here")
        .with_help("split the expression into `let` bindings or helper functions")
    }

    fn bad_literal(&self, span: Span, message: String, label: &str, help: &str) -> Diagnostic {
        Diagnostic::new(Code::BadLiteral, message)
            .with_label(self.file, span, label)
            .with_help(help)
    }

    /// The first child with `rule`.
    fn child<'i>(&self, pair: &Pair<'i, Rule>, rule: Rule) -> Res<Pair<'i, Rule>> {
        pair.clone()
            .into_inner()
            .find(|p| p.as_rule() == rule)
            .ok_or_else(|| self.shape(self.span(pair)))
    }

    fn ident(&self, pair: &Pair<'_, Rule>) -> Ident {
        Ident {
            name: pair.as_str().to_string(),
            span: self.span(pair),
        }
    }

    fn doc_before(&self, start: usize) -> Option<String> {
        doc_comment(self.src, start)
    }

    // ------------------------------------------------------------------ items

    /// One top-level item: the pair of its kind (`let_item`, `rule_item`, …).
    pub(super) fn item(&self, p: Pair<'_, Rule>) -> Res<Item> {
        match p.as_rule() {
            Rule::import_item => self.import(p).map(Item::Import),
            Rule::let_item => self.let_item(p).map(|i| Item::Let(Box::new(i))),
            Rule::fn_item => self.fn_item(p).map(|i| Item::Fn(Box::new(i))),
            Rule::policy_item => self.policy(p).map(Item::Policy),
            Rule::rule_item => self.rule(p).map(|i| Item::Rule(Box::new(i))),
            Rule::exempt_item => self.exempt(p).map(|i| Item::Exempt(Box::new(i))),
            _ => Err(self.shape(self.span(&p))),
        }
    }

    fn import(&self, pair: Pair<'_, Rule>) -> Res<Import> {
        let span = self.span(&pair);
        let mut target = None;
        let mut alias = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::import_std => {
                    let segments = p
                        .into_inner()
                        .filter(|s| s.as_rule() == Rule::ident)
                        .map(|s| self.ident(&s))
                        .collect();
                    target = Some(ImportTarget::Std(segments));
                }
                Rule::import_file => {
                    let string = self.child(&p, Rule::string)?;
                    target = Some(ImportTarget::File {
                        path: self.plain_string(&string)?,
                        span: self.span(&string),
                    });
                }
                Rule::ident => alias = Some(self.ident(&p)),
                _ => {}
            }
        }
        let target = target.ok_or_else(|| self.shape(span))?;
        Ok(Import {
            target,
            alias,
            span,
        })
    }

    fn let_item(&self, pair: Pair<'_, Rule>) -> Res<LetItem> {
        let span = self.span(&pair);
        let mut name = None;
        let mut ty = None;
        let mut value = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::ident => name = Some(self.ident(&p)),
                Rule::type_expr => ty = Some(self.type_expr(p)?),
                Rule::expr => value = Some(self.expr(p)?),
                _ => {}
            }
        }
        match (name, value) {
            (Some(name), Some(value)) => Ok(LetItem {
                doc: self.doc_before(span.start),
                name,
                ty,
                value,
                span,
            }),
            _ => Err(self.shape(span)),
        }
    }

    fn fn_item(&self, pair: Pair<'_, Rule>) -> Res<FnItem> {
        let span = self.span(&pair);
        let mut name = None;
        let mut params = Vec::new();
        let mut ret = None;
        let mut body = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::ident => name = Some(self.ident(&p)),
                Rule::param => {
                    let param_span = self.span(&p);
                    let mut param_name = None;
                    let mut param_ty = None;
                    for q in p.into_inner() {
                        match q.as_rule() {
                            Rule::ident => param_name = Some(self.ident(&q)),
                            Rule::type_expr => param_ty = Some(self.type_expr(q)?),
                            _ => {}
                        }
                    }
                    match (param_name, param_ty) {
                        (Some(name), Some(ty)) => params.push(Param { name, ty }),
                        _ => return Err(self.shape(param_span)),
                    }
                }
                Rule::type_expr => ret = Some(self.type_expr(p)?),
                Rule::fn_expr_body => {
                    let result = self.expr(self.child(&p, Rule::expr)?)?;
                    body = Some(Block {
                        lets: Vec::new(),
                        result,
                    });
                }
                Rule::block => {
                    let mut lets = Vec::new();
                    let mut result = None;
                    for q in p.into_inner() {
                        match q.as_rule() {
                            Rule::let_item => lets.push(self.let_item(q)?),
                            Rule::expr => result = Some(self.expr(q)?),
                            _ => {}
                        }
                    }
                    let result = result.ok_or_else(|| self.shape(span))?;
                    body = Some(Block { lets, result });
                }
                _ => {}
            }
        }
        match (name, ret, body) {
            (Some(name), Some(ret), Some(body)) => Ok(FnItem {
                doc: self.doc_before(span.start),
                name,
                params,
                ret,
                body,
                span,
            }),
            _ => Err(self.shape(span)),
        }
    }

    fn policy(&self, pair: Pair<'_, Rule>) -> Res<PolicyItem> {
        let span = self.span(&pair);
        let mut entries = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::policy_overridable => {
                    entries.push(PolicyEntry::Overridable(self.override_clause(p)?));
                }
                Rule::policy_after_push => {
                    entries.push(PolicyEntry::ApprovalAfterLastPush(self.span(&p)));
                }
                _ => {}
            }
        }
        Ok(PolicyItem { entries, span })
    }

    /// `overridable [by SET] [where COND]`; the keyword before an expression says
    /// which one it is.
    fn override_clause(&self, pair: Pair<'_, Rule>) -> Res<OverrideClause> {
        let span = self.span(&pair);
        let mut by = None;
        let mut condition = None;
        let mut last = Rule::k_overridable;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::expr if last == Rule::k_by => by = Some(self.expr(p)?),
                Rule::expr if last == Rule::k_where => condition = Some(self.expr(p)?),
                Rule::expr => return Err(self.shape(span)),
                rule => last = rule,
            }
        }
        Ok(OverrideClause {
            by,
            condition,
            span,
        })
    }

    fn rule(&self, pair: Pair<'_, Rule>) -> Res<RuleItem> {
        let span = self.span(&pair);
        let mut name = None;
        let mut advisory = false;
        let mut overridable = Overridability::Default;
        let mut lets = Vec::new();
        let mut when = None;
        let mut demands = Vec::new();
        let mut message = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::ident => name = Some(self.ident(&p)),
                Rule::k_advisory => advisory = true,
                Rule::not_overridable => overridable = Overridability::Never,
                Rule::override_clause => {
                    overridable = Overridability::Clause(Box::new(self.override_clause(p)?));
                }
                Rule::let_item => lets.push(self.let_item(p)?),
                Rule::when_clause => when = Some(self.expr(self.child(&p, Rule::expr)?)?),
                Rule::deny | Rule::require_approval | Rule::require_condition => {
                    demands.push(self.demand(p)?);
                }
                Rule::message_clause => {
                    message = Some(self.template(self.child(&p, Rule::template)?)?);
                }
                _ => {}
            }
        }
        let name = name.ok_or_else(|| self.shape(span))?;
        // A first push reserves four places: a policy of 40,000 rules of one demand
        // would keep 120,000 empty demands of a few hundred bytes each.
        lets.shrink_to_fit();
        demands.shrink_to_fit();
        Ok(RuleItem {
            doc: self.doc_before(span.start),
            name,
            advisory,
            overridable,
            lets,
            when,
            demands,
            message,
            span,
        })
    }

    fn demand(&self, pair: Pair<'_, Rule>) -> Res<Demand> {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::deny => {
                let message = self.template(self.child(&pair, Rule::template)?)?;
                let unless = match pair
                    .clone()
                    .into_inner()
                    .find(|p| p.as_rule() == Rule::approval)
                {
                    Some(p) => Some(Box::new(self.approval(p)?)),
                    None => None,
                };
                Ok(Demand::Deny {
                    message,
                    unless,
                    span,
                })
            }
            Rule::require_approval => Ok(Demand::Approval(Box::new(
                self.approval(self.child(&pair, Rule::approval)?)?,
            ))),
            Rule::require_condition => Ok(Demand::Condition {
                condition: self.expr(self.child(&pair, Rule::expr)?)?,
                message: self.template(self.child(&pair, Rule::template)?)?,
                deny: pair
                    .clone()
                    .into_inner()
                    .any(|p| p.as_rule() == Rule::k_deny),
                span,
            }),
            _ => Err(self.shape(span)),
        }
    }

    fn approval(&self, pair: Pair<'_, Rule>) -> Res<ApprovalReq> {
        let span = self.span(&pair);
        let mut count = None;
        let mut source = None;
        let mut condition = None;
        let mut allow_stale = false;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::approval_count => count = Some(self.count(p)?),
                Rule::approver_set => {
                    source = Some(ApproverSource::Set(self.expr(self.child(&p, Rule::expr)?)?));
                }
                Rule::each_team => {
                    let e = self.expr(self.child(&p, Rule::expr)?)?;
                    source = Some(ApproverSource::EachTeam(e));
                }
                Rule::each_user => {
                    let e = self.expr(self.child(&p, Rule::expr)?)?;
                    source = Some(ApproverSource::EachUser(e));
                }
                // The only bare expression in an approval is the `where` condition.
                Rule::expr => condition = Some(self.expr(p)?),
                Rule::allow_stale => allow_stale = true,
                _ => {}
            }
        }
        match (count, source) {
            (Some(count), Some(source)) => Ok(ApprovalReq {
                count,
                source,
                condition,
                allow_stale,
                span,
            }),
            _ => Err(self.shape(span)),
        }
    }

    fn exempt(&self, pair: Pair<'_, Rule>) -> Res<ExemptItem> {
        let span = self.span(&pair);
        let mut idents = Vec::new();
        let mut lets = Vec::new();
        let mut when = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::ident => idents.push(self.ident(&p)),
                Rule::let_item => lets.push(self.let_item(p)?),
                Rule::when_clause => when = Some(self.expr(self.child(&p, Rule::expr)?)?),
                _ => {}
            }
        }
        let mut idents = idents.into_iter();
        match (idents.next(), when) {
            (Some(name), Some(when)) => Ok(ExemptItem {
                doc: self.doc_before(span.start),
                name,
                rules: idents.collect(),
                lets,
                when,
                span,
            }),
            _ => Err(self.shape(span)),
        }
    }

    // ------------------------------------------------------------------ types

    fn type_expr(&self, pair: Pair<'_, Rule>) -> Res<TypeExpr> {
        let span = self.span(&pair);
        let mut ty = None;
        let mut optional = false;
        for p in pair.into_inner() {
            let inner_span = self.span(&p);
            match p.as_rule() {
                Rule::list_type => {
                    let inner = self.type_expr(self.child(&p, Rule::type_expr)?)?;
                    ty = Some(TypeExpr {
                        kind: TypeExprKind::List(Box::new(inner)),
                        span: inner_span,
                    });
                }
                Rule::map_type => {
                    let inner = self.type_expr(self.child(&p, Rule::type_expr)?)?;
                    ty = Some(TypeExpr {
                        kind: TypeExprKind::Map(Box::new(inner)),
                        span: inner_span,
                    });
                }
                Rule::enum_type => {
                    let mut variants = Vec::new();
                    for s in p.into_inner().filter(|s| s.as_rule() == Rule::string) {
                        variants.push(self.plain_string(&s)?);
                    }
                    ty = Some(TypeExpr {
                        kind: TypeExprKind::Enum(variants),
                        span: inner_span,
                    });
                }
                Rule::type_name => {
                    ty = Some(TypeExpr {
                        kind: TypeExprKind::Named(p.as_str().to_string()),
                        span: inner_span,
                    });
                }
                Rule::question => optional = true,
                _ => {}
            }
        }
        let ty = ty.ok_or_else(|| self.shape(span))?;
        Ok(if optional {
            TypeExpr {
                kind: TypeExprKind::Optional(Box::new(ty)),
                span,
            }
        } else {
            ty
        })
    }

    // ------------------------------------------------------------------ expressions

    fn node(&self, kind: ExprKind, span: Span, depth: usize, at: Span) -> Res<Deep> {
        if depth > MAX_EXPR_DEPTH {
            return Err(self.too_deep(at));
        }
        Ok((Expr { kind, span }, depth))
    }

    pub(super) fn expr(&self, pair: Pair<'_, Rule>) -> Res<Expr> {
        self.expr_deep(pair).map(|(e, _)| e)
    }

    fn expr_deep(&self, pair: Pair<'_, Rule>) -> Res<Deep> {
        let pairs = pair.clone().into_inner();
        // The Pratt fold recurses once per prefix operator and per right-associative
        // `??`: bound that before folding the sequence. (A shorter sequence cannot hold
        // too many.)
        if pairs.len() > MAX_EXPR_DEPTH {
            let mut stacked = 0;
            for p in pairs.clone() {
                if matches!(
                    p.as_rule(),
                    Rule::if_prefix
                        | Rule::lambda_prefix
                        | Rule::op_not
                        | Rule::op_neg
                        | Rule::op_coalesce
                ) {
                    stacked += 1;
                    if stacked > MAX_EXPR_DEPTH {
                        return Err(self.too_deep(self.span(&p)));
                    }
                }
            }
        }
        self.pratt(&mut pairs.peekable(), 0, &pair)
    }

    /// Pratt parsing (top-down operator precedence): folds the operators that bind
    /// tighter than `rbp` into the operand that starts `ops`. This replaces pest's
    /// `PrattParser`, which allocates its callbacks for every expression, and keeps its
    /// shape (`nud` for an operand, `led` for an operator, in separate functions so that
    /// each recursion level stays small on the stack). The first error in evaluation
    /// order wins, as it did there.
    fn pratt(&self, ops: &mut Ops<'_>, rbp: u32, whole: &Pair<'_, Rule>) -> Res<Deep> {
        let mut lhs = self.nud(ops, whole);
        while lhs.is_ok() && rbp < lbp(ops) {
            lhs = self.led(ops, lhs, whole);
        }
        lhs
    }

    /// An operand: a primary, or a prefix operator and its own operand.
    fn nud(&self, ops: &mut Ops<'_>, whole: &Pair<'_, Rule>) -> Res<Deep> {
        let Some(first) = ops.next() else {
            return Err(self.shape(self.span(whole)));
        };
        match binding(first.as_rule()) {
            None => self.primary(first),
            Some((Affix::Prefix, prec)) => {
                let operand = self.pratt(ops, prec - 1, whole)?;
                self.prefix(first, operand)
            }
            Some(_) => Err(self.shape(self.span(&first))),
        }
    }

    /// A postfix operator applied to `lhs`, or an infix one and its right operand.
    fn led(&self, ops: &mut Ops<'_>, lhs: Res<Deep>, whole: &Pair<'_, Rule>) -> Res<Deep> {
        let (Some(op), Ok(lhs)) = (ops.next(), lhs) else {
            return Err(self.shape(self.span(whole)));
        };
        match binding(op.as_rule()) {
            Some((Affix::Postfix, _)) => self.postfix(lhs, op),
            Some((Affix::Left, prec)) => {
                let rhs = self.pratt(ops, prec, whole)?;
                self.infix(lhs, op, rhs)
            }
            Some((Affix::Right, prec)) => {
                let rhs = self.pratt(ops, prec - 1, whole)?;
                self.infix(lhs, op, rhs)
            }
            Some((Affix::Prefix, _)) | None => Err(self.shape(self.span(&op))),
        }
    }

    /// The comma-separated expressions of the `args` child of `pair`, with the depth of
    /// the deepest.
    fn args(&self, pair: &Pair<'_, Rule>) -> Res<(Vec<Expr>, usize)> {
        self.exprs(self.child(pair, Rule::args)?)
    }

    /// The comma-separated expressions of an `args` pair, with the depth of the deepest.
    fn exprs(&self, args: Pair<'_, Rule>) -> Res<(Vec<Expr>, usize)> {
        let pairs = args.into_inner();
        // The children are the expressions and the commas between them (perhaps one
        // more after the last).
        let mut exprs = Vec::with_capacity(pairs.len().div_ceil(2));
        let mut depth = 0;
        for p in pairs.filter(|p| p.as_rule() == Rule::expr) {
            let (e, d) = self.expr_deep(p)?;
            depth = depth.max(d);
            exprs.push(e);
        }
        Ok((exprs, depth))
    }

    fn primary(&self, pair: Pair<'_, Rule>) -> Res<Deep> {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::paren => {
                let (inner, depth) = self.expr_deep(self.child(&pair, Rule::expr)?)?;
                self.node(ExprKind::Paren(Box::new(inner)), span, depth + 1, span)
            }
            Rule::list => {
                let (items, depth) = self.args(&pair)?;
                self.node(ExprKind::List(items), span, depth + 1, span)
            }
            Rule::number => {
                let kind = match self.number(&pair)? {
                    Number::Int(n) => ExprKind::Int(n),
                    Number::Duration(s) => ExprKind::Duration(s),
                };
                self.node(kind, span, 1, span)
            }
            Rule::string => self.node(ExprKind::Str(self.plain_string(&pair)?), span, 1, span),
            Rule::bool_lit => self.node(ExprKind::Bool(pair.as_str() == "true"), span, 1, span),
            Rule::anyone => self.node(ExprKind::Anyone, span, 1, span),
            Rule::null_lit => self.node(ExprKind::Null, span, 1, span),
            // A name, or a call when it has arguments.
            Rule::name => {
                let mut inner = pair.into_inner();
                let ident = match inner.next() {
                    Some(p) if p.as_rule() == Rule::ident => self.ident(&p),
                    _ => return Err(self.shape(span)),
                };
                let Some(args) = inner.find(|p| p.as_rule() == Rule::args) else {
                    return self.node(ExprKind::Name(ident), span, 1, span);
                };
                let (args, depth) = self.exprs(args)?;
                let kind = ExprKind::Call {
                    callee: ident,
                    args,
                };
                self.node(kind, span, depth + 1, span)
            }
            _ => Err(self.shape(span)),
        }
    }

    fn prefix(&self, op: Pair<'_, Rule>, (operand, depth): Deep) -> Res<Deep> {
        let op_span = self.span(&op);
        let span = op_span.to(operand.span);
        match op.as_rule() {
            Rule::op_not | Rule::op_neg => {
                let op = if op.as_rule() == Rule::op_not {
                    UnaryOp::Not
                } else {
                    UnaryOp::Neg
                };
                let kind = ExprKind::Unary {
                    op,
                    operand: Box::new(operand),
                };
                self.node(kind, span, depth + 1, op_span)
            }
            Rule::if_prefix => {
                let mut parts = op
                    .clone()
                    .into_inner()
                    .filter(|p| p.as_rule() == Rule::expr);
                let (Some(c), Some(t)) = (parts.next(), parts.next()) else {
                    return Err(self.shape(op_span));
                };
                let (condition, dc) = self.expr_deep(c)?;
                let (then, dt) = self.expr_deep(t)?;
                let kind = ExprKind::If {
                    condition: Box::new(condition),
                    then: Box::new(then),
                    otherwise: Box::new(operand),
                };
                self.node(kind, span, dc.max(dt).max(depth) + 1, op_span)
            }
            Rule::lambda_prefix => {
                let param = self.ident(&self.child(&op, Rule::ident)?);
                let kind = ExprKind::Lambda {
                    param,
                    body: Box::new(operand),
                };
                self.node(kind, span, depth + 1, op_span)
            }
            _ => Err(self.shape(op_span)),
        }
    }

    fn postfix(&self, (base, depth): Deep, op: Pair<'_, Rule>) -> Res<Deep> {
        let op_span = self.span(&op);
        let span = base.span.to(op_span);
        let base = Box::new(base);
        match op.as_rule() {
            // `.name` is a field, `.name(…)` a method call: only the latter has `args`.
            Rule::access | Rule::opt_access => {
                let optional = op.as_rule() == Rule::opt_access;
                let mut inner = op.into_inner();
                let name = match inner.next() {
                    Some(p) if p.as_rule() == Rule::member => self.ident(&p),
                    _ => return Err(self.shape(op_span)),
                };
                let Some(args) = inner.find(|p| p.as_rule() == Rule::args) else {
                    let kind = ExprKind::Field {
                        base,
                        name,
                        optional,
                    };
                    return self.node(kind, span, depth + 1, op_span);
                };
                let (args, arg_depth) = self.exprs(args)?;
                let kind = ExprKind::MethodCall {
                    base,
                    name,
                    args,
                    optional,
                };
                self.node(kind, span, depth.max(arg_depth) + 1, op_span)
            }
            Rule::index => {
                let (index, index_depth) = self.expr_deep(self.child(&op, Rule::expr)?)?;
                let kind = ExprKind::Index {
                    base,
                    index: Box::new(index),
                };
                self.node(kind, span, depth.max(index_depth) + 1, op_span)
            }
            _ => Err(self.shape(op_span)),
        }
    }

    fn infix(&self, (lhs, dl): Deep, op: Pair<'_, Rule>, (rhs, dr): Deep) -> Res<Deep> {
        let op_span = self.span(&op);
        let Some(op) = binary_op(op.as_rule()) else {
            return Err(self.shape(op_span));
        };
        if is_comparison(op)
            && let ExprKind::Binary {
                op: first,
                op_span: first_span,
                ..
            } = &lhs.kind
            && is_comparison(*first)
        {
            return Err(Diagnostic::new(
                Code::SyntaxError,
                format!(
                    "comparison operators cannot be chained: `{}` follows `{}`",
                    op.symbol(),
                    first.symbol()
                ),
            )
            .with_label(self.file, op_span, "second comparison")
            .with_label(self.file, *first_span, "first comparison")
            .with_help(
                "combine comparisons with `and` (`a < b and b < c`), or add parentheses \
                 if one comparison is meant to be compared",
            ));
        }
        let span = lhs.span.to(rhs.span);
        let kind = ExprKind::Binary {
            op,
            op_span,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        };
        self.node(kind, span, dl.max(dr) + 1, op_span)
    }

    // ------------------------------------------------------------------ literals

    fn number(&self, pair: &Pair<'_, Rule>) -> Res<Number> {
        let text = pair.as_str();
        let span = self.span(pair);
        number_value(text).map_err(|error| match error {
            NumberError::Invalid => self.bad_literal(
                span,
                format!("invalid number `{text}`"),
                "not a number or a duration",
                "integers are digits, optionally grouped with `_` (`1_000`); durations add \
                 one unit, `s`, `m`, `h` or `d` (`90m`)",
            ),
            NumberError::TooLarge => self.bad_literal(
                span,
                format!("number `{text}` is too large"),
                "does not fit in 64 bits",
                "the largest integer is 9_223_372_036_854_775_807 (and durations are stored \
                 in seconds)",
            ),
        })
    }

    /// An approval count: a literal (a plain integer that fits `u32`), or a
    /// parenthesised expression whose value is checked when the rule is evaluated.
    fn count(&self, pair: Pair<'_, Rule>) -> Res<Expr> {
        let span = self.span(&pair);
        let Some(inner) = pair.into_inner().next() else {
            return Err(self.shape(span));
        };
        if inner.as_rule() != Rule::number {
            return self.primary(inner).map(|(e, _)| e);
        }
        match self.number(&inner)? {
            Number::Int(n) if u32::try_from(n).is_ok() => Ok(Expr {
                kind: ExprKind::Int(n),
                span,
            }),
            Number::Int(_) => Err(self.bad_literal(
                span,
                format!("approval count `{}` is too large", inner.as_str()),
                "too many approvals",
                "an approval count must be at most 4_294_967_295",
            )),
            Number::Duration(_) => Err(self.bad_literal(
                span,
                format!(
                    "expected a number of approvals, found the duration `{}`",
                    inner.as_str()
                ),
                "a duration",
                "write a plain count, e.g. `2 approvals from team(\"sre\")`",
            )),
        }
    }

    /// The raw text between the quotes of a `string` pair, and its offset in the file.
    fn string_content<'i>(&self, pair: &Pair<'i, Rule>) -> (&'i str, usize) {
        self.quoted_content(pair, Rule::string_inner)
    }

    /// The text between the quotes of a `string` or `template` (its `inner` child), and
    /// where it starts.
    fn quoted_content<'i>(&self, pair: &Pair<'i, Rule>, inner: Rule) -> (&'i str, usize) {
        match pair.clone().into_inner().find(|p| p.as_rule() == inner) {
            Some(inner) => (inner.as_str(), self.span(&inner).start),
            None => ("", self.span(pair).start + 1),
        }
    }

    /// Resolves the escape at `rest` (which starts with a backslash), at `offset`.
    fn escape(&self, rest: &str, offset: usize) -> Res<(char, usize)> {
        let mut chars = rest.chars();
        chars.next();
        let next = chars.next();
        let resolved = match next.and_then(unescape) {
            Some(resolved) => resolved,
            None => {
                let len = 1 + next.map_or(0, char::len_utf8);
                let shown = rest.get(..len).unwrap_or("\\");
                return Err(self.bad_literal(
                    Span::new(offset, offset + len),
                    format!("unknown escape `{shown}` in string"),
                    "unknown escape",
                    "the escapes are `\\\"`, `\\\\`, `\\n`, `\\t`, `\\{` and `\\}`",
                ));
            }
        };
        Ok((resolved, 1 + resolved.len_utf8()))
    }

    /// A string literal outside message position: escapes resolved, braces as text.
    fn plain_string(&self, pair: &Pair<'_, Rule>) -> Res<String> {
        let (content, start) = self.string_content(pair);
        let mut out = String::with_capacity(content.len());
        let mut i = 0;
        loop {
            // The text up to the next escape, copied at once.
            let run = plain_run(&content[i..], |b| b == b'\\');
            out.push_str(&content[i..i + run]);
            i += run;
            if i == content.len() {
                return Ok(out);
            }
            let (resolved, len) = self.escape(&content[i..], start + i)?;
            out.push(resolved);
            i += len;
        }
    }

    /// A message string: text and `{expr}` holes.
    fn template(&self, pair: Pair<'_, Rule>) -> Res<Template> {
        let span = self.span(&pair);
        let (content, start) = self.quoted_content(&pair, Rule::template_inner);
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut i = 0;
        loop {
            // The text up to the next escape or brace, copied at once.
            let run = plain_run(&content[i..], |b| matches!(b, b'\\' | b'{' | b'}'));
            text.push_str(&content[i..i + run]);
            i += run;
            let Some(c) = content[i..].chars().next() else {
                break;
            };
            match c {
                '\\' => {
                    let (resolved, len) = self.escape(&content[i..], start + i)?;
                    text.push(resolved);
                    i += len;
                }
                '{' => {
                    let open = start + i;
                    let Some(close) = scan::hole_end(content.as_bytes(), i) else {
                        return Err(errors::unclosed_hole_error(self.file, open, &content[i..]));
                    };
                    if !text.is_empty() {
                        parts.push(TemplatePart::Text(std::mem::take(&mut text)));
                    }
                    let hole = &content[i + 1..close];
                    parts.push(TemplatePart::Hole(self.hole(
                        hole,
                        open + 1,
                        start + close + 1,
                    )?));
                    i = close + 1;
                }
                '}' => {
                    let at = start + i;
                    return Err(
                        Diagnostic::new(Code::BadTemplate, "unmatched `}` in message")
                            .with_label(self.file, Span::new(at, at + 1), "no `{` opens this")
                            .with_help("write `\\}` for a literal brace"),
                    );
                }
                _ => {
                    text.push(c);
                    i += c.len_utf8();
                }
            }
        }
        if !text.is_empty() {
            parts.push(TemplatePart::Text(text));
        }
        // Most messages are one part: a first push reserves four.
        parts.shrink_to_fit();
        Ok(Template { parts, span })
    }

    /// Parses the expression of a hole whose text starts at `start`; `end` is just
    /// after its closing brace.
    fn hole(&self, text: &str, start: usize, end: usize) -> Res<Expr> {
        let whole = Span::new(start - 1, end);
        if text.trim().is_empty() {
            return Err(Diagnostic::new(Code::BadTemplate, "empty `{}` in message")
                .with_label(self.file, whole, "this hole has no expression")
                .with_help(
                    "put an expression between the braces, e.g. `{change.author}`, or write \
                     `\\{` and `\\}` for literal braces",
                ));
        }
        if let Some(n) = brace_outside_strings(text) {
            let at = start + n;
            return Err(Diagnostic::new(
                Code::BadTemplate,
                "`{` cannot appear inside a `{…}` hole",
            )
            .with_label(self.file, Span::new(at, at + 1), "not allowed in a hole")
            .with_help(
                "close the previous hole with `}` first, or write `\\{` for a literal brace",
            ));
        }
        if let Some((offset, len)) = scan::nesting_violation(text) {
            let at = start + offset;
            return Err(errors::too_deep_brackets(
                self.file,
                Span::new(at, at + len),
            ));
        }
        let place = Place {
            src: self.src,
            file: self.file,
            start,
            end: end - 1,
            subject: Subject::Hole,
            next_item: None,
        };
        let mut pairs = WardenParser::parse(Rule::hole, text)
            .map_err(|e| errors::syntax_error(&e, &place, Code::BadTemplate))?;
        let hole = pairs.next().ok_or_else(|| self.shape(whole))?;
        let sub = Cx {
            src: self.src,
            base: start,
            file: self.file,
        };
        sub.expr(sub.child(&hole, Rule::expr)?)
    }
}

pub(super) enum Number {
    Int(i64),
    Duration(i64),
}

pub(super) enum NumberError {
    /// Not digits (with `_` separators) and at most one unit.
    Invalid,
    /// Beyond 64 bits, or beyond them once in seconds.
    TooLarge,
}

/// The value of a `number` token: an integer, or a duration in seconds.
pub(super) fn number_value(text: &str) -> Result<Number, NumberError> {
    let (digits, unit) = match text.as_bytes().last() {
        Some(b's') => (&text[..text.len() - 1], Some(1)),
        Some(b'm') => (&text[..text.len() - 1], Some(60)),
        Some(b'h') => (&text[..text.len() - 1], Some(3600)),
        Some(b'd') => (&text[..text.len() - 1], Some(86_400)),
        _ => (text, None),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'_') {
        return Err(NumberError::Invalid);
    }
    // The digits, without the `_` separators (what `i64::from_str` would make of them,
    // without building that string).
    let value = digits
        .bytes()
        .filter(|&b| b != b'_')
        .try_fold(0_i64, |value, b| {
            value.checked_mul(10)?.checked_add(i64::from(b - b'0'))
        })
        .ok_or(NumberError::TooLarge)?;
    match unit {
        None => Ok(Number::Int(value)),
        Some(seconds) => value
            .checked_mul(seconds)
            .map(Number::Duration)
            .ok_or(NumberError::TooLarge),
    }
}

/// What the escape `\c` stands for, or `None` when it is no escape.
pub(super) fn unescape(c: char) -> Option<char> {
    Some(match c {
        '"' => '"',
        '\\' => '\\',
        'n' => '\n',
        't' => '\t',
        '{' => '{',
        '}' => '}',
        _ => return None,
    })
}

/// The `///` lines directly above the line where `start` is in `src` (with nothing but
/// indentation before `start` on its line), joined with newlines.
pub(super) fn doc_comment(src: &str, start: usize) -> Option<String> {
    let before = src.get(..start)?;
    let line_start = before.rfind('\n').map_or(0, |n| n + 1);
    if !before[line_start..].trim().is_empty() {
        return None;
    }
    let mut lines: Vec<&str> = Vec::new();
    for line in before[..line_start].lines().rev() {
        let Some(text) = line.trim().strip_prefix("///") else {
            break;
        };
        lines.push(text.strip_prefix(' ').unwrap_or(text).trim_end());
    }
    if lines.is_empty() {
        return None;
    }
    lines.reverse();
    Some(lines.join("\n"))
}

/// The offset of the first `{` of a hole's text that is not inside one of its string
/// literals.
pub(super) fn brace_outside_strings(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut in_string = false;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\\' if in_string => i += 1,
            b'"' => in_string = !in_string,
            b'{' if !in_string => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// The length of the longest start of `text` without the bytes that `stop` picks. They
/// must be ASCII, which no byte of another character can be: the length then falls on a
/// character boundary.
fn plain_run(text: &str, stop: impl Fn(u8) -> bool) -> usize {
    text.bytes().position(stop).unwrap_or(text.len())
}

pub(super) fn is_comparison(op: BinaryOp) -> bool {
    infix_power(op).0 == COMPARISON_POWER
}
