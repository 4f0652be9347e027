//! The checker's driver: builds module scopes, resolves imports, checks every item and
//! assembles the `ir::Program`.

use std::cell::Cell;
use std::collections::HashMap;
use std::fmt;
use warden_syntax::Code;

use indexmap::IndexMap;
use warden_change::Ids;
use warden_syntax::{Diagnostic, FileId, LineIndex, Span, ast};

use crate::SourceFile;
use crate::glob_cover::Cover;
use crate::index::{Index, SymbolKind, Target};
use crate::ir::{self, GlobId, GlobalId, LocalId, RegexId};
use crate::lints;
use crate::policy_lints::{self, RuleFacts};
use crate::ty::{self, Type};

/// The checker's maps, keyed by names and patterns of the policy and looked up for every
/// reference: foldhash with a fixed seed, as for the change's ids (see [`Ids`]).
pub(crate) type Names<K, V> = IndexMap<K, V, Ids>;

/// A function or top-level `let`: the nodes of the dependency graph in which the
/// checker looks for recursion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Owner {
    Global(GlobalId),
    Fn(ir::FnId),
}

/// What a check gives.
pub struct Outcome {
    pub program: Option<ir::Program>,
    pub diagnostics: Vec<Diagnostic>,
    pub index: Option<Box<Index>>,
    /// The policy's regexes in id order, when no program holds them (see
    /// [`Checker::keep_rules`]).
    pub regexes: Vec<ir::RegexPattern>,
}

/// A rule as its file's tree holds it: whole, or as the outline it is parsed again
/// from when it is checked (the trees of a large policy's rules are never all held).
#[derive(Clone, Copy)]
enum RuleSource<'a> {
    Tree(&'a ast::RuleItem),
    Outline(&'a ast::RuleOutline),
}

impl<'a> RuleSource<'a> {
    fn of(item: &'a ast::Item) -> Option<Self> {
        match item {
            ast::Item::Rule(rule) => Some(RuleSource::Tree(rule)),
            ast::Item::RuleOutline(rule) => Some(RuleSource::Outline(rule)),
            _ => None,
        }
    }

    fn name(self) -> &'a str {
        match self {
            RuleSource::Tree(rule) => &rule.name.name,
            RuleSource::Outline(rule) => &rule.name.name,
        }
    }

    /// Its span and doc.
    fn place(self) -> (Span, Option<&'a String>) {
        match self {
            RuleSource::Tree(rule) => (rule.span, rule.doc.as_ref()),
            RuleSource::Outline(rule) => (rule.span, rule.doc.as_ref()),
        }
    }
}

/// The policy items checked, in program order.
struct PolicyItems {
    /// The rules' IR (none when the program is not kept).
    rules: Vec<ir::Rule>,
    /// What the lints over the policy read of each rule (none once there is an error,
    /// or when they do not run), and the cache of glob automata they were taken with.
    facts: Vec<RuleFacts>,
    cover: Cover,
    exemptions: Vec<ir::Exemption>,
    settings: ir::Settings,
}

pub(crate) struct ModuleScope {
    pub lets: Names<String, GlobalId>,
    pub fns: Names<String, ir::FnId>,
    pub imports: Names<String, ImportEntry>,
}

pub(crate) struct ImportEntry {
    pub target: usize,
    pub span: Span,
    pub used: bool,
}

pub(crate) enum GlobalState {
    Pending,
    InProgress,
    Done(Type),
}

pub(crate) struct GlobalEntry<'a> {
    pub file: usize,
    pub item: &'a ast::LetItem,
    pub state: GlobalState,
    pub ir: Option<ir::Global>,
}

pub(crate) struct FnEntry<'a> {
    pub file: usize,
    pub item: &'a ast::FnItem,
    pub params: Vec<Type>,
    pub ret: Type,
    pub ir: Option<ir::Function>,
    /// Whether some checked body calls it.
    pub called: bool,
}

/// A name bound inside a body.
pub(crate) struct Binding {
    pub name: String,
    pub slot: LocalId,
    pub ty: Type,
    pub span: Span,
    pub used: bool,
    /// Report it if never read (`let`s; not parameters or implicit names).
    pub warn_unused: bool,
}

/// The state of checking one body: a rule, a function, a `let`.
pub(crate) struct Body {
    pub file: usize,
    pub owner: Option<Owner>,
    pub bindings: Vec<Binding>,
    pub next_slot: u32,
}

impl Body {
    pub fn new(file: usize, owner: Option<Owner>) -> Self {
        Body {
            file,
            owner,
            bindings: Vec::new(),
            next_slot: 0,
        }
    }

    pub fn bind(&mut self, name: &str, ty: Type, span: Span, warn_unused: bool) -> LocalId {
        let slot = LocalId(self.next_slot);
        self.next_slot += 1;
        self.bindings.push(Binding {
            name: name.to_string(),
            slot,
            ty,
            span,
            used: false,
            warn_unused,
        });
        slot
    }

    pub fn frame(&self) -> ir::Frame {
        ir::Frame {
            slots: self.next_slot,
        }
    }
}

pub(crate) struct Checker<'a> {
    pub files: &'a [SourceFile],
    /// Every standard module's name, loaded or not.
    pub std_modules: &'a [&'a str],
    /// Line starts of every file, for locations.
    lines: Vec<LineIndex>,
    pub diags: Vec<Diagnostic>,
    /// The change-model records' fields, parsed once.
    pub fields: Vec<Vec<(&'static str, Type)>>,
    pub modules: Vec<ModuleScope>,
    pub globals: Vec<GlobalEntry<'a>>,
    pub functions: Vec<FnEntry<'a>>,
    pub globs: Names<Vec<String>, GlobId>,
    /// Every valid glob pattern seen, translated.
    pub glob_patterns: HashMap<String, ir::GlobPattern, Ids>,
    /// Each distinct regex and where it was first written.
    pub regexes: Names<String, (RegexId, ir::RegexPattern)>,
    /// Dependency edges for recursion detection, with the place of the reference.
    pub deps: Vec<(Owner, Owner, usize, Span)>,
    /// What rules, exemptions and the `policy` block refer to (for unused items).
    pub used_by_policy: Vec<Owner>,
    /// How many more "did you mean" searches this analysis may make (see `suggest`).
    suggestions_left: Cell<usize>,
    /// Literals already reported as `impossible-value`: one reached through a `let`
    /// is reported once, however many places use it.
    pub impossible_reported: std::collections::HashSet<(usize, usize), Ids>,
    /// What the language server asks for (see [`crate::index`]); `None` when checking
    /// for `warden check` or `eval`.
    pub index: Option<Box<Index>>,
    /// Whether to run the lints over the policy as a whole (not for an evaluation:
    /// see [`crate::check_to_evaluate`]).
    pub policy_lints: bool,
    /// Whether the program is made: not when only the diagnostics and the index are
    /// wanted ([`crate::check_without_program`]: `warden check`, the language server),
    /// so that each rule's IR is dropped once the lints have taken its facts.
    pub keep_rules: bool,
    /// What the last check of this policy stored for the language server (see
    /// [`crate::memo`]); `None` when checking once.
    pub memo: Option<&'a mut crate::memo::Memo>,
    /// The effects of the rule being checked for the memo, as they happen.
    pub recording: Option<Box<crate::memo::Effects>>,
    /// How many "did you mean" searches were asked for (a rule that asks is not stored).
    pub suggestions_asked: Cell<usize>,
    /// How many index symbols the items other than rules and exemptions define: the
    /// memo's environment (see [`crate::memo`]).
    pub environment_symbols: usize,
}

