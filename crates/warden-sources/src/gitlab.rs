//! The GitLab source: a merge-request event payload (or the `CI_MERGE_REQUEST_*`
//! variables of a merge-request pipeline) and the API responses saved beside it. The
//! field mapping is in `docs/ci.md`.

mod payload;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use warden_change::model::SCHEMA_VERSION;
use warden_change::{Change, Time};

use crate::SourceError;
use crate::forge::{self, Message, object};
use crate::read;
use payload::{Changes, Diff, MergeRequest, MergeRequestEvent, Status};

/// `warden change gitlab [--event FILE] [--api DIR]`.
#[derive(Clone, Debug)]
pub struct Options {
    /// The merge-request event payload; without it, the `CI_MERGE_REQUEST_*` variables.
    pub event: Option<PathBuf>,
    /// The directory of saved API responses.
    pub api: Option<PathBuf>,
    /// The CI variables (`CI_*`, `GITLAB_*`) read when there is no event.
    pub variables: BTreeMap<String, String>,
}

impl Options {
    /// The options with the `CI_*` and `GITLAB_*` variables of this process's
    /// environment (read only when there is no event).
    pub fn from_environment(event: Option<PathBuf>, api: Option<PathBuf>) -> Options {
        let variables = if event.is_some() {
            BTreeMap::new()
        } else {
            std::env::vars()
                .filter(|(name, _)| name.starts_with("CI_") || name.starts_with("GITLAB_"))
                .collect()
        };
        Options {
            event,
            api,
            variables,
        }
    }
}

/// What the event (or the variables) says of the merge request.
struct Request {
    project: String,
    iid: u64,
    title: String,
    description: String,
    source: String,
    target: String,
    fork: bool,
    draft: bool,
    labels: Vec<String>,
    head: String,
    /// Where the errors about the request point.
    input: PathBuf,
}

/// Builds the `pull_request` change of the merge request.
pub fn build(options: &Options, evaluated_at: Time) -> Result<Change, SourceError> {
    let request = match &options.event {
        Some(event) => from_event(event)?,
        None => from_variables(&options.variables)?,
    };
    let api = options.api.as_deref();
    let json = merge_request(&request, api, evaluated_at)?;
    forge::change(&request.input, json)
}

fn from_event(path: &Path) -> Result<Request, SourceError> {
    let event: MergeRequestEvent = read::json(path)?;
    if event.object_kind != "merge_request" {
        return Err(SourceError::at(
            path.display(),
            "$.object_kind",
            format!(
                "expected a merge request event (`merge_request`), found `{}`",
                event.object_kind
            ),
        ));
    }
    let mr = event.object_attributes;
    Ok(Request {
        project: event.project.path_with_namespace,
        iid: mr.iid,
        title: mr.title,
        description: mr.description.unwrap_or_default(),
        source: mr.source_branch,
        target: mr.target_branch,
        fork: mr.source_project_id != mr.target_project_id,
        draft: mr.draft.or(mr.work_in_progress).unwrap_or(false),
        labels: event.labels.into_iter().map(|l| l.title).collect(),
        head: mr.last_commit.id,
        input: path.to_path_buf(),
    })
}

/// The input named in errors about the CI variables.
const ENVIRONMENT: &str = "the environment";

