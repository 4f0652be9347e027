//! `warden`: check policies and evaluate changes against them. A thin shell over the
//! `warden` facade; the exit code tells CI what to do (see `docs/cli.md`).

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// mimalloc: loading a policy and evaluating allocate many small nodes (see docs/design.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use warden::warden_change::UnknownFields;
use warden::{ByteSize, LoadError, Options, Purpose, Verdict, exit};

mod bench;
mod fmt;
mod generate;
mod source;

#[derive(Parser)]
#[command(
    name = "warden",
    version,
    about = "Deterministic change-control policies: check them, evaluate changes against them"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check a policy (a `.warden` file or a directory of them) and report every problem.
    #[command(after_help = CHECK_EXIT_CODES)]
    Check {
        /// The policy file or directory.
        policy: PathBuf,
        /// How to print diagnostics: `human` on standard error; `json`, `github`
        /// (workflow commands that annotate the policy) or `sarif` on standard output.
        #[arg(long, value_enum, default_value_t = ErrorFormat::Human)]
        error_format: ErrorFormat,
        /// Fail (exit code 5) on warnings too, as CI should: a lint is usually a mistake.
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Evaluate a change against a policy: prints the verdict and why, exits with its code.
    #[command(after_help = EVAL_EXIT_CODES)]
    Eval {
        /// The policy file or directory.
        #[arg(long)]
        policy: PathBuf,
        #[command(flatten)]
        source: source::EvalSource,
        #[command(flatten)]
        source_options: source::EvalSourceOptions,
        /// A fact file (principals, services, calendar) to merge in; repeatable.
        #[arg(long)]
        facts: Vec<PathBuf>,
        /// Report format: `human`, `json` (`warden.report/v1`), `github` (workflow
        /// commands that annotate the changed files, and a job summary), `markdown` (a
        /// pull-request comment), `sarif` (code scanning) or `junit` (test reports).
        #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
        format: ReportFormat,
        /// How to print the policy's diagnostics, on standard error (standard output
        /// carries only the report); by default `github` with `--format github`, else
        /// `human`.
        #[arg(long, value_enum)]
        error_format: Option<ErrorFormat>,
        /// Also append the report as Markdown to FILE (with `--format github`, to
        /// `$GITHUB_STEP_SUMMARY` when it is set and this is not given).
        #[arg(long, value_name = "FILE")]
        summary: Option<PathBuf>,
        /// Also explain the rules that did not apply, with the first condition that failed.
        #[arg(long)]
        explain: bool,
        /// Evaluation steps allowed; a rule still running when they are spent is an
        /// `error` (and the verdict deny), never a hang.
        #[arg(long, default_value_t = Options::default().budget)]
        budget: u64,
        /// Ignore fields the change model does not have (with a warning) instead of
        /// rejecting the input, for producers that add fields of their own.
        #[arg(long)]
        allow_unknown_fields: bool,
        /// Memory the evaluation may build (`256MiB`, `1GiB` or bytes); a rule still
        /// running when it is spent is an `error` (and the verdict deny), never an abort.
        #[arg(long, default_value_t = Options::default().max_memory)]
        max_memory: ByteSize,
    },
    /// Run a policy's test cases (`DIR/cases/*.json`) and report pass or fail, with what
    /// differed, and the branch coverage of the policy (see `docs/testing.md`).
    #[command(after_help = TEST_EXIT_CODES)]
    Test {
        /// The policy directory (or file) whose cases to run.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// The policy, if not DIR.
        #[arg(long)]
        policy: Option<PathBuf>,
        /// The directory of cases, if not `DIR/cases`.
        #[arg(long)]
        cases: Option<PathBuf>,
        /// Run only the cases whose name (file name without `.json`) contains TEXT.
        #[arg(long, value_name = "TEXT")]
        filter: Option<String>,
        /// Output format: `human`, `json` (`warden.test/v1`) or `junit`.
        #[arg(long, value_enum, default_value_t = TestFormat::Human)]
        format: TestFormat,
        /// Write the current verdict and outcomes into the cases (for review).
        #[arg(long)]
        update: bool,
        /// Print the coverage of every rule, exemption, override and definition (with
        /// `--format json`, include it).
        #[arg(long)]
        coverage: bool,
        /// Fail (exit 1) when the coverage is below PCT percent.
        #[arg(long, value_name = "PCT")]
        min_coverage: Option<f64>,
    },
    /// Build a change description (`warden.change/v1`) from git, GitHub or GitLab, with
    /// Terraform plans and CODEOWNERS; prints it (or writes `--output`).
    Change {
        #[command(subcommand)]
        source: source::ChangeSource,
    },
    /// Time loading a policy, evaluating a change, and parsing plus evaluating it.
    Bench {
        /// The policy file or directory.
        #[arg(long)]
        policy: PathBuf,
        /// The change description (JSON).
        #[arg(long)]
        change: PathBuf,
        /// A fact file to merge in; repeatable.
        #[arg(long)]
        facts: Vec<PathBuf>,
        /// Rounds per measurement; by default as many as `--min-time-ms` needs (at least 10).
        #[arg(long)]
        rounds: Option<usize>,
        /// Minimum time per measurement when `--rounds` is not given.
        #[arg(long, default_value_t = 1000)]
        min_time_ms: u64,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Ignore fields the change model does not have (with a warning), as `eval` does.
        #[arg(long)]
        allow_unknown_fields: bool,
        /// Memory each evaluation may build, as for `warden eval`.
        #[arg(long, default_value_t = Options::default().max_memory)]
        max_memory: ByteSize,
    },
    /// Write a synthetic workload (policy, change, facts) for `warden bench`.
    Generate {
        /// Number of rules in `<out>/policy/generated.warden`.
        #[arg(long)]
        rules: usize,
        /// Number of files of the pull request `<out>/change.json`.
        #[arg(long)]
        files: usize,
        /// Seed of the generator: the same seed writes the same workload.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The directory to write into (created if missing).
        #[arg(long)]
        out: PathBuf,
    },
    /// Rewrite `.warden` files in the canonical layout (see "Formatting" in
    /// docs/language.md); files with syntax errors are reported, never written.
    #[command(after_help = FMT_EXIT_CODES)]
    Fmt {
        /// Files, or directories whose `.warden` files to format (hidden entries and
        /// `target` skipped); `-` formats standard input to standard output.
        #[arg(default_value = ".")]
        paths: Vec<PathBuf>,
        /// Write nothing; list the files that formatting would change.
        #[arg(long)]
        check: bool,
        /// Write nothing; print what formatting would change as a unified diff.
        #[arg(long)]
        diff: bool,
    },
    /// Print the shell completion script for `warden` (e.g. `warden completions bash
    /// > /etc/bash_completion.d/warden`; see `docs/cli.md`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// The exit codes of `warden::exit`, for `--help` (a test keeps them in step).
const EVAL_EXIT_CODES: &str = "Exit codes: 0 allow, 3 require-approval, 4 deny, \
    5 invalid policy or input (nothing was evaluated) or the report not written, \
    2 wrong usage.";
const CHECK_EXIT_CODES: &str = "Exit codes: 0 no error (warnings allowed), \
    5 the policy has errors (or, with --deny-warnings, warnings) or cannot be read, \
    or the diagnostics not written, 2 wrong usage.";

const TEST_EXIT_CODES: &str = "Exit codes: 0 every case passed (and the coverage is \
    at least `--min-coverage`), 1 a case failed or the coverage is below the minimum, \
    5 invalid policy or case, 2 wrong usage.";

/// The output of `warden test`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TestFormat {
    Human,
    Json,
    Junit,
}

