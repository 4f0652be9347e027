//! `textDocument/semanticTokens/full` and `…/range`: the syntax layer's highlighting
//! ([`warden_syntax::highlight`], classified by the grammar's own rules) in the
//! protocol's relative encoding, with UTF-16 columns. The legend is derived from
//! [`Class::ALL`] through [`token_kind`], the one place a class gets its token type.

use lsp_types::{Range, SemanticTokenModifier, SemanticTokenType, SemanticTokensLegend};
use warden_syntax::{Class, Highlight};

use crate::position::LineIndex;

/// The modifiers the legend declares, in the order of their bits.
const MODIFIERS: [SemanticTokenModifier; 3] = [
    SemanticTokenModifier::DECLARATION,
    SemanticTokenModifier::READONLY,
    SemanticTokenModifier::DOCUMENTATION,
];
const DECLARATION: u32 = 1;
const READONLY: u32 = 1 << 1;
const DOCUMENTATION: u32 = 1 << 2;

/// The protocol's token type and modifier bits ([`MODIFIERS`]) of a class. A rule is
/// a `class`: the standard type every theme colours that reads as a named unit; a
/// `let` is readonly, since every binding of Warden is.
fn token_kind(class: Class) -> (SemanticTokenType, u32) {
    match class {
        Class::Keyword => (SemanticTokenType::KEYWORD, 0),
        Class::Comment => (SemanticTokenType::COMMENT, 0),
        Class::DocComment => (SemanticTokenType::COMMENT, DOCUMENTATION),
        Class::String => (SemanticTokenType::STRING, 0),
        Class::Number => (SemanticTokenType::NUMBER, 0),
        Class::Operator => (SemanticTokenType::OPERATOR, 0),
        Class::RuleDeclaration => (SemanticTokenType::CLASS, DECLARATION),
        Class::Rule => (SemanticTokenType::CLASS, 0),
        Class::FunctionDeclaration => (SemanticTokenType::FUNCTION, DECLARATION),
        Class::Function => (SemanticTokenType::FUNCTION, 0),
        Class::LetDeclaration => (SemanticTokenType::VARIABLE, DECLARATION | READONLY),
        Class::Variable => (SemanticTokenType::VARIABLE, 0),
        Class::ParameterDeclaration => (SemanticTokenType::PARAMETER, DECLARATION),
        Class::Property => (SemanticTokenType::PROPERTY, 0),
        Class::Method => (SemanticTokenType::METHOD, 0),
        Class::Namespace => (SemanticTokenType::NAMESPACE, 0),
        Class::Type => (SemanticTokenType::TYPE, 0),
    }
}

/// The token types in legend order: each type once, in the order of [`Class::ALL`].
fn token_types() -> Vec<SemanticTokenType> {
    let mut types: Vec<SemanticTokenType> = Vec::new();
    for class in Class::ALL {
        let (kind, _) = token_kind(class);
        if !types.contains(&kind) {
            types.push(kind);
        }
    }
    types
}

/// The legend the server advertises.
pub fn legend() -> SemanticTokensLegend {
    SemanticTokensLegend {
        token_types: token_types(),
        token_modifiers: MODIFIERS.to_vec(),
    }
}

/// The semantic tokens of a file, or of the lines `range` touches: the JSON text of a
/// `SemanticTokens` result, each token written as it is found (a large file's tokens,
/// collected and then serialized, took three times the memory of that text).
pub fn semantic_tokens(text: &str, range: Option<Range>) -> String {
    use std::fmt::Write as _;
    let types = token_types();
    let lines = LineIndex::new(text);
    let mut out = String::from("{\"data\":[");
    let (mut line, mut column) = (0, 0);
    warden_syntax::highlight_each(text, |Highlight { span, class }| {
        let at = lines.range(span);
        if let Some(range) = range
            && (at.end <= range.start || at.start >= range.end)
        {
            return;
        }
        let (kind, modifiers) = token_kind(class);
        let delta_line = at.start.line - line;
        let delta_start = if delta_line == 0 {
            at.start.character - column
        } else {
            at.start.character
        };
        (line, column) = (at.start.line, at.start.character);
        // Tokens never span a line end.
        let length = at.end.character.saturating_sub(at.start.character);
        let token_type = (types.iter().position(|t| *t == kind)).map_or(0, |i| i as u32);
        let comma = if out.ends_with('[') { "" } else { "," };
        // Writing to a `String` cannot fail.
        let _ = write!(
            out,
            "{comma}{delta_line},{delta_start},{length},{token_type},{modifiers}"
        );
    });
    out.push_str("]}");
    out
}
