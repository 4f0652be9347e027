//! The change description and fact files as serde types, exactly as written in JSON
//! (`schema: "warden.change/v1"`); see `docs/change-model.md`.
//!
//! These are the *input* types: principals are ids, services are names. The resolved,
//! typed records policies see are built on top of them by [`crate::view`], from the
//! declaration in `records.rs`, which also holds the docs of the fields policies see
//! (the JSON Schema's descriptions): a doc comment here says only what the JSON alone
//! says (an id, where policies see the principal).
//!
//! Lists default to empty and optional fields to `None`; `null` is accepted wherever a
//! field may be omitted (a `null` list is an empty list), except for the lists a kind
//! of change must give ([`Given`]: `files`, `commits`, …), which are checked by
//! [`Change::validate`].

use std::sync::OnceLock;

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};
use serde_with::{As, DefaultOnNull, MapPreventDuplicates, Same};

use crate::time::Time;

/// A Rust enum for a closed set of strings: `as_str`, `Serialize`, `JsonSchema`, the
/// Warden type policies see (`WARDEN_TYPE`, `"a" | "b"`), and a `Deserialize` that
/// reads any string first, so that a wrong value or a wrong type gets a message listing
/// the accepted values. A value may have aliases (`Removed => "removed" | "deleted"`):
/// other spellings read as it, never written.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal $(| $alias:literal)*,)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, JsonSchema)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant,)+
        }

        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The Warden type of the value as policies see it: `"a" | "b" | …`.
            pub const WARDEN_TYPE: &'static str = warden_type!($($text),+);

            /// Other spellings read as a value: (alias, value).
            pub const ALIASES: &'static [(&'static str, &'static str)] =
                &[$($(($alias, $text),)*)+];

            /// The JSON name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<$name, D::Error> {
                struct V;
                impl serde::de::Visitor<'_> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str(&one_of(&[$($text),+]))
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$name, E> {
                        // Forges spell these in either case (`APPROVED`, `approved`).
                        match v {
                            $(_ if v.eq_ignore_ascii_case($text)
                                $(|| v.eq_ignore_ascii_case($alias))* => Ok($name::$variant),)+
                            _ => Err(E::custom(format!(
                                "expected {}, found {}",
                                one_of(&[$($text),+]),
                                crate::load::quote_str(v)
                            ))),
                        }
                    }
                }
                deserializer.deserialize_str(V)
            }
        }
    };
}

/// `"a" | "b" | "c"`, at compile time: a closed set of strings as a Warden type.
macro_rules! warden_type {
    ($first:literal $(, $rest:literal)*) => {
        concat!("\"", $first, "\"" $(, " | \"", $rest, "\"")*)
    };
}

/// `` one of `a`, `b` or `c` ``.
fn one_of(values: &[&str]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("one of {} or {last}", rest.join(", ")),
        Some((last, _)) => last.clone(),
        None => "nothing".to_owned(),
    }
}

/// The only `schema` version this crate reads.
pub const SCHEMA_VERSION: &str = "warden.change/v1";

/// A map of ids: `null` reads as empty, and a key given twice is an error (not "the
/// last one wins": a second `dave` could quietly change what a rule sees).
fn unique_keys<'de, D, V, S>(deserializer: D) -> Result<IndexMap<String, V, S>, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de>,
    S: std::hash::BuildHasher + Default,
{
    As::<DefaultOnNull<MapPreventDuplicates<Same, Same>>>::deserialize(deserializer)
}

/// A field that some kinds of change must give, even empty (`"files": []`): it reads
/// like the value it holds, and remembers whether the input gave it, for
/// [`Change::validate`]. Absent, it is the default (an empty list); `null` is an error,
/// not an empty list.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Given<T> {
    value: T,
    given: bool,
}

impl<T> Given<T> {
    /// Whether the input had the field.
    pub fn is_given(&self) -> bool {
        self.given
    }
}

