//! Warden's facade: what the CLI, the LSP and the tests use. It loads a policy (a file or
//! a directory of `.warden` files, plus the embedded standard library), checks it,
//! reads a change and its fact files, evaluates, and renders diagnostics and reports.
//! Everything below it (`syntax`, `check`, `eval`) is pure; the IO lives here.

pub mod lines;
pub mod render;
pub mod stdlib_docs;
pub mod testing;

use std::fmt;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::OnceLock;

use sha2::{Digest as _, Sha256};
use warden_change::{Change, InputError, InputWarning, UnknownFields};
use warden_check::SourceFile;
use warden_check::index::Scope;
use warden_syntax::{Diagnostic, FileId, RuleBodies, Span};

pub use warden_change;
pub use warden_check::ir::Program;
pub use warden_eval::report::{self, Digest, Outcome, Report, Verdict};
pub use warden_eval::{ByteSize, Compiled, Coverage, Options, report_schema};
pub use warden_sources;
pub use warden_sources::read::{MAX_READ_BYTES, read_text};
pub use warden_syntax::{CODE_TABLE, Code, Diagnostic as PolicyDiagnostic, Severity};

/// The standard library, embedded at build time.
pub mod stdlib {
    include!(concat!(env!("OUT_DIR"), "/stdlib.rs"));

    /// The syntax tree of `MODULES[index]`, parsed when Warden was built.
    pub(crate) fn syntax(index: usize) -> Option<warden_syntax::ast::Module> {
        postcard::from_bytes(SYNTAX.get(index)?).ok()
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn every_stored_tree_is_the_tree_of_its_source() {
            assert_eq!(super::SYNTAX.len(), super::MODULES.len());
            for (index, (path, text)) in super::MODULES.iter().enumerate() {
                let (parsed, diagnostics) = warden_syntax::parse(text, warden_syntax::FileId(0));
                assert!(diagnostics.is_empty(), "{path}: {diagnostics:?}");
                assert_eq!(super::syntax(index), Some(parsed), "{path}");
            }
        }
    }
}

/// Process exit codes of `warden eval` and `warden check` (documented in `docs/cli.md`).
pub mod exit {
    pub const ALLOW: i32 = 0;
    pub const REQUIRE_APPROVAL: i32 = 3;
    pub const DENY: i32 = 4;
    /// `warden test`: a case failed, or the coverage is below `--min-coverage`.
    pub const FAILED: i32 = 1;
    /// The policy does not check, or the change or a fact file is malformed.
    pub const INVALID: i32 = 5;
}

/// One policy source: its path relative to the policy root, and its text. The text is
/// shared: the analysis keeps it, not a copy (a language server's buffer, its policy
/// views and the analyses of them are one allocation).
#[derive(Debug, Clone)]
pub struct SourceText {
    pub path: String,
    pub text: Rc<str>,
}

impl SourceText {
    pub fn new(path: impl Into<String>, text: impl Into<Rc<str>>) -> SourceText {
        SourceText {
            path: path.into(),
            text: text.into(),
        }
    }
}

/// The result of parsing and checking a policy: the sources (policy files first, then
/// the standard modules), every diagnostic, and the program if there was no error.
pub struct Analysis {
    pub files: Vec<SourceFile>,
    pub diagnostics: Vec<Diagnostic>,
    pub program: Option<Program>,
    /// The checker's index of names and expressions, when asked for
    /// ([`analyze_indexed`]).
    pub index: Option<warden_check::index::Index>,
}

impl Analysis {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    pub fn path(&self, file: FileId) -> &str {
        self.files
            .get(file.0 as usize)
            .map_or("", |f| f.path.as_str())
    }

    pub fn text(&self, file: FileId) -> &str {
        self.files.get(file.0 as usize).map_or("", |f| &*f.text)
    }
}

/// Parses and checks policy sources together with the standard modules they import
/// (directly or through other standard modules). Pure: the LSP calls it on unsaved
/// buffers.
pub fn analyze(sources: &[SourceText]) -> Analysis {
    analyze_for(sources, Purpose::Check)
}

/// What a policy is analysed for, which decides the lints that run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The program and every diagnostic (the tests, and tools that read both).
    Check,
    /// `warden check` and the language server: every diagnostic, each regex compiled
    /// for its size (what `Check` reports through [`Policy::compile_all_regexes`]), and
    /// no program: each rule's IR is dropped as soon as the lints have its facts, so a
    /// large policy's diagnostics take a fraction of the memory.
    Diagnose,
    /// `warden eval`, `test` and `bench`: the program and every error, without the
    /// warnings over the policy as a whole (`shadowed-rule`, `covered-glob`, …), which
    /// `warden check` reports: they cost a sixth of loading a large policy and change
    /// nothing an evaluation does.
    Evaluate,
}

/// As [`analyze`], for `purpose`.
pub fn analyze_for(sources: &[SourceText], purpose: Purpose) -> Analysis {
    let policy = sources.iter().map(|s| (s.path.clone(), s.text.clone()));
    analyze_with(policy, false, None, None, purpose)
}

/// As [`analyze`], with the checker's [`warden_check::index::Index`]: the language
/// server's position features answer from it. It makes no program (`program` is
/// `None`): the rules' IR is dropped as they are checked.
pub fn analyze_indexed(sources: &[SourceText]) -> Analysis {
    let policy = sources.iter().map(|s| (s.path.clone(), s.text.clone()));
    analyze_with(policy, false, None, Some(Scope::Whole), Purpose::Check)
}

/// The most policy text (all its files) analysed as a policy of ordinary size. Above it,
/// memory comes first:
/// - an analysis with a cache keeps no checker memo, and each edit is checked whole (as
///   `warden check` does). The memos hold each rule's IR and index entries beside the
///   program and the index, one for diagnostics and one for position requests: for a
///   10 MB policy the language server's peak went from 450 to 849 MB after a hover and a
///   keystroke;
/// - an analysis without a program (`Purpose::Diagnose`, or indexed) keeps each rule's
///   outline, not its tree ([`warden_syntax::RuleBodies::Outlined`]): the checker parses
///   each rule again when it reaches it, so that one rule's tree is held at a time. For
///   a 10 MB policy that is a sixth more parsing and some 90 MB less;
/// - an indexed analysis asked for around a place ([`analyze_indexed_cached`]) indexes
///   what is local to the rules there only.
pub const LARGE_POLICY_BYTES: usize = 2 * 1024 * 1024;

