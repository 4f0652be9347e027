//! How long the GitHub source takes to build the change of a large pull request:
//! 3,000 files (the most `pulls/{n}/files` lists) with patches, 250 commits and 300
//! reviews, saved as `gh api --paginate` writes them (pages of 100), read from files.
//! Prints the median and the minimum of the rounds; the figures are in
//! `docs/benchmarks.md`.

#![allow(clippy::expect_used)]

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use warden_change::Time;
use warden_sources::github;

const FILES: usize = 3000;
const COMMITS: usize = 250;
const REVIEWS: usize = 300;
const PAGE: usize = 100;
const ROUNDS: usize = 50;

fn sha(n: usize) -> String {
    format!("{n:040x}")
}

/// `items` as `gh api --paginate` prints them: pages of [`PAGE`], one after another.
fn pages(items: &[String]) -> String {
    items
        .chunks(PAGE)
        .map(|page| format!("[{}]\n", page.join(",")))
        .collect()
}

fn write_fixture(dir: &Path) {
    let head = sha(COMMITS);
    let user =
        |login: &str| format!(r#"{{"login":"{login}","id":1,"type":"User","site_admin":false}}"#);
    std::fs::create_dir_all(dir.join("api")).expect("fixture directory");
    let event = format!(
        r#"{{"action":"synchronize","number":1,"pull_request":{{"number":1,"title":"Large change","body":"","draft":false,
        "user":{},"labels":[{{"name":"big"}}],
        "head":{{"ref":"topic","sha":"{head}","repo":{{"full_name":"acme/shop"}}}},
        "base":{{"ref":"main","sha":"{}","repo":{{"full_name":"acme/shop"}}}},
        "commits":{COMMITS},"changed_files":{FILES}}},
        "repository":{{"full_name":"acme/shop","custom_properties":{{"tier":"1"}}}},"sender":{}}}"#,
        user("alice"),
        sha(0),
        user("alice")
    );
    std::fs::write(dir.join("event.json"), event).expect("event");
    let files: Vec<String> = (0..FILES)
        .map(|i| {
            let mut patch = format!("@@ -1,6 +1,7 @@ fn f{i}() {{");
            for line in 0..6 {
                write!(patch, "\\n-    let old_{line} = compute({line});\\n+    let new_{line} = compute({line} + 1);").expect("string");
            }
            format!(
                r#"{{"sha":"{}","filename":"services/svc-{}/src/module_{i}.rs","status":"modified","additions":7,"deletions":6,"changes":13,
                "blob_url":"https://github.com/acme/shop/blob/{head}/f{i}","raw_url":"https://github.com/acme/shop/raw/{head}/f{i}",
                "contents_url":"https://api.github.com/repos/acme/shop/contents/f{i}?ref={head}","patch":"{patch}"}}"#,
                sha(i + 10_000),
                i % 12
            )
        })
        .collect();
    std::fs::write(dir.join("api/files.json"), pages(&files)).expect("files");
    let commits: Vec<String> = (1..=COMMITS)
        .map(|i| {
            format!(
                r#"{{"sha":"{}","commit":{{"author":{{"name":"Alice","email":"alice@acme.example","date":"2026-11-25T10:00:00Z"}},
                "committer":{{"name":"Alice","email":"alice@acme.example","date":"2026-11-25T10:00:00Z"}},
                "message":"Change {i}\n\nWhy it changes.\n\nBug: ACME-{i}\nChange: CHG-{i}",
                "verification":{{"verified":true,"reason":"valid","signature":"-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----","payload":"tree"}}}},
                "author":{},"committer":{},"parents":[{{"sha":"{}"}}]}}"#,
                sha(i),
                user("alice"),
                user("alice"),
                sha(i - 1)
            )
        })
        .collect();
    std::fs::write(dir.join("api/commits.json"), pages(&commits)).expect("commits");
    let states = [
        "COMMENTED",
        "APPROVED",
        "CHANGES_REQUESTED",
        "COMMENTED",
        "DISMISSED",
    ];
    let reviews: Vec<String> = (0..REVIEWS)
        .map(|i| {
            format!(
                r#"{{"id":{i},"user":{},"body":"Review {i}.","state":"{}","html_url":"https://github.com/acme/shop/pull/1#pullrequestreview-{i}",
                "submitted_at":"2026-11-25T{:02}:{:02}:00Z","commit_id":"{}","author_association":"MEMBER"}}"#,
                user(&format!("reviewer-{}", i % 40)),
                states[(i / 40) % states.len()],
                11 + i / 60,
                i % 60,
                sha(1 + i % COMMITS)
            )
        })
        .collect();
    std::fs::write(dir.join("api/reviews.json"), pages(&reviews)).expect("reviews");
    let runs: Vec<String> = (0..20)
        .map(|i| {
            format!(
                r#"{{"id":{i},"head_sha":"{head}","status":"completed","conclusion":"success","started_at":"2026-11-25T10:01:00Z",
                "name":"check-{i}","app":{{"id":15368,"slug":"github-actions"}}}}"#
            )
        })
        .collect();
    std::fs::write(
        dir.join("api/check-runs.json"),
        format!(r#"{{"total_count":20,"check_runs":[{}]}}"#, runs.join(",")),
    )
    .expect("check runs");
}

fn main() {
    let dir = std::env::temp_dir().join(format!("warden-github-bench-{}", std::process::id()));
    write_fixture(&dir);
    let size: u64 = [
        "event.json",
        "api/files.json",
        "api/commits.json",
        "api/reviews.json",
        "api/check-runs.json",
    ]
    .iter()
    .map(|name| std::fs::metadata(dir.join(name)).map_or(0, |m| m.len()))
    .sum();
    let options = github::Options {
        event: dir.join("event.json"),
        api: Some(dir.join("api")),
    };
    let at = Time::parse("2026-11-25T18:00:00Z").expect("time");
    let change = github::build(&options, at).expect("the generated pull request converts");
    let counts = (
        change.files.len(),
        change.commits.len(),
        change.reviews.len(),
    );
    let mut times: Vec<Duration> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            let change = github::build(&options, at);
            let elapsed = start.elapsed();
            drop(std::hint::black_box(change));
            elapsed
        })
        .collect();
    times.sort();
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "github pull request: {} files, {} commits, {} reviews kept of {REVIEWS} ({:.1} MB saved): \
         median {:.2} ms, min {:.2} ms over {ROUNDS} rounds",
        counts.0,
        counts.1,
        counts.2,
        size as f64 / 1e6,
        times[ROUNDS / 2].as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
    );
}
