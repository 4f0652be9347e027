//! Re-checking only what an edit changed, for the language server: a [`Memo`] keeps what
//! checking each rule produced (its IR, diagnostics and index entries, and what it did to
//! the policy-wide tables), so that the next check of the same policy replays a rule whose
//! text and environment did not change instead of checking it again.
//!
//! - The key of a rule is its file, its text (the item's span) and its doc comment: the
//!   rule's tree is a function of those. Its place in the file is not in the key: what is
//!   stored is relative to the rule's start, and moved to its new start when replayed.
//! - The environment a rule was checked in has two parts.
//!   - Its shape: the kind of check, the files' paths, and every item but the rules and
//!     exemptions in order: the text of imports and of the `policy` block, the kind and
//!     name of each `let` and `fn` (which fix their ids), and, for an indexed check, the
//!     symbols those items define (which fix the index's ids). When the shape changes,
//!     the memo is emptied: every rule is checked again.
//!   - The text of each `let` and `fn` of the policy. A stored rule notes the ones it
//!     reads, directly or through others (the closure of its reads when it was
//!     checked); it is replayed only when none of them changed since the last check.
//!     Editing a `let` re-checks its readers alone. (The closure is enough: a path to
//!     a changed item through items that did not change was there before.)
//!
//!   The places of those items are not in it, nor the other rules: what a stored rule
//!   refers to outside itself is by id (a `let`, a function, a symbol of the index those
//!   items define), never by place. A rule refers to no other rule (exemptions do: they
//!   are checked each time).
//! - A rule is stored only when everything its check produced is its own: every span of
//!   its diagnostics, index entries and IR lies within the rule, it made no "did you
//!   mean" search (those share a policy-wide budget), checked no standard `let` for the
//!   first time, reported no impossible value reached through a `let` (reported once
//!   per policy), and refers to no symbol of another rule or exemption. Anything else
//!   is checked each time.
//! - The lints over the policy (`policy_lints`) store what they find of a rule alone:
//!   its `impossible-condition` diagnostics and verdict, its `covered-glob` findings,
//!   and its `shadowed-rule` keys (reused while its glob and regex ids are unchanged).
//!   The rest of those lints compares rules with each other, or reads exemptions,
//!   `let`s and functions, and runs each time.
//! - Replaying re-creates the rule's effects in order: its glob and regex ids are
//!   interned again (the same patterns in the same order, so the tables equal a fresh
//!   check's) and its IR's ids rewritten to them; its index symbols get their new ids;
//!   the functions it calls are marked called, the imports it uses used.
//!
//! So a check with the memo gives the same program, diagnostics and index as one
//! without: the differential tests of the facade compare them over random edits.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;

use warden_change::Ids;

use warden_syntax::{Diagnostic, FileId, Span, ast};

use crate::SourceFile;
use crate::checker::{Checker, Owner};
use crate::index::{
    Call, MapTypes, Reference, Symbol, SymbolId, SymbolKind, Target, TypeId, Typed,
};
use crate::ir::{self, GlobId, RegexId};
use crate::policy_lints::Covered;
use crate::ty::Type;

/// What checking a policy's rules produced, by rule, for the next check of the policy.
#[derive(Debug, Default)]
pub struct Memo {
    /// The shape of the environment the stored rules were checked in (see the module's
    /// doc) ...
    env: String,
    /// ... the index symbols its items define (kind, name and file), for an indexed
    /// check ...
    env_symbols: Vec<(SymbolKind, String, usize)>,
    /// ... and the text of each `let` and `fn` of the policy at the last check, and those
    /// changed since (in the check running).
    texts: BTreeMap<Owner, Rc<str>>,
    changed: BTreeSet<Owner>,
    /// What each `let` and `fn` reads, in the check running.
    reads: BTreeMap<Owner, Vec<Owner>>,
    /// The rules of the check running (or last run), in the order checked ...
    rules: Vec<(RuleKey, Box<Recorded>)>,
    /// ... and of the one before, which the running one takes from: a rule the edit
    /// changed or removed is dropped with it.
    previous: HashMap<RuleKey, Box<Recorded>, Ids>,
    /// The rules of the check running, by their place in the program: where `rules`
    /// holds them, when it does.
    current: Vec<Option<Current>>,
    /// Counts of the last check, for tests and benchmarks.
    pub stats: Stats,
}

