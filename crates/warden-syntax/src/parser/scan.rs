//! A tiny lexical pre-pass over raw source text, run before pest sees anything: it cuts
//! the file into top-level items (pest stops at the first error, so recovery has to
//! happen outside it), finds nesting that is too deep to hand to a recursive parser,
//! and locates unclosed brackets for error messages. It only needs to know where
//! strings and comments are; both end at the end of a line.

use std::ops::Range;

use crate::MAX_NESTING;

/// What the pre-pass sees outside strings and comments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tok<'a> {
    /// `(`, `[` or `{` at a byte offset.
    Open(usize, u8),
    /// `)`, `]` or `}` at a byte offset.
    Close(usize, u8),
    /// A word (identifier, keyword or number) and its offset.
    Word(usize, &'a str),
    /// Any other non-whitespace code byte, strings included (they are code, not trivia).
    Other(usize),
}

/// Whitespace as the grammar's `WHITESPACE` has it: a space, or one of `\t \n \v \f \r`.
pub(super) fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t'..=b'\r')
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The offset of the `}` that closes the template hole whose `{` is at `open`, as the
/// grammar's `template_hole` reads it: string literals inside the hole are skipped
/// whole, and a hole ends at its line. `None` when it does not close there (the `{` is
/// then plain text to the grammar).
pub(super) fn hole_end(bytes: &[u8], open: usize) -> Option<usize> {
    let mut i = open + 1;
    loop {
        match *bytes.get(i)? {
            b'}' => return Some(i),
            b'\n' => return None,
            b'"' => {
                i += 1;
                loop {
                    match *bytes.get(i)? {
                        b'"' => break,
                        b'\n' => return None,
                        b'\\' if bytes.get(i + 1).is_some_and(|&n| n != b'\n') => i += 1,
                        _ => {}
                    }
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
}

/// Whether the string whose opening quote is at `quote` is a message (a template): the
/// word before it is `deny`, `message` or `else`. In a message a quote inside a `{…}`
/// hole opens a string literal instead of ending the message. (`else` also ends an
/// `if`, whose string the grammar reads as plain; they differ only for a string that
/// holds a `{`, a quote and a `}` in that order on one line. The search for unclosed
/// holes tells the two apart with [`Nesting`].)
pub(super) fn is_template_at(text: &str, quote: usize) -> bool {
    let before = text
        .get(..quote)
        .unwrap_or("")
        .trim_end_matches([' ', '\t']);
    ["deny", "message", "else"].iter().any(|kw| {
        before
            .strip_suffix(kw)
            .is_some_and(|head| !head.as_bytes().last().is_some_and(|&b| is_ident_byte(b)))
    })
}

/// The offset just after the string whose opening quote is at `quote`: after its closing
/// quote, or at the end of its line when it has none.
pub(super) fn string_end(bytes: &[u8], quote: usize, template: bool) -> usize {
    read_string(bytes, quote, template).end
}

/// What [`read_string`] finds.
pub(super) struct StringRead {
    /// Just after the closing quote, or the end of the line when there is none.
    pub end: usize,
    /// In a template, the first `{` that opens no hole (text to the grammar).
    pub stray_brace: Option<usize>,
}

/// Reads the string whose opening quote is at `quote`. Escapes may hide a quote, never a
/// newline; in a `template`, holes are skipped whole ([`hole_end`]).
pub(super) fn read_string(bytes: &[u8], quote: usize, template: bool) -> StringRead {
    let mut stray_brace = None;
    let mut i = quote + 1;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => {
                return StringRead {
                    end: i + 1,
                    stray_brace,
                };
            }
            b'\n' => break,
            b'\\' if bytes.get(i + 1).is_some_and(|&n| n != b'\n') => i += 1,
            b'{' if template => match hole_end(bytes, i) {
                Some(close) => i = close,
                None => {
                    stray_brace.get_or_insert(i);
                }
            },
            _ => {}
        }
        i += 1;
    }
    StringRead {
        end: i,
        stray_brace,
    }
}

/// Where the `//` comment of `line` starts, if it has one: outside its strings, the
/// strings inside a message's holes included (`"{x ?? "http://a"}"`).
pub fn comment_start(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'/' if bytes.get(i + 1) == Some(&b'/') => return Some(i),
            b'"' => i = string_end(bytes, i, is_template_at(line, i)),
            _ => i += 1,
        }
    }
    None
}

