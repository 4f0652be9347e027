//! The parts of GitLab's merge-request event and REST responses the source reads,
//! named as GitLab names them. Unknown fields are ignored; a field listed here that is
//! missing or of another type is an error with its JSON path.

use serde::Deserialize;
use warden_change::Time;

/// A merge request event (`object_kind: merge_request`).
#[derive(Deserialize)]
pub struct MergeRequestEvent {
    pub object_kind: String,
    pub project: Project,
    pub object_attributes: Attributes,
    #[serde(default)]
    pub labels: Vec<Label>,
}

#[derive(Deserialize)]
pub struct Project {
    pub path_with_namespace: String,
}

#[derive(Deserialize)]
pub struct Attributes {
    pub iid: u64,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    pub source_branch: String,
    pub target_branch: String,
    pub source_project_id: u64,
    pub target_project_id: u64,
    #[serde(default)]
    pub draft: Option<bool>,
    #[serde(default)]
    pub work_in_progress: Option<bool>,
    pub last_commit: LastCommit,
}

#[derive(Deserialize)]
pub struct LastCommit {
    pub id: String,
}

#[derive(Deserialize)]
pub struct Label {
    pub title: String,
}

/// The merge request as `merge_requests/:iid` (and `…/changes`, which adds
/// `changes`) returns it: what the event does not say.
#[derive(Deserialize)]
pub struct MergeRequest {
    pub author: User,
    pub diff_refs: DiffRefs,
}

#[derive(Deserialize)]
pub struct DiffRefs {
    pub base_sha: String,
    pub head_sha: String,
}

/// `merge_requests/:iid/changes`: the merge request with its changed files.
#[derive(Deserialize)]
pub struct Changes {
    #[serde(flatten)]
    pub merge_request: MergeRequest,
    pub changes: Vec<Diff>,
    /// `true` when GitLab left files out.
    #[serde(default)]
    pub overflow: bool,
}

#[derive(Deserialize)]
pub struct User {
    pub username: String,
}

/// A changed file of `…/changes` or `…/diffs`.
#[derive(Deserialize)]
pub struct Diff {
    pub old_path: String,
    pub new_path: String,
    pub diff: String,
    pub new_file: bool,
    pub renamed_file: bool,
    pub deleted_file: bool,
    #[serde(default)]
    pub too_large: Option<bool>,
    #[serde(default)]
    pub collapsed: Option<bool>,
}

/// An item of `merge_requests/:iid/commits`.
#[derive(Deserialize)]
pub struct Commit {
    pub id: String,
    #[serde(default)]
    pub parent_ids: Vec<String>,
    pub message: String,
    pub author_name: String,
    pub author_email: String,
    pub authored_date: Time,
    pub committer_name: String,
    pub committer_email: String,
    pub committed_date: Time,
}

/// `merge_requests/:iid/approvals`.
#[derive(Deserialize)]
pub struct Approvals {
    pub approved_by: Vec<Approver>,
}

#[derive(Deserialize)]
pub struct Approver {
    pub user: User,
}

/// `merge_requests/:iid/approval_state`.
#[derive(Deserialize)]
pub struct ApprovalState {
    pub rules: Vec<ApprovalRule>,
}

#[derive(Deserialize)]
pub struct ApprovalRule {
    #[serde(default)]
    pub approved_by: Vec<User>,
}

/// An item of `merge_requests/:iid/versions`: one per push to the source branch.
#[derive(Deserialize)]
pub struct Version {
    pub head_commit_sha: String,
    pub created_at: Time,
}

/// An item of `merge_requests/:iid/pipelines`.
#[derive(Deserialize)]
pub struct Pipeline {
    pub id: u64,
    pub sha: String,
    pub status: Status,
}

/// An item of `pipelines/:id/jobs`.
#[derive(Deserialize)]
pub struct Job {
    pub name: String,
    pub status: Status,
    pub pipeline: JobPipeline,
}

#[derive(Deserialize)]
pub struct JobPipeline {
    pub sha: String,
}

/// A pipeline's or job's status.
#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Created,
    WaitingForResource,
    WaitingForCallback,
    Preparing,
    Pending,
    Scheduled,
    Manual,
    Running,
    Success,
    Failed,
    Canceled,
    Canceling,
    Skipped,
}
