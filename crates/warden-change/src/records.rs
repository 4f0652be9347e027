//! The one declaration of the records policies see. Each field is written once: its
//! name, its Warden type, its doc, where it comes from in the JSON, and how the view
//! reads it. From it come [`RECORDS`] (what the checker, the LSP and
//! `docs/change-model.md` read), [`INPUTS`] (the JSON field behind each view field:
//! the JSON Schema's descriptions, and the test that the serde types and this table
//! agree), the [`Node`] enum and the record indexes, and [`View::field`] (a `match`
//! per record, on the evaluator's hot path).
//!
//! A field reads
//!
//! ```text
//! "name" [= "json_name" | derived]: "warden type", "doc" => accessor;
//! ```
//!
//! `= "json_name"` when the JSON field has another name; `derived` when no JSON field
//! holds it (the view computes it); otherwise the JSON field has the same name. The
//! accessor is an expression of `view` (the [`View`]) and the record's binding.
//!
//! Adding a plain field: the serde field in `model.rs` and one line here; the tests
//! then ask for the docs to be regenerated (`WARDEN_BLESS=1`).

use crate::model::{
    Artifact, Calendar, Change, ChangeKind, Check, Commit, ConfigChange, Deployment,
    DeploymentApproval, DocLink, File, FileStatus, Freeze, FreezeScope, Incident, InfraPlan, Links,
    Override, PrincipalKind, Ref, Repository, ResourceChange, Review, ReviewState, Revisions,
    Signature, Threads, Ticket, Trailer, Wave,
};
use crate::view::{
    Datum, FieldDef, InputFields, PersonSource, PrincipalRef, RecordDef, ServiceRef, View, nodes,
    opt_node, opt_str, opt_time, strs,
};

/// Expands the declaration below (see the module documentation).
macro_rules! records {
    // `match field { 0 => first, 1 => second, …, _ => Datum::Null }`: the indexes are
    // taken one by one from the list, as macros cannot count. A record of more fields
    // than the list has is a compile error here.
    (@match $field:ident [$($arms:tt)*] [$($unused:tt)*]) => {
        match $field {
            $($arms)*
            _ => Datum::Null,
        }
    };
    (@match $field:ident [$($arms:tt)*] [$i:tt $($is:tt)*] $get:expr $(, $gets:expr)*) => {
        records!(@match $field [$($arms)* $i => $get,] [$($is)*] $($gets),*)
    };
    (@json $name:literal) => { Some($name) };
    (@json $name:literal = $json:literal) => { Some($json) };
    (@json $name:literal derived) => { None };
    (
        view: $view:ident;
        $(
            $record:ident($bind:ident: $node:ty), $rdoc:literal,
            from $input:ident $(also [$($also:literal),*])? {
                $(
                    $name:literal $(= $json:literal)? $($derived:ident)?: $ty:expr, $doc:literal
                        => $get:expr;
                )+
            }
        )+
    ) => {
        /// A record value: one variant per record of [`RECORDS`], pointing into the
        /// change.
        #[derive(Clone, Copy, Debug)]
        pub enum Node<'a> {
            $(#[doc = $rdoc] $record($node),)+
        }

        /// The records in the order of [`RECORDS`]: `RecordId::File as usize` is the
        /// index of `File`.
        #[derive(Clone, Copy)]
        enum RecordId {
            $($record,)+
        }

        impl Node<'_> {
            /// The index of the node's record in [`RECORDS`].
            pub fn record(&self) -> usize {
                match self {
                    $(Node::$record(_) => RecordId::$record as usize,)+
                }
            }
        }

        /// Every record policies see, `Change` first. The order of each record's
        /// fields is the field index of [`View::field`].
        pub static RECORDS: &[RecordDef] = &[
            $(RecordDef {
                name: stringify!($record),
                doc: $rdoc,
                fields: &[$(FieldDef { name: $name, ty: $ty, doc: $doc },)+],
            },)+
        ];

        /// Where each record's fields come from in the JSON, in the order of
        /// [`RECORDS`].
        pub static INPUTS: &[InputFields] = &[
            $(InputFields {
                input: stringify!($input),
                fields: &[$(records!(@json $name $(= $json)? $($derived)?),)+],
                input_only: &[$($($also),*)?],
            },)+
        ];

        impl<'a> View<'a> {
            /// Field `field` (an index into `RECORDS[node.record()].fields`) of `node`;
            /// `Null` for an index out of range.
            pub fn field(&self, node: Node<'a>, field: usize) -> Datum<'a> {
                let $view = self;
                match node {
                    $(Node::$record($bind) => records!(
                        @match field []
                        [0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25
                         26 27 28 29 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47]
                        $($get),+
                    ),)+
                }
            }
        }
    };
}

