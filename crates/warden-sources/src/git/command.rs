//! Running the `git` executable with a fixed environment, so that the output parsed
//! does not depend on the user's locale, pager, colours or diff drivers.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::SourceError;

/// Variables that would point git at another repository, index or configuration than
/// the one asked for, or change what it prints.
const CLEARED_VARIABLES: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_NAMESPACE",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
    "GIT_EXTERNAL_DIFF",
    "GIT_DIFF_OPTS",
    "GIT_PAGER",
    "PAGER",
];

/// Configuration given to every command: paths unquoted (non-ASCII paths are read as
/// written), no colour, no signature display mixed into the log, `:` as the only
/// trailer separator (git's default), messages printed in UTF-8, paths from the top,
/// and no attributes file of the user's (the head commit's `.gitattributes` decide).
const CONFIG: &[&str] = &[
    "core.quotepath=off",
    "color.ui=false",
    "log.showSignature=false",
    "trailer.separators=:",
    "i18n.logOutputEncoding=UTF-8",
    "diff.relative=false",
    "core.attributesFile=",
];

/// One repository, and the git commands run in it.
pub struct Git<'a> {
    repo: &'a Path,
}

/// The bytes git printed.
pub struct Output {
    pub stdout: Vec<u8>,
    /// Whether git exited with status 0.
    pub success: bool,
    pub stderr: String,
}

impl<'a> Git<'a> {
    pub fn new(repo: &'a Path) -> Git<'a> {
        Git { repo }
    }

    /// `git <args>` as shown in messages.
    pub fn describe(&self, args: &[&str]) -> String {
        format!("git -C {} {}", self.repo.display(), args.join(" "))
    }

    /// Runs `git <args>` with `stdin` as its standard input, and returns what it
    /// printed whatever its exit status; an error only when it cannot be run.
    pub fn output(&self, args: &[&str], stdin: Option<&[u8]>) -> Result<Output, SourceError> {
        let mut command = Command::new("git");
        command.arg("-C").arg(self.repo);
        for setting in CONFIG {
            command.args(["-c", setting]);
        }
        command
            .args(args)
            .env("LC_ALL", "C")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_NO_REPLACE_OBJECTS", "1")
            .env("GIT_OPTIONAL_LOCKS", "0")
            // A partial clone would fetch missing objects from its remote: the source
            // stays offline, and a missing object is git's error instead.
            .env("GIT_NO_LAZY_FETCH", "1")
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for variable in CLEARED_VARIABLES {
            command.env_remove(variable);
        }
        let cannot_run = |error: std::io::Error| {
            SourceError::new(
                self.describe(args),
                format!("cannot run git ({error}); install git or put it on the PATH"),
            )
        };
        let mut child = command.spawn().map_err(cannot_run)?;
        // Written from another thread: git may fill its output pipe before it has read
        // all of its input.
        let writer = match (stdin, child.stdin.take()) {
            (Some(bytes), Some(mut pipe)) => {
                let bytes = bytes.to_vec();
                Some(std::thread::spawn(move || pipe.write_all(&bytes)))
            }
            _ => None,
        };
        let output = child.wait_with_output().map_err(cannot_run)?;
        if let Some(writer) = writer {
            match writer.join() {
                Ok(Ok(())) => {}
                // git stopped reading: its exit status and stderr say why.
                Ok(Err(_)) if !output.status.success() => {}
                Ok(Err(error)) => return Err(cannot_run(error)),
                Err(_) => {
                    return Err(SourceError::new(
                        self.describe(args),
                        "the thread writing git's input stopped unexpectedly",
                    ));
                }
            }
        }
        Ok(Output {
            stdout: output.stdout,
            success: output.status.success(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        })
    }

    /// Runs `git <args>`; a failure is an error naming the command and git's message.
    pub fn run(&self, args: &[&str], stdin: Option<&[u8]>) -> Result<Vec<u8>, SourceError> {
        let output = self.output(args, stdin)?;
        if output.success {
            Ok(output.stdout)
        } else {
            Err(self.failed(args, &output.stderr))
        }
    }

    /// Runs `git <args>` and reads its output as UTF-8 text.
    pub fn text(&self, args: &[&str]) -> Result<String, SourceError> {
        let stdout = self.run(args, None)?;
        String::from_utf8(stdout).map_err(|_| {
            SourceError::new(
                self.describe(args),
                "git printed text that is not UTF-8; paths, names and messages must be UTF-8",
            )
        })
    }

    /// The error of a command that failed.
    pub fn failed(&self, args: &[&str], stderr: &str) -> SourceError {
        let said = if stderr.is_empty() {
            "git failed and printed nothing".to_string()
        } else {
            format!("git failed: {stderr}")
        };
        SourceError::new(self.describe(args), said)
    }
}
