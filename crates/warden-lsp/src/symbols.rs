//! `textDocument/documentSymbol` and `workspace/symbol`: the items of the parsed
//! module (an item that failed to parse is left out, its diagnostic already shown).

use lsp_types::{DocumentSymbol, Location, SymbolInformation, SymbolKind, Uri};
use warden::SourceText;
use warden_syntax::ast::{ImportTarget, Item, LetItem};
use warden_syntax::{FileId, Span};

use crate::position::LineIndex;

/// The outline of one file: its items in source order, a rule's or an exemption's
/// `let`s as its children.
pub fn document_symbols(text: &str) -> Vec<DocumentSymbol> {
    let index = LineIndex::new(text);
    let symbol = |name: String, detail: Option<String>, kind, span, name_span, children| {
        #[allow(deprecated)] // `deprecated` is a required field of the type.
        DocumentSymbol {
            name,
            detail,
            kind,
            tags: None,
            deprecated: None,
            range: index.range(span),
            selection_range: index.range(name_span),
            children,
        }
    };
    let lets = |lets: &[LetItem]| -> Option<Vec<DocumentSymbol>> {
        let children: Vec<DocumentSymbol> = lets
            .iter()
            .map(|l| {
                let name = l.name.name.clone();
                symbol(name, None, SymbolKind::VARIABLE, l.span, l.name.span, None)
            })
            .collect();
        (!children.is_empty()).then_some(children)
    };
    let mut out = Vec::new();
    warden_syntax::parse_each_item(text, FileId(0), |item| {
        out.push(match item {
            Item::Import(import) => {
                let (target, target_span) = match &import.target {
                    ImportTarget::Std(segments) => {
                        let names: Vec<&str> = segments.iter().map(|s| s.name.as_str()).collect();
                        let span = match (segments.first(), segments.last()) {
                            (Some(first), Some(last)) => Span::new(first.span.start, last.span.end),
                            _ => import.span,
                        };
                        (format!("std.{}", names.join(".")), span)
                    }
                    ImportTarget::File { path, span } => (format!("\"{path}\""), *span),
                };
                let (name, name_span) = match &import.alias {
                    Some(alias) => (alias.name.clone(), alias.span),
                    None => (target.clone(), target_span),
                };
                let detail = import.alias.as_ref().map(|_| target);
                symbol(
                    name,
                    detail,
                    SymbolKind::MODULE,
                    import.span,
                    name_span,
                    None,
                )
            }
            Item::Let(l) => symbol(
                l.name.name.clone(),
                None,
                SymbolKind::CONSTANT,
                l.span,
                l.name.span,
                None,
            ),
            Item::Fn(f) => symbol(
                f.name.name.clone(),
                None,
                SymbolKind::FUNCTION,
                f.span,
                f.name.span,
                None,
            ),
            Item::Rule(rule) => symbol(
                rule.name.name.clone(),
                Some(
                    if rule.advisory {
                        "advisory rule"
                    } else {
                        "rule"
                    }
                    .to_string(),
                ),
                SymbolKind::CLASS,
                rule.span,
                rule.name.span,
                lets(&rule.lets),
            ),
            Item::Exempt(exempt) => {
                let rules: Vec<&str> = exempt.rules.iter().map(|r| r.name.as_str()).collect();
                symbol(
                    exempt.name.name.clone(),
                    Some(format!("exempt from {}", rules.join(", "))),
                    SymbolKind::INTERFACE,
                    exempt.span,
                    exempt.name.span,
                    lets(&exempt.lets),
                )
            }
            Item::Policy(policy) => {
                let keyword = Span::new(policy.span.start, policy.span.start + "policy".len());
                let name = "policy".to_string();
                symbol(
                    name,
                    None,
                    SymbolKind::NAMESPACE,
                    policy.span,
                    keyword,
                    None,
                )
            }
            // Not reached: `parse_each_item` gives each rule's tree.
            Item::Error(_) | Item::RuleOutline(_) => return,
        });
    });
    out
}

/// The symbols of every policy file whose name contains `query` (ignoring case), a
/// child named with its parent as container; in file order, then source order.
pub fn workspace_symbols(files: &[(Uri, &SourceText)], query: &str) -> Vec<SymbolInformation> {
    let query = query.to_lowercase();
    let mut out = Vec::new();
    for (uri, source) in files {
        for symbol in document_symbols(&source.text) {
            let children = symbol.children.clone().unwrap_or_default();
            let parent = symbol.name.clone();
            for (symbol, container) in std::iter::once((symbol, None))
                .chain(children.into_iter().map(|c| (c, Some(parent.clone()))))
            {
                if !symbol.name.to_lowercase().contains(&query) {
                    continue;
                }
                #[allow(deprecated)] // `deprecated` is a required field of the type.
                out.push(SymbolInformation {
                    name: symbol.name,
                    kind: symbol.kind,
                    tags: None,
                    deprecated: None,
                    location: Location::new((*uri).clone(), symbol.range),
                    container_name: container,
                });
            }
        }
    }
    out
}
