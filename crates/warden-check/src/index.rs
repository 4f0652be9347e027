//! What the checker learns about names and expressions as it checks, kept for the
//! language server: every definition (a [`Symbol`]), every use of a name, field, method
//! or built-in (a [`Reference`]), the type of every receiver of a field or method, and
//! every call with its arguments, each type kept once (a [`TypeId`]). Recorded only when
//! asked for ([`crate::check_without_program`] with `indexed`); `warden check` and
//! `warden eval` pay one `Option` test at each place that would record.

use std::collections::HashMap;

use warden_syntax::Span;
use warden_syntax::ast::{self, Ident};

use crate::checker::Checker;
use crate::ty::Type;

/// An index into [`Index::symbols`].
pub type SymbolId = usize;

/// A type of the index ([`Index::ty`]): each distinct type is kept once, and every
/// entry names it by a number (the index holds a type for most names and receivers of a
/// policy; a `Type` is six times the size).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TypeId(pub(crate) u32);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolKind {
    Rule,
    Exemption,
    Function,
    /// A top-level `let`.
    Global,
    /// A `let` of a rule, exemption or function body.
    Local,
    /// A function's parameter.
    Parameter,
    /// `x` of `x => …`.
    LambdaParameter,
    /// A name the language binds: `approver`, `override`.
    Implicit,
    /// The name an import binds (`ai` of `import std.ai`, or its `as NAME`).
    Import,
}

impl SymbolKind {
    /// A top-level item's name (not a body's), which any rule may use.
    pub fn is_item(self) -> bool {
        use SymbolKind::*;
        matches!(self, Rule | Exemption | Function | Global | Import)
    }
}

/// A name defined in a module or a body.
#[derive(Debug, Clone)]
pub struct Symbol {
    pub name: String,
    pub kind: SymbolKind,
    /// The file (an index into the checked files).
    pub file: usize,
    /// Where the name is written (for an import without `as`, its last segment).
    pub span: Span,
    /// Items: the whole item. Names of a body: where they can be used (a body `let`:
    /// from its end on, within its item).
    pub extent: Span,
    /// The value's type; a function's return type. `None` for items without one and
    /// for a standard module's `let` the policy never reads (not checked).
    pub ty: Option<TypeId>,
    /// A `let` without a written type: its type is inferred.
    pub inferred: bool,
    pub doc: Option<String>,
    /// An import: the file of the module it names (none when it failed).
    pub module: Option<usize>,
    /// Whether the name is written in the source and can be renamed there (not an
    /// implicit name, nor an import's default name).
    pub renamable: bool,
}

/// What a use of a name refers to.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Symbol(SymbolId),
    /// A field of a change-model record (indexes into `RECORDS` and its fields).
    Field {
        record: usize,
        field: usize,
    },
    /// A built-in method, on its receiver's type (without `?`).
    Method {
        receiver: TypeId,
        name: &'static str,
    },
    /// A built-in function (`team`, `glob`, …).
    Function(&'static str),
    /// `change`.
    Change,
}

/// One use of a name.
#[derive(Debug, Clone)]
pub struct Reference {
    pub file: usize,
    pub span: Span,
    pub target: Target,
    /// The type of what the name gives there (`Error` when unknown).
    pub ty: TypeId,
}

/// A call of a function or method, for signature help.
#[derive(Debug, Clone)]
pub struct Call {
    pub file: usize,
    /// The whole call, callee to closing parenthesis.
    pub span: Span,
    /// The callee's name.
    pub callee: Span,
    pub target: Target,
    pub args: Box<[Span]>,
}

/// An expression (the receiver of a field or method) and its type.
#[derive(Debug, Clone)]
pub struct Typed {
    pub file: usize,
    pub span: Span,
    pub ty: TypeId,
}

/// What an indexed check records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    /// Everything.
    #[default]
    Whole,
    /// What a request at `span` of `file` reads, for a large policy: every item's
    /// symbol and every use of one (what references and rename read), and all of what
    /// the rules overlapping `span` hold, but not the names, expressions and calls local
    /// to the other rules (most of a large policy's index). Such a check does not run
    /// the lints over the policy as a whole (`shadowed-rule`, …): its diagnostics are
    /// not what the policy's diagnostics are.
    Around { file: usize, span: Span },
}

