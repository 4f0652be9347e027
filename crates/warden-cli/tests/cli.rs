//! End-to-end tests of the `warden` binary.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn warden(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the warden binary runs")
}

/// A fresh directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir =
            std::env::temp_dir().join(format!("warden-cli-{name}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the temp dir");
        TempDir(dir)
    }

    fn path(&self, relative: &str) -> String {
        self.0.join(relative).display().to_string()
    }

    /// Writes `contents` to `relative` and returns its path.
    fn write(&self, relative: &str, contents: impl AsRef<[u8]>) -> String {
        let path = self.path(relative);
        std::fs::write(&path, contents).expect("write a test file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `warden` and asserts its exit code; its standard output and error.
fn warden_exits(args: &[&str], code: i32) -> (String, String) {
    let output = warden(args);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(code), "{stderr}");
    (text(&output.stdout), stderr)
}

fn generate(dir: &TempDir, seed: &str) {
    let out = dir.path("");
    let output = warden(&[
        "generate", "--rules", "30", "--files", "40", "--seed", seed, "--out", &out,
    ]);
    assert!(
        output.status.success(),
        "generate failed: {}",
        text(&output.stderr)
    );
}

#[test]
fn generated_workload_checks_and_evaluates() {
    let dir = TempDir::new("generate");
    generate(&dir, "3");
    for file in ["policy/generated.warden", "change.json", "facts.json"] {
        assert!(
            Path::new(&dir.path(file)).is_file(),
            "{file} was not written"
        );
    }

    let check = warden(&["check", &dir.path("policy")]);
    assert_eq!(
        check.status.code(),
        Some(0),
        "check failed:\n{}",
        text(&check.stderr)
    );

    let eval = warden(&[
        "eval",
        "--policy",
        &dir.path("policy"),
        "--change",
        &dir.path("change.json"),
        "--facts",
        &dir.path("facts.json"),
    ]);
    let code = eval.status.code();
    assert!(
        matches!(code, Some(0 | 3 | 4)),
        "eval exited with {code:?}:\n{}\n{}",
        text(&eval.stdout),
        text(&eval.stderr)
    );
    assert!(
        !text(&eval.stderr).contains("warning"),
        "the generated input has warnings:\n{}",
        text(&eval.stderr)
    );
}

#[test]
fn generate_is_deterministic_for_a_seed() {
    let first = TempDir::new("seed-a");
    let second = TempDir::new("seed-b");
    generate(&first, "11");
    generate(&second, "11");
    for file in ["policy/generated.warden", "change.json", "facts.json"] {
        let a = std::fs::read(first.path(file)).expect("read the first workload");
        let b = std::fs::read(second.path(file)).expect("read the second workload");
        assert!(a == b, "{file} differs between two runs with the same seed");
    }
}

#[test]
fn bench_names_the_three_measurements() {
    let dir = TempDir::new("bench");
    generate(&dir, "5");
    let common = [
        "bench",
        "--policy",
        &dir.path("policy"),
        "--change",
        &dir.path("change.json"),
        "--facts",
        &dir.path("facts.json"),
        "--rounds",
        "3",
    ];
    let human = warden(&common);
    assert_eq!(
        human.status.code(),
        Some(0),
        "bench failed:\n{}",
        text(&human.stderr)
    );
    let stdout = text(&human.stdout);
    for name in [
        "load",
        "eval",
        "input+eval",
        "digest",
        "peak RSS",
        "verdict",
    ] {
        assert!(stdout.contains(name), "`{name}` missing from:\n{stdout}");
    }

    let mut json_args = common.to_vec();
    json_args.extend(["--format", "json"]);
    let json = warden(&json_args);
    assert_eq!(
        json.status.code(),
        Some(0),
        "bench --format json failed:\n{}",
        text(&json.stderr)
    );
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).expect("bench prints JSON");
    let names: Vec<&str> = value["measurements"]
        .as_array()
        .expect("a list of measurements")
        .iter()
        .map(|m| m["name"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(names, ["load", "eval", "input+eval", "digest"]);
    for m in value["measurements"].as_array().into_iter().flatten() {
        assert_eq!(m["rounds"], 3);
    }
    assert_eq!(value["rules"], 30);
}

#[test]
fn check_compiles_every_regex_that_evaluation_leaves_for_first_use() {
    let dir = TempDir::new("regex");
    let policy = dir.write(
        "policy.warden",
        "let huge = regex(\"\\\\w{1000}\\\\w{1000}\")\n\
         rule titled {\n  when change.title matches_regex huge\n  deny \"no\"\n}\n",
    );
    let (_, stderr) = warden_exits(&["check", &policy], 5);
    assert!(stderr.contains("is too large to compile"), "{stderr}");
    assert!(stderr.contains("policy.warden:1:18"), "{stderr}");
    assert!(stderr.contains("1 error"), "{stderr}");
}

#[test]
fn unreadable_input_is_an_error_that_says_where() {
    let dir = TempDir::new("unreadable");
    let policy = dir.write(
        "policy.warden",
        b"rule r {\n  when true\n  deny \"caf\xc3\xa9 \xff\"\n}\n",
    );
    let (_, stderr) = warden_exits(&["check", &policy], 5);
    assert!(
        stderr.contains("not UTF-8 text: the byte at line 3, column 14 (offset 35)"),
        "{stderr}"
    );

    // An endless input is cut off at the limit instead of being read until memory ends.
    #[cfg(unix)]
    {
        let policy = dir.write("policy.warden", "rule r {\n  when true\n  deny \"no\"\n}\n");
        let (_, stderr) = warden_exits(&["eval", "--policy", &policy, "--change", "/dev/zero"], 5);
        assert!(stderr.contains("larger than 256 MiB"), "{stderr}");
    }
}

/// Some editors start a UTF-8 file with a byte-order mark; it is not part of the text.
#[test]
fn a_leading_byte_order_mark_is_ignored_in_policies_and_inputs() {
    let dir = TempDir::new("byte-order-mark");
    let policy = dir.write(
        "policy.warden",
        b"\xef\xbb\xbfrule r {\n  when change.title == \"t\"\n  deny \"no\"\n}\n",
    );
    let change = dir.write(
        "change.json",
        b"\xef\xbb\xbf{\"schema\": \"warden.change/v1\", \"kind\": \"commit_range\",
            \"id\": \"x\", \"evaluated_at\": \"2026-11-26T10:00:00Z\",
            \"repository\": {\"name\": \"acme/shop\"}, \"title\": \"t\", \"author\": \"alice\",
            \"revisions\": {\"base\": \"a\", \"head\": \"b\"}, \"files\": [], \"commits\": []}",
    );
    let (stdout, _) = warden_exits(&["eval", "--policy", &policy, "--change", &change], 4);
    assert!(stdout.starts_with("deny"), "{stdout}");
    // Elsewhere than at the start, U+FEFF is text like any other: here, not a token.
    let policy = dir.write("policy.warden", "rule r {\n  \u{feff}deny \"no\"\n}\n");
    warden_exits(&["check", &policy], 5);
}

#[test]
fn an_input_error_found_after_parsing_names_the_file_and_path_without_a_line() {
    let dir = TempDir::new("after-parsing");
    let policy = dir.write("policy.warden", "rule r {\n  when true\n  deny \"no\"\n}\n");
    let change = dir.write(
        "change.json",
        r#"{"schema": "warden.change/v1", "kind": "pull_request", "id": "x#1",
            "evaluated_at": "2026-11-26T10:00:00Z", "repository": {"name": "acme/shop"},
            "title": "t", "author": "alice"}"#,
    );
    let (_, stderr) = warden_exits(&["eval", "--policy", &policy, "--change", &change], 5);
    assert!(
        stderr.contains(&format!(
            "{change}: a pull_request change needs `revisions` (`base` and `head`) at `$.revisions`"
        )),
        "{stderr}"
    );
}

/// A change that every policy can evaluate, from the examples.
fn example_change() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/acme/changes/deploy-router-freeze.json");
    std::fs::read_to_string(path).expect("read the example change")
}

#[cfg(unix)]
fn mkfifo(path: &str) {
    let status = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success(), "mkfifo {path}");
}

/// In CI the policy directory comes from the change under review: a link in it to a
/// file elsewhere (a secret) must not be read, and a named pipe must not hang the run.
#[cfg(unix)]
#[test]
fn a_policy_directory_refuses_links_out_of_it_and_special_files() {
    let dir = TempDir::new("policy-entries");
    std::fs::create_dir_all(dir.path("policy")).expect("create the policy dir");
    dir.write("secret.txt", "TOKEN=hunter2\n");
    dir.write("policy/a.warden", "rule r {\n  deny \"no\"\n}\n");
    let policy = dir.path("policy");
    let change = dir.write("change.json", example_change());
    let refused = |entry: &str, expected: &str| {
        for args in [
            vec!["check", &policy],
            vec!["eval", "--policy", &policy, "--change", &change],
        ] {
            let (stdout, stderr) = warden_exits(&args, 5);
            assert!(
                stderr.contains(&format!("error: cannot read `{entry}`: {expected}")),
                "{stderr}"
            );
            assert!(!stdout.contains("hunter2") && !stderr.contains("hunter2"));
        }
        std::fs::remove_file(dir.path(&format!("policy/{entry}"))).expect("remove the entry");
    };
    std::os::unix::fs::symlink("../secret.txt", dir.path("policy/leak.warden"))
        .expect("make the link");
    refused(
        "leak.warden",
        "it is a symbolic link to a file outside the policy directory, and Warden reads no \
         file outside it; copy the file into the policy directory",
    );
    mkfifo(&dir.path("policy/x.warden"));
    refused(
        "x.warden",
        "it is a named pipe, not a regular file: every `.warden` entry of a policy directory \
         is read as a policy file; rename or remove it",
    );
    warden_exits(&["check", &policy], 0);
}