/// Calls `f` for every token of `text` outside comments. Strings are reported as
/// `Other` at their opening quote and skipped (to their closing quote or the line end).
pub(super) fn tokens<'a>(text: &'a str, mut f: impl FnMut(Tok<'a>)) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' => {
                f(Tok::Other(i));
                i = string_end(bytes, i, is_template_at(text, i));
            }
            b'(' | b'[' | b'{' => {
                f(Tok::Open(i, b));
                i += 1;
            }
            b')' | b']' | b'}' => {
                f(Tok::Close(i, b));
                i += 1;
            }
            _ if is_ident_byte(b) => {
                let start = i;
                while i < bytes.len() && is_ident_byte(bytes[i]) {
                    i += 1;
                }
                f(Tok::Word(start, &text[start..i]));
            }
            _ if is_space(b) => i += 1,
            _ => {
                f(Tok::Other(i));
                i += 1;
            }
        }
    }
}

/// The byte range from the first to the end of the last code token, or `None` when the
/// text is only whitespace and comments.
pub(super) fn code_bounds(text: &str) -> Option<(usize, usize)> {
    let mut first = None;
    let mut last = 0;
    let bytes = text.as_bytes();
    tokens(text, |t| {
        let (start, end) = match t {
            Tok::Open(i, _) | Tok::Close(i, _) => (i, i + 1),
            Tok::Word(i, w) => (i, i + w.len()),
            Tok::Other(i) => {
                // Strings span up to their closing quote (or the end of the line).
                let mut end = i + 1;
                if bytes[i] == b'"' {
                    end = string_end(bytes, i, is_template_at(text, i));
                }
                // Keep the end on a char boundary for multi-byte characters.
                while end < text.len() && !text.is_char_boundary(end) {
                    end += 1;
                }
                (i, end.min(text.len()))
            }
        };
        first.get_or_insert(start);
        last = last.max(end);
    });
    first.map(|f| (f, last))
}

/// The item keywords a top-level chunk can start with (and the language server offers
/// where an item may start).
pub const ITEM_KEYWORDS: [&str; 6] = ["import", "let", "fn", "rule", "exempt", "policy"];

/// The item keyword at the start of `rest`, if it is one (with a word boundary after it).
fn leading_item_keyword(rest: &str) -> Option<&'static str> {
    ITEM_KEYWORDS.into_iter().find(|kw| {
        rest.starts_with(kw)
            && !rest
                .as_bytes()
                .get(kw.len())
                .is_some_and(|&b| is_ident_byte(b))
    })
}

