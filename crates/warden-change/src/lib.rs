//! Warden's change model: the change description and fact files (`model`), reading and
//! validating them (`load`), and the typed, resolved view policies are evaluated
//! against (`view`). See `docs/change-model.md`.
//!
//! ```text
//! let mut change = parse_change(&text, UnknownFields::Reject)?.value;
//! change.merge_facts(parse_facts(&facts, UnknownFields::Reject)?.value, "facts/org.json")?;
//! let mut errors = change.assign_services(); // files' services from the catalogue's paths
//! errors.extend(change.validate());         // reject the change if not empty
//! let view = View::new(&change);
//! ```

mod load;
mod locate;
pub mod model;
mod services;
/// The date-time library of [`Time`], for producers that build one.
pub use jiff;
mod strict;
mod time;
pub mod view;

pub use load::{InputError, InputWarning, Loaded, UnknownFields, parse_change, parse_facts};
pub use model::{Change, ChangeKind, Facts, Given, Ids, SCHEMA_VERSION};
pub use time::{Time, TimeError, time_zone};
pub use view::{
    Datum, FieldDef, Node, PersonRef, PersonSource, PrincipalRef, RECORDS, RecordDef, ServiceRef,
    View, field_index, record_index,
};

/// The JSON Schema of a change description (`schema/change.schema.json`).
pub fn change_schema() -> schemars::Schema {
    closed_schema_for::<Change>()
}

/// The JSON Schema of a fact file (`schema/facts.schema.json`).
pub fn facts_schema() -> schemars::Schema {
    closed_schema_for::<Facts>()
}

/// The schema of `T` with no fields beyond the listed ones in any record, as parsing
/// does by default (see [`UnknownFields`]).
fn closed_schema_for<T: schemars::JsonSchema>() -> schemars::Schema {
    let closed = schemars::transform::RecursiveTransform(|schema: &mut schemars::Schema| {
        let record = schema.get("type").and_then(|t| t.as_str()) == Some("object")
            && schema.get("properties").is_some();
        if record {
            schema.insert("additionalProperties".to_owned(), false.into());
        }
    });
    schemars::generate::SchemaSettings::default()
        .with_transform(closed)
        .into_generator()
        .into_root_schema_for::<T>()
}
