//! The typed IR: a fully resolved, fully typed policy, the only thing the evaluator runs.
//!
//! Names are resolved to slots (`LocalId`), globals (`GlobalId`) and functions
//! (`FnId`); record fields to indexes into the change-model table; globs and regexes
//! to indexes into the program's pattern tables, so the evaluator can compile all of a
//! policy's globs into one matcher.

use std::borrow::Cow;
use std::rc::Rc;

use warden_syntax::{FileId, LineIndex, Span};

use crate::ty::Type;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocalId(pub u32);
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GlobalId(pub u32);
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FnId(pub u32);
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GlobId(pub u32);
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegexId(pub u32);
/// A slot in the per-evaluation cache of expressions that depend only on the change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CacheId(pub u32);

/// A checked policy.
#[derive(Debug, Clone)]
pub struct Program {
    pub sources: Vec<Source>,
    pub rules: Vec<Rule>,
    pub exemptions: Vec<Exemption>,
    pub globals: Vec<Global>,
    pub functions: Vec<Function>,
    /// Every glob of the policy: each entry is one or more patterns matched as one.
    pub globs: Vec<Vec<GlobPattern>>,
    /// Every regex of the policy, its syntax checked; the evaluator compiles each one
    /// the first time it is used.
    pub regexes: Vec<RegexPattern>,
    pub cache_slots: u32,
    pub settings: Settings,
}

/// A glob pattern as written, and globset's translation of it to a regex (`*` stays
/// within a path segment, `**` crosses them).
#[derive(Debug, Clone)]
pub struct GlobPattern {
    pub source: String,
    /// Made when a policy's pattern is checked, as translating is how globset checks
    /// it. A standard module's pattern is known to be valid (a test translates every
    /// one) and is translated only when an evaluation needs it: most need few.
    translated: Option<String>,
}

impl GlobPattern {
    /// Parses a pattern and translates it.
    pub fn new(source: &str) -> Result<GlobPattern, globset::Error> {
        Ok(GlobPattern {
            source: source.to_string(),
            translated: Some(translate(source)?),
        })
    }

    /// A pattern of a standard module, translated when first needed.
    pub fn trusted(source: &str) -> GlobPattern {
        GlobPattern {
            source: source.to_string(),
            translated: None,
        }
    }

    /// The pattern as a regex.
    pub fn regex(&self) -> Result<Cow<'_, str>, String> {
        match &self.translated {
            Some(regex) => Ok(Cow::Borrowed(regex)),
            None => translate(&self.source)
                .map(Cow::Owned)
                .map_err(|e| format!("`{}` is not a valid glob: {}", self.source, e.kind())),
        }
    }
}

fn translate(source: &str) -> Result<String, globset::Error> {
    let glob = globset::GlobBuilder::new(source)
        .literal_separator(true)
        .build()?;
    Ok(glob.regex().to_string())
}

/// A regular expression of the policy and where it was first written.
#[derive(Debug, Clone)]
pub struct RegexPattern {
    pub source: String,
    pub file: FileId,
    pub span: Span,
}

/// A source file, for locations and for quoting conditions in explanations.
#[derive(Debug, Clone)]
pub struct Source {
    pub path: String,
    pub text: Rc<str>,
    pub lines: LineIndex,
}

impl Program {
    /// `path:line:column` of a span.
    pub fn location(&self, file: FileId, span: Span) -> Location {
        let Some(source) = self.sources.get(file.0 as usize) else {
            return Location::default();
        };
        let (line, column) = source.lines.line_column(&source.text, span.start);
        Location {
            file: source.path.clone(),
            line: line as u32,
            column: column as u32,
        }
    }

    /// The source text of a span, as the author wrote it.
    pub fn snippet(&self, file: FileId, span: Span) -> &str {
        self.sources
            .get(file.0 as usize)
            .and_then(|s| s.text.get(span.start..span.end))
            .unwrap_or("")
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: u32,
    pub column: u32,
}

/// `path:line:column`
impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// The `policy { overridable by … }` default.
    pub default_override: Option<OverrideRule>,
    /// `require approval after last push`, where it is written (its rule's location).
    pub approval_after_last_push: Option<Location>,
}

/// Who may override a rule, and what must hold for the override to count.
#[derive(Debug, Clone)]
pub struct OverrideRule {
    pub by: Expr,
    /// Conditions over the `override` slot; all must hold.
    pub conditions: Vec<Expr>,
    /// Where the `override` being judged is bound (always slot 0).
    pub slot: LocalId,
    pub frame: Frame,
}

#[derive(Debug, Clone, Default)]
pub struct Frame {
    /// How many local slots evaluating this body needs.
    pub slots: u32,
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    pub doc: Option<String>,
    pub file: FileId,
    pub span: Span,
    pub location: Location,
    pub advisory: bool,
    pub overridable: Option<OverrideRule>,
    pub frame: Frame,
    pub lets: Vec<(LocalId, Expr)>,
    pub when: Option<Expr>,
    pub demands: Vec<Demand>,
    pub message: Option<Template>,
}

#[derive(Debug, Clone)]
pub struct Exemption {
    pub name: String,
    pub doc: Option<String>,
    pub file: FileId,
    pub span: Span,
    pub location: Location,
    /// Indexes into `Program::rules`.
    pub rules: Vec<usize>,
    pub frame: Frame,
    pub lets: Vec<(LocalId, Expr)>,
    pub when: Expr,
}

