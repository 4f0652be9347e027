//! The typed, zero-copy view of a change that the evaluator reads: the records of
//! `docs/change-model.md` ([`RECORDS`]), nodes that point into the [`Change`], and
//! field access by index, with principals and services resolved and the derived fields
//! (`latest_reviews`, `services`, `message`, `co_authors`, …) computed. The records,
//! [`Node`] and [`View::field`] are expanded from the declaration in `records.rs`;
//! this module holds what the accessors there call.

use std::cell::OnceCell;
use std::collections::{HashMap, HashSet};

use indexmap::IndexMap;

use crate::model::{
    Change, Commit, Ids, Incident, Override, Person, PrincipalFacts, Review, ServiceFacts,
    Signature, Trailer,
};
pub use crate::records::{INPUTS, Node, RECORDS};
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

/// Where a record's fields come from in the JSON: one entry per record of
/// [`RECORDS`], in the same order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InputFields {
    /// The serde type in [`crate::model`] the record is read from (`File`,
    /// `PrincipalFacts`, …).
    pub input: &'static str,
    /// For each field of the record, the JSON field it reads; `None` for a field the
    /// view computes (`latest_reviews`, `message`, …).
    pub fields: &'static [Option<&'static str>],
    /// JSON fields of the input that are no field of the record (`Change.principals`:
    /// policies read principals through the fields that name them).
    pub input_only: &'static [&'static str],
}

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

impl Node<'_> {
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

    /// The principal id of the change's author: `author` itself, else — for a producer
    /// that knows only an e-mail, such as the git source — the id of the principal with
    /// that e-mail.
    pub fn author_id(&self) -> &'a str {
        let author = self.change.author.as_str();
        if self.change.principals.contains_key(author) {
            return author;
        }
        self.by_email()
            .get(&author.to_ascii_lowercase())
            .copied()
            .unwrap_or(author)
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

    pub(crate) fn opt_principal(&self, id: &'a Option<String>) -> Datum<'a> {
        id.as_deref()
            .map_or(Datum::Null, |id| Datum::Node(self.principal(id)))
    }

    /// `Change.latest_reviews` of `c`.
    pub(crate) fn latest_reviews_of(&self, c: &'a Change) -> Datum<'a> {
        if !std::ptr::eq(c, self.change) {
            return View::new(c).latest_reviews_of(c);
        }
        let reviews = self.latest_reviews().iter();
        Datum::List(reviews.map(|r| Datum::Node(Node::Review(r))).collect())
    }

    /// `Change.services` of `c`.
    pub(crate) fn services_of(&self, c: &'a Change) -> Datum<'a> {
        if !std::ptr::eq(c, self.change) {
            return View::new(c).services_of(c);
        }
        let known = self.services().known.iter();
        Datum::List(known.map(|s| Datum::Node(Node::Service(*s))).collect())
    }

    /// `Change.service_names` of `c`.
    pub(crate) fn service_names_of(&self, c: &'a Change) -> Datum<'a> {
        if !std::ptr::eq(c, self.change) {
            return View::new(c).service_names_of(c);
        }
        Datum::List(
            self.services()
                .names
                .iter()
                .map(|s| Datum::Str(s))
                .collect(),
        )
    }

    /// `Commit.co_authors`: a person per `Co-authored-by` trailer.
    pub(crate) fn co_authors(&self, c: &'a Commit) -> Datum<'a> {
        let trailers = co_author_trailers(c);
        Datum::List(
            trailers
                .map(|t| Datum::Node(Node::Person(PersonSource::CoAuthor(t))))
                .collect(),
        )
    }

    /// `Person.principal`: the id given, else the principal of the e-mail.
    pub(crate) fn person_principal(&self, source: PersonSource<'a>) -> Datum<'a> {
        let person = source.person();
        match person.principal {
            Some(id) => Datum::Node(self.principal(id)),
            None => self
                .principal_by_email(person.email)
                .map_or(Datum::Null, Datum::Node),
        }
    }

    /// `Signature.signer`: the signer given, else the owner of the key.
    pub(crate) fn signer(&self, s: &'a Signature) -> Datum<'a> {
        match (&s.signer, &s.key) {
            (Some(_), _) | (None, None) => self.opt_principal(&s.signer),
            (None, Some(key)) => self.principal_by_key(key).unwrap_or(Datum::Null),
        }
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
    pub(crate) fn override_incident(&self, o: &'a Override) -> Option<&'a Incident> {
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

pub(crate) fn strs(list: &[String]) -> Datum<'_> {
    Datum::List(list.iter().map(|s| Datum::Str(s)).collect())
}

pub(crate) fn nodes<'a, T>(list: &'a [T], node: fn(&'a T) -> Node<'a>) -> Datum<'a> {
    Datum::List(list.iter().map(|x| Datum::Node(node(x))).collect())
}

pub(crate) fn opt_str(value: &Option<String>) -> Datum<'_> {
    value.as_deref().map_or(Datum::Null, Datum::Str)
}

pub(crate) fn opt_time<'a>(value: Option<Time>) -> Datum<'a> {
    value.map_or(Datum::Null, Datum::Time)
}

pub(crate) fn opt_node<'a, T>(value: &'a Option<T>, node: fn(&'a T) -> Node<'a>) -> Datum<'a> {
    value.as_ref().map_or(Datum::Null, |x| Datum::Node(node(x)))
}