/// How many rules the last check with the memo replayed, checked, and stored for the
/// next.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    pub replayed: usize,
    pub checked: usize,
    pub stored: usize,
}

/// A rule of the check running that the memo holds.
#[derive(Debug)]
struct Current {
    /// Its place in [`Memo::rules`].
    stored: usize,
    /// Where the rule starts now.
    start: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct RuleKey {
    file: usize,
    text: String,
    doc: Option<String>,
}

/// A rule's check, every span relative to the rule's start.
#[derive(Debug)]
struct Recorded {
    rule: ir::Rule,
    /// `overridable` is the policy's default, cloned when replayed (it is not the rule's).
    inherits_default: bool,
    diags: Vec<Diagnostic>,
    symbols: Vec<Symbol>,
    /// The id of the first symbol the rule defined: ids from it on are the rule's own.
    first_symbol: SymbolId,
    references: Vec<Reference>,
    exprs: Vec<Typed>,
    calls: Vec<Call>,
    /// The types its index entries name: their type ids are places in it.
    types: Vec<Type>,
    used_by_policy: Vec<Owner>,
    /// The policy's `let`s and `fn`s it reads, directly or through others.
    reads: Vec<Owner>,
    effects: Effects,
    /// The translations of the glob patterns it interned.
    glob_patterns: Vec<(String, ir::GlobPattern)>,
    /// The regexes it interned: id then, and the pattern (span relative).
    regexes: Vec<(RegexId, ir::RegexPattern)>,
    /// What the lints over the policy found of it alone, once they ran on it.
    lints: Option<RuleLints>,
}

/// The part of the policy-wide lints that reads one rule alone (see `policy_lints`).
#[derive(Debug)]
pub(crate) struct RuleLints {
    /// `impossible-condition`'s diagnostics (spans relative), and whether it found one.
    pub impossible: Vec<Diagnostic>,
    pub never_applies: bool,
    /// `shadowed-rule`'s keys of the rule (taken while the lint runs).
    pub keys: Option<Option<crate::policy_lints::RuleKeys>>,
    /// `covered-glob`'s findings in the rule: span (relative), narrow and wide pattern.
    pub covered: Option<Vec<(Span, String, String)>>,
}

/// What checking a rule does to the checker beyond the lengths of its lists, recorded as
/// it happens (see [`Checker::recording`]).
#[derive(Debug, Default)]
pub(crate) struct Effects {
    /// Something makes the rule's check depend on the rest of the policy's: not stored.
    pub uncacheable: bool,
    pub called: Vec<ir::FnId>,
    /// Aliases of the imports it used, in its file.
    pub imports: Vec<String>,
    /// Each glob interned, with the id it got, in order.
    pub globs: Vec<(Vec<String>, GlobId)>,
    /// Each regex interned, in order.
    pub regexes: Vec<RegexId>,
    /// The rule being recorded: its file and span.
    pub file: usize,
    pub span: Span,
}

impl Effects {
    /// Whether `(file, span)` is the recorded rule's own.
    pub fn owns(&self, file: usize, span: Span) -> bool {
        file == self.file && self.span.start <= span.start && span.end <= self.span.end
    }
}

/// The environment of the rules of `files` (see the module's doc).
pub(crate) fn environment(files: &[SourceFile], std_modules: &[&str], kind: &str) -> String {
    let mut env = String::from(kind);
    for name in std_modules {
        env.push_str(name);
        env.push('\0');
    }
    for file in files {
        env.push_str(&format!("\u{1}{}\0{}\0", file.path, file.std));
        for item in &file.module.items {
            let span = match item {
                ast::Item::Rule(_) | ast::Item::RuleOutline(_) | ast::Item::Exempt(_) => continue,
                // Their text is compared by the rules that read them.
                ast::Item::Let(i) => {
                    env.push_str(&format!("let {}\0", i.name.name));
                    continue;
                }
                ast::Item::Fn(i) => {
                    env.push_str(&format!("fn {}\0", i.name.name));
                    continue;
                }
                ast::Item::Import(i) => i.span,
                ast::Item::Policy(i) => i.span,
                ast::Item::Error(span) => *span,
            };
            env.push_str(file.text.get(span.start..span.end).unwrap_or("\u{2}"));
            env.push('\0');
        }
    }
    env
}

impl Memo {
    /// The `index`th rule of the check running: where it is, and what is stored of it.
    fn slot(&self, index: usize) -> Option<(&Current, &Recorded)> {
        let current = self.current.get(index)?.as_ref()?;
        let (_, recorded) = self.rules.get(current.stored)?;
        Some((current, recorded))
    }

