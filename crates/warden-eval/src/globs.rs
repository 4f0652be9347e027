//! Glob matching. globset parses each pattern and translates it to a regex when the
//! checker checks it, or for a standard module's pattern when an automaton first needs
//! it (so globs mean exactly what globset documents).
//!
//! Patterns of a common shape (`a/**`, `a/*.rs`, `**/*.tf`, `**/Dockerfile`, …; see
//! [`shape`]) become hash tables keyed by a path's segments and file name, the
//! directories a tree walked one segment at a time: a path costs a few look-ups of
//! short keys however many such patterns a policy has. regex-automata
//! compiles the translations of the other patterns together into one lazy DFA, which
//! reads each path once and reports every pattern it matches, and each pattern on its
//! own for single tests.
//!
//! globset's own `GlobSet` was the first matcher; it runs several strategies and hash
//! lookups per path and took two thirds of the evaluation of a 10,000-file change. One
//! anchored lazy DFA did the same work three times faster, until a policy of 173
//! distinct directory globs over 20,000 files, where its cache of states thrashed and
//! the time per file grew with the number of files. Its states are kept between
//! evaluations (they only depend on the patterns), and the PikeVM over the same NFA
//! answers should the DFA ever give up.
//!
//! Compiling every pattern costs more than matching a handful of paths: for a change of
//! a few files (one `warden eval` in CI), the automaton holds only the patterns whose
//! longest literal run occurs in one of its paths, as no other can match. Matchers are
//! built on first use, so a policy pays only for what a change makes it test.

mod paths;
mod shape;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use regex_automata::hybrid::dfa::{self, DFA};
use regex_automata::meta::{self, Regex};
use regex_automata::nfa::thompson::{self, pikevm::PikeVM};
use regex_automata::util::syntax;
use regex_automata::{Anchored, Input, MatchKind, PatternSet};
use warden_check::ir::{GlobId, GlobPattern};

pub use paths::PathIndex;
use paths::{Loc, NO_DIR};
use shape::{Name, Shape};

pub type BuildResult<T> = std::result::Result<T, String>;

/// No file: what [`PathMatcher::first_matches`] gives a glob no file matches.
pub(crate) const NO_FILE: u32 = u32::MAX;

/// Up to this many paths, a change gets an automaton of only the patterns it could
/// match; finding them reads every pattern's literal against every path.
const FEW_PATHS: usize = 64;

/// After this many small automata (one per distinct small change), a long-running
/// process is better served by the automaton of every pattern, built once.
const FEW_BUILDS: usize = 16;

/// The globs of a policy (each a list of patterns, matched when any pattern matches).
pub struct Globs {
    /// Every pattern of the policy, in glob order.
    patterns: Vec<Pattern>,
    /// The patterns of a common shape.
    tables: Tables,
    /// Whether some pattern has no shape, so that matching a path needs the automaton.
    irregular: bool,
    /// Whether every pattern is of a shape whose first match a [`PathIndex`] of a large
    /// change answers directly (see [`PathMatcher::indexed_first_matches`]).
    indexed: bool,
    all: OnceLock<BuildResult<Arc<Automaton>>>,
    few: Mutex<Few>,
    /// How many globs there are.
    globs: usize,
}

/// The small automata built so far.
#[derive(Default)]
struct Few {
    built: usize,
    /// The automaton of the last small change, and that change's paths.
    last: Option<(Vec<String>, Arc<Automaton>)>,
}

struct Pattern {
    glob: GlobId,
    pattern: GlobPattern,
    /// `None`: the pattern is matched by the automaton.
    shape: Option<Shape>,
    /// Text that every path the pattern matches contains, if the pattern has some.
    literal: Option<String>,
    /// Without a shape, the pattern's own matcher for single tests, compiled on first
    /// need.
    regex: OnceLock<BuildResult<Regex>>,
}

