//! `warden generate`: writes a synthetic, deterministic workload for `warden bench` — a
//! policy of N rules written the way people write them (path globs, `touches`, suffix
//! globs, author teams, labels, commit trailers, line-count thresholds, service tiers),
//! a pull request with F files spread over the globs' directories so that a few rules
//! fire and most do not, and the fact files (principals in teams, services with tiers).
//!
//! Output: `<out>/policy/generated.warden`, `<out>/change.json`, `<out>/facts.json`.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::{Value, json};

/// A small xorshift64* generator: deterministic for a seed, no dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        // Mix the seed so that 0, 1, 2 … give unrelated streams (and never the zero state).
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Rng(if z == 0 { 0x2545_F491_4F6C_DD1D } else { z })
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (`n > 0`; the modulo bias is irrelevant here).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn hex(&mut self, digits: usize) -> String {
        let mut out = String::with_capacity(digits);
        while out.len() < digits {
            let _ = write!(out, "{:016x}", self.next());
        }
        out.truncate(digits);
        out
    }
}

/// The sizes of the generated world, derived from the rule and file counts.
struct World {
    rules: usize,
    files: usize,
    /// Services `svc-0` … : each has a directory `services/svc-K/`.
    services: usize,
    /// The few services most of the change's files are in (most rules name others).
    hot: Vec<usize>,
    /// A dozen services a few files of the change are in.
    warm: Vec<usize>,
    teams: usize,
    users: usize,
    labels: usize,
}

/// File extensions of the change's files; `ABSENT_EXTENSIONS` appear only in rules.
const EXTENSIONS: [&str; 6] = ["rs", "go", "yaml", "sql", "md", "json"];
const ABSENT_EXTENSIONS: [&str; 6] = ["proto", "tf", "java", "kt", "swift", "graphql"];
/// Trailer keys of the change's commits; the others appear only in rules.
const TRAILER_KEYS: [&str; 4] = ["Bug", "Change", "Reviewed-by", "Signed-off-by"];
const ABSENT_TRAILER_KEYS: [&str; 4] = [
    "Security-Review",
    "Breaking-Change",
    "Rollback-Plan",
    "Risk",
];
const SUBDIRS: [&str; 5] = ["src", "config", "migrations", "api", "docs"];
const TIMEZONES: [&str; 4] = [
    "America/Los_Angeles",
    "America/New_York",
    "Europe/Dublin",
    "Asia/Singapore",
];
const REGIONS: [&str; 4] = ["us-east-1", "us-west-2", "eu-west-1", "ap-south-1"];

impl World {
    fn new(rules: usize, files: usize, rng: &mut Rng) -> World {
        let services = (rules / 4).max(36);
        // 18 distinct services: a partial Fisher–Yates shuffle of `0..services`.
        let mut all: Vec<usize> = (0..services).collect();
        for i in 0..18 {
            let j = i + rng.below(services - i);
            all.swap(i, j);
        }
        let mut chosen = all;
        chosen.truncate(18);
        let warm = chosen.split_off(6);
        let hot = chosen;
        let teams = (rules / 20).max(8);
        World {
            rules,
            files,
            services,
            hot,
            warm,
            teams,
            users: (teams * 2).max(20),
            labels: (rules / 10).max(20),
        }
    }

    fn team(&self, rng: &mut Rng) -> String {
        format!("team-{}", rng.below(self.teams))
    }

    fn service(&self, rng: &mut Rng) -> usize {
        rng.below(self.services)
    }
}

/// Writes the workload; returns the process exit code.
pub fn run(rules: usize, files: usize, seed: u64, out: &Path) -> i32 {
    let mut rng = Rng::new(seed);
    let world = World::new(rules.max(1), files.max(1), &mut rng);
    let policy = policy(&world, &mut rng);
    let change = change(&world, &mut rng);
    let facts = facts(&world, &mut rng);
    let policy_dir = out.join("policy");
    if let Err(error) = std::fs::create_dir_all(&policy_dir) {
        return crate::fail(format!("cannot create `{}`: {error}", policy_dir.display()));
    }
    let outputs = [
        (policy_dir.join("generated.warden"), policy),
        (out.join("change.json"), pretty(&change)),
        (out.join("facts.json"), pretty(&facts)),
    ];
    for (path, text) in &outputs {
        if let Err(error) = std::fs::write(path, text) {
            return crate::fail(format!("cannot write `{}`: {error}", path.display()));
        }
    }
    let summary = format!(
        "wrote {} ({} rules), {} ({} files), {}\n",
        outputs[0].0.display(),
        world.rules,
        outputs[1].0.display(),
        world.files,
        outputs[2].0.display()
    );
    match crate::print("the summary", &summary) {
        Ok(()) => crate::exit::ALLOW,
        Err(code) => code,
    }
}

fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

// ---------------------------------------------------------------- policy

fn policy(world: &World, rng: &mut Rng) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "//! Generated by `warden generate --rules {} --files {}`: a synthetic policy for\n\
         //! benchmarks. Every rule guards one concern of one team.\n",
        world.rules, world.files
    );
    out.push_str("import std.changes\n\n");
    for index in 0..world.rules {
        out.push_str(&rule(world, rng, index));
        out.push('\n');
    }
    out
}

/// One rule: a condition of one of eight kinds, a demand, sometimes a message.
fn rule(world: &World, rng: &mut Rng, index: usize) -> String {
    let kind = rng.below(8);
    let svc = world.service(rng);
    let team = world.team(rng);
    let mut lets: Vec<String> = Vec::new();
    let (tag, doc, when) = match kind {
        0 => {
            let sub = rng.pick(&SUBDIRS);
            if rng.chance(50) {
                (
                    "paths",
                    format!("Changes to svc-{svc} need its owners."),
                    format!(
                        "change.files.any(f => f.path matches glob(\"services/svc-{svc}/**\"))"
                    ),
                )
            } else {
                (
                    "paths",
                    format!("Changes to the {sub} of svc-{svc}."),
                    format!(
                        "change.files.any(f => f.path matches glob(\"services/svc-{svc}/{sub}/**\"))"
                    ),
                )
            }
        }
        1 => {
            // Another service: the same one twice would be a `covered-glob` warning.
            let other = (svc + 1 + rng.below(world.services - 1)) % world.services;
            lets.push(format!(
                "let touched = change.files.filter(f => f.touches(glob(\"services/svc-{svc}/config/**\", \"services/svc-{other}/config/**\")))"
            ));
            (
                "touches",
                format!("Configuration of svc-{svc} and svc-{other}."),
                "touched.len() > 0".to_string(),
            )
        }
        2 => {
            let ext = if rng.chance(30) {
                rng.pick(&EXTENSIONS)
            } else {
                rng.pick(&ABSENT_EXTENSIONS)
            };
            if rng.chance(50) {
                (
                    "suffix",
                    format!("`.{ext}` files anywhere in the repository."),
                    format!(
                        "changes.is_code_change(change) and change.files.any(f => f.path matches glob(\"**/*.{ext}\")) and \"{team}\" in change.author.teams"
                    ),
                )
            } else {
                (
                    "suffix",
                    format!("`.{ext}` files of svc-{svc}."),
                    format!(
                        "change.files.any(f => f.path matches glob(\"services/svc-{svc}/**/*.{ext}\"))"
                    ),
                )
            }
        }
        3 => (
            "author",
            format!("Changes authored by {team}."),
            format!("\"{team}\" in change.author.teams and not change.draft"),
        ),
        4 => {
            let label = rng.below(world.labels);
            (
                "label",
                format!("Changes labelled label-{label}."),
                format!("change.labels.contains(\"label-{label}\")"),
            )
        }
        5 => {
            let key = if rng.chance(40) {
                rng.pick(&TRAILER_KEYS)
            } else {
                rng.pick(&ABSENT_TRAILER_KEYS)
            };
            if rng.chance(50) {
                (
                    "trailer",
                    format!("Commits carrying a `{key}` trailer."),
                    format!("change.commits.any(c => c.trailers.any(t => t.key == \"{key}\"))"),
                )
            } else {
                let value = rng.below(50);
                (
                    "trailer",
                    format!("Commits referencing {key} {value}."),
                    format!(
                        "change.commits.any(c => c.trailers.any(t => t.key == \"{key}\" and t.value.starts_with(\"{}-{value}\")))",
                        key.to_uppercase()
                    ),
                )
            }
        }
        6 => {
            if rng.chance(50) {
                // The change has about 60 lines per file: a few rules fire.
                let limit = rng.range(1, 40) * world.files.div_ceil(100) * 1000;
                lets.push(
                    "let lines = change.files.sum(f => f.additions + f.deletions)".to_string(),
                );
                (
                    "size",
                    format!("Changes over {limit} lines."),
                    format!("lines > {limit}"),
                )
            } else {
                let limit = rng.range(1, 40) * world.files.div_ceil(100) * 100;
                lets.push(format!(
                    "let lines = change.files.filter(f => f.path matches glob(\"services/svc-{svc}/**\")).sum(f => f.additions + f.deletions)"
                ));
                (
                    "size",
                    format!("Large changes to svc-{svc} (over {limit} lines)."),
                    format!("lines > {limit}"),
                )
            }
        }
        _ => {
            let tier = rng.below(3);
            if rng.chance(50) {
                (
                    "tier",
                    format!("Tier-{tier} services owned by {team}."),
                    format!("change.services.any(s => s.tier <= {tier} and s.owner == \"{team}\")"),
                )
            } else {
                let label = rng.below(world.labels);
                (
                    "tier",
                    format!("Tier-{tier} changes labelled label-{label}."),
                    format!(
                        "changes.touches_tier(change, {tier}) and change.labels.contains(\"label-{label}\")"
                    ),
                )
            }
        }
    };
    let demand = demand(world, rng, &team);
    let mut out = format!("/// {doc}\nrule r{index:05}_{tag}");
    if rng.chance(5) {
        out.push_str(" advisory");
    }
    out.push_str(" {\n");
    for binding in &lets {
        let _ = writeln!(out, "  {binding}");
    }
    let _ = writeln!(out, "  when {when}");
    let _ = writeln!(out, "  {demand}");
    if rng.chance(40) {
        let message = match kind {
            6 => "{lines} changed lines".to_string(),
            1 => "{touched.len()} configuration files changed".to_string(),
            _ => format!("{}: {team} must review", doc.trim_end_matches('.')),
        };
        let _ = writeln!(out, "  message \"{message}\"");
    }
    out.push_str("}\n");
    out
}

