//! Subcommand groups of the `kontor` binary and what they share: how results are printed and how failures
//! become exit statuses.
//!
//! A command returns `Result<(), CommandFailure>`; [`finish`] prints the failure and picks the status, so no
//! command writes to stderr or exits by itself. In `--json` mode the failure is one
//! `{"type":"error","code":…,"message":…}` line on stdout instead of a sentence on stderr.

pub mod connections;
pub mod data;
pub mod dev;
pub mod flows;
pub mod provider;
pub mod tan;
pub mod vault;

use std::fmt;
use std::io::Write as _;
use std::process::ExitCode;

use kontor_core::{ErrorCode, KontorError};
use serde::Serialize;

/// Exit status for input the user can fix (the same status clap uses for usage errors).
pub const EXIT_INVALID_INPUT: u8 = 2;
pub const EXIT_FAILURE: u8 = 1;
/// The user (or the bank) cancelled an authentication.
pub const EXIT_CANCELLED: u8 = 3;

#[derive(Debug)]
pub enum CommandFailure {
    /// The input cannot be processed; the message says why.
    InvalidInput(String),
    /// Writing the result failed.
    Output(std::io::Error),
    /// The core refused or failed; its code decides the exit status.
    Kontor(KontorError),
    /// A bank authentication ended in an error.
    Flow { flow_id: String, error: KontorError },
    /// Already reported line by line (e.g. `sync --all`); only the exit status is left.
    Reported(u8),
}

impl CommandFailure {
    /// The failure as the core's error type, for the JSON error line.
    pub fn as_error(&self) -> KontorError {
        match self {
            Self::InvalidInput(message) => KontorError::invalid_input(message.clone()),
            Self::Output(err) => KontorError::new(ErrorCode::Io, format!("Could not write the result: {err}")),
            Self::Kontor(err) | Self::Flow { error: err, .. } => err.clone(),
            Self::Reported(_) => KontorError::internal("Some connections failed; see above."),
        }
    }

    pub fn exit_status(&self) -> u8 {
        match self {
            Self::InvalidInput(_) => EXIT_INVALID_INPUT,
            Self::Output(_) => EXIT_FAILURE,
            Self::Reported(status) => *status,
            Self::Kontor(err) | Self::Flow { error: err, .. } => match err.code {
                ErrorCode::InvalidInput => EXIT_INVALID_INPUT,
                ErrorCode::ScaCancelled => EXIT_CANCELLED,
                _ => EXIT_FAILURE,
            },
        }
    }
}

impl From<KontorError> for CommandFailure {
    fn from(err: KontorError) -> Self {
        Self::Kontor(err)
    }
}

impl fmt::Display for CommandFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidInput(message) => write!(f, "invalid input: {message}"),
            Self::Output(err) => write!(f, "could not write the result: {err}"),
            Self::Reported(_) => write!(f, "some connections failed"),
            Self::Kontor(err) | Self::Flow { error: err, .. } => {
                write!(f, "{}", err.message)?;
                if let Some(bank) = &err.bank_message {
                    write!(f, "\n  the bank says: {bank}")?;
                }
                if let Some(at) = &err.retry_at {
                    write!(f, "\n  try again after {}", at.to_rfc3339())?;
                }
                write!(f, " [{:?}]", err.code)
            }
        }
    }
}

/// Prints `value` as one line of JSON on stdout.
pub fn print_json(value: &impl Serialize) -> Result<(), CommandFailure> {
    let line = serde_json::to_string(value).map_err(|err| CommandFailure::Output(err.into()))?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}").and_then(|()| stdout.flush()).map_err(CommandFailure::Output)
}

/// A `{"type":"result","kind":…, …}` line: `body` is flattened into it, so it must serialize as a map.
#[derive(Debug, Serialize)]
struct ResultLine<'a, T: Serialize> {
    #[serde(rename = "type")]
    line: &'static str,
    kind: &'a str,
    #[serde(flatten)]
    body: &'a T,
}

/// Prints the `--json` protocol's result line of the given kind.
pub fn print_result<T: Serialize>(kind: &str, body: &T) -> Result<(), CommandFailure> {
    print_json(&ResultLine { line: "result", kind, body })
}

/// Prints a line of text for people on stdout.
pub fn print_text(text: &str) -> Result<(), CommandFailure> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{text}").and_then(|()| stdout.flush()).map_err(CommandFailure::Output)
}

/// Writes a note for people on stderr (prompts, progress, warnings). Failures to write are ignored: there is
/// nowhere left to report them.
pub fn note(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{text}");
    let _ = stderr.flush();
}

/// The JSON error line of `--json` mode.
#[derive(Debug, Serialize)]
struct ErrorLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    flow_id: Option<&'a str>,
    #[serde(flatten)]
    error: &'a KontorError,
}

/// Prints an error as the `--json` protocol's `{"type":"error",…}` line.
pub fn print_error_line(error: &KontorError, flow_id: Option<&str>) -> Result<(), CommandFailure> {
    print_json(&ErrorLine { kind: "error", flow_id, error })
}

/// Reports a failure (stderr, or an error line in `--json` mode) and turns the outcome into the exit status.
pub fn finish(outcome: Result<(), CommandFailure>, json: bool) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(CommandFailure::Reported(status)) => ExitCode::from(status),
        Err(failure) => {
            if json {
                let flow_id = match &failure {
                    CommandFailure::Flow { flow_id, .. } => Some(flow_id.as_str()),
                    _ => None,
                };
                let _ = print_error_line(&failure.as_error(), flow_id);
            } else {
                note(&format!("error: {failure}"));
            }
            ExitCode::from(failure.exit_status())
        }
    }
}