impl Pattern {
    fn regex(&self) -> BuildResult<&Regex> {
        self.regex
            .get_or_init(|| {
                meta::Builder::new()
                    .syntax(bytes())
                    .configure(meta::Config::new().utf8_empty(false))
                    .build(&self.pattern.regex()?)
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

type Table<T> = HashMap<Box<str>, Vec<T>, foldhash::fast::FixedState>;

/// The patterns of a common shape, by the part of a path each one tests.
#[derive(Default)]
struct Tables {
    /// [`Shape::Path`], by path.
    paths: Table<GlobId>,
    /// [`Shape::Below`] and [`Shape::In`] with a directory, in a tree of directories
    /// walked one segment of a path at a time.
    directories: Directory,
    /// [`Shape::In`] without a directory.
    root: Vec<(Name, GlobId)>,
    /// [`Shape::BelowSegment`], by segment: looked up with each segment of a parent.
    segments: Table<GlobId>,
    /// [`Shape::Anywhere`] with an exact name, by name.
    names: Table<GlobId>,
    /// [`Shape::Anywhere`] with a suffix that has a `.`, by the suffix's extension (from
    /// its last `.`): a file name ending with the suffix has the same extension.
    extensions: Table<(Box<str>, GlobId)>,
    /// The other [`Shape::Anywhere`]: tried on every file name.
    other_names: Vec<(Name, GlobId)>,
}

/// A directory some pattern names, and the directories below it that others name.
#[derive(Default)]
struct Directory {
    children: HashMap<Box<str>, Directory, foldhash::fast::FixedState>,
    /// The patterns of the files at any depth below it ([`Shape::Below`]).
    below: Vec<(Name, GlobId)>,
    /// The patterns of the files directly in it ([`Shape::In`]).
    within: Vec<(Name, GlobId)>,
}

impl Directory {
    /// The node of `dir` (a path without its file name), made if missing.
    fn make(&mut self, dir: &str) -> &mut Directory {
        dir.split('/').fold(self, |node, segment| {
            node.children.entry(segment.into()).or_default()
        })
    }
}

impl Tables {
    fn add(&mut self, shape: &Shape, glob: GlobId) {
        fn entry<'t, T>(table: &'t mut Table<T>, key: &str) -> &'t mut Vec<T> {
            table.entry(key.into()).or_default()
        }
        match shape {
            Shape::Path(path) => entry(&mut self.paths, path).push(glob),
            Shape::Below { dir, name } => {
                self.directories.make(dir).below.push((name.clone(), glob));
            }
            Shape::In {
                dir: Some(dir),
                name,
            } => self.directories.make(dir).within.push((name.clone(), glob)),
            Shape::In { dir: None, name } => self.root.push((name.clone(), glob)),
            Shape::BelowSegment(segment) => entry(&mut self.segments, segment).push(glob),
            Shape::Anywhere(Name::Exact(name)) => entry(&mut self.names, name).push(glob),
            Shape::Anywhere(Name::Suffix(suffix)) => match suffix.rfind('.') {
                Some(dot) => entry(&mut self.extensions, suffix.get(dot..).unwrap_or_default())
                    .push((suffix.clone(), glob)),
                None => self.other_names.push((Name::Suffix(suffix.clone()), glob)),
            },
            Shape::Anywhere(Name::Any) => self.other_names.push((Name::Any, glob)),
        }
    }
}

/// What the tables say of each directory and each file name of a [`PathIndex`]: a
/// path's patterns of a common shape are then those of its directory, tested on its
/// name, and those of its name.
#[derive(Default)]
pub(crate) struct Places<'g> {
    /// Per directory of the index, what its patterns are.
    dirs: Vec<DirPlace<'g>>,
    tests: Vec<(&'g Name, GlobId)>,
    /// Per file name, a range of `names_hits`: the globs that match it anywhere.
    names: Vec<(usize, usize)>,
    name_hits: Vec<GlobId>,
    /// The globs that match every file at any depth below a directory, whatever its
    /// name (`d/**`, `**/d/**`), with that directory: answered for the whole subtree
    /// at once by [`PathMatcher::first_matches`].
    subtrees: Vec<(u32, GlobId)>,
}

/// What the tables say of one directory (all in one place: there is one per directory
/// of a change, 18,499 at the peers' L).
#[derive(Clone, Copy)]
struct DirPlace<'g> {
    /// A range of `tests`: the patterns of the files at any depth below it (its own
    /// and its ancestors' [`Shape::Below`], and [`Shape::BelowSegment`] as any name).
    below: (usize, usize),
    /// Its node in the tree of named directories, if it is one: its [`Shape::In`]
    /// patterns and the children to look up.
    node: Option<&'g Directory>,
    /// Whether a pattern of it or of an ancestor tests the names below it.
    names_below: bool,
    /// Whether some pattern of its files tests their name (`d/*.rs`, `d/**/*.rs`), so
    /// that [`PathMatcher::first_matches`] must test them one by one.
    by_name: bool,
}

/// Any file name, for [`Shape::BelowSegment`].
static ANY_NAME: Name = Name::Any;

impl Tables {
    /// Looks up each directory and each file name of `index` once.
    fn places<'g>(&'g self, index: &PathIndex) -> Places<'g> {
        let mut places = Places {
            dirs: Vec::with_capacity(index.dirs.len()),
            tests: Vec::new(),
            names: Vec::with_capacity(index.names()),
            name_hits: Vec::new(),
            subtrees: Vec::new(),
        };
        for (id, dir) in index.dirs.iter().enumerate() {
            let (parent, inherited, inherited_names) = match dir.parent {
                NO_DIR => (Some(&self.directories), (0, 0), false),
                parent => match places.dirs.get(parent as usize) {
                    Some(parent) => (parent.node, parent.below, parent.names_below),
                    None => (None, (0, 0), true),
                },
            };
            // Most directories are below a named one that names nothing deeper, and
            // most policies name no directory anywhere (`**/d/**`): the segment is
            // then not read.
            let node = parent
                .filter(|parent| !parent.children.is_empty())
                .and_then(|parent| parent.children.get(index.segment(dir)));
            let own = node.map_or(&[][..], |node| &node.below[..]);
            let segments = if self.segments.is_empty() {
                None
            } else {
                self.segments.get(index.segment(dir))
            };
            let any_name = |(name, _): &&(Name, GlobId)| *name == Name::Any;
            let id = id as u32;
            places.subtrees.extend(
                own.iter()
                    .filter(any_name)
                    .map(|(_, glob)| (id, *glob))
                    .chain(segments.into_iter().flatten().map(|glob| (id, *glob))),
            );
            let names_below = inherited_names || own.iter().any(|entry| !any_name(&entry));
            // A directory that adds no pattern shares its parent's range.
            let below = if own.is_empty() && segments.is_none() {
                inherited
            } else {
                let start = places.tests.len();
                places.tests.extend_from_within(inherited.0..inherited.1);
                places
                    .tests
                    .extend(own.iter().map(|(name, glob)| (name, *glob)));
                // Once per glob: a path may repeat a segment many times.
                for glob in segments.into_iter().flatten() {
                    let inherited = places.tests.get(inherited.0..inherited.1);
                    if !inherited.unwrap_or_default().contains(&(&ANY_NAME, *glob)) {
                        places.tests.push((&ANY_NAME, *glob));
                    }
                }
                (start, places.tests.len())
            };
            places.dirs.push(DirPlace {
                below,
                node,
                names_below,
                by_name: names_below || node.is_some_and(|node| !node.within.is_empty()),
            });
        }
        for name in (0..index.names()).map(|at| index.name(at as u32)) {
            let start = places.name_hits.len();
            let hits = &mut places.name_hits;
            if !self.names.is_empty()
                && let Some(globs) = self.names.get(name)
            {
                hits.extend_from_slice(globs);
            }
            if !self.extensions.is_empty()
                && let Some(dot) = shape::last(name, b'.')
                && let Some(suffixes) = self.extensions.get(name.get(dot..).unwrap_or_default())
            {
                hits.extend(
                    suffixes
                        .iter()
                        .filter(|(suffix, _)| name.ends_with(&**suffix))
                        .map(|(_, glob)| *glob),
                );
            }
            hits.extend(
                self.other_names
                    .iter()
                    .filter(|(wanted, _)| wanted.matches(name))
                    .map(|(_, glob)| *glob),
            );
            places.names.push((start, places.name_hits.len()));
        }
        places
    }
}