/// Each "did you mean" search reads every name in scope, so a policy of thousands of
/// unknown names among thousands of `let`s would take minutes to check; past this many
/// searches, diagnostics keep their general help instead.
const MAX_SUGGESTIONS: usize = 200;

impl<'a> Checker<'a> {
    pub fn new(files: &'a [SourceFile], std_modules: &'a [&'a str]) -> Self {
        let fields = warden_change::view::RECORDS
            .iter()
            .enumerate()
            .map(|(index, _)| ty::record_fields(index).collect())
            .collect();
        Checker {
            files,
            std_modules,
            lines: files.iter().map(|f| LineIndex::new(&f.text)).collect(),
            diags: Vec::new(),
            fields,
            modules: Vec::new(),
            globals: Vec::new(),
            functions: Vec::new(),
            globs: Names::default(),
            glob_patterns: HashMap::default(),
            regexes: Names::default(),
            deps: Vec::new(),
            used_by_policy: Vec::new(),
            suggestions_left: Cell::new(MAX_SUGGESTIONS),
            impossible_reported: Default::default(),
            index: None,
            policy_lints: true,
            keep_rules: true,
            memo: None,
            recording: None,
            suggestions_asked: Cell::new(0),
            environment_symbols: 0,
        }
    }

    /// A checker that records an [`Index`] of `scope` as it checks.
    pub fn indexed(
        files: &'a [SourceFile],
        std_modules: &'a [&'a str],
        scope: crate::index::Scope,
    ) -> Self {
        Checker {
            index: Some(Box::new(Index::new(scope))),
            ..Checker::new(files, std_modules)
        }
    }

