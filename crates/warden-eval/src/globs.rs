//! Glob matching. globset parses each pattern and translates it to a regex (so globs
//! mean exactly what globset documents); regex-automata then compiles the translations:
//! every pattern of the policy into one multi-pattern regex, which reads each path once
//! and reports every pattern it matches, and each glob on its own for single tests.
//!
//! globset's own `GlobSet` was the first matcher; it runs several strategies and hash
//! lookups per path and took two thirds of the evaluation of a 10,000-file change. The
//! lazy DFA behind one anchored regex does the same work about three times faster.
//! Matchers are built on first use, so a policy pays only for what a change makes it test.

use std::sync::OnceLock;

use globset::GlobBuilder;
use regex_automata::meta::{self, Regex};
use regex_automata::util::syntax;
use regex_automata::{Anchored, Input, MatchKind, PatternSet};
use warden_check::ir::GlobId;

pub type BuildResult<T> = std::result::Result<T, String>;

/// The globs of a policy (each a list of patterns, matched when any pattern matches).
pub struct Globs {
    /// For each glob, the regexes of its patterns.
    regexes: Vec<Vec<String>>,
    all: OnceLock<BuildResult<AllGlobs>>,
    each: Vec<OnceLock<BuildResult<Regex>>>,
}

/// Every pattern of the policy in one regex, and the glob each pattern belongs to.
struct AllGlobs {
    regex: Regex,
    glob_of_pattern: Vec<GlobId>,
}

impl Globs {
    /// Translates every pattern. The checker has validated them, so an error here is a
    /// bug; it is returned rather than unwrapped.
    pub fn new(globs: &[Vec<String>]) -> BuildResult<Globs> {
        let regexes = globs
            .iter()
            .map(|patterns| patterns.iter().map(|p| translate(p)).collect())
            .collect::<BuildResult<Vec<Vec<String>>>>()?;
        Ok(Globs {
            each: regexes.iter().map(|_| OnceLock::new()).collect(),
            regexes,
            all: OnceLock::new(),
        })
    }

    pub fn len(&self) -> usize {
        self.regexes.len()
    }

    /// A scratch set sized for [`Globs::matching`]; reuse it across paths.
    pub fn scratch(&self) -> BuildResult<PatternSet> {
        Ok(PatternSet::new(self.all()?.regex.pattern_len()))
    }

    /// Calls `hit` with the glob of every pattern that matches `path`, in pattern order
    /// (a glob with several matching patterns is reported once per pattern).
    pub fn matching(
        &self,
        path: &str,
        scratch: &mut PatternSet,
        mut hit: impl FnMut(GlobId),
    ) -> BuildResult<()> {
        let all = self.all()?;
        scratch.clear();
        all.regex
            .which_overlapping_matches(&anchored(path), scratch);
        for pattern in scratch.iter() {
            if let Some(glob) = all.glob_of_pattern.get(pattern.as_usize()) {
                hit(*glob);
            }
        }
        Ok(())
    }

    /// Whether any pattern of one glob matches `text`.
    pub fn is_match(&self, glob: GlobId, text: &str) -> BuildResult<bool> {
        let (Some(regexes), Some(cell)) = (
            self.regexes.get(glob.0 as usize),
            self.each.get(glob.0 as usize),
        ) else {
            return Err(format!("unknown glob #{}", glob.0));
        };
        let regex = cell
            .get_or_init(|| build(regexes, MatchKind::LeftmostFirst))
            .as_ref()
            .map_err(Clone::clone)?;
        Ok(regex.is_match(anchored(text)))
    }

    fn all(&self) -> BuildResult<&AllGlobs> {
        self.all
            .get_or_init(|| {
                let mut patterns = Vec::new();
                let mut glob_of_pattern = Vec::new();
                for (index, regexes) in self.regexes.iter().enumerate() {
                    for regex in regexes {
                        patterns.push(regex.clone());
                        glob_of_pattern.push(GlobId(index as u32));
                    }
                }
                Ok(AllGlobs {
                    regex: build(&patterns, MatchKind::All)?,
                    glob_of_pattern,
                })
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// globset's translation of a pattern, with `/` matched only literally (`*` stays in
/// one path segment; `**` crosses them).
fn translate(pattern: &str) -> BuildResult<String> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map(|glob| glob.regex().to_owned())
        .map_err(|e| format!("glob `{pattern}`: {e}"))
}

fn build(patterns: &[String], kind: MatchKind) -> BuildResult<Regex> {
    // globset's regexes match bytes (`(?-u)`), so UTF-8 mode must be off.
    meta::Builder::new()
        .syntax(syntax::Config::new().utf8(false))
        .configure(meta::Config::new().match_kind(kind).utf8_empty(false))
        .build_many(patterns)
        .map_err(|e| e.to_string())
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
        let owned: Vec<Vec<String>> = globs
            .iter()
            .map(|g| g.iter().map(|p| p.to_string()).collect())
            .collect();
        Globs::new(&owned).unwrap()
    }

    fn matching(globs: &Globs, path: &str) -> Vec<u32> {
        let mut scratch = globs.scratch().unwrap();
        let mut hits = Vec::new();
        globs
            .matching(path, &mut scratch, |g| hits.push(g.0))
            .unwrap();
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
    fn an_unknown_glob_is_an_error_not_a_panic() {
        let g = globs(&[&["*"]]);
        assert!(g.is_match(GlobId(7), "x").is_err());
    }
}
