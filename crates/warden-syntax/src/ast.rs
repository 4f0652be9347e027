//! The abstract syntax tree: what a `.warden` file says, with a span on every node.
//!
//! The tree is untyped and unresolved; `warden-check` turns it into the typed IR.

use serde::{Deserialize, Serialize};

use crate::Span;

/// One parsed `.warden` file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Module {
    pub items: Vec<Item>,
}

/// The large items are boxed: a large policy's analysis holds tens of thousands of rule
/// outlines (80 bytes), which would otherwise take the 288 bytes of a rule each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Item {
    Import(Import),
    Let(Box<LetItem>),
    Fn(Box<FnItem>),
    Rule(Box<RuleItem>),
    /// A rule whose tree is not held (a parse with [`crate::RuleBodies::Outlined`]).
    RuleOutline(RuleOutline),
    Exempt(Box<ExemptItem>),
    Policy(PolicyItem),
    /// A top-level item that failed to parse; its diagnostic was already reported.
    Error(Span),
}

impl Item {
    /// The whole item's span.
    pub fn span(&self) -> Span {
        match self {
            Item::Import(i) => i.span,
            Item::Let(l) => l.span,
            Item::Fn(f) => f.span,
            Item::Rule(r) => r.span,
            Item::RuleOutline(r) => r.span,
            Item::Exempt(e) => e.span,
            Item::Policy(p) => p.span,
            Item::Error(span) => *span,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Import {
    pub target: ImportTarget,
    /// `as NAME`; for `std.ai` the default is `ai`, for a file its stem.
    pub alias: Option<Ident>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ImportTarget {
    /// `import std.ai` — the path segments after `std`.
    Std(Vec<Ident>),
    /// `import "lib/owners.warden"` — a path relative to the importing file's directory.
    File { path: String, span: Span },
}

/// `let NAME [: TYPE] = EXPR`, at the top level, in a rule or in a function block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LetItem {
    pub doc: Option<String>,
    pub name: Ident,
    pub ty: Option<TypeExpr>,
    pub value: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FnItem {
    pub doc: Option<String>,
    pub name: Ident,
    pub params: Vec<Param>,
    pub ret: TypeExpr,
    /// `= EXPR` parses as a block with no bindings.
    pub body: Block,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Param {
    pub name: Ident,
    pub ty: TypeExpr,
}

/// `{ let a = …  let b = …  RESULT }`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Block {
    pub lets: Vec<LetItem>,
    pub result: Expr,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TypeExpr {
    pub kind: TypeExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TypeExprKind {
    /// `bool`, `int`, `Principal`, … — resolved by the checker.
    Named(String),
    /// `list<T>`
    List(Box<TypeExpr>),
    /// `map<T>` (keys are strings)
    Map(Box<TypeExpr>),
    /// `T?`
    Optional(Box<TypeExpr>),
    /// `"a" | "b"`
    Enum(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleItem {
    pub doc: Option<String>,
    pub name: Ident,
    pub advisory: bool,
    pub overridable: Overridability,
    pub lets: Vec<LetItem>,
    pub when: Option<Expr>,
    pub demands: Vec<Demand>,
    pub message: Option<Template>,
    pub span: Span,
}

/// What a rule is known by before its body is read: the analysis of a large policy holds
/// its rules so, and parses each again from its span when the checker reaches it
/// ([`crate::parse_rule`]), so that the trees of all its rules are never held at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleOutline {
    pub doc: Option<String>,
    pub name: Ident,
    pub span: Span,
}

impl RuleItem {
    pub fn outline(self) -> RuleOutline {
        RuleOutline {
            doc: self.doc,
            name: self.name,
            span: self.span,
        }
    }
}

/// One per rule; a clause, seldom written, is boxed (two expressions: 200 bytes in every
/// rule otherwise).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub enum Overridability {
    /// Nothing said: the policy default applies, if there is one.
    #[default]
    Default,
    /// `not overridable`
    Never,
    /// `overridable [by SET] [where COND]`; a missing `by` means the policy default set.
    Clause(Box<OverrideClause>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverrideClause {
    pub by: Option<Expr>,
    pub condition: Option<Expr>,
    pub span: Span,
}

/// One per rule, mostly; an approval (three expressions) is boxed, as it would make
/// every demand twice as large.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Demand {
    /// `deny TEMPLATE [unless APPROVAL]`
    Deny {
        message: Template,
        unless: Option<Box<ApprovalReq>>,
        span: Span,
    },
    /// `require APPROVAL`
    Approval(Box<ApprovalReq>),
    /// `require EXPR else [deny] TEMPLATE`
    Condition {
        condition: Expr,
        message: Template,
        /// `else deny`: unmet is a violation (deny), not a pending requirement.
        deny: bool,
        span: Span,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalReq {
    /// How many approvals: an integer literal, or a parenthesised expression
    /// (`(if big then 2 else 1)`, an `ExprKind::Paren`).
    pub count: Expr,
    pub source: ApproverSource,
    /// `where COND`, with `approver` bound.
    pub condition: Option<Expr>,
    pub allow_stale: bool,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ApproverSource {
    /// `from SET`
    Set(Expr),
    /// `from each team in EXPR`
    EachTeam(Expr),
    /// `from each user in EXPR`
    EachUser(Expr),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExemptItem {
    pub doc: Option<String>,
    pub name: Ident,
    pub rules: Vec<Ident>,
    pub lets: Vec<LetItem>,
    pub when: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyItem {
    pub entries: Vec<PolicyEntry>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PolicyEntry {
    /// `overridable by SET [where COND]`
    Overridable(OverrideClause),
    /// `require approval after last push`
    ApprovalAfterLastPush(Span),
}

/// A string with `{expr}` holes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Template {
    pub parts: Vec<TemplatePart>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TemplatePart {
    /// Text with escapes already resolved.
    Text(String),
    Hole(Expr),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ExprKind {
    Bool(bool),
    Int(i64),
    /// A duration literal, in seconds.
    Duration(i64),
    /// A plain string literal (escapes resolved). Braces are literal text here.
    Str(String),
    /// `anyone`
    Anyone,
    /// `null`: the missing value, for `x == null` and `x != null`.
    Null,
    /// `[a, b, c]`
    List(Vec<Expr>),
    /// A bare name: a local, a lambda parameter, a top-level `let`, `change`, `approver`,
    /// `override`, or an imported module (followed by `.item`).
    Name(Ident),
    /// `base.name` (`optional: false`) or `base?.name` (`optional: true`).
    Field {
        base: Box<Expr>,
        name: Ident,
        optional: bool,
    },
    /// `name(args)` — a function: built-in, or declared in this module.
    Call {
        callee: Ident,
        args: Vec<Expr>,
    },
    /// `base.name(args)` — a method, or a function of an imported module (`ai.assisted(c)`).
    MethodCall {
        base: Box<Expr>,
        name: Ident,
        args: Vec<Expr>,
        optional: bool,
    },
    /// `base[index]`
    Index {
        base: Box<Expr>,
        index: Box<Expr>,
    },
    /// `param => body`; only valid as an argument of a list method.
    Lambda {
        param: Ident,
        body: Box<Expr>,
    },
    Unary {
        op: UnaryOp,
        operand: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        op_span: Span,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    If {
        condition: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
    /// `(expr)` — kept so that spans and explanations show what the author wrote.
    Paren(Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum UnaryOp {
    Not,
    Neg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    Matches,
    MatchesRegex,
    Within,
    Coalesce,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl BinaryOp {
    /// The operator as written in source.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::In => "in",
            BinaryOp::Matches => "matches",
            BinaryOp::MatchesRegex => "matches_regex",
            BinaryOp::Within => "within",
            BinaryOp::Coalesce => "??",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
        }
    }
}