/// Policy files parsed by the last analysis that used the cache, by their place in the
/// policy: the language server re-parses only the files an edit changed, and of such a
/// file only the items whose text changed ([`warden_syntax::reparse`]). Files the next
/// analysis does not have are dropped.
#[derive(Debug, Default)]
pub struct ParseCache {
    parsed: std::collections::HashMap<u32, Parsed>,
    /// What the last checks stored, so that the next re-checks only the rules an edit
    /// changed ([`warden_check::Memo`]): one for the diagnostics, one for the indexed
    /// analyses of position requests, so that neither drops the other's.
    checked: warden_check::Memo,
    indexed: warden_check::Memo,
}

impl ParseCache {
    /// How many rules the last check (indexed or not) replayed and checked.
    pub fn check_stats(&self, indexed: bool) -> warden_check::Stats {
        if indexed {
            self.indexed.stats
        } else {
            self.checked.stats
        }
    }
}

/// A policy file's text as last parsed (the analysis's own, not a copy), its tree (with
/// what it keeps of the rules) and its parse diagnostics.
#[derive(Debug)]
struct Parsed {
    text: Rc<str>,
    module: Rc<warden_syntax::ast::Module>,
    bodies: RuleBodies,
    diagnostics: Vec<Diagnostic>,
}

/// As [`analyze`], parsing only the files whose text `cache` does not hold.
pub fn analyze_cached(sources: &[SourceText], cache: &mut ParseCache) -> Analysis {
    let policy = sources.iter().map(|s| (s.path.clone(), s.text.clone()));
    analyze_with(policy, false, Some(cache), None, Purpose::Check)
}

/// As [`analyze_for`] `Diagnose`, parsing only the files whose text `cache` does not
/// hold, and re-checking only the rules an edit changed: the language server's
/// diagnostics.
pub fn diagnose_cached(sources: &[SourceText], cache: &mut ParseCache) -> Analysis {
    let policy = sources.iter().map(|s| (s.path.clone(), s.text.clone()));
    analyze_with(policy, false, Some(cache), None, Purpose::Diagnose)
}

/// As [`analyze_indexed`], parsing only what `cache` does not hold (see
/// [`analyze_cached`]). With `around` (the place of a file in `sources`, and a span of
/// it), the index of a large policy holds only what requests there read
/// ([`Scope::Around`]; [`warden_check::index::Index::answers`] tells where else it
/// does): the whole index of a 10 MB policy is seven times its size.
pub fn analyze_indexed_cached(
    sources: &[SourceText],
    cache: &mut ParseCache,
    around: Option<(usize, Span)>,
) -> Analysis {
    let policy = sources.iter().map(|s| (s.path.clone(), s.text.clone()));
    let scope = around.map_or(Scope::Whole, |(file, span)| Scope::Around { file, span });
    analyze_with(policy, false, Some(cache), Some(scope), Purpose::Check)
}

/// Checks every standard module, imported or not (for the standard library's tests).
pub fn analyze_stdlib() -> Analysis {
    analyze_with(std::iter::empty(), true, None, None, Purpose::Check)
}

