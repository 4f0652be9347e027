//! Parses source text into an [`ast::Module`], recovering at top-level item boundaries.
//!
//! A file is first read by the direct parser (`direct`), a hand-written recursive
//! descent over the grammar's language that builds the tree in one pass and declines at
//! the first thing it does not expect. Only a file it declines is parsed with pest, as
//! below, and every diagnostic comes from there.
//!
//! pest stops at the first error, so the file is first cut into one chunk per top-level
//! item (`scan::split_items`). Runs of chunks of about [`BATCH_BYTES`] are then parsed
//! with the `file` rule, one pest run per run of chunks (a small file is one run), and
//! each run's items are built into AST nodes before the next run is parsed: pest's token
//! queue, some twenty bytes per byte of source, is only ever held for one run, never for
//! a whole 10 MB file. If a run fails, the file is parsed whole (the scanner may have
//! cut it where the grammar does not), and if that fails too, or pest's items are not
//! the chunks, each chunk is checked for excessive nesting and parsed alone with the
//! `item` rule: a chunk that fails becomes `Item::Error` plus one diagnostic, and
//! parsing goes on with the next chunk.

mod build;
mod direct;
mod errors;
mod highlight;
mod scan;
mod shift;

pub use direct::Direct;
pub use highlight::{Class, Highlight, highlight_each};
pub use scan::{ITEM_KEYWORDS, comment_start};

use crate::Code;
use pest::Parser as _;
use pest::iterators::Pair;
use pest_derive::Parser;

use crate::{Diagnostic, FileId, MAX_NESTING, Span, ast};

#[derive(Parser)]
#[grammar = "../../grammar/warden.pest"]
struct WardenParser;

/// Parses one file. Every broken top-level item becomes an `Item::Error` plus a
/// diagnostic, and parsing goes on with the next item.
pub fn parse(source: &str, file: FileId) -> (ast::Module, Vec<Diagnostic>) {
    parse_for(source, file, RuleBodies::Kept)
}

/// What a parse keeps of each rule it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleBodies {
    /// The whole tree: `Item::Rule`.
    Kept,
    /// Its outline (`Item::RuleOutline`), taken as soon as the rule is read: its name,
    /// doc and span, from which [`parse_rule`] gives the tree again. The checker of a
    /// large policy then holds one rule's tree at a time; the parse and its diagnostics
    /// are the same.
    Outlined,
}

impl RuleBodies {
    /// The item as this keeps it.
    fn keep(self, item: ast::Item) -> ast::Item {
        match (self, item) {
            (RuleBodies::Outlined, ast::Item::Rule(rule)) => ast::Item::RuleOutline(rule.outline()),
            (_, item) => item,
        }
    }
}

/// As [`parse`], keeping of each rule what `bodies` says.
pub fn parse_for(source: &str, file: FileId, bodies: RuleBodies) -> (ast::Module, Vec<Diagnostic>) {
    match direct::module(source, bodies) {
        Direct::Parsed(module) => (module, Vec::new()),
        // Pest's runs, and the whole file, would fail: straight to the items, each read
        // by the direct parser first, so that only the broken ones go through pest.
        Direct::Rejected => {
            let chunks = scan::split_items(source);
            build_items(source, file, &chunks, None, ItemParser::DirectFirst, bodies)
        }
        Direct::Declined => parse_grammar(source, file, ItemParser::DirectFirst, bodies),
    }
}

/// The tree of the rule that `outline` was taken from, in `source`, the text of
/// `file` as parsed then. `None` only if the text is not that text.
pub fn parse_rule(source: &str, file: FileId, outline: &ast::RuleOutline) -> Option<ast::RuleItem> {
    let span = outline.span;
    // The rule was read alone or in a run of items, by the direct parser or by pest:
    // its own text, read alone, gives the same tree (its doc is read before its span).
    let item = match direct::item(source, span.start, span.end) {
        Some(item) => item,
        None => {
            let text = source.get(span.start..span.end)?;
            let chunk = scan::Chunk {
                range: span.start..span.end,
                openers: scan::openers(text.as_bytes()),
            };
            parse_item(source, &chunk, text, file, || None).ok()?
        }
    };
    match item {
        ast::Item::Rule(rule) if rule.name == outline.name => Some(*rule),
        _ => None,
    }
}