/// The checker's record of a policy, for the language server.
#[derive(Debug, Default)]
pub struct Index {
    pub symbols: Vec<Symbol>,
    pub references: Vec<Reference>,
    /// The receivers of `.name` and `.name(…)` (the types completion asks for).
    pub exprs: Vec<Typed>,
    pub calls: Vec<Call>,
    /// The rule lists of exemptions (`exempt e from a, b`): file and the span from the
    /// first name to the last.
    pub rule_lists: Vec<(usize, Span)>,
    /// Symbols by file and the start of the span the checker knows them by (a name's
    /// span; for an import, the whole import).
    by_place: HashMap<(usize, usize), SymbolId>,
    /// Rules by name (their names are policy-wide).
    rules: HashMap<String, SymbolId>,
    /// The types [`TypeId`]s name, each once.
    types: indexmap::IndexSet<Type>,
    scope: Scope,
    /// Whether what is local to the body being checked is recorded.
    locals: bool,
    /// The rules whose local names, expressions and calls were not recorded.
    skipped: Vec<(usize, Span)>,
}

impl Symbol {
    /// A symbol written at `span`, renamable, without type, doc or module yet.
    fn new(name: &str, kind: SymbolKind, file: usize, span: Span, extent: Span) -> Symbol {
        Symbol {
            name: name.to_string(),
            kind,
            file,
            span,
            extent,
            ty: None,
            inferred: false,
            doc: None,
            module: None,
            renamable: true,
        }
    }
}

/// Rewrites the type ids of index entries (the memo stores a rule's entries with ids
/// of its own, and gives them the ids of the index it replays them into).
pub(crate) trait MapTypes {
    fn map_types(&mut self, f: &mut dyn FnMut(TypeId) -> TypeId);
}

impl MapTypes for Target {
    fn map_types(&mut self, f: &mut dyn FnMut(TypeId) -> TypeId) {
        if let Target::Method { receiver, .. } = self {
            *receiver = f(*receiver);
        }
    }
}

impl MapTypes for Symbol {
    fn map_types(&mut self, f: &mut dyn FnMut(TypeId) -> TypeId) {
        self.ty = self.ty.map(f);
    }
}

impl MapTypes for Reference {
    fn map_types(&mut self, f: &mut dyn FnMut(TypeId) -> TypeId) {
        self.target.map_types(f);
        self.ty = f(self.ty);
    }
}

impl MapTypes for Typed {
    fn map_types(&mut self, f: &mut dyn FnMut(TypeId) -> TypeId) {
        self.ty = f(self.ty);
    }
}

impl MapTypes for Call {
    fn map_types(&mut self, f: &mut dyn FnMut(TypeId) -> TypeId) {
        self.target.map_types(f);
    }
}

impl Index {
    /// An empty index that will record `scope`.
    pub(crate) fn new(scope: Scope) -> Index {
        Index {
            scope,
            locals: true,
            ..Index::default()
        }
    }

    /// Whether the index holds all that a request over `span` of `file` reads: none of
    /// the rules it overlaps was skipped.
    pub fn answers(&self, file: usize, span: Span) -> bool {
        !(self.skipped.iter())
            .any(|(f, s)| *f == file && s.start <= span.end && span.start <= s.end)
    }

    /// The symbol the checker knows by `(file, start)`.
    pub fn at_place(&self, file: usize, start: usize) -> Option<SymbolId> {
        self.by_place.get(&(file, start)).copied()
    }

    /// The rule or exemption of this name (their names are policy-wide).
    pub fn rule(&self, name: &str) -> Option<SymbolId> {
        self.rules.get(name).copied()
    }

    /// The type `id` names.
    pub fn ty(&self, id: TypeId) -> Type {
        self.types
            .get_index(id.0 as usize)
            .cloned()
            .unwrap_or(Type::Error)
    }

    /// The id of `ty`, kept if new.
    pub(crate) fn intern(&mut self, ty: &Type) -> TypeId {
        let id = match self.types.get_index_of(ty) {
            Some(id) => id,
            None => self.types.insert_full(ty.clone()).0,
        };
        TypeId(id as u32)
    }