fn analyze_with(
    policy: impl Iterator<Item = (String, Rc<str>)>,
    all_std: bool,
    mut cache: Option<&mut ParseCache>,
    indexed: Option<Scope>,
    purpose: Purpose,
) -> Analysis {
    let mut diagnostics = Vec::new();
    let mut files: Vec<SourceFile> = Vec::new();
    let policy: Vec<(String, Rc<str>)> = policy.collect();
    let large = policy.iter().map(|(_, text)| text.len()).sum::<usize>() > LARGE_POLICY_BYTES;
    // Only a program needs every rule's tree at once.
    // Only a large policy's index is cut down.
    let indexed = indexed.map(|scope| if large { scope } else { Scope::Whole });
    let bodies = if large && (indexed.is_some() || purpose == Purpose::Diagnose) {
        RuleBodies::Outlined
    } else {
        RuleBodies::Kept
    };
    let mut old = cache
        .as_deref_mut()
        .map(|c| std::mem::take(&mut c.parsed))
        .unwrap_or_default();
    // Files gone from the policy go before anything is parsed.
    old.retain(|id, _| (*id as usize) < policy.len());
    let mut add =
        |files: &mut Vec<SourceFile>, path: String, shared: Rc<str>, std: Option<usize>| {
            let id = FileId(files.len() as u32);
            let text = &*shared;
            // A standard module was parsed when Warden was built; parsing it again is only
            // the fallback, should its stored tree not decode.
            let module = match std.and_then(stdlib::syntax) {
                Some(module) => Rc::new(module),
                None => {
                    let parsed = match old.remove(&id.0).filter(|p| p.bodies == bodies) {
                        // Kept with the source's text, so that the old copy goes.
                        Some(parsed) if *parsed.text == *text => Parsed {
                            text: shared.clone(),
                            ..parsed
                        },
                        Some(parsed) => reparsed(shared.clone(), id, parsed),
                        None => {
                            let (module, diagnostics) = warden_syntax::parse_for(text, id, bodies);
                            Parsed {
                                text: shared.clone(),
                                module: Rc::new(module),
                                bodies,
                                diagnostics,
                            }
                        }
                    };
                    diagnostics.extend(parsed.diagnostics.iter().cloned());
                    let module = parsed.module.clone();
                    if let Some(cache) = cache.as_deref_mut()
                        && std.is_none()
                    {
                        cache.parsed.insert(id.0, parsed);
                    }
                    module
                }
            };
            files.push(SourceFile {
                path,
                text: shared,
                module,
                std: std.is_some(),
            });
        };
    for (path, text) in policy {
        add(&mut files, path, text, None);
    }
    // Standard modules are parsed only when imported, in a defined order.
    let mut loaded = std::collections::BTreeSet::new();
    loop {
        let wanted: Vec<(usize, &(&str, &str))> = stdlib::MODULES
            .iter()
            .enumerate()
            .filter(|(_, (path, _))| {
                !loaded.contains(path) && (all_std || files.iter().any(|f| imports(f, path)))
            })
            .collect();
        if wanted.is_empty() {
            break;
        }
        for (index, (path, text)) in wanted {
            loaded.insert(*path);
            add(
                &mut files,
                (*path).to_string(),
                Rc::from(*text),
                Some(index),
            );
        }
    }
    let names: Vec<&str> = stdlib::MODULES
        .iter()
        .filter_map(|(path, _)| path.strip_prefix("std/")?.strip_suffix(".warden"))
        .collect();
    let memo = cache
        .map(|c| {
            let memo = if indexed.is_some() {
                &mut c.indexed
            } else {
                &mut c.checked
            };
            if large {
                // What an earlier, smaller policy stored goes too.
                *memo = warden_check::Memo::default();
            }
            memo
        })
        .filter(|_| purpose != Purpose::Evaluate && !large);
    let mut regexes = Vec::new();
    let (program, mut check_diagnostics, index) =
        if indexed.is_some() || purpose == Purpose::Diagnose {
            let diagnosed = warden_check::check_without_program(&files, &names, memo, indexed);
            if indexed.is_none() {
                regexes = diagnosed.regexes;
            }
            (None, diagnosed.diagnostics, diagnosed.index)
        } else if let Some(memo) = memo {
            let (program, diagnostics) = warden_check::check_memoized(&files, &names, memo);
            (program, diagnostics, None)
        } else {
            let (program, diagnostics) = match purpose {
                Purpose::Evaluate => warden_check::check_to_evaluate(&files, &names),
                Purpose::Check | Purpose::Diagnose => warden_check::check(&files, &names),
            };
            (program, diagnostics, None)
        };
    diagnostics.append(&mut check_diagnostics);
    if !all_std && !demands_anything(&files) && !diagnostics.iter().any(Diagnostic::is_error) {
        diagnostics.push(no_rules());
    }
    // As a compiled policy's check of them (`Policy::compile_all_regexes`): when
    // nothing else is wrong.
    if !diagnostics.iter().any(Diagnostic::is_error) {
        (regexes.iter())
            .filter_map(|pattern| {
                Some(regex_too_large(
                    pattern,
                    &warden_eval::compile_regex(pattern).err()?,
                ))
            })
            .for_each(|diagnostic| diagnostics.push(diagnostic));
    }
    warden_syntax::sort_diagnostics(&mut diagnostics);
    let program = if diagnostics.iter().any(Diagnostic::is_error) {
        None
    } else {
        program
    };
    Analysis {
        files,
        diagnostics,
        program,
        index,
    }
}

/// `text`, the new text of a file last parsed as `old`: its unchanged items are reused.
/// The old tree is taken, not copied, when no analysis holds it any more.
fn reparsed(text: Rc<str>, id: FileId, old: Parsed) -> Parsed {
    let Parsed {
        text: old_text,
        module,
        bodies,
        ..
    } = old;
    let module = Rc::try_unwrap(module).unwrap_or_else(|shared| (*shared).clone());
    let (module, diagnostics) = warden_syntax::reparse(&text, id, &old_text, module, bodies);
    Parsed {
        text,
        module: Rc::new(module),
        bodies,
        diagnostics,
    }
}

/// Whether the policy has a rule, or a `policy` block that asks for anything
/// (`require approval after last push`): else it allows every change.
fn demands_anything(files: &[SourceFile]) -> bool {
    use warden_syntax::ast::{Item, PolicyEntry};
    (files.iter().flat_map(|f| &f.module.items)).any(|item| match item {
        Item::Rule(_) | Item::RuleOutline(_) => true,
        Item::Policy(policy) => (policy.entries.iter())
            .any(|entry| matches!(entry, PolicyEntry::ApprovalAfterLastPush(_))),
        _ => false,
    })
}

/// The warning for a policy without rules: it allows every change, which is seldom
/// what was meant (a library file checked alone, or `--policy` pointing at the wrong
/// place). Shown at the start of the first file.
fn no_rules() -> Diagnostic {
    Diagnostic::new(
        Code::NoRules,
        "the policy has no rules, so it allows every change",
    )
    .with_label(FileId(0), Span::new(0, 0), "no `rule` in this policy")
    .with_help(
        "add a `rule`; or check the directory that holds the rules: a file checked on its \
             own is a whole policy",
    )
}

/// Whether a parsed file imports the standard module at `std_path` (`std/ai.warden`).
fn imports(file: &SourceFile, std_path: &str) -> bool {
    file.module.items.iter().any(|item| match item {
        warden_syntax::ast::Item::Import(warden_syntax::ast::Import {
            target: warden_syntax::ast::ImportTarget::Std(segments),
            ..
        }) => {
            let name: Vec<&str> = segments.iter().map(|s| s.name.as_str()).collect();
            std_path
                .strip_prefix("std/")
                .and_then(|p| p.strip_suffix(".warden"))
                == Some(&name.join("/"))
        }
        _ => false,
    })
}

