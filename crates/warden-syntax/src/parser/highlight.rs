//! Syntax highlighting from the grammar itself: every token pest produces, classified
//! by its rule and, for a name, by the rule around it (a rule's name, a `let`, a
//! parameter, a field after `.`, an import). The language server's semantic tokens are
//! built from it.
//!
//! Each item the scanner cuts is parsed alone, so a broken item costs only its own
//! classes: its keywords, strings and numbers are still found lexically. Comments, which
//! the grammar skips as whitespace, are found line by line ([`comment_start`]).

use pest::Parser as _;
use pest::iterators::Pair;

use super::{Rule, WardenParser, comment_start, errors, scan};
use crate::{MAX_NESTING, Span};

/// What a highlighted token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    Keyword,
    Comment,
    /// A `///` or `//!` comment.
    DocComment,
    String,
    /// Integers, durations and timestamps' numbers: every `number` of the grammar.
    Number,
    Operator,
    /// A rule's or an exemption's name, where it is declared.
    RuleDeclaration,
    /// A rule named in an exemption's `from` list.
    Rule,
    FunctionDeclaration,
    /// A name called: `f(…)`.
    Function,
    /// A top-level or local `let`, where it is declared.
    LetDeclaration,
    /// A name used as a value.
    Variable,
    /// A function's or a lambda's parameter, where it is declared.
    ParameterDeclaration,
    /// A field after `.` or `?.`.
    Property,
    /// A method after `.` or `?.`: `.any(…)`.
    Method,
    /// An import's module path and its name (`std.ai`, `as assist`), and a name used
    /// before `.` that one of the file's imports binds.
    Namespace,
    /// A type's name: `int`, `list`, `Principal`.
    Type,
}

impl Class {
    /// Every class, in a fixed order (the language server's token legend).
    pub const ALL: [Class; 17] = [
        Class::Keyword,
        Class::Comment,
        Class::DocComment,
        Class::String,
        Class::Number,
        Class::Operator,
        Class::RuleDeclaration,
        Class::Rule,
        Class::FunctionDeclaration,
        Class::Function,
        Class::LetDeclaration,
        Class::Variable,
        Class::ParameterDeclaration,
        Class::Property,
        Class::Method,
        Class::Namespace,
        Class::Type,
    ];
}

/// One highlighted token: its byte span in the file and its class. Tokens never
/// overlap and never span a line end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Highlight {
    pub span: Span,
    pub class: Class,
}

/// Calls `each` on the highlighted tokens of a file, in order. Each item is parsed,
/// walked and its tokens given on its own, its parse dropped before the next (a large
/// file's parses held together took hundreds of megabytes, and its tokens tens); the
/// names imports bind are taken first, from the items that are imports.
pub fn highlight_each(source: &str, mut each: impl FnMut(Highlight)) {
    let chunks = scan::split_items(source);
    let parse = |chunk: &scan::Chunk| {
        let text = source.get(chunk.range.clone())?;
        let pairs = (chunk.openers <= MAX_NESTING)
            .then(|| WardenParser::parse(Rule::item, text).ok())
            .flatten();
        Some((chunk.range.start, text, pairs))
    };
    let namespaces = (chunks.iter())
        .filter(|chunk| is_import(source.get(chunk.range.clone()).unwrap_or("")))
        .filter_map(|chunk| parse(chunk)?.2)
        .flat_map(|pairs| pairs.flatten())
        .filter(|pair| pair.as_rule() == Rule::import_item)
        .filter_map(|import| import_binding(&import))
        .collect();
    let mut found = Vec::new();
    comments(source, &mut found);
    found.sort_by_key(|h| (h.span.start, h.span.end));
    let mut comments = found.into_iter().peekable();
    let mut cx = Cx {
        src: source,
        base: 0,
        namespaces,
        out: Vec::new(),
    };
    // The items' tokens are in their items' ranges, which are in order: each item's,
    // sorted, then merged with the comments, are the file's in order.
    for (start, text, pairs) in chunks.iter().filter_map(parse) {
        match pairs {
            Some(pairs) => {
                cx.base = start;
                for pair in pairs {
                    cx.walk(pair, None);
                }
            }
            None => lexical(text, start, &mut cx.out),
        }
        cx.out.sort_by_key(|h| (h.span.start, h.span.end));
        for token in cx.out.drain(..) {
            let key = (token.span.start, token.span.end);
            while let Some(comment) = comments.next_if(|c| (c.span.start, c.span.end) < key) {
                each(comment);
            }
            each(token);
        }
    }
    comments.for_each(each);
}

/// Whether an item's text is an import: its first word after comments and space.
fn is_import(item: &str) -> bool {
    let mut rest = item.trim_start();
    while rest.starts_with("//") {
        rest = rest
            .split_once('\n')
            .map_or("", |(_, after)| after)
            .trim_start();
    }
    rest.strip_prefix("import")
        .is_some_and(|after| !after.starts_with(|c: char| c.is_alphanumeric() || c == '_'))
}