const FMT_EXIT_CODES: &str = "Exit codes: 0 formatted (or, with --check or --diff, \
    nothing would change), 1 with --check or --diff: some file would change, \
    5 a file has syntax errors or cannot be read or written (nothing is written then), \
    2 wrong usage.";

/// How policy diagnostics are printed.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ErrorFormat {
    Human,
    Json,
    Github,
    Sarif,
}

/// The output of `warden bench`.
#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Human,
    Json,
}

/// The report of `warden eval`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ReportFormat {
    Human,
    Json,
    Github,
    Markdown,
    Sarif,
    Junit,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Check {
            policy,
            error_format,
            deny_warnings,
        } => check(&policy, error_format, deny_warnings),
        Command::Eval {
            policy,
            source,
            source_options,
            facts,
            format,
            error_format,
            summary,
            explain,
            budget,
            allow_unknown_fields,
            max_memory,
        } => eval(
            &policy,
            &source,
            &source_options,
            &facts,
            &Output {
                format,
                error_format: error_format.unwrap_or(if format == ReportFormat::Github {
                    ErrorFormat::Github
                } else {
                    ErrorFormat::Human
                }),
                summary: summary.or_else(|| step_summary(format)),
            },
            Options {
                explain,
                budget,
                max_memory,
            },
            unknown_fields(allow_unknown_fields),
        ),
        Command::Bench {
            policy,
            change,
            facts,
            rounds,
            min_time_ms,
            format,
            allow_unknown_fields,
            max_memory,
        } => bench::run(&bench::Args {
            policy: &policy,
            change: &change,
            facts: &facts,
            rounds,
            min_time_ms,
            format,
            unknown: unknown_fields(allow_unknown_fields),
            max_memory,
        }),
        Command::Test {
            dir,
            policy,
            cases,
            filter,
            format,
            update,
            coverage,
            min_coverage,
        } => test(
            &warden::testing::Suite::locate(&dir, policy, cases),
            &TestOptions {
                filter,
                format,
                update,
                coverage,
                min_coverage,
            },
        ),
        Command::Change { source } => change(&source),
        Command::Generate {
            rules,
            files,
            seed,
            out,
        } => generate::run(rules, files, seed, &out),
        Command::Completions { shell } => completions(shell),
        Command::Fmt { paths, check, diff } => fmt::run(&fmt::Args {
            paths: &paths,
            check,
            diff,
        }),
    };
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// Reads the change named on the command line (`-`: standard input): its name and text.
fn read_change(path: &Path) -> Result<(String, String), LoadError> {
    if path == Path::new("-") {
        warden::read_text(std::io::stdin().lock(), 0)
            .map(|text| ("-".to_owned(), text))
            .map_err(|message| LoadError::Io {
                path: PathBuf::from("standard input"),
                message,
            })
    } else {
        warden::read(path).map(|text| (path.display().to_string(), text))
    }
}