/// Patterns in one automaton, and the glob each of them belongs to.
struct Automaton {
    dfa: DFA,
    /// The DFA's states built so far; taken by one [`PathMatcher`] at a time.
    cache: Mutex<Option<dfa::Cache>>,
    fallback: PikeVM,
    glob_of_pattern: Vec<GlobId>,
}

impl Globs {
    /// The globs of a checked program, their shapes in tables; nothing is compiled yet.
    pub fn new(globs: &[Vec<GlobPattern>]) -> Globs {
        let mut tables = Tables::default();
        let patterns: Vec<Pattern> = globs
            .iter()
            .enumerate()
            .flat_map(|(index, patterns)| {
                patterns.iter().map(move |pattern| Pattern {
                    glob: GlobId(index as u32),
                    pattern: pattern.clone(),
                    shape: Shape::of(&pattern.source),
                    literal: required_literal(&pattern.source).map(str::to_string),
                    regex: OnceLock::new(),
                })
            })
            .collect();
        for pattern in &patterns {
            if let Some(shape) = &pattern.shape {
                tables.add(shape, pattern.glob);
            }
        }
        Globs {
            globs: globs.len(),
            irregular: patterns.iter().any(|p| p.shape.is_none()),
            indexed: patterns
                .iter()
                .all(|p| p.shape.as_ref().is_some_and(Shape::first_is_indexed)),
            patterns,
            tables,
            all: OnceLock::new(),
            few: Mutex::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.globs
    }

    /// A matcher against every glob, for the paths of `index` (`paths`: the same paths,
    /// as text), with what the tables say of the index when an earlier matcher of the
    /// same index found it ([`PathMatcher::take_places`]).
    pub(crate) fn matcher<'g, 'i, 'p>(
        &'g self,
        index: &'i PathIndex,
        paths: impl Iterator<Item = &'p str> + Clone,
        places: Option<Places<'g>>,
    ) -> BuildResult<PathMatcher<'g, 'i>> {
        let automaton = if !self.irregular {
            None
        } else if let Some(all) = self.all.get() {
            Some(Arc::clone(all.as_ref().map_err(Clone::clone)?))
        } else {
            match self.few(paths)? {
                Some(automaton) => Some(automaton),
                None => Some(Arc::clone(self.all()?)),
            }
        };
        let cache = automaton.as_ref().map(|automaton| {
            lock(&automaton.cache)
                .take()
                .unwrap_or_else(|| automaton.dfa.create_cache())
        });
        Ok(PathMatcher {
            globs: self,
            index,
            places,
            automaton,
            cache,
        })
    }

