//! Turns pest's errors ("expected one of these rules at this position") into Warden
//! diagnostics in plain words: grammar rule names never reach the user.

use crate::Code;
use pest::error::{Error, ErrorVariant, InputLocation};

use super::{Rule, scan};
use crate::{Diagnostic, FileId, MAX_NESTING, Span};

/// What was being parsed, to pick the syntax summary offered as help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Subject {
    /// A top-level item (or the garbage that is in place of one).
    Item,
    /// The expression inside a template hole.
    Hole,
}

/// Where the text given to pest sits in the file.
pub(super) struct Place<'a> {
    pub src: &'a str,
    pub file: FileId,
    /// Byte range of the parsed text in `src`.
    pub start: usize,
    pub end: usize,
    pub subject: Subject,
    /// The keyword of the next top-level item, if there is one.
    pub next_item: Option<&'a str>,
}

/// One thing the parser would have accepted, as shown to the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Expect {
    Close(&'static str),
    Demand,
    TopLevelItem,
    Token(&'static str),
    Thing(&'static str),
    Operator,
    EndOfItem,
}

impl Expect {
    fn words(self) -> String {
        match self {
            Expect::Close(t) | Expect::Token(t) => format!("`{t}`"),
            Expect::Demand => "a demand (`deny`, `require`)".to_string(),
            Expect::TopLevelItem => {
                "a top-level item (`import`, `let`, `fn`, `policy`, `rule`, `exempt`)".to_string()
            }
            Expect::Thing(t) => t.to_string(),
            Expect::EndOfItem => "the end of the item".to_string(),
            Expect::Operator => "an operator".to_string(),
        }
    }
}

const AN_EXPRESSION: &str = "an expression";

fn expect_of(rule: Rule) -> Option<Expect> {
    use Expect::{Close, Operator, Thing, Token};
    Some(match rule {
        Rule::rbrace => Close("}"),
        Rule::rparen => Close(")"),
        Rule::rbracket => Close("]"),
        Rule::rangle => Close(">"),
        Rule::lbrace | Rule::block => Token("{"),
        Rule::lparen => Token("("),
        // `[` is expected only to index (or, with other signs, to start a list).
        Rule::lbracket => Operator,
        Rule::langle => Token("<"),
        Rule::comma => Token(","),
        Rule::colon => Token(":"),
        Rule::dot => Token("."),
        Rule::assign | Rule::fn_expr_body => Token("="),
        // After a name, `=>` would make it a lambda: a continuation like an operator.
        Rule::arrow => Operator,
        Rule::thin_arrow => Token("->"),
        Rule::pipe => Token("|"),
        Rule::question => Token("?"),
        Rule::k_import => Token("import"),
        Rule::k_as => Token("as"),
        Rule::k_std | Rule::import_std => Token("std"),
        Rule::k_let | Rule::let_item => Token("let"),
        Rule::k_fn => Token("fn"),
        Rule::k_rule => Token("rule"),
        Rule::k_exempt => Token("exempt"),
        Rule::k_from => Token("from"),
        Rule::k_policy => Token("policy"),
        Rule::k_when | Rule::when_clause => Token("when"),
        Rule::k_require
        | Rule::require_approval
        | Rule::require_condition
        | Rule::policy_after_push => Token("require"),
        Rule::k_deny | Rule::deny => Token("deny"),
        Rule::k_unless => Token("unless"),
        Rule::k_else => Token("else"),
        Rule::k_approval => Token("approvals"),
        Rule::k_each | Rule::each_team | Rule::each_user => Token("each"),
        Rule::k_team => Token("team"),
        Rule::k_user => Token("user"),
        Rule::k_in => Token("in"),
        Rule::k_where => Token("where"),
        Rule::k_allow | Rule::allow_stale => Token("allow stale"),
        Rule::k_stale => Token("stale"),
        Rule::k_advisory => Token("advisory"),
        Rule::k_overridable | Rule::override_clause | Rule::policy_overridable => {
            Token("overridable")
        }
        Rule::not_overridable => Token("not overridable"),
        Rule::k_by => Token("by"),
        Rule::k_not => Token("not"),
        Rule::k_if => Token("if"),
        Rule::k_then => Token("then"),
        Rule::k_message | Rule::message_clause => Token("message"),
        Rule::k_after => Token("after"),
        Rule::k_last => Token("last"),
        Rule::k_push => Token("push"),
        Rule::k_list | Rule::list_type => Token("list"),
        Rule::k_map | Rule::map_type => Token("map"),
        Rule::EOI => Expect::EndOfItem,
        Rule::item => Expect::TopLevelItem,
        Rule::ident | Rule::name | Rule::lambda_prefix => Thing("a name"),
        Rule::param => Thing("a parameter (`name: type`)"),
        Rule::type_expr | Rule::type_name | Rule::enum_type => Thing("a type"),
        Rule::string | Rule::template | Rule::import_file => Thing("a string"),
        Rule::number | Rule::approval | Rule::approval_count => Thing("a number"),
        Rule::expr
        | Rule::hole
        | Rule::approver_set
        | Rule::args
        | Rule::paren
        | Rule::list
        | Rule::bool_lit
        | Rule::null_lit
        | Rule::anyone
        | Rule::if_prefix
        | Rule::op_not
        | Rule::op_neg => Thing(AN_EXPRESSION),
        Rule::access
        | Rule::opt_access
        | Rule::index
        | Rule::op_or
        | Rule::op_and
        | Rule::op_eq
        | Rule::op_ne
        | Rule::op_le
        | Rule::op_lt
        | Rule::op_ge
        | Rule::op_gt
        | Rule::op_in
        | Rule::op_matches_regex
        | Rule::op_matches
        | Rule::op_within
        | Rule::op_coalesce
        | Rule::op_add
        | Rule::op_sub
        | Rule::op_mul
        | Rule::op_div
        | Rule::op_rem => Operator,
        _ => return None,
    })
}

/// `a`, `a or b`, `a, b or c`.
fn one_of(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

pub(super) const KEYWORDS: [&str; 36] = [
    "import",
    "as",
    "let",
    "fn",
    "rule",
    "exempt",
    "from",
    "policy",
    "when",
    "require",
    "deny",
    "unless",
    "else",
    "approval",
    "approvals",
    "each",
    "in",
    "where",
    "allow",
    "stale",
    "advisory",
    "overridable",
    "by",
    "not",
    "and",
    "or",
    "true",
    "false",
    "if",
    "then",
    "matches",
    "matches_regex",
    "within",
    "anyone",
    "null",
    "message",
];

pub(super) fn is_keyword(word: &str) -> bool {
    KEYWORDS.contains(&word)
}

/// The token starting at `at` in `src`, for "found `…`": a word, a string (shortened),
/// an operator of one or two characters, or one character.
fn token_at(src: &str, at: usize) -> (String, Span) {
    let rest = src.get(at..).unwrap_or("");
    let bytes = rest.as_bytes();
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let len = if bytes.first().is_some_and(|&b| is_word(b)) {
        bytes.iter().take_while(|&&b| is_word(b)).count()
    } else if bytes.first() == Some(&b'"') {
        let mut end = 1;
        while end < bytes.len() && bytes[end] != b'"' && bytes[end] != b'\n' {
            end += if bytes[end] == b'\\' { 2 } else { 1 };
        }
        (end + 1).min(bytes.len())
    } else if ["==", "!=", "<=", ">=", "??", "?.", "=>", "->"]
        .iter()
        .any(|op| rest.starts_with(op))
    {
        2
    } else {
        rest.chars().next().map_or(0, char::len_utf8)
    };
    let mut len = len;
    while len < rest.len() && !rest.is_char_boundary(len) {
        len += 1;
    }
    let text = &rest[..len];
    let shown = if text.chars().count() > 24 {
        let cut: String = text.chars().take(20).collect();
        format!("{cut}…")
    } else {
        text.to_string()
    };
    (shown, Span::new(at, at + len))
}

/// Which of `words` occurs last in `text` (outside strings and comments).
fn last_of<'w>(text: &str, words: &[&'w str]) -> Option<&'w str> {
    let mut last = None;
    scan::tokens(text, |t| {
        if let scan::Tok::Word(_, w) = t
            && let Some(found) = words.iter().find(|&&x| x == w)
        {
            last = Some(*found);
        }
    });
    last
}

