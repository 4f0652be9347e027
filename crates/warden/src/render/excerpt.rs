//! What a diagnostic shows of its file: the lines around its labels, a long line cut to
//! a window around them. miette renders from this excerpt instead of the whole file, so
//! rendering costs the size of what is shown: linear in the number of diagnostics, and
//! a line of 45 MB is shown as [`MAX_LINE_CHARS`] characters.

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

use crate::lines::{Lines, floor_boundary};

/// Lines shown before and after the lines of a label (miette's default).
pub(super) const CONTEXT_LINES: usize = 1;

/// The most characters shown of one line; a longer line is cut around its labels.
pub(super) const MAX_LINE_CHARS: usize = 120;

/// Characters kept before the first label on a cut line.
const LEAD_CHARS: usize = MAX_LINE_CHARS / 3;

/// Marks where a long line was cut.
const CUT: &str = "…";

/// The lines a diagnostic shows, as a text of their own that miette reads through
/// [`SourceCode`], with each line's place in the file for line numbers and columns.
pub(super) struct Excerpt<'a> {
    name: &'a str,
    text: String,
    lines: Vec<ShownLine>,
    /// Where each span starts in the excerpt, and its column (characters) in the file:
    /// a start cut from its line is shown at a cut mark, but its header says where it is.
    starts: Vec<(usize, usize)>,
}

/// One line of an [`Excerpt`].
struct ShownLine {
    /// Where the line starts in the excerpt, where its text from the file starts (after
    /// a cut mark), and where the next line starts.
    start: usize,
    from: usize,
    end: usize,
    /// The line's number (0-based) and the column (characters) of `from` in the file.
    number: usize,
    column: usize,
    /// The bytes of the file shown on this line.
    shown: (usize, usize),
    /// Lines next to each other in the file share a block; miette never joins blocks.
    block: usize,
}

impl<'a> Excerpt<'a> {
    /// The excerpt of `file` (named `name`) around `spans` (byte ranges in the file),
    /// and the spans in the excerpt's text.
    pub(super) fn new(
        name: &'a str,
        file: &Lines<'_>,
        spans: &[(usize, usize)],
    ) -> (Excerpt<'a>, Vec<(usize, usize)>) {
        let last_line = file.line(file.text().len());
        let spans: Vec<(usize, usize)> = spans
            .iter()
            .map(|&(start, end)| {
                let start = floor_boundary(file.text(), start);
                (start, floor_boundary(file.text(), end).max(start))
            })
            .collect();
        // The lines of each span with their context, merged into blocks of adjacent lines.
        let mut blocks: Vec<(usize, usize)> = spans
            .iter()
            .map(|&(start, end)| {
                let first = file.line(start);
                let last = if end > start {
                    file.line(end - 1)
                } else {
                    first
                };
                (
                    first.saturating_sub(CONTEXT_LINES),
                    (last + CONTEXT_LINES).min(last_line),
                )
            })
            .collect();
        blocks.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(blocks.len());
        for (first, last) in blocks {
            match merged.last_mut() {
                Some(block) if first <= block.1 + 1 => block.1 = block.1.max(last),
                _ => merged.push((first, last)),
            }
        }

        let mut excerpt = Excerpt {
            name,
            text: String::new(),
            lines: Vec::new(),
            starts: Vec::with_capacity(spans.len()),
        };
        for (block, &(first, last)) in merged.iter().enumerate() {
            for number in first..=last {
                excerpt.push_line(file, number, block, &spans);
            }
        }
        let mapped = spans
            .iter()
            .map(|&(start, end)| {
                let mapped_start = excerpt.map(file, start);
                excerpt
                    .starts
                    .push((mapped_start, file.line_column(start).1 - 1));
                (mapped_start, excerpt.map(file, end).max(mapped_start))
            })
            .collect();
        (excerpt, mapped)
    }