    /// "Did you mean": [`warden_syntax::suggest`], for the first `MAX_SUGGESTIONS`
    /// searches of the analysis.
    pub fn suggest<'c>(
        &self,
        name: &str,
        candidates: impl IntoIterator<Item = &'c str>,
    ) -> Option<&'c str> {
        self.suggestions_asked.set(self.suggestions_asked.get() + 1);
        let left = self.suggestions_left.get();
        if left == 0 {
            return None;
        }
        self.suggestions_left.set(left - 1);
        warden_syntax::suggest(name, candidates)
    }

    pub fn file_id(file: usize) -> FileId {
        FileId(file as u32)
    }

    /// Reports a diagnostic of `code` (its severity comes with the code).
    pub fn report(
        &mut self,
        file: usize,
        span: Span,
        code: Code,
        message: String,
        label: &str,
        help: Option<String>,
    ) {
        self.push(Diagnostic::new(code, message), file, span, label, help);
    }

    fn push(
        &mut self,
        diagnostic: Diagnostic,
        file: usize,
        span: Span,
        label: &str,
        help: Option<String>,
    ) {
        let mut diagnostic = diagnostic.with_label(Self::file_id(file), span, label);
        diagnostic.help = help;
        self.diags.push(diagnostic);
    }

    /// Gives the diagnostic just reported a replacement of `span` its help proposes
    /// (one more choice when called again), so that tools apply it without reading the
    /// help text.
    pub fn replace_with(&mut self, span: Span, replacement: Option<String>) {
        if let (Some(replacement), Some(last)) = (replacement, self.diags.last_mut()) {
            let mut suggestions = std::mem::take(&mut last.suggestions).into_vec();
            suggestions.push((span, replacement));
            last.suggestions = suggestions.into_boxed_slice();
        }
    }

    pub fn run(mut self) -> Outcome {
        if self.memo.is_some() {
            let kind = format!("{}{}", self.index.is_some(), self.policy_lints);
            let env = crate::memo::environment(self.files, self.std_modules, &kind);
            if let Some(memo) = self.memo.as_deref_mut() {
                memo.start(env);
            }
        }
        self.declare_modules();
        // A policy's own bodies are all checked. A standard module's are checked when
        // the policy reaches them (a `let` when read, a function when called): they are
        // known to be clean, and most policies use a few of them. The standard library
        // on its own, as its tests check it, is checked in full.
        let whole_std = self.files.iter().all(|f| f.std);
        let wanted = |checker: &Self, file: usize| {
            whole_std || checker.files.get(file).is_some_and(|f| !f.std)
        };
        for index in 0..self.globals.len() {
            if self
                .globals
                .get(index)
                .is_some_and(|g| wanted(&self, g.file))
            {
                self.check_global(GlobalId(index as u32));
            }
        }
        for index in 0..self.functions.len() {
            if self
                .functions
                .get(index)
                .is_some_and(|f| wanted(&self, f.file))
            {
                self.check_function(index);
            }
        }
        let PolicyItems {
            rules,
            facts,
            cover,
            exemptions,
            settings,
        } = self.check_policy_items();
        // Checking a called function may call more.
        while let Some(index) = self
            .functions
            .iter()
            .position(|f| f.called && f.ir.is_none())
        {
            self.check_function(index);
        }
        lints::recursion(&mut self);
        lints::unused_imports(&mut self);
        if self.policy_lints {
            policy_lints::run(&mut self, facts, &exemptions, cover);
        }

        let sources = self
            .files
            .iter()
            .zip(std::mem::take(&mut self.lines))
            .map(|(f, lines)| ir::Source {
                path: f.path.clone(),
                text: f.text.clone(),
                lines,
            })
            .collect();
        // What was not checked is out of the policy's reach; it stays in the program, as
        // ids are positions, with a body that fails should it ever be evaluated.
        let globals = self
            .globals
            .iter_mut()
            .map(|g| {
                g.ir.take().or_else(|| {
                    self.files
                        .get(g.file)
                        .filter(|f| f.std)
                        .map(|_| ir::Global {
                            name: g.item.name.name.clone(),
                            file: Self::file_id(g.file),
                            frame: ir::Frame::default(),
                            value: ir::Expr::unchecked(Self::file_id(g.file), g.item.span),
                        })
                })
            })
            .collect::<Option<Vec<_>>>()
            .unwrap_or_default();
        let functions = self
            .functions
            .iter_mut()
            .map(|f| {
                f.ir.take().or_else(|| {
                    self.files
                        .get(f.file)
                        .filter(|f| f.std)
                        .map(|_| ir::Function {
                            name: f.item.name.name.clone(),
                            file: Self::file_id(f.file),
                            params: Vec::new(),
                            frame: ir::Frame::default(),
                            lets: Vec::new(),
                            body: ir::Expr::unchecked(Self::file_id(f.file), f.item.span),
                        })
                })
            })
            .collect::<Option<Vec<_>>>()
            .unwrap_or_default();
        let complete =
            globals.len() == self.globals.len() && functions.len() == self.functions.len();
        let regexes: Vec<ir::RegexPattern> = self.regexes.into_values().map(|(_, p)| p).collect();
        if !(complete && self.keep_rules) {
            return Outcome {
                program: None,
                diagnostics: self.diags,
                index: self.index,
                regexes,
            };
        }
        let program = ir::Program {
            sources,
            rules,
            exemptions,
            globals,
            functions,
            globs: self
                .globs
                .keys()
                .map(|patterns| {
                    patterns
                        .iter()
                        .filter_map(|source| self.glob_patterns.get(source).cloned())
                        .collect()
                })
                .collect(),
            regexes,
            cache_slots: 0,
            settings,
        };
        Outcome {
            program: Some(program),
            diagnostics: self.diags,
            index: self.index,
            regexes: Vec::new(),
        }
    }

    /// Creates every module's scope: declares its `let`s and `fn`s and resolves imports.
    fn declare_modules(&mut self) {
        for (file, source) in self.files.iter().enumerate() {
            let mut scope = ModuleScope {
                lets: Names::default(),
                fns: Names::default(),
                imports: Names::default(),
            };
            let mut seen: HashMap<&str, Span, Ids> = HashMap::default();
            for item in &source.module.items {
                let name = match item {
                    ast::Item::Let(item) => &item.name,
                    ast::Item::Fn(item) => &item.name,
                    _ => continue,
                };
                if let Some(first) = seen.get(name.name.as_str()) {
                    let first = *first;
                    self.diags.push(
                        Diagnostic::new(
                            Code::DuplicateName,
                            format!("`{}` is defined twice in this module", name.name),
                        )
                        .with_label(Self::file_id(file), name.span, "defined again here")
                        .with_label(Self::file_id(file), first, "first defined here")
                        .with_help("rename one of them"),
                    );
                    continue;
                }
                seen.insert(&name.name, name.span);
                match item {
                    ast::Item::Let(item) => {
                        self.define_item(
                            file,
                            SymbolKind::Global,
                            &item.name,
                            item.span,
                            item.doc.as_ref(),
                            item.ty.is_none(),
                        );
                        let id = GlobalId(self.globals.len() as u32);
                        self.globals.push(GlobalEntry {
                            file,
                            item,
                            state: GlobalState::Pending,
                            ir: None,
                        });
                        scope.lets.insert(item.name.name.clone(), id);
                    }
                    ast::Item::Fn(item) => {
                        let id = ir::FnId(self.functions.len() as u32);
                        let params: Vec<Type> = item
                            .params
                            .iter()
                            .map(|p| self.resolve_type(file, &p.ty))
                            .collect();
                        for (param, ty) in item.params.iter().zip(&params) {
                            let kind = SymbolKind::Parameter;
                            self.define_local(file, kind, &param.name, item.span, ty, false);
                        }
                        let ret = self.resolve_type(file, &item.ret);
                        self.define_item(
                            file,
                            SymbolKind::Function,
                            &item.name,
                            item.span,
                            item.doc.as_ref(),
                            false,
                        );
                        self.set_type(file, item.name.span.start, &ret);
                        self.functions.push(FnEntry {
                            file,
                            item,
                            params,
                            ret,
                            ir: None,
                            called: false,
                        });
                        scope.fns.insert(item.name.name.clone(), id);
                    }
                    _ => {}
                }
            }
            for item in &source.module.items {
                if let ast::Item::Import(import) = item {
                    // A failed import still binds its name, so that its uses do not
                    // each add an "unknown name" to the one error already reported.
                    let (alias, target, used) = match self.resolve_import(file, import) {
                        Some((alias, target)) => (alias, target, false),
                        None => match import_alias(import) {
                            Some(alias) => (alias, FAILED_IMPORT, true),
                            None => continue,
                        },
                    };
                    self.define_import(file, import, &alias, target);
                    if let Some(previous) = scope.imports.get(&alias) {
                        let first = previous.span;
                        self.diags.push(
                            Diagnostic::new(
                                Code::DuplicateName,
                                format!("`{alias}` is imported twice"),
                            )
                            .with_label(Self::file_id(file), import.span, "imported again here")
                            .with_label(Self::file_id(file), first, "first imported here")
                            .with_help("remove one import, or give one a different name with `as`"),
                        );
                        continue;
                    }
                    scope.imports.insert(
                        alias,
                        ImportEntry {
                            target,
                            span: import.span,
                            used,
                        },
                    );
                }
            }
            self.modules.push(scope);
        }
    }

    /// Finds the file an import names; returns its alias and file index.
    fn resolve_import(&mut self, file: usize, import: &ast::Import) -> Option<(String, usize)> {
        let files = self.files;
        match &import.target {
            ast::ImportTarget::Std(segments) => {
                let name = segments
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join("/");
                let path = format!("std/{name}.warden");
                let found = files.iter().position(|f| f.std && f.path == path);
                let Some(target) = found else {
                    let available = self.std_modules;
                    let help = match self.suggest(&name, available.iter().copied()) {
                        Some(close) => format!("did you mean `std.{}`?", close.replace('/', ".")),
                        None => format!(
                            "the standard modules are {}",
                            quoted_list(available, "std.")
                        ),
                    };
                    self.report(
                        file,
                        import.span,
                        Code::UnknownModule,
                        format!(
                            "there is no standard module `std.{}`",
                            name.replace('/', ".")
                        ),
                        "not a standard module",
                        Some(help),
                    );
                    return None;
                };
                Some((import_alias(import)?, target))
            }
            ast::ImportTarget::File { path, span } => {
                let Some(resolved) = resolve_relative(&files[file].path, path) else {
                    self.report(file, *span, Code::ImportEscapes, format!("import `{path}` leaves the policy directory"), "outside the policy", Some("a policy may only import files inside its own directory; copy the file into it".to_string()));
                    return None;
                };
                let found = files.iter().position(|f| !f.std && f.path == resolved);
                let Some(target) = found else {
                    let candidates: Vec<&str> = files
                        .iter()
                        .filter(|f| !f.std)
                        .map(|f| f.path.as_str())
                        .collect();
                    let help = match self.suggest(&resolved, candidates.iter().copied()) {
                        Some(close) => format!("did you mean `{close}`?"),
                        None => {
                            "the path is relative to the importing file's directory".to_string()
                        }
                    };
                    self.report(
                        file,
                        *span,
                        Code::UnknownModule,
                        format!("no file `{resolved}` in the policy"),
                        "not found",
                        Some(help),
                    );
                    return None;
                };
                if target == file {
                    self.report(
                        file,
                        *span,
                        Code::ImportSelf,
                        "a file cannot import itself".to_string(),
                        "this file",
                        Some("remove the import".to_string()),
                    );
                    return None;
                }
                Some((import_alias(import)?, target))
            }
        }
    }

    /// Resolves a written type, reporting unknown names.
    pub fn resolve_type(&mut self, file: usize, written: &ast::TypeExpr) -> Type {
        match &written.kind {
            ast::TypeExprKind::Named(name) => match Type::named(name) {
                Some(ty) => ty,
                None => {
                    let replacement = self.suggest(name, Type::all_names()).map(str::to_string);
                    let help = (replacement.as_ref())
                        .map(|close| format!("did you mean `{close}`?"))
                        .unwrap_or_else(|| "types are `bool`, `int`, `string`, `timestamp`, `duration`, `glob`, `regex`, `approvers`, `list<T>`, `map<T>`, `T?` and the change-model records".to_string());
                    self.report(
                        file,
                        written.span,
                        Code::UnknownType,
                        format!("unknown type `{name}`"),
                        "not a type",
                        Some(help),
                    );
                    self.replace_with(written.span, replacement);
                    Type::Error
                }
            },
            ast::TypeExprKind::List(inner) => Type::list(self.resolve_type(file, inner)),
            ast::TypeExprKind::Map(inner) => Type::map(self.resolve_type(file, inner)),
            ast::TypeExprKind::Optional(inner) => Type::optional(self.resolve_type(file, inner)),
            ast::TypeExprKind::Enum(variants) => Type::Enum(variants.clone().into()),
        }
    }

    /// Checks a top-level `let` (once; later calls return the recorded type).
    pub fn check_global(&mut self, id: GlobalId) -> Type {
        let Some(entry) = self.globals.get_mut(id.0 as usize) else {
            return Type::Error;
        };
        match &entry.state {
            GlobalState::Done(ty) => return ty.clone(),
            GlobalState::InProgress => {
                let (file, span, name) = (
                    entry.file,
                    entry.item.name.span,
                    entry.item.name.name.clone(),
                );
                self.report(
                    file,
                    span,
                    Code::Recursion,
                    format!("`{name}` is defined in terms of itself"),
                    "refers back to itself",
                    Some(
                        "a `let` cannot depend on its own value; compute it from other values"
                            .to_string(),
                    ),
                );
                return Type::Error;
            }
            GlobalState::Pending => entry.state = GlobalState::InProgress,
        }
        // A standard `let` is checked by its first reader: that reader's check is not
        // its own.
        if let Some(recording) = self.recording.as_deref_mut() {
            recording.uncacheable = true;
        }
        let (file, item) = (entry.file, entry.item);
        let (value, frame) = self.item_body(|checker| {
            let mut body = Body::new(file, Some(Owner::Global(id)));
            let value = checker.expr(&mut body, &item.value);
            let value = checker.annotate(file, item, value);
            checker.set_type(file, item.name.span.start, &value.ty);
            let frame = body.frame();
            checker.finish_body(&mut body);
            (value, frame)
        });
        let ty = value.ty.clone();
        if let Some(entry) = self.globals.get_mut(id.0 as usize) {
            entry.state = GlobalState::Done(ty.clone());
            entry.ir = Some(ir::Global {
                name: item.name.name.clone(),
                file: Self::file_id(file),
                frame,
                value,
            });
        }
        ty
    }

    /// Applies a `let`'s written type annotation, if any.
    fn annotate(&mut self, file: usize, item: &ast::LetItem, value: ir::Expr) -> ir::Expr {
        let Some(written) = &item.ty else {
            return value;
        };
        let expected = self.resolve_type(file, written);
        self.expect_type(file, &value, &expected, format_args!("the declared type"));
        ir::Expr {
            ty: expected,
            ..value
        }
    }

    fn check_function(&mut self, index: usize) {
        self.item_body(|checker| checker.check_function_body(index));
    }

    fn check_function_body(&mut self, index: usize) {
        let Some(entry) = self.functions.get(index) else {
            return;
        };
        let (file, item, params, ret) = (
            entry.file,
            entry.item,
            entry.params.clone(),
            entry.ret.clone(),
        );
        let mut body = Body::new(file, Some(Owner::Fn(ir::FnId(index as u32))));
        let mut slots = Vec::new();
        for (param, ty) in item.params.iter().zip(params) {
            slots.push(body.bind(&param.name.name, ty, param.name.span, false));
        }
        let lets = self.lets(&mut body, &item.body.lets);
        let result = self.expr(&mut body, &item.body.result);
        self.expect_type(
            file,
            &result,
            &ret,
            format_args!("the return type of `{}`", item.name.name),
        );
        let frame = body.frame();
        self.finish_body(&mut body);
        if let Some(entry) = self.functions.get_mut(index) {
            entry.ir = Some(ir::Function {
                name: item.name.name.clone(),
                file: Self::file_id(file),
                params: slots,
                frame,
                lets,
                body: result,
            });
        }
    }

    /// Checks a sequence of `let`s, binding each for what follows.
    pub fn lets(&mut self, body: &mut Body, lets: &[ast::LetItem]) -> Vec<(LocalId, ir::Expr)> {
        let mut lowered = Vec::new();
        for item in lets {
            let value = self.expr(body, &item.value);
            let value = self.annotate(body.file, item, value);
            let visible = Span::new(item.span.end, usize::MAX);
            let inferred = item.ty.is_none();
            self.define_local(
                body.file,
                SymbolKind::Local,
                &item.name,
                visible,
                &value.ty,
                inferred,
            );
            let slot = body.bind(&item.name.name, value.ty.clone(), item.name.span, true);
            lowered.push((slot, value));
        }
        lowered
    }

    /// Ends a body: reports `let`s that were never read.
    pub fn finish_body(&mut self, body: &mut Body) {
        for binding in std::mem::take(&mut body.bindings) {
            self.report_unused(body.file, &binding);
        }
    }

    pub fn report_unused(&mut self, file: usize, binding: &Binding) {
        if binding.warn_unused && !binding.used && !binding.name.starts_with('_') {
            self.report(
                file,
                binding.span,
                Code::UnusedLet,
                format!("`{}` is never used", binding.name),
                "bound here",
                Some(format!(
                    "remove it, or name it `_{}` to keep it",
                    binding.name
                )),
            );
        }
    }

    /// Reports a type mismatch unless `expr` fits `expected`.
    pub fn expect_type(
        &mut self,
        file: usize,
        expr: &ir::Expr,
        expected: &Type,
        what: fmt::Arguments<'_>,
    ) -> bool {
        if expr.ty.fits(expected) {
            // A string literal passed where a closed value set is wanted must be in it.
            match expected.unwrap_optional() {
                Type::Enum(variants) => {
                    self.enum_member(file, variants, &format!("`{expected}`"), expr);
                }
                Type::List(element) => {
                    if let Type::Enum(variants) = &**element {
                        let subject = format!("an element of `{expected}`");
                        self.enum_items(file, variants, &subject, expr);
                    }
                }
                _ => {}
            }
            return true;
        }
        let help = if expr.ty.is_optional() && expr.ty.unwrap_optional().fits(expected) {
            "the value may be missing: supply a default with `?? VALUE`".to_string()
        } else {
            format!("{what} must be `{expected}`")
        };
        self.report(
            file,
            expr.span,
            Code::TypeMismatch,
            format!("expected `{expected}`, found `{}`", expr.ty),
            &format!("this is `{}`", expr.ty),
            Some(help),
        );
        false
    }

    /// Checks rules, exemptions and the policy block across all policy files.
    fn check_policy_items(&mut self) -> PolicyItems {
        let files = self.files;
        self.environment_symbols = self.index.as_ref().map_or(0, |i| i.symbols.len());
        self.memo_environment();
        let mut rules = Vec::new();
        let mut names: Names<String, (usize, Span)> = Names::default();
        let mut exempt_items = Vec::new();
        let mut policy_items = Vec::new();
        for (file, source) in files.iter().enumerate() {
            for item in &source.module.items {
                let (name, kind) = match item {
                    ast::Item::Rule(rule) => (&rule.name, "rule"),
                    ast::Item::RuleOutline(rule) => (&rule.name, "rule"),
                    ast::Item::Exempt(exempt) => (&exempt.name, "exemption"),
                    ast::Item::Policy(policy) => {
                        if source.std {
                            self.report(
                                file,
                                policy.span,
                                Code::MisplacedItem,
                                "a standard module cannot hold a `policy` block".to_string(),
                                "not allowed here",
                                Some("move it into a policy file".to_string()),
                            );
                        } else {
                            policy_items.push((file, policy));
                        }
                        continue;
                    }
                    _ => continue,
                };
                if source.std {
                    self.report(
                        file,
                        name.span,
                        Code::MisplacedItem,
                        format!("a standard module cannot declare a {kind}"),
                        "not allowed here",
                        Some("standard modules hold only `let` and `fn`".to_string()),
                    );
                    continue;
                }
                if let Some((first_file, first_span)) = names.get(&name.name) {
                    let diagnostic = Diagnostic::new(
                        Code::DuplicateRule,
                        format!(
                            "the name `{}` is used by two rules or exemptions",
                            name.name
                        ),
                    )
                    .with_label(Self::file_id(file), name.span, "used again here")
                    .with_label(Self::file_id(*first_file), *first_span, "first used here")
                    .with_help(
                        "rule and exemption names must be unique across the policy; rename one",
                    );
                    self.diags.push(diagnostic);
                    continue;
                }
                names.insert(name.name.clone(), (file, name.span));
                if let Some(rule) = RuleSource::of(item) {
                    let (span, doc) = rule.place();
                    self.define_item(file, SymbolKind::Rule, name, span, doc, false);
                    rules.push((file, rule));
                }
                if let ast::Item::Exempt(exempt) = item {
                    self.define_item(
                        file,
                        SymbolKind::Exemption,
                        name,
                        exempt.span,
                        exempt.doc.as_ref(),
                        false,
                    );
                    exempt_items.push((file, exempt));
                }
            }
        }

        let settings = self.policy_settings(&policy_items);
        let rule_names: Vec<&str> = rules.iter().map(|(_, r)| r.name()).collect();
        let mut items = PolicyItems {
            rules: Vec::new(),
            facts: Vec::new(),
            cover: Cover::default(),
            exemptions: Vec::new(),
            settings: ir::Settings::default(),
        };
        // The lints over the policy run only without errors: after the first, no rule's
        // facts are taken.
        let mut seen = 0;
        let mut errors = self.policy_lints && policy_lints::unparsed(self);
        // One per rule at most: a vector grown by doubling holds up to twice that, and
        // three times while it moves (a large policy's facts are tens of megabytes).
        if self.policy_lints && !errors {
            items.facts.reserve_exact(rules.len());
        }
        for (index, (file, rule)) in rules.iter().enumerate() {
            let parsed;
            let rule = match rule {
                RuleSource::Tree(rule) => *rule,
                RuleSource::Outline(outline) => {
                    let text = files.get(*file).map_or("", |f| &*f.text);
                    match warden_syntax::parse_rule(text, Self::file_id(*file), outline) {
                        Some(rule) => {
                            parsed = rule;
                            &parsed
                        }
                        None => {
                            self.report(
                                *file,
                                outline.name.span,
                                Code::SyntaxError,
                                "this rule could not be read again".to_string(),
                                "not checked",
                                Some(
                                    "the file changed while it was checked; check it again"
                                        .to_string(),
                                ),
                            );
                            errors = true;
                            continue;
                        }
                    }
                }
            };
            let default = settings.default_override.as_ref();
            let lowered = self.rule_body(*file, rule.span, |checker| {
                checker.rule_memoized(*file, rule, default)
            });
            errors |= (self.diags.get(seen..).unwrap_or_default().iter()).any(Diagnostic::is_error);
            seen = self.diags.len();
            if self.policy_lints && !errors {
                let facts = policy_lints::rule_facts(self, index, &lowered, &mut items.cover);
                items.facts.push(facts);
            }
            if self.keep_rules {
                items.rules.push(lowered);
            }
        }
        items.exemptions = exempt_items
            .iter()
            .map(|(file, exempt)| self.exemption(*file, exempt, &rule_names))
            .collect();
        items.settings = settings;
        items
    }

    fn policy_settings(&mut self, items: &[(usize, &ast::PolicyItem)]) -> ir::Settings {
        let mut settings = ir::Settings::default();
        if let [(_, _), rest @ ..] = items {
            for (file, extra) in rest {
                self.report(
                    *file,
                    extra.span,
                    Code::DuplicatePolicy,
                    "a policy has more than one `policy` block".to_string(),
                    "another `policy` block",
                    Some("merge the entries into one `policy` block".to_string()),
                );
            }
        }
        let Some((file, policy)) = items.first() else {
            return settings;
        };
        for entry in &policy.entries {
            match entry {
                ast::PolicyEntry::Overridable(clause) => {
                    if settings.default_override.is_some() {
                        self.report(
                            *file,
                            clause.span,
                            Code::DuplicatePolicy,
                            "the default override is given twice".to_string(),
                            "given again here",
                            Some("keep one `overridable by` entry".to_string()),
                        );
                        continue;
                    }
                    let Some(by) = &clause.by else {
                        self.report(
                            *file,
                            clause.span,
                            Code::MissingOverrideSet,
                            "the policy default needs `by` and who may override".to_string(),
                            "no approver set",
                            Some("write `overridable by team(\"oncall\")`".to_string()),
                        );
                        continue;
                    };
                    settings.default_override =
                        Some(self.override_rule(*file, by, clause.condition.as_ref()));
                }
                ast::PolicyEntry::ApprovalAfterLastPush(span) => {
                    settings.approval_after_last_push = Some(self.location(*file, *span));
                }
            }
        }
        settings
    }

    /// Lowers `overridable by SET [where COND]` in a body of its own. `override` is
    /// always slot 0, so conditions inherited from the policy default stay valid.
    fn override_rule(
        &mut self,
        file: usize,
        by: &ast::Expr,
        condition: Option<&ast::Expr>,
    ) -> ir::OverrideRule {
        let mut body = Body::new(file, None);
        if let Some(condition) = condition {
            self.define_override(file, condition.span);
        }
        let slot = body.bind("override", Type::record("Override"), Span::default(), false);
        let by = self.expr(&mut body, by);
        self.expect_type(
            file,
            &by,
            &Type::Approvers,
            format_args!("who may override"),
        );
        let conditions = condition
            .map(|c| self.condition(&mut body, c, format_args!("an override condition")))
            .into_iter()
            .collect();
        let frame = body.frame();
        self.finish_body(&mut body);
        ir::OverrideRule {
            by,
            conditions,
            slot,
            frame,
        }
    }

    pub(crate) fn rule(
        &mut self,
        file: usize,
        rule: &ast::RuleItem,
        default: Option<&ir::OverrideRule>,
    ) -> ir::Rule {
        let overridable = match &rule.overridable {
            ast::Overridability::Never => None,
            ast::Overridability::Default => default.cloned(),
            ast::Overridability::Clause(clause) => match (&clause.by, default) {
                (Some(by), _) => Some(self.override_rule(file, by, clause.condition.as_ref())),
                (None, Some(default)) => {
                    // `overridable where C`: the policy's set and conditions, plus C.
                    let mut rule = default.clone();
                    if let Some(condition) = &clause.condition {
                        let mut body = Body::new(file, None);
                        self.define_override(file, condition.span);
                        body.bind("override", Type::record("Override"), Span::default(), false);
                        rule.conditions.push(self.condition(
                            &mut body,
                            condition,
                            format_args!("an override condition"),
                        ));
                        rule.frame.slots = rule.frame.slots.max(body.next_slot);
                        self.finish_body(&mut body);
                    }
                    Some(rule)
                }
                (None, None) => {
                    self.report(file, clause.span, Code::MissingOverrideSet, format!("rule `{}` is overridable but no one may override it", rule.name.name), "no approver set", Some("write `overridable by team(\"oncall\")`, or set a default in the `policy` block".to_string()));
                    None
                }
            },
        };

        let mut body = Body::new(file, None);
        let lets = self.lets(&mut body, &rule.lets);
        let when = rule.when.as_ref().map(|w| {
            let condition = self.condition(&mut body, w, format_args!("a `when` condition"));
            lints::constant_condition(self, file, &condition);
            condition
        });
        let demands = rule
            .demands
            .iter()
            .map(|d| self.demand(&mut body, d))
            .collect();
        let message = rule.message.as_ref().map(|m| self.template(&mut body, m));
        let frame = body.frame();
        self.finish_body(&mut body);
        ir::Rule {
            name: rule.name.name.clone(),
            doc: rule.doc.clone(),
            file: Self::file_id(file),
            span: rule.name.span,
            location: self.location(file, rule.name.span),
            advisory: rule.advisory,
            overridable,
            frame,
            lets,
            when,
            demands,
            message,
        }
    }

    /// Records `override`, bound in an `overridable … where` condition.
    fn define_override(&mut self, file: usize, condition: Span) {
        let doc = "The override, in an `overridable … where` condition.";
        let ty = Type::record("Override");
        self.define_implicit(file, "override", Span::default(), condition, &ty, doc);
    }

    pub fn location(&self, file: usize, span: Span) -> ir::Location {
        let (Some(source), Some(lines)) = (self.files.get(file), self.lines.get(file)) else {
            return ir::Location::default();
        };
        let (line, column) = lines.line_column(&source.text, span.start);
        ir::Location {
            file: source.path.clone(),
            line: line as u32,
            column: column as u32,
        }
    }

    fn demand(&mut self, body: &mut Body, demand: &ast::Demand) -> ir::Demand {
        match demand {
            ast::Demand::Deny {
                message,
                unless,
                span,
            } => ir::Demand::Deny {
                message: self.template(body, message),
                unless: (unless.as_ref()).map(|req| Box::new(self.approval(body, req))),
                span: *span,
            },
            ast::Demand::Approval(req) => ir::Demand::Approval(Box::new(self.approval(body, req))),
            ast::Demand::Condition {
                condition,
                message,
                deny,
                span,
            } => ir::Demand::Condition {
                condition: self.condition(body, condition, format_args!("a requirement")),
                message: self.template(body, message),
                deny: *deny,
                span: *span,
            },
        }
    }

    fn approval(&mut self, body: &mut Body, req: &ast::ApprovalReq) -> ir::ApprovalReq {
        let file = body.file;
        let count = match req.count.kind {
            ast::ExprKind::Int(n) => {
                if n == 0 {
                    self.report(
                        file,
                        req.count.span,
                        Code::ZeroApprovals,
                        "a requirement of 0 approvals is always met".to_string(),
                        "0 approvals",
                        Some("ask for at least 1 approval, or remove the requirement".to_string()),
                    );
                }
                // The parser admits only literals that fit.
                ir::ApprovalCount::Fixed(u32::try_from(n).unwrap_or(u32::MAX))
            }
            _ => {
                let count = self.expr(body, &req.count);
                self.expect_type(file, &count, &Type::Int, format_args!("an approval count"));
                ir::ApprovalCount::Computed(count)
            }
        };
        let list_of_names = Type::list(Type::Str);
        let source = match &req.source {
            ast::ApproverSource::Set(set) => {
                let set = self.expr(body, set);
                self.expect_type(
                    file,
                    &set,
                    &Type::Approvers,
                    format_args!("an approver set"),
                );
                ir::ApproverSource::Set(set)
            }
            ast::ApproverSource::EachTeam(list) | ast::ApproverSource::EachUser(list) => {
                let teams = matches!(req.source, ast::ApproverSource::EachTeam(_));
                let list = self.expr(body, list);
                let what = if teams {
                    "`each team in` needs a list of team names, which"
                } else {
                    "`each user in` needs a list of principal ids, which"
                };
                self.expect_type(file, &list, &list_of_names, format_args!("{what}"));
                if teams {
                    ir::ApproverSource::EachTeam(list)
                } else {
                    ir::ApproverSource::EachUser(list)
                }
            }
        };
        let mark = body.bindings.len();
        let principal = Type::record("Principal");
        // Only a `where` can name the approver: without one (most approvals) the index
        // has no symbol for it.
        if let Some(condition) = &req.condition {
            let doc = "The approver, in an approval requirement's `where`.";
            self.define_implicit(file, "approver", req.span, condition.span, &principal, doc);
        }
        let approver_slot = body.bind("approver", principal, req.span, false);
        let condition = req
            .condition
            .as_ref()
            .map(|c| self.condition(body, c, format_args!("an approver condition")));
        for binding in body.bindings.split_off(mark) {
            self.report_unused(file, &binding);
        }
        let text = self
            .files
            .get(file)
            .and_then(|f| f.text.get(req.span.start..req.span.end))
            .unwrap_or("")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        ir::ApprovalReq {
            count,
            source,
            condition,
            approver_slot,
            allow_stale: req.allow_stale,
            span: req.span,
            text,
        }
    }

    fn exemption(
        &mut self,
        file: usize,
        exempt: &ast::ExemptItem,
        rule_names: &[&str],
    ) -> ir::Exemption {
        let mut rules = Vec::new();
        for name in &exempt.rules {
            match rule_names.iter().position(|r| *r == name.name) {
                Some(index) => {
                    if let Some(rule) = self.index.as_deref().and_then(|i| i.rule(&name.name)) {
                        self.refer(file, name.span, Target::Symbol(rule), &Type::Error);
                    }
                    rules.push(index);
                }
                None => {
                    let replacement =
                        (self.suggest(&name.name, rule_names.iter().copied())).map(str::to_string);
                    let help = (replacement.as_ref())
                        .map(|close| format!("did you mean `{close}`?"))
                        .unwrap_or_else(|| "an exemption names the rules it lifts".to_string());
                    self.report(
                        file,
                        name.span,
                        Code::UnknownRule,
                        format!("there is no rule `{}`", name.name),
                        "not a rule of this policy",
                        Some(help),
                    );
                    self.replace_with(name.span, replacement);
                }
            }
        }
        if let (Some(index), Some(first), Some(last)) = (
            self.index.as_deref_mut(),
            exempt.rules.first(),
            exempt.rules.last(),
        ) {
            index
                .rule_lists
                .push((file, Span::new(first.span.start, last.span.end)));
        }
        let mut body = Body::new(file, None);
        let lets = self.lets(&mut body, &exempt.lets);
        let when = self.condition(&mut body, &exempt.when, format_args!("a `when` condition"));
        lints::constant_condition(self, file, &when);
        let frame = body.frame();
        self.finish_body(&mut body);
        ir::Exemption {
            name: exempt.name.name.clone(),
            doc: exempt.doc.clone(),
            file: Self::file_id(file),
            span: exempt.name.span,
            location: self.location(file, exempt.name.span),
            rules,
            frame,
            lets,
            when,
        }
    }

    /// Lowers a message template; every hole may be of any type.
    pub fn template(&mut self, body: &mut Body, template: &ast::Template) -> ir::Template {
        let parts = template
            .parts
            .iter()
            .map(|part| match part {
                ast::TemplatePart::Text(text) => ir::TemplatePart::Text(text.clone()),
                ast::TemplatePart::Hole(expr) => ir::TemplatePart::Hole(self.expr(body, expr)),
            })
            .collect();
        ir::Template { parts }
    }

    /// Registers a glob (one or more patterns matched as one), validating each pattern
    /// and keeping its translation for the evaluator.
    pub fn glob(&mut self, file: usize, patterns: Vec<(String, Span)>) -> Option<GlobId> {
        let mut valid = true;
        let std = self.files.get(file).is_some_and(|f| f.std);
        for (pattern, span) in &patterns {
            if self.glob_patterns.contains_key(pattern) {
                continue;
            }
            if std {
                self.glob_patterns
                    .insert(pattern.clone(), ir::GlobPattern::trusted(pattern));
                continue;
            }
            match ir::GlobPattern::new(pattern) {
                Err(error) => {
                    valid = false;
                    self.report(
                        file,
                        *span,
                        Code::InvalidGlob,
                        format!("`{pattern}` is not a valid glob"),
                        "invalid glob",
                        Some(format!("{}", error.kind())),
                    );
                }
                Ok(_) if looks_like_regex(pattern) => {
                    valid = false;
                    self.report(file, *span, Code::RegexAsGlob, format!("`{pattern}` looks like a regular expression, not a glob"), "written as a glob", Some("globs use `*` (within a directory) and `**` (across directories); for a regular expression write `regex(\"…\")` and `matches_regex`".to_string()));
                }
                Ok(glob) => {
                    self.glob_patterns.insert(pattern.clone(), glob);
                }
            }
        }
        if !valid {
            return None;
        }
        let key: Vec<String> = patterns.into_iter().map(|(p, _)| p).collect();
        Some(self.intern_glob(key))
    }

    /// The id of a glob of these patterns, a new one if it is the first.
    pub fn intern_glob(&mut self, key: Vec<String>) -> GlobId {
        let next = GlobId(self.globs.len() as u32);
        let recorded = self.recording.as_ref().map(|_| key.clone());
        let id = *self.globs.entry(key).or_insert(next);
        if let (Some(recording), Some(key)) = (self.recording.as_deref_mut(), recorded) {
            recording.globs.push((key, id));
        }
        id
    }

    pub fn regex(&mut self, file: usize, pattern: &str, span: Span) -> Option<RegexId> {
        if let Some((id, _)) = self.regexes.get(pattern) {
            let id = *id;
            if let Some(recording) = self.recording.as_deref_mut() {
                recording.regexes.push(id);
            }
            return Some(id);
        }
        // Only the syntax: compiling is left to the first use, as most regexes of a
        // policy are never needed by a given change.
        match regex_syntax::Parser::new().parse(pattern) {
            Ok(_) => {
                let id = RegexId(self.regexes.len() as u32);
                let source = ir::RegexPattern {
                    source: pattern.to_string(),
                    file: Self::file_id(file),
                    span,
                };
                self.regexes.insert(pattern.to_string(), (id, source));
                if let Some(recording) = self.recording.as_deref_mut() {
                    recording.regexes.push(id);
                }
                Some(id)
            }
            Err(error) => {
                let detail = error.to_string();
                let last = detail.lines().last().unwrap_or("").trim().to_string();
                self.report(
                    file,
                    span,
                    Code::InvalidRegex,
                    format!("`{pattern}` is not a valid regular expression"),
                    "invalid regular expression",
                    Some(last),
                );
                None
            }
        }
    }
}