    /// Whether any pattern of one glob matches `text`.
    pub fn is_match(&self, glob: GlobId, text: &str) -> BuildResult<bool> {
        if glob.0 as usize >= self.globs {
            return Err(format!("unknown glob #{}", glob.0));
        }
        // The patterns are in glob order: this glob's are one run.
        let first = self.patterns.partition_point(|p| p.glob < glob);
        let patterns = self.patterns.get(first..).unwrap_or_default();
        for pattern in patterns.iter().take_while(|p| p.glob == glob) {
            let matched = match &pattern.shape {
                Some(shape) => shape.matches(text),
                // Most tests end here, with nothing compiled: a pattern's literal run
                // is in every text it matches.
                None if pattern
                    .literal
                    .as_ref()
                    .is_some_and(|literal| !text.contains(literal.as_str())) =>
                {
                    false
                }
                None => pattern.regex()?.is_match(anchored(text)),
            };
            if matched {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The automaton of every pattern without a shape.
    fn all(&self) -> BuildResult<&Arc<Automaton>> {
        self.all
            .get_or_init(|| self.automaton(|_| true).map(Arc::new))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// For a change of at most [`FEW_PATHS`] paths, the automaton of the patterns that
    /// could match one of them; the last one built is kept, for the same change
    /// evaluated again. `None` for a larger change, or once [`FEW_BUILDS`] were built.
    fn few<'p>(
        &self,
        paths: impl Iterator<Item = &'p str> + Clone,
    ) -> BuildResult<Option<Arc<Automaton>>> {
        if paths.clone().nth(FEW_PATHS).is_some() {
            return Ok(None);
        }
        let mut few = lock(&self.few);
        if let Some((seen, automaton)) = &few.last
            && seen.iter().map(String::as_str).eq(paths.clone())
        {
            return Ok(Some(Arc::clone(automaton)));
        }
        if few.built >= FEW_BUILDS {
            return Ok(None);
        }
        let automaton = Arc::new(self.automaton(|pattern| match &pattern.literal {
            Some(literal) => paths.clone().any(|path| path.contains(literal.as_str())),
            None => true,
        })?);
        few.built += 1;
        few.last = Some((paths.map(str::to_string).collect(), Arc::clone(&automaton)));
        Ok(Some(automaton))
    }

    /// The automaton of the `wanted` patterns among those without a shape.
    fn automaton(&self, mut wanted: impl FnMut(&Pattern) -> bool) -> BuildResult<Automaton> {
        let mut regexes = Vec::new();
        let mut glob_of_pattern = Vec::new();
        for pattern in self
            .patterns
            .iter()
            .filter(|p| p.shape.is_none() && wanted(p))
        {
            regexes.push(pattern.pattern.regex()?);
            glob_of_pattern.push(pattern.glob);
        }
        let nfa = thompson::Compiler::new()
            .syntax(bytes())
            // Matching needs no capture groups; leaving them out shrinks the NFA.
            .configure(
                thompson::Config::new()
                    .utf8(false)
                    .which_captures(thompson::WhichCaptures::None),
            )
            .build_many(&regexes)
            .map_err(|e| e.to_string())?;
        let dfa = DFA::builder()
            .configure(DFA::config().match_kind(MatchKind::All))
            .build_from_nfa(nfa.clone())
            .map_err(|e| e.to_string())?;
        let fallback = PikeVM::builder()
            .configure(PikeVM::config().match_kind(MatchKind::All))
            .build_from_nfa(nfa)
            .map_err(|e| e.to_string())?;
        Ok(Automaton {
            cache: Mutex::new(Some(dfa.create_cache())),
            dfa,
            fallback,
            glob_of_pattern,
        })
    }
}

/// Matches paths against every glob of a policy; see [`Globs::matcher`].
pub struct PathMatcher<'g, 'i> {
    globs: &'g Globs,
    index: &'i PathIndex,
    /// Made on first need: [`PathMatcher::indexed_first_matches`] needs none.
    places: Option<Places<'g>>,
    /// For the patterns without a shape, if any.
    automaton: Option<Arc<Automaton>>,
    /// `Some` with the automaton until dropped.
    cache: Option<dfa::Cache>,
}

impl<'g> PathMatcher<'g, '_> {
    /// What the tables say of the index, for the next matcher of the same index.
    pub(crate) fn take_places(&mut self) -> Option<Places<'g>> {
        self.places.take()
    }

    /// What the tables say of the index, looked up on first need.
    fn places(&mut self) -> &Places<'g> {
        let (tables, index) = (&self.globs.tables, self.index);
        self.places.get_or_insert_with(|| tables.places(index))
    }

    /// Calls `hit` with the glob of every pattern that matches `path`, at `place` in
    /// the index (a glob with several matching patterns is reported once per pattern).
    pub(crate) fn matching(&mut self, path: &str, place: Loc, mut hit: impl FnMut(GlobId)) {
        self.places();
        self.by_directory(place, &mut hit);
        let Some(places) = &self.places else {
            return;
        };
        let (start, end) = places
            .names
            .get(place.name as usize)
            .copied()
            .unwrap_or_default();
        for &glob in places.name_hits.get(start..end).unwrap_or_default() {
            hit(glob);
        }
        self.by_path(path, &mut hit);
    }

    /// The patterns of the directory of `place` (and its ancestors') that match it.
    fn by_directory(&self, place: Loc, hit: &mut impl FnMut(GlobId)) {
        let name = self.index.name(place.name);
        let each = |entries: &[(Name, GlobId)], hit: &mut dyn FnMut(GlobId)| {
            for (wanted, glob) in entries {
                if wanted.matches(name) {
                    hit(*glob);
                }
            }
        };
        if place.dir == NO_DIR {
            return each(&self.globs.tables.root, hit);
        }
        let Some(places) = &self.places else {
            return;
        };
        let Some(dir) = places.dirs.get(place.dir as usize) else {
            return;
        };
        let (start, end) = dir.below;
        for (wanted, glob) in places.tests.get(start..end).unwrap_or_default() {
            if wanted.matches(name) {
                hit(*glob);
            }
        }
        if let Some(node) = dir.node {
            each(&node.within, hit);
        }
    }

    /// The patterns that need the whole path: exact paths, and those of the automaton.
    fn by_path(&mut self, path: &str, hit: &mut impl FnMut(GlobId)) {
        let tables = &self.globs.tables;
        if !tables.paths.is_empty()
            && let Some(globs) = tables.paths.get(path)
        {
            globs.iter().for_each(|&glob| hit(glob));
        }
        if self.automaton.is_some() {
            self.automaton_matching(path, hit);
        }
    }