fn demand(world: &World, rng: &mut Rng, team: &str) -> String {
    match rng.below(10) {
        0..=3 => format!("require 1 approval from team(\"{team}\")"),
        4 => {
            let other = world.team(rng);
            format!("require 2 approvals from team(\"{team}\") + team(\"{other}\") where (approver.level ?? 0) >= 5")
        }
        5 => format!("deny \"not allowed without {team}\" unless 1 approval from team(\"{team}\")"),
        6 => "deny \"this change is not allowed\"".to_string(),
        7 => "require change.links.tickets.len() > 0 else \"link a ticket\"".to_string(),
        8 => "require change.description.len() >= 20 else \"describe the change (20 characters or more)\"".to_string(),
        _ => "require change.threads.unresolved == 0 else \"resolve every review thread\"".to_string(),
    }
}

// ---------------------------------------------------------------- change

fn change(world: &World, rng: &mut Rng) -> Value {
    let author = "user-0";
    let mut files = Vec::with_capacity(world.files);
    for index in 0..world.files {
        let ext = rng.pick(&EXTENSIONS);
        // 70% of the files are in the few services the change is about, 25% in shared
        // libraries no rule names, 5% in a dozen other services.
        let roll = rng.below(20);
        let (path, owners, services) = if (14..19).contains(&roll) {
            let lib = rng.below(40);
            (
                format!("libs/lib-{lib}/src/m{}/file_{index}.{ext}", index % 17),
                vec![format!("team-{}", lib % world.teams)],
                vec![],
            )
        } else {
            let svc = if roll < 14 {
                *rng.pick(&world.hot)
            } else {
                *rng.pick(&world.warm)
            };
            let sub = rng.pick(&SUBDIRS);
            (
                format!(
                    "services/svc-{svc}/{sub}/m{}/file_{index}.{ext}",
                    index % 13
                ),
                vec![format!("team-{}", svc % world.teams)],
                vec![format!("svc-{svc}")],
            )
        };
        let renamed = rng.chance(3);
        let previous = if renamed {
            Value::String(format!("{path}.old"))
        } else {
            Value::Null
        };
        let status = if renamed {
            "renamed"
        } else {
            *rng.pick(&["modified", "modified", "modified", "added", "removed"])
        };
        files.push(json!({
            "path": path,
            "previous_path": previous,
            "status": status,
            "additions": rng.range(0, 80),
            "deletions": rng.range(0, 40),
            "binary": false,
            "generated": rng.chance(2),
            "owners": owners,
            "services": services,
        }));
    }
    let base = rng.hex(40);
    let mut parent = base.clone();
    let mut commits = Vec::new();
    let count = rng.range(3, 6);
    for index in 0..count {
        let sha = rng.hex(40);
        let mut trailers =
            vec![json!({ "key": "Change", "value": format!("CHANGE-{}", rng.below(50)) })];
        if rng.chance(50) {
            trailers.push(json!({ "key": "Bug", "value": format!("BUG-{}", rng.below(50)) }));
        }
        if index == count - 1 {
            trailers
                .push(json!({ "key": "Signed-off-by", "value": "User Zero <user-0@example.com>" }));
        }
        commits.push(json!({
            "sha": sha,
            "parents": [parent],
            "author": { "principal": author, "email": "user-0@example.com" },
            "committer": { "principal": author, "email": "user-0@example.com" },
            "subject": format!("Part {} of the change", index + 1),
            "body": "Synthetic commit.",
            "trailers": trailers,
            "signature": { "state": "verified", "type": "ssh", "signer": author },
            "pushed_at": format!("2026-11-25T1{index}:00:00Z"),
            "pushed_by": author,
        }));
        parent = sha;
    }
    let head = parent;
    let mut reviews = Vec::new();
    for index in 0..rng.range(3, 5) {
        let reviewer = 1 + rng.below(world.users - 1);
        let state = if index == 0 { "commented" } else { "approved" };
        reviews.push(json!({
            "reviewer": format!("user-{reviewer}"),
            "state": state,
            "commit": head,
            "submitted_at": format!("2026-11-25T17:{:02}:00Z", 10 + index),
            "dismissed": false,
            "body": "",
        }));
    }
    let mut labels = vec!["generated".to_string()];
    for _ in 0..3 {
        labels.push(format!("label-{}", rng.below(world.labels)));
    }
    json!({
        "schema": "warden.change/v1",
        "kind": "pull_request",
        "id": "github:example/monorepo#1",
        "evaluated_at": "2026-11-25T18:00:00Z",
        "repository": { "name": "example/monorepo", "properties": {} },
        "title": format!("Synthetic change of {} files", world.files),
        "description": "A generated pull request for benchmarks.",
        "draft": false,
        "labels": labels,
        "source": { "ref": "user-0/generated", "fork": false },
        "target": { "ref": "main", "protected": true },
        "revisions": { "base": base, "head": head },
        "author": author,
        "files": files,
        "commits": commits,
        "reviews": reviews,
        "threads": { "unresolved": 0 },
        "checks": [
            { "name": "build", "app": "github-actions", "commit": head, "status": "completed", "conclusion": "success" }
        ],
        "infra_plans": [],
        "deployment": null,
        "links": { "tickets": [], "incidents": [], "docs": [] },
        "overrides": [],
    })
}