/// The module index of an import that could not be resolved.
pub(crate) const FAILED_IMPORT: usize = usize::MAX;

/// The name an import binds: `as NAME`, the last segment of `std.a.b`, or a file's stem.
fn import_alias(import: &ast::Import) -> Option<String> {
    if let Some(alias) = &import.alias {
        return Some(alias.name.clone());
    }
    match &import.target {
        ast::ImportTarget::Std(segments) => segments.last().map(|s| s.name.clone()),
        ast::ImportTarget::File { path, .. } => {
            let stem = path.rsplit('/').next().unwrap_or(path);
            Some(
                stem.strip_suffix(".warden")
                    .unwrap_or(stem)
                    .replace(['-', '.'], "_"),
            )
        }
    }
}

/// A glob that is almost certainly a regex: anchors, escaped dots, character classes
/// like `\d`, `.+`, groups. (`.*` alone is a fine glob: `README.*`.)
fn looks_like_regex(pattern: &str) -> bool {
    // The tells `\.` `\d` `\w` `\s` `.+` `(?` `)+` `)*` `.*$` `.*)`, found by looking at
    // each pair and triple of bytes rather than searching the pattern once per tell.
    let tell = |pair: &[u8]| {
        matches!(
            pair,
            [b'\\', b'.' | b'd' | b'w' | b's'] | [b'.', b'+'] | [b'(', b'?'] | [b')', b'+' | b'*']
        )
    };
    let bytes = pattern.as_bytes();
    pattern.starts_with('^')
        || pattern.ends_with('$')
        || bytes.windows(2).any(tell)
        || bytes
            .windows(3)
            .any(|w| matches!(w, [b'.', b'*', b'$' | b')']))
}

