//! Embeds every standard module (`stdlib/std/*.warden`) in the binary, sorted by path,
//! so `import std.NAME` never reads the file system at run time: its source, and its
//! syntax tree, parsed here by the same parser and stored with postcard, so that a
//! policy's load does not parse the standard library again.

use std::fmt::Write;
use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../stdlib");
    let out_dir = std::env::var("OUT_DIR").unwrap_or_default();
    println!("cargo::rerun-if-changed={}", root.display());
    let mut modules = Vec::new();
    collect(&root, &root, &mut modules);
    modules.sort();
    let mut sources = String::from(
        "/// Standard modules: (`std/NAME.warden`, source).\npub static MODULES: &[(&str, &str)] = &[\n",
    );
    let mut trees = String::from(
        "/// The syntax tree of each of [`MODULES`], in postcard.\nstatic SYNTAX: &[&[u8]] = &[\n",
    );
    for (index, (relative, absolute)) in modules.iter().enumerate() {
        let _ = writeln!(sources, "    ({relative:?}, include_str!({absolute:?})),");
        let Some(tree) = syntax_tree(relative, absolute) else {
            continue;
        };
        let target = Path::new(&out_dir).join(format!("std-{index}.ast"));
        write(&target, &tree);
        let _ = writeln!(
            trees,
            "    include_bytes!({:?}),",
            target.display().to_string()
        );
    }
    sources.push_str("];\n\n");
    trees.push_str("];\n");
    write(
        &Path::new(&out_dir).join("stdlib.rs"),
        (sources + &trees).as_bytes(),
    );
}

/// A module's syntax tree, or `None` after reporting why the build fails.
fn syntax_tree(relative: &str, absolute: &str) -> Option<Vec<u8>> {
    let text = match std::fs::read_to_string(absolute) {
        Ok(text) => text,
        Err(error) => {
            println!("cargo::error=cannot read {absolute}: {error}");
            return None;
        }
    };
    let (module, diagnostics) = warden_syntax::parse(&text, warden_syntax::FileId(0));
    if let Some(first) = diagnostics.first() {
        println!(
            "cargo::error=stdlib/{relative} does not parse: {}",
            first.message
        );
        return None;
    }
    match postcard::to_allocvec(&module) {
        Ok(bytes) => Some(bytes),
        Err(error) => {
            println!("cargo::error=cannot encode the syntax tree of stdlib/{relative}: {error}");
            None
        }
    }
}

fn write(target: &Path, bytes: &[u8]) {
    if let Err(error) = std::fs::write(target, bytes) {
        println!("cargo::error=cannot write {}: {error}", target.display());
    }
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        println!("cargo::rerun-if-changed={}", path.display());
        if path.is_dir() {
            collect(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "warden")
            && let Ok(relative) = path.strip_prefix(root)
        {
            let relative = relative.to_string_lossy().replace('\\', "/");
            out.push((relative, path.to_string_lossy().into_owned()));
        }
    }
}