    /// For each glob, the first of `files` (each the place of a path, or `None`; `path`
    /// gives the text of the path at a position) that matches it, or [`NO_FILE`]. Answers what `any` asks without visiting each file
    /// for most patterns: the first file directly in each directory and with each name
    /// are noted in one pass; a directory's subtree then gets the first file below it
    /// from its children (each directory comes after its parent), so `d/**` costs one
    /// look-up, and a name its first file for every glob that matches the name. Only
    /// the files of a directory whose patterns test names (`d/*.rs`), at the root, and
    /// every file when some pattern needs the whole path, are tested one by one.
    pub(crate) fn first_matches<'p>(
        &mut self,
        files: impl Iterator<Item = Option<Loc>>,
        path: impl Fn(usize) -> Option<&'p str>,
    ) -> Vec<u32> {
        self.places();
        let index = self.index;
        let mut first = vec![NO_FILE; self.globs.globs];
        let mut below = vec![NO_FILE; index.dirs.len()];
        let mut named = vec![NO_FILE; index.names()];
        let root_tests = !self.globs.tables.root.is_empty();
        let path_tests = !self.globs.tables.paths.is_empty() || self.automaton.is_some();
        // The files come in order: the first one noted is the least.
        let note = |slot: Option<&mut u32>, file: u32| {
            if let Some(slot) = slot
                && *slot == NO_FILE
            {
                *slot = file;
            }
        };
        for (at, place) in files.enumerate() {
            let Some(place) = place else {
                continue;
            };
            let file = at as u32;
            let mut hit = |glob: GlobId| note(first.get_mut(glob.0 as usize), file);
            note(named.get_mut(place.name as usize), file);
            let by_name = if place.dir == NO_DIR {
                root_tests
            } else {
                note(below.get_mut(place.dir as usize), file);
                self.places
                    .as_ref()
                    .and_then(|places| places.dirs.get(place.dir as usize))
                    .is_some_and(|dir| dir.by_name)
            };
            if by_name {
                self.by_directory(place, &mut hit);
            }
            if path_tests && let Some(path) = path(at) {
                self.by_path(path, &mut hit);
            }
        }
        for (dir, node) in index.dirs.iter().enumerate().rev() {
            let file = below.get(dir).copied().unwrap_or(NO_FILE);
            if let Some(parent) = below.get_mut(node.parent as usize) {
                *parent = (*parent).min(file);
            }
        }
        let mut least = |glob: GlobId, file: u32| {
            if let Some(slot) = first.get_mut(glob.0 as usize) {
                *slot = (*slot).min(file);
            }
        };
        let Some(places) = &self.places else {
            return first;
        };
        for &(dir, glob) in &places.subtrees {
            least(glob, below.get(dir as usize).copied().unwrap_or(NO_FILE));
        }
        for (&file, &(start, end)) in named.iter().zip(&places.names) {
            if file != NO_FILE {
                for &glob in places.name_hits.get(start..end).unwrap_or_default() {
                    least(glob, file);
                }
            }
        }
        first
    }

    /// For each glob, the first file whose path (not previous path) matches it, or
    /// [`NO_FILE`], as [`PathMatcher::first_matches`] finds it, when every pattern is
    /// of a shape the index of a large change answers: the policy's patterns are
    /// looked up in the index (`d/**`: the first file below `d`; `**/NAME`, `**/*.EXT`:
    /// the first with that name or extension; `d/*.EXT`: `d`'s files tested in order)
    /// instead of the change's directories and names in the policy's tables. `None`
    /// otherwise.
    pub(crate) fn indexed_first_matches(&self) -> Option<Vec<u32>> {
        let lookup = self.index.lookup.as_ref().filter(|_| self.globs.indexed)?;
        let index = self.index;
        let mut first = vec![NO_FILE; self.globs.globs];
        for pattern in &self.globs.patterns {
            let file = match &pattern.shape {
                Some(Shape::Below {
                    dir,
                    name: Name::Any,
                }) => index
                    .find_dir(dir)
                    .and_then(|dir| lookup.below.get(dir as usize).copied()),
                Some(Shape::In {
                    dir: Some(dir),
                    name,
                }) => index.find_dir(dir).and_then(|dir| {
                    lookup.files_in(dir).iter().copied().find(|&file| {
                        index
                            .files
                            .get(file as usize)
                            .is_some_and(|(place, _)| name.matches(index.name(place.name)))
                    })
                }),
                Some(Shape::Anywhere(Name::Exact(name))) => index
                    .find_name(name)
                    .and_then(|name| lookup.named.get(name as usize).copied()),
                Some(Shape::Anywhere(Name::Suffix(extension))) => {
                    lookup.extensions.get(&**extension).copied()
                }
                // Not indexed: `self.globs.indexed` is false.
                _ => return None,
            };
            if let (Some(file), Some(slot)) = (file, first.get_mut(pattern.glob.0 as usize)) {
                *slot = (*slot).min(file);
            }
        }
        Some(first)
    }

    /// The patterns without a shape that match `path`, through the lazy DFA.
    fn automaton_matching(&mut self, path: &str, mut hit: impl FnMut(GlobId)) {
        let input = anchored(path);
        let (Some(automaton), Some(cache)) = (self.automaton.as_deref(), self.cache.as_mut())
        else {
            return;
        };
        let dfa = &automaton.dfa;
        // Every translation ends with `$`, so patterns match only at the end of the
        // path: the DFA is walked over the whole path, and the state after its end
        // holds every pattern that matches. (A general overlapping search, which
        // stops at each match, took a third longer.)
        let Ok(mut state) = dfa.start_state_forward(cache, &input) else {
            return matching_slowly(automaton, &input, hit);
        };
        for &byte in path.as_bytes() {
            // The usual step, between two ordinary states already built, costs one
            // table read and one test; every other case (a state to build, the dead
            // or a match state) takes the checked step.
            if !state.is_tagged() {
                let next = dfa.next_state_untagged(cache, state, byte);
                if !next.is_tagged() {
                    state = next;
                    continue;
                }
            }
            match dfa.next_state(cache, state, byte) {
                Ok(next) if next.is_dead() => return,
                Ok(next) if !next.is_quit() => state = next,
                _ => return matching_slowly(automaton, &input, hit),
            }
        }
        match dfa.next_eoi_state(cache, state) {
            Ok(end) if end.is_match() => {
                for index in 0..dfa.match_len(cache, end) {
                    let pattern = dfa.match_pattern(cache, end, index);
                    if let Some(glob) = automaton.glob_of_pattern.get(pattern.as_usize()) {
                        hit(*glob);
                    }
                }
            }
            Ok(end) if !end.is_quit() => {}
            _ => matching_slowly(automaton, &input, hit),
        }
    }
}

