//! The typed, zero-copy view of a change that the evaluator reads: the records of
//! `docs/change-model.md` ([`RECORDS`]), nodes that point into the [`Change`], and
//! field access by index, with principals and services resolved and the derived fields
//! (`latest_reviews`, `services`, `message`, `co_authors`, …) computed.

use std::cell::OnceCell;
use std::collections::{HashMap, HashSet};

use indexmap::IndexMap;

use crate::model::{
    Artifact, Calendar, Change, Check, Commit, ConfigChange, Deployment, DeploymentApproval,
    DocLink, File, Freeze, FreezeScope, Ids, Incident, InfraPlan, Links, Override, Person,
    PrincipalFacts, Ref, Repository, ResourceChange, Review, Revisions, ServiceFacts, Signature,
    Threads, Ticket, Trailer, Wave,
};
use crate::time::Time;

/// A field of a record as policies see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldDef {
    pub name: &'static str,
    /// Warden type syntax: `string`, `int`, `bool`, `timestamp`, `list<File>`,
    /// `map<string>`, `Principal?`, `"human" | "bot" | "unknown"`.
    pub ty: &'static str,
    pub doc: &'static str,
}

/// A record type as policies see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordDef {
    pub name: &'static str,
    pub doc: &'static str,
    pub fields: &'static [FieldDef],
}

const fn f(name: &'static str, ty: &'static str, doc: &'static str) -> FieldDef {
    FieldDef { name, ty, doc }
}

// Indexes into RECORDS; `Node::record` and the tests keep them in step with the table.
const CHANGE: usize = 0;
const REPOSITORY: usize = 1;
const REF: usize = 2;
const REVISIONS: usize = 3;
const FILE: usize = 4;
const COMMIT: usize = 5;
const PERSON: usize = 6;
const TRAILER: usize = 7;
const SIGNATURE: usize = 8;
const REVIEW: usize = 9;
const THREADS: usize = 10;
const CHECK: usize = 11;
const INFRA_PLAN: usize = 12;
const RESOURCE_CHANGE: usize = 13;
const DEPLOYMENT: usize = 14;
const ARTIFACT: usize = 15;
const WAVE: usize = 16;
const CONFIG_CHANGE: usize = 17;
const DEPLOYMENT_APPROVAL: usize = 18;
const LINKS: usize = 19;
const TICKET: usize = 20;
const INCIDENT: usize = 21;
const DOC_LINK: usize = 22;
const OVERRIDE: usize = 23;
const PRINCIPAL: usize = 24;
const SERVICE: usize = 25;
const CALENDAR: usize = 26;
const FREEZE: usize = 27;
const FREEZE_SCOPE: usize = 28;