impl<T> std::ops::Deref for Given<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

/// Changing what a given field holds keeps it given (sources fill each file's owners
/// and services).
impl<T> std::ops::DerefMut for Given<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

impl<'a, T> IntoIterator for &'a Given<T>
where
    &'a T: IntoIterator,
{
    type Item = <&'a T as IntoIterator>::Item;
    type IntoIter = <&'a T as IntoIterator>::IntoIter;

    fn into_iter(self) -> Self::IntoIter {
        self.value.into_iter()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Given<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Given<T>, D::Error> {
        T::deserialize(deserializer).map(|value| Given { value, given: true })
    }
}

impl<T: Serialize> Serialize for Given<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(serializer)
    }
}

/// A number, rounded up to an integer (policies compare whole percentages).
fn percent_rounded_up<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    let value = f64::deserialize(deserializer)?;
    if !value.is_finite() || !(-1e15..=1e15).contains(&value) {
        return Err(serde::de::Error::custom(format!(
            "expected a percentage, found {value}"
        )));
    }
    // The range was checked above, so the cast cannot truncate.
    Ok(value.ceil() as i64)
}

/// Accepts only [`SCHEMA_VERSION`].
fn schema_version<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let version = String::deserialize(deserializer)?;
    if version == SCHEMA_VERSION {
        Ok(version)
    } else {
        Err(serde::de::Error::custom(format!(
            "unsupported schema {}; this version of Warden reads `{SCHEMA_VERSION}`",
            crate::load::quote_str(&version)
        )))
    }
}

/// The hasher of the maps keyed by principal id and service name: looked up for every
/// approval and every service a rule reads. foldhash with a fixed seed is several
/// times faster than SipHash on short keys and keeps evaluation free of randomness;
/// the keys come from the organisation's own fact files, not from change authors.
pub type Ids = foldhash::fast::FixedState;

/// A change to evaluate: a pull request, a commit range or a deployment.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[schemars(title = "Warden change description")]
#[schemars(extend("allOf" = [
    {
        "if": { "properties": { "kind": { "const": "pull_request" } } },
        "then": { "required": ["labels", "files", "commits", "reviews"] }
    },
    {
        "if": { "properties": { "kind": { "const": "commit_range" } } },
        "then": { "required": ["files", "commits"] }
    },
    {
        "if": { "properties": { "kind": { "const": "deployment" } } },
        "then": {
            "required": ["deployment"],
            "properties": { "deployment": { "required": ["services", "plan"] } }
        }
    }
]))]
pub struct Change {
    #[serde(deserialize_with = "schema_version")]
    #[schemars(extend("const" = "warden.change/v1"))]
    pub schema: String,
    pub kind: ChangeKind,
    pub id: String,
    pub evaluated_at: Time,
    pub repository: Repository,
    pub title: String,
    #[serde(default, deserialize_with = "As::<DefaultOnNull>::deserialize")]
    #[schemars(with = "Option<String>")]
    pub description: String,
    #[serde(default, deserialize_with = "As::<DefaultOnNull>::deserialize")]
    #[schemars(with = "Option<bool>")]
    pub draft: bool,
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub labels: Given<Vec<String>>,
    #[serde(default)]
    pub source: Option<Ref>,
    #[serde(default)]
    pub target: Option<Ref>,
    /// Base and head revisions (required for pull requests and commit ranges).
    #[serde(default)]
    pub revisions: Option<Revisions>,
    /// Principal id of the author.
    pub author: String,
    #[serde(default)]
    #[schemars(with = "Vec<File>")]
    pub files: Given<Vec<File>>,
    #[serde(default)]
    #[schemars(with = "Vec<Commit>")]
    pub commits: Given<Vec<Commit>>,
    #[serde(default)]
    #[schemars(with = "Vec<Review>")]
    pub reviews: Given<Vec<Review>>,
    #[serde(default, deserialize_with = "As::<DefaultOnNull>::deserialize")]
    #[schemars(with = "Option<Threads>")]
    pub threads: Threads,
    #[serde(default, deserialize_with = "As::<DefaultOnNull>::deserialize")]
    #[schemars(with = "Option<Vec<Check>>")]
    pub checks: Vec<Check>,
    #[serde(default, deserialize_with = "As::<DefaultOnNull>::deserialize")]
    #[schemars(with = "Option<Vec<InfraPlan>>")]
    pub infra_plans: Vec<InfraPlan>,
    /// Required for deployments, absent otherwise.
    #[serde(default)]
    pub deployment: Option<Deployment>,
    #[serde(default, deserialize_with = "As::<DefaultOnNull>::deserialize")]
    #[schemars(with = "Option<Links>")]
    pub links: Links,
    #[serde(default, deserialize_with = "As::<DefaultOnNull>::deserialize")]
    #[schemars(with = "Option<Vec<Override>>")]
    pub overrides: Vec<Override>,
    /// The principal directory (usually from a fact file), by id.
    #[serde(default, deserialize_with = "unique_keys")]
    #[schemars(with = "Option<IndexMap<String, PrincipalFacts>>")]
    pub principals: IndexMap<String, PrincipalFacts, Ids>,
    /// The service catalogue (usually from a fact file), by name.
    #[serde(default, deserialize_with = "unique_keys")]
    #[schemars(with = "Option<IndexMap<String, ServiceFacts>>")]
    pub services: IndexMap<String, ServiceFacts, Ids>,
    /// Change freezes (usually from a fact file).
    #[serde(default)]
    pub calendar: Option<Calendar>,
    /// Where each principal, service and freeze came from, to name both sides of a
    /// conflict in [`Change::merge_facts`]. Not part of the JSON.
    #[serde(skip)]
    pub(crate) origins: IndexMap<FactKey, String>,
}