/// An approval is boxed, as in the syntax tree: it would make every demand of the
/// policy three times as large.
#[derive(Debug, Clone)]
pub enum Demand {
    Deny {
        message: Template,
        unless: Option<Box<ApprovalReq>>,
        span: Span,
    },
    Approval(Box<ApprovalReq>),
    Condition {
        condition: Expr,
        message: Template,
        /// `else deny`: unmet is `violated` rather than `pending`.
        deny: bool,
        span: Span,
    },
}

/// How many approvals a requirement asks for.
#[derive(Debug, Clone)]
pub enum ApprovalCount {
    /// A literal, checked to be at least 1.
    Fixed(u32),
    /// An `int` expression, computed when the rule is evaluated: below 1 (or too large)
    /// makes the rule an error, so a miscomputed count fails closed.
    Computed(Expr),
}

#[derive(Debug, Clone)]
pub struct ApprovalReq {
    pub count: ApprovalCount,
    pub source: ApproverSource,
    /// `where COND` with the candidate approver in `approver_slot`.
    pub condition: Option<Expr>,
    pub approver_slot: LocalId,
    pub allow_stale: bool,
    pub span: Span,
    /// The requirement as written, for explanations.
    pub text: String,
}

#[derive(Debug, Clone)]
pub enum ApproverSource {
    Set(Expr),
    EachTeam(Expr),
    EachUser(Expr),
}

#[derive(Debug, Clone)]
pub struct Template {
    pub parts: Vec<TemplatePart>,
}

#[derive(Debug, Clone)]
pub enum TemplatePart {
    Text(String),
    Hole(Expr),
}

#[derive(Debug, Clone)]
pub struct Global {
    pub name: String,
    pub file: FileId,
    pub frame: Frame,
    pub value: Expr,
}

#[derive(Debug, Clone)]
pub struct Function {
    pub name: String,
    pub file: FileId,
    pub params: Vec<LocalId>,
    pub frame: Frame,
    pub lets: Vec<(LocalId, Expr)>,
    pub body: Expr,
}

#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub ty: Type,
    pub file: FileId,
    pub span: Span,
}

impl Expr {
    /// Visits the direct sub-expressions, in source order (the walk every pass over
    /// the IR shares, so a new kind of expression is added in one place).
    pub fn for_each_child(&self, f: &mut dyn FnMut(&Expr)) {
        crate::optimize::children_ref(self, f);
    }

    /// The body of a standard module's function or `let` that no checked body reaches,
    /// so was not checked: evaluating it is an error.
    pub fn unchecked(file: FileId, span: Span) -> Expr {
        Expr {
            kind: ExprKind::Unchecked,
            ty: Type::Error,
            file,
            span,
        }
    }
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    /// See [`Expr::unchecked`].
    Unchecked,
    Bool(bool),
    Int(i64),
    Duration(i64),
    Str(Rc<str>),
    Timestamp(jiff::Timestamp),
    Null,
    Anyone,
    List(Vec<Expr>),
    Change,
    Local(LocalId),
    Global(GlobalId),
    Field {
        base: Box<Expr>,
        field: usize,
        /// `?.`: a null base gives null instead of an error.
        optional: bool,
    },
    Index {
        base: Box<Expr>,
        index: Box<Expr>,
    },
    Call {
        func: FnId,
        args: Vec<Expr>,
    },
    Builtin {
        op: Builtin,
        args: Vec<Expr>,
        /// `x?.method()`: a null receiver gives null.
        optional: bool,
    },
    /// Only as an argument of a list builtin.
    Lambda {
        param: LocalId,
        body: Box<Expr>,
    },
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Binary {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    If {
        condition: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
    Glob(GlobId),
    Regex(RegexId),
    /// `change.files.any(f => f.path matches G)` (or `f.touches(G)`): answered from the
    /// policy-wide glob matcher without iterating the files per rule.
    AnyFileMatches {
        glob: GlobId,
        touches: bool,
    },
    /// An expression that depends only on the change: evaluated once per evaluation.
    Cached {
        slot: CacheId,
        expr: Box<Expr>,
    },
}

/// Binary operators are the syntax's: the checker resolves what each means for its
/// operand types, and the evaluator dispatches on the values.
pub use warden_syntax::ast::BinaryOp as BinOp;

/// Built-in functions and methods. The receiver of a method is the first argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Builtin {
    // free functions
    Team,
    User,
    Principal,
    Service,
    // list methods
    Any,
    All,
    None,
    Count,
    Filter,
    Map,
    FlatMap,
    Sum,
    Min,
    Max,
    Len,
    IsEmpty,
    Contains,
    First,
    Last,
    Distinct,
    Sorted,
    // string methods
    StrLen,
    StrContains,
    StartsWith,
    EndsWith,
    Lower,
    Upper,
    Trim,
    Split,
    // map methods
    MapGet,
    MapKeys,
    MapContainsKey,
    // time
    Weekday,
    Hour,
    Minute,
    /// `timestamp.format(tz)`: `YYYY-MM-DD HH:MM ZONE` in the zone, for messages.
    FormatTime,
    Minutes,
    Hours,
    // File
    Touches,
}

/// What `timestamp.weekday(tz)` returns, Monday first: the closed set of its type, so
/// that `t.weekday(tz) == "Sat"` is a check-time error instead of a rule that never fires.
pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
