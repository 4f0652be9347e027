//! Where a change comes from, as command-line arguments: `warden change <source>` and
//! the source flags of `warden eval` (`--change`, `--git`, `--github-event`, …).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use warden::warden_change::Time;
use warden::warden_sources::{Additions, Source, git, github, gitlab};

/// `warden change <source>`.
#[derive(Subcommand)]
pub enum ChangeSource {
    /// A commit range of a local git repository, as a `commit_range` change.
    Git {
        /// `BASE..HEAD`.
        #[arg(value_name = "BASE..HEAD")]
        range: String,
        #[command(flatten)]
        git: GitArgs,
        #[command(flatten)]
        common: Common,
    },
    /// A GitHub event payload (`$GITHUB_EVENT_PATH`) and saved REST API responses.
    Github {
        /// The event payload.
        #[arg(long)]
        event: PathBuf,
        /// The directory of saved API responses (see `docs/ci.md`).
        #[arg(long)]
        api: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// A GitLab merge-request event (or the `CI_MERGE_REQUEST_*` variables) and saved
    /// API responses.
    Gitlab {
        /// The merge-request event payload.
        #[arg(long)]
        event: Option<PathBuf>,
        /// The directory of saved API responses (see `docs/ci.md`).
        #[arg(long)]
        api: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
}

/// The options of the git source.
#[derive(Args, Clone)]
pub struct GitArgs {
    /// The repository [default: .]
    #[arg(long)]
    pub repo: Option<PathBuf>,
    /// Include each file's unified diff (`patch`).
    #[arg(long)]
    pub patch: bool,
    /// The repository's `owner/name`; by default from the `origin` remote.
    #[arg(long)]
    pub repository: Option<String>,
}

/// What every `warden change` source takes.
#[derive(Args, Clone)]
pub struct Common {
    /// Write the change here instead of standard output (whole or not at all).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub additions: AdditionsArgs,
    /// "Now" for every time rule (RFC 3339); by default the current time, recorded in
    /// the change so that evaluating it again gives the same answer.
    #[arg(long)]
    pub evaluated_at: Option<Time>,
}

/// What is added to a change whatever its source.
#[derive(Args, Clone, Default)]
pub struct AdditionsArgs {
    /// A `terraform show -json` (or `tofu show -json`) plan; repeatable.
    #[arg(long)]
    pub plan: Vec<PathBuf>,
    /// A `CODEOWNERS` file that fills each file's `owners`.
    #[arg(long)]
    pub codeowners: Option<PathBuf>,
}

impl AdditionsArgs {
    pub fn additions(&self) -> Additions {
        Additions {
            plans: self.plan.clone(),
            codeowners: self.codeowners.clone(),
        }
    }
}

/// Where `warden eval` reads the change: exactly one of these.
#[derive(Args)]
#[group(required = true, multiple = false, id = "source")]
pub struct EvalSource {
    /// The change description (JSON); `-` reads standard input.
    #[arg(long)]
    pub change: Option<PathBuf>,
    /// Build the change from a commit range of the repository `--repo`.
    #[arg(long, value_name = "BASE..HEAD")]
    pub git: Option<String>,
    /// Build the change from a GitHub event payload (with `--github-api`).
    #[arg(long)]
    pub github_event: Option<PathBuf>,
    /// Build the change from a GitLab merge-request event (with `--gitlab-api`).
    #[arg(long)]
    pub gitlab_event: Option<PathBuf>,
}

/// The options that go with the sources of `warden eval`.
#[derive(Args)]
pub struct EvalSourceOptions {
    #[command(flatten)]
    pub git: GitArgs,
    /// The directory of saved GitHub API responses.
    #[arg(long, requires = "github_event")]
    pub github_api: Option<PathBuf>,
    /// The directory of saved GitLab API responses.
    #[arg(long, requires = "gitlab_event")]
    pub gitlab_api: Option<PathBuf>,
    #[command(flatten)]
    pub additions: AdditionsArgs,
    /// "Now" for a change built from a source (RFC 3339); by default the current time.
    #[arg(long, conflicts_with = "change")]
    pub evaluated_at: Option<Time>,
}

impl ChangeSource {
    /// The source, its name in messages, and the common options.
    pub fn resolve(&self) -> (Source, String, &Common) {
        match self {
            ChangeSource::Git { range, git, common } => {
                (git_source(range, git), format!("git {range}"), common)
            }
            ChangeSource::Github { event, api, common } => (
                Source::GitHub(github::Options {
                    event: event.clone(),
                    api: api.clone(),
                }),
                event.display().to_string(),
                common,
            ),
            ChangeSource::Gitlab { event, api, common } => (
                Source::GitLab(gitlab::Options::from_environment(
                    event.clone(),
                    api.clone(),
                )),
                event
                    .as_ref()
                    .map_or_else(|| "gitlab".to_owned(), |e| e.display().to_string()),
                common,
            ),
        }
    }
}

impl EvalSourceOptions {
    /// The options given for a source other than the one chosen, each with its source:
    /// clap's `requires` cannot say this, as it excuses a missing `--git` when another
    /// member of the source group (`--change`) is there.
    fn misplaced(&self, source: &EvalSource) -> Vec<(&'static str, &'static str)> {
        let git = &self.git;
        let options = [
            ("--repo", "--git", git.repo.is_some(), source.git.is_some()),
            ("--patch", "--git", git.patch, source.git.is_some()),
            (
                "--repository",
                "--git",
                git.repository.is_some(),
                source.git.is_some(),
            ),
            (
                "--github-api",
                "--github-event",
                self.github_api.is_some(),
                source.github_event.is_some(),
            ),
            (
                "--gitlab-api",
                "--gitlab-event",
                self.gitlab_api.is_some(),
                source.gitlab_event.is_some(),
            ),
        ];
        options
            .into_iter()
            .filter(|&(_, _, given, chosen)| given && !chosen)
            .map(|(option, of, _, _)| (option, of))
            .collect()
    }
}

impl EvalSource {
    /// The source to build the change from and its name, or `None` for `--change`. An
    /// option of another source is an error, never silently ignored (`--patch` with
    /// `--change` would otherwise do nothing).
    pub fn resolve(&self, options: &EvalSourceOptions) -> Result<Option<(Source, String)>, String> {
        let misplaced = options.misplaced(self);
        if misplaced.is_empty() {
            return Ok(self.chosen(options));
        }
        let each: Vec<String> = misplaced
            .iter()
            .map(|(option, of)| format!("`{option}` is an option of `{of}`, which is not given"))
            .collect();
        let fix = if each.len() == 1 {
            "remove it, or build the change from that source"
        } else {
            "remove them, or build the change from those sources"
        };
        Err(format!("{}: {fix}", each.join("; ")))
    }

    fn chosen(&self, options: &EvalSourceOptions) -> Option<(Source, String)> {
        if let Some(range) = &self.git {
            return Some((git_source(range, &options.git), format!("git {range}")));
        }
        if let Some(event) = &self.github_event {
            return Some((
                Source::GitHub(github::Options {
                    event: event.clone(),
                    api: options.github_api.clone(),
                }),
                event.display().to_string(),
            ));
        }
        self.gitlab_event.as_ref().map(|event| {
            (
                Source::GitLab(gitlab::Options::from_environment(
                    Some(event.clone()),
                    options.gitlab_api.clone(),
                )),
                event.display().to_string(),
            )
        })
    }
}

fn git_source(range: &str, args: &GitArgs) -> Source {
    Source::Git(git::Options {
        repo: args.repo.clone().unwrap_or_else(|| PathBuf::from(".")),
        range: range.to_owned(),
        patch: args.patch,
        repository: args.repository.clone(),
    })
}

/// `--evaluated-at`, or the current time: building a change is not evaluating it, and
/// the time is recorded in the change (`evaluated_at`), so the evaluation stays free of
/// the clock and can be repeated.
pub fn now_or(evaluated_at: Option<Time>) -> Time {
    evaluated_at.unwrap_or_else(|| {
        Time::new(
            warden::warden_change::jiff::Timestamp::now(),
            warden::warden_change::jiff::tz::Offset::UTC,
        )
    })
}
