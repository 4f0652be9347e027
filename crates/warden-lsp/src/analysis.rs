//! The pure core of the language server: from policy sources and a byte offset to
//! diagnostics, hovers, definitions, references, renames, highlights, inlay hints and
//! signature help (completion is in [`crate::completion`]). No IO and no protocol
//! state, so every feature is tested directly. The position features answer from the
//! checker's own index (`warden_check::index`), built by [`Indexed::new`]: what a name
//! is, its type, where it is defined and used, and which names are visible where.
//! Nothing here guesses types from text; the only reading of text is finding the word
//! or `.` at a position.

use lsp_types::{
    Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString, Uri,
};
use warden::{Analysis, ParseCache, Severity, SourceText};
use warden_change::RECORDS;
use warden_check::index::{Index, Symbol, SymbolId, SymbolKind, Target, TypeId};
use warden_check::ty::Type;
use warden_syntax::{FileId, Span};

use crate::position::LineIndex;

/// Every keyword of the grammar, with the one-line explanation shown on hover (the
/// test `keyword_docs_are_the_grammars_keywords` checks it against `grammar/warden.pest`).
pub const KEYWORDS: &[(&str, &str)] = &[
    (
        "import",
        "`import std.NAME` or `import \"path.warden\" [as NAME]`: use the items of another module as `NAME.item`.",
    ),
    (
        "as",
        "`import … as NAME`: the name the imported module's items are used with.",
    ),
    (
        "let",
        "`let NAME = EXPR`: a named value (top level: evaluated at most once, on first use).",
    ),
    (
        "fn",
        "`fn NAME(P: TYPE, …) -> TYPE = EXPR`: a function (never recursive).",
    ),
    (
        "rule",
        "`rule NAME [advisory] [overridable …] { lets, when, demands, message }`: a rule of the policy.",
    ),
    (
        "exempt",
        "`exempt NAME from RULE, … { when COND }`: the named rules are `exempted` when the condition holds.",
    ),
    (
        "from",
        "Names the rules of an exemption, or the approvers of an approval requirement.",
    ),
    (
        "policy",
        "`policy { … }`: policy-wide defaults (override default, approval after last push); at most one.",
    ),
    (
        "when",
        "The rule's applicability condition; without it the rule applies to every change.",
    ),
    (
        "require",
        "`require APPROVAL` (pending until met), `require EXPR else TEMPLATE` (pending with the message) or `require EXPR else deny TEMPLATE` (violated with the message).",
    ),
    (
        "deny",
        "`deny TEMPLATE [unless APPROVAL]`: the rule is violated (unless the approval requirement is met).",
    ),
    (
        "unless",
        "`deny … unless APPROVAL`: the approval requirement that turns a violation into satisfied.",
    ),
    (
        "else",
        "`require EXPR else [deny] TEMPLATE` / `if … then … else …`: the alternative.",
    ),
    (
        "approval",
        "`N approval[s] from SET [where COND] [allow stale]`: an approval requirement; N is a number or `(EXPR)`.",
    ),
    (
        "approvals",
        "`N approvals from SET [where COND] [allow stale]`: an approval requirement; N is a number or `(EXPR)`.",
    ),
    (
        "each",
        "`from each team in EXPR` / `from each user in EXPR`: N approvals from every team or user of the list.",
    ),
    (
        "in",
        "`a in xs`: list membership (or substring on strings); `each team in EXPR`.",
    ),
    (
        "where",
        "A condition: on approvers (`approver` is bound) or on overrides (`override` is bound).",
    ),
    (
        "allow",
        "`allow stale`: approvals of earlier revisions count for this requirement.",
    ),
    (
        "stale",
        "`allow stale`: approvals of earlier revisions count for this requirement.",
    ),
    (
        "advisory",
        "An advisory rule is reported but never changes the verdict.",
    ),
    (
        "overridable",
        "`overridable [by SET] [where COND]`: the rule can be set aside by a break-glass override.",
    ),
    ("by", "`overridable by SET`: who may override."),
    (
        "not",
        "Logical negation; `not overridable`: no override ever applies to the rule.",
    ),
    ("and", "Logical and (short-circuit)."),
    ("or", "Logical or (short-circuit)."),
    ("true", "The boolean true."),
    ("false", "The boolean false."),
    (
        "if",
        "`if COND then A else B`: a conditional expression (does not narrow optionals: use `??`).",
    ),
    (
        "then",
        "`if COND then A else B`: the value when the condition holds.",
    ),
    (
        "matches",
        "`s matches g`: the string matches the glob (a `glob` or a string literal).",
    ),
    (
        "matches_regex",
        "`s matches_regex r`: unanchored regular-expression search.",
    ),
    ("within", "`t within w`: `w.start <= t < w.end`."),
    ("anyone", "The approver set of every known human principal."),
    (
        "message",
        "`message TEMPLATE`: the rule's headline; `{expr}` interpolates.",
    ),
    (
        "null",
        "The missing value: compare with `x == null`, `x != null`.",
    ),
    (
        "std",
        "`import std.NAME`: a module of the standard library.",
    ),
    (
        "team",
        "`from each team in EXPR`: N approvals from every team of the list.",
    ),
    (
        "user",
        "`from each user in EXPR`: N approvals from every principal of the list.",
    ),
    (
        "after",
        "`require approval after last push` (in `policy`): only approvals given after the last push count.",
    ),
    (
        "last",
        "`require approval after last push` (in `policy`): only approvals given after the last push count.",
    ),
    (
        "push",
        "`require approval after last push` (in `policy`): only approvals given after the last push count.",
    ),
    ("list", "`list<T>`: the type of lists of `T`."),
    ("map", "`map<T>`: the type of maps from strings to `T`."),
];