/// Every record of `docs/change-model.md`, `Change` first. The order of each record's
/// fields is the field index of [`View::field`].
pub static RECORDS: &[RecordDef] = &[
    RecordDef {
        name: "Change",
        doc: "The change being evaluated (the global `change`).",
        fields: &[
            f("schema", "string", "Always `\"warden.change/v1\"`."),
            f(
                "kind",
                "\"pull_request\" | \"commit_range\" | \"deployment\"",
                "What the change is.",
            ),
            f(
                "id",
                "string",
                "A stable identifier, e.g. `github:acme/shop#4812`.",
            ),
            f("evaluated_at", "timestamp", "\"Now\" for every time rule."),
            f("repository", "Repository", "The repository."),
            f("title", "string", "The title."),
            f(
                "description",
                "string",
                "The description; `\"\"` when absent.",
            ),
            f(
                "draft",
                "bool",
                "Whether the pull request is a draft; `false` when absent.",
            ),
            f("labels", "list<string>", "Labels."),
            f("source", "Ref?", "The source branch (pull requests)."),
            f("target", "Ref?", "The target branch."),
            f("revisions", "Revisions?", "Base and head revisions."),
            f("author", "Principal", "The author."),
            f("files", "list<File>", "Changed files."),
            f("commits", "list<Commit>", "Commits."),
            f("reviews", "list<Review>", "Reviews, as given."),
            f(
                "latest_reviews",
                "list<Review>",
                "Each reviewer's latest review (by `submitted_at`; ties: later in the list), \
                 in the order of `reviews`.",
            ),
            f("threads", "Threads", "Review threads."),
            f("checks", "list<Check>", "CI checks."),
            f("infra_plans", "list<InfraPlan>", "Infrastructure plans."),
            f(
                "deployment",
                "Deployment?",
                "The deployment (deployments only).",
            ),
            f("links", "Links", "Linked tickets, incidents and documents."),
            f("overrides", "list<Override>", "Recorded overrides."),
            f(
                "services",
                "list<Service>",
                "The catalogue entries of every service named by a file or the deployment, \
                 sorted by name, without duplicates.",
            ),
            f(
                "service_names",
                "list<string>",
                "Every service named by a file or the deployment, known or not, sorted, \
                 without duplicates.",
            ),
            f(
                "calendar",
                "Calendar",
                "The calendar from the facts; empty when none given.",
            ),
        ],
    },
    RecordDef {
        name: "Repository",
        doc: "The repository of the change.",
        fields: &[
            f("name", "string", "`owner/name`."),
            f("properties", "map<string>", "Repository properties."),
        ],
    },
    RecordDef {
        name: "Ref",
        doc: "A branch: the source or the target of a change.",
        fields: &[
            f("ref", "string", "The branch name."),
            f("fork", "bool", "Whether the source is a fork."),
            f("protected", "bool", "Whether the target is protected."),
        ],
    },
    RecordDef {
        name: "Revisions",
        doc: "Base and head revisions.",
        fields: &[
            f("base", "string", "The base commit."),
            f(
                "head",
                "string",
                "The head commit; approvals on other commits are stale.",
            ),
        ],
    },
    RecordDef {
        name: "File",
        doc: "A changed file.",
        fields: &[
            f("path", "string", "The path."),
            f("previous_path", "string?", "The path before a rename."),
            f(
                "status",
                "\"added\" | \"modified\" | \"removed\" | \"renamed\" | \"copied\" | \"changed\" | \"unchanged\"",
                "What happened to the file.",
            ),
            f("additions", "int", "Lines added."),
            f("deletions", "int", "Lines deleted."),
            f("binary", "bool", "Whether the file is binary."),
            f("generated", "bool", "Whether the file is generated."),
            f("owners", "list<string>", "Owning teams."),
            f(
                "services",
                "list<string>",
                "Names of the services the file belongs to.",
            ),
            f(
                "patch",
                "string?",
                "The unified diff of the file, when the producer includes it.",
            ),
        ],
    },
    RecordDef {
        name: "Commit",
        doc: "A commit of the change.",
        fields: &[
            f("sha", "string", "The commit id."),
            f("parents", "list<string>", "Parent commit ids."),
            f("author", "Person", "The author."),
            f("committer", "Person", "The committer."),
            f("subject", "string", "The first line of the message."),
            f("body", "string", "The rest of the message."),
            f(
                "message",
                "string",
                "The subject, a blank line and the body.",
            ),
            f("trailers", "list<Trailer>", "Trailers of the message."),
            f(
                "co_authors",
                "list<Person>",
                "From the `Co-authored-by` trailers.",
            ),
            f("signature", "Signature?", "The signature."),
            f("pushed_at", "timestamp?", "When the commit was pushed."),
            f("pushed_by", "Principal?", "Who pushed the commit."),
        ],
    },
    RecordDef {
        name: "Person",
        doc: "A commit author, committer or co-author.",
        fields: &[
            f(
                "principal",
                "Principal?",
                "The `principal` id given, else the principal whose e-mail matches, else null.",
            ),
            f("name", "string?", "The name."),
            f("email", "string", "The e-mail address."),
            f(
                "time",
                "timestamp?",
                "When they authored or committed; null for co-authors.",
            ),
        ],
    },
    RecordDef {
        name: "Trailer",
        doc: "A git trailer (`Key: value`).",
        fields: &[
            f("key", "string", "The key."),
            f("value", "string", "The value."),
        ],
    },
    RecordDef {
        name: "Signature",
        doc: "A commit signature.",
        fields: &[
            f("state", "string", "`verified`, `unverified`, …"),
            f("type", "string", "`gpg`, `ssh`, `x509`, …"),
            f(
                "signer",
                "Principal?",
                "Who signed: the `signer` given, else the principal whose `signing_keys` hold `key`.",
            ),
            f(
                "key",
                "string?",
                "The signing key (an SSH `SHA256:` fingerprint, a GPG key id).",
            ),
        ],
    },
    RecordDef {
        name: "Review",
        doc: "A review of a pull request or commit range.",
        fields: &[
            f("reviewer", "Principal", "The reviewer."),
            f(
                "state",
                "\"approved\" | \"changes_requested\" | \"commented\" | \"dismissed\" | \"pending\"",
                "The verdict.",
            ),
            f("commit", "string", "The commit reviewed."),
            f(
                "submitted_at",
                "timestamp",
                "When the review was submitted.",
            ),
            f("dismissed", "bool", "Whether the review was dismissed."),
            f("body", "string", "The review text."),
        ],
    },
    RecordDef {
        name: "Threads",
        doc: "Review threads.",
        fields: &[f("unresolved", "int", "Unresolved threads.")],
    },
    RecordDef {
        name: "Check",
        doc: "A CI check run.",
        fields: &[
            f("name", "string", "The check's name."),
            f("app", "string", "The CI system."),
            f("commit", "string", "The commit checked."),
            f(
                "status",
                "string",
                "`queued`, `in_progress`, `completed`, …",
            ),
            f(
                "conclusion",
                "string?",
                "`success`, `failure`, …; null until completed.",
            ),
        ],
    },
    RecordDef {
        name: "InfraPlan",
        doc: "An infrastructure plan.",
        fields: &[
            f("tool", "string", "`terraform`, `pulumi`, …"),
            f("workspace", "string?", "The workspace or stack."),
            f(
                "resources",
                "list<ResourceChange>",
                "Planned resource changes.",
            ),
        ],
    },
    RecordDef {
        name: "ResourceChange",
        doc: "A planned change to one resource.",
        fields: &[
            f("address", "string", "The resource address."),
            f("type", "string", "The resource type."),
            f(
                "actions",
                "list<string>",
                "`create`, `update`, `delete`, `read`, `no-op`; a replace is \
                 `[\"delete\", \"create\"]`, or `[\"create\", \"delete\"]` when the new \
                 object is created first.",
            ),
            f(
                "action_reason",
                "string?",
                "Why (Terraform's `action_reason`, e.g. `replace_because_cannot_update`).",
            ),
            f(
                "module",
                "string?",
                "The module address (`module.db`); null in the root module.",
            ),
        ],
    },
    RecordDef {
        name: "Deployment",
        doc: "A deployment.",
        fields: &[
            f("environment", "string", "The target environment."),
            f(
                "services",
                "list<string>",
                "Names of the services deployed.",
            ),
            f("initiator", "Principal", "Who started the deployment."),
            f("trigger", "string", "`manual`, `pipeline`, …"),
            f("artifact", "Artifact", "What is deployed."),
            f("plan", "list<Wave>", "The rollout waves, in order."),
            f(
                "config_change",
                "ConfigChange?",
                "The configuration changed, if any.",
            ),
            f(
                "approvals",
                "list<DeploymentApproval>",
                "Approvals of the deployment.",
            ),
            f(
                "last_deploy_at",
                "timestamp?",
                "When the services were last deployed.",
            ),
            f(
                "scheduled_at",
                "timestamp?",
                "When the deployment is scheduled to start.",
            ),
            f("started_at", "timestamp?", "When the deployment started."),
        ],
    },
    RecordDef {
        name: "Artifact",
        doc: "A deployed artifact.",
        fields: &[
            f("digest", "string", "The content digest."),
            f("source_commit", "string?", "The commit it was built from."),
            f(
                "provenance_verified",
                "bool",
                "Whether its build provenance was verified.",
            ),
            f("source_change", "string?", "The change it was built from."),
            f(
                "source_verdict",
                "string?",
                "Warden's verdict on that change.",
            ),
        ],
    },
    RecordDef {
        name: "Wave",
        doc: "A rollout wave.",
        fields: &[
            f("wave", "int", "The wave's number, from 1."),
            f("regions", "list<string>", "Regions deployed to."),
            f("cells", "int?", "Cells deployed to."),
            f("traffic_percent", "int", "Share of traffic, 0 to 100."),
            f("bake_minutes", "int", "Bake time before the next wave."),
        ],
    },
    RecordDef {
        name: "ConfigChange",
        doc: "A configuration change shipped by a deployment.",
        fields: &[
            f("global", "bool", "Whether it applies everywhere at once."),
            f("keys", "list<string>", "The keys changed."),
        ],
    },
    RecordDef {
        name: "DeploymentApproval",
        doc: "An approval of a deployment.",
        fields: &[
            f("approver", "Principal", "The approver."),
            f("at", "timestamp", "When it was given."),
            f("artifact", "string", "The artifact digest approved."),
        ],
    },
    RecordDef {
        name: "Links",
        doc: "Tickets, incidents and documents linked to the change.",
        fields: &[
            f("tickets", "list<Ticket>", "Tickets."),
            f("incidents", "list<Incident>", "Incidents."),
            f("docs", "list<DocLink>", "Documents."),
        ],
    },
    RecordDef {
        name: "Ticket",
        doc: "A linked ticket.",
        fields: &[
            f("system", "string", "The ticket system."),
            f("key", "string", "The ticket key."),
            f("type", "string", "The ticket type."),
            f("status", "string", "The ticket status."),
        ],
    },
    RecordDef {
        name: "Incident",
        doc: "A linked incident.",
        fields: &[
            f("key", "string", "The incident key."),
            f("severity", "string", "`sev1`, `sev2`, …"),
            f("status", "string", "`active`, `resolved`, …"),
            f("opened_at", "timestamp?", "When it was opened."),
        ],
    },
    RecordDef {
        name: "DocLink",
        doc: "A linked document.",
        fields: &[
            f("kind", "string", "`rollback_plan`, `design`, …"),
            f("url", "string", "Where it is."),
        ],
    },
    RecordDef {
        name: "Override",
        doc: "A recorded override of some rules.",
        fields: &[
            f("kind", "string", "`break_glass`, …"),
            f("by", "Principal", "Who overrode."),
            f("reason", "string", "Why."),
            f(
                "incident_key",
                "string?",
                "The incident key given (JSON `incident`).",
            ),
            f(
                "incident",
                "Incident?",
                "The linked incident with that key.",
            ),
            f("at", "timestamp?", "When."),
            f("rules", "list<string>", "Names of the rules overridden."),
        ],
    },
    RecordDef {
        name: "Principal",
        doc: "A person or bot; an id not in the directory is of kind `\"unknown\"`.",
        fields: &[
            f("id", "string", "The id."),
            f(
                "kind",
                "\"human\" | \"bot\" | \"unknown\"",
                "What the principal is.",
            ),
            f("name", "string?", "The name."),
            f("email", "string?", "The e-mail address."),
            f("teams", "list<string>", "Teams."),
            f("level", "int?", "Seniority level."),
            f("timezone", "string?", "Time zone."),
            f(
                "signing_keys",
                "list<string>",
                "The keys the principal signs commits with.",
            ),
        ],
    },
    RecordDef {
        name: "Service",
        doc: "A service of the catalogue.",
        fields: &[
            f("name", "string", "The name."),
            f("tier", "int", "Criticality; 0 is the most critical."),
            f("plane", "string", "`control` or `data`."),
            f("owner", "string", "The owning team."),
            f("oncall", "string", "The on-call team."),
            f("timezone", "string", "Time zone."),
            f("stateful", "bool", "Whether the service keeps state."),
            f("regions", "list<string>", "Regions it runs in."),
            f(
                "paths",
                "list<string>",
                "Globs of the repository paths that belong to it.",
            ),
        ],
    },
    RecordDef {
        name: "Calendar",
        doc: "Change freezes.",
        fields: &[f("freezes", "list<Freeze>", "Freezes.")],
    },
    RecordDef {
        name: "Freeze",
        doc: "A change freeze: `start <= t < end`.",
        fields: &[
            f("name", "string", "The name."),
            f("start", "timestamp", "Start, inclusive."),
            f("end", "timestamp", "End, exclusive."),
            f("scope", "FreezeScope", "What it applies to."),
        ],
    },
    RecordDef {
        name: "FreezeScope",
        doc: "What a freeze applies to.",
        fields: &[
            f("tiers", "list<int>", "Service tiers."),
            f("environments", "list<string>", "Deployment environments."),
        ],
    },
];

