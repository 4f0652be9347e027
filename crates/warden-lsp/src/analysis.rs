//! The pure core of the language server: from policy sources and a byte offset to
//! diagnostics, hovers, completions and definitions. No IO and no protocol state, so
//! every feature is tested here directly.

use lsp_types::{
    CompletionItem, CompletionItemKind, Diagnostic, DiagnosticRelatedInformation,
    DiagnosticSeverity, Documentation, Location, MarkupContent, MarkupKind, NumberOrString, Uri,
};
use warden::{Analysis, Severity, SourceText};
use warden_change::{FieldDef, RECORDS, RecordDef};
use warden_syntax::ast::{Item, Module};
use warden_syntax::{FileId, Span};

use crate::position::LineIndex;

/// Every keyword, with the one-line explanation shown on hover.
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
];

/// Built-in functions, with their signatures.
const FUNCTIONS: &[(&str, &str)] = &[
    (
        "glob",
        "glob(pattern: string, …) -> glob — literal patterns; several match any",
    ),
    (
        "regex",
        "regex(pattern: string) -> regex — a literal pattern",
    ),
    ("team", "team(name: string) -> approvers"),
    ("user", "user(id: string) -> approvers"),
    (
        "principal",
        "principal(id: string) -> Principal? — null when not in the directory",
    ),
    ("service", "service(name: string) -> Service?"),
    (
        "timestamp",
        "timestamp(text: string) -> timestamp — RFC 3339",
    ),
    (
        "duration",
        "duration(text: string) -> duration — e.g. \"90m\"",
    ),
];

/// Methods per receiver kind (see `docs/language.md`), for completion after `.`.
const METHODS: &[(&str, &[&str])] = &[
    (
        "list",
        &[
            "any", "all", "none", "count", "filter", "map", "flat_map", "sum", "min", "max", "len",
            "is_empty", "contains", "first", "last", "distinct", "sorted",
        ],
    ),
    (
        "string",
        &[
            "len",
            "contains",
            "starts_with",
            "ends_with",
            "lower",
            "upper",
            "trim",
            "split",
        ],
    ),
    ("map", &["get", "keys", "contains_key"]),
    ("timestamp", &["weekday", "hour", "minute", "format"]),
    ("duration", &["minutes", "hours"]),
    ("File", &["touches"]),
];

/// Names bound by the language itself, with their record type.
const GLOBALS: &[(&str, &str, &str)] = &[
    ("change", "Change", "The change being evaluated."),
    (
        "approver",
        "Principal",
        "The approver, in an approval requirement's `where`.",
    ),
    (
        "override",
        "Override",
        "The override, in an `overridable … where` condition.",
    ),
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

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The identifier that contains `offset` or ends at it: its byte range.
fn word_at(text: &str, offset: usize) -> Option<(usize, usize)> {
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

fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Whether `offset` is inside a `//` comment.
fn in_comment(text: &str, offset: usize) -> bool {
    let offset = floor_char_boundary(text, offset);
    let line_start = text
        .get(..offset)
        .and_then(|t| t.rfind('\n'))
        .map_or(0, |i| i + 1);
    let line = text.get(line_start..offset).unwrap_or("");
    warden_syntax::comment_start(line).is_some()
}

/// What precedes the identifier starting at `start`.
#[derive(Debug, PartialEq)]
enum Before<'t> {
    /// Not a member access.
    Plain,
    /// `RECEIVER.name` or `RECEIVER?.name`; `None` when the receiver is not a chain of
    /// plain names (`f(x).name`, `xs[0].name`).
    Member(Option<Vec<&'t str>>),
}

fn before(text: &str, start: usize) -> Before<'_> {
    let head = text.get(..start).unwrap_or("");
    let rest = head.trim_end();
    let Some(rest) = rest.strip_suffix('.') else {
        return Before::Plain;
    };
    let mut rest = rest.strip_suffix('?').unwrap_or(rest);
    let mut chain = Vec::new();
    loop {
        let trimmed = rest.trim_end();
        let name_start = trimmed
            .char_indices()
            .rev()
            .take_while(|(_, c)| is_ident_char(*c))
            .last()
            .map(|(i, _)| i);
        let Some(name_start) = name_start else {
            return Before::Member(None);
        };
        let name = trimmed.get(name_start..).unwrap_or("");
        if name.starts_with(|c: char| c.is_ascii_digit()) {
            return Before::Member(None);
        }
        chain.push(name);
        let previous = trimmed.get(..name_start).unwrap_or("").trim_end();
        match previous.strip_suffix('.') {
            Some(p) => rest = p.strip_suffix('?').unwrap_or(p),
            None => break,
        }
    }
    chain.reverse();
    Before::Member(Some(chain))
}

// ---------------------------------------------------------------------------------------
// Types, records and modules

fn record(name: &str) -> Option<&'static RecordDef> {
    RECORDS.iter().find(|r| r.name == name)
}