/// Resolves `relative` against the directory of `importer`, both `/`-separated paths
/// under the policy root. `None` when it is absolute or climbs out of the root.
fn resolve_relative(importer: &str, relative: &str) -> Option<String> {
    if relative.starts_with('/') || relative.contains('\\') || relative.contains(':') {
        return None;
    }
    let mut parts: Vec<&str> = importer.split('/').collect();
    parts.pop();
    for segment in relative.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

pub(crate) fn quoted_list(items: &[&str], prefix: &str) -> String {
    items
        .iter()
        .map(|i| format!("`{prefix}{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "Did you mean" reads every name in scope: past `MAX_SUGGESTIONS` searches an
    /// analysis stops searching, so thousands of unknown names check in linear time.
    #[test]
    fn did_you_mean_is_searched_a_bounded_number_of_times() {
        let count = MAX_SUGGESTIONS + 5;
        let mut text: String = (0..count).map(|i| format!("let name{i} = 1\n")).collect();
        text.extend((0..count).map(|i| format!("let use{i} = nam{i}\n")));
        text.push_str("rule r {\n  deny \"x\"\n}\n");
        let (module, parse_errors) = warden_syntax::parse(&text, FileId(0));
        assert!(parse_errors.is_empty(), "{parse_errors:?}");
        let files = [SourceFile {
            path: "p.warden".to_owned(),
            text: text.into(),
            module: module.into(),
            std: false,
        }];
        let (_, diagnostics) = crate::check(&files, &[]);
        let unknown: Vec<_> = diagnostics
            .iter()
            .filter(|d| d.message.starts_with("unknown name"))
            .collect();
        assert_eq!(unknown.len(), count);
        let suggested = unknown
            .iter()
            .filter(|d| {
                d.help
                    .as_deref()
                    .is_some_and(|h| h.starts_with("did you mean"))
            })
            .count();
        assert_eq!(suggested, MAX_SUGGESTIONS);
    }

    #[test]
    fn relative_imports_stay_inside_the_policy() {
        assert_eq!(
            resolve_relative("a/b.warden", "c.warden").as_deref(),
            Some("a/c.warden")
        );
        assert_eq!(
            resolve_relative("a/b.warden", "../c.warden").as_deref(),
            Some("c.warden")
        );
        assert_eq!(resolve_relative("b.warden", "../c.warden"), None);
        assert_eq!(resolve_relative("b.warden", "/etc/passwd"), None);
    }

    /// The checker reads each field's type from its text in the change model's
    /// declaration: every one is a Warden type, which prints back as written.
    #[test]
    fn every_field_type_of_the_model_is_a_warden_type() {
        for record in warden_change::view::RECORDS {
            for field in record.fields {
                let ty = Type::parse_model(field.ty);
                assert_eq!(ty.to_string(), field.ty, "{}.{}", record.name, field.name);
            }
        }
    }

    #[test]
    fn the_keys_of_identified_records_are_string_fields_of_the_model() {
        let mut identified = 0;
        for name in crate::builtins::FUNCTION_NAMES {
            let Some((record, key)) = crate::builtins::identified_record(name) else {
                continue;
            };
            identified += 1;
            let Type::Record(index) = Type::record(record) else {
                panic!("`{name}` identifies `{record}`, which is no record of the model");
            };
            assert!(
                crate::ty::record_fields(index).any(|(field, ty)| field == key && ty == Type::Str),
                "`{record}` has no string field `{key}`"
            );
        }
        assert_eq!(identified, 3);
    }

    #[test]
    fn regex_shaped_globs_are_recognised() {
        assert!(looks_like_regex("^src/.*\\.rs$"));
        assert!(!looks_like_regex("src/**/*.rs"));
        assert!(!looks_like_regex("**/README.*"));
        assert!(looks_like_regex("src/.+\\.rs"));
        for tell in [
            "a\\db",
            "a\\wb",
            "a\\sb",
            "(?i)readme",
            "(ab)+",
            "(ab)*",
            "(a.*)/b",
            "a.*$b",
        ] {
            assert!(looks_like_regex(tell), "{tell}");
        }
        for glob in [
            "a.b",
            "(a)",
            "docs/*.md",
            "**/*.{rs,toml}",
            "a\\*b",
            "x.*",
            "$HOME/a",
        ] {
            assert!(!looks_like_regex(glob), "{glob}");
        }
    }
}
