//! `kontor`: Kontor without a window, on the same encrypted vault as the desktop app.
//!
//! For people, commands print readable text and ask for what the bank needs on the terminal. With `--json`,
//! stdout carries only JSON lines (requests, progress, results, errors) and answers are read as JSON lines on
//! stdin; `docs/cli.md` is the protocol. Exit status: 0 ok, 1 failure, 2 invalid input or usage, 3 cancelled.
//!
//! Each subcommand group lives in its own module under [`commands`] and is wired into [`Command`] here;
//! [`session`] opens the vault (and the Demo Bank), [`conversation`] plays a bank authentication with the user
//! or the program on the other end.

mod commands;
mod conversation;
mod loopback;
mod session;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use commands::{CommandFailure, EXIT_INVALID_INPUT};
use session::Globals;

#[derive(Debug, Parser)]
#[command(name = "kontor", version, about = "Kontor banking from the command line")]
struct Cli {
    /// The data directory with the vault (default: $KONTOR_DATA_DIR, else the platform's data directory).
    #[arg(long, global = true, value_name = "PATH")]
    data_dir: Option<PathBuf>,

    /// Machine mode: JSON lines on stdout (requests, progress, results, errors), JSON answers on stdin.
    #[arg(long, global = true)]
    json: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// TAN challenges: chipTAN flicker codes and photoTAN images.
    #[command(subcommand)]
    Tan(commands::tan::TanCommand),
    /// Provider configurations (finAPI or finX client credentials).
    #[command(subcommand)]
    Provider(commands::provider::ProviderCommand),
    /// Banks a provider can reach.
    #[command(subcommand)]
    Banks(commands::provider::BanksCommand),
    /// Link a bank: log in and authenticate, then download accounts and transactions.
    Link(commands::flows::LinkArgs),
    /// Fetch new data for one connection, or for all with --all.
    Sync(commands::flows::SyncArgs),
    /// List the linked banks.
    Connections,
    /// List the accounts with their balances.
    Accounts,
    /// Name, hide, show or keep an account.
    #[command(subcommand)]
    Account(commands::connections::AccountCommand),
    /// Renew a connection's consent (finAPI): the bank asks to confirm; accounts and history stay.
    Renew(commands::flows::RenewArgs),
    /// Remove a connection: at the provider where it can, and its accounts and transactions from Kontor.
    Remove {
        /// The connection id from `kontor connections`.
        connection_id: String,
        /// Really remove it (without: print what would be removed and exit 2).
        #[arg(long)]
        yes: bool,
    },
    /// The sync history, newest first: every sync's outcome, changes and errors.
    History {
        /// Only this connection's syncs.
        #[arg(long, value_name = "CONNECTION_ID")]
        connection: Option<String>,
    },
    /// List transactions, newest first, with filters; prints the count and sum of the filtered set.
    Transactions(commands::data::TransactionsArgs),
    /// Export the transactions the filters match as CSV or JSON.
    Export(commands::data::ExportArgs),
    /// The vault itself: `vault check` reads every page (damage is found there, not on open).
    #[command(subcommand)]
    Vault(commands::vault::VaultCommand),
    /// Developer tools (e.g. `dev seed`: a vault full of made-up transactions).
    #[command(subcommand)]
    Dev(commands::dev::DevCommand),
    /// List bank authentications waiting for the user (e.g. an unfinished redirect).
    Flows,
    /// finX income reports stored in the vault: all of them, or one in full.
    IncomeReport {
        /// The report id (finX's link id) from the list.
        id: Option<String>,
    },
    /// Resume a pending redirect with the address the bank sent the browser to (kontor://… or loopback).
    Callback {
        /// The full callback URL, with its `state` parameter.
        url: String,
    },
    /// Cancel a pending bank authentication.
    Cancel {
        /// The flow id from `kontor flows` or a request line.
        flow_id: String,
    },
}

