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
mod records;
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
    Datum, FieldDef, INPUTS, InputFields, Node, PersonRef, PersonSource, PrincipalRef, RECORDS,
    RecordDef, ServiceRef, View, field_index, record_index,
};

/// The JSON Schema of a change description (`schema/change.schema.json`).
pub fn change_schema() -> schemars::Schema {
    let mut schema = closed_schema_for::<Change>();
    describe(&mut schema, "Change");
    schema
}

/// The JSON Schema of a fact file (`schema/facts.schema.json`).
pub fn facts_schema() -> schemars::Schema {
    let mut schema = closed_schema_for::<Facts>();
    describe(&mut schema, "Facts");
    schema
}

/// Gives each property that is a field policies see the field's doc from the
/// declaration (`records.rs`), unless the serde field has a doc of its own — kept for
/// what only the JSON says (`author` is a principal id). `root` names the type of the
/// root schema; the others are in `$defs` under their Rust names.
fn describe(schema: &mut schemars::Schema, root: &str) {
    use serde_json::Value;
    for (record, input) in RECORDS.iter().zip(INPUTS) {
        let def = if input.input == root {
            schema.as_object_mut()
        } else {
            schema
                .get_mut("$defs")
                .and_then(|defs| defs.get_mut(input.input))
                .and_then(Value::as_object_mut)
        };
        let Some(properties) = def
            .and_then(|def| def.get_mut("properties"))
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        for (field, json) in record.fields.iter().zip(input.fields) {
            if let Some(Value::Object(property)) = json.and_then(|json| properties.get_mut(json)) {
                property
                    .entry("description")
                    .or_insert_with(|| field.doc.into());
            }
        }
    }
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