/// The automaton's answer when the lazy DFA gives up (its cache keeps overflowing).
fn matching_slowly(automaton: &Automaton, input: &Input<'_>, mut hit: impl FnMut(GlobId)) {
    let fallback = &automaton.fallback;
    let mut cache = fallback.create_cache();
    let mut found = PatternSet::new(fallback.pattern_len());
    fallback.which_overlapping_matches(&mut cache, input, &mut found);
    for pattern in found.iter() {
        if let Some(glob) = automaton.glob_of_pattern.get(pattern.as_usize()) {
            hit(*glob);
        }
    }
}

/// The DFA states built are kept for the next evaluation.
impl Drop for PathMatcher<'_, '_> {
    fn drop(&mut self) {
        if let Some(automaton) = &self.automaton {
            *lock(&automaton.cache) = self.cache.take();
        }
    }
}

/// A lock whose holder panicked still guards a usable cache.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The longest run of literal characters of a pattern without a `/`: every path the
/// pattern matches contains it. `None` when no run is certain: a pattern with
/// alternatives, classes or escapes, or with wildcards only.
fn required_literal(pattern: &str) -> Option<&str> {
    if pattern.contains(['{', '[', '\\']) {
        return None;
    }
    pattern
        .split(['*', '?', '/'])
        .max_by_key(|run| run.len())
        .filter(|run| !run.is_empty())
}

/// globset's regexes match bytes (`(?-u)`), so UTF-8 mode must be off; globset
/// compiles them with `.` matching a line feed, and so do we.
fn bytes() -> syntax::Config {
    syntax::Config::new().utf8(false).dot_matches_new_line(true)
}

