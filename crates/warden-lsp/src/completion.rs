//! Completion: what is in scope at the cursor, from the checker's index (see
//! [`crate::analysis::Indexed`]).
//!
//! Completion runs the checker on the text as it will be once a name is typed: the word
//! at the cursor (what is typed of it, and the rest of it) is replaced by the
//! placeholder name `_`. `files.` alone does not parse, `files._` does: the receiver is
//! checked and its type recorded, ending just before the `.`, and the names in scope at
//! the cursor are those in scope at the placeholder. Offsets before the cursor are
//! unchanged, so what the index records there is what the text at the cursor means.

use std::rc::Rc;

use lsp_types::{CompletionItem, CompletionItemKind, Documentation, MarkupContent, MarkupKind};

use warden::{ParseCache, SourceText};
use warden_change::RECORDS;
use warden_check::index::{Symbol, SymbolId, SymbolKind, Target};
use warden_check::ty::Type;
use warden_syntax::Span;

use crate::analysis::{
    Indexed, KEYWORDS, floor_char_boundary, in_comment, is_ident_char, std_module_names, word_at,
};

/// Completion items at `offset` of policy file `file` of `sources`; `parses` holds the
/// policy's parsed files, so that only the item being completed is parsed again.
pub fn completion(
    sources: &[SourceText],
    file: usize,
    offset: usize,
    parses: &mut ParseCache,
) -> Vec<CompletionItem> {
    let Some(source) = sources.get(file) else {
        return Vec::new();
    };
    let text = &*source.text;
    let offset = floor_char_boundary(text, offset);
    if in_comment(text, offset) {
        return Vec::new();
    }
    let start = text
        .get(..offset)
        .unwrap_or("")
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_ident_char(*c))
        .last()
        .map_or(offset, |(i, _)| i);
    let head = text.get(..start).unwrap_or("");
    let line = head.rsplit('\n').next().unwrap_or("").trim_start();
    if line.starts_with("import") && line.trim_end().ends_with("std.") {
        return std_module_names()
            .into_iter()
            .map(|name| item(name, CompletionItemKind::MODULE, None, None))
            .collect();
    }
    let end = word_at(text, start).map_or(offset, |(_, end)| end.max(offset));
    let receiver_end = head
        .strip_suffix('.')
        .map(|before_dot| before_dot.strip_suffix('?').unwrap_or(before_dot).len());
    let mut complete = |placeholder: Rc<str>| {
        let mut edited = sources.to_vec();
        let target = edited.get_mut(file)?;
        target.text = placeholder;
        let indexed = Indexed::new(&edited, parses, file, Span::new(start, start));
        match receiver_end {
            Some(receiver_end) => members(&indexed, file, receiver_end),
            None => names(&indexed, file, start),
        }
    };
    complete(replaced(text, start..end, "_"))
        .or_else(|| {
            let (item_end, closings) = closed_item(text, start, end);
            (closings.iter()).find_map(|closing| complete(replaced(text, start..item_end, closing)))
        })
        .unwrap_or_default()
}

/// `text` with `range` replaced by `with`, made at its final size: a large file's copy
/// is neither grown nor held twice more than it must be.
pub(crate) fn replaced(text: &str, range: std::ops::Range<usize>, with: &str) -> Rc<str> {
    let (before, after) = (
        text.get(..range.start).unwrap_or(""),
        text.get(range.end..).unwrap_or(""),
    );
    let mut out = String::with_capacity(before.len() + with.len() + after.len());
    out.push_str(before);
    out.push_str(with);
    out.push_str(after);
    out.into()
}