// ---------------------------------------------------------------------------------------
// Diagnostics

/// LSP diagnostics of a policy analysis, grouped by policy file (the indexes of
/// `analysis.files` that are not standard modules). `uri` names a policy file;
/// diagnostics without a place in a policy file go to `fallback`.
pub fn lsp_diagnostics(
    analysis: &Analysis,
    uri: &dyn Fn(usize) -> Option<Uri>,
    fallback: usize,
) -> Vec<(usize, Vec<Diagnostic>)> {
    let policy_files: Vec<usize> = (0..analysis.files.len())
        .filter(|&i| analysis.files.get(i).is_some_and(|f| !f.std))
        .collect();
    let mut out: Vec<(usize, Vec<Diagnostic>)> =
        policy_files.iter().map(|&i| (i, Vec::new())).collect();
    let is_policy = |file: FileId| policy_files.contains(&(file.0 as usize));
    // Each file's line index is built once, when a diagnostic first needs it.
    let mut indexes: Vec<Option<LineIndex<'_>>> = std::iter::repeat_with(|| None)
        .take(analysis.files.len())
        .collect();
    let mut lsp_range = |file: FileId, span: Span| match indexes.get_mut(file.0 as usize) {
        Some(index) => index
            .get_or_insert_with(|| LineIndex::new(analysis.text(file)))
            .range(span),
        None => lsp_types::Range::default(),
    };
    for diagnostic in &analysis.diagnostics {
        let primary = diagnostic.primary();
        let (file, range, mut message) = match primary {
            Some(label) if is_policy(label.file) => (
                label.file.0 as usize,
                lsp_range(label.file, label.span),
                diagnostic.message.clone(),
            ),
            Some(label) => (
                fallback,
                lsp_types::Range::default(),
                format!(
                    "{}: {}",
                    place(analysis, label.file, label.span),
                    diagnostic.message
                ),
            ),
            None => (
                fallback,
                lsp_types::Range::default(),
                diagnostic.message.clone(),
            ),
        };
        let mut related = Vec::new();
        if let Some(label) = primary
            && !label.message.is_empty()
            && label.message != diagnostic.message
        {
            message.push_str(&format!("\n{}", label.message));
        }
        for label in diagnostic.labels.iter().skip(1) {
            match uri(label.file.0 as usize).filter(|_| is_policy(label.file)) {
                Some(uri) => {
                    related.push(DiagnosticRelatedInformation {
                        location: Location::new(uri, lsp_range(label.file, label.span)),
                        message: if label.message.is_empty() {
                            "see here".to_string()
                        } else {
                            label.message.clone()
                        },
                    });
                }
                None => message.push_str(&format!(
                    "\nnote: {}: {}",
                    place(analysis, label.file, label.span),
                    label.message
                )),
            }
        }
        if let Some(help) = &diagnostic.help {
            message.push_str(&format!("\nhelp: {help}"));
        }
        let lsp = Diagnostic {
            range,
            severity: Some(match diagnostic.severity {
                Severity::Error => DiagnosticSeverity::ERROR,
                Severity::Warning => DiagnosticSeverity::WARNING,
            }),
            code: Some(NumberOrString::String(diagnostic.code.to_string())),
            source: Some("warden".to_string()),
            message,
            related_information: (!related.is_empty()).then_some(related),
            ..Diagnostic::default()
        };
        if let Some((_, list)) = out.iter_mut().find(|(i, _)| *i == file) {
            list.push(lsp);
        } else {
            out.push((file, vec![lsp]));
        }
    }
    out
}