/// The name an import binds: its `as` name, else the last segment of `std.…` or the
/// file's stem.
fn import_binding(import: &Pair<'_, Rule>) -> Option<String> {
    let mut binding = None;
    for part in import.clone().into_inner() {
        match part.as_rule() {
            Rule::ident => binding = Some(part.as_str().to_string()),
            Rule::import_std => {
                binding = (part.into_inner())
                    .filter(|p| p.as_rule() == Rule::ident)
                    .last()
                    .map(|p| p.as_str().to_string());
            }
            Rule::import_file => {
                let path = part.as_str().trim_matches('"');
                let file = path.rsplit('/').next().unwrap_or(path);
                binding = Some(file.strip_suffix(".warden").unwrap_or(file).to_string());
            }
            _ => {}
        }
    }
    binding
}

struct Cx<'a> {
    src: &'a str,
    base: usize,
    namespaces: Vec<String>,
    /// The tokens of the item being walked.
    out: Vec<Highlight>,
}

impl Cx<'_> {
    fn push(&mut self, start: usize, end: usize, class: Class) {
        if start < end {
            self.out.push(Highlight {
                span: Span::new(start, end),
                class,
            });
        }
    }

    fn span(&self, pair: &Pair<'_, Rule>) -> (usize, usize) {
        let span = pair.as_span();
        (self.base + span.start(), self.base + span.end())
    }

    /// Classifies `pair` and what is inside it; `parent` is the rule of the pair it is
    /// directly inside.
    fn walk(&mut self, pair: Pair<'_, Rule>, parent: Option<Rule>) {
        let rule = pair.as_rule();
        let (start, end) = self.span(&pair);
        let leaf = match rule {
            Rule::string | Rule::bool_lit | Rule::null_lit | Rule::anyone => Some(match rule {
                Rule::string => Class::String,
                _ => Class::Keyword,
            }),
            Rule::number => Some(Class::Number),
            Rule::template => {
                self.template(start, end);
                return;
            }
            Rule::ident => Some(self.ident(&pair, parent)),
            Rule::member => Some(match parent {
                Some(Rule::access | Rule::opt_access) if has_call(&pair) => Class::Method,
                _ => Class::Property,
            }),
            Rule::k_list | Rule::k_map => Some(Class::Type),
            Rule::op_not
            | Rule::op_or
            | Rule::op_and
            | Rule::op_in
            | Rule::op_matches_regex
            | Rule::op_matches
            | Rule::op_within => Some(Class::Keyword),
            Rule::op_eq
            | Rule::op_ne
            | Rule::op_le
            | Rule::op_lt
            | Rule::op_ge
            | Rule::op_gt
            | Rule::op_coalesce
            | Rule::op_add
            | Rule::op_sub
            | Rule::op_mul
            | Rule::op_div
            | Rule::op_rem
            | Rule::op_neg
            | Rule::assign
            | Rule::arrow
            | Rule::thin_arrow
            | Rule::pipe
            | Rule::question => Some(Class::Operator),
            _ if is_keyword(&pair) => Some(Class::Keyword),
            _ => None,
        };
        if let Some(class) = leaf {
            self.push(start, end, class);
            return;
        }
        // `.` and `?.` of an access are operators, then the member.
        if matches!(rule, Rule::access | Rule::opt_access) {
            let width = if rule == Rule::access { 1 } else { 2 };
            self.push(start, start + width, Class::Operator);
        }
        for child in pair.into_inner() {
            self.walk(child, Some(rule));
        }
    }

    fn ident(&self, pair: &Pair<'_, Rule>, parent: Option<Rule>) -> Class {
        match parent {
            Some(Rule::rule_item) => Class::RuleDeclaration,
            Some(Rule::exempt_item) => {
                // `exempt NAME from RULE, …`: the name follows the keyword directly.
                let before = self.src.get(..self.base + pair.as_span().start());
                if before.is_some_and(|b| b.trim_end().ends_with("exempt")) {
                    Class::RuleDeclaration
                } else {
                    Class::Rule
                }
            }
            Some(Rule::let_item) => Class::LetDeclaration,
            Some(Rule::fn_item) => Class::FunctionDeclaration,
            Some(Rule::param | Rule::lambda_prefix) => Class::ParameterDeclaration,
            Some(Rule::import_std | Rule::import_item) => Class::Namespace,
            Some(Rule::type_name) => Class::Type,
            Some(Rule::name) => {
                let after = self.src.get(self.base + pair.as_span().end()..);
                let next = after.map(str::trim_start).and_then(|a| a.bytes().next());
                match next {
                    Some(b'(') => Class::Function,
                    Some(b'.') if self.namespaces.iter().any(|n| n == pair.as_str()) => {
                        Class::Namespace
                    }
                    _ => Class::Variable,
                }
            }
            _ => Class::Variable,
        }
    }

    /// A message: its text is a string, each `{…}` hole an expression.
    fn template(&mut self, start: usize, end: usize) {
        let bytes = self.src.as_bytes();
        let mut text_start = start;
        let mut i = start + 1;
        while i + 1 < end {
            match bytes.get(i) {
                Some(b'\\') => i += 2,
                Some(b'{') => match scan::hole_end(&bytes[..end], i) {
                    Some(close) => {
                        self.push(text_start, i, Class::String);
                        self.hole(i + 1, close);
                        text_start = close + 1;
                        i = close + 1;
                    }
                    None => i += 1,
                },
                _ => i += 1,
            }
        }
        self.push(text_start, end, Class::String);
    }

    /// The expression of a hole, between `start` and `end` in the file.
    fn hole(&mut self, start: usize, end: usize) {
        let Some(text) = self.src.get(start..end) else {
            return;
        };
        match WardenParser::parse(Rule::hole, text) {
            Ok(pairs) => {
                let base = std::mem::replace(&mut self.base, start);
                for pair in pairs {
                    self.walk(pair, None);
                }
                self.base = base;
            }
            Err(_) => lexical(text, start, &mut self.out),
        }
    }
}

