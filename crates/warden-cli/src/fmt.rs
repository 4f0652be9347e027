//! `warden fmt`: rewrites `.warden` files in the canonical layout, or, with `--check`
//! or `--diff`, reports which would change.

use std::path::{Path, PathBuf};

use warden::exit;

use crate::{color, eprint, fail, print};

/// The exit code when `--check` or `--diff` finds a file that formatting would change.
pub const WOULD_CHANGE: i32 = 1;

pub struct Args<'a> {
    pub paths: &'a [PathBuf],
    pub check: bool,
    pub diff: bool,
}

pub fn run(args: &Args<'_>) -> i32 {
    if args.paths.iter().any(|p| p == Path::new("-")) {
        if args.paths.len() > 1 {
            return usage("`-` (standard input) cannot be given with other paths");
        }
        return standard_input(args);
    }
    let default = [PathBuf::from(".")];
    let roots = if args.paths.is_empty() {
        &default[..]
    } else {
        args.paths
    };
    let mut files = Vec::new();
    for root in roots {
        if let Err(message) = collect(root, &mut files) {
            return fail(message);
        }
    }
    // Every file is formatted before any is written: one that does not parse leaves
    // them all as they were.
    let mut formatted = Vec::with_capacity(files.len());
    let mut invalid = false;
    for path in files {
        let text = match warden::read(&path) {
            Ok(text) => text,
            Err(error) => return fail(error),
        };
        match warden::format_policy(&path.display().to_string(), &text) {
            Ok(new) => formatted.push((path, text, new)),
            Err(analysis) => {
                invalid = true;
                let _ = eprint(&warden::render::diagnostics(
                    &analysis,
                    color(&std::io::stderr()),
                ));
            }
        }
    }
    if invalid {
        return fail("files with syntax errors are not formatted; nothing was written");
    }
    let mut changed = false;
    for (path, old, new) in formatted.iter().filter(|(_, old, new)| old != new) {
        changed = true;
        let shown = path.display().to_string();
        let result = if args.diff {
            print("the diff", &unified_diff(&shown, old, new))
        } else if args.check {
            print("the file list", &format!("{shown}\n"))
        } else {
            warden::write_whole(path, new)
                .map_err(|error| fail(format!("cannot write `{shown}`: {error}")))
        };
        if let Err(code) = result {
            return code;
        }
    }
    if changed && (args.check || args.diff) {
        WOULD_CHANGE
    } else {
        exit::ALLOW
    }
}

/// `warden fmt -`: standard input to standard output (or its diff, or only the verdict).
fn standard_input(args: &Args<'_>) -> i32 {
    let text = match warden::read_text(std::io::stdin().lock(), 0) {
        Ok(text) => text,
        Err(message) => return fail(format!("cannot read standard input: {message}")),
    };
    let new = match warden::format_policy("<stdin>", &text) {
        Ok(new) => new,
        Err(analysis) => {
            let _ = eprint(&warden::render::diagnostics(
                &analysis,
                color(&std::io::stderr()),
            ));
            return exit::INVALID;
        }
    };
    let changed = new != text;
    let result = if args.diff {
        if changed {
            print("the diff", &unified_diff("<stdin>", &text, &new))
        } else {
            Ok(())
        }
    } else if args.check {
        if changed {
            print("the file list", "<stdin>\n")
        } else {
            Ok(())
        }
    } else {
        print("the formatted text", &new)
    };
    match result {
        Err(code) => code,
        Ok(()) if changed && (args.check || args.diff) => WOULD_CHANGE,
        Ok(()) => exit::ALLOW,
    }
}

/// `path` itself when it is a file; the `.warden` files below it, in path order, when
/// it is a directory (hidden entries and `target` directories skipped).
fn collect(path: &Path, files: &mut Vec<PathBuf>) -> Result<(), String> {
    let metadata = std::fs::metadata(path)
        .map_err(|error| format!("cannot read `{}`: {error}", path.display()))?;
    if !metadata.is_dir() {
        files.push(path.to_path_buf());
        return Ok(());
    }
    let mut entries = std::fs::read_dir(path)
        .and_then(|entries| {
            entries
                .map(|e| e.map(|e| e.path()))
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(|error| format!("cannot list `{}`: {error}", path.display()))?;
    entries.sort();
    for entry in entries {
        let name = entry
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with('.') {
            continue;
        }
        if entry.is_dir() {
            if name != "target" {
                collect(&entry, files)?;
            }
        } else if entry.extension().is_some_and(|e| e == "warden") {
            files.push(entry);
        }
    }
    Ok(())
}

fn unified_diff(path: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(path, path)
        .to_string()
}

/// A usage error: exit code 2, as clap's own.
fn usage(message: &str) -> i32 {
    let _ = eprint(&format!("error: {message}\n"));
    2
}
