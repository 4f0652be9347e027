//! The GitHub source: an event payload (the file `$GITHUB_EVENT_PATH` names) and the
//! REST API responses saved beside it. The field mapping is in `docs/ci.md`.
//!
//! Only the fields Warden uses are read (the payloads carry hundreds more); each of
//! them that is missing or of the wrong type is an error with the file and JSON path.

mod payload;

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde_json::{Map, Value, json};
use warden_change::model::{Artifact, ReviewState, SCHEMA_VERSION};
use warden_change::{Change, Time};

use crate::SourceError;
use crate::forge::{self, Message, object};
use crate::read;
use payload::{
    ApiCommit, ApiFile, ApiReview, CheckRunPage, DeploymentEvent, PullRequestEvent, PushEvent,
    Repository, ThreadsPage, User,
};

/// `warden change github --event FILE [--api DIR]`.
#[derive(Clone, Debug)]
pub struct Options {
    /// The event payload.
    pub event: PathBuf,
    /// The directory of saved API responses (`files.json`, `commits.json`,
    /// `reviews.json`, `check-runs.json`, `threads.json`).
    pub api: Option<PathBuf>,
}

/// The most files `pulls/{n}/files` lists, and the most commits `pulls/{n}/commits`
/// lists: a pull request with more cannot be read whole from the REST API.
const MAX_LISTED_FILES: usize = 3000;
const MAX_LISTED_COMMITS: usize = 250;
/// The most files a comparison (`compare/{base}...{head}`) lists, on every page.
const MAX_COMPARED_FILES: usize = 300;

/// Builds the change of the event: a `pull_request` for `pull_request`,
/// `pull_request_review` and `pull_request_target` events, a `commit_range` for
/// `push`, a `deployment` for `deployment` and `deployment_status`.
pub fn build(options: &Options, evaluated_at: Time) -> Result<Change, SourceError> {
    let event = &options.event;
    let name = event.display().to_string();
    let text = read::read_file(event).map_err(|message| SourceError::new(&name, message))?;
    // Which event it is shows in its top-level keys (the event name itself is not in
    // the payload).
    let keys: IndexMap<String, serde::de::IgnoredAny> = read::json_text(&name, &text)?;
    let api = options.api.as_deref();
    let json = if keys.contains_key("pull_request") {
        pull_request(event, read::json_text(&name, &text)?, api, evaluated_at)?
    } else if keys.contains_key("deployment") {
        deployment(read::json_text(&name, &text)?, evaluated_at)
    } else if keys.contains_key("pusher") {
        push(event, read::json_text(&name, &text)?, api, evaluated_at)?
    } else {
        return Err(SourceError::at(
            &name,
            "$",
            "expected the payload of a `pull_request`, `pull_request_review`, \
             `pull_request_target`, `push`, `deployment` or `deployment_status` event \
             (an object with `pull_request`, `pusher` or `deployment`)",
        ));
    };
    forge::change(event, json)
}

/// The saved API file `name` that `gh api --paginate ENDPOINT > DIR/name` writes.
fn api_file(
    event: &Path,
    api: Option<&Path>,
    name: &str,
    endpoint: &str,
) -> Result<PathBuf, SourceError> {
    forge::required(
        event,
        api,
        name,
        &format!("`gh api --paginate {endpoint} > DIR/{name}`"),
    )
}