/// What the user names on the command line is read whatever it is: the change from
/// standard input or a pipe (`--change <(…)`), the policy from a pipe.
#[cfg(unix)]
#[test]
fn inputs_named_on_the_command_line_may_be_pipes() {
    use std::io::Write as _;
    let dir = TempDir::new("pipes");
    let policy = dir.write("policy.warden", "rule r {\n  deny \"no\"\n}\n");
    let pipe = dir.path("change.pipe");
    mkfifo(&pipe);
    let writer = {
        let pipe = pipe.clone();
        std::thread::spawn(move || std::fs::write(pipe, example_change()))
    };
    let (stdout, _) = warden_exits(&["eval", "--policy", &policy, "--change", &pipe], 4);
    assert!(stdout.starts_with("deny"), "{stdout}");
    writer
        .join()
        .expect("the writer ends")
        .expect("write the change");

    let mut child = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(["eval", "--policy", &policy, "--change", "-"])
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the warden binary runs");
    child
        .stdin
        .take()
        .expect("its standard input")
        .write_all(example_change().as_bytes())
        .expect("write the change");
    let output = child.wait_with_output().expect("warden ends");
    assert_eq!(output.status.code(), Some(4));

    let policy_pipe = dir.path("policy.pipe");
    mkfifo(&policy_pipe);
    let writer = {
        let pipe = policy_pipe.clone();
        std::thread::spawn(move || std::fs::write(pipe, "rule r {\n  deny \"no\"\n}\n"))
    };
    let (_, stderr) = warden_exits(&["check", &policy_pipe], 0);
    assert!(stderr.contains("policy ok"), "{stderr}");
    writer
        .join()
        .expect("the writer ends")
        .expect("write the policy");
}

/// A report that cannot be written is an error (exit 5 and why), never a silent
/// success; diagnostics that cannot be written are exit 5, never a panic.
#[cfg(target_os = "linux")]
#[test]
fn a_failed_write_is_exit_code_5() {
    let dir = TempDir::new("dev-full");
    let policy = dir.write("policy.warden", "rule r {\n  deny \"no\"\n}\n");
    let change = dir.write("change.json", example_change());
    let full = || std::fs::File::create("/dev/full").expect("open /dev/full");
    for format in ["human", "json"] {
        let output = Command::new(env!("CARGO_BIN_EXE_warden"))
            .args([
                "eval", "--policy", &policy, "--change", &change, "--format", format,
            ])
            .stdout(full())
            .output()
            .expect("the warden binary runs");
        assert_eq!(output.status.code(), Some(5), "{format}");
        assert_eq!(
            text(&output.stderr),
            "error: cannot write the report to standard output: No space left on device (os \
             error 28)\n"
        );
    }
    let output = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(["check", "--error-format", "json", &policy])
        .stdout(full())
        .output()
        .expect("the warden binary runs");
    assert_eq!(output.status.code(), Some(5));
    assert!(text(&output.stderr).contains("cannot write the diagnostics to standard output"));
    // Human diagnostics go to standard error; when it is full, nothing can say why.
    let output = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(["check", &policy])
        .stderr(full())
        .output()
        .expect("the warden binary runs");
    assert_eq!(output.status.code(), Some(5));
}

/// A diagnostic on a line of one long string shows a window around the error, not
/// the line (a policy with a 45 MB string once echoed all of it).
#[test]
fn a_diagnostic_on_a_long_line_shows_a_window_of_it() {
    let dir = TempDir::new("long-line");
    let long = "z".repeat(1 << 20);
    let policy = dir.write(
        "policy.warden",
        format!("let long = [\"{long}\", 1, \"{long}\"]\nrule r {{\n  deny \"no\"\n}}\n"),
    );
    let (_, stderr) = warden_exits(&["check", &policy], 5);
    assert!(stderr.contains("policy.warden:1:1048593"), "{stderr}");
    assert!(stderr.contains("…zzz"), "{stderr}");
    assert!(
        stderr.len() < 2_000,
        "{} bytes of diagnostics",
        stderr.len()
    );
}

/// A file of `examples/acme`.
fn acme(relative: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/acme")
        .join(relative)
        .display()
        .to_string()
}

/// The acme pull request, with `edit` applied to its JSON.
fn acme_pull_request(edit: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>)) -> String {
    let text = std::fs::read_to_string(acme("changes/pr-ai-control-plane.json")).unwrap();
    let mut change: serde_json::Value = serde_json::from_str(&text).unwrap();
    edit(change.as_object_mut().unwrap());
    serde_json::to_string_pretty(&change).unwrap()
}

/// Fail closed: a change whose `files` is missing, or misspelt, is not a change of no
/// files; it is rejected before anything is evaluated.
#[test]
fn a_change_without_files_is_rejected() {
    let dir = TempDir::new("without-files");
    let policy = acme("policy");
    let eval = |change: &str, extra: &[&str]| {
        let mut args = vec!["eval", "--policy", &policy, "--change", change];
        args.extend(extra);
        warden_exits(&args, 5).1
    };
    let missing = dir.write(
        "missing.json",
        acme_pull_request(|change| {
            change.remove("files");
        }),
    );
    let stderr = eval(&missing, &[]);
    assert!(
        stderr.contains(&format!(
            "{missing}: a pull_request change needs `files`, a list (`[]` when there are none) at `$.files`"
        )),
        "{stderr}"
    );

    let misspelt = dir.write(
        "misspelt.json",
        acme_pull_request(|change| {
            let files = change.remove("files").unwrap();
            change.insert("fiels".to_owned(), files);
        }),
    );
    let stderr = eval(&misspelt, &[]);
    assert!(
        stderr.contains("unknown field `fiels`, did you mean `files`?"),
        "{stderr}"
    );
    // Allowed, the unknown field is ignored, and `files` is still missing.
    let stderr = eval(&misspelt, &["--allow-unknown-fields"]);
    assert!(stderr.contains("needs `files`"), "{stderr}");
}

#[test]
fn an_option_of_a_source_not_chosen_is_an_error() {
    let policy = acme("policy");
    let change = acme("changes/pr-ai-control-plane.json");
    let eval = |extra: &[&str]| {
        let mut args = vec!["eval", "--policy", &policy, "--change", &change];
        args.extend(extra);
        warden_exits(&args, 5)
    };
    let (stdout, stderr) = eval(&["--patch"]);
    assert_eq!(stdout, "", "no report when the command line is wrong");
    assert_eq!(
        stderr,
        "error: `--patch` is an option of `--git`, which is not given: remove it, or build the change from that source\n"
    );
    let (_, stderr) = eval(&["--repo", ".", "--github-api", "api"]);
    assert_eq!(
        stderr,
        "error: `--repo` is an option of `--git`, which is not given; `--github-api` is an option of \
         `--github-event`, which is not given: remove them, or build the change from those sources\n"
    );
}

#[test]
fn unknown_fields_are_errors_unless_allowed() {
    let dir = TempDir::new("unknown-fields");
    let policy = acme("policy");
    let change = dir.write(
        "change.json",
        acme_pull_request(|change| {
            change.insert("x_producer".to_owned(), serde_json::json!({ "build": 7 }));
        }),
    );
    for command in ["eval", "bench"] {
        let mut args = vec![command, "--policy", &policy, "--change", &change];
        if command == "bench" {
            args.extend(["--rounds", "1"]);
        }
        let (_, stderr) = warden_exits(&args, 5);
        assert!(stderr.contains("unknown field `x_producer`"), "{stderr}");
        args.push("--allow-unknown-fields");
        let output = warden(&args);
        assert!(output.status.code() != Some(5), "{}", text(&output.stderr));
        assert!(
            text(&output.stderr).contains("unknown field `x_producer`, ignored"),
            "{}",
            text(&output.stderr)
        );
    }
}

/// A principal given twice in a fact file would let the last one win, silently.
#[test]
fn a_principal_given_twice_is_an_error() {
    let dir = TempDir::new("duplicate-principal");
    let facts = dir.write(
        "org.json",
        "{\n  \"principals\": {\n    \"dave\": { \"kind\": \"human\", \"level\": 3 },\n    \
         \"dave\": { \"kind\": \"human\", \"level\": 9 }\n  }\n}\n",
    );
    let (_, stderr) = warden_exits(
        &[
            "eval",
            "--policy",
            &acme("policy"),
            "--change",
            &acme("changes/pr-ai-control-plane.json"),
            "--facts",
            &facts,
        ],
        5,
    );
    assert!(
        stderr.contains(&format!(
            "{facts}:4:5: the key `dave` is given twice (first at 3:5); an object gives each key once at `$.principals.dave`"
        )),
        "{stderr}"
    );
}

/// `--max-memory` takes a size with a unit or a number of bytes; a cap that runs out
/// makes the rules that could not finish errors (deny), naming the expression.
#[test]
fn max_memory_takes_a_size_and_fails_closed_when_spent() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/eval/memory-cap-exhausted-fails-closed");
    let file = |name: &str| fixture.join(name).display().to_string();
    let (policy, change, facts) = (
        file("policy.warden"),
        file("change.json"),
        file("facts.json"),
    );
    let eval = |size: &str, code: i32| {
        warden_exits(
            &[
                "eval",
                "--policy",
                &policy,
                "--change",
                &change,
                "--facts",
                &facts,
                "--max-memory",
                size,
            ],
            code,
        )
    };
    for size in ["1MiB", "1048576"] {
        let (stdout, _) = eval(size, 4);
        assert!(
            stdout.contains("the evaluation's memory cap of 1 MiB is exhausted in `l13 + l13`"),
            "{stdout}"
        );
    }
    let (_, stderr) = eval("1.5GB", 2);
    assert!(
        stderr.contains("`1.5GB` is not a size: write a whole number of bytes"),
        "{stderr}"
    );
}

// ------------------------------------------------------------------ the git source

