//! `textDocument/codeAction`: quick fixes for the checker's diagnostics of a file —
//! apply a replacement the diagnostic proposes ("did you mean", `?.`, a default with
//! `??`: its structured suggestions, one action each), remove an unused
//! `let`, function or import (the item the diagnostic points into, found in the parsed
//! file).

use std::collections::HashMap;
use warden::Code;

use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, Diagnostic, NumberOrString, Range, TextEdit,
    Uri, WorkspaceEdit,
};
use warden::Analysis;
use warden_syntax::ast::{Item, LetItem};
use warden_syntax::{FileId, RuleBodies, Span};

use crate::position::LineIndex;

/// The quick fixes for the diagnostics of file `file` of `analysis` whose range
/// touches `range`. `reported` are the diagnostics the client sent along: a fix names
/// the one it resolves.
pub fn code_actions(
    analysis: &Analysis,
    file: usize,
    uri: &Uri,
    range: Range,
    reported: &[Diagnostic],
) -> Vec<CodeActionOrCommand> {
    let text = analysis.text(FileId(file as u32));
    let index = LineIndex::new(text);
    // A rule's tree is read only for a diagnostic inside it.
    let (module, _) = warden_syntax::parse_for(text, FileId(0), RuleBodies::Outlined);
    let mut out = Vec::new();
    for diagnostic in &analysis.diagnostics {
        let Some(label) = diagnostic.primary() else {
            continue;
        };
        let at = index.range(label.span);
        if label.file.0 as usize != file || at.end < range.start || range.end < at.start {
            continue;
        }
        let mut fixes: Vec<(String, TextEdit)> = (diagnostic.suggestions.iter())
            .map(|(span, replacement)| {
                // A title is one line: a replacement over several shows its words.
                let words: Vec<&str> = replacement.split_whitespace().collect();
                (
                    format!("Replace with `{}`", words.join(" ")),
                    TextEdit::new(index.range(*span), replacement.clone()),
                )
            })
            .collect();
        if fixes.is_empty()
            && removes_an_item(diagnostic)
            && let Some((what, span)) = innermost_item(text, &module.items, label.span)
        {
            let whole = index.range(whole_lines(text, span));
            fixes.push((
                format!("Remove the unused {what}"),
                TextEdit::new(whole, String::new()),
            ));
        }
        let resolves = reported.iter().find(|r| {
            r.range == at && r.code == Some(NumberOrString::String(diagnostic.code.to_string()))
        });
        // The first choice is the preferred one (`?? false` before `?? true`).
        for (choice, (title, edit)) in fixes.into_iter().enumerate() {
            out.push(CodeActionOrCommand::CodeAction(CodeAction {
                title,
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: resolves.map(|r| vec![r.clone()]),
                edit: Some(WorkspaceEdit {
                    changes: Some(HashMap::from([(uri.clone(), vec![edit])])),
                    ..WorkspaceEdit::default()
                }),
                is_preferred: Some(choice == 0),
                ..CodeAction::default()
            }));
        }
    }
    out
}

/// Whether a diagnostic may have a quick fix: a replacement, or the removal of the
/// unused item it points into.
pub fn has_fix(diagnostic: &warden_syntax::Diagnostic) -> bool {
    !diagnostic.suggestions.is_empty() || removes_an_item(diagnostic)
}

fn removes_an_item(diagnostic: &warden_syntax::Diagnostic) -> bool {
    matches!(
        diagnostic.code,
        Code::UnusedLet | Code::UnusedFunction | Code::UnusedImport
    )
}

/// The innermost `let`, function or import whose span holds `span`, and what it is;
/// `items` are those of `text`, with rule outlines.
fn innermost_item(text: &str, items: &[Item], span: Span) -> Option<(&'static str, Span)> {
    let holds = |outer: Span| outer.start <= span.start && span.end <= outer.end;
    let in_lets = |lets: &[LetItem]| {
        lets.iter()
            .find(|l| holds(l.span))
            .map(|l| ("`let`", l.span))
    };
    items.iter().find_map(|item| match item {
        Item::Import(import) if holds(import.span) => Some(("import", import.span)),
        Item::Let(l) if holds(l.span) => Some(("`let`", l.span)),
        Item::Fn(f) if holds(f.span) => in_lets(&f.body.lets).or(Some(("function", f.span))),
        Item::Rule(rule) if holds(rule.span) => in_lets(&rule.lets),
        Item::RuleOutline(outline) if holds(outline.span) => {
            let rule = warden_syntax::parse_rule(text, FileId(0), outline)?;
            in_lets(&rule.lets)
        }
        Item::Exempt(exempt) if holds(exempt.span) => in_lets(&exempt.lets),
        _ => None,
    })
}

/// `span` grown to the whole lines it stands on when no other code shares them, with
/// the `///` doc comment above it and a comment ending its line: removing an item
/// leaves no blank line behind.
fn whole_lines(text: &str, span: Span) -> Span {
    let line_start = text
        .get(..span.start)
        .and_then(|t| t.rfind('\n'))
        .map_or(0, |i| i + 1);
    let before = text.get(line_start..span.start).unwrap_or_default();
    let line_end = text
        .get(span.end..)
        .and_then(|t| t.find('\n'))
        .map_or(text.len(), |i| span.end + i + 1);
    let after = text.get(span.end..line_end).unwrap_or_default().trim();
    // A comment ending the item's line is about the item: it goes with it.
    if !before.trim().is_empty() || !(after.is_empty() || after.starts_with("//")) {
        return span;
    }
    let mut start = line_start;
    // Doc comment lines above belong to the item.
    while start > 0 {
        let previous = text
            .get(..start - 1)
            .and_then(|t| t.rfind('\n'))
            .map_or(0, |i| i + 1);
        let line = text.get(previous..start).unwrap_or_default();
        if !line.trim_start().starts_with("///") {
            break;
        }
        start = previous;
    }
    // Between two blank lines (or after the start of the file), one of them goes too.
    let blank_before = start == 0 || text.get(..start).is_some_and(|t| t.ends_with("\n\n"));
    let next_line_end = text
        .get(line_end..)
        .and_then(|t| t.find('\n'))
        .map(|i| line_end + i + 1);
    let end = match next_line_end {
        Some(end)
            if blank_before && text.get(line_end..end).is_some_and(|l| l.trim().is_empty()) =>
        {
            end
        }
        _ => line_end,
    };
    Span::new(start, end)
}