/// Why a policy, change or fact file could not be used.
#[derive(Debug)]
pub enum LoadError {
    /// A file could not be read.
    Io { path: PathBuf, message: String },
    /// A change or fact file does not fit the model.
    Input {
        path: String,
        errors: Vec<InputError>,
    },
    /// The policy has errors (rendered from the analysis).
    Policy,
    /// A change could not be built from its source (git, a forge, a plan).
    Source(warden_sources::SourceError),
    /// A test case does not fit its format (the message names the file and JSON path).
    Case(String),
    /// A compiled pattern failed (a bug: the checker validates them).
    Internal(String),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Io { path, message } => {
                write!(f, "cannot read `{}`: {message}", path.display())
            }
            LoadError::Input { path, errors } => {
                for (index, error) in errors.iter().enumerate() {
                    if index > 0 {
                        writeln!(f)?;
                    }
                    // A problem found after parsing (a missing part, facts that
                    // disagree) has a JSON path but no line.
                    if error.line > 0 {
                        write!(f, "{path}:{}:{}: ", error.line, error.column)?;
                    } else {
                        write!(f, "{path}: ")?;
                    }
                    write!(f, "{} at `{}`", error.message, error.path)?;
                }
                Ok(())
            }
            LoadError::Policy => f.write_str("the policy has errors"),
            LoadError::Source(error) => write!(f, "cannot build the change: {error}"),
            LoadError::Case(message) => write!(f, "{message}"),
            LoadError::Internal(message) => write!(f, "internal error: {message}"),
        }
    }
}

/// Reads a file as UTF-8 text of at most [`MAX_READ_BYTES`].
pub fn read(path: &Path) -> Result<String, LoadError> {
    warden_sources::read::read_file(path).map_err(|message| LoadError::Io {
        path: path.to_path_buf(),
        message,
    })
}

/// Reads a policy: one `.warden` file, or every `.warden` file below a directory
/// (hidden directories and links to directories skipped), in sorted path order.
///
/// The path the user names is followed wherever it leads, and a file named there may
/// be a pipe (`<(git show …)`). What the directory holds is not named by the user (in
/// CI it comes from the pull request), so every `.warden` entry must be a regular file,
/// or a symbolic link to one inside the directory; anything else is an error naming
/// the entry, and nothing of a refused link's target is read.
pub fn read_policy(path: &Path) -> Result<Vec<SourceText>, LoadError> {
    let io_error = |e: std::io::Error| LoadError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let metadata = std::fs::metadata(path).map_err(io_error)?;
    if !metadata.is_dir() {
        let name = path.file_name().map_or_else(
            || "policy.warden".to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        return Ok(vec![SourceText::new(name, read(path)?)]);
    }
    let found = policy_files(path)?;
    if found.is_empty() {
        return Err(LoadError::Io {
            path: path.to_path_buf(),
            message: "the directory holds no `.warden` files".to_string(),
        });
    }
    found
        .into_iter()
        .map(|(relative, absolute)| Ok(SourceText::new(relative, read(&absolute)?)))
        .collect()
}

/// The `.warden` files of a policy directory, as [`read_policy`] walks it (with the
/// same refusals), without reading them: each path relative to `dir` (`/`-separated)
/// and the path to read, in sorted order. The language server reads them one by one,
/// so that one unreadable file does not hide the others.
pub fn policy_files(dir: &Path) -> Result<Vec<(String, PathBuf)>, LoadError> {
    let walk = Walk {
        root: dir,
        canonical_root: std::fs::canonicalize(dir).map_err(|e| LoadError::Io {
            path: dir.to_path_buf(),
            message: e.to_string(),
        })?,
    };
    let mut found = Vec::new();
    walk.collect(dir, &mut found)?;
    found.sort();
    Ok(found)
}

/// The walk of a policy directory.
struct Walk<'a> {
    root: &'a Path,
    /// The root with every link resolved, to tell whether a link leads outside it.
    canonical_root: PathBuf,
}

impl Walk<'_> {
    /// Adds the `.warden` files below `dir` (relative path, path to read) to `out`.
    fn collect(&self, dir: &Path, out: &mut Vec<(String, PathBuf)>) -> Result<(), LoadError> {
        let entries = std::fs::read_dir(dir).map_err(|e| LoadError::Io {
            path: dir.to_path_buf(),
            message: e.to_string(),
        })?;
        for entry in entries.flatten() {
            // The entry's name and type come with the directory listing, without
            // following a link or opening anything (opening a named pipe would wait for
            // a writer); only a directory or a `.warden` entry needs its full path (a
            // policy directory may hold many other files: cases, changes, facts).
            let name = entry.file_name();
            let kind = match entry.file_type() {
                Ok(kind) => kind,
                Err(_) => {
                    let path = entry.path();
                    std::fs::symlink_metadata(&path)
                        .map_err(|e| self.refused(&path, e.to_string()))?
                        .file_type()
                }
            };
            let is_policy_file = has_warden_extension(name.as_encoded_bytes());
            if !kind.is_dir() && !is_policy_file {
                // Not part of the policy. A link to a directory is not followed either:
                // two links to `.` would make the walk exponential, and a link to a
                // directory of the policy would load its files twice.
                continue;
            }
            let path = entry.path();
            if kind.is_dir() {
                if name.as_encoded_bytes().starts_with(b".") {
                    continue;
                }
                if is_policy_file {
                    return Err(self.refused(&path, not_a_file("a directory")));
                }
                self.collect(&path, out)?;
            } else if kind.is_file() {
                out.push((self.relative(&path), path));
            } else if kind.is_symlink() {
                let target = self.linked_file(&path)?;
                out.push((self.relative(&path), target));
            } else {
                return Err(self.refused(&path, not_a_file(kind_name(kind))));
            }
        }
        Ok(())
    }

    /// The file a `.warden` link leads to, which must be a regular file inside the
    /// policy directory: in CI the policy comes from the change under review, and a
    /// link to a file elsewhere (a secret) would have its first lines shown in a
    /// syntax error.
    fn linked_file(&self, link: &Path) -> Result<PathBuf, LoadError> {
        let target = std::fs::canonicalize(link).map_err(|e| {
            self.refused(
                link,
                format!("it is a symbolic link whose target cannot be opened ({e})"),
            )
        })?;
        if !target.starts_with(&self.canonical_root) {
            return Err(self.refused(
                link,
                "it is a symbolic link to a file outside the policy directory, and Warden \
                 reads no file outside it; copy the file into the policy directory"
                    .to_string(),
            ));
        }
        let kind = std::fs::metadata(&target)
            .map_err(|e| self.refused(link, e.to_string()))?
            .file_type();
        if !kind.is_file() {
            return Err(self.refused(
                link,
                format!(
                    "it is a symbolic link to {}, not to a regular file",
                    kind_name(kind)
                ),
            ));
        }
        Ok(target)
    }

    /// `path` relative to the policy root, with `/` between names.
    fn relative(&self, path: &Path) -> String {
        path.strip_prefix(self.root)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/")
    }

    /// The error for an entry of the policy directory, named relative to the policy.
    fn refused(&self, path: &Path, message: String) -> LoadError {
        LoadError::Io {
            path: PathBuf::from(self.relative(path)),
            message,
        }
    }
}

