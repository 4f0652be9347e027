//! Glob matching. globset parses each pattern and translates it to a regex when the
//! checker checks it, or for a standard module's pattern when an automaton first needs
//! it (so globs mean exactly what globset documents); regex-automata
//! compiles the translations: the patterns together into one lazy DFA, which reads each
//! path once and reports every pattern it matches, and each glob on its own for single
//! tests.
//!
//! globset's own `GlobSet` was the first matcher; it runs several strategies and hash
//! lookups per path and took two thirds of the evaluation of a 10,000-file change. One
//! anchored lazy DFA does the same work three times faster. Its states are kept between
//! evaluations (they only depend on the patterns), and the PikeVM over the same NFA
//! answers should the DFA ever give up.
//!
//! Compiling every pattern costs more than matching a handful of paths: for a change of
//! a few files (one `warden eval` in CI), the automaton holds only the patterns whose
//! longest literal run occurs in one of its paths, as no other can match. Matchers are
//! built on first use, so a policy pays only for what a change makes it test.

use std::sync::{Arc, Mutex, OnceLock};

use regex_automata::hybrid::dfa::{self, DFA};
use regex_automata::meta::{self, Regex};
use regex_automata::nfa::thompson::{self, pikevm::PikeVM};
use regex_automata::util::syntax;
use regex_automata::{Anchored, Input, MatchKind, PatternSet};
use warden_check::ir::{GlobId, GlobPattern};