    fn slot_mut(&mut self, index: usize) -> Option<(&Current, &mut Recorded)> {
        let current = self.current.get(index)?.as_ref()?;
        let (_, recorded) = self.rules.get_mut(current.stored)?;
        Some((current, recorded))
    }

    /// Starts a check in an environment of shape `env`: what was stored in another is
    /// dropped.
    pub(crate) fn start(&mut self, env: String) {
        self.previous = std::mem::take(&mut self.rules).into_iter().collect();
        self.current.clear();
        if self.env != env {
            self.previous.clear();
            self.env = env;
        }
        self.stats = Stats::default();
    }

    /// Once the `let`s and `fn`s are checked, before the rules: their symbols (what an
    /// indexed check's stored rules refer to by id) must be the ones stored, and which of
    /// their texts changed is noted.
    pub(crate) fn environment_checked(
        &mut self,
        symbols: Vec<(SymbolKind, String, usize)>,
        texts: BTreeMap<Owner, Rc<str>>,
        reads: BTreeMap<Owner, Vec<Owner>>,
    ) {
        self.reads = reads;
        if self.env_symbols != symbols {
            self.previous.clear();
            self.env_symbols = symbols;
        }
        self.changed = (texts.iter())
            .filter(|(owner, text)| self.texts.get(owner) != Some(text))
            .map(|(owner, _)| *owner)
            .collect();
        self.texts = texts;
    }
}

/// The lengths of the checker's lists before a rule is checked.
struct Marks {
    diags: usize,
    used_by_policy: usize,
    deps: usize,
    symbols: usize,
    references: usize,
    exprs: usize,
    calls: usize,
    rule_lists: usize,
}

impl<'a> Checker<'a> {
    /// [`Checker::rule`], replayed from the memo when it holds the rule, else checked
    /// (and stored when it can be).
    pub(crate) fn rule_memoized(
        &mut self,
        file: usize,
        rule: &ast::RuleItem,
        default: Option<&ir::OverrideRule>,
    ) -> ir::Rule {
        let text = self
            .files
            .get(file)
            .and_then(|f| f.text.get(rule.span.start..rule.span.end));
        let (Some(memo), Some(text)) = (self.memo.as_deref_mut(), text) else {
            if let Some(memo) = self.memo.as_deref_mut() {
                memo.current.push(None);
            }
            return self.rule(file, rule, default);
        };
        let key = RuleKey {
            file,
            text: text.to_string(),
            doc: rule.doc.clone(),
        };
        if let Some(mut recorded) = memo.previous.remove(&key)
            && self.replayable(&recorded)
        {
            let (lowered, same_ids) = self.replay(file, rule.span.start, &recorded, default);
            // Its `shadowed-rule` keys hold its old ids.
            if !same_ids && let Some(lints) = &mut recorded.lints {
                lints.keys = None;
            }
            if let Some(memo) = self.memo.as_deref_mut() {
                memo.stats.replayed += 1;
                memo.stats.stored += 1;
                memo.current.push(Some(Current {
                    stored: memo.rules.len(),
                    start: rule.span.start,
                }));
                memo.rules.push((key, recorded));
            }
            return lowered;
        }
        let marks = self.marks();
        // `overridable where C` without a set adds C to the policy's default: not the
        // rule's alone.
        let shared_clause = matches!(&rule.overridable,
            ast::Overridability::Clause(clause) if clause.by.is_none());
        self.recording = Some(Box::new(Effects {
            uncacheable: shared_clause,
            file,
            span: rule.span,
            ..Effects::default()
        }));
        let asked = self.suggestions_asked.get();
        let lowered = self.rule(file, rule, default);
        let mut effects = self.recording.take();
        if let Some(effects) = effects.as_deref_mut() {
            effects.uncacheable |= self.suggestions_asked.get() != asked;
        }
        let recorded = effects.and_then(|effects| self.record(marks, *effects, &lowered, rule));
        if let Some(memo) = self.memo.as_deref_mut() {
            memo.stats.checked += 1;
            match recorded {
                Some(recorded) => {
                    memo.stats.stored += 1;
                    memo.current.push(Some(Current {
                        stored: memo.rules.len(),
                        start: rule.span.start,
                    }));
                    memo.rules.push((key, Box::new(recorded)));
                }
                None => memo.current.push(None),
            }
        }
        lowered
    }