fn strip_optional(ty: &str) -> &str {
    let ty = ty.trim();
    ty.strip_suffix('?').unwrap_or(ty).trim()
}

fn record_of(ty: &str) -> Option<&'static RecordDef> {
    record(strip_optional(ty))
}

fn element_of(ty: &str) -> Option<&str> {
    strip_optional(ty).strip_prefix("list<")?.strip_suffix('>')
}

/// An import of the current document: the name it is used with and the module path
/// (`std/ai.warden`, or a policy-relative path).
#[derive(Debug, Clone, PartialEq)]
struct ImportRef {
    alias: String,
    module: String,
}

/// The imports of a document, read line by line so that they are found even while the
/// rest of the document does not parse.
fn imports(text: &str, path: &str) -> Vec<ImportRef> {
    let dir = path.rfind('/').map_or("", |i| &path[..=i]);
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.split("//").next().unwrap_or("").trim();
        let Some(rest) = line.strip_prefix("import ") else {
            continue;
        };
        let rest = rest.trim();
        let (target, alias) = match rest.split_once(" as ") {
            Some((target, alias)) => (target.trim(), Some(alias.trim().to_string())),
            None => (rest, None),
        };
        if let Some(module) = target.strip_prefix("std.") {
            let module = module.trim();
            let default = module.rsplit('.').next().unwrap_or(module).to_string();
            out.push(ImportRef {
                alias: alias.unwrap_or(default),
                module: format!("std/{}.warden", module.replace('.', "/")),
            });
        } else if let Some(file) = target.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
            let stem = file.rsplit('/').next().unwrap_or(file);
            let stem = stem.strip_suffix(".warden").unwrap_or(stem).to_string();
            out.push(ImportRef {
                alias: alias.unwrap_or(stem),
                module: normalize(&format!("{dir}{file}")),
            });
        }
    }
    out
}

/// Resolves `.` and `..` segments of a `/`-separated path.
fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    parts.join("/")
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

/// The policy (and the standard library) as the position features see it.
pub struct Workspace<'a> {
    /// The policy files, the open buffers' text overriding the disk.
    pub policy: &'a [SourceText],
}

/// A top-level item found by name.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemInfo {
    /// The module path: a policy-relative path or `std/NAME.warden`.
    pub module: String,
    /// Index into `Workspace::policy`, `None` for standard modules.
    pub file: Option<usize>,
    pub name_span: Span,
    /// `fn f(x: int) -> bool`, `let name: T`, `rule name advisory`, …
    pub signature: String,
    pub doc: Option<String>,
}

impl Workspace<'_> {
    fn module_text(&self, module: &str) -> Option<(Option<usize>, &str)> {
        if let Some(index) = self.policy.iter().position(|s| s.path == module) {
            return self
                .policy
                .get(index)
                .map(|s| (Some(index), s.text.as_str()));
        }
        warden::stdlib::MODULES
            .iter()
            .find(|(path, _)| *path == module)
            .map(|(_, text)| (None, *text))
    }

    /// Top-level items of a module (`let`, `fn`, `rule`, `exempt`).
    fn items(&self, module: &str) -> Vec<ItemInfo> {
        let Some((file, text)) = self.module_text(module) else {
            return Vec::new();
        };
        let (parsed, _) = warden_syntax::parse(text, FileId(0));
        items_of(&parsed, text, module, file)
    }

    fn item(&self, module: &str, name: &str) -> Option<ItemInfo> {
        self.items(module)
            .into_iter()
            .find(|item| item.signature_name() == name)
    }

    /// Rules and exemptions across the whole policy (their names are policy-wide).
    fn policy_rule(&self, name: &str) -> Option<ItemInfo> {
        self.policy
            .iter()
            .flat_map(|s| self.items(&s.path))
            .find(|item| {
                item.signature_name() == name
                    && (item.signature.starts_with("rule ")
                        || item.signature.starts_with("exempt "))
            })
    }
}

impl ItemInfo {
    fn signature_name(&self) -> &str {
        self.signature
            .split_whitespace()
            .nth(1)
            .map_or("", |s| s.split(['(', ':']).next().unwrap_or(s))
    }

    fn markdown(&self) -> String {
        let mut out = format!("```warden\n{}\n```", self.signature);
        if self.module.starts_with("std/") {
            out.push_str(&format!("\n*{}*", self.module));
        }
        if let Some(doc) = &self.doc {
            out.push_str("\n\n");
            out.push_str(doc);
        }
        out
    }
}

