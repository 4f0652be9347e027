//! Lines and columns of byte offsets, from an index of a text's lines built once (the
//! `line-index` crate, rust-analyzer's): columns in characters for Warden's locations,
//! in UTF-16 code units for the language server.

use line_index::{LineCol, LineIndex, TextSize, WideEncoding, WideLineCol};

/// What a column counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// Characters (Unicode scalar values), as every location Warden reports.
    Chars,
    /// UTF-16 code units, the only unit every LSP client understands.
    Utf16,
}

impl Column {
    fn encoding(self) -> WideEncoding {
        match self {
            Column::Chars => WideEncoding::Utf32,
            Column::Utf16 => WideEncoding::Utf16,
        }
    }
}

/// A text with the index of its lines: each conversion costs O(log lines), plus the
/// non-ASCII characters of its line.
#[derive(Debug)]
pub struct Lines<'a> {
    text: &'a str,
    index: LineIndex,
}

impl<'a> Lines<'a> {
    pub fn new(text: &'a str) -> Self {
        // `LineIndex` counts in `u32` (and asserts it); Warden reads no file that large,
        // but a text handed to `analyze` or the language server might be: its tail then
        // counts as part of its last indexed line.
        let text = text
            .get(..floor_boundary(text, u32::MAX as usize - 1))
            .unwrap_or("");
        Lines {
            text,
            index: LineIndex::new(text),
        }
    }

    /// The indexed text.
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// The line (0-based) and byte column of `offset`, clamped to the text and moved
    /// back to the start of its character.
    fn line_col(&self, offset: usize) -> LineCol {
        let offset = floor_boundary(self.text, offset);
        self.index
            .try_line_col(TextSize::new(offset as u32))
            .unwrap_or(LineCol { line: 0, col: 0 })
    }

    /// The 0-based line and column of `offset`, clamped to the text; an offset inside
    /// a multi-byte character counts as the start of that character.
    pub fn position(&self, offset: usize, column: Column) -> (u32, u32) {
        let position = self.line_col(offset);
        let wide = self
            .index
            .to_wide(column.encoding(), position)
            .map_or(position.col, |wide| wide.col);
        (position.line, wide)
    }

    /// 1-based line and column (in characters) of `offset`, as Warden reports them.
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        let (line, column) = self.position(offset, Column::Chars);
        (line as usize + 1, column as usize + 1)
    }

    /// The 0-based line of `offset`.
    pub fn line(&self, offset: usize) -> usize {
        self.line_col(offset).line as usize
    }

    /// The byte range of 0-based `line`, without its newline; the end of the text for a
    /// line past it.
    pub fn line_range(&self, line: usize) -> (usize, usize) {
        let Some(range) = u32::try_from(line).ok().and_then(|l| self.index.line(l)) else {
            return (self.text.len(), self.text.len());
        };
        let (start, end) = (usize::from(range.start()), usize::from(range.end()));
        let end = if self.text[start..end].ends_with('\n') {
            end - 1
        } else {
            end
        };
        (start, end)
    }

    /// The byte offset of 0-based `line` and `column`. A line past the end gives the
    /// end of the text; a column past the end of its line gives the end of that line
    /// (before `\r\n` or `\n`); a column inside a character (a UTF-16 surrogate pair)
    /// gives the character's start.
    pub fn offset(&self, line: u32, column: u32, unit: Column) -> usize {
        let (start, end) = self.line_range(line as usize);
        let end = if self.text[start..end].ends_with('\r') {
            end - 1
        } else {
            end
        };
        let byte_column = self
            .index
            .to_utf8(unit.encoding(), WideLineCol { line, col: column })
            .map_or(usize::MAX, |position| position.col as usize);
        floor_boundary(self.text, start.saturating_add(byte_column).min(end))
    }
}

/// The largest character boundary of `text` at or before `offset`.
pub(crate) fn floor_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}