fn not_a_file(kind: &str) -> String {
    format!(
        "it is {kind}, not a regular file: every `.warden` entry of a policy directory is read \
         as a policy file; rename or remove it"
    )
}

/// What a directory entry is, for messages.
fn kind_name(kind: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if kind.is_fifo() {
            return "a named pipe";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_block_device() || kind.is_char_device() {
            return "a device";
        }
    }
    if kind.is_dir() {
        "a directory"
    } else {
        "a special file"
    }
}

/// Whether a file name ends in `.warden` after a non-empty stem (`.warden` alone is a
/// hidden file, as for `Path::extension`), read from its bytes: a policy directory may
/// hold hundreds of other files.
fn has_warden_extension(name: &[u8]) -> bool {
    name.len() > ".warden".len() && name.ends_with(b".warden")
}

/// A checked, compiled policy ready to evaluate many changes.
pub struct Policy {
    /// The analysis, without the files' trees (each `module` is empty): the program is
    /// what is evaluated, and the trees cost ten times their text.
    pub analysis: Analysis,
    pub compiled: Compiled,
    /// See [`Policy::digest`]: computed on first need, since only a report that shows
    /// it needs it and hashing a large policy costs a tenth of loading it.
    digest: OnceLock<String>,
}

impl Policy {
    /// `sha256:` of every source, policy and standard library.
    pub fn digest(&self) -> &str {
        self.digest.get_or_init(|| {
            let mut hasher = Sha256::new();
            for file in &self.analysis.files {
                hasher.update(file.path.as_bytes());
                hasher.update([0]);
                hasher.update(file.text.as_bytes());
                hasher.update([0]);
            }
            format!("sha256:{:x}", hasher.finalize())
        })
    }

    /// Compiles every regex now instead of on first use, adding an error for each one
    /// that exceeds the regex crate's size limit (the checker checks only syntax):
    /// `warden check` reports everything, while an evaluation compiles only the
    /// regexes the change makes it use. Whether the policy is still free of errors.
    pub fn compile_all_regexes(&mut self) -> bool {
        let errors: Vec<Diagnostic> = (self.compiled.uncompilable_regexes().into_iter())
            .map(|(pattern, error)| regex_too_large(pattern, &error))
            .collect();
        let ok = errors.is_empty();
        self.analysis.diagnostics.extend(errors);
        warden_syntax::sort_diagnostics(&mut self.analysis.diagnostics);
        ok
    }
}

/// The error for a regex the regex crate refuses to compile (`error`, its reason): its
/// syntax is checked, so it is too large.
fn regex_too_large(pattern: &warden_check::ir::RegexPattern, error: &str) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidRegex,
        format!("`{}` is too large to compile", pattern.source),
    )
    .with_label(pattern.file, pattern.span, "regex too large")
    .with_help(format!(
        "{error}: use fewer or smaller repetitions, or `(?-u)` for ASCII-only classes"
    ))
}

/// Reads, checks and compiles a policy. On `Err(analysis)` the analysis holds the
/// diagnostics to show.
pub fn compile(sources: &[SourceText]) -> Result<Policy, Box<Analysis>> {
    compile_for(sources, Purpose::Check)
}

/// As [`compile`], for `purpose` (see [`Purpose`]).
pub fn compile_for(sources: &[SourceText], purpose: Purpose) -> Result<Policy, Box<Analysis>> {
    policy(analyze_for(sources, purpose))
}

fn policy(mut analysis: Analysis) -> Result<Policy, Box<Analysis>> {
    let Some(program) = analysis.program.take() else {
        return Err(Box::new(analysis));
    };
    // Dropped before compiling, which adds the glob matcher to the program.
    let empty = Rc::new(warden_syntax::ast::Module { items: Vec::new() });
    for file in &mut analysis.files {
        file.module = empty.clone();
    }
    Ok(Policy {
        analysis,
        compiled: Compiled::new(program),
        digest: OnceLock::new(),
    })
}

/// A change with its facts merged in, ready to evaluate. The change is read-only (see
/// [`Input::change`]): the index of its paths is made with it and must describe it.
pub struct Input {
    change: Change,
    pub warnings: Vec<(String, InputWarning)>,
    /// `sha256:` of the change and every fact file, for the report; see
    /// [`Input::with_digest`].
    pub digest: Option<String>,
    /// The directories and file names of the change's paths, each once: made with the
    /// input, as it depends on the change only, and read by every evaluation that
    /// matches the files against globs.
    paths: warden_eval::PathIndex,
}

impl Input {
    /// The change, its facts merged in.
    pub fn change(&self) -> &Change {
        &self.change
    }

    /// Stamps the input with the digest of the texts it was read from. Separate from
    /// [`read_input`] because hashing costs as much as a third of parsing a large
    /// change, and only a report that is shown needs it.
    pub fn with_digest(mut self, change_text: &str, facts: &[(String, String)]) -> Input {
        self.digest = Some(input_digest(change_text, facts));
        self
    }
}

/// `sha256:` of the change text, then of each fact file's text after a zero byte.
pub fn input_digest(change_text: &str, facts: &[(String, String)]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(change_text.as_bytes());
    for (_, text) in facts {
        hasher.update([0]);
        hasher.update(text.as_bytes());
    }
    format!("sha256:{:x}", hasher.finalize())
}