fn main() -> ExitCode {
    // Arguments as the OS gave them: a path need not be UTF-8, and clap refuses text arguments that are
    // not UTF-8 with a usage error (exit 2) instead of the panic of `std::env::args`.
    let args: Vec<OsString> = std::env::args_os().collect();
    let json_requested = prints_json(&args);
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(err) if json_requested && err.use_stderr() => {
            let failure = CommandFailure::InvalidInput(usage_message(&err));
            let _ = commands::print_error_line(&failure.as_error(), None);
            return ExitCode::from(EXIT_INVALID_INPUT);
        }
        Err(err) => err.exit(),
    };
    init_logging();
    // `tan decode` always prints JSON, its errors too (docs/cli.md).
    let json = cli.json || matches!(cli.command, Command::Tan(_));
    let globals = Globals { data_dir: cli.data_dir, json };
    let outcome = match cli.command {
        Command::Tan(command) => commands::tan::run(command),
        command => run_async(command, &globals),
    };
    commands::finish(outcome, globals.json)
}

/// Whether the command line asks for JSON output, read before parsing so that usage errors come as JSON too:
/// `--json` anywhere, or the `tan` command, which always prints JSON.
fn prints_json(args: &[OsString]) -> bool {
    let mut rest = args.iter().skip(1);
    let mut first_command = None;
    while let Some(arg) = rest.next() {
        if arg == "--json" {
            return true;
        }
        if arg == "--data-dir" {
            rest.next();
        } else if first_command.is_none() && !arg.as_encoded_bytes().starts_with(b"-") {
            first_command = Some(arg);
        }
    }
    first_command.is_some_and(|c| c == "tan")
}

/// clap's first line without its `error: ` prefix and styling, e.g. "invalid UTF-8 was detected in one or more
/// arguments" or "unexpected argument '--x' found".
fn usage_message(err: &clap::Error) -> String {
    let text = err.render().to_string();
    let first = text.lines().next().unwrap_or_default();
    let first = first.strip_prefix("error: ").unwrap_or(first).trim();
    if first.is_empty() { err.kind().to_string() } else { first.to_owned() }
}

fn run_async(command: Command, globals: &Globals) -> Result<(), CommandFailure> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|err| {
        CommandFailure::Kontor(kontor_core::KontorError::internal(format!("No async runtime: {err}")))
    })?;
    let outcome = runtime.block_on(async move {
        match command {
            Command::Tan(command) => commands::tan::run(command),
            Command::Provider(command) => commands::provider::run(command, globals).await,
            Command::Banks(command) => commands::provider::run_banks(command, globals).await,
            Command::Link(args) => commands::flows::link(args, globals).await,
            Command::Sync(args) => commands::flows::sync(args, globals).await,
            Command::Connections => commands::data::connections(globals),
            Command::Accounts => commands::data::accounts(globals),
            Command::Account(command) => commands::connections::account(command, globals),
            Command::Renew(args) => commands::flows::renew(args, globals).await,
            Command::Remove { connection_id, yes } => commands::connections::remove(&connection_id, yes, globals).await,
            Command::History { connection } => commands::connections::history(connection.as_deref(), globals),
            Command::Transactions(args) => commands::data::transactions(args, globals),
            Command::Export(args) => commands::data::export(args, globals),
            Command::Dev(command) => commands::dev::run(command, globals),
            Command::Vault(command) => commands::vault::run(command, globals),
            Command::Flows => commands::data::flows(globals),
            Command::IncomeReport { id } => commands::data::income_report(id.as_deref(), globals),
            Command::Callback { url } => commands::flows::callback(&url, globals).await,
            Command::Cancel { flow_id } => commands::flows::cancel(&flow_id, globals).await,
        }
    });
    // A stdin read may still be blocked on its thread; do not wait for it.
    runtime.shutdown_background();
    outcome
}

/// Logs go to stderr, and only when `KONTOR_LOG` (a tracing filter such as `info` or `kontor_core=debug`) is set.
fn init_logging() {
    let Some(filter) = std::env::var("KONTOR_LOG").ok().filter(|f| !f.trim().is_empty()) else { return };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}
