//! Warden's evaluator: applies a checked policy to a change and produces the verdict
//! with its explanation. It only ever runs programs that passed the checker, reads
//! nothing but the change, and every evaluation ends within its budget of work and
//! memory.

mod approvals;
mod budget;
mod compiled;
pub mod coverage;
mod evaluate;
mod explain;
mod globs;
mod interp;
mod overrides;
pub mod report;
mod value;

pub use approvals::Dismissal;
pub use budget::ByteSize;
pub use compiled::{Compiled, compile_regex};
pub use coverage::Coverage;
pub use evaluate::{LAST_PUSH_RULE, Options, evaluate, evaluate_covered, evaluate_indexed};
pub use globs::PathIndex;
pub use report::{Outcome, Report, Verdict};

/// The JSON Schema of the report (`schema/report.schema.json`).
pub fn report_schema() -> schemars::Schema {
    schemars::schema_for!(Report)
}
