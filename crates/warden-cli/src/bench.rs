//! `warden bench`: times, single-threaded, the three costs of using a policy —
//! (a) `load`: reading, parsing, checking and compiling the policy;
//! (b) `eval`: evaluating an already parsed change;
//! (c) `input+eval`: parsing the change and fact files (JSON text, already in memory),
//!     merging and validating them, then evaluating;
//! (d) `digest`: the SHA-256 of the input texts that `warden eval` puts in its report.
//!
//! Each measurement runs a fixed number of rounds (`--rounds`), or else as many as needed
//! for `--min-time-ms` (default 1 s) and at least 10, after one untimed warm-up round.
//! This is the benchmark harness: the only place in Warden that reads a clock.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use warden::{ByteSize, LoadError, Options};

use crate::{ErrorFormat, Format};

/// At least this many rounds when the count is chosen by time.
const MIN_ROUNDS: usize = 10;
/// Never more than this many rounds (bounds the memory held by the samples).
const MAX_ROUNDS: usize = 5_000_000;

pub struct Args<'a> {
    pub policy: &'a Path,
    pub change: &'a Path,
    pub facts: &'a [PathBuf],
    pub rounds: Option<usize>,
    pub min_time_ms: u64,
    pub format: Format,
    /// `--allow-unknown-fields`.
    pub unknown: warden::warden_change::UnknownFields,
    pub max_memory: ByteSize,
}

/// The timings of one measurement, in nanoseconds.
struct Measurement {
    name: &'static str,
    what: &'static str,
    rounds: usize,
    median: f64,
    min: f64,
    mean: f64,
}

/// Runs `work` for the configured number of rounds and summarises the timings.
fn measure<T>(
    name: &'static str,
    what: &'static str,
    rounds: Option<usize>,
    min_time: Duration,
    mut work: impl FnMut() -> T,
) -> Measurement {
    black_box(work()); // warm-up: caches, allocator, lazily built tables
    let mut samples: Vec<u64> = Vec::new();
    let started = Instant::now();
    loop {
        let done = match rounds {
            Some(rounds) => samples.len() >= rounds.max(1),
            None => {
                samples.len() >= MAX_ROUNDS
                    || (samples.len() >= MIN_ROUNDS && started.elapsed() >= min_time)
            }
        };
        if done {
            break;
        }
        let start = Instant::now();
        let result = work();
        let elapsed = start.elapsed();
        drop(black_box(result));
        samples.push(u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX));
    }
    samples.sort_unstable();
    let count = samples.len();
    let median = match count {
        0 => 0.0,
        n if n % 2 == 1 => samples[n / 2] as f64,
        n => (samples[n / 2 - 1] as f64 + samples[n / 2] as f64) / 2.0,
    };
    let total: u128 = samples.iter().map(|&s| u128::from(s)).sum();
    Measurement {
        name,
        what,
        rounds: count,
        median,
        min: samples.first().copied().unwrap_or(0) as f64,
        mean: if count == 0 {
            0.0
        } else {
            total as f64 / count as f64
        },
    }
}

/// A duration in nanoseconds with three significant digits and a unit: `812 ns`,
/// `23.4 µs`, `1.05 ms`, `2.00 s`.
pub fn human_duration(nanos: f64) -> String {
    let units = [("ns", 1.0), ("µs", 1e3), ("ms", 1e6), ("s", 1e9)];
    let mut chosen = units[units.len() - 1];
    for (index, unit) in units.iter().enumerate() {
        let last = index == units.len() - 1;
        // 999.5 would print as "1000": move on to the next unit.
        if last || nanos / unit.1 < 999.5 {
            chosen = *unit;
            break;
        }
    }
    let value = nanos / chosen.1;
    if chosen.0 == "ns" {
        return format!("{value:.0} {}", chosen.0);
    }
    let text = if value < 9.995 {
        format!("{value:.2}")
    } else if value < 99.95 {
        format!("{value:.1}")
    } else {
        format!("{value:.0}")
    };
    format!("{text} {}", chosen.0)
}

/// The peak resident set size of this process in KiB (`VmHWM`), where `/proc` has it.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

fn read_text(path: &Path) -> Result<String, i32> {
    warden::read(path).map_err(|error| crate::fail(error.to_string()))
}

