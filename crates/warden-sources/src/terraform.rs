//! Terraform and OpenTofu plans: the output of `terraform show -json PLAN`.

use std::path::Path;

use warden_change::model::InfraPlan;

use crate::SourceError;

/// Reads one plan.
pub fn read_plan(path: &Path) -> Result<InfraPlan, SourceError> {
    Err(SourceError::new(
        path.display(),
        "the Terraform source is being built",
    ))
}