    /// Notes the environment's symbols and texts in the memo (see
    /// [`Memo::environment_checked`]); called once the `let`s and `fn`s are checked.
    pub(crate) fn memo_environment(&mut self) {
        if self.memo.is_none() {
            return;
        }
        let symbols = (self.index.as_deref())
            .and_then(|i| i.symbols.get(..self.environment_symbols))
            .unwrap_or_default()
            .iter()
            .map(|s| (s.kind, s.name.clone(), s.file))
            .collect();
        let is_policy = |file: usize| self.files.get(file).is_some_and(|f| !f.std);
        let text = |file: usize, span: Span| -> Rc<str> {
            let text = self
                .files
                .get(file)
                .and_then(|f| f.text.get(span.start..span.end));
            Rc::from(text.unwrap_or(""))
        };
        let globals = (self.globals.iter().enumerate())
            .filter(|(_, g)| is_policy(g.file))
            .map(|(i, g)| {
                (
                    Owner::Global(ir::GlobalId(i as u32)),
                    text(g.file, g.item.span),
                )
            });
        let functions = (self.functions.iter().enumerate())
            .filter(|(_, f)| is_policy(f.file))
            .map(|(i, f)| (Owner::Fn(ir::FnId(i as u32)), text(f.file, f.item.span)));
        let texts = globals.chain(functions).collect();
        let mut reads: BTreeMap<Owner, Vec<Owner>> = BTreeMap::new();
        for (from, to, _, _) in &self.deps {
            reads.entry(*from).or_default().push(*to);
        }
        if let Some(memo) = self.memo.as_deref_mut() {
            memo.environment_checked(symbols, texts, reads);
        }
    }

    /// The policy's `let`s and `fn`s that a rule reading `direct` and calling `called`
    /// reads, directly or through others, in order.
    fn reads(&self, direct: &[Owner], called: &[ir::FnId]) -> Vec<Owner> {
        let Some(memo) = self.memo.as_deref() else {
            return Vec::new();
        };
        let mut seen = BTreeSet::new();
        let mut pending: Vec<Owner> = direct.to_vec();
        pending.extend(called.iter().map(|id| Owner::Fn(*id)));
        while let Some(owner) = pending.pop() {
            if seen.insert(owner) {
                pending.extend(memo.reads.get(&owner).into_iter().flatten().copied());
            }
        }
        seen.into_iter()
            .filter(|owner| memo.texts.contains_key(owner))
            .collect()
    }

    fn marks(&self) -> Marks {
        let index = self.index.as_deref();
        Marks {
            diags: self.diags.len(),
            used_by_policy: self.used_by_policy.len(),
            deps: self.deps.len(),
            symbols: index.map_or(0, |i| i.symbols.len()),
            references: index.map_or(0, |i| i.references.len()),
            exprs: index.map_or(0, |i| i.exprs.len()),
            calls: index.map_or(0, |i| i.calls.len()),
            rule_lists: index.map_or(0, |i| i.rule_lists.len()),
        }
    }