/// The word just before `at` (after skipping whitespace), if it is within the text.
fn previous_word(src: &str, start: usize, at: usize) -> Option<&str> {
    let head = src.get(start..at)?.trim_end();
    // The word starts after the last character that cannot be in one, which may be
    // several bytes long (`–` in a comment).
    let word_start = head
        .char_indices()
        .rev()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
        .map_or(0, |(at, c)| at + c.len_utf8());
    let word = head.get(word_start..)?;
    (!word.is_empty()).then_some(word)
}

/// The operator that ends `head` (`a +`, `x and`), waiting for its operand.
fn trailing_operator(head: &str) -> Option<&str> {
    const SYMBOLS: [&str; 12] = [
        "==", "!=", "<=", ">=", "??", "<", ">", "+", "-", "*", "/", "%",
    ];
    const WORDS: [&str; 7] = [
        "and",
        "or",
        "not",
        "in",
        "matches",
        "matches_regex",
        "within",
    ];
    // The code before the error, its comments and trailing blank space cut off.
    let mut head = head.trim_end();
    loop {
        let line_start = head.rfind('\n').map_or(0, |i| i + 1);
        let Some(comment) = head.get(line_start..).and_then(scan::comment_start) else {
            break;
        };
        head = head.get(..line_start + comment).unwrap_or("").trim_end();
    }
    // A lambda's `=>` and a return type's `->` end with an operator's character.
    if head.ends_with("=>") || head.ends_with("->") {
        return None;
    }
    if let Some(symbol) = SYMBOLS.iter().find(|s| head.ends_with(**s)) {
        return Some(symbol);
    }
    let word = previous_word(head, 0, head.len())?;
    WORDS.contains(&word).then_some(word)
}