/// Runs a fixture script of the git source (`crates/warden-sources/tests/data/`,
/// after its prelude) in `dir`: it builds a repository with the `git` binary and prints
/// the arguments of `warden change git` last, returned here with `--repo` under `dir`.
fn git_repository(dir: &TempDir, script: &str) -> Vec<String> {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../warden-sources/tests/data");
    let output = Command::new("sh")
        .arg("-euc")
        .arg(r#". "$0"; . "$1""#)
        .arg(data.join("git-prelude.sh"))
        .arg(data.join(script))
        .current_dir(&dir.0)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let mut arguments = vec!["--repo".to_string(), dir.path("")];
    let mut words = stdout.lines().last().unwrap().split_whitespace();
    while let Some(word) = words.next() {
        match word {
            "--repo" => arguments[1] = dir.path(words.next().unwrap()),
            _ => arguments.push(word.to_string()),
        }
    }
    arguments
}

/// `warden eval --policy examples/acme --git …` with `extra` options and acme's facts
/// (`org` instead of acme's directory when given); the exit code is checked.
fn eval_git(git: &[String], org: Option<&str>, code: i32, extra: &[&str]) -> String {
    let policy = acme("policy");
    let (services, calendar) = (acme("facts/services.json"), acme("facts/calendar.json"));
    let org = org.map_or_else(|| acme("facts/org.json"), str::to_string);
    let range = git.last().unwrap();
    let mut args = vec!["eval", "--policy", &policy, "--git", range];
    args.extend(git[..git.len() - 1].iter().map(String::as_str));
    args.extend([
        "--facts",
        &org,
        "--facts",
        &services,
        "--facts",
        &calendar,
        "--evaluated-at",
        "2026-11-24T03:00:00Z",
    ]);
    args.extend(extra);
    warden_exits(&args, code).0
}

/// The outcome of each rule of a JSON report, by name.
fn outcomes(report: &str) -> std::collections::BTreeMap<String, String> {
    let report: serde_json::Value = serde_json::from_str(report).unwrap();
    report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|rule| {
            (
                rule["name"].as_str().unwrap().to_string(),
                rule["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Acme's R05 from a git range: an `Assisted-by:` change to `control-plane/**` needs
/// two senior control-plane-sre approvals; its commits are unsigned, so R18 denies;
/// CODEOWNERS makes the control plane's owners (R07) approve too.
#[test]
fn eval_git_applies_acme_to_an_ai_change_of_the_control_plane() {
    let dir = TempDir::new("git-ai");
    let git = git_repository(&dir, "git/ai-control-plane.sh");
    let codeowners = dir.write(
        "CODEOWNERS",
        "*.md @acme/docs\n/control-plane/ @acme/control-plane-sre\n",
    );
    let report = eval_git(
        &git,
        None,
        4,
        &["--format", "json", "--codeowners", &codeowners],
    );
    let outcomes = outcomes(&report);
    assert_eq!(outcomes["owners_approve"], "pending", "{report}");
    assert!(
        report.contains("touches files owned by control-plane-sre: each group must approve"),
        "{report}"
    );
    assert_eq!(outcomes["ai_control_plane"], "pending", "{report}");
    assert_eq!(outcomes["signed_commits"], "violated", "{report}");
    assert_eq!(outcomes["required_checks"], "pending", "{report}");
    assert_eq!(outcomes["ticket_trailer"], "not_applicable", "{report}");
}

/// `warden change git -o FILE` writes exactly the change `warden eval --git` evaluates:
/// evaluating the file gives the same report, input digest included.
#[test]
fn change_git_writes_what_eval_git_evaluates() {
    let dir = TempDir::new("git-same");
    let git = git_repository(&dir, "git/ai-control-plane.sh");
    let change = dir.path("change.json");
    let mut args = vec![
        "change",
        "git",
        "-o",
        &change,
        "--evaluated-at",
        "2026-11-24T03:00:00Z",
    ];
    args.extend(git.iter().map(String::as_str));
    warden_exits(&args, 0);
    let from_git = eval_git(&git, None, 4, &[]);
    let (policy, org) = (acme("policy"), acme("facts/org.json"));
    let (services, calendar) = (acme("facts/services.json"), acme("facts/calendar.json"));
    let (from_file, _) = warden_exits(
        &[
            "eval", "--policy", &policy, "--change", &change, "--facts", &org, "--facts",
            &services, "--facts", &calendar,
        ],
        4,
    );
    assert_eq!(from_git, from_file);
    assert!(from_git.contains("input  sha256:"), "{from_git}");
}

/// R18 with SSH-signed commits: Alice's key is hers in the directory, so her commits
/// are verified by a member and only the checks are pending; Mallory's key and an
/// unsigned commit deny. Skipped, with a note, where `ssh-keygen` is missing.
#[test]
fn eval_git_verifies_ssh_signatures_through_the_directory() {
    if Command::new("ssh-keygen").arg("-?").output().is_err() {
        eprintln!("note: ssh-keygen is not installed; the SSH signing test is skipped");
        return;
    }
    let dir = TempDir::new("git-signed");
    let mut git = git_repository(&dir, "git-signed.sh");
    let fingerprint = std::fs::read_to_string(dir.path("alice.fingerprint")).unwrap();
    let mut org: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(acme("facts/org.json")).unwrap()).unwrap();
    org["principals"]["alice"]["signing_keys"] = serde_json::json!([fingerprint.trim()]);
    let org = dir.write("org.json", org.to_string());

    let report = eval_git(&git, Some(&org), 4, &["--format", "json"]);
    assert_eq!(outcomes(&report)["signed_commits"], "violated", "{report}");
    let json: serde_json::Value = serde_json::from_str(&report).unwrap();
    let denied = json["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "signed_commits")
        .unwrap()["message"]
        .as_str()
        .unwrap()
        .to_string();
    let revision = |name: &str| {
        let output = Command::new("git")
            .args(["-C", &dir.path(""), "rev-parse", name])
            .output()
            .unwrap();
        text(&output.stdout).trim().to_string()
    };
    // Mallory's commit and the unsigned one, not Alice's.
    assert!(denied.contains(&revision("head~1")), "{denied}");
    assert!(denied.contains(&revision("head")), "{denied}");
    assert!(!denied.contains(&revision("signed")), "{denied}");

    *git.last_mut().unwrap() = "base..signed".to_string();
    let report = eval_git(&git, Some(&org), 3, &["--format", "json"]);
    let outcomes = outcomes(&report);
    assert_eq!(outcomes["signed_commits"], "not_applicable", "{report}");
    assert_eq!(outcomes["required_checks"], "pending", "{report}");
}

/// A shallow clone without the base is an invalid input (exit 5) that says how to
/// fetch the history.
#[test]
fn eval_git_in_a_shallow_clone_says_how_to_fetch_the_base() {
    let dir = TempDir::new("git-shallow");
    let git = git_repository(&dir, "git/shallow.sh");
    let policy = acme("policy");
    let mut args = vec!["eval", "--policy", &policy, "--git", git.last().unwrap()];
    args.extend(git[..git.len() - 1].iter().map(String::as_str));
    let (_, stderr) = warden_exits(&args, 5);
    assert!(stderr.contains("is not in this shallow clone"), "{stderr}");
    assert!(stderr.contains("`fetch-depth: 0`"), "{stderr}");
}

/// The git source names the change's author by the head commit's e-mail; policies see
/// the directory's principal with that e-mail.
#[test]
fn eval_git_resolves_the_author_by_e_mail() {
    let dir = TempDir::new("git-author");
    let git = git_repository(&dir, "git/ai-control-plane.sh");
    let policy = dir.write(
        "author.warden",
        "rule author {\n  deny \"{change.author.id} of level {change.author.level ?? 0}\"\n}\n",
    );
    let org = acme("facts/org.json");
    let mut args = vec!["eval", "--policy", &policy, "--git", git.last().unwrap()];
    args.extend(git[..git.len() - 1].iter().map(String::as_str));
    args.extend(["--facts", &org, "--evaluated-at", "2026-11-24T03:00:00Z"]);
    let (stdout, _) = warden_exits(&args, 4);
    assert!(stdout.contains("dave of level 4"), "{stdout}");
}

// ---- In CI in one step: the GitHub Action (action.yml and action/*.sh, run against a
// fake `gh` serving recorded API responses), the GitLab template, the pre-commit hook,
// and `warden completions`.

mod in_ci {
    use super::{TempDir, text, warden_exits};
    use serde_json::Value;
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};
    use std::process::{Command, Output};

    /// The repository root: the action's own checkout (`github.action_path`).
    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .canonicalize()
            .unwrap()
    }

    /// The test data of the action: the event, the recorded responses, the fake `gh`.
    fn data(relative: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/action")
            .join(relative)
    }

    fn yaml(relative: &str) -> Value {
        let path = root().join(relative);
        let source = std::fs::read_to_string(&path).unwrap();
        serde_norway::from_str(&source).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn json(path: &Path) -> Value {
        serde_json::from_str(&std::fs::read_to_string(path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// The `key=value` lines a step wrote to `$GITHUB_OUTPUT`.
    fn outputs(file: &Path) -> BTreeMap<String, String> {
        std::fs::read_to_string(file)
            .unwrap_or_default()
            .lines()
            .map(|line| {
                let (key, value) = line.split_once('=').unwrap_or_else(|| panic!("{line}"));
                (key.to_owned(), value.to_owned())
            })
            .collect()
    }

    /// A runner's environment for a pull request of `event`, with the fake `gh` first
    /// on PATH; `gh` calls are logged to `gh.log` in `dir`.
    fn runner_env(dir: &TempDir, event: &Path, responses: &Path) -> Vec<(String, String)> {
        // The action's scripts (and the fake gh) need jq, as GitHub's runners have it.
        let jq = Command::new("jq").arg("--version").output();
        assert!(
            jq.is_ok_and(|out| out.status.success()),
            "these tests need `jq` on PATH, as the action does"
        );
        let path = format!(
            "{}:{}",
            data("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        std::fs::create_dir_all(dir.path("runner-temp")).unwrap();
        [
            ("PATH", path),
            ("GITHUB_EVENT_PATH", event.display().to_string()),
            ("GITHUB_EVENT_NAME", "pull_request".to_owned()),
            ("GITHUB_REPOSITORY", "Codertocat/Hello-World".to_owned()),
            ("GITHUB_SERVER_URL", "https://github.com".to_owned()),
            ("GITHUB_STEP_SUMMARY", dir.path("summary.md")),
            ("RUNNER_TEMP", dir.path("runner-temp")),
            ("FAKE_GH_LOG", dir.path("gh.log")),
            ("FAKE_GH_RESPONSES", responses.display().to_string()),
            ("NO_COLOR", "1".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// Runs one of the action's scripts as a step: its output, and what it wrote to
    /// `$GITHUB_OUTPUT`.
    fn script(
        name: &str,
        args: &[&str],
        env: &[(String, String)],
        dir: &TempDir,
    ) -> (Output, BTreeMap<String, String>) {
        let output_file = dir.path(&format!("{name}.output"));
        let _ = std::fs::remove_file(&output_file);
        let output = Command::new("bash")
            .arg(root().join("action").join(name))
            .args(args)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env("GITHUB_OUTPUT", &output_file)
            .output()
            .unwrap();
        (output, outputs(Path::new(&output_file)))
    }

    /// The calls made to the fake `gh`: each one's arguments and request body.
    fn gh_calls(dir: &TempDir) -> Vec<Value> {
        std::fs::read_to_string(dir.path("gh.log"))
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    fn args_of(call: &Value) -> Vec<&str> {
        call["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect()
    }

    /// What a composite action's step sees: `inputs`, the outputs of earlier steps,
    /// and the few `github` fields the action uses. Expressions outside these fail the
    /// test, so the action stays within what is tested here.
    struct Context<'a> {
        action: &'a Value,
        inputs: &'a BTreeMap<&'a str, &'a str>,
        steps: BTreeMap<String, BTreeMap<String, String>>,
    }

    impl Context<'_> {
        fn value(&self, expression: &str) -> String {
            let expression = expression.trim();
            if let Some(name) = expression.strip_prefix("inputs.") {
                let declared = &self.action["inputs"][name];
                assert!(
                    declared.is_object(),
                    "action.yml uses the undeclared input `{name}`"
                );
                return match self.inputs.get(name) {
                    Some(value) => (*value).to_owned(),
                    None => self.substitute(declared["default"].as_str().unwrap_or("")),
                };
            }
            if let Some(rest) = expression.strip_prefix("steps.") {
                let (step, output) = rest.split_once(".outputs.").unwrap();
                return self
                    .steps
                    .get(step)
                    .and_then(|outputs| outputs.get(output))
                    .cloned()
                    .unwrap_or_default();
            }
            match expression {
                "github.action_path" => root().display().to_string(),
                "github.token" => "fake-token".to_owned(),
                _ => panic!("action.yml uses `{expression}`, which this test does not know"),
            }
        }

        /// `${{ … }}` replaced by its value.
        fn substitute(&self, text: &str) -> String {
            let mut out = String::new();
            let mut rest = text;
            while let Some(start) = rest.find("${{") {
                out.push_str(&rest[..start]);
                let end = rest[start..].find("}}").unwrap() + start;
                out.push_str(&self.value(&rest[start + 3..end]));
                rest = &rest[end + 2..];
            }
            out.push_str(rest);
            out
        }

        /// A step's `if:`, of the form `A == 'x' && B != ''`.
        fn condition(&self, condition: &str) -> bool {
            condition.split("&&").all(|term| {
                let (left, negated, right) = match term.split_once("!=") {
                    Some((left, right)) => (left, true, right),
                    None => {
                        let (left, right) = term.split_once("==").unwrap();
                        (left, false, right)
                    }
                };
                let literal = right.trim().trim_matches('\'');
                (self.value(left) == literal) != negated
            })
        }
    }

    /// What running the action did: each step's id, exit code and output, and the
    /// action's outputs.
    struct ActionRun {
        steps: Vec<(String, i32, String)>,
        outputs: BTreeMap<String, String>,
    }

    /// Runs `action.yml`'s steps the way the runner does (bash, `-eo pipefail`, the
    /// step's `env`, its own `$GITHUB_OUTPUT`), stopping at the first that fails.
    fn run_action(
        inputs: &BTreeMap<&str, &str>,
        env: &[(String, String)],
        dir: &TempDir,
        workspace: &Path,
    ) -> ActionRun {
        let action = yaml("action.yml");
        assert_eq!(action["runs"]["using"], "composite");
        let mut context = Context {
            action: &action,
            inputs,
            steps: BTreeMap::new(),
        };
        let mut steps = Vec::new();
        for (index, step) in action["runs"]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
        {
            let id = step["id"].as_str().map_or(index.to_string(), str::to_owned);
            if let Some(condition) = step["if"].as_str()
                && !context.condition(condition)
            {
                continue;
            }
            assert_eq!(step["shell"], "bash", "step {id}");
            let output_file = dir.path(&format!("step-{id}.output"));
            let mut command = Command::new("bash");
            command
                .args(["--noprofile", "--norc", "-eo", "pipefail", "-c"])
                .arg(context.substitute(step["run"].as_str().unwrap()))
                .current_dir(workspace)
                .envs(env.iter().map(|(k, v)| (k, v)))
                .env("GITHUB_OUTPUT", &output_file)
                .env("GITHUB_ACTION_PATH", root());
            for (key, value) in step["env"].as_object().into_iter().flatten() {
                command.env(key, context.substitute(value.as_str().unwrap()));
            }
            let output = command.output().unwrap();
            let code = output.status.code().unwrap();
            let log = format!("{}{}", text(&output.stdout), text(&output.stderr));
            context
                .steps
                .insert(id.clone(), outputs(Path::new(&output_file)));
            steps.push((id, code, log));
            if code != 0 {
                break;
            }
        }
        let outputs = action["outputs"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(name, output)| {
                let value = context.substitute(output["value"].as_str().unwrap());
                (name.clone(), value)
            })
            .collect();
        ActionRun { steps, outputs }
    }

    /// The calls `gather.sh` makes for the pull request of `event.json`.
    fn assert_gathered(dir: &TempDir, gathered: &Path) {
        let calls = gh_calls(dir);
        let endpoints: Vec<Vec<&str>> = calls.iter().take(5).map(args_of).collect();
        assert_eq!(
            endpoints[..4],
            [
                [
                    "api",
                    "--paginate",
                    "repos/Codertocat/Hello-World/pulls/2/files?per_page=100"
                ],
                [
                    "api",
                    "--paginate",
                    "repos/Codertocat/Hello-World/pulls/2/commits?per_page=100"
                ],
                [
                    "api",
                    "--paginate",
                    "repos/Codertocat/Hello-World/pulls/2/reviews?per_page=100"
                ],
                [
                    "api",
                    "--paginate",
                    "repos/Codertocat/Hello-World/commits/ec26c3e57ca3a959ca5aad62de7213c562f8c821/check-runs?per_page=100"
                ],
            ]
        );
        let graphql = &endpoints[4];
        assert_eq!(graphql[..4], ["api", "graphql", "--paginate", "-f"]);
        assert!(graphql[4].starts_with(
            "query=query($owner: String!, $name: String!, $number: Int!, $endCursor: String)"
        ));
        assert!(graphql[4].contains("reviewThreads(first: 100, after: $endCursor)"));
        assert!(graphql[4].contains("pageInfo { hasNextPage endCursor }"));
        assert_eq!(
            graphql[5..],
            [
                "-f",
                "owner=Codertocat",
                "-f",
                "name=Hello-World",
                "-F",
                "number=2"
            ]
        );
        // Saved as served, in the layout `--api` reads.
        for file in ["files", "commits", "reviews", "check-runs", "threads"] {
            let saved = gathered.join(format!("api/{file}.json"));
            assert_eq!(
                std::fs::read(&saved).unwrap(),
                std::fs::read(data(&format!("responses/{file}.json"))).unwrap(),
                "{file}.json"
            );
        }
        assert_eq!(
            std::fs::read(gathered.join("event.json")).unwrap(),
            std::fs::read(data("event.json")).unwrap()
        );
        let leftovers: Vec<_> = std::fs::read_dir(gathered.join("api"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .filter(|name| name.to_string_lossy().ends_with(".part"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    /// Done-means of "In CI in one step": action.yml gathers the pull request with `gh`
    /// (here the fake one), builds the change, evaluates it, comments, and sets its
    /// outputs.
    #[test]
    fn the_action_gathers_the_pull_request_with_gh_and_evaluates_it() {
        let dir = TempDir::new("action");
        let env = runner_env(&dir, &data("event.json"), &data("responses"));
        let warden = env!("CARGO_BIN_EXE_warden");
        let inputs = BTreeMap::from([
            ("policy", "policy.warden"),
            ("warden-path", warden),
            ("comment", "true"),
            ("reports", "sarif, junit"),
            ("codeowners", "none"),
        ]);
        let run = run_action(&inputs, &env, &dir, &data("workspace"));
        let ids: Vec<&str> = run.steps.iter().map(|(id, _, _)| id.as_str()).collect();
        let logs: String = run.steps.iter().map(|(_, _, log)| log.as_str()).collect();
        let gathered = PathBuf::from(dir.path("runner-temp/warden"));
        assert_eq!(run.outputs["dir"], gathered.display().to_string());
        assert_gathered(&dir, &gathered);

        // A verdict, the reports, the comment posted (the step without an id, by index).
        assert_eq!(
            ids,
            ["install", "gather", "evaluate", "3", "verdict"],
            "{logs}"
        );
        let verdict = run.outputs["verdict"].as_str();
        let code = run.outputs["exit-code"].as_str();
        assert!(
            matches!(
                (verdict, code),
                ("allow", "0") | ("require-approval", "3") | ("deny", "4")
            ),
            "{verdict} {code}\n{logs}"
        );
        assert_eq!(
            run.outputs["change"],
            gathered.join("change.json").display().to_string()
        );
        let change = json(&gathered.join("change.json"));
        assert_eq!(change["kind"], "pull_request");
        assert_eq!(
            change["revisions"]["head"],
            "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
        );
        let report = json(&gathered.join("report.json"));
        assert_eq!(report["verdict"], verdict);
        assert_eq!(report["change"]["id"], "github:Codertocat/Hello-World#2");
        let summary = std::fs::read_to_string(dir.path("summary.md")).unwrap_or_default();
        assert!(!summary.is_empty(), "no job summary\n{logs}");
        assert!(gathered.join("report.sarif").is_file());
        assert!(gathered.join("report.junit.xml").is_file());
        assert_eq!(
            run.outputs["sarif"],
            gathered.join("report.sarif").display().to_string()
        );
        let calls = gh_calls(&dir);
        let comment = calls.last().unwrap();
        assert_eq!(
            args_of(comment),
            [
                "api",
                "--method",
                "PATCH",
                "repos/Codertocat/Hello-World/issues/comments/1348",
                "--input",
                "-"
            ]
        );
        assert!(
            comment["body"]["body"]
                .as_str()
                .unwrap()
                .starts_with("<!-- warden:report -->")
        );
        // `fail-on: require-approval`, the default: only allow passes.
        assert_eq!(
            run.steps.last().unwrap().1,
            i32::from(verdict != "allow"),
            "{logs}"
        );
    }

    #[test]
    fn gather_refuses_an_event_without_a_pull_request() {
        let dir = TempDir::new("gather-push");
        let push = dir.write(
            "push.json",
            r#"{"ref": "refs/heads/main", "before": "f95f852bd8fca8fcc58a9a2d6c842781e32a215e", "after": "ec26c3e57ca3a959ca5aad62de7213c562f8c821", "pusher": {"name": "Codertocat", "email": "21031067+Codertocat@users.noreply.github.com"}}"#,
        );
        let mut env = runner_env(&dir, Path::new(&push), &data("responses"));
        env.push(("GITHUB_EVENT_NAME".to_owned(), "push".to_owned()));
        let (output, written) = script("gather.sh", &[], &env, &dir);
        assert_eq!(output.status.code(), Some(1));
        let stderr = text(&output.stderr);
        assert!(
            stderr.contains("::error title=Warden::the event push has no pull request"),
            "{stderr}"
        );
        assert!(gh_calls(&dir).is_empty());
        assert!(written.is_empty());
    }

    /// A `gh` call that fails stops the gathering and leaves no file behind that could
    /// pass for a smaller answer.
    #[test]
    fn gather_stops_at_a_failed_call_and_leaves_no_partial_file() {
        let dir = TempDir::new("gather-fails");
        let responses = PathBuf::from(dir.path("responses"));
        std::fs::create_dir_all(&responses).unwrap();
        for file in ["files.json", "commits.json"] {
            std::fs::copy(data("responses").join(file), responses.join(file)).unwrap();
        }
        let env = runner_env(&dir, &data("event.json"), &responses);
        let (output, written) = script("gather.sh", &[], &env, &dir);
        assert_eq!(output.status.code(), Some(1));
        let stderr = text(&output.stderr);
        assert!(
            stderr.contains("`gh api --paginate repos/Codertocat/Hello-World/pulls/2/reviews?per_page=100` failed"),
            "{stderr}"
        );
        let api = PathBuf::from(dir.path("runner-temp/warden/api"));
        let mut saved: Vec<_> = std::fs::read_dir(&api)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        saved.sort();
        assert_eq!(saved, ["commits.json", "files.json"]);
        assert_eq!(gh_calls(&dir).len(), 3);
        assert!(written.is_empty());
    }

    #[test]
    fn verdict_maps_exit_codes_and_fails_per_fail_on() {
        let dir = TempDir::new("verdict");
        // (exit code, fail-on, verdict, the step fails)
        let cases = [
            ("0", "require-approval", "allow", false),
            ("3", "require-approval", "require-approval", true),
            ("4", "require-approval", "deny", true),
            ("0", "deny", "allow", false),
            ("3", "deny", "require-approval", false),
            ("4", "deny", "deny", true),
            ("3", "never", "require-approval", false),
            ("4", "never", "deny", false),
            // Nothing evaluated fails whatever fail-on says.
            ("5", "never", "invalid", true),
            ("2", "never", "invalid", true),
            ("", "never", "invalid", true),
            // A misspelt fail-on is an error, not a pass.
            ("0", "denied", "allow", true),
        ];
        for (code, fail_on, verdict, fails) in cases {
            let (output, written) = script("verdict.sh", &[code, fail_on], &[], &dir);
            let case = format!("{code} {fail_on}: {}", text(&output.stdout));
            assert_eq!(output.status.code(), Some(i32::from(fails)), "{case}");
            assert_eq!(written["verdict"], verdict, "{case}");
            assert_eq!(
                written["exit-code"],
                if code.is_empty() { "none" } else { code }
            );
        }
    }

    /// The comment a previous run posted (a bot's, with the marker) is updated; a
    /// person's comment quoting the marker is left alone; without one, a comment is
    /// posted.
    #[test]
    fn comment_updates_the_previous_report_or_posts_one() {
        let dir = TempDir::new("comment");
        let report = dir.write("report.md", "## require-approval\n");
        let mut env = runner_env(&dir, &data("event.json"), &data("responses"));
        env.push(("WARDEN_REPORT".to_owned(), report.clone()));
        let (output, _) = script("comment.sh", &[], &env, &dir);
        assert!(output.status.success(), "{}", text(&output.stderr));
        let calls = gh_calls(&dir);
        assert_eq!(calls.len(), 2);
        assert_eq!(
            args_of(&calls[0]),
            [
                "api",
                "--paginate",
                "repos/Codertocat/Hello-World/issues/2/comments?per_page=100"
            ]
        );
        assert_eq!(
            args_of(&calls[1]),
            [
                "api",
                "--method",
                "PATCH",
                "repos/Codertocat/Hello-World/issues/comments/1348",
                "--input",
                "-"
            ]
        );
        assert_eq!(
            calls[1]["body"]["body"],
            "<!-- warden:report -->\n## require-approval"
        );

        let fresh = TempDir::new("comment-fresh");
        let responses = PathBuf::from(fresh.path("responses"));
        std::fs::create_dir_all(&responses).unwrap();
        std::fs::write(responses.join("comments.json"), "[]").unwrap();
        let mut env = runner_env(&fresh, &data("event.json"), &responses);
        env.push(("WARDEN_REPORT".to_owned(), report));
        let (output, _) = script("comment.sh", &[], &env, &fresh);
        assert!(output.status.success(), "{}", text(&output.stderr));
        let calls = gh_calls(&fresh);
        assert_eq!(
            args_of(&calls[1]),
            [
                "api",
                "--method",
                "POST",
                "repos/Codertocat/Hello-World/issues/2/comments",
                "--input",
                "-"
            ]
        );

        // A report too long for a comment is cut, and says so.
        let long = fresh.write("long.md", format!("{}\n", "x".repeat(70_000)));
        env.pop();
        env.push(("WARDEN_REPORT".to_owned(), long));
        let (output, _) = script("comment.sh", &[], &env, &fresh);
        assert!(output.status.success(), "{}", text(&output.stderr));
        let calls = gh_calls(&fresh);
        let sent = calls[3]["body"]["body"].as_str().unwrap();
        assert!(sent.starts_with("<!-- warden:report -->\nxxx"));
        assert!(sent.chars().count() < 65_536, "{}", sent.len());
        assert!(
            sent.ends_with("(cut: the whole report is in the job summary and the saved reports)")
        );
    }

    /// The template parses, runs on merge-request pipelines, and lets require-approval
    /// (exit code 3) pass with a warning while deny and invalid fail.
    #[test]
    fn the_gitlab_template_is_an_includable_merge_request_job() {
        let template = yaml("ci/gitlab/warden.gitlab-ci.yml");
        let job = &template[".warden"];
        assert_eq!(template["warden"]["extends"], ".warden");
        assert_eq!(
            job["rules"][0]["if"],
            "$CI_PIPELINE_SOURCE == \"merge_request_event\""
        );
        assert_eq!(job["allow_failure"]["exit_codes"], serde_json::json!([3]));
        assert_eq!(job["artifacts"]["when"], "always");
        assert_eq!(
            job["artifacts"]["reports"]["junit"],
            "warden/report.junit.xml"
        );
        let script: String = job["script"]
            .as_array()
            .unwrap()
            .iter()
            .map(|line| line.as_str().unwrap())
            .collect();
        for needed in [
            "warden change gitlab --api",
            "warden eval --policy",
            "\"$mr/diffs\" \"$api/diffs.json\" paged",
            "\"$mr/commits\" \"$api/commits.json\" paged",
            "\"$mr/approvals\" \"$api/approvals.json\"",
        ] {
            assert!(script.contains(needed), "the template lacks `{needed}`");
        }
    }

    /// The template's script, run by `sh` (POSIX; dash here) the way a GitLab runner
    /// runs it, against a fake `curl` serving recorded GitLab API responses: it saves
    /// every page of each endpoint with the token, then builds and evaluates the change.
    #[test]
    fn the_gitlab_template_gathers_the_merge_request_with_curl_and_evaluates_it() {
        let dir = TempDir::new("gitlab");
        let template = yaml("ci/gitlab/warden.gitlab-ci.yml");
        let job = &template[".warden"];
        let script: Vec<&str> = job["script"]
            .as_array()
            .unwrap()
            .iter()
            .map(|line| line.as_str().unwrap())
            .collect();
        std::fs::copy(data("workspace/policy.warden"), dir.path("policy.warden")).unwrap();
        let warden_dir = Path::new(env!("CARGO_BIN_EXE_warden")).parent().unwrap();
        let gitlab = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/gitlab");
        let head = "e82eb4a098e32c796079ca3915e07487fc4db24c";
        let mut command = Command::new("sh");
        command.arg("-c").arg(script.join("\n")).current_dir(&dir.0);
        for (key, value) in job["variables"].as_object().unwrap() {
            command.env(key, value.as_str().unwrap());
        }
        let output = command
            .env("WARDEN_POLICY", "policy.warden")
            .env("WARDEN_CODEOWNERS", "none")
            .env(
                "PATH",
                format!(
                    "{}:{}:{}",
                    gitlab.join("bin").display(),
                    warden_dir.display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .env("FAKE_CURL_LOG", dir.path("curl.log"))
            .env("FAKE_CURL_RESPONSES", gitlab.join("responses"))
            .env("WARDEN_GITLAB_TOKEN", "glpat-recorded")
            .env("CI_API_V4_URL", "https://gitlab.com/api/v4")
            .env("CI_PROJECT_ID", "15513260")
            .env("CI_PROJECT_PATH", "marcel.amirault/test-project")
            .env("CI_PIPELINE_ID", "541838920")
            .env("CI_PIPELINE_SOURCE", "merge_request_event")
            .env("CI_COMMIT_SHA", head)
            .env("CI_MERGE_REQUEST_IID", "133")
            .env(
                "CI_MERGE_REQUEST_PROJECT_PATH",
                "marcel.amirault/test-project",
            )
            .env(
                "CI_MERGE_REQUEST_SOURCE_PROJECT_PATH",
                "marcel.amirault/test-project",
            )
            .env("CI_MERGE_REQUEST_TITLE", "Manual job rules")
            .env("CI_MERGE_REQUEST_DESCRIPTION", "")
            .env("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "manual-job-rules")
            .env("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "main")
            .env("CI_MERGE_REQUEST_DRAFT", "false")
            .env("CI_MERGE_REQUEST_LABELS", "")
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let log = format!("{}{}", text(&output.stdout), text(&output.stderr));

        let mr = "https://gitlab.com/api/v4/projects/15513260/merge_requests/133";
        let calls = std::fs::read_to_string(dir.path("curl.log")).unwrap();
        let expected = [
            format!("{mr} token=true"),
            format!("{mr}/diffs?per_page=100&page=1 token=true"),
            format!("{mr}/commits?per_page=100&page=1 token=true"),
            format!("{mr}/commits?per_page=100&page=2 token=true"),
            format!("{mr}/versions?per_page=100&page=1 token=true"),
            format!("{mr}/approvals token=true"),
            format!("{mr}/pipelines?per_page=100&page=1 token=true"),
            "https://gitlab.com/api/v4/projects/15513260/pipelines/541838920/jobs?per_page=100&page=1 token=true".to_owned(),
        ];
        assert_eq!(calls.lines().collect::<Vec<_>>(), expected, "{log}");
        let responses = gitlab.join("responses");
        let read = |path: PathBuf| std::fs::read(path).unwrap();
        for name in [
            "merge_request",
            "diffs",
            "versions",
            "approvals",
            "pipelines",
            "jobs",
        ] {
            assert_eq!(
                read(dir.0.join(format!("warden/api/{name}.json"))),
                read(responses.join(format!("{name}.json"))),
                "{name}.json"
            );
        }
        // The pages one after the other, as the source reads them.
        let mut commits = read(responses.join("commits.json"));
        commits.extend(read(responses.join("commits.page2.json")));
        assert_eq!(read(dir.0.join("warden/api/commits.json")), commits);
        let mut saved: Vec<_> = std::fs::read_dir(dir.0.join("warden/api"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        saved.sort();
        assert_eq!(
            saved,
            [
                "approvals.json",
                "commits.json",
                "diffs.json",
                "jobs.json",
                "merge_request.json",
                "pipelines.json",
                "versions.json"
            ]
        );
        let variables = std::fs::read_to_string(dir.path("warden/merge-request.env")).unwrap();
        assert!(
            variables.contains("CI_MERGE_REQUEST_IID=133\n"),
            "{variables}"
        );

        let code = output.status.code();
        assert!(matches!(code, Some(0 | 3 | 4)), "{code:?}\n{log}");
        let change = json(&dir.0.join("warden/change.json"));
        assert_eq!(change["revisions"]["head"], head);
        let report = json(&dir.0.join("warden/report.json"));
        let verdict = ["allow", "", "", "require-approval", "deny"][code.unwrap() as usize];
        assert_eq!(report["verdict"], verdict);
        assert!(dir.0.join("warden/report.junit.xml").is_file());
    }

    #[test]
    fn the_pre_commit_hook_checks_the_policy() {
        let hooks = yaml(".pre-commit-hooks.yaml");
        let hook = &hooks[0];
        assert_eq!(hook["id"], "warden-check");
        assert_eq!(hook["entry"], "warden check");
        assert_eq!(hook["files"], "\\.warden$");
        assert_eq!(hook["pass_filenames"], false);
        assert_eq!(hooks.as_array().unwrap().len(), 1);
        // What pre-commit runs: the entry, then the hook's `args` (here the policy).
        let entry: Vec<&str> = hook["entry"].as_str().unwrap().split(' ').collect();
        assert_eq!(entry[0], "warden");
        let policy = data("workspace/policy.warden").display().to_string();
        let mut args = entry[1..].to_vec();
        args.push(&policy);
        warden_exits(&args, 0);
        let dir = TempDir::new("pre-commit");
        let broken = dir.write("broken.warden", "rule r { when }");
        args.pop();
        args.push(&broken);
        warden_exits(&args, 5);
    }

    /// Every input the action declares is used by a step, and every path it names
    /// in its checkout (scripts, the crate it builds) is there.
    #[test]
    fn the_action_uses_every_input_it_declares() {
        let action = yaml("action.yml");
        let source = std::fs::read_to_string(root().join("action.yml")).unwrap();
        for name in action["inputs"].as_object().unwrap().keys() {
            assert!(
                source.contains(&format!("inputs.{name} ")),
                "input `{name}` is unused"
            );
        }
        for step in action["runs"]["steps"].as_array().unwrap() {
            let run = step["run"].as_str().unwrap();
            for path in run.split("$GITHUB_ACTION_PATH/").skip(1) {
                let path = path.split('"').next().unwrap();
                assert!(root().join(path).exists(), "{path}");
            }
        }
    }

    #[test]
    fn completions_cover_every_subcommand_for_each_shell() {
        for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
            let (script, _) = warden_exits(&["completions", shell], 0);
            for subcommand in [
                "check",
                "eval",
                "change",
                "bench",
                "generate",
                "completions",
            ] {
                assert!(script.contains(subcommand), "{shell}: {subcommand}");
            }
            assert!(script.contains("policy"), "{shell}");
        }
        let (_, stderr) = warden_exits(&["completions", "tcsh"], 2);
        assert!(stderr.contains("invalid value 'tcsh'"), "{stderr}");
    }
}

// ---------------------------------------------------------------------------------
// Terraform and OpenTofu plans, CODEOWNERS (`--plan`, `--codeowners`)

/// A fixture of `crates/warden-sources/tests/data`.
fn sources_data(relative: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../warden-sources/tests/data")
        .join(relative)
        .display()
        .to_string()
}

/// The acme pull request of R12 (it changes `infra/terraform/orders/main.tf`) without
/// its plan, and with `edit` applied to its one file; written to `dir`.
fn acme_infra_pull_request(
    dir: &TempDir,
    edit: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>),
) -> String {
    let text = std::fs::read_to_string(acme("cases/r12-trigger.json")).unwrap();
    let case: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut change = case["change"].clone();
    change.as_object_mut().unwrap().remove("infra_plans");
    edit(change["files"][0].as_object_mut().unwrap());
    dir.write(
        "change.json",
        serde_json::to_string_pretty(&change).unwrap(),
    )
}

/// `warden eval --format json` of acme with its facts and `extra` arguments: the
/// report, after asserting the exit code.
fn acme_eval_json(change: &str, extra: &[&str], code: i32) -> serde_json::Value {
    let (policy, org, services, calendar) = (
        acme("policy"),
        acme("facts/org.json"),
        acme("facts/services.json"),
        acme("facts/calendar.json"),
    );
    let mut args = vec![
        "eval", "--policy", &policy, "--change", change, "--facts", &org, "--facts", &services,
        "--facts", &calendar, "--format", "json",
    ];
    args.extend(extra);
    let (stdout, _) = warden_exits(&args, code);
    serde_json::from_str(&stdout).unwrap()
}

fn rule<'r>(report: &'r serde_json::Value, name: &str) -> &'r serde_json::Value {
    report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|rule| rule["name"] == name)
        .unwrap_or_else(|| panic!("no rule {name}"))
}

/// A real `terraform show -json` plan that replaces the orders database is denied by
/// R12 (`infra_stateful_delete`); the same plan updating the database in place is
/// not; `--plan` is repeatable; a plan of another format version is an input error.
#[test]
fn a_plan_that_replaces_a_database_is_denied_by_r12() {
    let dir = TempDir::new("plans");
    let change = acme_infra_pull_request(&dir, |_| {});
    let replace = sources_data("terraform/aws-replace-db-instance.json");
    let update = sources_data("terraform/aws-update-db-instance.json");

    let report = acme_eval_json(&change, &["--plan", &replace], 4);
    let r12 = rule(&report, "infra_stateful_delete");
    assert_eq!(r12["outcome"], "violated", "{r12}");
    assert!(
        r12["message"]
            .as_str()
            .unwrap()
            .contains("aws_db_instance.orders"),
        "{r12}"
    );

    let report = acme_eval_json(&change, &["--plan", &update], 3);
    assert_eq!(report["verdict"], "require-approval");
    assert_eq!(
        rule(&report, "infra_stateful_delete")["outcome"],
        "not_applicable"
    );

    // Both plans: the replace in the second still denies.
    let report = acme_eval_json(&change, &["--plan", &update, "--plan", &replace], 4);
    assert_eq!(
        rule(&report, "infra_stateful_delete")["outcome"],
        "violated"
    );

    // The create-before-destroy replace of a cache (`["create", "delete"]`) too.
    let report = acme_eval_json(
        &change,
        &[
            "--plan",
            &sources_data("terraform/aws-create-before-destroy-in-modules.json"),
        ],
        4,
    );
    let r12 = rule(&report, "infra_stateful_delete");
    assert!(
        r12["message"]
            .as_str()
            .unwrap()
            .contains("module.cache.aws_elasticache_replication_group.sessions"),
        "{r12}"
    );

    let future = sources_data("terraform/error-format-version-2.0.json");
    let policy = acme("policy");
    let (_, stderr) = warden_exits(
        &[
            "eval", "--policy", &policy, "--change", &change, "--plan", &future,
        ],
        5,
    );
    assert!(
        stderr.contains("plan JSON format `2.0` is not supported"),
        "{stderr}"
    );
}

/// `--codeowners` fills each file's owners, which R07 (`owners_approve`) reads: a file
/// with no owners given is owned by `infra` and `dba` under acme's CODEOWNERS. A bad
/// line is an input error naming the file and line.
#[test]
fn codeowners_fill_the_owners_that_rules_read() {
    let dir = TempDir::new("codeowners");
    let change = acme_infra_pull_request(&dir, |file| {
        file.insert("owners".to_owned(), serde_json::json!([]));
    });
    let report = acme_eval_json(&change, &[], 0);
    assert_eq!(rule(&report, "owners_approve")["outcome"], "not_applicable");

    let codeowners = sources_data("codeowners/acme/CODEOWNERS");
    let report = acme_eval_json(&change, &["--codeowners", &codeowners], 3);
    let owners = rule(&report, "owners_approve");
    assert_eq!(owners["outcome"], "pending", "{owners}");
    let groups: Vec<&str> = owners["requirements"][0]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|group| group["from"].as_str().unwrap())
        .collect();
    assert_eq!(groups, ["team `dba`", "team `infra`"]);

    let bad = dir.write("CODEOWNERS", "/infra/ @acme/infra\n/docs/ docs-team\n");
    let policy = acme("policy");
    let (_, stderr) = warden_exits(
        &[
            "eval",
            "--policy",
            &policy,
            "--change",
            &change,
            "--codeowners",
            &bad,
        ],
        5,
    );
    assert!(
        stderr.contains(&format!("{bad}:2: `docs-team` is not an owner")),
        "{stderr}"
    );
}

// ---- Reports in CI: `--format github|markdown|sarif|junit`, `--summary`,
// `$GITHUB_STEP_SUMMARY`, `--error-format` on `eval` and `check`.

/// `warden eval` of the acme pull request (require-approval) with `extra` arguments,
/// and `GITHUB_STEP_SUMMARY` set to `summary` (or unset).
fn eval_acme(extra: &[&str], summary: Option<&str>) -> Output {
    let (policy, change) = (acme("policy"), acme("changes/pr-ai-control-plane.json"));
    let facts = ["org", "services", "calendar"].map(|f| acme(&format!("facts/{f}.json")));
    let mut command = Command::new(env!("CARGO_BIN_EXE_warden"));
    command
        .args(["eval", "--policy", &policy, "--change", &change])
        .args(facts.iter().flat_map(|f| ["--facts", f.as_str()]))
        .args(extra)
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_STEP_SUMMARY");
    if let Some(summary) = summary {
        command.env("GITHUB_STEP_SUMMARY", summary);
    }
    command.output().expect("the warden binary runs")
}

/// With `--format github`, annotations go to standard output and the Markdown report
/// is appended to `$GITHUB_STEP_SUMMARY`, after what earlier steps wrote; the exit
/// code is the verdict's.
#[test]
fn github_format_annotates_and_appends_the_job_summary() {
    let dir = TempDir::new("step-summary");
    let summary = dir.write("summary.md", "## an earlier step\n");
    let output = eval_acme(&["--format", "github"], Some(&summary));
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(
        stdout.starts_with("::warning file=") && stdout.contains("title=warden%3A owners_approve"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with(
            "warden: require-approval — 2 rules need action, 5 satisfied, 20 did not apply\n"
        ),
        "{stdout}"
    );
    let written = std::fs::read_to_string(&summary).unwrap();
    assert!(
        written.starts_with(
            "## an earlier step\n<!-- warden:report -->\n### ⏳ Warden: require-approval"
        ),
        "{written}"
    );
    // Other formats leave `$GITHUB_STEP_SUMMARY` alone; `--summary` writes anyway.
    let other = dir.path("other.md");
    let output = eval_acme(&["--format", "json", "--summary", &other], Some(&summary));
    assert_eq!(output.status.code(), Some(3));
    assert_eq!(std::fs::read_to_string(&summary).unwrap(), written);
    assert!(
        std::fs::read_to_string(&other)
            .unwrap()
            .starts_with("<!-- warden:report -->\n")
    );
}

/// A summary that cannot be written is exit code 5, saying which file.
#[test]
fn an_unwritable_summary_is_exit_code_5() {
    let dir = TempDir::new("summary-unwritable");
    let missing = dir.path("no-such-dir/summary.md");
    let output = eval_acme(&["--format", "github"], Some(&missing));
    assert_eq!(output.status.code(), Some(5));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(&format!("error: cannot write the summary to `{missing}`")),
        "{stderr}"
    );
}

/// Every report format prints and exits with the verdict's code.
#[test]
fn every_report_format_exits_with_the_verdict() {
    for (format, start) in [
        ("markdown", "<!-- warden:report -->\n"),
        (
            "sarif",
            "{\n  \"$schema\": \"https://docs.oasis-open.org/sarif/",
        ),
        (
            "junit",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites",
        ),
    ] {
        let output = eval_acme(&["--format", format], None);
        assert_eq!(output.status.code(), Some(3), "{format}");
        let stdout = text(&output.stdout);
        assert!(stdout.starts_with(start), "{format}: {stdout}");
    }
}

/// `--error-format` on `eval` prints the policy's diagnostics on standard error in
/// that format (standard output is the report's); on `check`, a machine format goes
/// to standard output. `github` annotates the policy file, `sarif` is a SARIF log.
#[test]
fn error_formats_for_eval_and_check() {
    let dir = TempDir::new("error-format");
    let policy = dir.write(
        "broken.warden",
        "rule r {\n  when change.files.any(f => f.pth == \"x\")\n  deny \"no\"\n}\n",
    );
    let change = dir.write("change.json", acme_pull_request(|_| {}));
    let eval = |format: &str| {
        warden_exits(
            &[
                "eval",
                "--policy",
                &policy,
                "--change",
                &change,
                "--error-format",
                format,
            ],
            5,
        )
    };
    let (stdout, stderr) = eval("json");
    assert_eq!(stdout, "");
    let diagnostics: serde_json::Value = serde_json::from_str(&stderr).unwrap();
    assert_eq!(diagnostics[0]["code"], "unknown-field", "{stderr}");
    let (stdout, stderr) = eval("github");
    assert_eq!(stdout, "");
    assert!(
        stderr.starts_with("::error file=") && stderr.contains("broken.warden,line=2,col="),
        "{stderr}"
    );
    let (stdout, _) = warden_exits(&["check", "--error-format", "sarif", &policy], 5);
    let log: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(log["version"], "2.1.0");
    assert_eq!(log["runs"][0]["results"][0]["ruleId"], "unknown-field");
    let (stdout, _) = warden_exits(&["check", "--error-format", "github", &policy], 5);
    assert!(stdout.ends_with("1 error, 0 warnings\n"), "{stdout}");
}

// ---------------------------------------------------------------- GitHub and GitLab sources

/// The verdict and every rule's outcome of a JSON report.
fn verdict_and_outcomes(report: &str) -> (String, Vec<(String, String)>) {
    let report: serde_json::Value = serde_json::from_str(report).unwrap();
    let rules = report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|rule| {
            let field = |name: &str| rule[name].as_str().unwrap().to_owned();
            (field("name"), field("outcome"))
        })
        .collect();
    (report["verdict"].as_str().unwrap().to_owned(), rules)
}

/// The `pull_request` event and saved API responses of acme/shop#4812 give the
/// verdict, and every rule the outcome, of the hand-written change
/// `examples/acme/changes/pr-ai-control-plane.json`. Files' `owners` and `services`
/// are not GitHub's to give: a CODEOWNERS file and the catalogue's `paths` add them.
#[test]
fn a_github_pull_request_evaluates_as_the_hand_written_change() {
    let dir = TempDir::new("github-equivalence");
    let mut services: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(acme("facts/services.json")).unwrap())
            .unwrap();
    services["services"]["traffic-router"]["paths"] =
        serde_json::json!(["control-plane/router/**"]);
    services["services"]["checkout"]["paths"] = serde_json::json!(["services/checkout/**"]);
    let facts = [
        acme("facts/org.json"),
        dir.write("services.json", services.to_string()),
        acme("facts/calendar.json"),
    ];
    let codeowners = dir.write(
        "CODEOWNERS",
        "/control-plane/ @acme/control-plane-sre\n/services/checkout/ @acme/checkout\n",
    );
    let policy = acme("policy");
    let eval = |source: &[&str]| {
        let mut args = vec!["eval", "--policy", &policy, "--format", "json"];
        args.extend_from_slice(source);
        for fact in &facts {
            args.extend(["--facts", fact]);
        }
        let (stdout, _) = warden_exits(&args, 3);
        verdict_and_outcomes(&stdout)
    };
    let case = sources_data("github/pr-ai-control-plane");
    let from_github = eval(&[
        "--github-event",
        &format!("{case}/event.json"),
        "--github-api",
        &format!("{case}/api"),
        "--evaluated-at",
        "2026-11-25T18:04:00Z",
        "--codeowners",
        &codeowners,
    ]);
    let hand_written = acme("changes/pr-ai-control-plane.json");
    let from_hand = eval(&["--change", &hand_written]);
    assert_eq!(from_github, from_hand);
    let fired: Vec<_> = from_github
        .1
        .iter()
        .filter(|(_, outcome)| outcome != "not_applicable")
        .collect();
    assert_eq!(
        format!("{fired:?}"),
        r#"[("ai_control_plane", "pending"), ("ai_senior_signoff", "satisfied"), ("ticket_trailer", "satisfied"), ("owners_approve", "pending"), ("two_person_rule", "satisfied"), ("required_checks", "satisfied"), ("approval_after_last_push", "satisfied")]"#
    );
}

/// A source that cannot read its input exits 5, naming the file and what to do, and
/// writes no change.
#[test]
fn forge_sources_fail_closed_with_the_file_and_what_to_save() {
    let dir = TempDir::new("forge-errors");
    let out = dir.path("change.json");
    let case = sources_data("github/error-truncated-files");
    let (_, stderr) = warden_exits(
        &[
            "change",
            "github",
            "--event",
            &format!("{case}/event.json"),
            "--api",
            &format!("{case}/api"),
            "-o",
            &out,
        ],
        5,
    );
    assert!(
        stderr.contains("files.json: it lists 2 files but the pull request has 3200"),
        "{stderr}"
    );
    assert!(!Path::new(&out).exists());
    // Without `--event`, `warden change gitlab` reads the merge request pipeline's
    // variables; outside one it says which is missing.
    let output = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(["change", "gitlab"])
        .env_remove("CI_MERGE_REQUEST_IID")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(5));
    assert!(
        text(&output.stderr).contains("`CI_MERGE_REQUEST_IID` is not set"),
        "{}",
        text(&output.stderr)
    );
}

// ---- `warden test` ----

/// A copy of `tests/test/basic` (policy, facts, changes, cases) in a fresh directory.
fn test_suite_copy(name: &str) -> TempDir {
    let dir = TempDir::new(name);
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/test/basic");
    for sub in ["", "cases", "changes"] {
        std::fs::create_dir_all(dir.0.join(sub)).unwrap();
        for entry in std::fs::read_dir(source.join(sub)).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                std::fs::copy(&path, dir.0.join(sub).join(path.file_name().unwrap())).unwrap();
            }
        }
    }
    dir
}

#[test]
fn test_runs_every_acme_case_and_prints_the_coverage() {
    let (stdout, _) = warden_exits(&["test", &acme("")], 0);
    let cases = std::fs::read_dir(acme("cases"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "json")
        })
        .count();
    assert!(
        stdout.contains(&format!("\n{cases} passed, 0 failed\n")),
        "{stdout}"
    );
    assert!(stdout.contains("\ncoverage: "), "{stdout}");
    // The details name every rule; a minimum above what the cases reach fails.
    let (stdout, _) = warden_exits(&["test", &acme(""), "--coverage", "--filter", "r09"], 0);
    assert!(stdout.contains("  rule freeze ("), "{stdout}");
    let (_, stderr) = warden_exits(&["test", &acme(""), "--min-coverage", "100"], 1);
    assert!(stderr.contains("below the minimum of 100%"), "{stderr}");
}

#[test]
fn a_failing_case_shows_a_diff_exits_1_and_update_rewrites_it() {
    let dir = test_suite_copy("test-update");
    let suite = dir.path("");
    let (stdout, _) = warden_exits(&["test", &suite], 1);
    assert!(
        stdout.contains("FAIL fail-wrong-expectation")
            && stdout.contains("  verdict\n    - expected: allow\n    + actual:   deny\n")
            && stdout.contains("\n2 passed, 1 failed\n"),
        "{stdout}"
    );
    let (json, _) = warden_exits(&["test", &suite, "--format", "json", "--coverage"], 1);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["schema"], "warden.test/v1");
    assert_eq!(
        (json["passed"].as_u64(), json["failed"].as_u64()),
        (Some(2), Some(1))
    );
    assert!(json["coverage"]["percent"].as_f64().is_some(), "{json}");
    let (junit, _) = warden_exits(&["test", &suite, "--format", "junit"], 1);
    assert_eq!(junit.matches("<failure ").count(), 1, "{junit}");
    assert!(junit.contains("tests=\"3\" failures=\"1\""), "{junit}");
    // `--filter` runs the matching cases only.
    let (stdout, _) = warden_exits(&["test", &suite, "--filter", "owners"], 0);
    assert!(stdout.contains("\n1 passed, 0 failed\n"), "{stdout}");
    // `--update` writes what the evaluation gave; the change stays a file reference.
    let (_, stderr) = warden_exits(&["test", &suite, "--update"], 0);
    assert!(stderr.contains("updated 1 case(s)"), "{stderr}");
    let updated = std::fs::read_to_string(dir.path("cases/fail-wrong-expectation.json")).unwrap();
    assert!(
        updated.contains("\"verdict\": \"deny\"")
            && updated.contains("\"change\": \"../changes/binary.json\""),
        "{updated}"
    );
    warden_exits(&["test", &suite], 0);
}

#[test]
fn an_invalid_case_is_exit_code_5_naming_the_file_and_path() {
    let dir = test_suite_copy("test-invalid");
    dir.write(
        "cases/typo.json",
        r#"{"facts": [], "expect": {"verdict": "allow", "rulez": {}}, "change": "../changes/binary.json"}"#,
    );
    let (_, stderr) = warden_exits(&["test", &dir.path("")], 5);
    assert!(
        stderr.contains("typo.json") && stderr.contains("rulez"),
        "{stderr}"
    );
    let (_, stderr) = warden_exits(
        &[
            "test",
            &dir.path(""),
            "--cases",
            &dir.path("changes/nowhere"),
        ],
        5,
    );
    assert!(stderr.contains("nowhere"), "{stderr}");
}

// ---------------------------------------------------------------------------------
// Lints: `warden check --deny-warnings`

#[test]
fn deny_warnings_turns_warnings_into_a_failing_exit_code() {
    let dir = TempDir::new("deny-warnings");
    let policy = dir.write(
        "policy.warden",
        "rule r {\n  let unused = 1\n  when change.title == \"x\"\n  deny \"no\"\n}\n",
    );
    let (_, stderr) = warden_exits(&["check", &policy], 0);
    assert!(stderr.contains("unused-let"), "{stderr}");
    let (_, stderr) = warden_exits(&["check", "--deny-warnings", &policy], 5);
    assert!(stderr.contains("1 warning"), "{stderr}");
    let clean = dir.write(
        "clean.warden",
        "rule r {\n  when change.title == \"x\"\n  deny \"no\"\n}\n",
    );
    warden_exits(&["check", "--deny-warnings", &clean], 0);
}

// ---------------------------------------------------------------- warden fmt

const UNFORMATTED: &str = "let   a = [1,2]\nrule r { when a.len() > 1\n deny \"x\" }\n";
const FORMATTED: &str = "let a = [1, 2]\nrule r {\n  when a.len() > 1\n  deny \"x\"\n}\n";

/// `--check` and `--diff` write nothing and exit 1 when a file would change; without
/// them the files are rewritten, and `--check` then passes.
#[test]
fn fmt_checks_diffs_and_rewrites_a_directory() {
    let dir = TempDir::new("fmt");
    std::fs::create_dir_all(dir.path("lib")).unwrap();
    let messy = dir.write("lib/messy.warden", UNFORMATTED);
    let tidy = dir.write("tidy.warden", FORMATTED);
    dir.write("notes.txt", "not a policy");
    let root = dir.path("");

    let (stdout, _) = warden_exits(&["fmt", "--check", &root], 1);
    assert_eq!(stdout.trim(), messy);
    let (diff, _) = warden_exits(&["fmt", "--diff", &root], 1);
    assert!(diff.contains(&format!("--- {messy}")), "{diff}");
    assert!(diff.contains("\n-let   a = [1,2]\n"), "{diff}");
    assert!(diff.contains("\n+let a = [1, 2]\n"), "{diff}");
    assert_eq!(std::fs::read_to_string(&messy).unwrap(), UNFORMATTED);

    warden_exits(&["fmt", &root], 0);
    assert_eq!(std::fs::read_to_string(&messy).unwrap(), FORMATTED);
    assert_eq!(std::fs::read_to_string(&tidy).unwrap(), FORMATTED);
    let (stdout, _) = warden_exits(&["fmt", "--check", &root], 0);
    assert_eq!(stdout, "");
}

/// `warden fmt -` formats standard input to standard output.
#[test]
fn fmt_formats_standard_input() {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(["fmt", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(UNFORMATTED.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(text(&output.stdout), FORMATTED);
}

/// A file with a syntax error is reported with its diagnostics (exit 5), and no file
/// of the run is written, not even the ones that parse.
#[test]
fn fmt_refuses_files_with_syntax_errors_and_writes_none() {
    let dir = TempDir::new("fmt-broken");
    let broken = dir.write("a.warden", "rule r {\n  when\n}\n");
    let messy = dir.write("b.warden", UNFORMATTED);
    let (_, stderr) = warden_exits(&["fmt", &dir.path("")], 5);
    assert!(stderr.contains("syntax-error"), "{stderr}");
    assert!(stderr.contains("a.warden"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(&broken).unwrap(),
        "rule r {\n  when\n}\n"
    );
    assert_eq!(std::fs::read_to_string(&messy).unwrap(), UNFORMATTED);
}