    /// Frees what the vectors reserved beyond their length.
    pub(crate) fn shrink_to_fit(&mut self) {
        self.symbols.shrink_to_fit();
        self.references.shrink_to_fit();
        self.exprs.shrink_to_fit();
        self.calls.shrink_to_fit();
        self.rule_lists.shrink_to_fit();
        self.by_place.shrink_to_fit();
        self.rules.shrink_to_fit();
        self.types.shrink_to_fit();
        self.skipped.shrink_to_fit();
    }

    /// Whether a use of `target` is recorded where the checker is: a use of an item's
    /// symbol always, anything else when the body's locals are.
    fn records(&self, target: &Target) -> bool {
        self.locals
            || matches!(target, Target::Symbol(id)
                if self.symbols.get(*id).is_some_and(|s| s.kind.is_item()))
    }

    /// Records a symbol of a rule replayed from the memo, known by its span's start
    /// (as every name of a body is: see [`Checker::define_local`]).
    pub(crate) fn replay_symbol(&mut self, symbol: Symbol) {
        let id = self.symbols.len();
        self.by_place
            .entry((symbol.file, symbol.span.start))
            .or_insert(id);
        if symbol.kind == SymbolKind::Rule {
            self.rules.entry(symbol.name.clone()).or_insert(id);
        }
        self.symbols.push(symbol);
    }
}

