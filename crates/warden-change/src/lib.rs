//! Warden's change model: the change description and fact files (`model`), reading and
//! validating them (`load`), and the typed, resolved view policies are evaluated
//! against (`view`). See `docs/change-model.md`.
//!
//! ```text
//! let mut change = parse_change(&text)?.value;
//! change.merge_facts(parse_facts(&facts)?.value, "facts/org.json")?;
//! let errors = change.validate();          // reject the change if not empty
//! let view = View::new(&change);
//! ```

mod load;
pub mod model;
mod strict;
mod time;
pub mod view;

pub use load::{InputError, InputWarning, Loaded, parse_change, parse_facts};
pub use model::{Change, ChangeKind, Facts, Ids, SCHEMA_VERSION};
pub use time::{Time, TimeError, time_zone};
pub use view::{
    Datum, FieldDef, Node, PersonRef, PersonSource, PrincipalRef, RECORDS, RecordDef, ServiceRef,
    View, field_index, record_index,
};

/// The JSON Schema of a change description (`schema/change.schema.json`).
pub fn change_schema() -> schemars::Schema {
    schemars::schema_for!(Change)
}

/// The JSON Schema of a fact file (`schema/facts.schema.json`).
pub fn facts_schema() -> schemars::Schema {
    schemars::schema_for!(Facts)
}
