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

// ---------------------------------------------------------------- GitHub and GitLab sources

/// A case directory of the GitHub and GitLab sources' tests.
fn forge_case(relative: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../warden-sources/tests/data")
        .join(relative)
        .display()
        .to_string()
}

/// The verdict and every rule's outcome of a JSON report.
fn outcomes(report: &str) -> (String, Vec<(String, String)>) {
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
/// are not GitHub's to give (CODEOWNERS and the service catalogue add them), so they
/// are left out of the hand-written change for the comparison.
#[test]
fn a_github_pull_request_evaluates_as_the_hand_written_change() {
    let dir = TempDir::new("github-equivalence");
    let facts = ["org", "services", "calendar"].map(|name| acme(&format!("facts/{name}.json")));
    let policy = acme("policy");
    let eval = |source: &[&str]| {
        let mut args = vec!["eval", "--policy", &policy, "--format", "json"];
        args.extend_from_slice(source);
        for fact in &facts {
            args.extend(["--facts", fact]);
        }
        let (stdout, _) = warden_exits(&args, 3);
        outcomes(&stdout)
    };
    let case = forge_case("github/pr-ai-control-plane");
    let from_github = eval(&[
        "--github-event",
        &format!("{case}/event.json"),
        "--github-api",
        &format!("{case}/api"),
        "--evaluated-at",
        "2026-11-25T18:04:00Z",
    ]);
    let hand_written = dir.write(
        "change.json",
        acme_pull_request(|change| {
            for file in change["files"].as_array_mut().unwrap() {
                let file = file.as_object_mut().unwrap();
                file.remove("owners");
                file.remove("services");
            }
        }),
    );
    let from_hand = eval(&["--change", &hand_written]);
    assert_eq!(from_github, from_hand);
    let fired: Vec<_> = from_github
        .1
        .iter()
        .filter(|(_, outcome)| outcome != "not_applicable")
        .collect();
    assert_eq!(
        format!("{fired:?}"),
        r#"[("ai_control_plane", "pending"), ("ticket_trailer", "satisfied"), ("required_checks", "satisfied"), ("approval_after_last_push", "satisfied")]"#
    );
}

/// A source that cannot read its input exits 5, naming the file and what to do, and
/// writes no change.
#[test]
fn forge_sources_fail_closed_with_the_file_and_what_to_save() {
    let dir = TempDir::new("forge-errors");
    let out = dir.path("change.json");
    let case = forge_case("github/error-truncated-files");
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