/// Parses a change description and merges fact files into it. `change_name` names the
/// change in messages (a path, or `-` for standard input). Rejected whole on any error;
/// `unknown` says whether an unknown field is one. The input has no digest yet (see
/// [`Input::with_digest`]).
pub fn read_input(
    change_name: &str,
    change_text: &str,
    facts: &[(String, String)],
    unknown: UnknownFields,
) -> Result<Input, LoadError> {
    let input_error = |path: &str, errors: Vec<InputError>| LoadError::Input {
        path: path.to_string(),
        errors,
    };
    let loaded = warden_change::parse_change(change_text, unknown)
        .map_err(|e| input_error(change_name, vec![e]))?;
    let mut change = loaded.value;
    let mut warnings: Vec<(String, InputWarning)> = loaded
        .warnings
        .into_iter()
        .map(|w| (change_name.to_string(), w))
        .collect();
    for (path, text) in facts {
        let facts =
            warden_change::parse_facts(text, unknown).map_err(|e| input_error(path, vec![e]))?;
        warnings.extend(facts.warnings.into_iter().map(|w| (path.clone(), w)));
        change
            .merge_facts(facts.value, path)
            .map_err(|e| input_error(path, vec![e]))?;
    }
    let mut errors = change.assign_services();
    errors.extend(change.validate());
    if !errors.is_empty() {
        return Err(input_error(change_name, errors));
    }
    Ok(Input {
        paths: warden_eval::PathIndex::new(&change.files),
        change,
        warnings,
        digest: None,
    })
}

/// Reads the fact files, merges them into the change `text` (named `name` in
/// messages), and stamps the input with their digest.
pub fn load_input(
    name: &str,
    text: &str,
    facts: &[PathBuf],
    unknown: UnknownFields,
) -> Result<Input, LoadError> {
    let facts = read_facts(facts)?;
    Ok(read_input(name, text, &facts, unknown)?.with_digest(text, &facts))
}

/// `warden fmt`: the canonical layout of the policy source `text` (see
/// `warden_syntax::format`), or, when it does not parse, an analysis of it alone (named
/// `path`) that holds the parse errors, for [`render::diagnostics`]. Only the syntax is
/// checked: formatting needs no other file.
pub fn format_policy(path: &str, text: &str) -> Result<String, Box<Analysis>> {
    warden_syntax::format(text).map_err(|mut diagnostics| {
        warden_syntax::sort_diagnostics(&mut diagnostics);
        Box::new(Analysis {
            files: vec![SourceFile {
                path: path.to_owned(),
                text: Rc::from(text),
                module: Rc::new(warden_syntax::ast::Module { items: Vec::new() }),
                std: false,
            }],
            diagnostics,
            program: None,
            index: None,
        })
    })
}

/// Writes `text` to `path` whole or not at all: into a temporary file beside it, then
/// renamed over it, so a reader never sees half a file and a failed write leaves the
/// old file (or none).
pub fn write_whole(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let file_name = path.file_name().ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "the path names no file")
    })?;
    let mut temporary_name = std::ffi::OsString::from(".");
    temporary_name.push(file_name);
    temporary_name.push(format!(".{}.tmp", std::process::id()));
    let temporary = path.with_file_name(temporary_name);
    let written = std::fs::File::create(&temporary).and_then(|mut file| {
        file.write_all(text.as_bytes())?;
        file.sync_all()
    });
    match written.and_then(|()| std::fs::rename(&temporary, path)) {
        Ok(()) => Ok(()),
        Err(error) => {
            let _ = std::fs::remove_file(&temporary);
            Err(error)
        }
    }
}

/// A change description as JSON text (`warden.change/v1`), pretty-printed, with a
/// final newline: what `warden change` writes and what the input digest covers.
pub fn change_json(change: &Change) -> Result<String, LoadError> {
    serde_json::to_string_pretty(change)
        .map(|mut text| {
            text.push('\n');
            text
        })
        .map_err(|error| LoadError::Internal(format!("cannot serialize the change: {error}")))
}

/// Builds the change from a source (git, GitHub, GitLab), adds plans and owners, and
/// reads it back through the strict loader with the fact files, exactly as
/// `warden eval --change` would read the output of `warden change`. `name` names the
/// change in messages. Returns the input (stamped with its digest) and the change text.
pub fn build_input(
    name: &str,
    source: &warden_sources::Source,
    evaluated_at: warden_change::Time,
    additions: &warden_sources::Additions,
    facts: &[PathBuf],
) -> Result<(Input, String), LoadError> {
    let change =
        warden_sources::build(source, evaluated_at, additions).map_err(LoadError::Source)?;
    let text = change_json(&change)?;
    let facts = read_facts(facts)?;
    let input = read_input(name, &text, &facts, UnknownFields::Reject)?.with_digest(&text, &facts);
    Ok((input, text))
}

/// Adds plans and owners to a change read from text: the text of the change with them.
pub fn add_to_change(
    name: &str,
    text: &str,
    additions: &warden_sources::Additions,
    unknown: UnknownFields,
) -> Result<String, LoadError> {
    if additions.is_empty() {
        return Ok(text.to_string());
    }
    let mut change = warden_change::parse_change(text, unknown)
        .map_err(|error| LoadError::Input {
            path: name.to_string(),
            errors: vec![error],
        })?
        .value;
    additions.apply(&mut change).map_err(LoadError::Source)?;
    change_json(&change)
}

/// Reads fact files: each path with its text.
fn read_facts(facts: &[PathBuf]) -> Result<Vec<(String, String)>, LoadError> {
    facts
        .iter()
        .map(|path| Ok((path.display().to_string(), read(path)?)))
        .collect()
}