/// The index in [`RECORDS`] of the record named `name`.
pub fn record_index(name: &str) -> Option<usize> {
    RECORDS.iter().position(|r| r.name == name)
}

/// The index of field `name` in `RECORDS[record].fields`.
pub fn field_index(record: usize, name: &str) -> Option<usize> {
    RECORDS
        .get(record)?
        .fields
        .iter()
        .position(|f| f.name == name)
}

/// A person as a commit names them: the author, committer or a `Co-authored-by`.
#[derive(Clone, Copy, Debug)]
pub struct PersonRef<'a> {
    /// The principal id given, if any (not yet resolved by e-mail).
    pub principal: Option<&'a str>,
    pub name: Option<&'a str>,
    pub email: &'a str,
    pub time: Option<Time>,
}

impl<'a> PersonRef<'a> {
    fn of(person: &'a Person) -> PersonRef<'a> {
        PersonRef {
            principal: person.principal.as_deref(),
            name: person.name.as_deref(),
            email: &person.email,
            time: person.time,
        }
    }
}

/// Where a person comes from: a commit's author or committer, or a `Co-authored-by`
/// trailer (read when a field is). Keeps `Node` small: nodes are copied constantly.
#[derive(Clone, Copy, Debug)]
pub enum PersonSource<'a> {
    Named(&'a Person),
    CoAuthor(&'a Trailer),
}

impl<'a> PersonSource<'a> {
    pub fn person(self) -> PersonRef<'a> {
        match self {
            PersonSource::Named(person) => PersonRef::of(person),
            PersonSource::CoAuthor(trailer) => parse_person(&trailer.value),
        }
    }
}

/// A principal: its id and its directory entry, `None` when unknown.
#[derive(Clone, Copy, Debug)]
pub struct PrincipalRef<'a> {
    pub id: &'a str,
    pub facts: Option<&'a PrincipalFacts>,
}