/// `warden change`: builds the change, checks it as `eval` would read it, and writes it.
fn change(source: &source::ChangeSource) -> i32 {
    let (from, name, common) = source.resolve();
    let text = match warden::build_input(
        &name,
        &from,
        source::now_or(common.evaluated_at),
        &common.additions.additions(),
        &[],
    ) {
        Ok((_, text)) => text,
        Err(error @ LoadError::Input { .. }) => return input_error(&error),
        Err(error) => return fail(error),
    };
    match &common.output {
        None => print("the change", &text).err().unwrap_or(exit::ALLOW),
        Some(path) => match warden::write_whole(path, &text) {
            Ok(()) => exit::ALLOW,
            Err(error) => fail(format!("cannot write `{}`: {error}", path.display())),
        },
    }
}

/// `warden completions <shell>`: the script clap generates from the command definition,
/// so it always knows every subcommand and flag.
fn completions(shell: clap_complete::Shell) -> i32 {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "warden", &mut script);
    print("the completion script", &String::from_utf8_lossy(&script))
        .err()
        .unwrap_or(exit::ALLOW)
}

/// `--allow-unknown-fields`: warnings instead of errors.
fn unknown_fields(allow: bool) -> UnknownFields {
    if allow {
        UnknownFields::Warn
    } else {
        UnknownFields::Reject
    }
}

/// Whether to colour what goes to `stream`: on a terminal, unless `NO_COLOR` is set
/// (or `CLICOLOR=0`); always with `CLICOLOR_FORCE`.
fn color(stream: &impl anstream::stream::RawStream) -> bool {
    anstream::AutoStream::choice(stream) != anstream::ColorChoice::Never
}

