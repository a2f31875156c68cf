//! `kontor`: Kontor without a window. Every command prints one JSON object per result on stdout; failures go
//! to stderr as a sentence, with exit status 2 for invalid input and 1 for everything else.
//!
//! Each subcommand group lives in its own module under [`commands`] and is wired into [`Command`] here.

mod commands;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "kontor", version, about = "Kontor banking from the command line; prints JSON")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// TAN challenges: chipTAN flicker codes and photoTAN images.
    #[command(subcommand)]
    Tan(commands::tan::TanCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Tan(command) => commands::tan::run(command),
    };
    commands::finish(outcome)
}