/// Whether an access's member is followed by arguments: a method call.
fn has_call(member: &Pair<'_, Rule>) -> bool {
    let rest = member.get_input().get(member.as_span().end()..);
    rest.is_some_and(|r| r.trim_start().starts_with('('))
}

/// The grammar's keyword tokens: its `k_…` rules (atomic, so without inner pairs).
fn is_keyword(pair: &Pair<'_, Rule>) -> bool {
    pair.clone().into_inner().next().is_none() && format!("{:?}", pair.as_rule()).starts_with("k_")
}

/// The classes of a chunk that does not parse, from its words and strings alone.
fn lexical(text: &str, base: usize, out: &mut Vec<Highlight>) {
    let bytes = text.as_bytes();
    scan::tokens(text, |token| {
        let (start, end, class) = match token {
            scan::Tok::Word(at, word) if errors::is_keyword(word) => {
                (at, at + word.len(), Class::Keyword)
            }
            scan::Tok::Word(at, word) if word.starts_with(|c: char| c.is_ascii_digit()) => {
                (at, at + word.len(), Class::Number)
            }
            scan::Tok::Other(at) if bytes.get(at) == Some(&b'"') => {
                let end = scan::string_end(bytes, at, scan::is_template_at(text, at));
                (at, end, Class::String)
            }
            _ => return,
        };
        out.push(Highlight {
            span: Span::new(base + start, base + end),
            class,
        });
    });
}

/// Every `//` comment, to the end of its line.
fn comments(source: &str, out: &mut Vec<Highlight>) {
    let mut offset = 0;
    for line in source.split_inclusive('\n') {
        let code = line.trim_end_matches(['\n', '\r']);
        if let Some(at) = comment_start(code) {
            let comment = &code[at..];
            let class = if comment.starts_with("///") || comment.starts_with("//!") {
                Class::DocComment
            } else {
                Class::Comment
            };
            out.push(Highlight {
                span: Span::new(offset + at, offset + code.len()),
                class,
            });
        }
        offset += line.len();
    }
}

#[cfg(test)]
// Failing loudly is what a test is for.
#[allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// Every `.warden` file below `dir`.
    fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files(&path, out);
            } else if path.extension().is_some_and(|e| e == "warden") {
                out.push(path);
            }
        }
    }

    /// Over every policy of the repository's tests, examples and standard library,
    /// broken ones included, and every prefix of a few: tokens are in order, never
    /// overlap, lie on character boundaries within one line.
    #[test]
    fn tokens_are_ordered_disjoint_and_on_one_line_for_every_corpus_file() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut paths = Vec::new();
        for dir in ["tests", "examples", "stdlib"] {
            files(&root.join(dir), &mut paths);
        }
        assert!(paths.len() > 50, "{}", paths.len());
        let check = |name: &str, text: &str| {
            let mut end = 0;
            highlight_each(text, |token| {
                let Span { start, end: stop } = token.span;
                assert!(
                    start >= end && start < stop,
                    "{name}: {token:?} after {end}"
                );
                let slice = text
                    .get(start..stop)
                    .unwrap_or_else(|| panic!("{name}: {token:?}"));
                assert!(!slice.contains('\n'), "{name}: {token:?} {slice:?}");
                end = stop;
            });
        };
        for path in &paths {
            let text = std::fs::read_to_string(path).unwrap();
            check(&path.display().to_string(), &text);
        }
        for path in paths.iter().take(20) {
            let text = std::fs::read_to_string(path).unwrap();
            for (cut, _) in text.char_indices().step_by(7) {
                check(&format!("{}[..{cut}]", path.display()), &text[..cut]);
            }
        }
    }
}