fn pull_request(
    event: &Path,
    payload: PullRequestEvent,
    api: Option<&Path>,
    evaluated_at: Time,
) -> Result<Value, SourceError> {
    let pr = &payload.pull_request;
    let repo = &payload.repository.full_name;
    let endpoint = |tail: &str| format!("repos/{repo}/pulls/{}/{tail}", pr.number);
    let files_path = api_file(event, api, "files.json", &endpoint("files"))?;
    let commits_path = api_file(event, api, "commits.json", &endpoint("commits"))?;
    let reviews_path = api_file(event, api, "reviews.json", &endpoint("reviews"))?;
    let checks_path = api_file(
        event,
        api,
        "check-runs.json",
        &format!("repos/{repo}/commits/{}/check-runs", pr.head.sha),
    )?;

    let files: Vec<ApiFile> = read::pages(&files_path, |page: Vec<ApiFile>| page)?;
    whole(
        &files_path,
        files.len(),
        pr.changed_files,
        MAX_LISTED_FILES,
        "files",
        "$.pull_request.changed_files",
    )?;
    let commits: Vec<ApiCommit> = read::pages(&commits_path, |page: Vec<ApiCommit>| page)?;
    whole(
        &commits_path,
        commits.len(),
        pr.commits,
        MAX_LISTED_COMMITS,
        "commits",
        "$.pull_request.commits",
    )?;
    if commits.last().map(|c| c.sha.as_str()) != Some(pr.head.sha.as_str()) {
        return Err(SourceError::new(
            commits_path.display(),
            format!(
                "the last commit listed is not the pull request's head {} \
                 (`$.pull_request.head.sha` of the event): save the API responses for the \
                 revision of the event",
                pr.head.sha
            ),
        ));
    }
    let reviews: Vec<ApiReview> = read::pages(&reviews_path, |page: Vec<ApiReview>| page)?;
    let check_pages: Vec<CheckRunPage> =
        read::pages(&checks_path, |page: CheckRunPage| vec![page])?;
    let threads = match forge::optional(api, "threads.json") {
        Some(path) => {
            let pages: Vec<ThreadsPage> = read::pages(&path, |page: ThreadsPage| vec![page])?;
            let unresolved = pages
                .iter()
                .flat_map(|p| &p.data.repository.pull_request.review_threads.nodes)
                .filter(|thread| !thread.is_resolved)
                .count();
            json!({ "unresolved": unresolved })
        }
        None => json!({ "unresolved": 0 }),
    };

    let mut bots = Bots::default();
    bots.note(&pr.user);
    let checks = checks(&checks_path, check_pages)?;
    let head_pushed_at = checks.iter().filter_map(|(started, _)| *started).min();
    // Who pushed: the sender of a `synchronize` event is; otherwise the head commit's
    // committer is the best the API tells.
    let pusher = match (payload.action.as_deref(), &payload.sender) {
        (Some("synchronize"), Some(sender)) => Some(sender.login.clone()),
        _ => commits
            .last()
            .and_then(|c| c.committer.as_ref())
            .map(|u| u.login.clone()),
    };
    let commits: Vec<Value> = commits
        .into_iter()
        .map(|commit| {
            let head = commit.sha == pr.head.sha;
            let mut value = api_commit(commit, &mut bots);
            if head && let Some(at) = head_pushed_at {
                value.insert("pushed_at".into(), at.to_string().into());
                value.insert("pushed_by".into(), pusher.clone().into());
            }
            Value::Object(value)
        })
        .collect();
    let fork =
        pr.head.repo.as_ref().is_none_or(|head| {
            Some(&head.full_name) != pr.base.repo.as_ref().map(|b| &b.full_name)
        });
    let reviews = github_reviews(&reviews_path, reviews, &mut bots)?;
    Ok(object([
        ("schema", SCHEMA_VERSION.into()),
        ("kind", "pull_request".into()),
        ("id", format!("github:{repo}#{}", pr.number).into()),
        ("evaluated_at", evaluated_at.to_string().into()),
        ("repository", repository(&payload.repository)),
        ("title", pr.title.clone().into()),
        ("description", pr.body.clone().unwrap_or_default().into()),
        ("draft", pr.draft.unwrap_or(false).into()),
        (
            "labels",
            pr.labels.iter().map(|l| l.name.as_str()).collect(),
        ),
        ("source", json!({ "ref": pr.head.name, "fork": fork })),
        ("target", json!({ "ref": pr.base.name })),
        (
            "revisions",
            json!({ "base": pr.base.sha, "head": pr.head.sha }),
        ),
        ("author", pr.user.login.clone().into()),
        ("files", files.into_iter().map(api_file_json).collect()),
        ("commits", commits.into()),
        ("reviews", reviews.into()),
        ("threads", threads),
        (
            "checks",
            checks.into_iter().map(|(_, check)| check).collect(),
        ),
        ("principals", bots.principals()),
    ]))
}