/// Writes `what` (the report, the diagnostics) to standard output. A write that fails
/// (a full disk, a closed pipe) is an error: the reader did not get it.
fn print(what: &str, text: &str) -> Result<(), i32> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|error| fail(format!("cannot write {what} to standard output: {error}")))
}

/// Writes to standard error. Unlike `eprint!`, never panics: a failed write is exit
/// code 5, with nowhere left to say why.
fn eprint(text: &str) -> Result<(), i32> {
    let mut stderr = std::io::stderr().lock();
    stderr
        .write_all(text.as_bytes())
        .and_then(|()| stderr.flush())
        .map_err(|_| exit::INVALID)
}

/// Prints `error: <message>` on standard error; the exit code of an invalid run.
fn fail(message: impl std::fmt::Display) -> i32 {
    let _ = eprint(&format!("error: {message}\n"));
    exit::INVALID
}

/// Prints why the change or a fact file does not fit the model; the exit code.
fn input_error(error: &LoadError) -> i32 {
    let _ = eprint(&format!(
        "error: the input does not fit the change model; nothing was evaluated\n{error}\n"
    ));
    exit::INVALID
}

/// Prints the warnings about the input (unknown fields) on standard error.
fn input_warnings(input: &warden::Input) -> Result<(), i32> {
    let mut text = String::new();
    for (file, warning) in &input.warnings {
        let _ = writeln!(
            text,
            "warning: {file}: {} at `{}`",
            warning.message, warning.path
        );
    }
    eprint(&text)
}

/// Prints an analysis's diagnostics in `format`: for `warden check` in a format for
/// machines on standard output, else on standard error.
fn print_analysis(
    analysis: &warden::Analysis,
    path: &Path,
    format: ErrorFormat,
    check: bool,
) -> Result<(), i32> {
    let dir = policy_dir(path);
    let text = match format {
        ErrorFormat::Human => warden::render::diagnostics(analysis, color(&std::io::stderr())),
        ErrorFormat::Json => warden::render::diagnostics_json(analysis),
        ErrorFormat::Github => warden::render::github::diagnostics(analysis, &dir),
        ErrorFormat::Sarif => warden::render::sarif::diagnostics(analysis, &dir),
    };
    if check && format != ErrorFormat::Human {
        print("the diagnostics", &text)
    } else {
        eprint(&text)
    }
}

/// Reads a policy and compiles it to evaluate, printing its diagnostics (its errors, or
/// the warnings an evaluation's check gives, see `Purpose::Evaluate`) on standard
/// error.
fn load_policy(
    path: &Path,
    error_format: ErrorFormat,
    purpose: Purpose,
) -> Result<warden::Policy, i32> {
    let sources = warden::read_policy(path).map_err(fail)?;
    match warden::compile_for(&sources, purpose) {
        Ok(policy) => {
            if !policy.analysis.diagnostics.is_empty() {
                print_analysis(&policy.analysis, path, error_format, false)?;
            }
            Ok(policy)
        }
        Err(analysis) => {
            print_analysis(&analysis, path, error_format, false)?;
            Err(exit::INVALID)
        }
    }
}

/// `warden check`: every diagnostic, each regex compiled for its size; no program is
/// made (`Purpose::Diagnose`).
fn check(policy: &Path, error_format: ErrorFormat, deny_warnings: bool) -> i32 {
    let sources = match warden::read_policy(policy) {
        Ok(sources) => sources,
        Err(error) => return fail(error),
    };
    let analysis = warden::analyze_for(&sources, Purpose::Diagnose);
    if let Err(code) = print_analysis(&analysis, policy, error_format, true) {
        return code;
    }
    if analysis.has_errors() || (deny_warnings && !analysis.diagnostics.is_empty()) {
        exit::INVALID
    } else {
        exit::ALLOW
    }
}