/// For an item cut short, where its text from the word at `start..end` on ends, and
/// what may replace that text: `_` and the brackets left open before it. `rule r {`
/// `when change.` being typed at the end of a file becomes `rule r {` `when change._`
/// `deny ""}`. A rule needs a demand and an exemption a `when`, so the candidates close
/// the item with nothing, a `deny`, or a `when` before its brace (the first that gives
/// an answer is used). Strings and comments are skipped; the item starts at the last
/// line before the cursor that starts with an item keyword, and ends where the next
/// starts.
fn closed_item(text: &str, start: usize, end: usize) -> (usize, Vec<String>) {
    let starts_item = |line: &str| {
        warden_syntax::ITEM_KEYWORDS.iter().any(|keyword| {
            line.strip_prefix(keyword)
                .is_some_and(|rest| !rest.starts_with(is_ident_char))
        })
    };
    let line_starts = || std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1));
    let item_start = line_starts()
        .rfind(|&i| i <= start && starts_item(text.get(i..).unwrap_or("")))
        .unwrap_or(0);
    let next_item = line_starts()
        .find(|&i| i >= end && starts_item(text.get(i..).unwrap_or("")))
        .unwrap_or(text.len());
    let mut open = Vec::new();
    let mut chars = text.get(item_start..start).unwrap_or("").chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
            }
            '/' if chars.peek() == Some(&'/') => {
                chars.by_ref().find(|&c| c == '\n');
            }
            '(' => open.push(')'),
            '[' => open.push(']'),
            '{' => open.push('}'),
            ')' | ']' | '}' if open.last() == Some(&c) => {
                open.pop();
            }
            _ => {}
        }
    }
    let Some((outer, inner)) = open.split_first() else {
        return (next_item, vec!["_\n".to_string()]);
    };
    let inner: String = inner.iter().rev().collect();
    let closings = ["", "\ndeny \"\"", "\nwhen true"]
        .iter()
        .map(|fill| format!("_{inner}{fill}\n{outer}\n"))
        .collect();
    (next_item, closings)
}

/// After `RECEIVER.`: a module's items, or a value's fields and methods; `None` when
/// the receiver was not checked.
fn members(indexed: &Indexed, file: usize, receiver_end: usize) -> Option<Vec<CompletionItem>> {
    let index = &indexed.index;
    let module = (index.references.iter())
        .filter(|r| r.file == file && r.span.end == receiver_end)
        .find_map(|r| match r.target {
            Target::Symbol(id) => indexed
                .symbol(id)
                .filter(|s| s.kind == SymbolKind::Import)
                .and_then(|s| s.module),
            _ => None,
        });
    if let Some(module) = module {
        return Some(
            (index.symbols.iter().enumerate())
                .filter(|(_, s)| s.file == module)
                .filter(|(_, s)| matches!(s.kind, SymbolKind::Global | SymbolKind::Function))
                .map(|(id, s)| symbol_item(indexed, id, s))
                .collect(),
        );
    }
    let receiver = (index.exprs.iter())
        .filter(|e| e.file == file && e.span.end == receiver_end)
        .max_by_key(|e| e.span.end - e.span.start)
        .map(|e| index.ty(e.ty).unwrap_optional().clone())?;
    let mut items = Vec::new();
    if let Type::Record(record) = receiver
        && let Some(record) = RECORDS.get(record)
    {
        items.extend(record.fields.iter().map(|f| {
            item(
                f.name.to_string(),
                CompletionItemKind::FIELD,
                Some(f.ty.to_string()),
                Some(f.doc.to_string()),
            )
        }));
    }
    items.extend(
        (warden_check::method_names(&receiver).into_iter())
            .filter_map(|name| warden_check::method_signature(&receiver, name))
            .map(|signature| signature_item(signature, CompletionItemKind::METHOD)),
    );
    Some(items)
}

