//! Warden's checker: resolves modules and names, type-checks every item against the
//! change model and the standard library, runs the lints, and lowers the policy to the
//! typed IR the evaluator runs. It does no IO: the facade hands it parsed sources.

mod builtins;
mod checker;
mod expr;
mod glob_cover;
pub mod index;
pub mod ir;
mod lints;
mod memo;
mod optimize;
mod policy_lints;
pub mod ty;

use std::rc::Rc;

pub use builtins::{FUNCTION_NAMES, Signature, function_signature, method_names, method_signature};
pub use memo::{Memo, Stats};

use warden_syntax::{Diagnostic, ast};

/// One parsed source file of a policy or of the standard library.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// `/`-separated path relative to the policy root (`review.warden`,
    /// `lib/owners.warden`); standard modules are `std/NAME.warden`.
    pub path: String,
    pub text: Rc<str>,
    /// Shared with the language server's parse cache, never copied.
    pub module: Rc<ast::Module>,
    /// A standard-library module: imported as `std.NAME`, never evaluated on its own.
    pub std: bool,
}

/// Checks a policy. `files[i]` has `FileId(i)`; standard modules need only be among
/// them when imported, and `std_modules` names every one that exists (`ai`, `paths`),
/// for "did you mean". Returns the program when there is no error (warnings allow
/// it), and every diagnostic, sorted.
pub fn check(files: &[SourceFile], std_modules: &[&str]) -> (Option<ir::Program>, Vec<Diagnostic>) {
    let outcome = checked(checker::Checker::new(files, std_modules));
    (outcome.program, outcome.diagnostics)
}

/// As [`check`], without the lints over the policy as a whole (`shadowed-rule`,
/// `covered-glob`, `impossible-condition`, `unused-let`, …: see `policy_lints`): an
/// evaluation needs the program and its errors, and those warnings are for `warden
/// check` and the editor. They cost a sixth of loading a large policy, and no lint is
/// an error, so the program and every error are the same as [`check`]'s.
pub fn check_to_evaluate(
    files: &[SourceFile],
    std_modules: &[&str],
) -> (Option<ir::Program>, Vec<Diagnostic>) {
    let mut checker = checker::Checker::new(files, std_modules);
    checker.policy_lints = false;
    let outcome = checked(checker);
    (outcome.program, outcome.diagnostics)
}

/// As [`check`] for what needs the diagnostics and no program (`warden check`, the
/// language server): each rule's IR is dropped once the lints have its facts, and the
/// policy's regexes are returned for their size check (the checker checks their
/// syntax). With `memo`, the rules the last check of this policy stored and whose text
/// and environment did not change are replayed, and this check's are stored (see
/// [`memo`]); `indexed` also records the [`index::Index`] of the names and expressions
/// of its scope. An index around a place is for requests there: it is checked without
/// memo, and without the lints over the policy as a whole.
pub fn check_without_program(
    files: &[SourceFile],
    std_modules: &[&str],
    memo: Option<&mut Memo>,
    indexed: Option<index::Scope>,
) -> Diagnosed {
    let mut checker = match indexed {
        Some(scope) => checker::Checker::indexed(files, std_modules, scope),
        None => checker::Checker::new(files, std_modules),
    };
    checker.keep_rules = false;
    let around = matches!(indexed, Some(index::Scope::Around { .. }));
    checker.memo = memo.filter(|_| !around);
    // Of no use to requests at a place, and a sixth of a large policy's check.
    checker.policy_lints = !around;
    let outcome = checked(checker);
    Diagnosed {
        diagnostics: outcome.diagnostics,
        index: outcome.index.map(|i| *i),
        regexes: outcome.regexes,
    }
}

/// What [`check_without_program`] gives.
pub struct Diagnosed {
    pub diagnostics: Vec<Diagnostic>,
    pub index: Option<index::Index>,
    pub regexes: Vec<ir::RegexPattern>,
}

/// As [`check`], replaying from `memo` the rules the last check of this policy stored
/// and whose text and environment did not change, and storing this check's for the next
/// (see [`memo`]). The result is [`check`]'s.
pub fn check_memoized(
    files: &[SourceFile],
    std_modules: &[&str],
    memo: &mut Memo,
) -> (Option<ir::Program>, Vec<Diagnostic>) {
    let mut checker = checker::Checker::new(files, std_modules);
    checker.memo = Some(memo);
    let outcome = checked(checker);
    (outcome.program, outcome.diagnostics)
}

fn checked(checker: checker::Checker<'_>) -> checker::Outcome {
    let mut outcome = checker.run();
    if let Some(index) = &mut outcome.index {
        // Kept as long as the language server answers from it.
        index.shrink_to_fit();
    }
    warden_syntax::sort_diagnostics(&mut outcome.diagnostics);
    outcome.program = if outcome.diagnostics.iter().any(Diagnostic::is_error) {
        None
    } else {
        outcome.program.map(optimize::optimize)
    };
    outcome
}

#[cfg(test)]
mod tests {
    use warden_syntax::{Code, FileId};

    /// A standard module holds only `let` and `fn`: the one code no user policy can give.
    #[test]
    fn a_standard_module_cannot_hold_rules_or_a_policy_block() {
        let text = "rule r {\n  deny \"x\"\n}\npolicy {\n  require approval after last push\n}\n";
        let (module, errors) = warden_syntax::parse(text, FileId(0));
        assert!(errors.is_empty(), "{errors:?}");
        let files = [crate::SourceFile {
            path: "std/bad.warden".to_owned(),
            text: text.into(),
            module: module.into(),
            std: true,
        }];
        let (_, diagnostics) = crate::check(&files, &["bad"]);
        let codes: Vec<(Code, &str)> = diagnostics
            .iter()
            .map(|d| (d.code, d.message.as_str()))
            .collect();
        assert_eq!(
            codes,
            [
                (
                    Code::MisplacedItem,
                    "a standard module cannot declare a rule"
                ),
                (
                    Code::MisplacedItem,
                    "a standard module cannot hold a `policy` block"
                ),
            ]
        );
    }
}