    /// What checking `rule` produced, relative to its start; `None` when some of it is
    /// not the rule's own (see the module's doc).
    fn record(
        &self,
        marks: Marks,
        effects: Effects,
        lowered: &ir::Rule,
        rule: &ast::RuleItem,
    ) -> Option<Recorded> {
        if effects.uncacheable || self.deps.len() != marks.deps {
            return None;
        }
        let mut own = Own {
            effects: &effects,
            fits: true,
        };
        let file_id = Checker::file_id(effects.file);
        let mut diags = self.diags.get(marks.diags..)?.to_vec();
        for diag in &mut diags {
            for label in &mut diag.labels {
                own.fits &= label.file == file_id;
                own.relative(&mut label.span);
            }
            for (span, _) in diag.suggestions.iter_mut() {
                own.relative(span);
            }
        }
        let index = self.index.as_deref();
        let mut symbols = tail(index.map(|i| &i.symbols), marks.symbols)?;
        for symbol in &mut symbols {
            own.fits &= symbol.file == effects.file;
            own.relative(&mut symbol.span);
            own.relative_extent(&mut symbol.extent);
        }
        let mut references = tail(index.map(|i| &i.references), marks.references)?;
        for reference in &mut references {
            own.fits &= reference.file == effects.file;
            own.relative(&mut reference.span);
        }
        let mut exprs = tail(index.map(|i| &i.exprs), marks.exprs)?;
        for typed in &mut exprs {
            own.fits &= typed.file == effects.file;
            own.relative(&mut typed.span);
        }
        let mut calls = tail(index.map(|i| &i.calls), marks.calls)?;
        for call in &mut calls {
            own.fits &= call.file == effects.file;
            own.relative(&mut call.span);
            own.relative(&mut call.callee);
            call.args.iter_mut().for_each(|a| own.relative(a));
        }
        own.fits &= index.is_none_or(|i| i.rule_lists.len() == marks.rule_lists);
        let mut types = Vec::new();
        if let Some(index) = index {
            let mut local: HashMap<TypeId, TypeId> = HashMap::new();
            let mut to_local = |id: TypeId| {
                *local.entry(id).or_insert_with(|| {
                    types.push(index.ty(id));
                    TypeId(types.len() as u32 - 1)
                })
            };
            let entries = (symbols.iter_mut().map(|e| e as &mut dyn MapTypes))
                .chain(references.iter_mut().map(|e| e as &mut dyn MapTypes))
                .chain(exprs.iter_mut().map(|e| e as &mut dyn MapTypes))
                .chain(calls.iter_mut().map(|e| e as &mut dyn MapTypes));
            for entry in entries {
                entry.map_types(&mut to_local);
            }
        }
        // Symbols it refers to are its own or defined by the environment: not by the
        // rules and exemptions before it, whose number the environment leaves open.
        let foreign = |target: &Target| {
            matches!(target, Target::Symbol(id)
                if (self.environment_symbols..marks.symbols).contains(id))
        };
        own.fits &= !references.iter().any(|r| foreign(&r.target));
        own.fits &= !calls.iter().any(|c| foreign(&c.target));
        let inherits_default = matches!(rule.overridable, ast::Overridability::Default);
        let mut stored = lowered.clone();
        if inherits_default {
            stored.overridable = None;
        }
        let mut same_file = true;
        visit_rule(&mut stored, &mut |span| own.relative(span), &mut |expr| {
            same_file &= expr.file == file_id;
        });
        let mut regexes = Vec::new();
        for id in &effects.regexes {
            let (_, (_, pattern)) = self.regexes.get_index(id.0 as usize)?;
            let mut pattern = pattern.clone();
            own.relative(&mut pattern.span);
            regexes.push((*id, pattern));
        }
        let fits = own.fits && same_file;
        let glob_patterns = (effects.globs.iter())
            .flat_map(|(key, _)| key.iter())
            .filter_map(|p| Some((p.clone(), self.glob_patterns.get(p)?.clone())))
            .collect();
        let used_by_policy = self.used_by_policy.get(marks.used_by_policy..)?.to_vec();
        let reads = self.reads(&used_by_policy, &effects.called);
        fits.then_some(Recorded {
            rule: stored,
            inherits_default,
            diags,
            symbols,
            first_symbol: marks.symbols,
            references,
            exprs,
            calls,
            types,
            used_by_policy,
            reads,
            effects,
            glob_patterns,
            regexes,
            lints: None,
        })
    }

    /// Whether what `recorded` read is as it was: no `let` or `fn` it reads changed, and
    /// the `let`s it reads are checked (a standard one is checked by its first reader,
    /// which must then be checked).
    fn replayable(&self, recorded: &Recorded) -> bool {
        let changed = self.memo.as_deref().map(|m| &m.changed);
        if changed.is_none_or(|changed| recorded.reads.iter().any(|o| changed.contains(o))) {
            return false;
        }
        recorded.used_by_policy.iter().all(|owner| match owner {
            Owner::Global(id) => self
                .globals
                .get(id.0 as usize)
                .is_some_and(|g| matches!(g.state, crate::checker::GlobalState::Done(_))),
            Owner::Fn(_) => true,
        })
    }