/// Cuts `src` into chunks that each hold at most one top-level item (plus the doc
/// comments in front of it); whitespace and comments between items are not a chunk.
/// Only the grammar's item keywords cut, whatever the indentation: a line starting with
/// `import`, `fn`, `rule`, `exempt` or `policy` always begins a new chunk — those words
/// never occur inside items (a field after `.` does not start a line). `let` also occurs
/// inside rules and function blocks, so it begins a chunk only outside brackets. (So a
/// top-level `let` right after an item missing its `}` is read as part of that item:
/// one diagnostic for both; recovery resumes at the next other item keyword.)
///
/// The chunks only matter for a file the grammar rejects: one it accepts is built from
/// its whole-file parse, however it is cut.
pub(super) fn split_items(src: &str) -> Vec<Chunk> {
    // Each line with its offset and what `line_brackets` finds in it.
    let mut lines: Vec<(usize, &str, usize)> = Vec::new();
    let mut offset = 0;
    let mut starts: Vec<usize> = vec![0];
    let mut depth: i64 = 0;
    for (index, line) in src.split_inclusive('\n').enumerate() {
        let rest = line.trim_start_matches([' ', '\t']);
        if let Some(kw) = leading_item_keyword(rest)
            && (kw != "let" || depth <= 0)
        {
            depth = 0;
            // Doc comments directly above belong to the item.
            let floor = starts.last().copied().unwrap_or(0);
            let mut first = index;
            while first > floor && lines[first - 1].1.trim_start().starts_with("///") {
                first -= 1;
            }
            if first > floor {
                starts.push(first);
            }
        }
        let (balance, openers) = line_brackets(line);
        depth += balance;
        lines.push((offset, line, openers));
        offset += line.len();
    }

    let to_offset = |line: usize| lines.get(line).map_or(src.len(), |&(o, _, _)| o);
    let mut chunks = Vec::with_capacity(starts.len());
    for (i, &line) in starts.iter().enumerate() {
        let next = starts.get(i + 1).copied().unwrap_or(lines.len());
        let range = to_offset(line)..to_offset(next);
        // Whitespace and comments alone are no item.
        if src.get(range.clone()).and_then(first_token).is_none() {
            continue;
        }
        chunks.push(Chunk {
            range,
            openers: lines
                .get(line..next)
                .unwrap_or_default()
                .iter()
                .map(|&(_, _, n)| n)
                .sum(),
        });
    }
    chunks
}

/// One chunk of a file from [`split_items`].
pub(super) struct Chunk {
    /// Its byte range in the file.
    pub range: Range<usize>,
    /// At least the number of nesting levels opened in it: brackets and `if`s outside
    /// strings and comments. [`nesting_violation`] cannot find anything when this is at
    /// most [`MAX_NESTING`].
    pub openers: usize,
}

/// The bytes that [`line_brackets`] looks at.
static BRACKET_SCAN: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    let special = b"/\"()[]{}i";
    while i < special.len() {
        table[special[i] as usize] = true;
        i += 1;
    }
    table
};

/// For one line: opening minus closing brackets, outside strings and comments (what
/// counting the `Open` and `Close` tokens of [`tokens`] gives, without the rest of the
/// tokenizing), and the opening brackets plus the `if`s among them (or more: `if` is
/// counted wherever the two letters occur).
fn line_brackets(line: &str) -> (i64, usize) {
    let bytes = line.as_bytes();
    let mut balance = 0;
    let mut openers = 0;
    let mut i = 0;
    loop {
        // Most bytes matter to none of the cases below: pass them in a tight loop.
        i = next_where(bytes, i, |b| BRACKET_SCAN[usize::from(b)]);
        let Some(&b) = bytes.get(i) else {
            break;
        };
        match b {
            b'/' if bytes.get(i + 1) == Some(&b'/') => break,
            b'"' if is_template_at(line, i) => i = string_end(bytes, i, true) - 1,
            b'"' => {
                // To the closing quote or the end of the line; an escape may hide a
                // quote, but never a newline.
                i += 1;
                loop {
                    i = next_where(bytes, i, |b| matches!(b, b'"' | b'\n' | b'\\'));
                    if bytes.get(i) != Some(&b'\\') {
                        break;
                    }
                    i += if bytes.get(i + 1).is_some_and(|&n| n != b'\n') {
                        2
                    } else {
                        1
                    };
                }
            }
            b'(' | b'[' | b'{' => {
                balance += 1;
                openers += 1;
            }
            b')' | b']' | b'}' => balance -= 1,
            b'i' if bytes.get(i + 1) == Some(&b'f') => openers += 1,
            _ => {}
        }
        i += 1;
    }
    (balance, openers)
}

/// The first offset at or after `from` whose byte satisfies `wanted`, or the end of
/// `bytes` (also when `from` is already past it: a string left open at the end of the
/// text steps one byte beyond).
fn next_where(bytes: &[u8], from: usize, wanted: impl Fn(u8) -> bool) -> usize {
    bytes
        .get(from..)
        .and_then(|rest| rest.iter().position(|&b| wanted(b)))
        .map_or(bytes.len(), |offset| from + offset)
}

