//! Whether one glob matches every path another matches, for the `covered-glob` lint.
//!
//! Each pattern is read as its translation (globset's regex, the very language the
//! evaluator matches), and the question is asked of two lazy DFAs walked together:
//! the narrow pattern is covered unless some input takes it to a match while the wide
//! one does not. This is exact for every glob syntax (braces, classes, `?`, `**`), so
//! the lint reports only what is certain; a walk that grows past its bounds answers
//! "not covered" and reports nothing.

use std::collections::{HashMap, HashSet};

use regex_automata::Anchored;
use regex_automata::hybrid::LazyStateID;
use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::nfa::thompson;
use regex_automata::util::{start, syntax};

use crate::ir::GlobPattern;

/// Pairs of states the walk may visit before it gives up.
const MAX_PAIRS: usize = 4096;
/// The lazy DFA's cache per pattern: a walk that would clear it gives up instead.
const CACHE_BYTES: usize = 1 << 20;
/// Automata kept for the next questions, then dropped all at once: keeping every
/// pattern's made a policy of 10,000 patterns hold 40 MB (about 4 KiB each) through
/// the lint. As many as a policy of 1,000 rules has keep their reuse (a pattern asked
/// about again, in another rule, walks the states already computed).
const MAX_AUTOMATA: usize = 1024;

/// The automata of the patterns asked about recently, each built once while kept.
#[derive(Default)]
pub struct Cover {
    automata: HashMap<String, Option<(DFA, Cache)>>,
}

impl Cover {
    /// Whether every path `narrow` matches is matched by `wide` (certain when `true`).
    pub fn covers(&mut self, wide: &GlobPattern, narrow: &GlobPattern) -> bool {
        if wide.source == narrow.source {
            return true;
        }
        let missing = [wide, narrow]
            .iter()
            .filter(|p| !self.automata.contains_key(&p.source))
            .count();
        if self.automata.len() + missing > MAX_AUTOMATA {
            self.automata.clear();
        }
        for pattern in [wide, narrow] {
            if !self.automata.contains_key(&pattern.source) {
                let automaton = build(pattern);
                self.automata.insert(pattern.source.clone(), automaton);
            }
        }
        // Two entries of one map, borrowed mutably at once: take one out and put it back.
        let Some(Some(mut wide_automaton)) = self.automata.remove(&wide.source) else {
            return false;
        };
        let covered = match self.automata.get_mut(&narrow.source) {
            Some(Some(narrow_automaton)) => walk(&mut wide_automaton, narrow_automaton),
            _ => Some(false),
        };
        self.automata
            .insert(wide.source.clone(), Some(wide_automaton));
        covered.unwrap_or(false)
    }
}

fn build(pattern: &GlobPattern) -> Option<(DFA, Cache)> {
    let regex = pattern.regex().ok()?;
    let dfa = DFA::builder()
        // globset's regexes match bytes (`(?-u)`) with `.` matching a line feed.
        .syntax(syntax::Config::new().utf8(false).dot_matches_new_line(true))
        .thompson(
            thompson::Config::new()
                .utf8(false)
                .which_captures(thompson::WhichCaptures::None),
        )
        .configure(DFA::config().cache_capacity(CACHE_BYTES))
        .build(&regex)
        .ok()?;
    let cache = dfa.create_cache();
    Some((dfa, cache))
}

/// `Some(true)` when no input reaches a match of `narrow` without one of `wide`;
/// `None` when the walk could not finish within its bounds.
fn walk(wide: &mut (DFA, Cache), narrow: &mut (DFA, Cache)) -> Option<bool> {
    let (wide_dfa, wide_cache) = wide;
    let (narrow_dfa, narrow_cache) = narrow;
    let clears = (wide_cache.clear_count(), narrow_cache.clear_count());
    let config = start::Config::new().anchored(Anchored::Yes);
    let first = (
        wide_dfa.start_state(wide_cache, &config).ok()?,
        narrow_dfa.start_state(narrow_cache, &config).ok()?,
    );
    let mut seen: HashSet<(LazyStateID, LazyStateID)> = HashSet::from([first]);
    let mut pending = vec![first];
    while let Some((wide_state, narrow_state)) = pending.pop() {
        if wide_state.is_quit() || narrow_state.is_quit() {
            return None;
        }
        // The translations end in `$`: a path matches when its end leads to a match.
        if narrow_dfa
            .next_eoi_state(narrow_cache, narrow_state)
            .ok()?
            .is_match()
            && !wide_dfa
                .next_eoi_state(wide_cache, wide_state)
                .ok()?
                .is_match()
        {
            return Some(false);
        }
        for byte in 0..=u8::MAX {
            let narrow_next = narrow_dfa
                .next_state(narrow_cache, narrow_state, byte)
                .ok()?;
            if narrow_next.is_dead() {
                continue;
            }
            let wide_next = wide_dfa.next_state(wide_cache, wide_state, byte).ok()?;
            if seen.insert((wide_next, narrow_next)) {
                if seen.len() > MAX_PAIRS {
                    return None;
                }
                pending.push((wide_next, narrow_next));
            }
        }
    }
    // A cleared cache renumbers states, which would make the walk's pairs meaningless.
    let unchanged = clears == (wide_cache.clear_count(), narrow_cache.clear_count());
    unchanged.then_some(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn covers(wide: &str, narrow: &str) -> bool {
        let pattern = |source: &str| GlobPattern::new(source).unwrap();
        Cover::default().covers(&pattern(wide), &pattern(narrow))
    }

    #[test]
    fn covers_exactly_what_the_translation_implies() {
        for (wide, narrow) in [
            ("src/**", "src/lib/**"),
            ("src/**", "src/*.rs"),
            ("**/*.rs", "src/*.rs"),
            ("**/*.rs", "src/**/main.rs"),
            ("**", "anything/at/all"),
            ("*.{md,txt}", "*.md"),
            ("src/[ab]*", "src/a*"),
            ("**/x", "x"),
            ("a/*", "a/?"),
        ] {
            assert!(covers(wide, narrow), "`{wide}` covers `{narrow}`");
        }
        for (wide, narrow) in [
            ("src/lib/**", "src/**"),
            ("src/*", "src/**"),
            ("*.rs", "src/*.rs"),
            ("src/**", "src"),
            ("**/*.rs", "**/*.rsx"),
            ("*.md", "*.{md,txt}"),
            ("SRC/**", "src/**"),
            ("a/*/b", "a/**/b"),
        ] {
            assert!(!covers(wide, narrow), "`{wide}` does not cover `{narrow}`");
        }
    }
}