pub fn run(args: &Args<'_>) -> i32 {
    // Load once, untimed, to report problems and the counts.
    let policy = match crate::load_policy(args.policy, ErrorFormat::Human, crate::Purpose::Evaluate)
    {
        Ok(policy) => policy,
        Err(code) => return code,
    };
    let change_name = args.change.display().to_string();
    let change_text = match read_text(args.change) {
        Ok(text) => text,
        Err(code) => return code,
    };
    let mut facts = Vec::new();
    for path in args.facts {
        match read_text(path) {
            Ok(text) => facts.push((path.display().to_string(), text)),
            Err(code) => return code,
        }
    }
    let input = match warden::read_input(&change_name, &change_text, &facts, args.unknown) {
        Ok(input) => input,
        Err(error @ LoadError::Input { .. }) => return crate::input_error(&error),
        Err(error) => return crate::fail(error),
    };
    if let Err(code) = crate::input_warnings(&input) {
        return code;
    }
    let options = Options {
        max_memory: args.max_memory,
        ..Options::default()
    };
    let report = warden::evaluate(&policy, &input, options);

    let min_time = Duration::from_millis(args.min_time_ms);
    let rounds = args.rounds;
    let policy_path = args.policy;
    // Each round's result is dropped after its time is taken (see `measure`).
    let load = measure(
        "load",
        "read + parse + check + compile the policy",
        rounds,
        min_time,
        || {
            let sources = warden::read_policy(black_box(policy_path));
            sources.map(|sources| warden::compile_for(&sources, crate::Purpose::Evaluate))
        },
    );
    let eval = measure(
        "eval",
        "evaluate the parsed change",
        rounds,
        min_time,
        || warden::evaluate(black_box(&policy), black_box(&input), options),
    );
    let input_eval = measure(
        "input+eval",
        "parse change + facts JSON, then evaluate",
        rounds,
        min_time,
        || {
            // The input is returned with the report so that dropping it is not timed.
            warden::read_input(
                black_box(&change_name),
                black_box(&change_text),
                black_box(&facts),
                args.unknown,
            )
            .map(|input| {
                let report = warden::evaluate(&policy, &input, options);
                (input, report)
            })
        },
    );
    let digest = measure(
        "digest",
        "SHA-256 of the change + facts text, for the report",
        rounds,
        min_time,
        || warden::input_digest(black_box(&change_text), black_box(&facts)),
    );
    let measurements = [load, eval, input_eval, digest];

    let policy_files = policy.analysis.files.iter().filter(|f| !f.std).count();
    let summary = Summary {
        policy: args.policy.display().to_string(),
        change: change_name,
        fact_files: facts.len(),
        verdict: report.verdict.as_str(),
        rules: policy.compiled.program.rules.len(),
        policy_files,
        change_files: input.change().files.len(),
        input_bytes: change_text.len() + facts.iter().map(|(_, text)| text.len()).sum::<usize>(),
        peak_rss_kib: peak_rss_kib(),
    };
    let output = match args.format {
        Format::Human => human(&summary, &measurements),
        Format::Json => json(&summary, &measurements),
    };
    match crate::print("the measurements", &output) {
        Ok(()) => warden::exit::ALLOW,
        Err(code) => code,
    }
}

struct Summary {
    policy: String,
    change: String,
    fact_files: usize,
    verdict: &'static str,
    rules: usize,
    policy_files: usize,
    change_files: usize,
    input_bytes: usize,
    peak_rss_kib: Option<u64>,
}

fn human(summary: &Summary, measurements: &[Measurement]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "policy   {}: {}, {}",
        summary.policy,
        plural(summary.rules, "rule"),
        plural(summary.policy_files, "file")
    );
    let _ = writeln!(
        out,
        "change   {}: {}, {}, {} bytes of JSON",
        summary.change,
        plural(summary.change_files, "file"),
        plural(summary.fact_files, "fact file"),
        summary.input_bytes
    );
    let _ = writeln!(out, "verdict  {}", summary.verdict);
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<12} {:>9} {:>10} {:>10}  what",
        "measurement", "rounds", "median", "min"
    );
    for m in measurements {
        let _ = writeln!(
            out,
            "{:<12} {:>9} {:>10} {:>10}  {}",
            m.name,
            m.rounds,
            human_duration(m.median),
            human_duration(m.min),
            m.what
        );
    }
    let _ = writeln!(out);
    let rss = summary.peak_rss_kib.map_or_else(
        || "n/a".to_string(),
        |kib| format!("{:.1} MiB", kib as f64 / 1024.0),
    );
    let _ = writeln!(out, "peak RSS {rss}");
    out
}

fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

fn json(summary: &Summary, measurements: &[Measurement]) -> String {
    let value = serde_json::json!({
        "policy": summary.policy,
        "change": summary.change,
        "fact_files": summary.fact_files,
        "verdict": summary.verdict,
        "rules": summary.rules,
        "policy_files": summary.policy_files,
        "change_files": summary.change_files,
        "input_bytes": summary.input_bytes,
        "measurements": measurements.iter().map(|m| serde_json::json!({
            "name": m.name,
            "what": m.what,
            "rounds": m.rounds,
            "median_ns": m.median.round() as u64,
            "min_ns": m.min.round() as u64,
            "mean_ns": m.mean.round() as u64,
        })).collect::<Vec<_>>(),
        "peak_rss_kib": summary.peak_rss_kib,
    });
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::human_duration;

    #[test]
    fn three_significant_digits() {
        assert_eq!(human_duration(812.0), "812 ns");
        assert_eq!(human_duration(23_449.0), "23.4 µs");
        assert_eq!(human_duration(999_700.0), "1.00 ms");
        assert_eq!(human_duration(1_054_000.0), "1.05 ms");
        assert_eq!(human_duration(123_456_789.0), "123 ms");
        assert_eq!(human_duration(2e9), "2.00 s");
    }
}