// ---------------------------------------------------------------- facts

fn facts(world: &World, rng: &mut Rng) -> Value {
    let mut principals = serde_json::Map::new();
    for index in 0..world.users {
        let mut teams = vec![format!("team-{}", index % world.teams)];
        for _ in 0..rng.below(3) {
            let team = world.team(rng);
            if !teams.contains(&team) {
                teams.push(team);
            }
        }
        principals.insert(
            format!("user-{index}"),
            json!({
                "kind": "human",
                "name": format!("User {index}"),
                "email": format!("user-{index}@example.com"),
                "teams": teams,
                "level": rng.range(3, 8),
                "timezone": rng.pick(&TIMEZONES),
            }),
        );
    }
    let mut services = serde_json::Map::new();
    for index in 0..world.services {
        let regions: Vec<&str> = REGIONS
            .iter()
            .copied()
            .take(1 + rng.below(REGIONS.len()))
            .collect();
        services.insert(
            format!("svc-{index}"),
            json!({
                "tier": rng.below(4),
                "plane": if rng.chance(10) { "control" } else { "data" },
                "owner": format!("team-{}", index % world.teams),
                "oncall": "oncall",
                "timezone": rng.pick(&TIMEZONES),
                "stateful": rng.chance(30),
                "regions": regions,
            }),
        );
    }
    json!({ "principals": principals, "services": services })
}