/// Parses `source`, the text of `file`, and calls `each` on every item with its whole
/// tree, one rule's tree at a time: for the tools that walk a large file's items once
/// (a broken item is an `Item::Error`, as in [`parse`]).
pub fn parse_each_item(source: &str, file: FileId, mut each: impl FnMut(&ast::Item)) {
    let (module, _) = parse_for(source, file, RuleBodies::Outlined);
    for item in &module.items {
        match item {
            ast::Item::RuleOutline(outline) => match parse_rule(source, file, outline) {
                Some(rule) => each(&ast::Item::Rule(Box::new(rule))),
                None => each(item),
            },
            _ => each(item),
        }
    }
}

/// The direct parser alone. For the tests and fuzz targets that hold it to
/// [`parse_with_grammar`].
pub fn parse_direct(source: &str) -> Direct {
    direct::module(source, RuleBodies::Kept)
}

/// Parses one file with pest alone. [`parse`] must give the same tree and diagnostics
/// for every file; the tests compare the two.
pub fn parse_with_grammar(source: &str, file: FileId) -> (ast::Module, Vec<Diagnostic>) {
    parse_grammar(source, file, ItemParser::Pest, RuleBodies::Kept)
}

/// What parses an item alone, once the file is parsed item by item.
#[derive(Clone, Copy, PartialEq)]
enum ItemParser {
    Pest,
    /// The direct parser, and pest where it does not accept the item.
    DirectFirst,
}

/// Pest's path: runs of items, then the whole file, then item by item (module docs).
fn parse_grammar(
    source: &str,
    file: FileId,
    items: ItemParser,
    bodies: RuleBodies,
) -> (ast::Module, Vec<Diagnostic>) {
    let chunks = scan::split_items(source);
    match parse_runs(source, file, &chunks, bodies) {
        Ok(built) => built,
        // One run was the whole file: parsing it whole again would fail again.
        Err(RunFailed { several_runs }) => {
            let whole = several_runs.then(|| parse_whole(source, &chunks)).flatten();
            build_items(source, file, &chunks, whole, items, bodies)
        }
    }
}

