//! Warden's language server: diagnostics, hover, completion, go-to-definition,
//! references, rename, document highlights, inlay hints, signature help (all from the
//! checker's own index), formatting, symbols, folding ranges, quick fixes, semantic
//! tokens and code lenses with the policy's test outcomes for `.warden` policies, over
//! LSP (stdio). The features live in a pure core ([`analysis`], [`completion`],
//! [`symbols`], [`folding`], [`actions`], [`semantic_tokens`], [`code_lens`]); [`server`]
//! holds the open documents and answers messages;
//! [`lifecycle`] runs a session (handshake, shutdown) over the frames [`transport`]
//! reads.

pub mod actions;
pub mod analysis;
pub mod code_lens;
pub mod completion;
pub mod folding;
pub mod lifecycle;
pub mod position;
pub mod semantic_tokens;
pub mod server;
pub mod symbols;
pub mod transport;
pub mod uri;

pub use lifecycle::{run, serve};