fn items_of(module: &Module, text: &str, path: &str, file: Option<usize>) -> Vec<ItemInfo> {
    let slice = |span: Span| text.get(span.start..span.end).unwrap_or("").to_string();
    let info = |name_span: Span, signature: String, doc: &Option<String>| ItemInfo {
        module: path.to_string(),
        file,
        name_span,
        signature,
        doc: doc.clone(),
    };
    let mut out = Vec::new();
    for item in &module.items {
        match item {
            Item::Let(l) => {
                let ty =
                    l.ty.as_ref()
                        .map(|t| format!(": {}", slice(t.span)))
                        .unwrap_or_default();
                out.push(info(
                    l.name.span,
                    format!("let {}{ty}", l.name.name),
                    &l.doc,
                ));
            }
            Item::Fn(f) => {
                let signature =
                    format!("fn {}", slice(Span::new(f.name.span.start, f.ret.span.end)));
                out.push(info(f.name.span, signature, &f.doc));
            }
            Item::Rule(r) => {
                let advisory = if r.advisory { " advisory" } else { "" };
                out.push(info(
                    r.name.span,
                    format!("rule {}{advisory}", r.name.name),
                    &r.doc,
                ));
            }
            Item::Exempt(e) => {
                let rules: Vec<&str> = e.rules.iter().map(|r| r.name.as_str()).collect();
                out.push(info(
                    e.name.span,
                    format!("exempt {} from {}", e.name.name, rules.join(", ")),
                    &e.doc,
                ));
            }
            Item::Import(_) | Item::Policy(_) | Item::Error(_) => {}
        }
    }
    out
}

/// What a chain of names (`change.author`, `f`, `acme`) denotes at `offset`.
#[derive(Debug, Clone, PartialEq)]
enum Denoted {
    /// A value of this Warden type (`Change`, `list<File>`, `Principal?`).
    Value(String),
    /// An imported module.
    Module(String),
}

struct Context<'w> {
    path: &'w str,
    text: &'w str,
    offset: usize,
}

impl Context<'_> {
    fn denote(&self, chain: &[&str]) -> Option<Denoted> {
        let (head, fields) = chain.split_first()?;
        let mut ty = if let Some((_, ty, _)) = GLOBALS.iter().find(|(name, _, _)| name == head) {
            ty.to_string()
        } else if let Some(import) = imports(self.text, self.path)
            .into_iter()
            .find(|i| i.alias == *head)
        {
            return fields.is_empty().then_some(Denoted::Module(import.module));
        } else {
            self.lambda_param_type(head)?
        };
        for field in fields {
            let record = record_of(&ty)?;
            ty = record
                .fields
                .iter()
                .find(|f| f.name == *field)?
                .ty
                .to_string();
        }
        Some(Denoted::Value(ty))
    }

    /// The element type of a lambda parameter: `RECEIVER.method(name => …` with the
    /// receiver a list of records, the nearest such binding before the offset.
    fn lambda_param_type(&self, name: &str) -> Option<String> {
        let head = self.text.get(..self.offset)?;
        let mut search_end = head.len();
        while let Some(found) = head.get(..search_end)?.rfind("=>") {
            search_end = found;
            let before_arrow = head.get(..found)?.trim_end();
            let Some(param) = before_arrow.strip_suffix(name) else {
                continue;
            };
            if param.ends_with(is_ident_char) {
                continue;
            }
            let Some(call) = param.trim_end().strip_suffix('(') else {
                continue;
            };
            let call = call.trim_end();
            let method_start = call
                .char_indices()
                .rev()
                .take_while(|(_, c)| is_ident_char(*c))
                .last()?
                .0;
            let Before::Member(Some(receiver)) = before(call, method_start) else {
                return None;
            };
            let Some(Denoted::Value(ty)) = self.denote(&receiver) else {
                return None;
            };
            return element_of(&ty).map(str::to_string);
        }
        None
    }
}

// ---------------------------------------------------------------------------------------
// Hover