/// Parses `source` as [`parse`] does, reusing the items of `old`, the tree [`parse`]
/// (or this) gave for `old_source`, whose text is unchanged: they are moved to their
/// new place, and only the items an edit touched are parsed (alone, with `item`).
/// When one of those does not parse alone, the file is parsed whole, as [`parse`]
/// would (a broken item's diagnostic may depend on its neighbours).
///
/// An old item is reused only when `old`'s items are the chunks of `old_source` one to
/// one (each item inside its own chunk): the chunk then holds that item and nothing
/// else of the grammar, so parsing its text alone gives the same tree, and a run of
/// such chunks parses, with `file`, into the same items.
///
/// `old` was parsed keeping `bodies` of each rule; so is the new tree.
pub fn reparse(
    source: &str,
    file: FileId,
    old_source: &str,
    old: ast::Module,
    bodies: RuleBodies,
) -> (ast::Module, Vec<Diagnostic>) {
    let old_chunks = scan::split_items(old_source);
    let chunks = scan::split_items(source);
    let one_to_one = old_chunks.len() == old.items.len();
    // The text of each old item's chunk, when the item can be reused.
    let texts: Vec<Option<&str>> = (old_chunks.iter().zip(&old.items))
        .map(|(chunk, item)| {
            let span = item.span();
            let inside = chunk.range.start <= span.start && span.end <= chunk.range.end;
            (one_to_one && inside && !matches!(item, ast::Item::Error(_)))
                .then(|| old_source.get(chunk.range.clone()))
                .flatten()
        })
        .collect();
    let reusable = |i: usize| texts.get(i).copied().flatten();
    let new_text = |i: usize| chunks.get(i).and_then(|c| source.get(c.range.clone()));
    // An edit leaves the items before and after it as they were: those are taken in
    // order, and only the ones between are looked up by their text.
    let shortest = old_chunks.len().min(chunks.len());
    let same = |old: usize, new: usize| reusable(old).is_some_and(|t| Some(t) == new_text(new));
    let prefix = (0..shortest).take_while(|&i| same(i, i)).count();
    let suffix = (0..shortest - prefix)
        .take_while(|&j| same(old_chunks.len() - 1 - j, chunks.len() - 1 - j))
        .count();
    let middle = |all: usize| prefix..all - suffix;
    let mut old_items = old.items.into_iter().enumerate();
    let mut items = Vec::with_capacity(chunks.len());
    let moved = |items: &mut Vec<ast::Item>, (i, mut item): (usize, ast::Item), to: usize| {
        if let Some(chunk) = old_chunks.get(i) {
            shift::move_item(&mut item, chunk.range.start, to);
        }
        items.push(item);
    };
    for (new, old) in (0..prefix).zip(old_items.by_ref()) {
        let to = chunks.get(new).map_or(0, |c| c.range.start);
        moved(&mut items, old, to);
    }
    // Reusable items between, by their text; for equal texts, the first chunk pops first.
    let mut between: std::collections::HashMap<&str, Vec<(usize, ast::Item)>> =
        std::collections::HashMap::new();
    let middle_old = middle(old_chunks.len());
    for (i, item) in old_items
        .by_ref()
        .take(middle_old.len())
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
    {
        if let (Some(text), Some(chunk)) = (reusable(i), old_chunks.get(i)) {
            between
                .entry(text)
                .or_default()
                .push((chunk.range.start, item));
        }
    }
    for chunk in chunks.get(middle(chunks.len())).unwrap_or_default() {
        let text = source.get(chunk.range.clone()).unwrap_or("");
        if let Some((from, mut item)) = between.get_mut(text).and_then(Vec::pop) {
            shift::move_item(&mut item, from, chunk.range.start);
            items.push(item);
            continue;
        }
        let parsed = match direct::item(source, chunk.range.start, chunk.range.end) {
            Some(item) => Ok(item),
            None => parse_item(source, chunk, text, file, || None),
        };
        match parsed {
            Ok(item) => items.push(bodies.keep(item)),
            Err(_) => {
                // The old tree goes before the file is parsed again.
                drop((items, between, old_items));
                return parse_for(source, file, bodies);
            }
        }
    }
    for (new, old) in (chunks.len() - suffix..chunks.len()).zip(old_items) {
        let to = chunks.get(new).map_or(0, |c| c.range.start);
        moved(&mut items, old, to);
    }
    (ast::Module { items }, Vec::new())
}

/// About how much source one pest run parses when the file is parsed run by run: big
/// enough that a policy of ordinary size is one run, small enough that the token queue
/// of a run (some twenty bytes per byte of source) stays a few megabytes.
const BATCH_BYTES: usize = 256 * 1024;

/// A run of chunks that pest did not accept.
struct RunFailed {
    /// The file was cut into several runs, so that parsing it whole may still succeed.
    several_runs: bool,
}

/// The file's items parsed run by run (see the module docs), or, when a run fails,
/// whether the file was parsed in several runs: the caller then parses it whole, or
/// chunk by chunk.
fn parse_runs(
    source: &str,
    file: FileId,
    chunks: &[scan::Chunk],
    bodies: RuleBodies,
) -> Result<(ast::Module, Vec<Diagnostic>), RunFailed> {
    let several_runs = chunks
        .last()
        .zip(chunks.first())
        .is_some_and(|(last, first)| last.range.end - first.range.start > BATCH_BYTES);
    let failed = RunFailed { several_runs };
    // Deep nesting is rejected per chunk, before pest recurses into it.
    if chunks.iter().any(|chunk| chunk.openers > MAX_NESTING) {
        return Err(failed);
    }
    // One item per chunk: the items' vector is never grown (nor twice as big as needed).
    let mut items = Items {
        items: Vec::with_capacity(chunks.len()),
        diagnostics: Vec::new(),
        bodies,
    };
    let mut rest = chunks;
    while let Some(first) = rest.first() {
        let start = first.range.start;
        // At least one chunk; then as many as fit in a run.
        let count = 1
            + (rest.iter().skip(1))
                .take_while(|chunk| chunk.range.end - start <= BATCH_BYTES)
                .count();
        let (run, after) = rest.split_at(count);
        let end = run.last().map_or(start, |chunk| chunk.range.end);
        let parsed = (source.get(start..end))
            .and_then(|text| WardenParser::parse(Rule::file, text).ok())
            .and_then(|mut pairs| pairs.next());
        let Some(pairs) = parsed else {
            return Err(failed);
        };
        let cx = build::Cx {
            src: source,
            base: start,
            file,
        };
        for pair in pairs.into_inner().filter(|p| p.as_rule() != Rule::EOI) {
            let span = pair.as_span();
            items.push(cx.item(pair.clone()), start + span.start(), span.as_str());
        }
        rest = after;
    }
    Ok((ast::Module { items: items.items }, items.diagnostics))
}