/// `path:line:column` (1-based) of a span, for places that have no URI.
fn place(analysis: &Analysis, file: FileId, span: Span) -> String {
    let position = LineIndex::new(analysis.text(file)).position(span.start);
    format!(
        "{}:{}:{}",
        analysis.path(file),
        position.line + 1,
        position.character + 1
    )
}

// ---------------------------------------------------------------------------------------
// Reading the text around a position

pub(crate) fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The identifier that contains `offset` or ends at it: its byte range.
pub(crate) fn word_at(text: &str, offset: usize) -> Option<(usize, usize)> {
    let offset = floor_char_boundary(text, offset);
    let start = text
        .get(..offset)?
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_ident_char(*c))
        .last()
        .map_or(offset, |(i, _)| i);
    let end = offset
        + text
            .get(offset..)?
            .chars()
            .take_while(|c| is_ident_char(*c))
            .map(char::len_utf8)
            .sum::<usize>();
    let word = text.get(start..end)?;
    (!word.is_empty() && !word.starts_with(|c: char| c.is_ascii_digit())).then_some((start, end))
}

pub(crate) fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Whether `offset` is inside a `//` comment.
pub(crate) fn in_comment(text: &str, offset: usize) -> bool {
    let offset = floor_char_boundary(text, offset);
    let line_start = text
        .get(..offset)
        .and_then(|t| t.rfind('\n'))
        .map_or(0, |i| i + 1);
    let line = text.get(line_start..offset).unwrap_or("");
    warden_syntax::comment_start(line).is_some()
}