    /// Re-creates the effects of checking a rule now starting at `start`; returns its IR,
    /// and whether its glob and regex ids are the ones stored.
    fn replay(
        &mut self,
        file: usize,
        start: usize,
        recorded: &Recorded,
        default: Option<&ir::OverrideRule>,
    ) -> (ir::Rule, bool) {
        let mut place = |span: &mut Span| *span = moved(*span, 0, start);
        for (pattern, translated) in &recorded.glob_patterns {
            if !self.glob_patterns.contains_key(pattern) {
                self.glob_patterns
                    .insert(pattern.clone(), translated.clone());
            }
        }
        // Old id to new, per glob and regex the rule interned (a few).
        let mut globs: Vec<(GlobId, GlobId)> = Vec::new();
        for (key, old) in &recorded.effects.globs {
            let next = GlobId(self.globs.len() as u32);
            globs.push((*old, *self.globs.entry(key.clone()).or_insert(next)));
        }
        let mut regexes: Vec<(RegexId, RegexId)> = Vec::new();
        for (old, pattern) in &recorded.regexes {
            let id = match self.regexes.get(&pattern.source) {
                Some((id, _)) => *id,
                None => {
                    let id = RegexId(self.regexes.len() as u32);
                    let mut pattern = pattern.clone();
                    place(&mut pattern.span);
                    self.regexes.insert(pattern.source.clone(), (id, pattern));
                    id
                }
            };
            regexes.push((*old, id));
        }
        for id in &recorded.effects.called {
            if let Some(function) = self.functions.get_mut(id.0 as usize) {
                function.called = true;
            }
        }
        if let Some(scope) = self.modules.get_mut(file) {
            for alias in &recorded.effects.imports {
                if let Some(import) = scope.imports.get_mut(alias) {
                    import.used = true;
                }
            }
        }
        self.used_by_policy
            .extend(recorded.used_by_policy.iter().copied());
        for diag in &recorded.diags {
            let mut diag = diag.clone();
            diag.labels.iter_mut().for_each(|l| place(&mut l.span));
            diag.suggestions.iter_mut().for_each(|(s, _)| place(s));
            self.diags.push(diag);
        }
        if let Some(index) = self.index.as_deref_mut() {
            let ids: Vec<TypeId> = recorded.types.iter().map(|t| index.intern(t)).collect();
            let error = index.intern(&Type::Error);
            let retype = &mut |id: TypeId| ids.get(id.0 as usize).copied().unwrap_or(error);
            let first = index.symbols.len();
            let renumber = |target: &mut Target| {
                if let Target::Symbol(id) = target
                    && *id >= recorded.first_symbol
                {
                    *id = *id - recorded.first_symbol + first;
                }
            };
            for symbol in &recorded.symbols {
                let mut symbol = symbol.clone();
                symbol.map_types(retype);
                place(&mut symbol.span);
                if symbol.extent.end != usize::MAX {
                    place(&mut symbol.extent);
                } else {
                    symbol.extent.start += start;
                }
                index.replay_symbol(symbol);
            }
            for reference in &recorded.references {
                let mut reference = reference.clone();
                reference.map_types(retype);
                place(&mut reference.span);
                renumber(&mut reference.target);
                index.references.push(reference);
            }
            for typed in &recorded.exprs {
                let mut typed = typed.clone();
                typed.map_types(retype);
                place(&mut typed.span);
                index.exprs.push(typed);
            }
            for call in &recorded.calls {
                let mut call = call.clone();
                call.map_types(retype);
                place(&mut call.span);
                place(&mut call.callee);
                call.args.iter_mut().for_each(&mut place);
                renumber(&mut call.target);
                index.calls.push(call);
            }
        }
        let mut lowered = recorded.rule.clone();
        visit_rule(&mut lowered, &mut place, &mut |expr| match &mut expr.kind {
            ir::ExprKind::Glob(id) | ir::ExprKind::AnyFileMatches { glob: id, .. } => {
                *id = renamed(&globs, *id);
            }
            ir::ExprKind::Regex(id) => *id = renamed(&regexes, *id),
            _ => {}
        });
        if recorded.inherits_default {
            lowered.overridable = default.cloned();
        }
        lowered.file = FileId(file as u32);
        lowered.location = self.location(file, lowered.span);
        let same_ids = globs.iter().all(|(old, new)| old == new)
            && regexes.iter().all(|(old, new)| old == new);
        (lowered, same_ids)
    }