/// A name at `start`: what is in scope there, or item keywords between items; `None`
/// when `start` is in no item but is not at the start of a line either (an item being
/// written that does not parse).
fn names(indexed: &Indexed, file: usize, start: usize) -> Option<Vec<CompletionItem>> {
    let index = &indexed.index;
    let within = |span: Span| span.start <= start && start <= span.end;
    if index
        .rule_lists
        .iter()
        .any(|(f, span)| *f == file && within(*span))
    {
        return Some(
            (index.symbols.iter().enumerate())
                .filter(|(_, s)| s.kind == SymbolKind::Rule)
                .map(|(id, s)| symbol_item(indexed, id, s))
                .collect(),
        );
    }
    let Some(enclosing) = indexed.enclosing_item(file, start) else {
        let text = indexed.text(file);
        let line_start = text
            .get(..start)
            .map_or(0, |t| t.rfind('\n').map_or(0, |i| i + 1));
        if !text
            .get(line_start..start)
            .is_some_and(|t| t.trim().is_empty())
        {
            return None;
        }
        return Some(
            (warden_syntax::ITEM_KEYWORDS.iter())
                .map(|keyword| {
                    let doc = (KEYWORDS.iter())
                        .find(|(k, _)| k == keyword)
                        .map(|(_, d)| d.to_string());
                    item(keyword.to_string(), CompletionItemKind::KEYWORD, None, doc)
                })
                .collect(),
        );
    };
    let mut items: Vec<CompletionItem> = Vec::new();
    // Locals visible here, the innermost of a name first.
    let mut locals: Vec<(SymbolId, &Symbol)> = (index.symbols.iter().enumerate())
        .filter(|(_, s)| {
            s.file == file
                && matches!(
                    s.kind,
                    SymbolKind::Local
                        | SymbolKind::Parameter
                        | SymbolKind::LambdaParameter
                        | SymbolKind::Implicit
                )
                && within(s.extent)
                && s.extent.start < start
                && enclosing.extent.start <= s.extent.start
                && s.name != "_"
        })
        .collect();
    locals.sort_by_key(|(_, s)| std::cmp::Reverse(s.span.start));
    let globals = (index.symbols.iter().enumerate()).filter(|(_, s)| {
        s.file == file
            && matches!(
                s.kind,
                SymbolKind::Global | SymbolKind::Function | SymbolKind::Import
            )
    });
    for (id, symbol) in locals.into_iter().chain(globals) {
        if !items.iter().any(|i| i.label == symbol.name) {
            items.push(symbol_item(indexed, id, symbol));
        }
    }
    let change = RECORDS.iter().find(|r| r.name == "Change");
    items.push(item(
        "change".to_string(),
        CompletionItemKind::VARIABLE,
        Some("Change".to_string()),
        change.map(|r| r.doc.to_string()),
    ));
    items.extend(
        (warden_check::FUNCTION_NAMES.iter())
            .filter_map(|name| warden_check::function_signature(name))
            .map(|signature| signature_item(signature, CompletionItemKind::FUNCTION)),
    );
    Some(items)
}

fn signature_item(signature: warden_check::Signature, kind: CompletionItemKind) -> CompletionItem {
    let detail = signature.label().0;
    item(
        signature.name,
        kind,
        Some(detail),
        Some(signature.doc.to_string()),
    )
}

fn symbol_item(indexed: &Indexed, id: SymbolId, symbol: &Symbol) -> CompletionItem {
    let kind = match symbol.kind {
        SymbolKind::Function => CompletionItemKind::FUNCTION,
        SymbolKind::Global => CompletionItemKind::CONSTANT,
        SymbolKind::Import => CompletionItemKind::MODULE,
        SymbolKind::Rule | SymbolKind::Exemption => CompletionItemKind::CLASS,
        _ => CompletionItemKind::VARIABLE,
    };
    item(
        symbol.name.clone(),
        kind,
        indexed.describe(id),
        symbol.doc.clone(),
    )
}

fn item(
    label: String,
    kind: CompletionItemKind,
    detail: Option<String>,
    doc: Option<String>,
) -> CompletionItem {
    CompletionItem {
        label,
        kind: Some(kind),
        detail,
        documentation: doc.map(|value| {
            Documentation::MarkupContent(MarkupContent {
                kind: MarkupKind::Markdown,
                value,
            })
        }),
        ..CompletionItem::default()
    }
}