/// A service of the catalogue.
#[derive(Clone, Copy, Debug)]
pub struct ServiceRef<'a> {
    pub name: &'a str,
    pub facts: &'a ServiceFacts,
}

/// A record value: one variant per record of [`RECORDS`], pointing into the change.
#[derive(Clone, Copy, Debug)]
pub enum Node<'a> {
    Change(&'a Change),
    Repository(&'a Repository),
    Ref(&'a Ref),
    Revisions(&'a Revisions),
    File(&'a File),
    Commit(&'a Commit),
    Person(PersonSource<'a>),
    Trailer(&'a Trailer),
    Signature(&'a Signature),
    Review(&'a Review),
    Threads(&'a Threads),
    Check(&'a Check),
    InfraPlan(&'a InfraPlan),
    ResourceChange(&'a ResourceChange),
    Deployment(&'a Deployment),
    Artifact(&'a Artifact),
    Wave(&'a Wave),
    ConfigChange(&'a ConfigChange),
    DeploymentApproval(&'a DeploymentApproval),
    Links(&'a Links),
    Ticket(&'a Ticket),
    Incident(&'a Incident),
    DocLink(&'a DocLink),
    Override(&'a Override),
    Principal(PrincipalRef<'a>),
    Service(ServiceRef<'a>),
    Calendar(&'a Calendar),
    Freeze(&'a Freeze),
    FreezeScope(&'a FreezeScope),
}

impl Node<'_> {
    /// The index of the node's record in [`RECORDS`].
    pub fn record(&self) -> usize {
        match self {
            Node::Change(_) => CHANGE,
            Node::Repository(_) => REPOSITORY,
            Node::Ref(_) => REF,
            Node::Revisions(_) => REVISIONS,
            Node::File(_) => FILE,
            Node::Commit(_) => COMMIT,
            Node::Person(_) => PERSON,
            Node::Trailer(_) => TRAILER,
            Node::Signature(_) => SIGNATURE,
            Node::Review(_) => REVIEW,
            Node::Threads(_) => THREADS,
            Node::Check(_) => CHECK,
            Node::InfraPlan(_) => INFRA_PLAN,
            Node::ResourceChange(_) => RESOURCE_CHANGE,
            Node::Deployment(_) => DEPLOYMENT,
            Node::Artifact(_) => ARTIFACT,
            Node::Wave(_) => WAVE,
            Node::ConfigChange(_) => CONFIG_CHANGE,
            Node::DeploymentApproval(_) => DEPLOYMENT_APPROVAL,
            Node::Links(_) => LINKS,
            Node::Ticket(_) => TICKET,
            Node::Incident(_) => INCIDENT,
            Node::DocLink(_) => DOC_LINK,
            Node::Override(_) => OVERRIDE,
            Node::Principal(_) => PRINCIPAL,
            Node::Service(_) => SERVICE,
            Node::Calendar(_) => CALENDAR,
            Node::Freeze(_) => FREEZE,
            Node::FreezeScope(_) => FREEZE_SCOPE,
        }
    }

    /// The record's name (`"File"`, …).
    pub fn record_name(&self) -> &'static str {
        RECORDS.get(self.record()).map_or("?", |r| r.name)
    }
}

/// A field's value.
#[derive(Clone, Debug)]
pub enum Datum<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Str(&'a str),
    Time(Time),
    List(Vec<Datum<'a>>),
    Map(&'a IndexMap<String, String>),
    Node(Node<'a>),
}

/// The calendar of a change given no freezes.
static EMPTY_CALENDAR: Calendar = Calendar {
    freezes: Vec::new(),
};

/// A change with its indexes, built once per evaluation.
#[derive(Clone, Debug)]
pub struct View<'a> {
    change: &'a Change,
    /// Principal ids by lowercased e-mail; the first principal wins.
    by_email: OnceCell<HashMap<String, &'a str, Ids>>,
    latest_reviews: OnceCell<Vec<&'a Review>>,
    services: OnceCell<Services<'a>>,
    principal_ids: OnceCell<Vec<&'a str>>,
    /// Each team's members, sorted by id.
    team_members: OnceCell<HashMap<&'a str, Vec<&'a str>, Ids>>,
}

/// The services a change touches: every name (sorted, once each), and those the
/// catalogue knows.
#[derive(Clone, Debug)]
struct Services<'a> {
    names: Vec<&'a str>,
    known: Vec<ServiceRef<'a>>,
}

impl<'a> View<'a> {
    /// A view of `change`. Its indexes (principals by e-mail, latest reviews, touched
    /// services) are built when first read: a policy that never asks pays nothing.
    pub fn new(change: &'a Change) -> View<'a> {
        View {
            change,
            by_email: OnceCell::new(),
            latest_reviews: OnceCell::new(),
            services: OnceCell::new(),
            principal_ids: OnceCell::new(),
            team_members: OnceCell::new(),
        }
    }

    /// The ids of the directory's principals, sorted.
    pub fn principal_ids(&self) -> &[&'a str] {
        self.principal_ids.get_or_init(|| {
            let mut ids: Vec<&str> = self.change.principals.keys().map(String::as_str).collect();
            ids.sort_unstable();
            ids
        })
    }

    /// The ids of the directory's principals in `team`, sorted.
    pub fn team_members(&self, team: &str) -> &[&'a str] {
        let teams = self.team_members.get_or_init(|| {
            let mut teams: HashMap<&str, Vec<&str>, Ids> = HashMap::default();
            for &id in self.principal_ids() {
                let Some(facts) = self.change.principals.get(id) else {
                    continue;
                };
                for team in &facts.teams {
                    let members = teams.entry(team.as_str()).or_default();
                    // A team listed twice for one principal counts it once.
                    if members.last() != Some(&id) {
                        members.push(id);
                    }
                }
            }
            teams
        });
        teams.get(team).map_or(&[], Vec::as_slice)
    }

    fn by_email(&self) -> &HashMap<String, &'a str, Ids> {
        self.by_email.get_or_init(|| {
            let mut by_email = HashMap::default();
            for (id, facts) in &self.change.principals {
                if let Some(email) = &facts.email {
                    by_email
                        .entry(email.to_ascii_lowercase())
                        .or_insert(id.as_str());
                }
            }
            by_email
        })
    }

    /// Each reviewer's latest review, in list order; on equal times the later one in
    /// the list.
    fn latest_reviews(&self) -> &[&'a Review] {
        self.latest_reviews.get_or_init(|| {
            let reviews = &self.change.reviews;
            let mut latest: HashMap<&str, usize, Ids> = HashMap::default();
            for (i, review) in reviews.iter().enumerate() {
                let entry = latest.entry(review.reviewer.as_str()).or_insert(i);
                if let Some(current) = reviews.get(*entry)
                    && review.submitted_at >= current.submitted_at
                {
                    *entry = i;
                }
            }
            let mut latest: Vec<usize> = latest.into_values().collect();
            latest.sort_unstable();
            latest.into_iter().filter_map(|i| reviews.get(i)).collect()
        })
    }

    fn services(&self) -> &Services<'a> {
        self.services.get_or_init(|| {
            let change = self.change;
            let mut names: Vec<&str> = Vec::new();
            let mut seen: HashSet<&str, Ids> = HashSet::default();
            let touched = change
                .files
                .iter()
                .flat_map(|file| &file.services)
                .chain(change.deployment.iter().flat_map(|d| &d.services));
            for name in touched {
                // Neighbouring files are usually in the same service: the repeat of
                // the last name costs no lookup. Only distinct names are sorted.
                if names.last() != Some(&name.as_str()) && seen.insert(name) {
                    names.push(name);
                }
            }
            names.sort_unstable();
            let known = names
                .iter()
                .filter_map(|name| {
                    change
                        .services
                        .get_key_value(*name)
                        .map(|(name, facts)| ServiceRef { name, facts })
                })
                .collect();
            Services { names, known }
        })
    }

    /// The change.
    pub fn change(&self) -> &'a Change {
        self.change
    }

    /// The `Change` node.
    pub fn root(&self) -> Node<'a> {
        Node::Change(self.change)
    }

    /// The principal `id`; of kind `"unknown"` when not in the directory.
    pub fn principal(&self, id: &'a str) -> Node<'a> {
        Node::Principal(PrincipalRef {
            id,
            facts: self.change.principals.get(id),
        })
    }

    /// The directory entry of principal `id`.
    pub fn principal_facts(&self, id: &str) -> Option<&'a PrincipalFacts> {
        self.change.principals.get(id)
    }

    /// The principal whose e-mail is `email` (ASCII case-insensitive).
    pub fn principal_by_email(&self, email: &str) -> Option<Node<'a>> {
        let id = *self.by_email().get(&email.to_ascii_lowercase())?;
        Some(self.principal(id))
    }

    /// The catalogue entry of service `name`.
    pub fn service(&self, name: &str) -> Option<Node<'a>> {
        self.change
            .services
            .get_key_value(name)
            .map(|(name, facts)| Node::Service(ServiceRef { name, facts }))
    }

    /// Field `field` (an index into `RECORDS[node.record()].fields`) of `node`;
    /// `Null` for an index out of range.
    pub fn field(&self, node: Node<'a>, field: usize) -> Datum<'a> {
        match node {
            Node::Change(c) => self.change_field(c, field),
            Node::Repository(r) => match field {
                0 => Datum::Str(&r.name),
                1 => Datum::Map(&r.properties),
                _ => Datum::Null,
            },
            Node::Ref(r) => match field {
                0 => Datum::Str(&r.name),
                1 => Datum::Bool(r.fork),
                2 => Datum::Bool(r.protected),
                _ => Datum::Null,
            },
            Node::Revisions(r) => match field {
                0 => Datum::Str(&r.base),
                1 => Datum::Str(&r.head),
                _ => Datum::Null,
            },
            Node::File(file) => match field {
                0 => Datum::Str(&file.path),
                1 => opt_str(&file.previous_path),
                2 => Datum::Str(file.status.as_str()),
                3 => Datum::Int(file.additions),
                4 => Datum::Int(file.deletions),
                5 => Datum::Bool(file.binary),
                6 => Datum::Bool(file.generated),
                7 => strs(&file.owners),
                8 => strs(&file.services),
                9 => opt_str(&file.patch),
                _ => Datum::Null,
            },
            Node::Commit(c) => self.commit_field(c, field),
            Node::Person(source) => match (field, source.person()) {
                (0, p) => match p.principal {
                    Some(id) => Datum::Node(self.principal(id)),
                    None => self
                        .principal_by_email(p.email)
                        .map_or(Datum::Null, Datum::Node),
                },
                (1, p) => p.name.map_or(Datum::Null, Datum::Str),
                (2, p) => Datum::Str(p.email),
                (3, p) => opt_time(p.time),
                _ => Datum::Null,
            },
            Node::Trailer(t) => match field {
                0 => Datum::Str(&t.key),
                1 => Datum::Str(&t.value),
                _ => Datum::Null,
            },
            Node::Signature(s) => match field {
                0 => Datum::Str(&s.state),
                1 => Datum::Str(&s.kind),
                2 => match (&s.signer, &s.key) {
                    (Some(_), _) | (None, None) => self.opt_principal(&s.signer),
                    (None, Some(key)) => self.principal_by_key(key).unwrap_or(Datum::Null),
                },
                3 => opt_str(&s.key),
                _ => Datum::Null,
            },
            Node::Review(r) => match field {
                0 => Datum::Node(self.principal(&r.reviewer)),
                1 => Datum::Str(r.state.as_str()),
                2 => Datum::Str(&r.commit),
                3 => Datum::Time(r.submitted_at),
                4 => Datum::Bool(r.dismissed),
                5 => Datum::Str(&r.body),
                _ => Datum::Null,
            },
            Node::Threads(t) => match field {
                0 => Datum::Int(t.unresolved),
                _ => Datum::Null,
            },
            Node::Check(c) => match field {
                0 => Datum::Str(&c.name),
                1 => Datum::Str(&c.app),
                2 => Datum::Str(&c.commit),
                3 => Datum::Str(&c.status),
                4 => opt_str(&c.conclusion),
                _ => Datum::Null,
            },
            Node::InfraPlan(p) => match field {
                0 => Datum::Str(&p.tool),
                1 => opt_str(&p.workspace),
                2 => nodes(&p.resources, Node::ResourceChange),
                _ => Datum::Null,
            },
            Node::ResourceChange(r) => match field {
                0 => Datum::Str(&r.address),
                1 => Datum::Str(&r.kind),
                2 => strs(&r.actions),
                3 => opt_str(&r.action_reason),
                4 => opt_str(&r.module),
                _ => Datum::Null,
            },
            Node::Deployment(d) => match field {
                0 => Datum::Str(&d.environment),
                1 => strs(&d.services),
                2 => Datum::Node(self.principal(&d.initiator)),
                3 => Datum::Str(&d.trigger),
                4 => Datum::Node(Node::Artifact(&d.artifact)),
                5 => nodes(&d.plan, Node::Wave),
                6 => d
                    .config_change
                    .as_ref()
                    .map_or(Datum::Null, |c| Datum::Node(Node::ConfigChange(c))),
                7 => nodes(&d.approvals, Node::DeploymentApproval),
                8 => opt_time(d.last_deploy_at),
                9 => opt_time(d.scheduled_at),
                10 => opt_time(d.started_at),
                _ => Datum::Null,
            },
            Node::Artifact(a) => match field {
                0 => Datum::Str(&a.digest),
                1 => opt_str(&a.source_commit),
                2 => Datum::Bool(a.provenance_verified),
                3 => opt_str(&a.source_change),
                4 => opt_str(&a.source_verdict),
                _ => Datum::Null,
            },
            Node::Wave(w) => match field {
                0 => Datum::Int(w.wave),
                1 => strs(&w.regions),
                2 => w.cells.map_or(Datum::Null, Datum::Int),
                3 => Datum::Int(w.traffic_percent),
                4 => Datum::Int(w.bake_minutes),
                _ => Datum::Null,
            },
            Node::ConfigChange(c) => match field {
                0 => Datum::Bool(c.global),
                1 => strs(&c.keys),
                _ => Datum::Null,
            },
            Node::DeploymentApproval(a) => match field {
                0 => Datum::Node(self.principal(&a.approver)),
                1 => Datum::Time(a.at),
                2 => Datum::Str(&a.artifact),
                _ => Datum::Null,
            },
            Node::Links(l) => match field {
                0 => nodes(&l.tickets, Node::Ticket),
                1 => nodes(&l.incidents, Node::Incident),
                2 => nodes(&l.docs, Node::DocLink),
                _ => Datum::Null,
            },
            Node::Ticket(t) => match field {
                0 => Datum::Str(&t.system),
                1 => Datum::Str(&t.key),
                2 => Datum::Str(&t.kind),
                3 => Datum::Str(&t.status),
                _ => Datum::Null,
            },
            Node::Incident(i) => match field {
                0 => Datum::Str(&i.key),
                1 => Datum::Str(&i.severity),
                2 => Datum::Str(&i.status),
                3 => opt_time(i.opened_at),
                _ => Datum::Null,
            },
            Node::DocLink(d) => match field {
                0 => Datum::Str(&d.kind),
                1 => Datum::Str(&d.url),
                _ => Datum::Null,
            },
            Node::Override(o) => match field {
                0 => Datum::Str(&o.kind),
                1 => Datum::Node(self.principal(&o.by)),
                2 => Datum::Str(&o.reason),
                3 => opt_str(&o.incident),
                4 => self
                    .override_incident(o)
                    .map_or(Datum::Null, |i| Datum::Node(Node::Incident(i))),
                5 => opt_time(o.at),
                6 => strs(&o.rules),
                _ => Datum::Null,
            },
            Node::Principal(p) => match field {
                0 => Datum::Str(p.id),
                1 => Datum::Str(p.facts.map_or("unknown", |f| f.kind.as_str())),
                2 => p.facts.map_or(Datum::Null, |f| opt_str(&f.name)),
                3 => p.facts.map_or(Datum::Null, |f| opt_str(&f.email)),
                4 => p.facts.map_or(Datum::List(Vec::new()), |f| strs(&f.teams)),
                5 => p
                    .facts
                    .and_then(|f| f.level)
                    .map_or(Datum::Null, Datum::Int),
                6 => p.facts.map_or(Datum::Null, |f| opt_str(&f.timezone)),
                7 => p
                    .facts
                    .map_or(Datum::List(Vec::new()), |f| strs(&f.signing_keys)),
                _ => Datum::Null,
            },
            Node::Service(s) => match field {
                0 => Datum::Str(s.name),
                1 => Datum::Int(s.facts.tier),
                2 => Datum::Str(&s.facts.plane),
                3 => Datum::Str(&s.facts.owner),
                4 => Datum::Str(&s.facts.oncall),
                5 => Datum::Str(&s.facts.timezone),
                6 => Datum::Bool(s.facts.stateful),
                7 => strs(&s.facts.regions),
                8 => strs(&s.facts.paths),
                _ => Datum::Null,
            },
            Node::Calendar(c) => match field {
                0 => nodes(&c.freezes, Node::Freeze),
                _ => Datum::Null,
            },
            Node::Freeze(fr) => match field {
                0 => Datum::Str(&fr.name),
                1 => Datum::Time(fr.start),
                2 => Datum::Time(fr.end),
                3 => Datum::Node(Node::FreezeScope(&fr.scope)),
                _ => Datum::Null,
            },
            Node::FreezeScope(s) => match field {
                0 => Datum::List(s.tiers.iter().map(|t| Datum::Int(*t)).collect()),
                1 => strs(&s.environments),
                _ => Datum::Null,
            },
        }
    }

    fn change_field(&self, c: &'a Change, field: usize) -> Datum<'a> {
        match field {
            0 => Datum::Str(&c.schema),
            1 => Datum::Str(c.kind.as_str()),
            2 => Datum::Str(&c.id),
            3 => Datum::Time(c.evaluated_at),
            4 => Datum::Node(Node::Repository(&c.repository)),
            5 => Datum::Str(&c.title),
            6 => Datum::Str(&c.description),
            7 => Datum::Bool(c.draft),
            8 => strs(&c.labels),
            9 => c
                .source
                .as_ref()
                .map_or(Datum::Null, |r| Datum::Node(Node::Ref(r))),
            10 => c
                .target
                .as_ref()
                .map_or(Datum::Null, |r| Datum::Node(Node::Ref(r))),
            11 => c
                .revisions
                .as_ref()
                .map_or(Datum::Null, |r| Datum::Node(Node::Revisions(r))),
            12 => Datum::Node(self.principal(&c.author)),
            13 => nodes(&c.files, Node::File),
            14 => nodes(&c.commits, Node::Commit),
            15 => nodes(&c.reviews, Node::Review),
            16 if std::ptr::eq(c, self.change) => Datum::List(
                self.latest_reviews()
                    .iter()
                    .map(|r| Datum::Node(Node::Review(r)))
                    .collect(),
            ),
            16 => View::new(c).change_field(c, field),
            17 => Datum::Node(Node::Threads(&c.threads)),
            18 => nodes(&c.checks, Node::Check),
            19 => nodes(&c.infra_plans, Node::InfraPlan),
            20 => c
                .deployment
                .as_ref()
                .map_or(Datum::Null, |d| Datum::Node(Node::Deployment(d))),
            21 => Datum::Node(Node::Links(&c.links)),
            22 => nodes(&c.overrides, Node::Override),
            23 if std::ptr::eq(c, self.change) => Datum::List(
                self.services()
                    .known
                    .iter()
                    .map(|s| Datum::Node(Node::Service(*s)))
                    .collect(),
            ),
            24 if std::ptr::eq(c, self.change) => Datum::List(
                self.services()
                    .names
                    .iter()
                    .map(|s| Datum::Str(s))
                    .collect(),
            ),
            23 | 24 => View::new(c).change_field(c, field),
            25 => Datum::Node(Node::Calendar(
                c.calendar.as_ref().unwrap_or(&EMPTY_CALENDAR),
            )),
            _ => Datum::Null,
        }
    }

    fn commit_field(&self, c: &'a Commit, field: usize) -> Datum<'a> {
        match field {
            0 => Datum::Str(&c.sha),
            1 => strs(&c.parents),
            2 => Datum::Node(Node::Person(PersonSource::Named(&c.author))),
            3 => Datum::Node(Node::Person(PersonSource::Named(&c.committer))),
            4 => Datum::Str(&c.subject),
            5 => Datum::Str(&c.body),
            6 => Datum::Str(c.message()),
            7 => nodes(&c.trailers, Node::Trailer),
            8 => Datum::List(
                co_author_trailers(c)
                    .map(|t| Datum::Node(Node::Person(PersonSource::CoAuthor(t))))
                    .collect(),
            ),
            9 => c
                .signature
                .as_ref()
                .map_or(Datum::Null, |s| Datum::Node(Node::Signature(s))),
            10 => opt_time(c.pushed_at),
            11 => self.opt_principal(&c.pushed_by),
            _ => Datum::Null,
        }
    }

    fn opt_principal(&self, id: &'a Option<String>) -> Datum<'a> {
        id.as_deref()
            .map_or(Datum::Null, |id| Datum::Node(self.principal(id)))
    }

    /// The principal whose `signing_keys` hold `key` (the first in the directory).
    fn principal_by_key(&self, key: &str) -> Option<Datum<'a>> {
        let (id, _) = self
            .change
            .principals
            .iter()
            .find(|(_, facts)| facts.signing_keys.iter().any(|k| k == key))?;
        Some(Datum::Node(self.principal(id)))
    }

    /// The linked incident whose key is the override's `incident`.
    fn override_incident(&self, o: &'a Override) -> Option<&'a Incident> {
        let key = o.incident.as_deref()?;
        self.change.links.incidents.iter().find(|i| i.key == key)
    }

    /// A short human identity for explanations: a file's path, a commit's short sha,
    /// a principal's id, `bob's review of a41e8b03`, `wave 1`, …
    pub fn label(&self, node: Node<'a>) -> String {
        match node {
            Node::Change(c) => c.id.clone(),
            Node::Repository(r) => r.name.clone(),
            Node::Ref(r) => r.name.clone(),
            Node::Revisions(r) => format!("{}..{}", short(&r.base), short(&r.head)),
            Node::File(file) => file.path.clone(),
            Node::Commit(c) => short(&c.sha).to_owned(),
            Node::Person(source) => {
                let p = source.person();
                match (p.principal, p.name) {
                    (Some(id), _) => id.to_owned(),
                    (None, Some(name)) => format!("{name} <{}>", p.email),
                    (None, None) => p.email.to_owned(),
                }
            }
            Node::Trailer(t) => format!("{}: {}", t.key, t.value),
            Node::Signature(s) => match &s.signer {
                Some(signer) => format!("{} signature by {signer}", s.kind),
                None => format!("{} signature", s.kind),
            },
            Node::Review(r) => format!("{}'s review of {}", r.reviewer, short(&r.commit)),
            Node::Threads(_) => "review threads".to_owned(),
            Node::Check(c) => format!("check {}", c.name),
            Node::InfraPlan(p) => match &p.workspace {
                Some(workspace) => format!("{} plan of {workspace}", p.tool),
                None => format!("{} plan", p.tool),
            },
            Node::ResourceChange(r) => r.address.clone(),
            Node::Deployment(d) => format!("deployment to {}", d.environment),
            Node::Artifact(a) => a.digest.clone(),
            Node::Wave(w) => format!("wave {}", w.wave),
            Node::ConfigChange(_) => "config change".to_owned(),
            Node::DeploymentApproval(a) => format!("{}'s approval", a.approver),
            Node::Links(_) => "links".to_owned(),
            Node::Ticket(t) => t.key.clone(),
            Node::Incident(i) => i.key.clone(),
            Node::DocLink(d) => d.url.clone(),
            Node::Override(o) => format!("{}'s {} override", o.by, o.kind),
            Node::Principal(p) => p.id.to_owned(),
            Node::Service(s) => s.name.to_owned(),
            Node::Calendar(_) => "calendar".to_owned(),
            Node::Freeze(fr) => format!("freeze {}", fr.name),
            Node::FreezeScope(_) => "freeze scope".to_owned(),
        }
    }

    /// How an element of a list is named where a witness says which one it was: its
    /// label, after its kind unless the label already says it (`file a.rs`, `commit
    /// a41e8b03`, but `wave 1`, `bob's review of a41e8b03`, `freeze peak-2026`).
    pub fn element_label(&self, node: Node<'a>) -> String {
        let kind = match node {
            Node::Change(_) => "change",
            Node::Repository(_) => "repository",
            Node::Ref(_) => "branch",
            Node::Revisions(_) => "revisions",
            Node::File(_) => "file",
            Node::Commit(_) => "commit",
            Node::Person(_) => "person",
            Node::Trailer(_) => "trailer",
            Node::ResourceChange(_) => "resource",
            Node::Artifact(_) => "artifact",
            Node::Ticket(_) => "ticket",
            Node::Incident(_) => "incident",
            Node::DocLink(_) => "document",
            Node::Principal(_) => "principal",
            Node::Service(_) => "service",
            Node::Signature(_)
            | Node::Review(_)
            | Node::Threads(_)
            | Node::Check(_)
            | Node::InfraPlan(_)
            | Node::Deployment(_)
            | Node::Wave(_)
            | Node::ConfigChange(_)
            | Node::DeploymentApproval(_)
            | Node::Links(_)
            | Node::Override(_)
            | Node::Calendar(_)
            | Node::Freeze(_)
            | Node::FreezeScope(_) => return self.label(node),
        };
        format!("{kind} {}", self.label(node))
    }

    /// Identity: principals by id, services by name, people by what they point to,
    /// every other record by address.
    pub fn same(&self, a: Node<'a>, b: Node<'a>) -> bool {
        use std::ptr::eq;
        match (a, b) {
            (Node::Principal(x), Node::Principal(y)) => x.id == y.id,
            (Node::Service(x), Node::Service(y)) => x.name == y.name,
            (Node::Person(x), Node::Person(y)) => match (x, y) {
                (PersonSource::Named(x), PersonSource::Named(y)) => eq(x, y),
                (PersonSource::CoAuthor(x), PersonSource::CoAuthor(y)) => eq(x, y),
                _ => false,
            },
            (Node::Change(x), Node::Change(y)) => eq(x, y),
            (Node::Repository(x), Node::Repository(y)) => eq(x, y),
            (Node::Ref(x), Node::Ref(y)) => eq(x, y),
            (Node::Revisions(x), Node::Revisions(y)) => eq(x, y),
            (Node::File(x), Node::File(y)) => eq(x, y),
            (Node::Commit(x), Node::Commit(y)) => eq(x, y),
            (Node::Trailer(x), Node::Trailer(y)) => eq(x, y),
            (Node::Signature(x), Node::Signature(y)) => eq(x, y),
            (Node::Review(x), Node::Review(y)) => eq(x, y),
            (Node::Threads(x), Node::Threads(y)) => eq(x, y),
            (Node::Check(x), Node::Check(y)) => eq(x, y),
            (Node::InfraPlan(x), Node::InfraPlan(y)) => eq(x, y),
            (Node::ResourceChange(x), Node::ResourceChange(y)) => eq(x, y),
            (Node::Deployment(x), Node::Deployment(y)) => eq(x, y),
            (Node::Artifact(x), Node::Artifact(y)) => eq(x, y),
            (Node::Wave(x), Node::Wave(y)) => eq(x, y),
            (Node::ConfigChange(x), Node::ConfigChange(y)) => eq(x, y),
            (Node::DeploymentApproval(x), Node::DeploymentApproval(y)) => eq(x, y),
            (Node::Links(x), Node::Links(y)) => eq(x, y),
            (Node::Ticket(x), Node::Ticket(y)) => eq(x, y),
            (Node::Incident(x), Node::Incident(y)) => eq(x, y),
            (Node::DocLink(x), Node::DocLink(y)) => eq(x, y),
            (Node::Override(x), Node::Override(y)) => eq(x, y),
            (Node::Calendar(x), Node::Calendar(y)) => eq(x, y),
            (Node::Freeze(x), Node::Freeze(y)) => eq(x, y),
            (Node::FreezeScope(x), Node::FreezeScope(y)) => eq(x, y),
            _ => false,
        }
    }
}

/// A commit's `Co-authored-by` trailers (key matched ignoring case).
fn co_author_trailers(commit: &Commit) -> impl Iterator<Item = &Trailer> {
    commit
        .trailers
        .iter()
        .filter(|t| t.key.eq_ignore_ascii_case("co-authored-by"))
}

/// `Name <email>` → name and e-mail; a value without `<…>` is taken as the e-mail.
pub fn parse_person(value: &str) -> PersonRef<'_> {
    let value = value.trim();
    if let Some((name, rest)) = value.split_once('<')
        && let Some((email, _)) = rest.split_once('>')
    {
        let name = name.trim();
        return PersonRef {
            principal: None,
            name: (!name.is_empty()).then_some(name),
            email: email.trim(),
            time: None,
        };
    }
    PersonRef {
        principal: None,
        name: None,
        email: value,
        time: None,
    }
}

/// The first 8 characters of a commit id.
fn short(sha: &str) -> &str {
    sha.char_indices()
        .nth(8)
        .map_or(sha, |(end, _)| &sha[..end])
}

fn strs(list: &[String]) -> Datum<'_> {
    Datum::List(list.iter().map(|s| Datum::Str(s)).collect())
}

fn nodes<'a, T>(list: &'a [T], node: fn(&'a T) -> Node<'a>) -> Datum<'a> {
    Datum::List(list.iter().map(|x| Datum::Node(node(x))).collect())
}

fn opt_str(value: &Option<String>) -> Datum<'_> {
    value.as_deref().map_or(Datum::Null, Datum::Str)
}

fn opt_time<'a>(value: Option<Time>) -> Datum<'a> {
    value.map_or(Datum::Null, Datum::Time)
}