/// A fact's identity, for [`Change::origins`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum FactKey {
    Principal(String),
    Service(String),
    Freeze(String),
}

string_enum! {
    /// What a change is.
    ChangeKind {
        PullRequest => "pull_request",
        CommitRange => "commit_range",
        Deployment => "deployment",
    }
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
pub struct Repository {
    pub name: String,
    #[serde(default, deserialize_with = "unique_keys")]
    #[schemars(with = "Option<IndexMap<String, String>>")]
    pub properties: IndexMap<String, String>,
}

/// A branch: the source (`fork`) or the target (`protected`) of a change.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
pub struct Ref {
    #[serde(rename = "ref")]
    pub name: String,
    #[serde(default, deserialize_with = "As::<DefaultOnNull>::deserialize")]
    #[schemars(with = "Option<bool>")]
    pub fork: bool,
    #[serde(default, deserialize_with = "As::<DefaultOnNull>::deserialize")]
    #[schemars(with = "Option<bool>")]
    pub protected: bool,
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
pub struct Revisions {
    pub base: String,
    pub head: String,
}

/// A changed file.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
pub struct File {
    pub path: String,
    #[serde(default)]
    pub previous_path: Option<String>,
    pub status: FileStatus,
    pub additions: i64,
    pub deletions: i64,
    #[serde(default, deserialize_with = "As::<DefaultOnNull>::deserialize")]
    #[schemars(with = "Option<bool>")]
    pub binary: bool,
    #[serde(default, deserialize_with = "As::<DefaultOnNull>::deserialize")]
    #[schemars(with = "Option<bool>")]
    pub generated: bool,
    #[serde(default, deserialize_with = "As::<DefaultOnNull>::deserialize")]
    #[schemars(with = "Option<Vec<String>>")]
    pub owners: Vec<String>,
    #[serde(default, deserialize_with = "As::<DefaultOnNull>::deserialize")]
    #[schemars(with = "Option<Vec<String>>")]
    pub services: Vec<String>,
    #[serde(default)]
    pub patch: Option<String>,
}

string_enum! {
    /// What happened to a file.
    FileStatus {
        Added => "added",
        Modified => "modified",
        // `git diff --name-status` and `git log --raw` print `D`, which tools spell
        // `deleted`.
        Removed => "removed" | "deleted",
        Renamed => "renamed",
        Copied => "copied",
        Changed => "changed",
        Unchanged => "unchanged",
    }
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
pub struct Commit {
    pub sha: String,
    #[serde(default, deserialize_with = "As::<DefaultOnNull>::deserialize")]
    #[schemars(with = "Option<Vec<String>>")]
    pub parents: Vec<String>,
    pub author: Person,
    pub committer: Person,
    pub subject: String,
    #[serde(default, deserialize_with = "As::<DefaultOnNull>::deserialize")]
    #[schemars(with = "Option<String>")]
    pub body: String,
    #[serde(default, deserialize_with = "As::<DefaultOnNull>::deserialize")]
    #[schemars(with = "Option<Vec<Trailer>>")]
    pub trailers: Vec<Trailer>,
    #[serde(default)]
    pub signature: Option<Signature>,
    #[serde(default)]
    pub pushed_at: Option<Time>,
    /// Principal id of who pushed the commit.
    #[serde(default)]
    pub pushed_by: Option<String>,
    /// `subject`, a blank line, `body`; computed once, on first use.
    #[serde(skip)]
    message: OnceLock<String>,
}

impl Commit {
    /// A commit with no parents, body, trailers, signature or push, for producers to
    /// fill in (the other fields are public; `message` is derived, on first use).
    pub fn new(sha: String, author: Person, committer: Person, subject: String) -> Commit {
        Commit {
            sha,
            parents: Vec::new(),
            author,
            committer,
            subject,
            body: String::new(),
            trailers: Vec::new(),
            signature: None,
            pushed_at: None,
            pushed_by: None,
            message: OnceLock::new(),
        }
    }

    /// The full message: the subject, a blank line and the body (just the subject when
    /// the body is empty).
    pub fn message(&self) -> &str {
        self.message.get_or_init(|| {
            if self.body.is_empty() {
                self.subject.clone()
            } else {
                format!("{}\n\n{}", self.subject, self.body)
            }
        })
    }
}

impl PartialEq for Commit {
    fn eq(&self, other: &Commit) -> bool {
        self.sha == other.sha
            && self.parents == other.parents
            && self.author == other.author
            && self.committer == other.committer
            && self.subject == other.subject
            && self.body == other.body
            && self.trailers == other.trailers
            && self.signature == other.signature
            && self.pushed_at == other.pushed_at
            && self.pushed_by == other.pushed_by
    }
}

/// A commit author or committer.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
pub struct Person {
    /// Principal id, when the producer knows it (else resolved by e-mail).
    #[serde(default)]
    pub principal: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    pub email: String,
    /// When they authored or committed (git's author and committer dates).
    #[serde(default)]
    pub time: Option<Time>,
}

/// A git trailer (`Key: value`) of a commit message.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
pub struct Trailer {
    pub key: String,
    pub value: String,
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
pub struct Signature {
    pub state: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// Principal id of the signer; when absent, the principal whose `signing_keys`
    /// holds `key`.
    #[serde(default)]
    pub signer: Option<String>,
    #[serde(default)]
    pub key: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
pub struct Review {
    /// Principal id of the reviewer.
    pub reviewer: String,
    pub state: ReviewState,
    pub commit: String,
    pub submitted_at: Time,
    #[serde(default, deserialize_with = "As::<DefaultOnNull>::deserialize")]
    #[schemars(with = "Option<bool>")]
    pub dismissed: bool,
    #[serde(default, deserialize_with = "As::<DefaultOnNull>::deserialize")]
    #[schemars(with = "Option<String>")]
    pub body: String,
}

string_enum! {
    /// The verdict of a review.
    ReviewState {
        Approved => "approved",
        ChangesRequested => "changes_requested",
        Commented => "commented",
        Dismissed => "dismissed",
        Pending => "pending",
    }
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
pub struct Threads {
    #[serde(default, deserialize_with = "As::<DefaultOnNull>::deserialize")]
    #[schemars(with = "Option<i64>")]
    pub unresolved: i64,
}

/// A CI check run.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
pub struct Check {
    pub name: String,
    pub app: String,
    pub commit: String,
    pub status: String,
    #[serde(default)]
    pub conclusion: Option<String>,
}

/// An infrastructure plan (Terraform, Pulumi, …).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
pub struct InfraPlan {
    pub tool: String,
    #[serde(default)]
    pub workspace: Option<String>,
    #[serde(default, deserialize_with = "As::<DefaultOnNull>::deserialize")]
    #[schemars(with = "Option<Vec<ResourceChange>>")]
    pub resources: Vec<ResourceChange>,
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
pub struct ResourceChange {
    pub address: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, deserialize_with = "As::<DefaultOnNull>::deserialize")]
    #[schemars(with = "Option<Vec<String>>")]
    pub actions: Vec<String>,
    #[serde(default)]
    pub action_reason: Option<String>,
    #[serde(default)]
    pub module: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
pub struct Deployment {
    pub environment: String,
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub services: Given<Vec<String>>,
    /// Principal id of who started the deployment.
    pub initiator: String,
    pub trigger: String,
    pub artifact: Artifact,
    #[serde(default)]
    #[schemars(with = "Vec<Wave>")]
    pub plan: Given<Vec<Wave>>,
    #[serde(default)]
    pub config_change: Option<ConfigChange>,
    #[serde(default, deserialize_with = "As::<DefaultOnNull>::deserialize")]
    #[schemars(with = "Option<Vec<DeploymentApproval>>")]
    pub approvals: Vec<DeploymentApproval>,
    #[serde(default)]
    pub last_deploy_at: Option<Time>,
    #[serde(default)]
    pub scheduled_at: Option<Time>,
    #[serde(default)]
    pub started_at: Option<Time>,
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
pub struct Artifact {
    pub digest: String,
    #[serde(default)]
    pub source_commit: Option<String>,
    #[serde(default, deserialize_with = "As::<DefaultOnNull>::deserialize")]
    #[schemars(with = "Option<bool>")]
    pub provenance_verified: bool,
    #[serde(default)]
    pub source_change: Option<String>,
    #[serde(default)]
    pub source_verdict: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
pub struct Wave {
    pub wave: i64,
    #[serde(default, deserialize_with = "As::<DefaultOnNull>::deserialize")]
    #[schemars(with = "Option<Vec<String>>")]
    pub regions: Vec<String>,
    #[serde(default)]
    pub cells: Option<i64>,
    #[serde(deserialize_with = "percent_rounded_up")]
    #[schemars(with = "f64")]
    pub traffic_percent: i64,
    pub bake_minutes: i64,
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
pub struct ConfigChange {
    #[serde(default, deserialize_with = "As::<DefaultOnNull>::deserialize")]
    #[schemars(with = "Option<bool>")]
    pub global: bool,
    #[serde(default, deserialize_with = "As::<DefaultOnNull>::deserialize")]
    #[schemars(with = "Option<Vec<String>>")]
    pub keys: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
pub struct DeploymentApproval {
    /// Principal id of the approver.
    pub approver: String,
    pub at: Time,
    pub artifact: String,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
pub struct Links {
    #[serde(default, deserialize_with = "As::<DefaultOnNull>::deserialize")]
    #[schemars(with = "Option<Vec<Ticket>>")]
    pub tickets: Vec<Ticket>,
    #[serde(default, deserialize_with = "As::<DefaultOnNull>::deserialize")]
    #[schemars(with = "Option<Vec<Incident>>")]
    pub incidents: Vec<Incident>,
    #[serde(default, deserialize_with = "As::<DefaultOnNull>::deserialize")]
    #[schemars(with = "Option<Vec<DocLink>>")]
    pub docs: Vec<DocLink>,
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
pub struct Ticket {
    pub system: String,
    pub key: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub status: String,
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
pub struct Incident {
    pub key: String,
    pub severity: String,
    pub status: String,
    #[serde(default)]
    pub opened_at: Option<Time>,
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
pub struct DocLink {
    pub kind: String,
    pub url: String,
}

/// A recorded override (break glass, exemption, …) of some rules.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
pub struct Override {
    pub kind: String,
    /// Principal id of who overrode.
    pub by: String,
    pub reason: String,
    #[serde(default)]
    pub incident: Option<String>,
    #[serde(default)]
    pub at: Option<Time>,
    #[serde(default, deserialize_with = "As::<DefaultOnNull>::deserialize")]
    #[schemars(with = "Option<Vec<String>>")]
    pub rules: Vec<String>,
}

/// Fact files: the principal directory, the service catalogue and the calendar.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[schemars(title = "Warden fact file")]
pub struct Facts {
    #[serde(default, deserialize_with = "unique_keys")]
    #[schemars(with = "Option<IndexMap<String, PrincipalFacts>>")]
    pub principals: IndexMap<String, PrincipalFacts, Ids>,
    #[serde(default, deserialize_with = "unique_keys")]
    #[schemars(with = "Option<IndexMap<String, ServiceFacts>>")]
    pub services: IndexMap<String, ServiceFacts, Ids>,
    #[serde(default)]
    pub calendar: Option<Calendar>,
}

/// A principal of the directory (the id is its key).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
pub struct PrincipalFacts {
    pub kind: PrincipalKind,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default, deserialize_with = "As::<DefaultOnNull>::deserialize")]
    #[schemars(with = "Option<Vec<String>>")]
    pub teams: Vec<String>,
    #[serde(default)]
    pub level: Option<i64>,
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default, deserialize_with = "As::<DefaultOnNull>::deserialize")]
    #[schemars(with = "Option<Vec<String>>")]
    pub signing_keys: Vec<String>,
}

string_enum! {
    /// `unknown` is what an id missing from the directory resolves to; a fact file may
    /// also say it.
    PrincipalKind {
        Human => "human",
        Bot => "bot",
        Unknown => "unknown",
    }
}

/// A service of the catalogue (the name is its key).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
pub struct ServiceFacts {
    pub tier: i64,
    pub plane: String,
    pub owner: String,
    pub oncall: String,
    pub timezone: String,
    #[serde(default, deserialize_with = "As::<DefaultOnNull>::deserialize")]
    #[schemars(with = "Option<bool>")]
    pub stateful: bool,
    #[serde(default, deserialize_with = "As::<DefaultOnNull>::deserialize")]
    #[schemars(with = "Option<Vec<String>>")]
    pub regions: Vec<String>,
    #[serde(default, deserialize_with = "As::<DefaultOnNull>::deserialize")]
    #[schemars(with = "Option<Vec<String>>")]
    pub paths: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
pub struct Calendar {
    #[serde(default, deserialize_with = "As::<DefaultOnNull>::deserialize")]
    #[schemars(with = "Option<Vec<Freeze>>")]
    pub freezes: Vec<Freeze>,
}

/// A change freeze: `start <= t < end`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
pub struct Freeze {
    pub name: String,
    pub start: Time,
    pub end: Time,
    pub scope: FreezeScope,
}

/// What a freeze applies to.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
pub struct FreezeScope {
    #[serde(default, deserialize_with = "As::<DefaultOnNull>::deserialize")]
    #[schemars(with = "Option<Vec<i64>>")]
    pub tiers: Vec<i64>,
    #[serde(default, deserialize_with = "As::<DefaultOnNull>::deserialize")]
    #[schemars(with = "Option<Vec<String>>")]
    pub environments: Vec<String>,
}