pub type BuildResult<T> = std::result::Result<T, String>;

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
    all: OnceLock<BuildResult<Arc<Automaton>>>,
    few: Mutex<Few>,
    /// For each glob, the matcher of its patterns alone.
    each: Vec<OnceLock<BuildResult<Regex>>>,
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
    /// Text that every path the pattern matches contains, if the pattern has some.
    literal: Option<String>,
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
    /// The globs of a checked program; nothing is compiled yet.
    pub fn new(globs: &[Vec<GlobPattern>]) -> Globs {
        let patterns = globs
            .iter()
            .enumerate()
            .flat_map(|(index, patterns)| {
                patterns.iter().map(move |pattern| Pattern {
                    glob: GlobId(index as u32),
                    pattern: pattern.clone(),
                    literal: required_literal(&pattern.source).map(str::to_string),
                })
            })
            .collect();
        Globs {
            each: globs.iter().map(|_| OnceLock::new()).collect(),
            patterns,
            all: OnceLock::new(),
            few: Mutex::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.each.len()
    }

    /// A matcher against every glob, for `paths`: every path it will be asked about.
    pub fn matcher<'p>(
        &self,
        paths: impl Iterator<Item = &'p str> + Clone,
    ) -> BuildResult<PathMatcher> {
        let automaton = match self.all.get() {
            Some(all) => Arc::clone(all.as_ref().map_err(Clone::clone)?),
            None => match self.few(paths)? {
                Some(automaton) => automaton,
                None => Arc::clone(self.all()?),
            },
        };
        let cache = lock(&automaton.cache).take();
        Ok(PathMatcher {
            cache: Some(cache.unwrap_or_else(|| automaton.dfa.create_cache())),
            automaton,
        })
    }

    /// Whether any pattern of one glob matches `text`.
    pub fn is_match(&self, glob: GlobId, text: &str) -> BuildResult<bool> {
        let Some(cell) = self.each.get(glob.0 as usize) else {
            return Err(format!("unknown glob #{}", glob.0));
        };
        let regex = cell
            .get_or_init(|| {
                // The patterns are in glob order: this glob's are one run.
                let first = self.patterns.partition_point(|p| p.glob < glob);
                let regexes = self.patterns[first..]
                    .iter()
                    .take_while(|p| p.glob == glob)
                    .map(|p| p.pattern.regex())
                    .collect::<BuildResult<Vec<_>>>()?;
                meta::Builder::new()
                    .syntax(bytes())
                    .configure(meta::Config::new().utf8_empty(false))
                    .build_many(&regexes)
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(Clone::clone)?;
        Ok(regex.is_match(anchored(text)))
    }

    /// The automaton of every pattern.
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

    fn automaton(&self, mut wanted: impl FnMut(&Pattern) -> bool) -> BuildResult<Automaton> {
        let mut regexes = Vec::new();
        let mut glob_of_pattern = Vec::new();
        for pattern in self.patterns.iter().filter(|p| wanted(p)) {
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
pub struct PathMatcher {
    automaton: Arc<Automaton>,
    /// Always `Some` until dropped.
    cache: Option<dfa::Cache>,
}

impl PathMatcher {
    /// Calls `hit` with the glob of every pattern that matches `path` (a glob with
    /// several matching patterns is reported once per pattern).
    pub fn matching(&mut self, path: &str, mut hit: impl FnMut(GlobId)) {
        let input = anchored(path);
        let dfa = &self.automaton.dfa;
        let Some(cache) = self.cache.as_mut() else {
            return self.matching_slowly(&input, hit);
        };
        // Every translation ends with `$`, so patterns match only at the end of the
        // path: the DFA is walked over the whole path, and the state after its end
        // holds every pattern that matches. (A general overlapping search, which
        // stops at each match, took a third longer.)
        let Ok(mut state) = dfa.start_state_forward(cache, &input) else {
            return self.matching_slowly(&input, hit);
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
                _ => return self.matching_slowly(&input, hit),
            }
        }
        match dfa.next_eoi_state(cache, state) {
            Ok(end) if end.is_match() => {
                for index in 0..dfa.match_len(cache, end) {
                    let pattern = dfa.match_pattern(cache, end, index);
                    if let Some(glob) = self.automaton.glob_of_pattern.get(pattern.as_usize()) {
                        hit(*glob);
                    }
                }
            }
            Ok(end) if !end.is_quit() => {}
            _ => self.matching_slowly(&input, hit),
        }
    }

    /// The same answer when the lazy DFA gives up (its cache keeps overflowing).
    fn matching_slowly(&self, input: &Input<'_>, mut hit: impl FnMut(GlobId)) {
        let fallback = &self.automaton.fallback;
        let mut cache = fallback.create_cache();
        let mut found = PatternSet::new(fallback.pattern_len());
        fallback.which_overlapping_matches(&mut cache, input, &mut found);
        for pattern in found.iter() {
            if let Some(glob) = self.automaton.glob_of_pattern.get(pattern.as_usize()) {
                hit(*glob);
            }
        }
    }
}

/// The DFA states built are kept for the next evaluation.
impl Drop for PathMatcher {
    fn drop(&mut self) {
        *lock(&self.automaton.cache) = self.cache.take();
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

/// globset's regexes match bytes (`(?-u)`), so UTF-8 mode must be off.
fn bytes() -> syntax::Config {
    syntax::Config::new().utf8(false)
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
        let mut hits = Vec::new();
        let mut matcher = globs.matcher([path].into_iter()).unwrap();
        matcher.matching(path, |g| hits.push(g.0));
        hits
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

    #[test]
    fn classes_alternations_and_non_ascii_paths() {
        let g = globs(&[&["{a,b}/[0-9]?.txt"], &["données/**"]]);
        assert_eq!(matching(&g, "a/1x.txt"), [0]);
        assert_eq!(matching(&g, "c/1x.txt"), Vec::<u32>::new());
        assert_eq!(matching(&g, "données/é.txt"), [1]);
    }

    #[test]
    fn the_fallback_gives_the_lazy_dfas_answers() {
        let g = globs(&[&["src/*.rs", "**/*.md"], &["src/**"], &["{a,b}/[0-9]?.txt"]]);
        let paths = ["src/main.rs", "src/a/README.md", "b/1x.txt", "other", ""];
        let mut matcher = g.matcher(paths.into_iter()).unwrap();
        for path in paths {
            let (mut fast, mut slow) = (Vec::new(), Vec::new());
            matcher.matching(path, |g| fast.push(g.0));
            matcher.matching_slowly(&anchored(path), |g| slow.push(g.0));
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
        let hits = |matcher: &mut PathMatcher| -> Vec<Vec<u32>> {
            paths
                .iter()
                .map(|path| {
                    let mut hits = Vec::new();
                    matcher.matching(path, |g| hits.push(g.0));
                    hits.sort();
                    hits
                })
                .collect()
        };
        let whole = globs(patterns);
        whole.all().unwrap();
        let expected = hits(&mut whole.matcher(paths.into_iter()).unwrap());
        let few = globs(patterns);
        assert_eq!(hits(&mut few.matcher(paths.into_iter()).unwrap()), expected);
        // Built for `Cargo.lock` alone, the automaton holds the patterns with its
        // literal (`**/Cargo.lock`) or with none (`{a,b}/[0-9]?.txt`, `*`, `**`).
        let lock = globs(patterns);
        assert_eq!(matching(&lock, "Cargo.lock"), [4, 5, 7]);
        let few = lock.few.lock().unwrap();
        assert_eq!(few.last.as_ref().unwrap().1.glob_of_pattern.len(), 4);
        drop(few);
        assert!(lock.all.get().is_none());
    }

    #[test]
    fn many_distinct_small_changes_get_the_automaton_of_every_pattern() {
        let g = globs(&[&["src/*.rs"], &["**/*.md"]]);
        for n in 0..FEW_BUILDS {
            assert_eq!(matching(&g, &format!("src/{n}.rs")), [0]);
        }
        assert!(g.all.get().is_none());
        assert_eq!(matching(&g, "docs/a.md"), [1]);
        assert!(g.all.get().is_some());
        assert_eq!(g.few.lock().unwrap().built, FEW_BUILDS);
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
}
