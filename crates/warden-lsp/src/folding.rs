//! `textDocument/foldingRange`: multi-line items (a rule's body among them), lists
//! written over several lines, and runs of comment lines (doc comments included).

use lsp_types::{FoldingRange, FoldingRangeKind};
use warden_syntax::ast::{Block, Demand, Expr, ExprKind, Item, LetItem};
use warden_syntax::{FileId, Span};

use crate::position::LineIndex;

/// The folding ranges of one file, sorted by start line then end line.
pub fn folding_ranges(text: &str) -> Vec<FoldingRange> {
    let mut spans = Vec::new();
    warden_syntax::parse_each_item(text, FileId(0), |item| {
        match item {
            Item::Import(_) | Item::Error(_) => {}
            // Not reached: `parse_each_item` gives each rule's tree.
            Item::RuleOutline(rule) => spans.push(rule.span),
            Item::Let(l) => {
                spans.push(l.span);
                lists(&l.value, &mut spans);
            }
            Item::Fn(f) => {
                spans.push(f.span);
                block(&f.body, &mut spans);
            }
            Item::Rule(rule) => {
                spans.push(rule.span);
                lets(&rule.lets, &mut spans);
                rule.when.iter().for_each(|e| lists(e, &mut spans));
                for demand in &rule.demands {
                    match demand {
                        Demand::Condition { condition, .. } => lists(condition, &mut spans),
                        Demand::Deny { .. } | Demand::Approval(_) => {}
                    }
                }
            }
            Item::Exempt(exempt) => {
                spans.push(exempt.span);
                lets(&exempt.lets, &mut spans);
                lists(&exempt.when, &mut spans);
            }
            Item::Policy(policy) => spans.push(policy.span),
        }
    });
    let index = LineIndex::new(text);
    let mut out: Vec<FoldingRange> = spans
        .into_iter()
        .filter_map(|span| {
            let start = index.position(span.start).line;
            let end = index.position(span.end).line;
            // A closing bracket on its own line stays visible, as editors fold braces.
            let closes = text
                .get(..span.end)
                .is_some_and(|t| t.ends_with(['}', ']']));
            let end = if closes { end.saturating_sub(1) } else { end };
            (end > start).then(|| FoldingRange {
                start_line: start,
                end_line: end,
                kind: Some(FoldingRangeKind::Region),
                ..FoldingRange::default()
            })
        })
        .collect();
    out.extend(comment_runs(text));
    out.sort_by_key(|r| (r.start_line, r.end_line));
    out.dedup_by_key(|r| (r.start_line, r.end_line));
    out
}

/// Two or more consecutive lines holding nothing but a comment.
fn comment_runs(text: &str) -> Vec<FoldingRange> {
    let index = LineIndex::new(text);
    let mut out = Vec::new();
    let mut run: Option<(u32, u32)> = None;
    let whole_lines = warden_syntax::format::comments(text)
        .into_iter()
        .filter(|c| !c.trailing)
        .map(|c| index.position(c.offset).line);
    for line in whole_lines {
        run = match run {
            Some((start, end)) if line == end + 1 => Some((start, line)),
            Some(finished) => {
                out.extend(comment_range(finished));
                Some((line, line))
            }
            None => Some((line, line)),
        };
    }
    out.extend(run.and_then(comment_range));
    out
}

fn comment_range((start, end): (u32, u32)) -> Option<FoldingRange> {
    (end > start).then(|| FoldingRange {
        start_line: start,
        end_line: end,
        kind: Some(FoldingRangeKind::Comment),
        ..FoldingRange::default()
    })
}

fn lets(lets: &[LetItem], spans: &mut Vec<Span>) {
    for l in lets {
        lists(&l.value, spans);
    }
}

fn block(block: &Block, spans: &mut Vec<Span>) {
    lets(&block.lets, spans);
    lists(&block.result, spans);
}

/// The span of every list literal within `expr` (the outer line filter keeps the
/// multi-line ones).
fn lists(expr: &Expr, spans: &mut Vec<Span>) {
    match &expr.kind {
        ExprKind::List(elements) => {
            spans.push(expr.span);
            elements.iter().for_each(|e| lists(e, spans));
        }
        ExprKind::Field { base, .. } | ExprKind::Paren(base) => lists(base, spans),
        ExprKind::Call { args, .. } => args.iter().for_each(|e| lists(e, spans)),
        ExprKind::MethodCall { base, args, .. } => {
            lists(base, spans);
            args.iter().for_each(|e| lists(e, spans));
        }
        ExprKind::Index { base, index } => {
            lists(base, spans);
            lists(index, spans);
        }
        ExprKind::Lambda { body, .. } => lists(body, spans),
        ExprKind::Unary { operand, .. } => lists(operand, spans),
        ExprKind::Binary { lhs, rhs, .. } => {
            lists(lhs, spans);
            lists(rhs, spans);
        }
        ExprKind::If {
            condition,
            then,
            otherwise,
        } => {
            lists(condition, spans);
            lists(then, spans);
            lists(otherwise, spans);
        }
        _ => {}
    }
}