    /// The stored policy-wide lints of the `index`th rule of the program, when the memo
    /// holds them: its `impossible-condition` diagnostics are reported again.
    pub(crate) fn replay_lints(&mut self, index: usize) -> Option<bool> {
        let (current, recorded) = self.memo.as_deref()?.slot(index)?;
        let lints = recorded.lints.as_ref()?;
        for diag in &lints.impossible {
            let mut diag = diag.clone();
            for label in &mut diag.labels {
                label.span = moved(label.span, 0, current.start);
            }
            self.diags.push(diag);
        }
        Some(lints.never_applies)
    }

    /// Stores what the lints found of the `index`th rule alone: its diagnostics from
    /// `from` on, when they are all within it.
    pub(crate) fn store_lints(
        &mut self,
        index: usize,
        file: usize,
        from: usize,
        never_applies: bool,
    ) {
        let Some((current, recorded)) = self.memo.as_deref_mut().and_then(|m| m.slot_mut(index))
        else {
            return;
        };
        let mut own = Own {
            effects: &recorded.effects,
            fits: true,
        };
        let mut impossible = self.diags.get(from..).unwrap_or_default().to_vec();
        for diag in &mut impossible {
            for label in &mut diag.labels {
                own.fits &= label.file == Checker::file_id(file);
                own.relative_at(&mut label.span, current.start);
            }
            own.fits &= diag.suggestions.is_empty();
        }
        if own.fits {
            recorded.lints = Some(RuleLints {
                impossible,
                never_applies,
                keys: None,
                covered: None,
            });
        }
    }

    /// The stored `covered-glob` findings of the `index`th rule, moved to its place.
    pub(crate) fn replay_covered(&self, index: usize) -> Option<Vec<Covered>> {
        let (current, recorded) = self.memo.as_deref()?.slot(index)?;
        let covered = recorded.lints.as_ref()?.covered.as_ref()?;
        let file = Checker::file_id(recorded.effects.file);
        let place = |span: Span| moved(span, 0, current.start);
        Some(
            (covered.iter())
                .map(|(span, narrow, wide)| (file, place(*span), narrow.clone(), wide.clone()))
                .collect(),
        )
    }

    /// Stores the `covered-glob` findings of the `index`th rule, once its other lints
    /// are, when they are all within it.
    pub(crate) fn store_covered(&mut self, index: usize, found: &[Covered]) {
        let Some((current, recorded)) = self.memo.as_deref_mut().and_then(|m| m.slot_mut(index))
        else {
            return;
        };
        let mut own = Own {
            effects: &recorded.effects,
            fits: true,
        };
        let file = Checker::file_id(recorded.effects.file);
        let mut covered = Vec::with_capacity(found.len());
        for (at_file, span, narrow, wide) in found {
            own.fits &= *at_file == file;
            let mut at = *span;
            own.relative_at(&mut at, current.start);
            covered.push((at, narrow.clone(), wide.clone()));
        }
        if own.fits
            && let Some(lints) = recorded.lints.as_mut()
        {
            lints.covered = Some(covered);
        }
    }

    /// The `shadowed-rule` keys of the `index`th rule, when stored (taken: see
    /// [`Checker::store_keys`]).
    pub(crate) fn take_keys(
        &mut self,
        index: usize,
    ) -> Option<Option<crate::policy_lints::RuleKeys>> {
        let (_, recorded) = self.memo.as_deref_mut()?.slot_mut(index)?;
        recorded.lints.as_mut()?.keys.take()
    }

    /// Stores the `shadowed-rule` keys of the `index`th rule, once its other lints are.
    pub(crate) fn store_keys(&mut self, index: usize, keys: Option<crate::policy_lints::RuleKeys>) {
        let recorded = self.memo.as_deref_mut().and_then(|m| m.slot_mut(index));
        if let Some(lints) = recorded.and_then(|(_, r)| r.lints.as_mut()) {
            lints.keys = Some(keys);
        }
    }
}

/// The new id of `id`, given each old id with its new one.
fn renamed<T: Copy + PartialEq>(ids: &[(T, T)], id: T) -> T {
    ids.iter()
        .find(|(old, _)| *old == id)
        .map_or(id, |(_, new)| *new)
}

/// `span` moved from an item starting at `from` to one starting at `to`.
fn moved(span: Span, from: usize, to: usize) -> Span {
    Span::new(span.start - from + to, span.end - from + to)
}

/// The entries of an index list from `from` on (none without an index).
fn tail<T: Clone>(list: Option<&Vec<T>>, from: usize) -> Option<Vec<T>> {
    match list {
        Some(list) => Some(list.get(from..)?.to_vec()),
        None => Some(Vec::new()),
    }
}

/// Makes the spans of a recorded rule relative to its start, noting whether each is
/// the rule's own.
struct Own<'e> {
    effects: &'e Effects,
    fits: bool,
}