/// The directory the paths of a policy's files are relative to, as a path relative
/// to the working directory (the repository's root in CI), with `/` separators: where
/// annotations and SARIF locations on the policy point.
fn policy_dir(path: &Path) -> String {
    let dir = if path.is_dir() {
        path
    } else {
        path.parent().unwrap_or(Path::new(""))
    };
    let relative = std::env::current_dir()
        .ok()
        .and_then(|cwd| dir.strip_prefix(cwd).ok())
        .unwrap_or(dir);
    if relative.is_absolute() {
        return relative.to_string_lossy().into_owned();
    }
    relative
        .components()
        .map(|part| part.as_os_str().to_string_lossy())
        .filter(|part| part != ".")
        .collect::<Vec<_>>()
        .join("/")
}

/// What `warden eval` prints, and where.
struct Output {
    format: ReportFormat,
    error_format: ErrorFormat,
    /// The file the Markdown report is appended to.
    summary: Option<PathBuf>,
}

/// With `--format github`, the job summary file GitHub Actions names in
/// `$GITHUB_STEP_SUMMARY`.
fn step_summary(format: ReportFormat) -> Option<PathBuf> {
    if format != ReportFormat::Github {
        return None;
    }
    std::env::var_os("GITHUB_STEP_SUMMARY")
        .filter(|path| !path.is_empty())
        .map(PathBuf::from)
}

/// Appends `text` to `path` (created if missing), as GitHub expects of a job summary.
fn append(path: &Path, text: &str) -> Result<(), i32> {
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .and_then(|mut file| file.write_all(text.as_bytes()))
        .map_err(|error| {
            fail(format!(
                "cannot write the summary to `{}`: {error}",
                path.display()
            ))
        })
}

fn eval(
    policy_path: &Path,
    source: &source::EvalSource,
    source_options: &source::EvalSourceOptions,
    facts: &[PathBuf],
    output: &Output,
    options: Options,
    unknown: UnknownFields,
) -> i32 {
    let policy = match load_policy(policy_path, output.error_format, Purpose::Evaluate) {
        Ok(policy) => policy,
        Err(code) => return code,
    };
    let additions = source_options.additions.additions();
    let from = match source.resolve(source_options) {
        Ok(from) => from,
        Err(message) => return fail(message),
    };
    let loaded = match (from, &source.change) {
        (Some((from, name)), _) => warden::build_input(
            &name,
            &from,
            source::now_or(source_options.evaluated_at),
            &additions,
            facts,
        )
        .map(|(input, _)| input),
        (None, Some(change)) => read_change(change).and_then(|(name, text)| {
            let text = warden::add_to_change(&name, &text, &additions, unknown)?;
            warden::load_input(&name, &text, facts, unknown)
        }),
        // clap requires one source.
        (None, None) => {
            return fail(
                "no change given: use `--change`, `--git`, `--github-event` or `--gitlab-event`",
            );
        }
    };
    let input = match loaded {
        Ok(input) => input,
        Err(error @ LoadError::Input { .. }) => return input_error(&error),
        Err(error) => return fail(error),
    };
    if let Err(code) = input_warnings(&input) {
        return code;
    }
    let report = warden::evaluate(&policy, &input, options);
    let dir = policy_dir(policy_path);
    let text = match output.format {
        ReportFormat::Json => warden::report_json(&report),
        ReportFormat::Human => {
            warden::render::report(&report, color(&std::io::stdout()), options.explain)
        }
        ReportFormat::Github => warden::render::github::report(&report, &dir),
        ReportFormat::Markdown => warden::render::markdown::report(&report, &dir),
        ReportFormat::Sarif => warden::render::sarif::report(&report, &dir),
        ReportFormat::Junit => warden::render::junit::report(&report, &dir),
    };
    if let Err(code) = print("the report", &text) {
        return code;
    }
    if let Some(path) = &output.summary
        && let Err(code) = append(path, &warden::render::markdown::report(&report, &dir))
    {
        return code;
    }
    let code = match report.verdict {
        Verdict::Allow => exit::ALLOW,
        Verdict::RequireApproval => exit::REQUIRE_APPROVAL,
        Verdict::Deny => exit::DENY,
    };
    // The process ends here: its memory goes back whole, without freeing the policy,
    // the change and the report one allocation at a time.
    std::mem::forget((policy, input, report));
    code
}

