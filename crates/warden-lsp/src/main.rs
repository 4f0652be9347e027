//! `warden-lsp`: the Warden language server, speaking LSP over standard input/output.

use std::process::ExitCode;

/// mimalloc: loading a policy and evaluating allocate many small nodes (see docs/design.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const HELP: &str = "\
warden-lsp: the Warden language server (diagnostics, hover, completion, go-to-definition)

Usage: warden-lsp [--stdio]

It speaks the Language Server Protocol over standard input/output; an editor starts
it. See docs/editors.md for the editor setups, how the server finds a policy's root
(the `.warden-root` marker file) and its limits.

Options:
  --stdio        serve over standard input/output (the default; accepted because
                 clients pass it)
  -h, --help     print this help and exit
  -V, --version  print the version and exit
";

fn main() -> ExitCode {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    match arguments
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] | ["--stdio"] => {}
        ["-h" | "--help"] => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        ["-V" | "--version"] => {
            println!("warden-lsp {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!(
                "warden-lsp: unexpected arguments `{}`\n\n{HELP}",
                arguments.join(" ")
            );
            return ExitCode::from(2);
        }
    }
    match warden_lsp::serve(std::io::stdin(), std::io::stdout().lock()) {
        Ok(0) => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("warden-lsp: {error}");
            ExitCode::FAILURE
        }
    }
}