/// The opening brackets and the `if`s in `bytes`, counted everywhere (strings and
/// comments included, and `if` inside words): at least the deepest nesting there.
/// (Branch-free counting loops, which the compiler vectorizes.)
pub(super) fn openers(bytes: &[u8]) -> usize {
    let brackets: usize = bytes
        .iter()
        .map(|&b| usize::from(b == b'(') + usize::from(b == b'[') + usize::from(b == b'{'))
        .sum();
    let ifs: usize = bytes
        .iter()
        .zip(bytes.get(1..).unwrap_or_default())
        .map(|(&a, &b)| usize::from(a == b'i') & usize::from(b == b'f'))
        .sum();
    brackets + ifs
}

/// Where bracket nesting (and `if … else` nesting, which the grammar also handles by
/// recursion) first exceeds [`MAX_NESTING`]: the offset and length of the opener.
pub(super) fn nesting_violation(text: &str) -> Option<(usize, usize)> {
    // Every level is opened by a bracket or an `if`: text with few of them cannot nest
    // too deeply.
    if openers(text.as_bytes()) <= MAX_NESTING {
        return None;
    }
    let mut nesting = Nesting::default();
    let mut found = None;
    tokens(text, |t| {
        if found.is_some() {
            return;
        }
        nesting.step(t);
        if nesting.depth() > MAX_NESTING {
            found = match t {
                Tok::Open(i, _) => Some((i, 1)),
                Tok::Word(i, _) => Some((i, 2)),
                _ => None,
            };
        }
    });
    found
}

/// Bracket and `if … else` nesting, followed token by token.
#[derive(Default)]
pub(super) struct Nesting {
    /// The open brackets, and `b'i'` for an `if` waiting for its `else`.
    stack: Vec<u8>,
}

impl Nesting {
    /// Follows one token; says whether it is the `else` of an open `if`.
    pub(super) fn step(&mut self, token: Tok<'_>) -> bool {
        match token {
            Tok::Open(_, b) => self.stack.push(b),
            Tok::Word(_, "if") => self.stack.push(b'i'),
            Tok::Word(_, "else") if self.stack.last() == Some(&b'i') => {
                self.stack.pop();
                return true;
            }
            Tok::Close(_, b) => {
                // Closing a bracket also ends any `if` left open inside it.
                while self.stack.last() == Some(&b'i') {
                    self.stack.pop();
                }
                if self.stack.last().is_some_and(|&open| matching(open) == b) {
                    self.stack.pop();
                }
            }
            _ => {}
        }
        false
    }

    pub(super) fn depth(&self) -> usize {
        self.stack.len()
    }
}

/// The bracket that closes `open`.
pub(super) fn matching(open: u8) -> u8 {
    match open {
        b'(' => b')',
        b'[' => b']',
        _ => b'}',
    }
}

/// Brackets still open at the end of `text` (offset, bracket), outermost first.
pub(super) fn unclosed(text: &str) -> Vec<(usize, u8)> {
    let mut stack: Vec<(usize, u8)> = Vec::new();
    tokens(text, |t| match t {
        Tok::Open(i, b) => stack.push((i, b)),
        Tok::Close(_, b) if stack.last().is_some_and(|&(_, open)| matching(open) == b) => {
            stack.pop();
        }
        _ => {}
    });
    stack
}

/// The offset of the first token of `text` outside whitespace and comments (where
/// [`tokens`] would report its first token), stopping there.
fn first_token(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i += line_len(&bytes[i..]);
            }
            b if is_space(b) => i += 1,
            _ => return Some(i),
        }
    }
    None
}

/// The length of `bytes` up to its first newline, or all of it.
fn line_len(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(bytes.len())
}

/// The first word of `text` outside comments, if the text starts with a word.
pub(super) fn first_word(text: &str) -> Option<&str> {
    let start = first_token(text)?;
    let bytes = text.as_bytes();
    if !is_ident_byte(bytes[start]) {
        return None;
    }
    let len = bytes[start..]
        .iter()
        .take_while(|&&b| is_ident_byte(b))
        .count();
    text.get(start..start + len)
}
