//! `warden-lsp`: the Warden language server, speaking LSP over standard input/output.

use std::process::ExitCode;

fn main() -> ExitCode {
    let (connection, io_threads) = lsp_server::Connection::stdio();
    let result = warden_lsp::run(&connection);
    drop(connection);
    let joined = io_threads.join();
    match (result, joined) {
        (Ok(()), Ok(())) => ExitCode::SUCCESS,
        (Err(error), _) => {
            eprintln!("warden-lsp: {error}");
            ExitCode::FAILURE
        }
        (_, Err(error)) => {
            eprintln!("warden-lsp: {error}");
            ExitCode::FAILURE
        }
    }
}