/// Fails unless a list read from the API is whole: as long as the event says
/// (`expected`, its `field`), and, when the event does not say, shorter than the API's
/// `cap`.
fn whole(
    path: &Path,
    listed: usize,
    expected: Option<usize>,
    cap: usize,
    what: &str,
    field: &str,
) -> Result<(), SourceError> {
    let message = match expected {
        Some(expected) if expected != listed => format!(
            "it lists {listed} {what} but the pull request has {expected} (`{field}` of the \
             event): the API lists at most {cap} {what}, and the responses must be saved for \
             the revision of the event; Warden does not evaluate a partial change"
        ),
        None if listed >= cap => format!(
            "it lists {listed} {what}, the most the API lists, and the event does not say how \
             many there are; Warden does not evaluate a possibly partial change"
        ),
        _ => return Ok(()),
    };
    Err(SourceError::new(path.display(), message))
}

/// The check runs, each with when it started (the push of the head precedes it).
fn checks(
    path: &Path,
    pages: Vec<CheckRunPage>,
) -> Result<Vec<(Option<Time>, Value)>, SourceError> {
    let total = pages.first().map_or(0, |p| p.total_count);
    let runs: Vec<_> = pages.into_iter().flat_map(|p| p.check_runs).collect();
    if runs.len() != total {
        return Err(SourceError::at(
            path.display(),
            "$.total_count",
            format!(
                "GitHub counts {total} check runs but the file lists {}: save every page \
                 (`gh api --paginate`)",
                runs.len()
            ),
        ));
    }
    Ok(runs
        .into_iter()
        .map(|run| {
            let check = object([
                ("name", run.name.into()),
                ("app", run.app.slug.into()),
                ("commit", run.head_sha.into()),
                ("status", run.status.into()),
                ("conclusion", run.conclusion.into()),
            ]);
            (run.started_at, check)
        })
        .collect())
}

/// GitHub's review semantics in a list whose latest review per reviewer is the one
/// that stands (what Warden's `latest_reviews` takes): a `COMMENTED` review after a
/// reviewer's verdict is left out (a comment does not withdraw an approval or a
/// request for changes), a `DISMISSED` one is `dismissed` (it withdraws it), and
/// `PENDING` ones (not submitted) are left out.
fn github_reviews(
    path: &Path,
    reviews: Vec<ApiReview>,
    bots: &mut Bots,
) -> Result<Vec<Value>, SourceError> {
    let mut with_verdict: std::collections::HashSet<String> = Default::default();
    let mut out = Vec::with_capacity(reviews.len());
    for (index, review) in reviews.into_iter().enumerate() {
        if review.state == ReviewState::Pending {
            continue;
        }
        let reviewer = review
            .user
            .as_ref()
            .map_or(GHOST, |u| u.login.as_str())
            .to_owned();
        if let Some(user) = &review.user {
            bots.note(user);
        }
        if review.state == ReviewState::Commented && with_verdict.contains(&reviewer) {
            continue;
        }
        let Some(submitted_at) = review.submitted_at else {
            return Err(SourceError::new(
                path.display(),
                format!(
                    "review {} ({} of the list) is `{}` without `submitted_at`; only a \
                     `PENDING` review has none",
                    review.id,
                    index + 1,
                    review.state.as_str().to_uppercase()
                ),
            ));
        };
        if review.state != ReviewState::Commented {
            with_verdict.insert(reviewer.clone());
        }
        let dismissed = review.state == ReviewState::Dismissed;
        out.push(object([
            ("reviewer", reviewer.into()),
            ("state", review.state.as_str().into()),
            ("commit", review.commit_id.into()),
            ("submitted_at", submitted_at.to_string().into()),
            ("dismissed", dismissed.into()),
            ("body", review.body.unwrap_or_default().into()),
        ]));
    }
    Ok(out)
}

/// GitHub's name for a deleted account.
const GHOST: &str = "ghost";

fn api_file_json(file: ApiFile) -> Value {
    // GitHub sends no patch for a binary file, and counts no lines in it; a text
    // diff too large to send still has its line counts. A pure rename has neither.
    let binary = file.patch.is_none()
        && file.additions == 0
        && file.deletions == 0
        && !matches!(file.status.as_str(), "renamed" | "unchanged");
    object([
        ("path", file.filename.into()),
        ("previous_path", file.previous_filename.into()),
        ("status", file.status.as_str().into()),
        ("additions", file.additions.into()),
        ("deletions", file.deletions.into()),
        ("binary", binary.into()),
        ("patch", file.patch.into()),
    ])
}