    /// Appends line `number` of `file`, cut around the parts of `spans` on it when long.
    fn push_line(
        &mut self,
        file: &Lines<'_>,
        number: usize,
        block: usize,
        spans: &[(usize, usize)],
    ) {
        let (line_start, line_end) = file.line_range(number);
        let line = &file.text()[line_start..line_end];
        let (shown_start, shown_end) = if line.chars().nth(MAX_LINE_CHARS).is_none() {
            (line_start, line_end)
        } else {
            // The window starts a little before the first label on the line, in the
            // diagnostic's order, so the primary label is shown when it is on the line (a
            // label that began on an earlier line counts from the line's start).
            let focus = spans
                .iter()
                .find(|&&(start, end)| start <= line_end && end >= line_start)
                .map_or(line_start, |&(start, _)| start.max(line_start));
            let shown_start = file.text()[line_start..focus]
                .char_indices()
                .rev()
                .nth(LEAD_CHARS - 1)
                .map_or(line_start, |(i, _)| line_start + i);
            match file.text()[shown_start..line_end]
                .char_indices()
                .nth(MAX_LINE_CHARS)
            {
                Some((i, _)) => (shown_start, shown_start + i),
                // Near the end of the line: the window is its last characters.
                None => {
                    let shown_start = file.text()[line_start..line_end]
                        .char_indices()
                        .rev()
                        .nth(MAX_LINE_CHARS - 1)
                        .map_or(line_start, |(i, _)| line_start + i);
                    (shown_start, line_end)
                }
            }
        };
        let start = self.text.len();
        if shown_start > line_start {
            self.text.push_str(CUT);
        }
        let from = self.text.len();
        self.text.push_str(&file.text()[shown_start..shown_end]);
        if shown_end < line_end {
            self.text.push_str(CUT);
        }
        if line_end < file.text().len() {
            self.text.push('\n');
        }
        self.lines.push(ShownLine {
            start,
            from,
            end: self.text.len(),
            number,
            column: file.line_column(shown_start).1 - 1,
            shown: (shown_start, shown_end),
            block,
        });
    }

    /// Where `offset` of the file is in the excerpt; a place cut from its line maps to
    /// the nearest cut mark.
    fn map(&self, file: &Lines<'_>, offset: usize) -> usize {
        let number = file.line(offset);
        let index = self.lines.partition_point(|line| line.number < number);
        let Some(line) = self.lines.get(index).filter(|line| line.number == number) else {
            return self.text.len();
        };
        let (shown_start, shown_end) = line.shown;
        if offset < shown_start {
            line.start
        } else {
            line.from + (offset.min(shown_end) - shown_start)
        }
    }

    /// The index of the line that holds `offset` of the excerpt's text.
    fn line_at(&self, offset: usize) -> usize {
        self.lines
            .partition_point(|line| line.end <= offset)
            .min(self.lines.len().saturating_sub(1))
    }
}

impl SourceCode for Excerpt<'_> {
    fn read_span<'s>(
        &'s self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'s> + 's>, MietteError> {
        let start = span.offset();
        let end = start + span.len();
        let first = self.line_at(start);
        let last = self.line_at(if end > start { end - 1 } else { start });
        let (Some(first_line), Some(last_line)) = (self.lines.get(first), self.lines.get(last))
        else {
            return Err(MietteError::OutOfBounds);
        };
        // Lines apart in the file are never shown as one block (miette tries to join
        // the contexts of nearby labels and falls back to separate blocks).
        if first_line.block != last_line.block {
            return Err(MietteError::OutOfBounds);
        }
        let in_block = |index: &usize| {
            self.lines
                .get(*index)
                .is_some_and(|line| line.block == first_line.block)
        };
        let shown_first = (first.saturating_sub(context_lines_before)..=first)
            .find(in_block)
            .unwrap_or(first);
        let shown_last = (last..=last + context_lines_after)
            .rev()
            .find(in_block)
            .unwrap_or(last);
        let (Some(from), Some(to)) = (self.lines.get(shown_first), self.lines.get(shown_last))
        else {
            return Err(MietteError::OutOfBounds);
        };
        // The column of the span's start when no line before it is shown: miette puts
        // it in the `file:line:column` header.
        let column = if shown_first == first {
            self.starts
                .iter()
                .find(|(mapped, _)| *mapped == start)
                .map_or(first_line.column, |&(_, column)| column)
        } else {
            0
        };
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.to_string(),
            &self.text.as_bytes()[from.start..to.end],
            SourceSpan::from((from.start, to.end - from.start)),
            from.number,
            column,
            shown_last - shown_first + 1,
        )))
    }
}