/// Markdown to show when hovering `offset` of policy file `file`, with the range of the
/// word it explains.
pub fn hover(workspace: &Workspace<'_>, file: usize, offset: usize) -> Option<(String, Span)> {
    let source = workspace.policy.get(file)?;
    let text = source.text.as_str();
    if in_comment(text, offset) {
        return None;
    }
    let (start, end) = word_at(text, offset)?;
    let word = text.get(start..end)?;
    let span = Span::new(start, end);
    let context = Context {
        path: &source.path,
        text,
        offset: start,
    };
    let called = text
        .get(end..)
        .is_some_and(|rest| rest.trim_start().starts_with('('));
    match before(text, start) {
        Before::Member(Some(chain)) if chain == ["std"] => {
            let module = format!("std/{word}.warden");
            let (_, module_text) = workspace.module_text(&module)?;
            Some((
                format!(
                    "```warden\nimport std.{word}\n```\n\n{}",
                    warden::stdlib_docs::module_doc(module_text)
                ),
                span,
            ))
        }
        Before::Member(chain) => {
            let denoted = chain.and_then(|chain| context.denote(&chain));
            match denoted {
                Some(Denoted::Module(module)) => workspace
                    .item(&module, word)
                    .map(|item| (item.markdown(), span)),
                Some(Denoted::Value(ty)) => {
                    let record = record_of(&ty)?;
                    let field = record.fields.iter().find(|f| f.name == word)?;
                    Some((field_markdown(record, field), span))
                }
                None if called => None,
                None => {
                    let matches: Vec<String> = RECORDS
                        .iter()
                        .flat_map(|r| {
                            r.fields
                                .iter()
                                .filter(|f| f.name == word)
                                .map(move |f| (r, f))
                        })
                        .map(|(r, f)| format!("- `{}.{}: {}` — {}", r.name, f.name, f.ty, f.doc))
                        .collect();
                    (!matches.is_empty()).then(|| {
                        (
                            format!("Field `{word}` of:\n\n{}", matches.join("\n")),
                            span,
                        )
                    })
                }
            }
        }
        Before::Plain => {
            if let Some((_, doc)) = KEYWORDS.iter().find(|(k, _)| *k == word) {
                return Some((format!("`{word}` — {doc}"), span));
            }
            if let Some((name, ty, doc)) = GLOBALS.iter().find(|(name, _, _)| *name == word) {
                // The record's own description, unless it only says the same again
                // (`Change` is "the change being evaluated" too).
                let record_doc = record(ty)
                    .map(|r| r.doc)
                    .filter(|r| !r.starts_with(doc.trim_end_matches('.')))
                    .map_or(String::new(), |r| format!(" {r}"));
                return Some((
                    format!("```warden\n{name}: {ty}\n```\n\n{doc}{record_doc}"),
                    span,
                ));
            }
            if called && let Some((_, signature)) = FUNCTIONS.iter().find(|(name, _)| *name == word)
            {
                return Some((
                    format!("```warden\n{signature}\n```\n\nA built-in function."),
                    span,
                ));
            }
            if let Some(item) = workspace
                .item(&source.path, word)
                .or_else(|| workspace.policy_rule(word))
            {
                return Some((item.markdown(), span));
            }
            if let Some(import) = imports(text, &source.path)
                .into_iter()
                .find(|i| i.alias == word)
            {
                let (_, module_text) = workspace.module_text(&import.module)?;
                return Some((
                    format!(
                        "```warden\nmodule {}\n```\n\n{}",
                        import.module,
                        warden::stdlib_docs::module_doc(module_text)
                    ),
                    span,
                ));
            }
            if let Some(ty) = context.lambda_param_type(word) {
                return Some((format!("```warden\n{word}: {ty}\n```"), span));
            }
            record(word).map(|r| (format!("```warden\n{}\n```\n\n{}", r.name, r.doc), span))
        }
    }
}

fn field_markdown(record: &RecordDef, field: &FieldDef) -> String {
    format!(
        "```warden\n{}.{}: {}\n```\n\n{}",
        record.name, field.name, field.ty, field.doc
    )
}

// ---------------------------------------------------------------------------------------
// Completion

