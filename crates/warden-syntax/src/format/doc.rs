//! A Wadler-style pretty printer: a document is text and line breaks in groups; a group
//! is printed on one line when it fits the width, otherwise each of its own `Line`s
//! becomes a newline at the current indentation.

/// A document to lay out.
#[derive(Debug, Clone)]
pub(super) enum Doc {
    /// Text without a newline.
    Text(String),
    /// A space on one line, a newline when its group breaks.
    Line,
    /// Nothing on one line, a newline when its group breaks.
    SoftLine,
    /// Always a newline; the groups around it break.
    HardLine,
    /// Nothing, but the groups around it break (after a `//` comment, which must end
    /// its line).
    BreakParent,
    Concat(Vec<Doc>),
    /// The content, with its newlines indented by this much more.
    Nest(usize, Box<Doc>),
    Group(Box<Doc>),
    /// Elements separated by a space, or by a newline before each element that would
    /// not fit on the line (prose-like filling).
    Fill(Vec<Doc>),
    /// A value after `=`: ` VALUE` on one line; else on the next line, indented by
    /// this much, when it fits there; else ` VALUE` broken inside.
    Assign(usize, Box<Doc>),
}

pub(super) fn text(s: impl Into<String>) -> Doc {
    Doc::Text(s.into())
}

pub(super) fn concat(docs: Vec<Doc>) -> Doc {
    Doc::Concat(docs)
}

pub(super) fn nest(indent: usize, doc: Doc) -> Doc {
    Doc::Nest(indent, Box::new(doc))
}

pub(super) fn group(doc: Doc) -> Doc {
    Doc::Group(Box::new(doc))
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Flat,
    Break,
}

/// Lays `doc` out in `width` columns. Lines carry no trailing spaces: indentation is
/// written with the first text of a line.
pub(super) fn render(doc: &Doc, width: usize) -> String {
    let mut out = String::new();
    let mut column = 0;
    let mut pending_indent: Option<usize> = None;
    let mut stack: Vec<(usize, Mode, &Doc)> = vec![(0, Mode::Break, doc)];
    while let Some((indent, mode, doc)) = stack.pop() {
        match doc {
            Doc::Text(s) => {
                if s.is_empty() {
                    continue;
                }
                if let Some(n) = pending_indent.take() {
                    out.extend(std::iter::repeat_n(' ', n));
                    column = n;
                }
                out.push_str(s);
                column += s.chars().count();
            }
            Doc::Line | Doc::SoftLine if mode == Mode::Flat => {
                if matches!(doc, Doc::Line) {
                    out.push(' ');
                    column += 1;
                }
            }
            Doc::Line | Doc::SoftLine | Doc::HardLine => {
                out.push('\n');
                column = 0;
                pending_indent = Some(indent);
            }
            Doc::BreakParent => {}
            Doc::Concat(docs) => stack.extend(docs.iter().rev().map(|d| (indent, mode, d))),
            Doc::Fill(elements) => {
                // Laid out here, element by element, each one flat.
                for (i, element) in elements.iter().enumerate() {
                    if i > 0 {
                        let room = width.saturating_sub(column + 1);
                        if mode == Mode::Flat || fits(room, element, &[]) {
                            out.push(' ');
                            column += 1;
                        } else {
                            out.push('\n');
                            out.extend(std::iter::repeat_n(' ', indent));
                            column = indent;
                        }
                    }
                    let text = render_flat(element);
                    if let Some(n) = pending_indent.take() {
                        out.extend(std::iter::repeat_n(' ', n));
                        column = n;
                    }
                    column += text.chars().count();
                    out.push_str(&text);
                }
            }
            Doc::Assign(more, value) => {
                let start = pending_indent.unwrap_or(column);
                if mode == Mode::Flat || fits(width.saturating_sub(start + 1), value, &stack) {
                    out.push(' ');
                    column += 1;
                    stack.push((indent, Mode::Flat, value));
                } else if fits(width.saturating_sub(indent + more), value, &stack) {
                    out.push('\n');
                    column = 0;
                    pending_indent = Some(indent + more);
                    stack.push((indent + more, Mode::Flat, value));
                } else {
                    out.push(' ');
                    column += 1;
                    stack.push((indent, Mode::Break, value));
                }
            }
            Doc::Nest(more, inner) => stack.push((indent + more, mode, inner)),
            Doc::Group(inner) => {
                let flat = mode == Mode::Flat || {
                    let start = pending_indent.unwrap_or(column);
                    fits(width.saturating_sub(start), inner, &stack)
                };
                let mode = if flat { Mode::Flat } else { Mode::Break };
                stack.push((indent, mode, inner));
            }
        }
    }
    out
}

/// `doc` on one line.
fn render_flat(doc: &Doc) -> String {
    render(&group(doc.clone()), usize::MAX)
}

/// Whether `doc`, on one line, and what follows it up to the next possible line break
/// fit in `room` columns. A hard break inside `doc` never fits.
fn fits(room: usize, doc: &Doc, rest: &[(usize, Mode, &Doc)]) -> bool {
    let mut room = isize::try_from(room).unwrap_or(isize::MAX);
    let mut todo: Vec<(Mode, &Doc)> = vec![(Mode::Flat, doc)];
    let mut rest = rest.iter().rev();
    loop {
        let Some((mode, doc)) = todo.pop().or_else(|| rest.next().map(|&(_, m, d)| (m, d))) else {
            return true;
        };
        match doc {
            Doc::Text(s) => room -= s.chars().count() as isize,
            Doc::Line | Doc::SoftLine if mode == Mode::Flat => {
                if matches!(doc, Doc::Line) {
                    room -= 1;
                }
            }
            // A break after the group: the rest of its line fits.
            Doc::Line | Doc::SoftLine => return room >= 0,
            Doc::HardLine | Doc::BreakParent => return mode == Mode::Break && room >= 0,
            Doc::Concat(docs) => todo.extend(docs.iter().rev().map(|d| (mode, d))),
            // Either may break before its first element: up to there it must fit.
            Doc::Fill(_) | Doc::Assign(..) if mode == Mode::Break => return room >= 0,
            Doc::Fill(elements) => {
                for (i, element) in elements.iter().enumerate().rev() {
                    todo.push((mode, element));
                    if i > 0 {
                        todo.push((mode, &Doc::Line));
                    }
                }
            }
            Doc::Assign(_, value) => {
                room -= 1;
                todo.push((mode, value));
            }
            Doc::Nest(_, inner) => todo.push((mode, inner)),
            // A group after this one is measured flat up to its first break.
            Doc::Group(inner) => todo.push((mode, inner)),
        }
        if room < 0 {
            return false;
        }
    }
}