/// A commit of `pulls/{n}/commits` (or of a comparison).
fn api_commit(commit: ApiCommit, bots: &mut Bots) -> Map<String, Value> {
    let person = |git: &payload::GitPerson, user: &Option<User>| {
        json!({
            "principal": user.as_ref().map(|u| u.login.as_str()),
            "name": git.name,
            "email": git.email,
            "time": git.date.to_string(),
        })
    };
    for user in [&commit.author, &commit.committer].into_iter().flatten() {
        bots.note(user);
    }
    let mut value = Map::new();
    value.insert("sha".into(), commit.sha.into());
    value.insert(
        "parents".into(),
        commit
            .parents
            .into_iter()
            .map(|p| Value::from(p.sha))
            .collect(),
    );
    value.insert(
        "author".into(),
        person(&commit.commit.author, &commit.author),
    );
    value.insert(
        "committer".into(),
        person(&commit.commit.committer, &commit.committer),
    );
    Message::parse(&commit.commit.message).fields(&mut value);
    let signature = commit.commit.verification.and_then(|v| {
        let kind = signature_kind(v.signature.as_deref()?);
        // GitHub verifies a signature against the keys of the account whose verified
        // e-mail is the committer's: that account signed.
        let signer = v
            .verified
            .then(|| commit.committer.as_ref().map(|u| u.login.clone()))
            .flatten();
        Some(json!({
            "state": if v.verified { "verified" } else { "unverified" },
            "type": kind,
            "signer": signer,
        }))
    });
    value.insert("signature".into(), signature.unwrap_or(Value::Null));
    value
}

/// The kind of an armored signature.
fn signature_kind(signature: &str) -> &'static str {
    if signature.contains("BEGIN SSH SIGNATURE") {
        "ssh"
    } else if signature.contains("BEGIN PGP SIGNATURE") {
        "gpg"
    } else if signature.contains("BEGIN SIGNED MESSAGE") {
        "x509"
    } else {
        "unknown"
    }
}

fn repository(repository: &Repository) -> Value {
    // Custom properties are strings, lists of strings (multi-select, joined with
    // commas) or unset (`null`, left out).
    let properties: Map<String, Value> = repository
        .custom_properties
        .iter()
        .filter_map(|(name, value)| {
            let text = match value {
                payload::Property::One(text) => text.clone(),
                payload::Property::Many(texts) => texts.join(","),
                payload::Property::Unset => return None,
            };
            Some((name.clone(), Value::from(text)))
        })
        .collect();
    json!({ "name": repository.full_name, "properties": properties })
}

/// The accounts GitHub says are bots (`"type": "Bot"`): named in the change's
/// `principals` as `{"kind": "bot"}`, so a bot the fact files do not know is still a
/// bot (a fact file that knows it must say the same, or the merge is an error).
#[derive(Default)]
struct Bots(std::collections::BTreeSet<String>);

impl Bots {
    fn note(&mut self, user: &User) {
        if user.kind == "Bot" {
            self.0.insert(user.login.clone());
        }
    }

    fn principals(self) -> Value {
        self.0
            .into_iter()
            .map(|login| (login, json!({ "kind": "bot" })))
            .collect::<Map<_, _>>()
            .into()
    }
}