/// The items built so far, as `bodies` keeps them, and the diagnostics of those that
/// could not be built.
struct Items {
    items: Vec<ast::Item>,
    diagnostics: Vec<Diagnostic>,
    bodies: RuleBodies,
}

impl Items {
    /// Adds a built item, or an `Item::Error` over the code of `text` (at `start` in
    /// the file) and its diagnostic.
    fn push(&mut self, built: Result<ast::Item, Diagnostic>, start: usize, text: &str) {
        match built {
            Ok(item) => self.items.push(self.bodies.keep(item)),
            Err(diagnostic) => {
                self.diagnostics.push(diagnostic);
                let (first, last) = scan::code_bounds(text).unwrap_or((0, text.len()));
                let item_span = Span::new(start + first, start + last);
                self.items.push(ast::Item::Error(item_span));
            }
        }
    }
}

/// Builds the items: from the whole file's parse when there is one, otherwise one per
/// chunk, each parsed alone.
fn build_items<'s>(
    source: &'s str,
    file: FileId,
    chunks: &[scan::Chunk],
    whole: Option<Vec<Pair<'s, Rule>>>,
    parser: ItemParser,
    bodies: RuleBodies,
) -> (ast::Module, Vec<Diagnostic>) {
    let mut items = Items {
        items: Vec::new(),
        diagnostics: Vec::new(),
        bodies,
    };
    if let Some(pairs) = whole {
        // The whole file's pairs hold offsets in the file itself.
        let whole_cx = build::Cx {
            src: source,
            base: 0,
            file,
        };
        for pair in pairs {
            let span = pair.as_span();
            items.push(whole_cx.item(pair.clone()), span.start(), span.as_str());
        }
        return (ast::Module { items: items.items }, items.diagnostics);
    }
    for (index, chunk) in chunks.iter().enumerate() {
        let range = &chunk.range;
        let Some(text) = source.get(range.clone()) else {
            continue;
        };
        if parser == ItemParser::DirectFirst
            && let Some(item) = direct::item(source, range.start, range.end)
        {
            items.items.push(bodies.keep(item));
            continue;
        }
        // Only an error message needs the next item's keyword.
        let next_item = || {
            chunks[index + 1..]
                .iter()
                .filter_map(|c| source.get(c.range.clone()))
                .find_map(scan::first_word)
        };
        items.push(
            parse_item(source, chunk, text, file, next_item),
            range.start,
            text,
        );
    }
    (ast::Module { items: items.items }, items.diagnostics)
}

/// After a run failed: the file's items from one parse of the whole file, when that
/// parse succeeds: the grammar accepts the file, so no item is broken, wherever the item
/// scanner cut it. Otherwise `None`, and each chunk is parsed alone, so that every
/// broken item is reported.
fn parse_whole<'s>(source: &'s str, chunks: &[scan::Chunk]) -> Option<Vec<Pair<'s, Rule>>> {
    // Deep nesting is rejected per chunk, before pest recurses into it.
    if chunks.iter().any(|chunk| chunk.openers > MAX_NESTING) {
        return None;
    }
    let file = WardenParser::parse(Rule::file, source).ok()?.next()?;
    Some(
        file.into_inner()
            .filter(|pair| pair.as_rule() != Rule::EOI)
            .collect(),
    )
}