/// The translations start with `^` and end with `$`; saying so up front spares the
/// regex an unanchored scan.
fn anchored(text: &str) -> Input<'_> {
    Input::new(text).anchored(Anchored::Yes)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn globs(globs: &[&[&str]]) -> Globs {
        let patterns: Vec<Vec<GlobPattern>> = globs
            .iter()
            .map(|g| g.iter().map(|p| GlobPattern::new(p).unwrap()).collect())
            .collect();
        Globs::new(&patterns)
    }

    fn matching(globs: &Globs, path: &str) -> Vec<u32> {
        each_matching(globs, &[path]).remove(0)
    }

    /// The globs matching each path, through the index of the paths.
    fn each_matching(globs: &Globs, paths: &[&str]) -> Vec<Vec<u32>> {
        let index = PathIndex::of_paths(paths.iter().map(|path| (*path, None)));
        let mut matcher = globs.matcher(&index, paths.iter().copied(), None).unwrap();
        paths
            .iter()
            .zip(&index.files)
            .map(|(path, (place, _))| {
                let mut hits = Vec::new();
                matcher.matching(path, *place, |g| hits.push(g.0));
                hits.sort();
                hits
            })
            .collect()
    }

    #[test]
    fn a_star_stays_in_its_segment_and_a_double_star_crosses() {
        let g = globs(&[&["src/*.rs"], &["src/**/*.rs"], &["**/*.md", "docs/**"]]);
        assert_eq!(matching(&g, "src/main.rs"), [0, 1]);
        assert_eq!(matching(&g, "src/a/b.rs"), [1]);
        assert_eq!(matching(&g, "docs/x/README.md"), [2, 2]);
        assert_eq!(matching(&g, "xsrc/main.rs"), Vec::<u32>::new());
        assert!(g.is_match(GlobId(0), "src/lib.rs").unwrap());
        assert!(!g.is_match(GlobId(0), "src/a/lib.rs").unwrap());
        assert!(g.is_match(GlobId(2), "docs/deep/file.txt").unwrap());
    }

    /// A path of 100,000 directories named alike: matched in time linear in its
    /// length (each directory once, each glob once per directory).
    #[test]
    fn a_deep_path_of_one_repeated_directory() {
        let g = globs(&[&["**/d/**"], &["d/**"], &["d/d/*.rs"], &["**/*.rs"]]);
        let deep = "d/".repeat(100_000) + "x.rs";
        assert_eq!(matching(&g, &deep), [0, 1, 3]);
        assert_eq!(matching(&g, "d/d/x.rs"), [0, 1, 2, 3]);
    }

    #[test]
    fn classes_alternations_and_non_ascii_paths() {
        let g = globs(&[&["{a,b}/[0-9]?.txt"], &["données/**"]]);
        assert_eq!(matching(&g, "a/1x.txt"), [0]);
        assert_eq!(matching(&g, "c/1x.txt"), Vec::<u32>::new());
        assert_eq!(matching(&g, "données/é.txt"), [1]);
    }

    #[test]
    fn the_fallback_gives_the_lazy_dfas_answers() {
        let g = globs(&[
            &["src/[a-z]*.rs", "**/*.[m]d"],
            &["s?c/**"],
            &["{a,b}/[0-9]?.txt"],
        ]);
        let paths = ["src/main.rs", "src/a/README.md", "b/1x.txt", "other", ""];
        let index = PathIndex::of_paths(paths.iter().map(|path| (*path, None)));
        let mut matcher = g.matcher(&index, paths.into_iter(), None).unwrap();
        let automaton = Arc::clone(matcher.automaton.as_ref().unwrap());
        for path in paths {
            let (mut fast, mut slow) = (Vec::new(), Vec::new());
            matcher.automaton_matching(path, |g| fast.push(g.0));
            matching_slowly(&automaton, &anchored(path), |g| slow.push(g.0));
            fast.sort();
            assert_eq!(fast, slow, "{path}");
        }
    }

    #[test]
    fn a_small_change_gets_the_answers_of_the_automaton_of_every_pattern() {
        let patterns: &[&[&str]] = &[
            &["src/*.rs", "**/*.md"],
            &["**/migrations/**", "**/*.sql"],
            &["{a,b}/[0-9]?.txt"],
            &["docs/**"],
            &["**/Cargo.lock"],
            &["*"],
            &["**/x?y/**", "**/é*/**"],
            &["**"],
        ];
        let paths = [
            "src/main.rs",
            "db/migrations/1.sql",
            "migrations/2.sql",
            "a/1x.txt",
            "README.md",
            "Cargo.lock",
            "crates/a/Cargo.lock",
            "docs",
            "docs/a/b",
            "q/xzy/r",
            "données/été/x",
            "other",
        ];
        let whole = globs(patterns);
        whole.all().unwrap();
        let expected = each_matching(&whole, &paths);
        let few = globs(patterns);
        assert_eq!(each_matching(&few, &paths), expected);
        // Built for `Cargo.lock` alone, the automaton holds the patterns without a
        // shape that have its literal or none (`{a,b}/[0-9]?.txt`); `**/Cargo.lock`,
        // `*` and `**` are answered by the tables.
        let lock = globs(patterns);
        assert_eq!(matching(&lock, "Cargo.lock"), [4, 5, 7]);
        let few = lock.few.lock().unwrap();
        assert_eq!(few.last.as_ref().unwrap().1.glob_of_pattern.len(), 1);
        drop(few);
        assert!(lock.all.get().is_none());
    }

    #[test]
    fn many_distinct_small_changes_get_the_automaton_of_every_pattern() {
        let g = globs(&[&["src/[0-9]*.rs"], &["**/*.[m]d"]]);
        for n in 0..FEW_BUILDS {
            assert_eq!(matching(&g, &format!("src/{n}.rs")), [0]);
        }
        assert!(g.all.get().is_none());
        assert_eq!(matching(&g, "docs/a.md"), [1]);
        assert!(g.all.get().is_some());
        assert_eq!(g.few.lock().unwrap().built, FEW_BUILDS);
    }

    /// The tables, the automaton and single tests together give globset's answers,
    /// for every shape and its edge cases: root files against `**/x`, a directory
    /// against `d/**` (`d` itself does not match, `d/` does), dots, case, absolute and
    /// doubled slashes, line feeds (which globset's `**` matches).
    #[test]
    fn the_matcher_answers_as_globset_does() {
        let sources = [
            "Makefile",
            "a/b.txt",
            "payments/**",
            "a.b/**",
            "/abs/**",
            "a//**",
            "svc/**/*.proto",
            "svc/**/BUILD",
            "svc/**/*",
            "db/migrations/*.sql",
            "docs/*",
            "/*.md",
            "*.md",
            "*",
            "**",
            "**/",
            "**/*",
            "**/*.tf",
            "**/*.tar.gz",
            "**/*_test",
            "**/Dockerfile",
            "**/migrations/**",
            "**/a/b/**",
            "a/**/b/**",
            "src/?.rs",
            "{a,b}/**",
            "[ab]/**",
            "a\\*b",
            "PAYMENTS/**",
            "**/.env",
            ".*",
        ];
        let patterns: Vec<Vec<GlobPattern>> = sources
            .iter()
            .map(|s| vec![GlobPattern::new(s).unwrap()])
            .collect();
        let paths = [
            "",
            "Makefile",
            "x/Makefile",
            "a/b.txt",
            "a/b.txtx",
            "payments",
            "payments/",
            "payments/x",
            "payments/a/b",
            "Payments/x",
            "xpayments/y",
            "a.b/c",
            "axb/c",
            "/abs/x",
            "abs/x",
            "a//x",
            "a/x",
            "svc/a.proto",
            "svc/x/y/a.proto",
            "svc/.proto",
            "svcx/a.proto",
            "svc/BUILD",
            "svc/x/BUILD",
            "svc/BUILD.bazel",
            "db/migrations/1.sql",
            "db/migrations/x/1.sql",
            "db/migrations/.sql",
            "docs/a",
            "docs/a/b",
            "docs",
            "/x.md",
            "x.md",
            "a/x.md",
            ".md",
            "main.tf",
            "a/b/c.tf",
            "a/.tf",
            "x.tar.gz",
            "a/x.gz",
            "a/foo_test",
            "foo_test.go",
            "Dockerfile",
            "a/Dockerfile",
            "a/Dockerfile.dev",
            "migrations/x",
            "a/migrations/x",
            "a/migrations",
            "a/b/x",
            "x/a/b/y",
            "src/a.rs",
            "src/ab.rs",
            "a/x",
            "b/y",
            "a*b",
            "axb",
            "PAYMENTS/x",
            ".env",
            "a/.env",
            "a\nb",
            "payments/\nx",
            "a\n/Dockerfile",
            "x\n.tf",
            "a/migrations/\n",
            "svc/\n/a.proto",
            "é/payments/ü",
            "données/x.md",
        ];
        let g = Globs::new(&patterns);
        for (path, hits) in paths.iter().zip(each_matching(&g, &paths)) {
            let expected: Vec<u32> = (0..sources.len() as u32)
                .filter(|&i| {
                    globset::GlobBuilder::new(sources[i as usize])
                        .literal_separator(true)
                        .build()
                        .unwrap()
                        .compile_matcher()
                        .is_match(path)
                })
                .collect();
            assert_eq!(hits, expected, "{path:?}");
            for (index, source) in sources.iter().enumerate() {
                let single = g.is_match(GlobId(index as u32), path).unwrap();
                assert_eq!(
                    single,
                    expected.contains(&(index as u32)),
                    "{source} on {path:?}"
                );
            }
        }
    }

    /// In a large change, the first matches read from the index are those of the pass
    /// over the files, for every indexed shape, a glob of several patterns, and
    /// patterns no path matches; a small change and a policy with another shape are not
    /// answered from the index.
    #[test]
    fn the_index_gives_the_first_matches_of_the_pass_over_the_files() {
        let g = globs(&[
            &["a/**"],
            &["a/b/**", "**/*.md"],
            &["a/*.rs"],
            &["b/*"],
            &["**/Makefile"],
            &["**/*.rs"],
            &["/abs/**"],
            &["zz/**", "**/none.x", "**/*.none", "a/zz/*.rs"],
            &["a//**"],
        ]);
        let mut paths: Vec<String> = (0..80)
            .map(|n| match n % 8 {
                0 => format!("c/d{n}/x.txt"),
                1 => format!("a/b/c{}/y.md", n % 3),
                2 => "Makefile".to_string(),
                3 => format!("a/f{n}.rs"),
                4 if n % 16 == 4 => format!("b/{n}.md"),
                4 => format!("b/c/{n}.md"),
                5 => format!("/abs/x{n}"),
                6 => format!("a//z{n}.rs"),
                _ => format!("q/Makefile{n}"),
            })
            .collect();
        paths.reverse();
        let firsts = |paths: &[String], globs: &Globs| {
            let index = PathIndex::of_paths(paths.iter().map(|path| (path.as_str(), None)));
            let mut matcher = globs
                .matcher(&index, paths.iter().map(String::as_str), None)
                .unwrap();
            let indexed = matcher.indexed_first_matches();
            let places = index.files.iter().map(|(place, _)| Some(*place));
            let passed = matcher.first_matches(places, |at| paths.get(at).map(String::as_str));
            (indexed, passed)
        };
        let (indexed, passed) = firsts(&paths, &g);
        assert_eq!(indexed.as_ref(), Some(&passed));
        let unmatched: Vec<usize> = (0..passed.len())
            .filter(|&glob| passed[glob] == NO_FILE)
            .collect();
        assert_eq!(unmatched, [7]);
        let (indexed, _) = firsts(&paths[..FEW_PATHS], &g);
        assert_eq!(indexed, None);
        let other = globs(&[&["a/**"], &["**/migrations/**"]]);
        assert_eq!(firsts(&paths, &other).0, None);
    }

    #[test]
    fn literal_runs_never_span_a_slash_or_a_wildcard() {
        assert_eq!(required_literal("**/migrations/**"), Some("migrations"));
        assert_eq!(required_literal("**/*.sql"), Some(".sql"));
        assert_eq!(required_literal("src/*_test.rs"), Some("_test.rs"));
        assert_eq!(required_literal("a?bcd/de"), Some("bcd"));
        assert_eq!(required_literal("**"), None);
        assert_eq!(required_literal("{a,b}/x.txt"), None);
        assert_eq!(required_literal("[ab]/x.txt"), None);
        assert_eq!(required_literal("\\*.txt"), None);
    }

    #[test]
    fn an_unknown_glob_is_an_error_not_a_panic() {
        let g = globs(&[&["*"]]);
        assert!(g.is_match(GlobId(7), "x").is_err());
    }

    /// The table of `docs/language.md` ("Glob semantics"): each row's pattern matches
    /// the paths of its second column and none of its third.
    #[test]
    fn the_documented_glob_semantics_hold() {
        let docs = include_str!("../../../docs/language.md");
        let (_, table) = docs
            .split_once("<!-- glob semantics: pattern | matches | does not match -->")
            .unwrap();
        let (table, _) = table.split_once("<!-- end: glob semantics -->").unwrap();
        let code = |cell: &str| -> Vec<String> {
            cell.split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_string)
                .collect()
        };
        let mut rows = 0;
        for line in table.lines().filter(|l| l.starts_with("| `")) {
            let cells: Vec<&str> = line.split('|').collect();
            let pattern = code(cells[1]).remove(0);
            let g = globs(&[&[pattern.as_str()]]);
            for path in code(cells[2]) {
                assert_eq!(matching(&g, &path), [0], "`{pattern}` matches `{path}`");
            }
            for path in code(cells[3]) {
                assert!(
                    matching(&g, &path).is_empty(),
                    "`{pattern}` does not match `{path}`"
                );
            }
            rows += 1;
        }
        assert!(rows >= 10, "the table has {rows} rows");
    }
}