impl Own<'_> {
    fn relative(&mut self, span: &mut Span) {
        // `Span::default()` is a place of no item (`override`'s), not the rule's.
        if *span == Span::default() || !self.effects.owns(self.effects.file, *span) {
            self.fits = false;
            return;
        }
        *span = moved(*span, self.effects.span.start, 0);
    }

    /// As [`Own::relative`], for a span of the rule now starting at `start`.
    fn relative_at(&mut self, span: &mut Span, start: usize) {
        let length = self.effects.span.end - self.effects.span.start;
        if *span == Span::default() || span.start < start || span.end > start + length {
            self.fits = false;
            return;
        }
        *span = moved(*span, start, 0);
    }

    /// A body name's extent runs from its `let` to the end of its item, written
    /// `usize::MAX` (see [`Checker::lets`]).
    fn relative_extent(&mut self, extent: &mut Span) {
        if extent.end == usize::MAX {
            let mut start = Span::new(extent.start, extent.start);
            self.relative(&mut start);
            extent.start = start.start;
        } else {
            self.relative(extent);
        }
    }
}

/// Visits every span of a rule's IR (`span`) and every expression (`expr`, before its
/// span is visited).
fn visit_rule(
    rule: &mut ir::Rule,
    span: &mut dyn FnMut(&mut Span),
    expr: &mut dyn FnMut(&mut ir::Expr),
) {
    span(&mut rule.span);
    if let Some(overridable) = &mut rule.overridable {
        visit_expr(&mut overridable.by, span, expr);
        for condition in &mut overridable.conditions {
            visit_expr(condition, span, expr);
        }
    }
    for (_, value) in &mut rule.lets {
        visit_expr(value, span, expr);
    }
    if let Some(when) = &mut rule.when {
        visit_expr(when, span, expr);
    }
    for demand in &mut rule.demands {
        match demand {
            ir::Demand::Deny {
                message,
                unless,
                span: at,
            } => {
                span(at);
                visit_template(message, span, expr);
                if let Some(req) = unless {
                    visit_approval(req, span, expr);
                }
            }
            ir::Demand::Approval(req) => visit_approval(req, span, expr),
            ir::Demand::Condition {
                condition,
                message,
                span: at,
                ..
            } => {
                span(at);
                visit_expr(condition, span, expr);
                visit_template(message, span, expr);
            }
        }
    }
    if let Some(message) = &mut rule.message {
        visit_template(message, span, expr);
    }
}

fn visit_approval(
    req: &mut ir::ApprovalReq,
    span: &mut dyn FnMut(&mut Span),
    expr: &mut dyn FnMut(&mut ir::Expr),
) {
    span(&mut req.span);
    if let ir::ApprovalCount::Computed(count) = &mut req.count {
        visit_expr(count, span, expr);
    }
    match &mut req.source {
        ir::ApproverSource::Set(e)
        | ir::ApproverSource::EachTeam(e)
        | ir::ApproverSource::EachUser(e) => visit_expr(e, span, expr),
    }
    if let Some(condition) = &mut req.condition {
        visit_expr(condition, span, expr);
    }
}

fn visit_template(
    template: &mut ir::Template,
    span: &mut dyn FnMut(&mut Span),
    expr: &mut dyn FnMut(&mut ir::Expr),
) {
    for part in &mut template.parts {
        if let ir::TemplatePart::Hole(e) = part {
            visit_expr(e, span, expr);
        }
    }
}

fn visit_expr(
    e: &mut ir::Expr,
    span: &mut dyn FnMut(&mut Span),
    expr: &mut dyn FnMut(&mut ir::Expr),
) {
    expr(e);
    span(&mut e.span);
    crate::optimize::children(e, &mut |child| visit_expr(child, span, expr));
}