fn line_of(src: &str, at: usize) -> usize {
    src.as_bytes()[..at.min(src.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The syntax summary offered when nothing more specific applies.
fn summary(place: &Place<'_>) -> String {
    if place.subject == Subject::Hole {
        return "a template hole holds one expression, e.g. `{change.author}`; write `\\{` \
                for a literal brace"
            .to_string();
    }
    let text = place.src.get(place.start..place.end).unwrap_or("");
    match scan::first_word(text) {
        Some("rule") => "a rule has at least one demand: `rule NAME [advisory] \
                         [overridable …] { let …  when …  DEMAND…  message \"…\" }`"
            .to_string(),
        Some("exempt") => {
            "an exemption reads `exempt NAME from RULE, … { let …  when CONDITION }`".to_string()
        }
        Some("policy") => "the policy block holds `overridable by SET [where COND]` and \
                           `require approval after last push`"
            .to_string(),
        Some("fn") => "a function reads `fn NAME(PARAM: TYPE, …) -> TYPE = EXPR` or \
                       `fn NAME(…) -> TYPE { let …  EXPR }`"
            .to_string(),
        Some("let") => "a binding reads `let NAME = EXPR` or `let NAME: TYPE = EXPR`".to_string(),
        Some("import") => {
            "imports read `import std.NAME` or `import \"path/file.warden\" [as NAME]`".to_string()
        }
        _ => garbage_help(),
    }
}

/// The first `{` of a message (a template) in `src[start..end]` that opens no hole on
/// its line: the grammar reads it as text, so a quote meant to open a string inside the
/// hole (`{x ?? "none}`) ends the message there, and pest fails later, often at a
/// string it then finds unterminated. Wherever it fails, this is the mistake to report.
fn unclosed_hole(src: &str, start: usize, end: usize) -> Option<usize> {
    let text = src.get(start..end)?;
    let bytes = text.as_bytes();
    let mut found = None;
    // The string after an `if`'s `else` is plain text, not a message.
    let mut nesting = scan::Nesting::default();
    let mut after_if_else = false;
    scan::tokens(text, |token| {
        if let scan::Tok::Other(quote) = token
            && found.is_none()
            && bytes.get(quote) == Some(&b'"')
            && !after_if_else
            && scan::is_template_at(text, quote)
        {
            found = scan::read_string(bytes, quote, true)
                .stray_brace
                .map(|brace| start + brace);
        }
        after_if_else = nesting.step(token);
    });
    found
}

/// A message's `{` that opens no hole (`rest` is the text from it on): the parser's
/// error where pest accepts the text, and this module's where a stray quote made pest
/// fail.
pub(super) fn unclosed_hole_error(file: FileId, open: usize, rest: &str) -> Diagnostic {
    let line = &rest[..rest.find('\n').unwrap_or(rest.len())];
    let help = if line.contains("\\\"") {
        "inside a hole a string is written with plain quotes, not escaped ones: \
         `{name ?? \"anon\"}`"
    } else {
        "close the hole with `}` on the same line (a string inside it needs both quotes: \
         `{x ?? \"none\"}`), or write `\\{` for a literal brace"
    };
    Diagnostic::new(Code::BadTemplate, "unclosed `{` in message")
        .with_label(file, Span::new(open, open + 1), "this hole is never closed")
        .with_help(help)
}

fn garbage_help() -> String {
    "every top-level item starts with `import`, `let`, `fn`, `policy`, `rule` or `exempt`; \
     delete this text or turn it into a comment with `//`"
        .to_string()
}

/// The diagnostic for a pest failure while parsing `place`.
pub(super) fn syntax_error(err: &Error<Rule>, place: &Place<'_>, code: Code) -> Diagnostic {
    let rel = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let at = (place.start + rel).min(place.end);
    let positives: Vec<Rule> = match &err.variant {
        ErrorVariant::ParsingError { positives, .. } => positives.clone(),
        ErrorVariant::CustomError { .. } => Vec::new(),
    };
    let src = place.src;
    let file = place.file;
    let remaining = src.get(at..place.end).unwrap_or("");
    let at_end = scan::code_bounds(remaining).is_none();

    // `"… {x ?? "none} …"`: a hole that does not close let a quote end the message.
    if let Some(open) = unclosed_hole(src, place.start, place.end) {
        return unclosed_hole_error(file, open, src.get(open..).unwrap_or(""));
    }

    // An unterminated string: pest can only say "expected a string" at the quote.
    if !at_end && src.as_bytes().get(at) == Some(&b'"') {
        let line_end = remaining.find('\n').map_or(place.end, |n| at + n);
        let (shown, span) = token_at(src, at);
        if span.end > line_end || !shown.ends_with('"') || shown.len() < 2 {
            return Diagnostic::new(code, "unterminated string")
                .with_label(
                    file,
                    Span::new(at, line_end.max(at + 1)),
                    "this string is never closed",
                )
                .with_help("add the closing `\"`; a string cannot span several lines");
        }
    }

    // What was found there.
    let (found_text, found_span) = token_at(src, at);
    let found_is_keyword = is_keyword(&found_text);

    // Where an expression may start, pest lists every way to start one (`(`, `[`, `if`,
    // a name, a number, …): say "an expression" instead.
    let expression_context = positives.iter().any(|r| {
        matches!(
            r,
            Rule::expr
                | Rule::hole
                | Rule::approver_set
                | Rule::args
                | Rule::paren
                | Rule::list
                | Rule::name
                | Rule::bool_lit
                | Rule::null_lit
                | Rule::anyone
                | Rule::if_prefix
                | Rule::k_if
                | Rule::lambda_prefix
                | Rule::op_not
                | Rule::op_neg
        )
    });

    // A keyword where a name (and not an expression) was expected.
    if !at_end && found_is_keyword && positives.contains(&Rule::ident) && !expression_context {
        return Diagnostic::new(
            code,
            format!("`{found_text}` is a keyword and cannot be used as a name"),
        )
        .with_label(file, found_span, "reserved keyword")
        .with_help(format!(
            "keywords are reserved words of the language; choose another name, such as \
             `{found_text}_` or `my_{found_text}`"
        ));
    }

    // `require lines / 100 approvals from …`: a count that is neither a number nor in
    // parentheses reads as the condition of `require CONDITION else …`,
    // so `else` is what pest wanted where `approvals` stands.
    if matches!(found_text.as_str(), "approvals" | "approval") && positives.contains(&Rule::k_else)
    {
        return Diagnostic::new(code, "a computed approval count must be in parentheses")
            .with_label(
                file,
                found_span,
                "the count before this is not a number or `(…)`",
            )
            .with_help(
                "write `require (EXPR) approvals from …`, e.g. `require (if lines > 300 then 2 \
                 else 1) approvals from team(\"sre\")`",
            );
    }

    let mut expects: Vec<Expect> = positives
        .iter()
        .filter_map(|&r| match r {
            Rule::lparen
            | Rule::lbracket
            | Rule::k_if
            | Rule::ident
            | Rule::number
            | Rule::string
                if expression_context =>
            {
                Some(Expect::Thing(AN_EXPRESSION))
            }
            _ => expect_of(r),
        })
        .collect();
    let previous = previous_word(src, place.start, at);
    // After `unless` comes an approval requirement, which starts with its count.
    if previous == Some("unless") && expects == [Expect::Thing("a number")] {
        expects = vec![Expect::Thing(
            "an approval requirement (`N approvals from …`)",
        )];
    }
    expects.sort();
    expects.dedup();
    // `deny` and `require` together are "a demand"; five or six item keywords together
    // are "a top-level item".
    if expects.contains(&Expect::Token("deny")) && expects.contains(&Expect::Token("require")) {
        expects.retain(|e| !matches!(e, Expect::Token("deny" | "require")));
        expects.push(Expect::Demand);
    }
    let item_words = ["import", "let", "fn", "policy", "rule", "exempt"];
    if item_words
        .iter()
        .filter(|w| expects.contains(&Expect::Token(w)))
        .count()
        >= 5
    {
        expects.retain(|e| !matches!(e, Expect::Token(w) if item_words.contains(w)));
        expects.push(Expect::TopLevelItem);
    }
    // "an operator" only helps when what follows could plausibly continue an expression.
    let found_closes = matches!(found_text.as_str(), "}" | ")" | "]");
    if expects.len() > 1 && (at_end || found_is_keyword || found_closes) {
        expects.retain(|e| *e != Expect::Operator);
    }
    expects.sort();
    let words: Vec<String> = expects.iter().map(|e| e.words()).collect();
    let expected = one_of(&words);

    // Where to point: the unexpected token, or (at the end of the text) just after the
    // last token, since what follows belongs to the next item.
    let (message, primary, label) = if at_end {
        let text = src.get(place.start..at).unwrap_or("");
        let end = place.start + scan::code_bounds(text).map_or(0, |(_, e)| e);
        let whereabouts = match (place.subject, place.next_item) {
            (Subject::Hole, _) => "found the end of the hole".to_string(),
            (Subject::Item, Some(next)) => format!("found the next `{next}`"),
            (Subject::Item, None) => "found the end of the file".to_string(),
        };
        let message = if expected.is_empty() {
            format!("unexpected end of input, {whereabouts}")
        } else {
            format!("expected {expected}, {whereabouts}")
        };
        let label = match words.first() {
            Some(first) => format!("expected {first} after this"),
            None => "input ends here".to_string(),
        };
        (message, Span::new(end, end), label)
    } else if expects == [Expect::EndOfItem] {
        (
            format!("unexpected `{found_text}` after the end of the item"),
            found_span,
            "not part of any item".to_string(),
        )
    } else if expected.is_empty() {
        (
            format!("unexpected `{found_text}`"),
            found_span,
            "unexpected here".to_string(),
        )
    } else {
        let label = if words.len() <= 2 && expected.chars().count() <= 40 {
            format!("expected {expected}")
        } else {
            format!("unexpected `{found_text}`")
        };
        (
            format!("expected {expected}, found `{found_text}`"),
            found_span,
            label,
        )
    };

    let mut diagnostic = Diagnostic::new(code, message).with_label(file, primary, label);

    // Help: the most specific advice that applies.
    let text = src.get(place.start..place.end).unwrap_or("");
    let open = if at_end {
        scan::unclosed(text).last().copied()
    } else {
        // Inside parentheses or a list, where the closing bracket was one of the
        // expected tokens (`f(a > 3`): point at the bracket left open. (A rule's `{` is
        // left to the more specific advice below.)
        let before = text.get(..at.saturating_sub(place.start)).unwrap_or("");
        scan::unclosed(before)
            .last()
            .copied()
            .filter(|&(_, bracket)| {
                bracket != b'{'
                    && expects.iter().any(|e| {
                        matches!(e, Expect::Close(c) if c.as_bytes() == [scan::matching(bracket)])
                    })
            })
    };
    let help = if let Some((offset, bracket)) = open {
        let abs = place.start + offset;
        let close = char::from(scan::matching(bracket));
        let state = if at_end {
            "is never closed"
        } else {
            "is still open here"
        };
        diagnostic = diagnostic.with_label(
            file,
            Span::new(abs, abs + 1),
            format!("this `{}` {state}", bracket as char),
        );
        format!(
            "add the missing `{close}` for the `{}` on line {}",
            bracket as char,
            line_of(src, abs)
        )
    } else if expects.contains(&Expect::TopLevelItem) || expects == [Expect::EndOfItem] {
        garbage_help()
    } else if previous == Some("unless")
        || ["from", "approvals", "each", "team", "user"]
            .iter()
            .any(|w| expects.contains(&Expect::Token(w)))
    {
        "an approval requirement reads `N approvals from SET [where COND] [allow stale]`, \
         where SET is e.g. `team(\"sre\")`, `user(\"bob\")`, `anyone`, or \
         `each team in EXPR`"
            .to_string()
    } else if expects.contains(&Expect::Token("then")) || expects.contains(&Expect::Token("else")) {
        match last_of(
            text.get(..at - place.start).unwrap_or(""),
            &["if", "require"],
        ) {
            Some("require") => "a condition demand reads `require CONDITION else \"message\"`; \
                                an approval demand reads `require N approvals from SET`"
                .to_string(),
            _ => "a conditional needs both branches: `if CONDITION then A else B`".to_string(),
        }
    } else if expects.contains(&Expect::Demand) && found_text == "}" {
        "a rule needs at least one demand, e.g. `deny \"…\"`, `require 1 approval from \
         team(\"…\")` or `require CONDITION else \"…\"`"
            .to_string()
    } else if expects.contains(&Expect::Demand) && found_text == "message" {
        "`message` comes last in a rule, after at least one demand".to_string()
    } else if let Some(operator) = text
        .get(..at.saturating_sub(place.start))
        .and_then(trailing_operator)
        .filter(|_| expects.contains(&Expect::Thing(AN_EXPRESSION)))
    {
        format!("`{operator}` needs an operand after it: complete the expression, or remove it")
    } else {
        summary(place)
    };
    diagnostic.with_help(help)
}

/// The diagnostic for nesting deeper than [`MAX_NESTING`] found by the pre-pass.
pub(super) fn too_deep_brackets(file: FileId, span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::NestingTooDeep,
        format!("nesting is deeper than {MAX_NESTING} levels"),
    )
    .with_label(file, span, "the limit is exceeded here")
    .with_help("split the expression into `let` bindings or helper functions")
}