/// Evaluates a change and, when the input has a digest, stamps the report with the
/// policy and input digests.
pub fn evaluate(policy: &Policy, input: &Input, options: Options) -> Report {
    let mut report =
        warden_eval::evaluate_indexed(&policy.compiled, &input.change, &input.paths, options);
    report.digest = input.digest.as_ref().map(|input| Digest {
        policy: policy.digest().to_string(),
        input: input.clone(),
    });
    report
}

/// The JSON report, pretty-printed, with a final newline. Byte-identical for identical
/// inputs: every list in the report has a defined order.
pub fn report_json(report: &Report) -> String {
    match serde_json::to_string_pretty(report) {
        Ok(mut json) => {
            json.push('\n');
            json
        }
        Err(error) => format!("{{\"error\": \"{error}\"}}\n"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::path::Path;

    use warden_check::ir::ExprKind;

    /// A cached analysis is the analysis: edits, a file moved to another place in the
    /// policy (another file id), a file gone; the cache keeps the last one's files only.
    #[test]
    fn cached_analyses_equal_fresh_ones_across_edits() {
        let source = |path: &str, text: &str| super::SourceText {
            path: path.to_string(),
            text: text.into(),
        };
        let rule = "rule r {\n  when change.files.len() > 0\n  deny \"no\"\n}\n";
        let broken = "rule r {\n  when change.filez.len() > 0\n  deny \"no\"\n}\n";
        let lib = "import std.paths\n\nlet limit = 3\n";
        let steps = [
            vec![source("a.warden", rule), source("lib.warden", lib)],
            vec![source("a.warden", broken), source("lib.warden", lib)],
            vec![source("lib.warden", lib), source("z.warden", broken)],
            vec![source("a.warden", "rule r {\n")],
            vec![source("a.warden", rule)],
        ];
        let mut cache = super::ParseCache::default();
        for sources in steps {
            let cached = super::analyze_cached(&sources, &mut cache);
            let fresh = super::analyze(&sources);
            assert_eq!(cached.diagnostics, fresh.diagnostics);
            let modules = |a: &super::Analysis| -> Vec<_> {
                a.files.iter().map(|f| f.module.clone()).collect()
            };
            assert_eq!(modules(&cached), modules(&fresh));
            assert_eq!(cache.parsed.len(), sources.len());
        }
    }

    /// Random edits of a policy (snippets inserted anywhere, ranges deleted), each
    /// analysed with the cache that the previous one filled: every analysis equals a
    /// fresh one, trees and diagnostics, whether the edit breaks an item, moves the
    /// items after it, or cuts the file into other items.
    mod random_edits {
        use proptest::prelude::*;

        const POLICY: &str = "import std.paths\n\n/// Doc of limit.\nlet limit = 3\n\n\
            fn big(n: int) -> int = n * limit\n\n/// Rule a.\n/// Two lines.\nrule a {\n  \
            let n = change.files.len()\n  when big(n) > 10\n  require 1 approval from team(\"x\")\n}\n\n\
            rule b advisory {\n  when change.files.any(f => f.path matches glob(\"a/**\"))\n  \
            deny \"no {limit}\"\n}\n\nexempt e from a {\n  when change.author == \"bot\"\n}\n";

        const SNIPPETS: &[&str] = &[
            "x",
            " ",
            "\n",
            "}",
            "{",
            "(",
            "\"",
            "/// d\n",
            "rule c {\n  deny \"c\"\n}\n",
            "let z = 1\n",
            "fn ",
            "\nlet ",
            " + 1",
            "rule ",
            "// c\n",
            "exempt",
            "policy {\n}\n",
        ];

        #[derive(Debug, Clone)]
        enum Edit {
            Insert(usize, usize),
            Delete(usize, usize),
        }

        fn edit() -> impl Strategy<Value = Edit> {
            prop_oneof![
                (any::<usize>(), 0..SNIPPETS.len()).prop_map(|(at, s)| Edit::Insert(at, s)),
                (any::<usize>(), 0..12usize).prop_map(|(at, len)| Edit::Delete(at, len)),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]
            #[test]
            fn incremental_analyses_equal_fresh_ones(edits in prop::collection::vec(edit(), 1..12)) {
                let mut text = POLICY.to_string();
                let mut cache = crate::ParseCache::default();
                let _ = crate::analyze_cached(&sources(&text), &mut cache);
                for edit in edits {
                    match edit {
                        Edit::Insert(at, snippet) => text.insert_str(at % (text.len() + 1), SNIPPETS[snippet]),
                        Edit::Delete(at, len) => {
                            let start = at % (text.len() + 1);
                            text.replace_range(start..(start + len).min(text.len()), "");
                        }
                    }
                    let cached = crate::analyze_cached(&sources(&text), &mut cache);
                    let fresh = crate::analyze(&sources(&text));
                    prop_assert_eq!(&cached.diagnostics, &fresh.diagnostics, "{}", text);
                    let modules = |a: &crate::Analysis| -> Vec<_> {
                        a.files.iter().map(|f| f.module.clone()).collect()
                    };
                    prop_assert_eq!(modules(&cached), modules(&fresh), "{}", text);
                }
            }
        }

        fn sources(text: &str) -> Vec<crate::SourceText> {
            vec![crate::SourceText {
                path: "policy.warden".to_string(),
                text: text.into(),
            }]
        }
    }

    #[test]
    fn a_policy_checks_the_standard_definitions_it_reaches_and_no_other() {
        let policy = "import std.paths\n\n/// Docs only.\nrule docs {\n  when paths.docs_only(change)\n  deny \"docs\"\n}\n";
        let analysis = super::analyze(&[super::SourceText {
            path: "policy.warden".to_string(),
            text: policy.into(),
        }]);
        assert!(
            analysis.diagnostics.is_empty(),
            "{:?}",
            analysis.diagnostics
        );
        let program = analysis.program.unwrap();
        let checked = |name: &str| {
            let function = program.functions.iter().find(|f| f.name == name);
            let global = program.globals.iter().find(|g| g.name == name);
            match (function, global) {
                (Some(f), _) => !matches!(f.body.kind, ExprKind::Unchecked),
                (_, Some(g)) => !matches!(g.value.kind, ExprKind::Unchecked),
                _ => panic!("{name} is not in the program"),
            }
        };
        // Called by the rule, called by `docs_only`, read by `is_doc`.
        for reached in ["docs_only", "is_doc", "docs"] {
            assert!(checked(reached), "{reached} was not checked");
        }
        for unreached in ["counted_lines", "is_generated", "lock_files", "pipelines"] {
            assert!(!checked(unreached), "{unreached} was checked");
        }
        // The standard library alone is checked in full.
        let program = super::analyze_stdlib().program.unwrap();
        assert!(
            program
                .functions
                .iter()
                .all(|f| !matches!(f.body.kind, ExprKind::Unchecked))
        );
        assert!(
            program
                .globals
                .iter()
                .all(|g| !matches!(g.value.kind, ExprKind::Unchecked))
        );
    }

    #[test]
    fn a_policy_directory_is_its_warden_files_below_it_in_path_order() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let root = std::env::temp_dir().join(format!("warden-walk-{}-{nanos}", std::process::id()));
        let files = [
            "z.warden",
            "sub/b.warden",
            "sub/.d.warden",
            "sub/deeper/a.warden",
            ".hidden/c.warden",
            "cases/x.json",
            "notes.txt",
            "warden",
            "sub/.warden",
            "z.warden.bak",
        ];
        for file in files {
            let path = root.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, format!("// {file}\n")).unwrap();
        }
        let found = super::read_policy(&root);
        let _ = std::fs::remove_dir_all(&root);
        let paths: Vec<String> = found.unwrap().into_iter().map(|s| s.path).collect();
        assert_eq!(
            paths,
            [
                "sub/.d.warden",
                "sub/b.warden",
                "sub/deeper/a.warden",
                "z.warden"
            ]
        );
        assert!(super::read_policy(Path::new("/nonexistent/warden-policy")).is_err());
    }

    /// A directory path under the system's temporary directory that no other test
    /// (or earlier run) uses.
    #[cfg(unix)]
    fn unique_temp_dir(prefix: &str) -> std::path::PathBuf {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        std::env::temp_dir().join(format!("{prefix}-{}-{nanos}", std::process::id()))
    }

    #[cfg(unix)]
    #[test]
    fn a_policy_walk_reads_linked_files_and_does_not_follow_linked_directories() {
        use std::os::unix::fs::symlink;
        let root = unique_temp_dir("warden-links");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("a.warden"), "// a\n").unwrap();
        // Two links to the policy's own directory: followed, they would make the walk
        // exponential (it never ended before links were skipped).
        symlink(".", root.join("again")).unwrap();
        symlink("..", root.join("sub/up")).unwrap();
        symlink("../a.warden", root.join("sub/b.warden")).unwrap();
        // Links that stay inside the policy directory, to a file or through a
        // directory, are read; a link to a directory not named `.warden` is skipped.
        symlink("sub/../a.warden", root.join("c.warden")).unwrap();
        symlink(root.join("a.warden"), root.join("sub/d.warden")).unwrap();
        let found = super::read_policy(&root);
        let _ = std::fs::remove_dir_all(&root);
        let paths: Vec<String> = found.unwrap().into_iter().map(|s| s.path).collect();
        assert_eq!(
            paths,
            ["a.warden", "c.warden", "sub/b.warden", "sub/d.warden"]
        );
    }

    /// In CI the policy directory comes from the change under review: a `.warden` entry
    /// that is not a regular file inside it is refused by name, and nothing is read
    /// through it (a secret's first lines would be shown in a syntax error).
    #[cfg(unix)]
    #[test]
    fn a_policy_walk_refuses_entries_that_leave_the_directory_or_are_not_files() {
        use std::os::unix::fs::symlink;
        let base = unique_temp_dir("warden-refused");
        let root = base.join("policy");
        std::fs::create_dir_all(root.join("sub/dir")).unwrap();
        std::fs::write(base.join("secret.txt"), "TOKEN=hunter2\n").unwrap();
        std::fs::write(root.join("a.warden"), "// a\n").unwrap();
        // Makes `entry` with `make`, reads the policy, removes `entry`: the error.
        let refused = |entry: &str, make: &dyn Fn(&Path)| {
            let path = root.join(entry);
            make(&path);
            let error = super::read_policy(&root)
                .map(|_| ())
                .unwrap_err()
                .to_string();
            let _ = std::fs::remove_file(&path).or_else(|_| std::fs::remove_dir(&path));
            assert!(!error.contains("hunter2"), "{error}");
            error
        };
        let secret = base.join("secret.txt");
        for (error, expected) in [
            (
                refused("leak.warden", &|p| symlink("../secret.txt", p).unwrap()),
                "`leak.warden`: it is a symbolic link to a file outside the policy directory",
            ),
            (
                refused("sub/leak.warden", &|p| symlink(&secret, p).unwrap()),
                "`sub/leak.warden`: it is a symbolic link to a file outside",
            ),
            (
                refused("gone.warden", &|p| symlink("nowhere.warden", p).unwrap()),
                "`gone.warden`: it is a symbolic link whose target cannot be opened",
            ),
            (
                refused("dir.warden", &|p| symlink("sub/dir", p).unwrap()),
                "`dir.warden`: it is a symbolic link to a directory, not to a regular file",
            ),
            (
                refused("sub/d.warden", &|p| std::fs::create_dir(p).unwrap()),
                "`sub/d.warden`: it is a directory, not a regular file",
            ),
        ] {
            assert!(error.contains(expected), "{error}");
        }
        let socket = std::os::unix::net::UnixListener::bind(root.join("sub/socket.warden"));
        let socket_error = super::read_policy(&root)
            .map(|_| ())
            .unwrap_err()
            .to_string();
        drop(socket);
        let _ = std::fs::remove_dir_all(&base);
        assert!(
            socket_error.contains("`sub/socket.warden`: it is a socket, not a regular file"),
            "{socket_error}"
        );
    }
}