/// The names of the standard modules, as imported (`ai`, `approvers`, …).
pub fn std_module_names() -> Vec<String> {
    warden::stdlib::MODULES
        .iter()
        .map(|(path, _)| {
            let path = path.trim_start_matches("std/");
            path.strip_suffix(".warden")
                .unwrap_or(path)
                .replace('/', ".")
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// The checker's index of a policy

/// A policy analysed with the checker's index. `files` of the analysis are the policy
/// files (in the order given) and then the standard modules they import.
pub struct Indexed {
    pub analysis: Analysis,
    pub(crate) index: Index,
    /// How many of the analysis' files are policy files.
    policy_files: usize,
}

/// A name or definition at a position: where it is written, what it is, its type.
struct Found {
    span: Span,
    target: Target,
    ty: Option<Type>,
}

impl Indexed {
    /// The analysis of `sources`, parsing only what `parses` does not hold. Its index
    /// answers requests over `span` of policy file `file` (of a large policy, only
    /// there and where [`Indexed::answers`] says).
    pub fn new(
        sources: &[SourceText],
        parses: &mut ParseCache,
        file: usize,
        span: Span,
    ) -> Indexed {
        let mut analysis = warden::analyze_indexed_cached(sources, parses, Some((file, span)));
        let index = analysis.index.take().unwrap_or_default();
        Indexed {
            analysis,
            index,
            policy_files: sources.len(),
        }
    }

    /// Whether the index holds what a request over `span` of `file` reads.
    pub fn answers(&self, file: usize, span: Span) -> bool {
        self.index.answers(file, span)
    }

    pub(crate) fn text(&self, file: usize) -> &str {
        self.analysis.text(FileId(file as u32))
    }

    pub(crate) fn symbol(&self, id: SymbolId) -> Option<&Symbol> {
        self.index.symbols.get(id)
    }

    /// The type a symbol's `ty` names.
    pub(crate) fn ty(&self, id: Option<TypeId>) -> Option<Type> {
        id.map(|id| self.index.ty(id))
    }

    /// The innermost use or definition of a name that covers `offset` (or ends at it).
    fn at(&self, file: usize, offset: usize) -> Option<Found> {
        let covers = |span: Span| span.start <= offset && offset <= span.end;
        let reference = (self.index.references.iter())
            .filter(|r| r.file == file && covers(r.span))
            .min_by_key(|r| (r.span.end - r.span.start, usize::from(r.span.end == offset)));
        if let Some(reference) = reference {
            let ty = match &reference.target {
                Target::Symbol(id) => self.symbol(*id).and_then(|s| self.ty(s.ty)),
                _ => Some(self.index.ty(reference.ty)),
            };
            return Some(Found {
                span: reference.span,
                target: reference.target.clone(),
                ty,
            });
        }
        let (id, symbol) = (self.index.symbols.iter().enumerate())
            .filter(|(_, s)| s.file == file && s.span.start < s.span.end && covers(s.span))
            .min_by_key(|(_, s)| s.span.end - s.span.start)?;
        Some(Found {
            span: symbol.span,
            target: Target::Symbol(id),
            ty: self.ty(symbol.ty),
        })
    }

    /// The symbol named at `offset`.
    fn symbol_at(&self, file: usize, offset: usize) -> Option<(SymbolId, Span)> {
        match self.at(file, offset)? {
            Found {
                target: Target::Symbol(id),
                span,
                ..
            } => Some((id, span)),
            _ => None,
        }
    }

    /// Every place symbol `id` is written: its definition first, then its uses in
    /// order (policy files only).
    fn occurrences(&self, id: SymbolId) -> Vec<(usize, Span)> {
        let mut places: Vec<(usize, Span)> = Vec::new();
        if let Some(symbol) = self.symbol(id) {
            places.push((symbol.file, symbol.span));
        }
        let mut uses: Vec<(usize, Span)> = (self.index.references.iter())
            .filter(|r| r.target == Target::Symbol(id))
            .map(|r| (r.file, r.span))
            .collect();
        uses.sort_by_key(|(file, span)| (*file, span.start));
        uses.dedup();
        places.extend(uses);
        places.retain(|(file, span)| *file < self.policy_files && span.start < span.end);
        places
    }

    /// A symbol already named `name` where symbol `id` would be renamed to it: a rule
    /// or exemption anywhere (their names are policy-wide), a top-level name of the
    /// same module, or a name of the same body in scope where `id` is.
    fn taken(&self, id: SymbolId, name: &str) -> Option<SymbolId> {
        use SymbolKind::*;
        let symbol = self.symbol(id)?;
        let module_level = |kind| matches!(kind, Global | Function | Import);
        let overlaps = |a: Span, b: Span| a.start <= b.end && b.start <= a.end;
        let item = self
            .enclosing_item(symbol.file, symbol.span.start)
            .map(|i| i.extent);
        let same_body =
            |s: &Symbol| item.is_some_and(|i| i.start <= s.span.start && s.span.start <= i.end);
        (self.index.symbols.iter().enumerate()).find_map(|(other, s)| {
            let clash = s.name == name
                && other != id
                && match symbol.kind {
                    Rule | Exemption => matches!(s.kind, Rule | Exemption),
                    Global | Function | Import => s.file == symbol.file && module_level(s.kind),
                    Local | Parameter | LambdaParameter | Implicit => {
                        s.file == symbol.file
                            && (module_level(s.kind)
                                || (same_body(s) && overlaps(s.extent, symbol.extent)))
                    }
                };
            clash.then_some(other)
        })
    }

    /// The innermost item (rule, exemption, function, top-level `let`) of `file` around
    /// `offset`.
    pub(crate) fn enclosing_item(&self, file: usize, offset: usize) -> Option<&Symbol> {
        use SymbolKind::*;
        (self.index.symbols.iter())
            .filter(|s| s.file == file && matches!(s.kind, Rule | Exemption | Function | Global))
            .filter(|s| s.extent.start <= offset && offset <= s.extent.end)
            .min_by_key(|s| s.extent.end - s.extent.start)
    }

    /// The 1-based line of a symbol's name.
    fn line(&self, id: SymbolId) -> usize {
        self.symbol(id).map_or(0, |s| {
            let text = self.text(s.file);
            text.get(..s.span.start)
                .map_or(0, |t| t.matches('\n').count())
                + 1
        })
    }

    /// `std.ai` or the policy path of module file `file`.
    fn module_name(&self, file: usize) -> String {
        let path = self.analysis.path(FileId(file as u32));
        match path.strip_prefix("std/") {
            Some(rest) => format!("std.{}", rest.trim_end_matches(".warden").replace('/', ".")),
            None => path.to_string(),
        }
    }

    /// `fn f(a: T, b: U) -> R`: the parameters are the function's own symbols.
    fn function_signature(&self, id: SymbolId) -> Option<(String, Vec<String>)> {
        let function = self.symbol(id)?;
        let params: Vec<String> = (self.index.symbols.iter())
            .filter(|s| {
                s.kind == SymbolKind::Parameter
                    && s.file == function.file
                    && s.extent == function.extent
            })
            .map(|s| format!("{}: {}", s.name, type_name(self.ty(s.ty).as_ref())))
            .collect();
        let returns = type_name(self.ty(function.ty).as_ref());
        let label = format!("{}({}) -> {returns}", function.name, params.join(", "));
        Some((label, params))
    }

    /// The first line of a hover: what the symbol is.
    pub(crate) fn describe(&self, id: SymbolId) -> Option<String> {
        let symbol = self.symbol(id)?;
        let ty = type_name(self.ty(symbol.ty).as_ref());
        Some(match symbol.kind {
            SymbolKind::Rule => format!("rule {}", symbol.name),
            SymbolKind::Exemption => format!("exempt {}", symbol.name),
            SymbolKind::Function => format!("fn {}", self.function_signature(id)?.0),
            SymbolKind::Global | SymbolKind::Local => match symbol.ty {
                Some(_) => format!("let {}: {ty}", symbol.name),
                // A standard module's `let` the policy does not read is not checked.
                None => format!("let {}", symbol.name),
            },
            SymbolKind::Parameter | SymbolKind::LambdaParameter | SymbolKind::Implicit => {
                format!("{}: {ty}", symbol.name)
            }
            SymbolKind::Import => match symbol.module {
                Some(module) => format!("module {}", self.module_name(module)),
                None => format!("module {}", symbol.name),
            },
        })
    }

    /// The markdown of a symbol: what it is, and its doc.
    fn symbol_markdown(&self, id: SymbolId) -> Option<String> {
        let symbol = self.symbol(id)?;
        let doc = match (symbol.kind, symbol.module) {
            (SymbolKind::Import, Some(module)) => {
                Some(warden::stdlib_docs::module_doc(self.text(module)))
            }
            _ => symbol.doc.clone(),
        };
        Some(markdown(&self.describe(id)?, doc.as_deref()))
    }

    fn target_markdown(&self, target: &Target, ty: Option<&Type>) -> Option<String> {
        match target {
            Target::Symbol(id) => self.symbol_markdown(*id),
            Target::Field { record, field } => {
                let record = RECORDS.get(*record)?;
                let field = record.fields.get(*field)?;
                let code = format!("{}.{}: {}", record.name, field.name, field.ty);
                Some(markdown(&code, Some(field.doc)))
            }
            Target::Method { receiver, name } => signature_markdown(
                &warden_check::method_signature(&self.index.ty(*receiver), name)?,
            ),
            Target::Function(name) => signature_markdown(&warden_check::function_signature(name)?),
            Target::Change => {
                let ty = ty.map_or_else(String::new, ToString::to_string);
                let doc = RECORDS.iter().find(|r| r.name == ty).map(|r| r.doc);
                Some(markdown(&format!("change: {ty}"), doc))
            }
        }
    }
}

fn type_name(ty: Option<&Type>) -> String {
    ty.map_or_else(|| "?".to_string(), ToString::to_string)
}

fn markdown(code: &str, doc: Option<&str>) -> String {
    match doc.filter(|d| !d.is_empty()) {
        Some(doc) => format!("```warden\n{code}\n```\n\n{doc}"),
        None => format!("```warden\n{code}\n```"),
    }
}

fn signature_markdown(signature: &warden_check::Signature) -> Option<String> {
    Some(markdown(&signature.label().0, Some(signature.doc)))
}

// ---------------------------------------------------------------------------------------
// Hover

/// Markdown to show when hovering `offset` of policy file `file`, with the range of the
/// name it explains: what the checker recorded there, else a keyword's doc.
pub fn hover(indexed: &Indexed, file: usize, offset: usize) -> Option<(String, Span)> {
    let text = indexed.text(file);
    if in_comment(text, offset) {
        return None;
    }
    if let Some(found) = indexed.at(file, offset) {
        let markdown = indexed.target_markdown(&found.target, found.ty.as_ref())?;
        return Some((markdown, found.span));
    }
    let (start, end) = word_at(text, offset)?;
    let word = text.get(start..end)?;
    let (_, doc) = KEYWORDS.iter().find(|(k, _)| *k == word)?;
    Some((format!("`{word}` — {doc}"), Span::new(start, end)))
}

// ---------------------------------------------------------------------------------------
// Definition, references, highlights and rename

/// Where the name at `offset` of policy file `file` is defined: a policy file index and
/// the span of the defining name (a module: the start of its file). Standard-library
/// items have no file to jump to.
pub fn definition(indexed: &Indexed, file: usize, offset: usize) -> Option<(usize, Span)> {
    let (id, _) = indexed.symbol_at(file, offset)?;
    let symbol = indexed.symbol(id)?;
    let (file, span) = match (symbol.kind, symbol.module) {
        (SymbolKind::Import, Some(module)) if module < indexed.policy_files => {
            (module, Span::new(0, 0))
        }
        _ => (symbol.file, symbol.span),
    };
    (file < indexed.policy_files).then_some((file, span))
}

/// Every place the name at `offset` is written, across the policy's files: its
/// definition (when `declaration`) and its uses.
pub fn references(
    indexed: &Indexed,
    file: usize,
    offset: usize,
    declaration: bool,
) -> Vec<(usize, Span)> {
    let Some((id, _)) = indexed.symbol_at(file, offset) else {
        return Vec::new();
    };
    let mut places = indexed.occurrences(id);
    let definition = indexed.symbol(id).map(|s| (s.file, s.span));
    if !declaration {
        places.retain(|place| Some(*place) != definition);
    }
    places
}

/// The places of the name at `offset` in its own file, and whether each is its
/// definition (a write) or a use (a read).
pub fn highlights(indexed: &Indexed, file: usize, offset: usize) -> Vec<(Span, bool)> {
    let Some((id, _)) = indexed.symbol_at(file, offset) else {
        return Vec::new();
    };
    let definition = indexed.symbol(id).map(|s| (s.file, s.span));
    (indexed.occurrences(id).into_iter())
        .filter(|(f, _)| *f == file)
        .map(|(f, span)| (span, Some((f, span)) == definition))
        .collect()
}

/// The name at `offset` if it can be renamed: its span. Why not, otherwise.
pub fn prepare_rename(indexed: &Indexed, file: usize, offset: usize) -> Result<Span, String> {
    let (id, span) = indexed
        .symbol_at(file, offset)
        .ok_or_else(|| "there is no name to rename here".to_string())?;
    let symbol = indexed
        .symbol(id)
        .ok_or_else(|| "there is no name to rename here".to_string())?;
    if symbol.file >= indexed.policy_files {
        return Err(format!(
            "`{}` is defined in the standard library, which cannot be renamed",
            symbol.name
        ));
    }
    if !symbol.renamable {
        return Err(match symbol.kind {
            SymbolKind::Import => format!(
                "`{}` is the default name of the import; add `as NAME` to the import to name it",
                symbol.name
            ),
            _ => format!(
                "`{}` is bound by the language and cannot be renamed",
                symbol.name
            ),
        });
    }
    Ok(span)
}

/// The edits renaming the name at `offset` to `new_name`: every place it is written,
/// by policy file. `new_name` must be a name the grammar accepts (no keyword).
pub fn rename(
    indexed: &Indexed,
    file: usize,
    offset: usize,
    new_name: &str,
) -> Result<Vec<(usize, Span)>, String> {
    prepare_rename(indexed, file, offset)?;
    if !is_name(new_name) {
        return Err(format!(
            "`{new_name}` is not a valid name: a name is a letter or `_` followed by letters, digits and `_`, and not a keyword"
        ));
    }
    let (id, _) = indexed
        .symbol_at(file, offset)
        .ok_or_else(|| "there is no name to rename here".to_string())?;
    if let Some(taken) = indexed.taken(id, new_name) {
        return Err(format!(
            "`{new_name}` is already the name of `{}` (line {}); choose another name",
            indexed.describe(taken).unwrap_or_default(),
            indexed.line(taken)
        ));
    }
    Ok(indexed.occurrences(id))
}

/// Whether the grammar reads `name` as a name: `let NAME = 0` parses with it.
fn is_name(name: &str) -> bool {
    let source = format!("let {name} = 0\n");
    let (module, diagnostics) = warden_syntax::parse(&source, FileId(0));
    diagnostics.is_empty()
        && matches!(module.items.as_slice(), [warden_syntax::ast::Item::Let(item)] if item.name.name == name)
}

// ---------------------------------------------------------------------------------------
// Inlay hints and signature help

/// The inferred type of each `let` of file `file` written without one: the offset after
/// its name and the text `: TYPE`.
pub fn inlay_hints(indexed: &Indexed, file: usize) -> Vec<(usize, String)> {
    let mut hints: Vec<(usize, String)> = (indexed.index.symbols.iter())
        .filter(|s| s.file == file && s.inferred)
        .filter(|s| matches!(s.kind, SymbolKind::Global | SymbolKind::Local))
        .filter_map(|s| {
            let ty = indexed.ty(s.ty).filter(|ty| !ty.is_error())?;
            Some((s.span.end, format!(": {ty}")))
        })
        .collect();
    hints.sort();
    hints
}

/// The signature of the call around `offset`: its label, parameters, doc, and which
/// parameter the cursor is on.
#[derive(Debug, PartialEq)]
pub struct SignatureAt {
    pub label: String,
    pub params: Vec<String>,
    pub doc: Option<String>,
    pub active: usize,
}

/// Signature help at `offset` of policy file `file` of `sources`, for a call still
/// being typed (`team(`, `f(a, `), which does not parse (a call that does is found by
/// [`signature_at`] in the index of the text as it is): it is found in the text with
/// the word at the cursor replaced by the placeholder `_)`, as completion does.
pub fn signature_being_typed(
    sources: &[SourceText],
    file: usize,
    offset: usize,
    parses: &mut ParseCache,
) -> Option<SignatureAt> {
    let text = &*sources.get(file)?.text;
    let offset = floor_char_boundary(text, offset);
    let (start, end) = word_at(text, offset).unwrap_or((offset, offset));
    let placeholder = crate::completion::replaced(text, start..end, "_)");
    let mut edited = sources.to_vec();
    edited.get_mut(file)?.text = placeholder;
    let at = Span::new(start, start);
    signature_at(&Indexed::new(&edited, parses, file, at), file, start)
}

/// Signature help at `offset` of policy file `file`, from the index.
pub fn signature_at(indexed: &Indexed, file: usize, offset: usize) -> Option<SignatureAt> {
    let call = (indexed.index.calls.iter())
        .filter(|c| c.file == file && c.callee.end < offset && offset < c.span.end)
        .min_by_key(|c| c.span.end - c.span.start)?;
    let (label, params, doc) = match &call.target {
        Target::Symbol(id) => {
            let (label, params) = indexed.function_signature(*id)?;
            let doc = indexed.symbol(*id).and_then(|s| s.doc.clone());
            (format!("fn {label}"), params, doc)
        }
        Target::Method { receiver, name } => {
            let signature = warden_check::method_signature(&indexed.index.ty(*receiver), name)?;
            (
                signature.label().0,
                signature.params,
                Some(signature.doc.to_string()),
            )
        }
        Target::Function(name) => {
            let signature = warden_check::function_signature(name)?;
            (
                signature.label().0,
                signature.params,
                Some(signature.doc.to_string()),
            )
        }
        _ => return None,
    };
    let active = (call.args.iter())
        .position(|arg| offset <= arg.end)
        .unwrap_or(call.args.len())
        .min(params.len().saturating_sub(1));
    Some(SignatureAt {
        label,
        params,
        doc,
        active,
    })
}