records! {
    view: view;

    Change(c: &'a Change), "The change being evaluated (the global `change`).",
    from Change also ["principals", "services"] {
        "schema": "string", "Always `\"warden.change/v1\"`." => Datum::Str(&c.schema);
        "kind": ChangeKind::WARDEN_TYPE, "What the change is." => Datum::Str(c.kind.as_str());
        "id": "string", "A stable identifier, e.g. `github:acme/shop#4812`."
            => Datum::Str(&c.id);
        "evaluated_at": "timestamp", "\"Now\" for every time rule."
            => Datum::Time(c.evaluated_at);
        "repository": "Repository", "The repository."
            => Datum::Node(Node::Repository(&c.repository));
        "title": "string", "The title." => Datum::Str(&c.title);
        "description": "string", "The description; `\"\"` when absent."
            => Datum::Str(&c.description);
        "draft": "bool", "Whether the pull request is a draft; `false` when absent."
            => Datum::Bool(c.draft);
        "labels": "list<string>", "Labels." => strs(&c.labels);
        "source": "Ref?", "The source branch (pull requests)."
            => opt_node(&c.source, Node::Ref);
        "target": "Ref?", "The target branch." => opt_node(&c.target, Node::Ref);
        "revisions": "Revisions?", "Base and head revisions."
            => opt_node(&c.revisions, Node::Revisions);
        "author": "Principal",
            "The author: the principal of the id given, else the principal whose e-mail it is \
             (the git source gives the head commit author's e-mail)."
            => Datum::Node(view.principal(view.author_id()));
        "files": "list<File>", "Changed files." => nodes(&c.files, Node::File);
        "commits": "list<Commit>", "Commits." => nodes(&c.commits, Node::Commit);
        "reviews": "list<Review>", "Reviews, as given." => nodes(&c.reviews, Node::Review);
        "latest_reviews" derived: "list<Review>",
            "Each reviewer's latest review (by `submitted_at`; ties: later in the list), \
             in the order of `reviews`."
            => view.latest_reviews_of(c);
        "threads": "Threads", "Review threads." => Datum::Node(Node::Threads(&c.threads));
        "checks": "list<Check>", "CI checks." => nodes(&c.checks, Node::Check);
        "infra_plans": "list<InfraPlan>", "Infrastructure plans."
            => nodes(&c.infra_plans, Node::InfraPlan);
        "deployment": "Deployment?", "The deployment (deployments only)."
            => opt_node(&c.deployment, Node::Deployment);
        "links": "Links", "Linked tickets, incidents and documents."
            => Datum::Node(Node::Links(&c.links));
        "overrides": "list<Override>", "Recorded overrides."
            => nodes(&c.overrides, Node::Override);
        "services" derived: "list<Service>",
            "The catalogue entries of every service named by a file or the deployment, \
             sorted by name, without duplicates."
            => view.services_of(c);
        "service_names" derived: "list<string>",
            "Every service named by a file or the deployment, known or not, sorted, \
             without duplicates."
            => view.service_names_of(c);
        "calendar": "Calendar", "The calendar from the facts; empty when none given."
            => Datum::Node(Node::Calendar(c.calendar.as_ref().unwrap_or(&EMPTY_CALENDAR)));
    }

    Repository(r: &'a Repository), "The repository of the change.", from Repository {
        "name": "string", "`owner/name`." => Datum::Str(&r.name);
        "properties": "map<string>",
            "Repository properties (custom properties, topics, …) as strings."
            => Datum::Map(&r.properties);
    }

    Ref(r: &'a Ref), "A branch: the source or the target of a change.", from Ref {
        "ref": "string", "The branch name." => Datum::Str(&r.name);
        "fork": "bool", "Whether the source is a fork." => Datum::Bool(r.fork);
        "protected": "bool", "Whether the target is protected." => Datum::Bool(r.protected);
    }

    Revisions(r: &'a Revisions), "Base and head revisions.", from Revisions {
        "base": "string", "The base commit." => Datum::Str(&r.base);
        "head": "string", "The head commit; approvals on other commits are stale."
            => Datum::Str(&r.head);
    }

    File(file: &'a File), "A changed file.", from File {
        "path": "string", "The path." => Datum::Str(&file.path);
        "previous_path": "string?", "The path before a rename."
            => opt_str(&file.previous_path);
        "status": FileStatus::WARDEN_TYPE, "What happened to the file."
            => Datum::Str(file.status.as_str());
        "additions": "int", "Lines added." => Datum::Int(file.additions);
        "deletions": "int", "Lines deleted." => Datum::Int(file.deletions);
        "binary": "bool", "Whether the file is binary." => Datum::Bool(file.binary);
        "generated": "bool", "Whether the file is generated." => Datum::Bool(file.generated);
        "owners": "list<string>", "Owning teams (from CODEOWNERS or similar)."
            => strs(&file.owners);
        "services": "list<string>", "Names of the services the file belongs to."
            => strs(&file.services);
        "patch": "string?",
            "The unified diff of the file, when the producer includes it (content rules \
             such as destructive DDL in a migration)."
            => opt_str(&file.patch);
    }

    Commit(c: &'a Commit), "A commit of the change.", from Commit {
        "sha": "string", "The commit id." => Datum::Str(&c.sha);
        "parents": "list<string>", "Parent commit ids." => strs(&c.parents);
        "author": "Person", "The author."
            => Datum::Node(Node::Person(PersonSource::Named(&c.author)));
        "committer": "Person", "The committer."
            => Datum::Node(Node::Person(PersonSource::Named(&c.committer)));
        "subject": "string", "The first line of the message." => Datum::Str(&c.subject);
        "body": "string", "The rest of the message." => Datum::Str(&c.body);
        "message" derived: "string", "The subject, a blank line and the body."
            => Datum::Str(c.message());
        "trailers": "list<Trailer>", "Trailers of the message."
            => nodes(&c.trailers, Node::Trailer);
        "co_authors" derived: "list<Person>", "From the `Co-authored-by` trailers."
            => view.co_authors(c);
        "signature": "Signature?", "The signature." => opt_node(&c.signature, Node::Signature);
        "pushed_at": "timestamp?", "When the commit was pushed." => opt_time(c.pushed_at);
        "pushed_by": "Principal?", "Who pushed the commit." => view.opt_principal(&c.pushed_by);
    }

    Person(p: PersonSource<'a>), "A commit author, committer or co-author.", from Person {
        "principal": "Principal?",
            "The `principal` id given, else the principal whose e-mail matches, else null."
            => view.person_principal(p);
        "name": "string?", "The name." => p.person().name.map_or(Datum::Null, Datum::Str);
        "email": "string", "The e-mail address." => Datum::Str(p.person().email);
        "time": "timestamp?", "When they authored or committed; null for co-authors."
            => opt_time(p.person().time);
    }

    Trailer(t: &'a Trailer), "A git trailer (`Key: value`).", from Trailer {
        "key": "string", "The key." => Datum::Str(&t.key);
        "value": "string", "The value." => Datum::Str(&t.value);
    }

    Signature(s: &'a Signature), "A commit signature.", from Signature {
        "state": "string",
            "`verified`, `unverified`, …; the git source's states are in `docs/ci.md`, \
             \"From git\"."
            => Datum::Str(&s.state);
        "type": "string", "`gpg`, `ssh`, `x509`, …" => Datum::Str(&s.kind);
        "signer": "Principal?",
            "Who signed: the `signer` given, else the principal whose `signing_keys` hold \
             `key`."
            => view.signer(s);
        "key": "string?", "The signing key (an SSH `SHA256:` fingerprint, a GPG key id)."
            => opt_str(&s.key);
    }

    Review(r: &'a Review), "A review of a pull request or commit range.", from Review {
        "reviewer": "Principal", "The reviewer." => Datum::Node(view.principal(&r.reviewer));
        "state": ReviewState::WARDEN_TYPE, "The verdict." => Datum::Str(r.state.as_str());
        "commit": "string", "The commit reviewed." => Datum::Str(&r.commit);
        "submitted_at": "timestamp", "When the review was submitted."
            => Datum::Time(r.submitted_at);
        "dismissed": "bool", "Whether the review was dismissed." => Datum::Bool(r.dismissed);
        "body": "string", "The review text." => Datum::Str(&r.body);
    }

    Threads(t: &'a Threads), "Review threads.", from Threads {
        "unresolved": "int", "Unresolved threads." => Datum::Int(t.unresolved);
    }

    Check(c: &'a Check), "A CI check run.", from Check {
        "name": "string", "The check's name." => Datum::Str(&c.name);
        "app": "string", "The CI system." => Datum::Str(&c.app);
        "commit": "string", "The commit checked." => Datum::Str(&c.commit);
        "status": "string", "`queued`, `in_progress`, `completed`, …" => Datum::Str(&c.status);
        "conclusion": "string?", "`success`, `failure`, …; null until completed."
            => opt_str(&c.conclusion);
    }

    InfraPlan(p: &'a InfraPlan), "An infrastructure plan.", from InfraPlan {
        "tool": "string", "`terraform`, `pulumi`, …" => Datum::Str(&p.tool);
        "workspace": "string?", "The workspace or stack." => opt_str(&p.workspace);
        "resources": "list<ResourceChange>", "Planned resource changes."
            => nodes(&p.resources, Node::ResourceChange);
    }

    ResourceChange(r: &'a ResourceChange), "A planned change to one resource.",
    from ResourceChange {
        "address": "string", "The resource address." => Datum::Str(&r.address);
        "type": "string", "The resource type." => Datum::Str(&r.kind);
        "actions": "list<string>",
            "`create`, `update`, `delete`, `read`, `no-op`, as Terraform plans them; a \
             replace is `[\"delete\", \"create\"]`, or `[\"create\", \"delete\"]` with \
             `create_before_destroy`: test it with `\"delete\" in r.actions and \"create\" in \
             r.actions`."
            => strs(&r.actions);
        "action_reason": "string?",
            "Why (Terraform's `action_reason`, e.g. `replace_because_cannot_update`)."
            => opt_str(&r.action_reason);
        "module": "string?", "The module address (`module.db`); null in the root module."
            => opt_str(&r.module);
    }

    Deployment(d: &'a Deployment), "A deployment.", from Deployment {
        "environment": "string", "The target environment." => Datum::Str(&d.environment);
        "services": "list<string>", "Names of the services deployed." => strs(&d.services);
        "initiator": "Principal", "Who started the deployment."
            => Datum::Node(view.principal(&d.initiator));
        "trigger": "string", "`manual`, `pipeline`, `schedule`, …" => Datum::Str(&d.trigger);
        "artifact": "Artifact", "What is deployed." => Datum::Node(Node::Artifact(&d.artifact));
        "plan": "list<Wave>", "The rollout waves, in order." => nodes(&d.plan, Node::Wave);
        "config_change": "ConfigChange?", "The configuration changed, if any."
            => opt_node(&d.config_change, Node::ConfigChange);
        "approvals": "list<DeploymentApproval>", "Approvals of the deployment."
            => nodes(&d.approvals, Node::DeploymentApproval);
        "last_deploy_at": "timestamp?", "When the services were last deployed."
            => opt_time(d.last_deploy_at);
        "scheduled_at": "timestamp?", "When the deployment is scheduled to start."
            => opt_time(d.scheduled_at);
        "started_at": "timestamp?", "When the deployment started." => opt_time(d.started_at);
    }

    Artifact(a: &'a Artifact), "A deployed artifact.", from Artifact {
        "digest": "string", "The content digest." => Datum::Str(&a.digest);
        "source_commit": "string?", "The commit it was built from."
            => opt_str(&a.source_commit);
        "provenance_verified": "bool", "Whether its build provenance was verified."
            => Datum::Bool(a.provenance_verified);
        "source_change": "string?",
            "The change it was built from, e.g. `github:acme/shop#4815`."
            => opt_str(&a.source_change);
        "source_verdict": "string?", "Warden's verdict on that change."
            => opt_str(&a.source_verdict);
    }

    Wave(w: &'a Wave), "A rollout wave.", from Wave {
        "wave": "int", "The wave's number, from 1." => Datum::Int(w.wave);
        "regions": "list<string>", "Regions deployed to." => strs(&w.regions);
        "cells": "int?", "Cells deployed to." => w.cells.map_or(Datum::Null, Datum::Int);
        "traffic_percent": "int",
            "Share of traffic, 0 to 100; a fraction in the JSON rounds up (`2.5` reads as \
             3), so a limit such as \"more than 5 %\" is never undercounted."
            => Datum::Int(w.traffic_percent);
        "bake_minutes": "int", "Bake time before the next wave." => Datum::Int(w.bake_minutes);
    }

    ConfigChange(c: &'a ConfigChange), "A configuration change shipped by a deployment.",
    from ConfigChange {
        "global": "bool", "Whether it applies everywhere at once." => Datum::Bool(c.global);
        "keys": "list<string>", "The keys changed." => strs(&c.keys);
    }

    DeploymentApproval(a: &'a DeploymentApproval), "An approval of a deployment.",
    from DeploymentApproval {
        "approver": "Principal", "The approver." => Datum::Node(view.principal(&a.approver));
        "at": "timestamp", "When it was given." => Datum::Time(a.at);
        "artifact": "string", "The artifact digest approved." => Datum::Str(&a.artifact);
    }

    Links(l: &'a Links), "Tickets, incidents and documents linked to the change.",
    from Links {
        "tickets": "list<Ticket>", "Tickets." => nodes(&l.tickets, Node::Ticket);
        "incidents": "list<Incident>", "Incidents." => nodes(&l.incidents, Node::Incident);
        "docs": "list<DocLink>", "Documents." => nodes(&l.docs, Node::DocLink);
    }

    Ticket(t: &'a Ticket), "A linked ticket.", from Ticket {
        "system": "string", "The ticket system." => Datum::Str(&t.system);
        "key": "string", "The ticket key." => Datum::Str(&t.key);
        "type": "string", "The ticket type." => Datum::Str(&t.kind);
        "status": "string", "The ticket status." => Datum::Str(&t.status);
    }

    Incident(i: &'a Incident), "A linked incident.", from Incident {
        "key": "string", "The incident key." => Datum::Str(&i.key);
        "severity": "string", "`sev1`, `sev2`, …" => Datum::Str(&i.severity);
        "status": "string", "`active`, `resolved`, …" => Datum::Str(&i.status);
        "opened_at": "timestamp?", "When it was opened." => opt_time(i.opened_at);
    }

    DocLink(d: &'a DocLink), "A linked document.", from DocLink {
        "kind": "string", "`rollback_plan`, `design`, …" => Datum::Str(&d.kind);
        "url": "string", "Where it is." => Datum::Str(&d.url);
    }

    Override(o: &'a Override), "A recorded override of some rules.", from Override {
        "kind": "string", "`break_glass`, …" => Datum::Str(&o.kind);
        "by": "Principal", "Who overrode." => Datum::Node(view.principal(&o.by));
        "reason": "string", "Why." => Datum::Str(&o.reason);
        "incident_key" = "incident": "string?",
            "The key of the linked incident (`links.incidents[].key`) that justifies it \
             (JSON `incident`)."
            => opt_str(&o.incident);
        "incident" derived: "Incident?", "The linked incident with that key."
            => view.override_incident(o).map_or(Datum::Null, |i| Datum::Node(Node::Incident(i)));
        "at": "timestamp?", "When." => opt_time(o.at);
        "rules": "list<string>", "Names of the rules overridden." => strs(&o.rules);
    }

    Principal(p: PrincipalRef<'a>),
    "A person or bot; an id not in the directory is of kind `\"unknown\"`.",
    from PrincipalFacts {
        "id" derived: "string", "The id (the key in the directory)." => Datum::Str(p.id);
        "kind": PrincipalKind::WARDEN_TYPE, "What the principal is."
            => Datum::Str(p.facts.map_or(PrincipalKind::Unknown, |f| f.kind).as_str());
        "name": "string?", "The name." => p.facts.map_or(Datum::Null, |f| opt_str(&f.name));
        "email": "string?", "The e-mail address."
            => p.facts.map_or(Datum::Null, |f| opt_str(&f.email));
        "teams": "list<string>", "Teams."
            => p.facts.map_or(Datum::List(Vec::new()), |f| strs(&f.teams));
        "level": "int?", "Seniority level."
            => p.facts.and_then(|f| f.level).map_or(Datum::Null, Datum::Int);
        "timezone": "string?", "IANA time zone (`America/Los_Angeles`) or fixed offset \
            (`+05:30`)."
            => p.facts.map_or(Datum::Null, |f| opt_str(&f.timezone));
        "signing_keys": "list<string>",
            "The keys the principal signs commits with (see `Signature.key`)."
            => p.facts.map_or(Datum::List(Vec::new()), |f| strs(&f.signing_keys));
    }

    Service(s: ServiceRef<'a>), "A service of the catalogue.", from ServiceFacts {
        "name" derived: "string", "The name (the key in the catalogue)." => Datum::Str(s.name);
        "tier": "int", "Criticality; 0 is the most critical." => Datum::Int(s.facts.tier);
        "plane": "string", "`control` or `data`." => Datum::Str(&s.facts.plane);
        "owner": "string", "The owning team." => Datum::Str(&s.facts.owner);
        "oncall": "string", "The on-call team." => Datum::Str(&s.facts.oncall);
        "timezone": "string", "IANA time zone or fixed offset."
            => Datum::Str(&s.facts.timezone);
        "stateful": "bool", "Whether the service keeps state."
            => Datum::Bool(s.facts.stateful);
        "regions": "list<string>", "Regions it runs in." => strs(&s.facts.regions);
        "paths": "list<string>",
            "Globs of the repository paths that belong to the service: a changed file \
             they match names the service in its `services`."
            => strs(&s.facts.paths);
    }

    Calendar(c: &'a Calendar), "Change freezes.", from Calendar {
        "freezes": "list<Freeze>", "Freezes." => nodes(&c.freezes, Node::Freeze);
    }

    Freeze(f: &'a Freeze), "A change freeze: `start <= t < end`.", from Freeze {
        "name": "string", "The name." => Datum::Str(&f.name);
        "start": "timestamp", "Start, inclusive." => Datum::Time(f.start);
        "end": "timestamp", "End, exclusive." => Datum::Time(f.end);
        "scope": "FreezeScope", "What it applies to."
            => Datum::Node(Node::FreezeScope(&f.scope));
    }

    FreezeScope(s: &'a FreezeScope), "What a freeze applies to.", from FreezeScope {
        "tiers": "list<int>", "Service tiers."
            => Datum::List(s.tiers.iter().map(|t| Datum::Int(*t)).collect());
        "environments": "list<string>", "Deployment environments." => strs(&s.environments);
    }
}

/// The calendar of a change given no freezes.
static EMPTY_CALENDAR: Calendar = Calendar {
    freezes: Vec::new(),
};
