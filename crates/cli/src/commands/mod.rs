//! Subcommand groups of the `kontor` binary and what they share: how results are printed and how failures
//! become exit statuses.
//!
//! A command returns `Result<(), CommandFailure>`; [`finish`] prints the failure and picks the status, so no
//! command writes to stderr or exits by itself.

pub mod tan;

use std::fmt;
use std::io::Write as _;
use std::process::ExitCode;

use serde::Serialize;

/// Exit status for input the user can fix (the same status clap uses for usage errors).
const EXIT_INVALID_INPUT: u8 = 2;
const EXIT_FAILURE: u8 = 1;

#[derive(Debug)]
pub enum CommandFailure {
    /// The input cannot be processed; the message says why.
    InvalidInput(String),
    /// Writing the result failed.
    Output(std::io::Error),
}

impl fmt::Display for CommandFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidInput(message) => write!(f, "invalid input: {message}"),
            Self::Output(err) => write!(f, "could not write the result: {err}"),
        }
    }
}

/// Prints `value` as one line of JSON on stdout.
pub fn print_json(value: &impl Serialize) -> Result<(), CommandFailure> {
    let line = serde_json::to_string(value).map_err(|err| CommandFailure::Output(err.into()))?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}").and_then(|()| stdout.flush()).map_err(CommandFailure::Output)
}

/// Reports a failure on stderr and turns the outcome into the process's exit status.
pub fn finish(outcome: Result<(), CommandFailure>) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            let _ = writeln!(std::io::stderr(), "error: {failure}");
            match failure {
                CommandFailure::InvalidInput(_) => ExitCode::from(EXIT_INVALID_INPUT),
                CommandFailure::Output(_) => ExitCode::from(EXIT_FAILURE),
            }
        }
    }
}
