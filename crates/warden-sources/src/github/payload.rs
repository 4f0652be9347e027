//! The parts of GitHub's event payloads and REST responses the source reads, named as
//! GitHub names them. Unknown fields are ignored; a field listed here that is missing
//! or of another type is an error with its JSON path.

use indexmap::IndexMap;
use serde::Deserialize;
use warden_change::Time;
use warden_change::model::{Artifact, ConfigChange, FileStatus, ReviewState, Wave};

#[derive(Deserialize)]
pub struct User {
    pub login: String,
    /// `User`, `Bot` or `Organization`.
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Deserialize)]
pub struct Repository {
    pub full_name: String,
    #[serde(default)]
    pub custom_properties: IndexMap<String, Property>,
}

/// A custom property's value: a string, the strings of a multi-select, or `null`.
#[derive(Deserialize)]
#[serde(untagged)]
pub enum Property {
    One(String),
    Many(Vec<String>),
    Unset,
}

/// `pull_request`, `pull_request_review` and `pull_request_target` events.
#[derive(Deserialize)]
pub struct PullRequestEvent {
    #[serde(default)]
    pub action: Option<String>,
    pub pull_request: PullRequest,
    pub repository: Repository,
    #[serde(default)]
    pub sender: Option<User>,
}

#[derive(Deserialize)]
pub struct PullRequest {
    pub number: u64,
    pub title: String,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub draft: Option<bool>,
    pub user: User,
    pub labels: Vec<Label>,
    pub head: Branch,
    pub base: Branch,
    /// Absent from `pull_request_review` payloads.
    #[serde(default)]
    pub commits: Option<usize>,
    #[serde(default)]
    pub changed_files: Option<usize>,
}

#[derive(Deserialize)]
pub struct Label {
    pub name: String,
}

#[derive(Deserialize)]
pub struct Branch {
    #[serde(rename = "ref")]
    pub name: String,
    pub sha: String,
    /// `null` when the fork it came from was deleted.
    pub repo: Option<RepositoryName>,
}

#[derive(Deserialize)]
pub struct RepositoryName {
    pub full_name: String,
}

/// An item of `pulls/{n}/files` (and of a comparison's `files`).
#[derive(Deserialize)]
pub struct ApiFile {
    pub filename: String,
    pub status: FileStatus,
    pub additions: i64,
    pub deletions: i64,
    #[serde(default)]
    pub patch: Option<String>,
    #[serde(default)]
    pub previous_filename: Option<String>,
}

/// An item of `pulls/{n}/commits` (and of a comparison's `commits`).
#[derive(Deserialize)]
pub struct ApiCommit {
    pub sha: String,
    pub commit: GitCommit,
    /// The GitHub accounts of the author and committer; `null` when the e-mail is no
    /// account's.
    pub author: Option<User>,
    pub committer: Option<User>,
    pub parents: Vec<Parent>,
}

#[derive(Deserialize)]
pub struct GitCommit {
    pub author: GitPerson,
    pub committer: GitPerson,
    pub message: String,
    #[serde(default)]
    pub verification: Option<Verification>,
}

#[derive(Deserialize)]
pub struct GitPerson {
    pub name: String,
    pub email: String,
    pub date: Time,
}

#[derive(Deserialize)]
pub struct Verification {
    pub verified: bool,
    pub signature: Option<String>,
}

#[derive(Deserialize)]
pub struct Parent {
    pub sha: String,
}

/// An item of `pulls/{n}/reviews`.
#[derive(Deserialize)]
pub struct ApiReview {
    pub id: u64,
    /// `null` for a deleted account.
    pub user: Option<User>,
    pub state: ReviewState,
    #[serde(default)]
    pub body: Option<String>,
    /// Absent while `PENDING`.
    #[serde(default)]
    pub submitted_at: Option<Time>,
    pub commit_id: String,
}

/// A page of `commits/{sha}/check-runs`.
#[derive(Deserialize)]
pub struct CheckRunPage {
    pub total_count: usize,
    pub check_runs: Vec<CheckRun>,
}

#[derive(Deserialize)]
pub struct CheckRun {
    pub name: String,
    pub head_sha: String,
    pub status: String,
    pub conclusion: Option<String>,
    pub started_at: Option<Time>,
    pub app: App,
}

#[derive(Deserialize)]
pub struct App {
    pub slug: String,
}

/// A page of the GraphQL query for the pull request's `reviewThreads`.
#[derive(Deserialize)]
pub struct ThreadsPage {
    pub data: ThreadsData,
}

#[derive(Deserialize)]
pub struct ThreadsData {
    pub repository: ThreadsRepository,
}

#[derive(Deserialize)]
pub struct ThreadsRepository {
    #[serde(rename = "pullRequest")]
    pub pull_request: ThreadsPullRequest,
}

#[derive(Deserialize)]
pub struct ThreadsPullRequest {
    #[serde(rename = "reviewThreads")]
    pub review_threads: Threads,
}

#[derive(Deserialize)]
pub struct Threads {
    pub nodes: Vec<Thread>,
}

#[derive(Deserialize)]
pub struct Thread {
    #[serde(rename = "isResolved")]
    pub is_resolved: bool,
}

/// A `push` event.
#[derive(Deserialize)]
pub struct PushEvent {
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub before: String,
    pub after: String,
    pub repository: PushRepository,
    pub sender: User,
}

/// A push event's repository: its `pushed_at` is a Unix time, set by GitHub.
#[derive(Deserialize)]
pub struct PushRepository {
    #[serde(flatten)]
    pub repository: Repository,
    pub pushed_at: i64,
}

/// A page of `compare/{before}...{after}`.
#[derive(Deserialize)]
pub struct ComparePage {
    pub total_commits: usize,
    pub commits: Vec<ApiCommit>,
    #[serde(default)]
    pub files: Vec<ApiFile>,
}

/// `deployment` and `deployment_status` events.
#[derive(Deserialize)]
pub struct DeploymentEvent {
    pub deployment: Deployment,
    #[serde(default)]
    pub deployment_status: Option<DeploymentStatus>,
    pub repository: Repository,
}

#[derive(Deserialize)]
pub struct Deployment {
    pub id: u64,
    pub sha: String,
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub environment: String,
    #[serde(default)]
    pub description: Option<String>,
    pub creator: User,
    pub payload: DeploymentPayload,
}

/// What the deployment's creator put in its `payload` for Warden.
#[derive(Deserialize)]
pub struct DeploymentPayload {
    pub services: Vec<String>,
    pub plan: Vec<Wave>,
    #[serde(default)]
    pub config_change: Option<ConfigChange>,
    /// The artifact deployed (the model's `Artifact`: `digest`, `provenance_verified`,
    /// `source_change`, `source_verdict`); its `source_commit` is the deployment's.
    pub artifact: Artifact,
}

#[derive(Deserialize)]
pub struct DeploymentStatus {
    pub state: String,
    pub created_at: Time,
}
