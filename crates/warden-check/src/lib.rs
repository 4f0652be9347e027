//! Warden's checker: resolves modules and names, type-checks every item against the
//! change model and the standard library, runs the lints, and lowers the policy to the
//! typed IR the evaluator runs. It does no IO: the facade hands it parsed sources.

mod builtins;
mod checker;
mod expr;
mod glob_cover;
pub mod ir;
mod lints;
mod optimize;
mod policy_lints;
pub mod ty;

use std::rc::Rc;

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
    let (program, mut diagnostics) = checker::Checker::new(files, std_modules).run();
    warden_syntax::sort_diagnostics(&mut diagnostics);
    let program = if diagnostics.iter().any(Diagnostic::is_error) {
        None
    } else {
        program.map(optimize::optimize)
    };
    (program, diagnostics)
}