/// The variables GitLab sets in a merge-request pipeline.
fn from_variables(variables: &BTreeMap<String, String>) -> Result<Request, SourceError> {
    let get = |name: &str| variables.get(name).filter(|v| !v.is_empty());
    let need = |name: &str| {
        get(name).cloned().ok_or_else(|| {
            SourceError::new(
                ENVIRONMENT,
                format!(
                    "`{name}` is not set: run `warden change gitlab` in a merge request \
                     pipeline (`rules: - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"`) \
                     or pass `--event` with a merge request event"
                ),
            )
        })
    };
    let iid = need("CI_MERGE_REQUEST_IID")?;
    let iid = iid.parse().map_err(|_| {
        SourceError::new(
            ENVIRONMENT,
            format!("`CI_MERGE_REQUEST_IID` is `{iid}`, not a merge request number"),
        )
    })?;
    let project = need("CI_MERGE_REQUEST_PROJECT_PATH").or_else(|_| need("CI_PROJECT_PATH"))?;
    let fork = get("CI_MERGE_REQUEST_SOURCE_PROJECT_PATH").is_some_and(|source| *source != project);
    // In a merged-results pipeline `CI_COMMIT_SHA` is the merge GitLab made; the
    // source branch's head is then given on its own.
    let head = match get("CI_MERGE_REQUEST_SOURCE_BRANCH_SHA") {
        Some(sha) => sha.clone(),
        None => need("CI_COMMIT_SHA")?,
    };
    Ok(Request {
        project,
        iid,
        title: need("CI_MERGE_REQUEST_TITLE")?,
        description: get("CI_MERGE_REQUEST_DESCRIPTION")
            .cloned()
            .unwrap_or_default(),
        source: need("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME")?,
        target: need("CI_MERGE_REQUEST_TARGET_BRANCH_NAME")?,
        fork,
        draft: get("CI_MERGE_REQUEST_DRAFT").is_some_and(|d| d == "true"),
        labels: get("CI_MERGE_REQUEST_LABELS")
            .map(|labels| labels.split(',').map(str::to_owned).collect())
            .unwrap_or_default(),
        head,
        input: PathBuf::from(ENVIRONMENT),
    })
}

/// The saved API file `name`: every page of `GET` on the merge request's `tail`
/// (`/diffs`, or `""` for the merge request itself).
fn api_file(
    request: &Request,
    api: Option<&Path>,
    name: &str,
    tail: &str,
) -> Result<PathBuf, SourceError> {
    let how = format!(
        "every page of GET /projects/{}/merge_requests/{}{tail}, as `glab api --paginate` \
         prints them, in DIR/{name}",
        request.project.replace('/', "%2F"),
        request.iid
    );
    forge::required(&request.input, api, name, &how)
}

fn merge_request(
    request: &Request,
    api: Option<&Path>,
    evaluated_at: Time,
) -> Result<Value, SourceError> {
    // The changed files come with the merge request (`changes`) or on their own
    // (`diffs`, which needs `merge_request.json` for the author and revisions).
    let (merge_request, diffs, files_path) = match forge::optional(api, "changes.json") {
        Some(path) => {
            let changes: Changes = read::json(&path)?;
            if changes.overflow {
                return Err(SourceError::at(
                    path.display(),
                    "$.overflow",
                    "GitLab left some changed files out; save `diffs.json` (every page of \
                     merge_requests/:iid/diffs) instead: Warden does not evaluate a partial change",
                ));
            }
            (changes.merge_request, changes.changes, path)
        }
        None => {
            let path = api_file(request, api, "diffs.json", "/diffs")?;
            let diffs = read::pages(&path, |page: Vec<Diff>| page)?;
            let mr_path = api_file(request, api, "merge_request.json", "")?;
            let merge_request: MergeRequest = read::json(&mr_path)?;
            (merge_request, diffs, path)
        }
    };
    if merge_request.diff_refs.head_sha != request.head {
        return Err(SourceError::at(
            files_path.display(),
            "$.diff_refs.head_sha",
            format!(
                "the saved merge request is at {} but the event (or `CI_COMMIT_SHA`) at {}: save \
                 the API responses for the revision being evaluated",
                merge_request.diff_refs.head_sha, request.head
            ),
        ));
    }
    let files = diffs
        .into_iter()
        .map(|diff| file(&files_path, diff))
        .collect::<Result<Vec<_>, _>>()?;

    let commits_path = api_file(request, api, "commits.json", "/commits")?;
    let mut commits: Vec<payload::Commit> =
        read::pages(&commits_path, |page: Vec<payload::Commit>| page)?;
    // GitLab lists the newest first; a change lists them oldest first.
    commits.reverse();
    if commits.last().map(|c| c.id.as_str()) != Some(request.head.as_str()) {
        return Err(SourceError::new(
            commits_path.display(),
            format!(
                "the newest commit listed is not the merge request's head {}: save the API \
                 responses for the revision being evaluated",
                request.head
            ),
        ));
    }
    let head_pushed_at = match forge::optional(api, "versions.json") {
        Some(path) => read::pages(&path, |page: Vec<payload::Version>| page)?
            .into_iter()
            .filter(|v| v.head_commit_sha == request.head)
            .map(|v| v.created_at)
            .min(),
        None => None,
    };
    let commits: Vec<Value> = commits
        .into_iter()
        .map(|commit| {
            let mut value = serde_json::Map::new();
            let pushed_at = head_pushed_at.filter(|_| commit.id == request.head);
            value.insert("sha".into(), commit.id.into());
            value.insert("parents".into(), commit.parent_ids.into());
            value.insert(
                "author".into(),
                json!({ "name": commit.author_name, "email": commit.author_email, "time": commit.authored_date.to_string() }),
            );
            value.insert(
                "committer".into(),
                json!({ "name": commit.committer_name, "email": commit.committer_email, "time": commit.committed_date.to_string() }),
            );
            Message::parse(&commit.message).fields(&mut value);
            if let Some(at) = pushed_at {
                value.insert("pushed_at".into(), at.to_string().into());
            }
            Value::Object(value)
        })
        .collect();

    let reviews = approvals(request, api, evaluated_at)?;
    Ok(object([
        ("schema", SCHEMA_VERSION.into()),
        ("kind", "pull_request".into()),
        (
            "id",
            format!("gitlab:{}!{}", request.project, request.iid).into(),
        ),
        ("evaluated_at", evaluated_at.to_string().into()),
        ("repository", json!({ "name": request.project })),
        ("title", request.title.clone().into()),
        ("description", request.description.clone().into()),
        ("draft", request.draft.into()),
        ("labels", request.labels.clone().into()),
        (
            "source",
            json!({ "ref": request.source, "fork": request.fork }),
        ),
        ("target", json!({ "ref": request.target })),
        (
            "revisions",
            json!({ "base": merge_request.diff_refs.base_sha, "head": request.head }),
        ),
        ("author", merge_request.author.username.into()),
        ("files", files.into()),
        ("commits", commits.into()),
        ("reviews", reviews.into()),
        ("checks", checks(api)?.into()),
    ]))
}

fn file(path: &Path, diff: Diff) -> Result<Value, SourceError> {
    let status = if diff.new_file {
        "added"
    } else if diff.deleted_file {
        "removed"
    } else if diff.renamed_file {
        "renamed"
    } else {
        "modified"
    };
    // GitLab leaves the diff of a very large file out, and says so; its line counts
    // are then unknown.
    if diff.diff.is_empty() && (diff.too_large == Some(true) || diff.collapsed == Some(true)) {
        return Err(SourceError::new(
            path.display(),
            format!(
                "GitLab gives no diff for `{}` (too large), so its changed lines are unknown; \
                 Warden does not evaluate a partial change",
                diff.new_path
            ),
        ));
    }
    let binary = diff.diff.starts_with("Binary files ");
    let (additions, deletions) = if binary {
        (0, 0)
    } else {
        forge::diff_lines(&diff.diff)
    };
    let patch = (!binary && !diff.diff.is_empty()).then_some(diff.diff);
    Ok(object([
        ("path", diff.new_path.into()),
        (
            "previous_path",
            diff.renamed_file.then_some(diff.old_path).into(),
        ),
        ("status", status.into()),
        ("additions", additions.into()),
        ("deletions", deletions.into()),
        ("binary", binary.into()),
        ("patch", patch.into()),
    ]))
}

/// The approvals that stand, as `approved` reviews of the head. GitLab records no
/// time or commit for an approval: with "remove all approvals when commits are added"
/// (the project setting Warden requires) every approval standing is of the head, and
/// is taken as given at `evaluated_at`.
fn approvals(
    request: &Request,
    api: Option<&Path>,
    evaluated_at: Time,
) -> Result<Vec<Value>, SourceError> {
    let mut approvers = std::collections::BTreeSet::new();
    let approvals = forge::optional(api, "approvals.json");
    let state = forge::optional(api, "approval_state.json");
    if approvals.is_none() && state.is_none() {
        api_file(request, api, "approvals.json", "/approvals")?;
    }
    if let Some(path) = approvals {
        let approvals: payload::Approvals = read::json(&path)?;
        approvers.extend(approvals.approved_by.into_iter().map(|a| a.user.username));
    }
    if let Some(path) = state {
        let state: payload::ApprovalState = read::json(&path)?;
        approvers.extend(
            state
                .rules
                .into_iter()
                .flat_map(|r| r.approved_by)
                .map(|u| u.username),
        );
    }
    Ok(approvers
        .into_iter()
        .map(|username| {
            json!({
                "reviewer": username,
                "state": "approved",
                "commit": request.head,
                "submitted_at": evaluated_at.to_string(),
            })
        })
        .collect())
}

/// The jobs (`jobs.json`) of the head's pipeline, or, without them, the merge
/// request's pipelines (`pipelines.json`) as checks named `pipeline`.
fn checks(api: Option<&Path>) -> Result<Vec<Value>, SourceError> {
    let check = |name: &str, commit: &str, status: Status| {
        let (status, conclusion) = check_status(status);
        json!({ "name": name, "app": GITLAB_CI, "commit": commit, "status": status, "conclusion": conclusion })
    };
    if let Some(path) = forge::optional(api, "jobs.json") {
        let jobs = read::pages(&path, |page: Vec<payload::Job>| page)?;
        return Ok(jobs
            .iter()
            .map(|job| check(&job.name, &job.pipeline.sha, job.status))
            .collect());
    }
    if let Some(path) = forge::optional(api, "pipelines.json") {
        let mut pipelines = read::pages(&path, |page: Vec<payload::Pipeline>| page)?;
        pipelines.sort_by_key(|p| p.id);
        return Ok(pipelines
            .iter()
            .map(|p| check("pipeline", &p.sha, p.status))
            .collect());
    }
    Ok(Vec::new())
}

/// The app every GitLab CI check is from.
const GITLAB_CI: &str = "gitlab-ci";

/// A GitLab status as a check's `status` and `conclusion` (GitHub's words, which
/// policies compare).
fn check_status(status: Status) -> (&'static str, Option<&'static str>) {
    match status {
        Status::Created
        | Status::WaitingForResource
        | Status::WaitingForCallback
        | Status::Preparing
        | Status::Pending
        | Status::Scheduled
        | Status::Manual => ("queued", None),
        Status::Running | Status::Canceling => ("in_progress", None),
        Status::Success => ("completed", Some("success")),
        Status::Failed => ("completed", Some("failure")),
        Status::Canceled => ("completed", Some("cancelled")),
        Status::Skipped => ("completed", Some("skipped")),
    }
}