/// Recording, a no-op unless the checker keeps an index.
impl Checker<'_> {
    pub(crate) fn indexing(&self) -> bool {
        self.index.is_some()
    }

    /// Checks a rule's body with `check`, recording what is local to it only when the
    /// index's scope takes in the rule at `span` of `file`.
    pub(crate) fn rule_body<T>(
        &mut self,
        file: usize,
        span: Span,
        check: impl FnOnce(&mut Self) -> T,
    ) -> T {
        let inside = self.index.as_deref_mut().is_none_or(|index| {
            let inside = match index.scope {
                Scope::Whole => true,
                Scope::Around { file: f, span: s } => {
                    f == file && s.start <= span.end && span.start <= s.end
                }
            };
            if !inside {
                index.skipped.push((file, span));
            }
            inside
        });
        self.with_locals(inside, check)
    }

    /// Checks the body of a `let` or `fn` with `check`, recording all of it (a standard
    /// one may be checked by its first reader, a rule whose locals are not recorded).
    pub(crate) fn item_body<T>(&mut self, check: impl FnOnce(&mut Self) -> T) -> T {
        self.with_locals(true, check)
    }

    fn with_locals<T>(&mut self, locals: bool, check: impl FnOnce(&mut Self) -> T) -> T {
        let previous =
            (self.index.as_deref_mut()).map(|i| std::mem::replace(&mut i.locals, locals));
        let result = check(self);
        if let (Some(index), Some(previous)) = (self.index.as_deref_mut(), previous) {
            index.locals = previous;
        }
        result
    }

    /// The index, when it records what is local to the body being checked.
    fn local_index(&mut self) -> Option<&mut Index> {
        self.index.as_deref_mut().filter(|index| index.locals)
    }

    /// Records a symbol known by `(file, place)`; returns its id.
    pub(crate) fn define(&mut self, place: usize, symbol: Symbol) -> Option<SymbolId> {
        let index = self.index.as_deref_mut()?;
        let id = index.symbols.len();
        index.by_place.entry((symbol.file, place)).or_insert(id);
        if symbol.kind == SymbolKind::Rule {
            index.rules.entry(symbol.name.clone()).or_insert(id);
        }
        index.symbols.push(symbol);
        Some(id)
    }

    /// Records a top-level item: a `let`, `fn`, rule or exemption.
    pub(crate) fn define_item(
        &mut self,
        file: usize,
        kind: SymbolKind,
        name: &Ident,
        extent: Span,
        doc: Option<&String>,
        inferred: bool,
    ) {
        if self.indexing() {
            let symbol = Symbol {
                inferred,
                doc: doc.cloned(),
                ..Symbol::new(&name.name, kind, file, name.span, extent)
            };
            self.define(name.span.start, symbol);
        }
    }

    /// Records the name an import binds, known by the import's start.
    pub(crate) fn define_import(
        &mut self,
        file: usize,
        import: &ast::Import,
        alias: &str,
        target: usize,
    ) {
        if !self.indexing() {
            return;
        }
        let span = match (&import.alias, &import.target) {
            (Some(alias), _) => alias.span,
            (None, ast::ImportTarget::Std(segments)) => {
                segments.last().map_or(import.span, |s| s.span)
            }
            (None, ast::ImportTarget::File { span, .. }) => *span,
        };
        let symbol = Symbol {
            module: (target != crate::checker::FAILED_IMPORT).then_some(target),
            renamable: import.alias.is_some(),
            ..Symbol::new(alias, SymbolKind::Import, file, span, import.span)
        };
        self.define(import.span.start, symbol);
    }

    /// Records a `let`, parameter or lambda parameter of a body.
    pub(crate) fn define_local(
        &mut self,
        file: usize,
        kind: SymbolKind,
        name: &Ident,
        extent: Span,
        ty: &Type,
        inferred: bool,
    ) {
        if let Some(index) = self.local_index() {
            let symbol = Symbol {
                ty: Some(index.intern(ty)),
                inferred,
                ..Symbol::new(&name.name, kind, file, name.span, extent)
            };
            self.define(name.span.start, symbol);
        }
    }

    /// Records a name the language binds (`approver`, `override`) at `place`.
    pub(crate) fn define_implicit(
        &mut self,
        file: usize,
        name: &str,
        place: Span,
        extent: Span,
        ty: &Type,
        doc: &str,
    ) {
        if let Some(index) = self.local_index() {
            let symbol = Symbol {
                ty: Some(index.intern(ty)),
                doc: Some(doc.to_string()),
                renamable: false,
                ..Symbol::new(name, SymbolKind::Implicit, file, place, extent)
            };
            self.define(place.start, symbol);
        }
    }

    /// Sets the type of a symbol once known (a top-level `let` when checked).
    pub(crate) fn set_type(&mut self, file: usize, place: usize, ty: &Type) {
        if let Some(index) = self.index.as_deref_mut()
            && let Some(&id) = index.by_place.get(&(file, place))
        {
            let ty = index.intern(ty);
            if let Some(symbol) = index.symbols.get_mut(id) {
                symbol.ty = Some(ty);
            }
        }
    }

    /// Records a use of a name.
    pub(crate) fn refer(&mut self, file: usize, span: Span, target: Target, ty: &Type) {
        if let Some(index) = self.index.as_deref_mut()
            && index.records(&target)
        {
            let ty = index.intern(ty);
            index.references.push(Reference {
                file,
                span,
                target,
                ty,
            });
        }
    }

    /// Records a use of the symbol known by `(file, place)`.
    pub(crate) fn refer_to(&mut self, file: usize, span: Span, place: (usize, usize), ty: &Type) {
        if let Some(id) = self
            .index
            .as_deref()
            .and_then(|i| i.at_place(place.0, place.1))
        {
            self.refer(file, span, Target::Symbol(id), ty);
        }
    }

    pub(crate) fn typed(&mut self, file: usize, span: Span, ty: &Type) {
        if let Some(index) = self.local_index() {
            let ty = index.intern(ty);
            index.exprs.push(Typed { file, span, ty });
        }
    }

    pub(crate) fn record_call(
        &mut self,
        file: usize,
        span: Span,
        callee: Span,
        target: Target,
        args: &[ast::Expr],
    ) {
        if let Some(index) = self.local_index() {
            index.calls.push(Call {
                file,
                span,
                callee,
                target,
                args: args.iter().map(|a| a.span).collect(),
            });
        }
    }

    /// Where a top-level `let` is known, if indexing.
    pub(crate) fn global_place(&self, id: crate::ir::GlobalId) -> Option<(usize, usize)> {
        self.indexing().then_some(())?;
        let global = self.globals.get(id.0 as usize)?;
        Some((global.file, global.item.name.span.start))
    }

    /// Where a function is known, if indexing.
    pub(crate) fn function_place(&self, id: crate::ir::FnId) -> Option<(usize, usize)> {
        self.indexing().then_some(())?;
        let function = self.functions.get(id.0 as usize)?;
        Some((function.file, function.item.name.span.start))
    }

    /// Where a function or import of module `file` named `name` is known, if indexing.
    pub(crate) fn item_place(&self, file: usize, name: &str) -> Option<(usize, usize)> {
        self.indexing().then_some(())?;
        let scope = self.modules.get(file)?;
        if let Some(&id) = scope.fns.get(name) {
            return self.function_place(id);
        }
        scope
            .imports
            .get(name)
            .map(|import| (file, import.span.start))
    }
}