fn parse_item<'s>(
    source: &'s str,
    chunk: &scan::Chunk,
    text: &str,
    file: FileId,
    next_item: impl FnOnce() -> Option<&'s str>,
) -> Result<ast::Item, Diagnostic> {
    let start = chunk.range.start;
    // Deep nesting is rejected before pest recurses into it.
    if chunk.openers > MAX_NESTING
        && let Some((offset, len)) = scan::nesting_violation(text)
    {
        let at = start + offset;
        return Err(errors::too_deep_brackets(file, Span::new(at, at + len)));
    }
    let mut pairs = WardenParser::parse(Rule::item, text).map_err(|e| {
        let place = errors::Place {
            src: source,
            file,
            start,
            end: start + text.len(),
            subject: errors::Subject::Item,
            next_item: next_item(),
        };
        errors::syntax_error(&e, &place, Code::SyntaxError)
    })?;
    let cx = build::Cx {
        src: source,
        base: start,
        file,
    };
    match pairs.next().and_then(|item| item.into_inner().next()) {
        Some(kind) => cx.item(kind),
        None => Err(cx.shape(Span::new(start, start + text.len()))),
    }
}

#[cfg(test)]
// Failing loudly is what a test is for.
#[allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::ast::{BinaryOp, Expr, ExprKind, Item};

    fn parse_ok(src: &str) -> Vec<Item> {
        let (module, diagnostics) = parse(src, FileId(0));
        assert!(diagnostics.is_empty(), "{diagnostics:#?}");
        module.items
    }

    /// The value of `let x = …` in `src`.
    fn let_value(src: &str) -> Expr {
        match parse_ok(src).into_iter().next() {
            Some(Item::Let(l)) => l.value,
            other => panic!("expected a let, got {other:?}"),
        }
    }

    fn errors(src: &str) -> Vec<Diagnostic> {
        parse(src, FileId(0)).1
    }

    #[test]
    fn keywords_need_a_word_boundary() {
        let value = let_value("let x = android or notes and iffy and nothing");
        let ExprKind::Binary { op, .. } = value.kind else {
            panic!("{value:?}")
        };
        assert_eq!(op, BinaryOp::Or);
        assert!(errors("let notes = 1").is_empty());
        let diagnostics = errors("let not = 1");
        assert_eq!(diagnostics.len(), 1);
        assert_eq!(
            diagnostics[0].message,
            "`not` is a keyword and cannot be used as a name"
        );
    }

    #[test]
    fn ascii_control_whitespace_separates_tokens() {
        for space in ["\t", "\n", "\u{b}", "\u{c}", "\r\n"] {
            let source = format!("let{space}x{space}={space}f{space}=>{space}f{space}+{space}1\n");
            assert!(
                errors(&source).is_empty(),
                "{source:?}: {:?}",
                errors(&source)
            );
        }
        assert_eq!(errors("let x = 1\u{1}+ 2").len(), 1);
    }

    #[test]
    fn every_keyword_is_reserved_and_only_as_a_whole_word() {
        for keyword in errors::KEYWORDS {
            let diagnostics = errors(&format!("let {keyword} = 1"));
            assert_eq!(diagnostics.len(), 1, "{keyword}: {diagnostics:?}");
            assert_eq!(
                diagnostics[0].message,
                format!("`{keyword}` is a keyword and cannot be used as a name")
            );
            for name in [
                format!("{keyword}x"),
                format!("x{keyword}"),
                format!("{keyword}_"),
            ] {
                assert!(errors(&format!("let {name} = 1")).is_empty(), "{name}");
            }
        }
    }

    #[test]
    fn matches_does_not_swallow_matches_regex() {
        let value = let_value("let x = a matches_regex b");
        let ExprKind::Binary { op, op_span, .. } = value.kind else {
            panic!("{value:?}")
        };
        assert_eq!(op, BinaryOp::MatchesRegex);
        assert_eq!(op_span, Span::new(10, 23));
        let value = let_value("let x = a matches b");
        assert!(matches!(
            value.kind,
            ExprKind::Binary {
                op: BinaryOp::Matches,
                ..
            }
        ));
    }

    #[test]
    fn binary_spans_cover_operands_and_operator() {
        // offsets:  0         1
        //           0123456789012345678
        let value = let_value("let x = a + b * c");
        assert_eq!(value.span, Span::new(8, 17));
        let ExprKind::Binary {
            op, op_span, rhs, ..
        } = value.kind
        else {
            panic!()
        };
        assert_eq!(op, BinaryOp::Add);
        assert_eq!(op_span, Span::new(10, 11));
        assert_eq!(rhs.span, Span::new(12, 17));
    }

    #[test]
    fn comparisons_do_not_chain() {
        let diagnostics = errors("let x = a < b < c");
        assert_eq!(diagnostics.len(), 1);
        assert_eq!(
            diagnostics[0].primary().map(|l| l.span),
            Some(Span::new(14, 15))
        );
        assert!(errors("let x = (a < b) == c").is_empty());
    }

    #[test]
    fn long_flat_chains_are_rejected_not_overflowed() {
        let chain = format!("let x = a{}", " + a".repeat(20_000));
        let diagnostics = errors(&chain);
        assert_eq!(diagnostics.len(), 1);
        assert_eq!(diagnostics[0].code, Code::NestingTooDeep);

        let nots = format!("let x = {}x", "not ".repeat(20_000));
        assert_eq!(errors(&nots)[0].code, Code::NestingTooDeep);

        let coalesce = format!("let x = a{}", " ?? a".repeat(20_000));
        assert_eq!(errors(&coalesce)[0].code, Code::NestingTooDeep);

        let elses = format!("let x = {}0", "if a then 1 else ".repeat(20_000));
        assert_eq!(errors(&elses)[0].code, Code::NestingTooDeep);

        let fields = format!("let x = a{}", ".b".repeat(20_000));
        assert_eq!(errors(&fields)[0].code, Code::NestingTooDeep);

        let thens = format!("let x = {}0", "if if ".repeat(10_000));
        assert_eq!(errors(&thens)[0].code, Code::NestingTooDeep);
    }

    #[test]
    fn a_large_file_is_parsed_in_runs_and_recovers_in_any_of_them() {
        let item =
            "/// A rule.\nrule r{} {\n  when change.files.len() > {}\n  deny \"too many\"\n}\n\n";
        let count = 2 * BATCH_BYTES / item.len() + 10;
        let mut source: String = (0..count)
            .map(|i| item.replacen("{}", &i.to_string(), 2))
            .collect();
        let items = parse_ok(&source);
        assert_eq!(items.len(), count);
        let Some(Item::Rule(last)) = items.last() else {
            panic!("{:?}", items.last())
        };
        assert_eq!(last.name.name, format!("r{}", count - 1));
        assert_eq!(
            last.name.span.start,
            source.rfind(&format!("r{} ", count - 1)).unwrap()
        );
        // A broken item in the last run: every other item is still built.
        source.push_str("rule broken {\n  when\n}\n");
        let (module, diagnostics) = parse(&source, FileId(0));
        assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
        assert_eq!(module.items.len(), count + 1);
        assert!(matches!(module.items.last(), Some(Item::Error(_))));
    }

    #[test]
    fn nesting_at_the_limit_is_fine() {
        // 127 parens inside the rule's braces: 128 levels in all.
        let depth = crate::MAX_NESTING - 1;
        let src = format!(
            "rule r {{ when {}x{} deny \"no\" }}",
            "(".repeat(depth),
            ")".repeat(depth)
        );
        assert_eq!(parse_ok(&src).len(), 1);
        let src = format!(
            "rule r {{ when {}x{} deny \"no\" }}",
            "(".repeat(depth + 1),
            ")".repeat(depth + 1)
        );
        assert_eq!(errors(&src)[0].code, Code::NestingTooDeep);
    }

    #[test]
    fn a_hole_may_hold_string_literals_but_must_close_on_its_line() {
        let rule = |message: &str| format!("rule r {{\n  when true\n  deny {message}\n}}\n");
        // Quotes, braces and escapes inside a hole's strings belong to the hole.
        for fine in [
            r#""{x.split(" ").len()} words""#,
            r#""\\ é {x ?? "}{"} ü \{""#,
            r#""{m.get("\"")}""#,
        ] {
            let diagnostics = errors(&rule(fine));
            assert!(diagnostics.is_empty(), "{fine}: {diagnostics:#?}");
        }
        // A string left open in a hole, or a hole left open: the `{` is reported.
        for (broken, column) in [(r#""é {x ?? "none}""#, 11), (r#""{x" é"#, 8)] {
            let diagnostics = errors(&rule(broken));
            assert_eq!(diagnostics.len(), 1, "{broken}: {diagnostics:#?}");
            assert_eq!(diagnostics[0].code, Code::BadTemplate, "{broken}");
            assert_eq!(
                diagnostics[0].message, "unclosed `{` in message",
                "{broken}"
            );
            let label = &diagnostics[0].labels[0];
            let line_start = rule(broken).find("  deny").unwrap();
            assert_eq!(label.span.start - line_start, column, "{broken}");
        }
    }

    #[test]
    fn every_construct_at_the_nesting_limit_fits_a_thread_stack() {
        // 127 levels inside the rule's `{`: exactly at the limit.
        let n = crate::MAX_NESTING - 1;
        let cases = [
            format!("{}x{}", "(".repeat(n), ")".repeat(n)),
            format!("{}x{}", "[".repeat(n), "]".repeat(n)),
            format!("{}x{}", "f(".repeat(n), ")".repeat(n)),
            format!("{}x{}", "a.m(".repeat(n), ")".repeat(n)),
            format!("{}x{}", "a?.m(y, ".repeat(n), ")".repeat(n)),
            format!("{}0{}", "a[".repeat(n), "]".repeat(n)),
            format!("{}x{}", "xs.any(v => ".repeat(n), ")".repeat(n)),
            format!("{}c{}", "if ".repeat(n), " then a else b".repeat(n)),
            format!("{}x{}", "(not -".repeat(n), ")".repeat(n)),
        ];
        for case in cases {
            let src = format!("rule r {{\n  when {case}\n  deny \"x\"\n}}\n");
            let result = std::thread::Builder::new()
                // The default for spawned threads; a debug build needs about 1.5 MiB
                // here, a release build much less.
                .stack_size(2 * 1024 * 1024)
                .spawn(move || parse(&src, FileId(0)).1)
                .unwrap()
                .join();
            let diagnostics = result.unwrap_or_else(|_| panic!("overflow on {case:.40}"));
            assert!(diagnostics.is_empty(), "{case:.40}: {diagnostics:?}");
        }
    }

    #[test]
    fn an_operator_that_does_not_apply_ends_the_expression_in_both_parsers() {
        // The grammar's loop after an operand stops before an index that does not
        // parse: the block's result is then a list (found by the generated programs).
        for src in [
            "fn f() -> int { let x = x.path()[ ] }",
            "fn f() -> int { let x = y [1, 2].len() }",
            "fn f() -> int { let x = y.m (1, 2,) [3,] }",
        ] {
            let direct = parse_direct(src)
                .into_tree()
                .unwrap_or_else(|| panic!("declined {src}"));
            let (tree, diagnostics) = parse_with_grammar(src, FileId(0));
            assert!(diagnostics.is_empty(), "{src}: {diagnostics:?}");
            assert_eq!(direct, tree, "{src}");
            let Some(Item::Fn(f)) = tree.items.first() else {
                panic!("{tree:?}")
            };
            assert_eq!(f.body.lets.len(), 1);
            assert!(matches!(
                f.body.result.kind,
                ExprKind::List(_) | ExprKind::MethodCall { .. }
            ));
        }
    }

    #[test]
    fn the_direct_parser_at_its_deepest_fits_a_thread_stack() {
        // Just under `MAX_RECURSION` levels of each recursive construct (the `if` chain
        // is declined for its many `if`s, once read), with half a spawned thread's stack.
        let n = direct::MAX_RECURSION - 2;
        let cases = [
            (format!("{}x", "not ".repeat(n)), true),
            (format!("{}x", "- ".repeat(n)), true),
            (format!("{}x", "v => ".repeat(n)), true),
            (format!("a{}", " ?? a".repeat(n)), true),
            (format!("{}b", "if c then a else ".repeat(n)), false),
        ];
        for (case, accepted) in cases {
            let src = format!("let x = {case}\n");
            let result = std::thread::Builder::new()
                .stack_size(1024 * 1024)
                .spawn(move || parse_direct(&src).into_tree().is_some())
                .unwrap()
                .join();
            assert_eq!(result.ok(), Some(accepted), "{case:.40}");
        }
    }

    #[test]
    fn durations_are_seconds() {
        assert_eq!(let_value("let x = 90m").kind, ExprKind::Duration(5400));
        assert_eq!(let_value("let x = 1_000").kind, ExprKind::Int(1000));
        assert_eq!(errors("let x = 10x")[0].code, Code::BadLiteral);
    }

    #[test]
    fn empty_and_comment_only_files_have_no_items() {
        assert!(parse_ok("").is_empty());
        assert!(parse_ok("  // just a comment\n/// a stray doc\n\n").is_empty());
    }

    #[test]
    fn template_holes_have_file_spans() {
        let src = "rule r {\n  deny \"n = {count}!\"\n}";
        let Some(Item::Rule(rule)) = parse_ok(src).into_iter().next() else {
            panic!()
        };
        let Some(ast::Demand::Deny { message, .. }) = rule.demands.first() else {
            panic!()
        };
        let ast::TemplatePart::Hole(hole) = &message.parts[1] else {
            panic!("{message:?}")
        };
        assert_eq!(&src[hole.span.start..hole.span.end], "count");
    }

    #[test]
    fn docs_attach_only_when_directly_above() {
        let src = "/// Kept.\n/// Two lines.\nlet a = 1\n/// Dropped.\n\nlet b = 2\n";
        let items = parse_ok(src);
        let docs: Vec<Option<String>> = items
            .iter()
            .map(|i| match i {
                Item::Let(l) => l.doc.clone(),
                _ => None,
            })
            .collect();
        assert_eq!(docs, vec![Some("Kept.\nTwo lines.".to_string()), None]);
    }

    #[test]
    fn indented_let_stays_inside_its_rule() {
        let src = "rule r {\n  let a = 1\n  let b = a\n  deny \"x\"\n}\n";
        let items = parse_ok(src);
        assert_eq!(items.len(), 1);
        let Item::Rule(rule) = &items[0] else {
            panic!()
        };
        assert_eq!(rule.lets.len(), 2);
    }

    #[test]
    fn recovery_continues_after_broken_items() {
        let src = "rule a { }\nrule b { deny \"x\" }\nrule c {\n  when\n}\n";
        let (module, diagnostics) = parse(src, FileId(0));
        assert_eq!(diagnostics.len(), 2);
        assert_eq!(module.items.len(), 3);
        assert!(matches!(module.items[1], Item::Rule(_)));
    }

    /// Every `.warden` file of the repository: fixtures, examples, the standard library.
    fn repository_sources() -> Vec<(std::path::PathBuf, String)> {
        fn walk(dir: &std::path::Path, out: &mut Vec<(std::path::PathBuf, String)>) {
            let mut entries: Vec<_> = std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            entries.sort();
            for path in entries {
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_some_and(|e| e == "warden") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    out.push((path, text));
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut out = Vec::new();
        for dir in ["tests", "examples", "stdlib"] {
            walk(&root.join(dir), &mut out);
        }
        out
    }

    #[test]
    fn parsing_the_whole_file_gives_what_parsing_each_item_gives() {
        for (path, source) in repository_sources() {
            let chunks = scan::split_items(&source);
            let whole = parse_whole(&source, &chunks);
            let took_whole = whole.is_some();
            let fast = build_items(
                &source,
                FileId(0),
                &chunks,
                whole,
                ItemParser::Pest,
                RuleBodies::Kept,
            );
            let items_parse = chunks.iter().all(|chunk| {
                chunk.openers <= MAX_NESTING
                    && WardenParser::parse(Rule::item, &source[chunk.range.clone()]).is_ok()
            });
            if items_parse {
                // The shortcut is taken for every file whose items all parse alone.
                assert!(took_whole, "{}", path.display());
                let alone = build_items(
                    &source,
                    FileId(0),
                    &chunks,
                    None,
                    ItemParser::Pest,
                    RuleBodies::Kept,
                );
                assert_eq!(fast, alone, "{}", path.display());
            } else if took_whole {
                // Cut elsewhere than the grammar's items (tests/parse/ok/layout_*).
                assert!(fast.1.is_empty(), "{}", path.display());
            }
        }
    }

    #[test]
    fn a_file_the_grammar_accepts_has_no_error_however_it_is_cut() {
        // A `let` at the start of a line inside a rule, and two items on one line: the
        // scanner cuts neither where the grammar's items are, the whole parse decides.
        for src in [
            "rule r {\nlet a = 1\n  deny \"x\"\n}\n",
            "rule a { deny \"x\" } rule b { deny \"y\" }\n",
        ] {
            assert!(errors(src).is_empty(), "{src}");
        }
        assert_eq!(
            scan::split_items("rule r {\nlet a = 1\n  deny \"x\"\n}\n").len(),
            1
        );
    }
}
