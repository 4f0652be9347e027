//! Warden's language server: diagnostics, hover, completion and go-to-definition for
//! `.warden` policies, over LSP (stdio). The features live in a pure core
//! ([`analysis`]); [`server`] holds the open documents and speaks the protocol.

pub mod analysis;
pub mod position;
pub mod server;
pub mod uri;

pub use server::run;
