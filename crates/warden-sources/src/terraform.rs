//! Terraform and OpenTofu plans: the JSON that `terraform show -json PLAN` (or
//! `tofu show -json PLAN`) prints, format 1.x.
//!
//! Only `resource_changes` is read: each entry's address, type, module, planned actions
//! and the reason for them. Everything else of the plan (values, configuration, prior
//! state) is skipped unread. Data sources read at apply time (`mode: "data"`, action
//! `read`) are kept: their address starts with `data.`, and rules that count what is
//! changed skip `read` and `no-op` anyway. A deposed object (the old copy that a
//! failed create-before-destroy left behind) is kept too, under the address of its
//! resource: deleting it deletes a real object.

use std::path::Path;

use serde::Deserialize;
use serde::de::IgnoredAny;
use warden_change::model::{InfraPlan, ResourceChange};

use crate::{SourceError, read};

/// How to make the file `--plan` reads, for the messages that find something else.
const HOW_TO: &str = "run `terraform show -json plan.tfplan > plan.json` (or `tofu show -json …`) \
     and pass plan.json";

/// The start of a zip archive: a saved plan file (`terraform plan -out plan.tfplan`).
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";

/// The provider registry of OpenTofu: a plan whose providers come from it was made by
/// `tofu` (Terraform's own providers come from `registry.terraform.io`).
const OPENTOFU_REGISTRY: &str = "registry.opentofu.org/";

/// What is read first: the format version decides whether the rest can be read.
#[derive(Deserialize)]
struct Header {
    #[serde(default)]
    format_version: Option<String>,
}

#[derive(Deserialize)]
struct Plan {
    /// Present in every plan, and in no state: a plan without changes has no
    /// `resource_changes` at all, a state has `values` instead.
    #[serde(default)]
    planned_values: Option<IgnoredAny>,
    #[serde(default)]
    resource_changes: Option<Vec<PlannedChange>>,
    /// Terraform 1.5 and later: planning failed, and the plan holds what was planned
    /// before the error (often nothing).
    #[serde(default)]
    errored: bool,
    /// Terraform 1.8 and later: `false` for a plan of some resources only (`-target`)
    /// or with changes deferred to a later round (`deferred_changes`).
    #[serde(default)]
    complete: Option<bool>,
    #[serde(default)]
    deferred_changes: Option<Vec<IgnoredAny>>,
}

#[derive(Deserialize)]
struct PlannedChange {
    address: String,
    /// Absent in the root module.
    #[serde(default)]
    module_address: Option<String>,
    #[serde(rename = "type")]
    kind: String,
    provider_name: String,
    change: Change,
    #[serde(default)]
    action_reason: Option<String>,
}

#[derive(Deserialize)]
struct Change {
    actions: Vec<String>,
}

/// Reads one plan.
pub fn read_plan(path: &Path) -> Result<InfraPlan, SourceError> {
    let name = path.display().to_string();
    let binary_plan = || {
        SourceError::new(
            &name,
            format!("this is a saved plan file, not its JSON: {HOW_TO}"),
        )
    };
    let text = read::read_file(path).map_err(|message| {
        if starts_with_zip(path) {
            binary_plan()
        } else {
            SourceError::new(&name, message)
        }
    })?;
    if text.as_bytes().starts_with(ZIP_MAGIC) {
        return Err(binary_plan());
    }
    parse_plan(&name, &text)
}

/// Parses the JSON of a plan, named `name` in errors.
fn parse_plan(name: &str, text: &str) -> Result<InfraPlan, SourceError> {
    let header = match serde_json::from_str::<Header>(text) {
        Ok(header) => header,
        Err(error) if error.is_data() => {
            // The path-aware reader says where the value that does not fit is.
            read::json_text::<Header>(name, text)?
        }
        Err(error) => {
            return Err(SourceError::new(
                name,
                format!("this is not JSON ({error}): {HOW_TO}"),
            ));
        }
    };
    check_format_version(name, header.format_version.as_deref())?;
    let plan: Plan = read::json_text(name, text)?;
    // A partial plan would read as a smaller change than the one to be applied.
    if plan.errored {
        return Err(SourceError::at(
            name,
            "$.errored",
            "planning failed, so the plan is not what would be applied: fix the errors \
             `terraform plan` reported and plan again",
        ));
    }
    if plan.complete == Some(false) || plan.deferred_changes.is_some_and(|d| !d.is_empty()) {
        return Err(SourceError::at(
            name,
            "$.complete",
            "the plan is incomplete (made with `-target`, or with changes deferred to a \
             later plan), so it does not show all that the change will apply: plan the \
             whole configuration",
        ));
    }
    let changes = match (plan.resource_changes, plan.planned_values) {
        (Some(changes), _) => changes,
        (None, Some(_)) => Vec::new(),
        (None, None) => {
            return Err(SourceError::new(
                name,
                format!(
                    "this has neither `resource_changes` nor `planned_values`: it is not a plan \
                     (`terraform show -json` without a plan file shows the state); {HOW_TO}"
                ),
            ));
        }
    };
    let opentofu = changes
        .iter()
        .any(|c| c.provider_name.starts_with(OPENTOFU_REGISTRY));
    let mut resources = Vec::with_capacity(changes.len());
    for (index, change) in changes.into_iter().enumerate() {
        if change.change.actions.is_empty() {
            return Err(SourceError::at(
                name,
                format!("$.resource_changes[{index}].change.actions"),
                format!(
                    "the change of `{}` has no actions; Terraform always plans at least one \
                     (`no-op` when nothing changes)",
                    change.address
                ),
            ));
        }
        resources.push(ResourceChange {
            address: change.address,
            kind: change.kind,
            actions: change.change.actions,
            action_reason: change.action_reason,
            module: change.module_address,
        });
    }
    Ok(InfraPlan {
        tool: if opentofu { "opentofu" } else { "terraform" }.to_owned(),
        workspace: None,
        resources,
    })
}

/// Accepts `1.x`; Terraform raises the major version only for changes that older
/// readers would misread, and asks readers to reject a major version they do not know.
fn check_format_version(name: &str, version: Option<&str>) -> Result<(), SourceError> {
    let Some(version) = version else {
        return Err(SourceError::at(
            name,
            "$",
            format!("this has no `format_version`: it is not the JSON of a plan; {HOW_TO}"),
        ));
    };
    let supported = version.split_once('.').is_some_and(|(major, minor)| {
        major == "1" && !minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit())
    });
    if supported {
        return Ok(());
    }
    let hint = if version.starts_with("0.") {
        "; Terraform before 1.0 writes format 0.x: make the plan with Terraform 1.0 or later, or OpenTofu"
    } else {
        ""
    };
    Err(SourceError::at(
        name,
        "$.format_version",
        format!(
            "plan JSON format `{version}` is not supported: Warden reads format 1.x \
             (Terraform 1.0 and later, OpenTofu){hint}"
        ),
    ))
}

/// Whether the file starts like a zip archive (read only to explain an error).
fn starts_with_zip(path: &Path) -> bool {
    use std::io::Read as _;
    let mut start = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut file| file.read_exact(&mut start))
        .is_ok_and(|()| start == ZIP_MAGIC)
}
