//! `kontor dev`: tools for developers, not for bank data. `dev seed` fills the vault with realistic
//! made-up transactions through the sync path (see `kontor_core::seed`), for tests and benchmarks, and marks
//! the onboarding done so the desktop app opens such a vault on its overview.

use chrono::NaiveDate;
use clap::{Args, Subcommand};
use kontor_core::seed::{self, SeedSpec};
use kontor_core::vault::VaultPaths;
use serde::Serialize;

use super::{CommandFailure, print_result, print_text};
use crate::session::{Globals, Session};

#[derive(Debug, Subcommand)]
pub enum DevCommand {
    /// Fill the vault with N realistic made-up transactions (deterministic for a seed and end date).
    Seed(SeedArgs),
}

#[derive(Debug, Args)]
pub struct SeedArgs {
    /// How many transactions.
    #[arg(long, value_name = "N")]
    transactions: u64,
    /// The generator's seed: the same seed gives the same transactions.
    #[arg(long, value_name = "N", default_value_t = 1)]
    seed: u64,
    /// How many accounts (1 to 6), of very different sizes.
    #[arg(long, value_name = "N", default_value_t = 6, value_parser = clap::value_parser!(u8).range(1..=6))]
    accounts: u8,
    /// Over how many years, ending at --until.
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=50))]
    years: u32,
    /// The newest booking date (YYYY-MM-DD; default today).
    #[arg(long, value_name = "DATE")]
    until: Option<NaiveDate>,
}

#[derive(Debug, Serialize)]
struct Seeded {
    connection_id: String,
    accounts: Vec<String>,
    transactions: u64,
    /// The vault file's size after a checkpoint.
    database_bytes: u64,
}

pub fn run(command: DevCommand, globals: &Globals) -> Result<(), CommandFailure> {
    let DevCommand::Seed(args) = command;
    let session = Session::open(globals)?;
    let until = args.until.unwrap_or_else(|| session.kontor.clock().now().date_naive());
    let mut spec = SeedSpec::new(args.transactions, args.seed, until);
    spec.accounts = usize::from(args.accounts);
    spec.years = args.years;
    // A seeded vault opens on the overview, not on the first-run welcome (the benchmarks and the
    // million-row WebDriver test start the app on it).
    // Filling a large existing vault: its page check first, so that the writes can be checkpointed
    // into the file as they go instead of waiting in the WAL (see kontor_core::store).
    session.kontor.check_pages()?;
    let outcome = seed::fill(&session.kontor, &spec).and_then(|report| {
        session.kontor.complete_onboarding()?;
        Ok(report)
    });
    let closed = session.kontor.close();
    let report = outcome?;
    closed?;
    let database_bytes =
        std::fs::metadata(VaultPaths::new(session.kontor.data_dir()).database()).map(|m| m.len()).unwrap_or_default();
    let seeded = Seeded {
        connection_id: report.connection_id.to_string(),
        accounts: report.accounts.iter().map(ToString::to_string).collect(),
        transactions: report.transactions,
        database_bytes,
    };
    if globals.json {
        return print_result("seeded", &seeded);
    }
    let per_row = database_bytes.checked_div(seeded.transactions).unwrap_or_default();
    print_text(&format!(
        "Seeded {} transactions in {} accounts (connection {}); the vault is {} bytes, {per_row} per transaction.",
        seeded.transactions,
        seeded.accounts.len(),
        seeded.connection_id,
        database_bytes
    ))
}
