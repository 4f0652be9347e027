//! Byte offsets ↔ LSP positions (line, UTF-16 code unit), the only unit LSP clients
//! are guaranteed to understand.

use lsp_types::{Position, Range, TextDocumentContentChangeEvent};
use warden::lines::{Column, Lines};
use warden_syntax::Span;

/// A text's line index (`warden::lines`), to convert offsets in O(log lines).
#[derive(Debug)]
pub struct LineIndex<'a> {
    lines: Lines<'a>,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> Self {
        LineIndex {
            lines: Lines::new(text),
        }
    }

    /// The LSP position of a byte offset. Offsets past the end clamp to the end; an
    /// offset inside a multi-byte character counts as the start of that character.
    pub fn position(&self, offset: usize) -> Position {
        let (line, character) = self.lines.position(offset, Column::Utf16);
        Position::new(line, character)
    }

    pub fn range(&self, span: Span) -> Range {
        Range::new(self.position(span.start), self.position(span.end))
    }

    /// The byte offset of an LSP position. A line past the end gives the end of the
    /// text; a character past the end of its line gives the end of that line (before
    /// the newline); a position inside a surrogate pair gives the character's start.
    pub fn offset(&self, position: Position) -> usize {
        self.lines
            .offset(position.line, position.character, Column::Utf16)
    }
}

/// Applies one change of `textDocument/didChange`: its range (UTF-16 positions, as
/// [`LineIndex::offset`] reads them) replaced by its text, or without a range, the
/// whole text. A range whose end comes before its start is read from end to start.
pub fn apply_change(text: &mut String, change: TextDocumentContentChangeEvent) {
    let Some(range) = change.range else {
        *text = change.text;
        return;
    };
    let index = LineIndex::new(text);
    let (start, end) = (index.offset(range.start), index.offset(range.end));
    text.replace_range(start.min(end)..start.max(end), &change.text);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_round_trip() {
        let text = "let a = 1\nlet b = 2\n";
        let index = LineIndex::new(text);
        assert_eq!(index.position(0), Position::new(0, 0));
        assert_eq!(index.position(4), Position::new(0, 4));
        assert_eq!(index.position(10), Position::new(1, 0));
        assert_eq!(index.position(14), Position::new(1, 4));
        assert_eq!(index.position(text.len()), Position::new(2, 0));
        for offset in 0..=text.len() {
            assert_eq!(index.offset(index.position(offset)), offset);
        }
    }

    #[test]
    fn utf16_units_for_multibyte_characters() {
        // `é` is 2 bytes / 1 unit, `≥` 3 bytes / 1 unit, `😀` 4 bytes / 2 units.
        let text = "// é ≥ 😀 x\nlet";
        let index = LineIndex::new(text);
        let x = text.find('x').unwrap_or(0);
        assert_eq!(x, 15);
        assert_eq!(index.position(x), Position::new(0, 10));
        assert_eq!(index.offset(Position::new(0, 10)), x);
        let emoji = text.find('😀').unwrap_or(0);
        assert_eq!(index.position(emoji), Position::new(0, 7));
        // Inside the surrogate pair: the start of the emoji.
        assert_eq!(index.offset(Position::new(0, 8)), emoji);
        assert_eq!(index.position(emoji + 4), Position::new(0, 9));
        // Inside a multi-byte character: its start.
        assert_eq!(index.position(emoji + 2), Position::new(0, 7));
        assert_eq!(index.position(text.len()), Position::new(1, 3));
    }

    #[test]
    fn clamps_out_of_range_positions() {
        let text = "ab\r\ncd";
        let index = LineIndex::new(text);
        assert_eq!(index.offset(Position::new(0, 99)), 2);
        assert_eq!(index.offset(Position::new(1, 1)), 5);
        assert_eq!(index.offset(Position::new(7, 0)), text.len());
        assert_eq!(index.position(999), Position::new(1, 2));
        assert_eq!(
            index.range(Span::new(1, 5)),
            Range::new(Position::new(0, 1), Position::new(1, 1))
        );
    }
}

#[cfg(test)]
// Failing loudly is what a test is for.
#[allow(clippy::unwrap_used)]
mod change_tests {
    use super::*;

    fn change(
        range: Option<((u32, u32), (u32, u32))>,
        text: &str,
    ) -> TextDocumentContentChangeEvent {
        TextDocumentContentChangeEvent {
            range: range.map(|((l0, c0), (l1, c1))| {
                Range::new(Position::new(l0, c0), Position::new(l1, c1))
            }),
            range_length: None,
            text: text.to_string(),
        }
    }

    /// Each fixture: a text, the changes an editor sends for one edit (applied in
    /// order, each against the text the previous left), and the whole text after.
    #[test]
    fn range_changes_give_the_full_text() {
        type Fixture = (
            &'static str,
            Vec<TextDocumentContentChangeEvent>,
            &'static str,
        );
        let fixtures: Vec<(&str, Fixture)> = vec![
            (
                "insert",
                (
                    "rule r {\n}\n",
                    vec![change(Some(((0, 5), (0, 6))), "rx")],
                    "rule rx {\n}\n",
                ),
            ),
            (
                "insert at the end",
                (
                    "a\nb",
                    vec![change(Some(((1, 1), (1, 1))), "c\n")],
                    "a\nbc\n",
                ),
            ),
            (
                "delete",
                (
                    "let ab = 1\n",
                    vec![change(Some(((0, 5), (0, 6))), "")],
                    "let a = 1\n",
                ),
            ),
            (
                "multi-line replace",
                (
                    "one\ntwo\nthree\n",
                    vec![change(Some(((0, 1), (2, 2))), "X\nY")],
                    "oX\nYree\n",
                ),
            ),
            (
                "delete a line break",
                ("a\r\nb\n", vec![change(Some(((0, 1), (1, 0))), "")], "ab\n"),
            ),
            (
                "non-ASCII: UTF-16 units after an emoji and an accent",
                (
                    "// é😀x\nlet",
                    vec![change(Some(((0, 6), (0, 7))), "≥")],
                    "// é😀≥\nlet",
                ),
            ),
            (
                "several changes in sequence",
                (
                    "ab\ncd\n",
                    vec![
                        change(Some(((1, 0), (1, 2))), "CD"),
                        change(Some(((0, 0), (0, 0))), "é"),
                        change(Some(((0, 1), (0, 2))), ""),
                    ],
                    "éb\nCD\n",
                ),
            ),
            (
                "the whole text",
                ("old\n", vec![change(None, "new\n")], "new\n"),
            ),
            (
                "a reversed range",
                ("abcd", vec![change(Some(((0, 3), (0, 1))), "-")], "a-d"),
            ),
            (
                "past the end: clamped",
                ("ab\n", vec![change(Some(((0, 9), (5, 0))), "!")], "ab!"),
            ),
        ];
        for (name, (before, changes, after)) in fixtures {
            let mut text = before.to_string();
            for change in changes {
                apply_change(&mut text, change);
            }
            assert_eq!(text, after, "{name}");
        }
    }
}
