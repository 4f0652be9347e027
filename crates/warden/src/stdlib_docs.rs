//! `docs/stdlib.md`: the standard library's reference, generated from its doc comments
//! (`//!` for a module, `///` for an item) and the types the checker gives its items. A
//! test fails when the committed page is stale; `WARDEN_BLESS=1` rewrites it.

use std::fmt::Write;

use warden_syntax::ast::Item;
use warden_syntax::{FileId, Span};

/// The reference page of every standard module, in the order Warden embeds them.
pub fn markdown() -> String {
    let analysis = crate::analyze_stdlib();
    let mut out = String::from(
        "# The standard library\n\n\
         <!-- Generated from the doc comments of stdlib/std/*.warden; do not edit. Regenerate \
         with `WARDEN_BLESS=1 cargo test -p warden --lib stdlib_docs`. -->\n\n\
         Standard modules are written in Warden and embedded in the `warden` binary. Import \
         one with `import std.NAME` (or `import std.NAME as ALIAS`) and use its items as \
         `NAME.item`. Types are as the checker sees them: a `let` shows the type of its \
         value.\n\n",
    );
    let modules: Vec<(usize, &str)> = analysis
        .files
        .iter()
        .enumerate()
        .filter(|(_, f)| f.std)
        .filter_map(|(index, f)| {
            let name = f.path.strip_prefix("std/")?.strip_suffix(".warden")?;
            Some((index, name))
        })
        .collect();
    for (index, name) in &modules {
        let summary = module_doc(analysis.text(FileId(*index as u32)));
        let first = summary
            .split("\n\n")
            .next()
            .unwrap_or("")
            .replace('\n', " ");
        let _ = writeln!(out, "- [`std.{name}`](#std{name}): {first}");
    }
    for (index, name) in modules {
        let file = FileId(index as u32);
        let text = analysis.text(file);
        // A signature on one line, however `warden fmt` broke it: no space inside the
        // parentheses of a parameter list written one parameter per line.
        let slice = |span: Span| {
            text.get(span.start..span.end)
                .unwrap_or("")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .replace("( ", "(")
                .replace(" )", ")")
        };
        let _ = write!(out, "\n## `std.{name}`\n\n{}\n", module_doc(text));
        let Some(source) = analysis.files.get(index) else {
            continue;
        };
        for item in &source.module.items {
            let (signature, doc) = match item {
                Item::Let(item) => {
                    let ty = analysis
                        .program
                        .as_ref()
                        .and_then(|p| {
                            p.globals
                                .iter()
                                .find(|g| g.file == file && g.name == item.name.name)
                        })
                        .map(|g| g.value.ty.to_string())
                        .unwrap_or_default();
                    (format!("let {}: {ty}", item.name.name), &item.doc)
                }
                Item::Fn(item) => (
                    format!(
                        "fn {}",
                        slice(Span::new(item.name.span.start, item.ret.span.end))
                    ),
                    &item.doc,
                ),
                _ => continue,
            };
            let _ = write!(out, "\n### `{signature}`\n\n");
            if let Some(doc) = doc {
                let _ = writeln!(out, "{doc}");
            }
        }
    }
    out
}

/// The `//!` header of a module (also the language server's hover on an import).
pub fn module_doc(text: &str) -> String {
    text.lines()
        .map_while(|line| line.trim_start().strip_prefix("//!"))
        .map(|line| line.strip_prefix(' ').unwrap_or(line))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn docs_stdlib_md_is_generated_from_the_standard_library() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/stdlib.md");
        let generated = super::markdown();
        if std::env::var_os("WARDEN_BLESS").is_some_and(|v| v == "1") {
            std::fs::write(&path, &generated).unwrap();
            return;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "docs/stdlib.md is out of date with the doc comments of stdlib/std/*.warden; \
             regenerate it with `WARDEN_BLESS=1 cargo test -p warden --lib stdlib_docs`"
        );
    }
}