/// Completion items at `offset` of policy file `file`.
pub fn completion(workspace: &Workspace<'_>, file: usize, offset: usize) -> Vec<CompletionItem> {
    let Some(source) = workspace.policy.get(file) else {
        return Vec::new();
    };
    let text = source.text.as_str();
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
    let context = Context {
        path: &source.path,
        text,
        offset: start,
    };
    let line_start = text
        .get(..start)
        .and_then(|t| t.rfind('\n'))
        .map_or(0, |i| i + 1);
    let line = text.get(line_start..start).unwrap_or("").trim_start();
    if line.starts_with("import") && line.trim_end().ends_with("std.") {
        return std_module_names()
            .into_iter()
            .map(|name| item(name, CompletionItemKind::MODULE, None, None))
            .collect();
    }
    match before(text, start) {
        Before::Member(chain) => {
            match chain.and_then(|chain| context.denote(&chain)) {
                Some(Denoted::Module(module)) => workspace
                    .items(&module)
                    .into_iter()
                    .filter(|i| i.signature.starts_with("let ") || i.signature.starts_with("fn "))
                    .map(|i| {
                        let kind = if i.signature.starts_with("fn ") {
                            CompletionItemKind::FUNCTION
                        } else {
                            CompletionItemKind::CONSTANT
                        };
                        item(
                            i.signature_name().to_string(),
                            kind,
                            Some(i.signature.clone()),
                            i.doc.clone(),
                        )
                    })
                    .collect(),
                Some(Denoted::Value(ty)) => {
                    let mut items: Vec<CompletionItem> = record_of(&ty)
                        .map(|r| {
                            r.fields
                                .iter()
                                .map(|f| {
                                    item(
                                        f.name.to_string(),
                                        CompletionItemKind::FIELD,
                                        Some(f.ty.to_string()),
                                        Some(f.doc.to_string()),
                                    )
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    let kind = strip_optional(&ty);
                    let kind = kind.split('<').next().unwrap_or(kind);
                    let kind = if kind.starts_with('"') {
                        "string"
                    } else {
                        kind
                    };
                    for (receiver, methods) in METHODS {
                        if *receiver == kind {
                            items.extend(methods.iter().map(|m| {
                                item(m.to_string(), CompletionItemKind::METHOD, None, None)
                            }));
                        }
                    }
                    items
                }
                None => Vec::new(),
            }
        }
        Before::Plain => {
            let mut items: Vec<CompletionItem> = KEYWORDS
                .iter()
                .map(|(k, doc)| {
                    item(
                        k.to_string(),
                        CompletionItemKind::KEYWORD,
                        None,
                        Some(doc.to_string()),
                    )
                })
                .collect();
            items.extend(GLOBALS.iter().map(|(name, ty, doc)| {
                item(
                    name.to_string(),
                    CompletionItemKind::VARIABLE,
                    Some(ty.to_string()),
                    Some(doc.to_string()),
                )
            }));
            items.extend(FUNCTIONS.iter().map(|(name, signature)| {
                item(
                    name.to_string(),
                    CompletionItemKind::FUNCTION,
                    Some(signature.to_string()),
                    None,
                )
            }));
            items.extend(
                imports(text, &source.path)
                    .into_iter()
                    .map(|i| item(i.alias, CompletionItemKind::MODULE, Some(i.module), None)),
            );
            let mut names: Vec<ItemInfo> = workspace.items(&source.path);
            // Rule names of other files, for `exempt … from`.
            names.extend(
                workspace
                    .policy
                    .iter()
                    .filter(|s| s.path != source.path)
                    .flat_map(|s| workspace.items(&s.path))
                    .filter(|i| i.signature.starts_with("rule ")),
            );
            for info in names {
                let kind = match info.signature.split_whitespace().next() {
                    Some("fn") => CompletionItemKind::FUNCTION,
                    Some("let") => CompletionItemKind::CONSTANT,
                    _ => CompletionItemKind::CLASS,
                };
                let name = info.signature_name().to_string();
                if !items.iter().any(|i| i.label == name) {
                    items.push(item(
                        name,
                        kind,
                        Some(info.signature.clone()),
                        info.doc.clone(),
                    ));
                }
            }
            // Names of items being edited, which the parser may have skipped, and the
            // local `let`s of rules and functions.
            for line in text.lines() {
                let mut words = line.split_whitespace();
                let (Some(keyword), Some(name)) = (words.next(), words.next()) else {
                    continue;
                };
                let name: String = name.chars().take_while(|c| is_ident_char(*c)).collect();
                let kind = match keyword {
                    "fn" => CompletionItemKind::FUNCTION,
                    "let" => CompletionItemKind::VARIABLE,
                    "rule" | "exempt" => CompletionItemKind::CLASS,
                    _ => continue,
                };
                if !name.is_empty()
                    && !name.starts_with(|c: char| c.is_ascii_digit())
                    && !items.iter().any(|i| i.label == name)
                {
                    items.push(item(name, kind, None, None));
                }
            }
            items
        }
    }
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

// ---------------------------------------------------------------------------------------
// Definition

/// Where the name at `offset` of policy file `file` is defined: a policy file index and
/// the span of the defining name. Standard-library items have no file to jump to.
pub fn definition(workspace: &Workspace<'_>, file: usize, offset: usize) -> Option<(usize, Span)> {
    let source = workspace.policy.get(file)?;
    let text = source.text.as_str();
    if in_comment(text, offset) {
        return None;
    }
    let (start, end) = word_at(text, offset)?;
    let word = text.get(start..end)?;
    let context = Context {
        path: &source.path,
        text,
        offset: start,
    };
    let found = match before(text, start) {
        Before::Member(Some(chain)) => match context.denote(&chain)? {
            Denoted::Module(module) => workspace.item(&module, word),
            Denoted::Value(_) => None,
        },
        Before::Member(None) => None,
        Before::Plain => {
            if KEYWORDS.iter().any(|(k, _)| *k == word) {
                return None;
            }
            let item = workspace
                .item(&source.path, word)
                .or_else(|| workspace.policy_rule(word));
            if item.is_none()
                && let Some(import) = imports(text, &source.path)
                    .into_iter()
                    .find(|i| i.alias == word)
            {
                let target = workspace
                    .policy
                    .iter()
                    .position(|s| s.path == import.module)?;
                return Some((target, Span::new(0, 0)));
            }
            item
        }
    }?;
    Some((found.file?, found.name_span))
}

#[cfg(test)]
// Failing loudly is what a test is for.
#[allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const POLICY: &str = r#"import std.ai
import "lib/owners.warden" as own

/// Files of the control plane.
let control_plane = glob("control-plane/**")

/// Whether a principal is senior.
fn is_senior(p: Principal) -> bool = (p.level ?? 0) >= 6

/// Control-plane changes need a senior approval.
rule cp_review {
  let files = change.files.filter(f => f.touches(control_plane))
  when ai.declared_assisted(change) and files.len() > 0
  require 1 approval from team("sre") where is_senior(approver)
  message "{change.author.id} touched the control plane"
}

exempt bots from cp_review, lib_rule {
  when change.author.kind == "bot"
}
"#;

    const LIB: &str = r#"/// The owners team.
let owners = team("owners")

/// A rule in a library file.
rule lib_rule {
  when own_files(change)
  deny "no"
}

fn own_files(c: Change) -> bool = c.files.len() > 0
"#;

    fn sources() -> Vec<SourceText> {
        vec![
            SourceText {
                path: "policy.warden".to_string(),
                text: POLICY.to_string(),
            },
            SourceText {
                path: "lib/owners.warden".to_string(),
                text: LIB.to_string(),
            },
        ]
    }

    fn at(text: &str, needle: &str, delta: usize) -> usize {
        text.find(needle)
            .unwrap_or_else(|| panic!("`{needle}` not in text"))
            + delta
    }

    fn hover_at(needle: &str, delta: usize) -> String {
        let sources = sources();
        let workspace = Workspace { policy: &sources };
        hover(&workspace, 0, at(POLICY, needle, delta))
            .map(|(h, _)| h)
            .unwrap_or_default()
    }

    #[test]
    fn reads_the_member_chain_before_a_name() {
        let text = "x = change.author?.le";
        assert_eq!(
            before(text, text.len() - 2),
            Before::Member(Some(vec!["change", "author"]))
        );
        let text = "x = f(a).name";
        assert_eq!(before(text, text.len() - 4), Before::Member(None));
        assert_eq!(before("let a", 4), Before::Plain);
        assert_eq!(word_at("abc def", 3), Some((0, 3)));
        assert_eq!(word_at("abc def", 4), Some((4, 7)));
        assert_eq!(word_at("90m", 1), None);
        assert!(in_comment("a // b", 5));
        assert!(!in_comment("\"a // b\"", 5));
        assert!(!in_comment("deny \"{x ?? \"http://a\"} b\"", 24));
        assert!(in_comment("deny \"{x ?? \"a\"}\" // b", 24));
    }

    #[test]
    fn hover_on_change_fields_resolves_the_record() {
        let hover = hover_at("change.files.filter", 8);
        assert!(hover.contains("Change.files: list<File>"), "{hover}");
        assert!(hover.contains("Changed files."), "{hover}");
        let hover = hover_at("change.author.id", 8);
        assert!(hover.contains("Change.author: Principal"), "{hover}");
        let hover = hover_at("author.id", 7);
        assert!(hover.contains("Principal.id: string"), "{hover}");
    }

    #[test]
    fn hover_resolves_lambda_parameters_and_approver() {
        // `f` is bound by `change.files.filter(f => …)`: a `File`.
        let hover = hover_at("f.touches", 0);
        assert!(hover.contains("f: File"), "{hover}");
        let hover = hover_at("(approver)", 1);
        assert!(hover.contains("approver: Principal"), "{hover}");
    }

    #[test]
    fn hover_on_a_global_says_what_it_is_once() {
        let hover = hover_at("change.files.filter", 0);
        assert!(hover.contains("change: Change"), "{hover}");
        assert_eq!(
            hover.matches("The change being evaluated").count(),
            1,
            "{hover}"
        );
    }

    #[test]
    fn hover_on_an_unresolved_receiver_lists_matching_fields() {
        let hover = hover_at("p.level", 2);
        assert!(hover.contains("Principal.level"), "{hover}");
    }

    #[test]
    fn hover_on_items_shows_docs_and_signatures() {
        let hover = hover_at("is_senior(approver)", 0);
        assert!(
            hover.contains("fn is_senior(p: Principal) -> bool"),
            "{hover}"
        );
        assert!(hover.contains("Whether a principal is senior."), "{hover}");
        let hover = hover_at("control_plane))", 0);
        assert!(hover.contains("let control_plane"), "{hover}");
        assert!(hover.contains("Files of the control plane."), "{hover}");
        // A rule named in an exemption, defined in another file.
        let hover = hover_at("lib_rule {", 0);
        assert!(hover.contains("rule lib_rule"), "{hover}");
        assert!(hover.contains("A rule in a library file."), "{hover}");
        let hover = hover_at("cp_review, ", 0);
        assert!(
            hover.contains("Control-plane changes need a senior approval."),
            "{hover}"
        );
    }

    #[test]
    fn hover_on_module_items_keywords_and_std_imports() {
        let hover = hover_at("declared_assisted", 3);
        assert!(hover.contains("fn declared_assisted"), "{hover}");
        assert!(hover.contains("std/ai.warden"), "{hover}");
        let hover = hover_at("exempt bots", 2);
        assert!(hover.starts_with("`exempt` —"), "{hover}");
        let hover = hover_at("std.ai", 5);
        assert!(hover.contains("import std.ai"), "{hover}");
        assert!(hover.contains("AI assistance"), "{hover}");
        assert_eq!(hover_at("/// Files of", 5), "");
    }

    fn names(items: &[CompletionItem]) -> Vec<&str> {
        items.iter().map(|i| i.label.as_str()).collect()
    }

    fn complete(text: &str) -> Vec<CompletionItem> {
        let sources = vec![SourceText {
            path: "p.warden".to_string(),
            text: text.to_string(),
        }];
        completion(&Workspace { policy: &sources }, 0, text.len())
    }

    #[test]
    fn completes_change_fields() {
        let items = complete("rule r {\n  when change.");
        let labels = names(&items);
        assert_eq!(labels.len(), RECORDS[0].fields.len());
        assert!(
            labels.contains(&"files") && labels.contains(&"author") && labels.contains(&"labels")
        );
        let files = items.iter().find(|i| i.label == "files").unwrap();
        assert_eq!(files.detail.as_deref(), Some("list<File>"));
        // Nested records, and methods of lists.
        let items = complete("rule r {\n  when change.author.");
        assert!(names(&items).contains(&"level"), "{:?}", names(&items));
        let items = complete("rule r {\n  when change.files.");
        assert!(names(&items).contains(&"filter") && names(&items).contains(&"len"));
    }

    #[test]
    fn completes_std_modules_in_imports() {
        let items = complete("import std.");
        let labels = names(&items);
        assert!(
            labels.contains(&"ai") && labels.contains(&"time") && labels.contains(&"changes"),
            "{labels:?}"
        );
        assert_eq!(labels.len(), warden::stdlib::MODULES.len());
    }

    #[test]
    fn completes_module_items_keywords_and_names() {
        let items = complete("import std.ai\nlet x = ai.");
        assert!(
            names(&items).contains(&"declared_assisted"),
            "{:?}",
            names(&items)
        );
        let items = complete("/// Doc.\nlet limit = 3\nfn f(x: int) -> int = x\nrule r {\n  when ");
        let labels = names(&items);
        for expected in ["limit", "f", "r", "change", "require", "deny", "glob"] {
            assert!(
                labels.contains(&expected),
                "{expected} missing from {labels:?}"
            );
        }
        let limit = items.iter().find(|i| i.label == "limit").unwrap();
        assert_eq!(limit.detail.as_deref(), Some("let limit"));
        assert!(complete("// change.").is_empty());
    }

    #[test]
    fn definitions_across_files() {
        let sources = sources();
        let workspace = Workspace { policy: &sources };
        // `lib_rule` in `exempt … from` jumps into the library file.
        let found = definition(&workspace, 0, at(POLICY, "lib_rule {", 1)).unwrap();
        assert_eq!(found.0, 1);
        assert_eq!(&LIB[found.1.start..found.1.end], "lib_rule");
        assert_eq!(found.1.start, at(LIB, "lib_rule", 0));
        // A local function.
        let found = definition(&workspace, 0, at(POLICY, "is_senior(approver)", 2)).unwrap();
        assert_eq!(
            found,
            (
                0,
                Span::new(at(POLICY, "is_senior", 0), at(POLICY, "is_senior", 9))
            )
        );
        // A rule name of the same file, and the alias of a file import.
        assert_eq!(
            definition(&workspace, 0, at(POLICY, "cp_review,", 0))
                .unwrap()
                .1
                .start,
            at(POLICY, "cp_review", 0)
        );
        assert_eq!(
            definition(&workspace, 0, at(POLICY, "as own", 4)),
            Some((1, Span::new(0, 0)))
        );
        // Std items and fields have no definition to jump to.
        assert_eq!(
            definition(&workspace, 0, at(POLICY, "declared_assisted", 0)),
            None
        );
        assert_eq!(
            definition(&workspace, 0, at(POLICY, "files.filter", 0)),
            None
        );
        // Through an import alias.
        let text = "import \"lib/owners.warden\" as own\nlet x = own.owners\n";
        let sources = vec![
            SourceText {
                path: "a.warden".to_string(),
                text: text.to_string(),
            },
            sources[1].clone(),
        ];
        let workspace = Workspace { policy: &sources };
        let found = definition(&workspace, 0, text.len() - 3).unwrap();
        assert_eq!(
            found,
            (1, Span::new(at(LIB, "owners =", 0), at(LIB, "owners =", 6)))
        );
    }

    #[test]
    fn diagnostics_map_ranges_codes_and_help() {
        let sources = vec![
            SourceText {
                path: "a.warden".to_string(),
                text: "// é\nrule r {\n  when change.filez.len() > 0\n  deny \"x\"\n}\n"
                    .to_string(),
            },
            SourceText {
                path: "b.warden".to_string(),
                text: "let fine = 1\n".to_string(),
            },
        ];
        let analysis = warden::analyze(&sources);
        let uri = |i: usize| format!("file:///p/{}", sources[i].path).parse::<Uri>().ok();
        let published = lsp_diagnostics(&analysis, &uri, 0);
        assert_eq!(published.len(), 2, "{published:?}");
        let (file, list) = &published[0];
        assert_eq!(*file, 0);
        // Only the unknown field: the condition around it is not reported as constant.
        assert_eq!(list.len(), 1, "{list:?}");
        let diagnostic = &list[0];
        assert_eq!(diagnostic.severity, Some(DiagnosticSeverity::ERROR));
        assert_eq!(
            diagnostic.code,
            Some(NumberOrString::String("unknown-field".to_string())),
            "{diagnostic:?}"
        );
        // `filez` on line 2, columns 14..19.
        assert_eq!(
            diagnostic.range,
            lsp_types::Range::new(
                lsp_types::Position::new(2, 14),
                lsp_types::Position::new(2, 19)
            )
        );
        assert!(
            diagnostic.message.contains("filez"),
            "{}",
            diagnostic.message
        );
        assert!(
            diagnostic.message.contains("help: "),
            "{}",
            diagnostic.message
        );
        assert_eq!(published[1], (1, Vec::new()));
    }

    #[test]
    fn secondary_labels_become_related_information() {
        let rule = "rule same {\n  when change.draft\n  deny \"x\"\n}\n";
        let sources = vec![
            SourceText {
                path: "a.warden".to_string(),
                text: rule.to_string(),
            },
            SourceText {
                path: "b.warden".to_string(),
                text: format!("// second\n{rule}"),
            },
        ];
        let analysis = warden::analyze(&sources);
        let uri = |i: usize| format!("file:///p/{}", sources[i].path).parse::<Uri>().ok();
        let published = lsp_diagnostics(&analysis, &uri, 0);
        assert_eq!(published[0], (0, Vec::new()));
        let (file, list) = &published[1];
        assert_eq!(*file, 1);
        assert_eq!(list.len(), 1, "{list:?}");
        let diagnostic = &list[0];
        assert_eq!(
            diagnostic.code,
            Some(NumberOrString::String("duplicate-rule".to_string()))
        );
        assert_eq!(
            diagnostic.range,
            lsp_types::Range::new(
                lsp_types::Position::new(1, 5),
                lsp_types::Position::new(1, 9)
            )
        );
        assert!(
            diagnostic.message.contains("used again here"),
            "{}",
            diagnostic.message
        );
        let related = diagnostic.related_information.as_ref().unwrap();
        assert_eq!(related.len(), 1);
        assert_eq!(related[0].location.uri.as_str(), "file:///p/a.warden");
        assert_eq!(
            related[0].location.range,
            lsp_types::Range::new(
                lsp_types::Position::new(0, 5),
                lsp_types::Position::new(0, 9)
            )
        );
        assert_eq!(related[0].message, "first used here");
    }
}
