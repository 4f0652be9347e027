//! A checked policy made ready for evaluation, once per policy: its globs in one
//! matcher, its regexes compiled on first use, and the rule labels every report
//! repeats. Everything here is shared by all evaluations of the policy; what one
//! evaluation builds lives in the interpreter (`interp`).

use std::rc::Rc;
use std::sync::OnceLock;

use warden_check::ir::{self, GlobId, RegexId};

use crate::globs::{BuildResult, Globs};

/// A checked policy, compiled for evaluation: its globs matched together (so each path
/// is read once per evaluation), its regexes, and the labels every report repeats.
pub struct Compiled {
    pub program: ir::Program,
    pub(crate) globs: Globs,
    /// Each regex of the program, compiled on first use.
    regexes: Vec<OnceLock<BuildResult<regex::Regex>>>,
    labels: Vec<RuleLabel>,
}

impl Compiled {
    /// Prepares a checked program; its patterns are compiled when first used.
    pub fn new(program: ir::Program) -> Compiled {
        let globs = Globs::new(&program.globs);
        let labels = program
            .rules
            .iter()
            .enumerate()
            .map(|(index, rule)| RuleLabel {
                index,
                name: rule.name.as_str().into(),
                location: rule.location.to_string().into(),
                doc: rule.doc.as_deref().map(Rc::from),
            })
            .collect();
        Compiled {
            labels,
            globs,
            regexes: program.regexes.iter().map(|_| OnceLock::new()).collect(),
            program,
        }
    }

    /// A regex of the program, compiled the first time it is asked for. The checker
    /// has checked its syntax; compiling can still exceed the regex crate's size limit.
    pub fn regex(&self, id: RegexId) -> BuildResult<&regex::Regex> {
        let (Some(pattern), Some(cell)) = (
            self.program.regexes.get(id.0 as usize),
            self.regexes.get(id.0 as usize),
        ) else {
            return Err(format!("unknown regex #{}", id.0));
        };
        compile_once(pattern, cell)
            .map_err(|e| format!("the regex `{}` could not be compiled: {e}", pattern.source))
    }

    /// Compiles every regex now (for `warden check`): the regexes that cannot be, each
    /// with why.
    pub fn uncompilable_regexes(&self) -> Vec<(&ir::RegexPattern, String)> {
        self.program
            .regexes
            .iter()
            .zip(&self.regexes)
            .filter_map(|(pattern, cell)| Some((pattern, compile_once(pattern, cell).err()?)))
            .collect()
    }

    /// The name, location and documentation of every rule, in rule order, shared by
    /// every report.
    pub fn labels(&self) -> &[RuleLabel] {
        &self.labels
    }

    /// Appends a glob's patterns as written, separated by `` `, ` ``.
    pub fn write_glob_patterns(&self, glob: GlobId, out: &mut String) {
        let patterns = self.program.globs.get(glob.0 as usize);
        for (index, pattern) in patterns.into_iter().flatten().enumerate() {
            if index > 0 {
                out.push_str("`, `");
            }
            out.push_str(&pattern.source);
        }
    }
}

/// A regex compiled on first use, or why it cannot be.
fn compile_once<'c>(
    pattern: &ir::RegexPattern,
    cell: &'c OnceLock<BuildResult<regex::Regex>>,
) -> BuildResult<&'c regex::Regex> {
    cell.get_or_init(|| compile_regex(pattern))
        .as_ref()
        .map_err(Clone::clone)
}

/// Compiles a regex of the policy; the error is the regex crate's reason, in one line
/// (the checker checks the syntax: what is left is a regex too large to compile).
pub fn compile_regex(pattern: &ir::RegexPattern) -> Result<regex::Regex, String> {
    regex::Regex::new(&pattern.source).map_err(|e| {
        let reason = e.to_string();
        let last = reason.lines().last().unwrap_or_default();
        last.trim().trim_end_matches('.').to_string()
    })
}

/// What a report says of a rule whatever the change: built once per policy.
pub struct RuleLabel {
    pub index: usize,
    pub name: Rc<str>,
    pub location: Rc<str>,
    pub doc: Option<Rc<str>>,
}