/// A push: the pushed commits and the files they change, from the comparison of
/// `before` and `after` the API returns (the payload lists at most 20 commits and no
/// line counts), all pushed when GitHub says the repository was last pushed to and
/// by the sender.
fn push(
    event: &Path,
    payload: PushEvent,
    api: Option<&Path>,
    evaluated_at: Time,
) -> Result<Value, SourceError> {
    let repo = &payload.repository.repository.full_name;
    // GitHub writes forty zeros for the side of a push that has no commit.
    let no_commit = |sha: &str| sha.bytes().all(|b| b == b'0');
    if no_commit(&payload.before) || no_commit(&payload.after) {
        let (field, what) = if no_commit(&payload.before) {
            (
                "$.before",
                "creates the branch: it has no base to compare with",
            )
        } else {
            ("$.after", "deletes the branch: it has no commits")
        };
        return Err(SourceError::at(
            event.display(),
            field,
            format!(
                "the push {what}; evaluate the pull request, or the commit range with \
                 `warden change git BASE..HEAD`"
            ),
        ));
    }
    let compare_path = api_file(
        event,
        api,
        "compare.json",
        &format!(
            "repos/{repo}/compare/{}...{}",
            payload.before, payload.after
        ),
    )?;
    let pages: Vec<payload::ComparePage> =
        read::pages(&compare_path, |page: payload::ComparePage| vec![page])?;
    let total = pages.first().map_or(0, |p| p.total_commits);
    let mut files = None;
    let mut commits = Vec::new();
    for page in pages {
        // Every page of a comparison repeats the same files.
        files.get_or_insert(page.files);
        commits.extend(page.commits);
    }
    let files = files.unwrap_or_default();
    if commits.len() != total {
        return Err(SourceError::at(
            compare_path.display(),
            "$.total_commits",
            format!(
                "the comparison has {total} commits but the file lists {}: save every page \
                 (`gh api --paginate`)",
                commits.len()
            ),
        ));
    }
    whole(
        &compare_path,
        files.len(),
        None,
        MAX_COMPARED_FILES,
        "files",
        "",
    )?;
    let pushed_at = warden_change::jiff::Timestamp::from_second(payload.repository.pushed_at)
        .map(|at| Time::new(at, warden_change::jiff::tz::Offset::UTC).to_string())
        .map_err(|error| {
            SourceError::at(
                event.display(),
                "$.repository.pushed_at",
                format!("expected a Unix time: {error}"),
            )
        })?;
    let mut bots = Bots::default();
    bots.note(&payload.sender);
    let commits: Vec<Value> = commits
        .into_iter()
        .map(|commit| {
            let mut value = api_commit(commit, &mut bots);
            value.insert("pushed_at".into(), pushed_at.clone().into());
            value.insert("pushed_by".into(), payload.sender.login.clone().into());
            Value::Object(value)
        })
        .collect();
    let branch = payload
        .git_ref
        .strip_prefix("refs/heads/")
        .unwrap_or(&payload.git_ref);
    Ok(object([
        ("schema", SCHEMA_VERSION.into()),
        ("kind", "commit_range".into()),
        (
            "id",
            format!("github:{repo}@{}..{}", payload.before, payload.after).into(),
        ),
        ("evaluated_at", evaluated_at.to_string().into()),
        ("repository", repository(&payload.repository.repository)),
        ("title", format!("push to {branch}").into()),
        ("target", json!({ "ref": branch })),
        (
            "revisions",
            json!({ "base": payload.before, "head": payload.after }),
        ),
        ("author", payload.sender.login.clone().into()),
        ("files", files.into_iter().map(api_file_json).collect()),
        ("commits", commits.into()),
        ("principals", bots.principals()),
    ]))
}

/// A deployment: its environment, creator and commit; the services and rollout plan
/// come from the deployment's `payload` (`{"services": […], "plan": […]}`), which
/// whoever creates the deployment writes.
fn deployment(payload: DeploymentEvent, evaluated_at: Time) -> Value {
    let deployment = &payload.deployment;
    let repo = &payload.repository.full_name;
    let mut bots = Bots::default();
    bots.note(&deployment.creator);
    let trigger = if deployment.creator.login == "github-actions[bot]" {
        "pipeline"
    } else {
        "manual"
    };
    let extra = &deployment.payload;
    let started_at = payload
        .deployment_status
        .as_ref()
        .filter(|status| status.state == "in_progress")
        .map(|status| status.created_at.to_string());
    json!({
        "schema": SCHEMA_VERSION,
        "kind": "deployment",
        "id": format!("github:{repo}/deployments/{}", deployment.id),
        "evaluated_at": evaluated_at.to_string(),
        "repository": repository(&payload.repository),
        "title": format!("deploy {} to {}", deployment.git_ref, deployment.environment),
        "description": deployment.description.clone().unwrap_or_default(),
        "author": deployment.creator.login,
        "deployment": {
            "environment": deployment.environment,
            "services": extra.services,
            "initiator": deployment.creator.login,
            "trigger": trigger,
            "artifact": Artifact {
                source_commit: Some(deployment.sha.clone()),
                ..extra.artifact.clone()
            },
            "plan": extra.plan,
            "config_change": extra.config_change,
            "started_at": started_at,
        },
        "principals": bots.principals(),
    })
}