/// What `warden test` was asked for.
struct TestOptions {
    filter: Option<String>,
    format: TestFormat,
    update: bool,
    coverage: bool,
    min_coverage: Option<f64>,
}

/// `warden test`: runs the cases, prints the results, and with `--update` rewrites the
/// cases whose expectation differs from what the evaluation gave.
fn test(suite: &warden::testing::Suite, options: &TestOptions) -> i32 {
    use warden::testing;
    let policy = match load_policy(&suite.policy, ErrorFormat::Human, Purpose::Evaluate) {
        Ok(policy) => policy,
        Err(code) => return code,
    };
    let files = match suite.case_files() {
        Ok(files) => files,
        Err(error) => return fail(error),
    };
    let mut recorded = warden::Coverage::default();
    let mut runs = Vec::new();
    for path in files {
        if let Some(filter) = &options.filter
            && !testing::case_name(&path).contains(filter.as_str())
        {
            continue;
        }
        match testing::run_case(&policy, &path, Some(&mut recorded)) {
            Ok(run) => runs.push(run),
            Err(error @ LoadError::Input { .. }) => return input_error(&error),
            Err(error) => return fail(error),
        }
    }
    if options.update {
        let mut updated = 0;
        for run in &mut runs {
            let text = match testing::case_json(&testing::updated_case(run)) {
                Ok(text) => text,
                Err(error) => return fail(error),
            };
            if warden::read(&run.path).ok().as_deref() != Some(text.as_str()) {
                if let Err(error) = warden::write_whole(&run.path, &text) {
                    return fail(format!("cannot write `{}`: {error}", run.path.display()));
                }
                updated += 1;
            }
            run.differences.clear();
        }
        if let Err(code) = eprint(&format!("updated {updated} case(s)\n")) {
            return code;
        }
    }
    let coverage = testing::coverage(&policy, &recorded, runs.iter().map(|run| &run.report));
    let text = match options.format {
        TestFormat::Human => format!(
            "{}{}",
            testing::render_runs(&runs),
            testing::render_coverage(&coverage, options.coverage)
        ),
        TestFormat::Json => testing::runs_json(&runs, options.coverage.then_some(&coverage)),
        TestFormat::Junit => testing::runs_junit(&runs),
    };
    if let Err(code) = print("the results", &text) {
        return code;
    }
    if runs.iter().any(|run| !run.passed()) {
        return exit::FAILED;
    }
    if let Some(minimum) = options.min_coverage
        && coverage.percent < minimum
    {
        let _ = eprint(&format!(
            "error: the coverage is {:.1}%, below the minimum of {minimum}%\n",
            coverage.percent
        ));
        return exit::FAILED;
    }
    exit::ALLOW
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_help_states_the_exit_codes_the_commands_use() {
        for (code, meaning) in [
            (exit::ALLOW, "allow"),
            (exit::REQUIRE_APPROVAL, "require-approval"),
            (exit::DENY, "deny"),
            (exit::INVALID, "invalid policy or input"),
        ] {
            assert!(
                EVAL_EXIT_CODES.contains(&format!("{code} {meaning}")),
                "{meaning}"
            );
        }
        assert!(CHECK_EXIT_CODES.contains(&format!("{} no error", exit::ALLOW)));
        assert!(TEST_EXIT_CODES.contains(&format!("{} every case passed", exit::ALLOW)));
        assert!(TEST_EXIT_CODES.contains(&format!("{} a case failed", exit::FAILED)));
        assert!(TEST_EXIT_CODES.contains(&format!("{} invalid policy or case", exit::INVALID)));
        assert!(CHECK_EXIT_CODES.contains(&format!("{} the policy has errors", exit::INVALID)));
        assert!(CHECK_EXIT_CODES.contains("with --deny-warnings, warnings"));
        assert!(FMT_EXIT_CODES.contains(&format!("{} with --check", fmt::WOULD_CHANGE)));
        assert!(FMT_EXIT_CODES.contains(&format!("{} a file has syntax errors", exit::INVALID)));
    }
}
