//! `kontor-sandbox`: runs the Demo Bank until killed.
//!
//! Prints the base URL (`http://127.0.0.1:<port>`) as the first line on stdout, so scripts and the CLI tests can
//! read it, then serves until SIGINT/SIGTERM.

use std::io::Write as _;
use std::time::Duration;

use clap::Parser;
use kontor_sandbox::{ApiVersion, DemoBank, DemoBankConfig};

/// The Demo Bank: a local finAPI-compatible server with test banks and seeded German demo data.
#[derive(Debug, Parser)]
#[command(name = "kontor-sandbox", version)]
struct Args {
    /// Port on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Seed of the generated data.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Minimum time between two decoupled polls, in milliseconds.
    #[arg(long, default_value_t = 5000)]
    decoupled_poll_interval_ms: u64,
    /// How many polls answer DECOUPLED_AUTH_IN_PROGRESS before approval.
    #[arg(long, default_value_t = 2)]
    decoupled_polls: u32,
    /// Reads of a bank connection that still say IN_PROGRESS after an import or update.
    #[arg(long, default_value_t = 1)]
    download_reads: u32,
    /// Extra generated transactions per account (benchmarks).
    #[arg(long, default_value_t = 0)]
    bulk_transactions: u64,
    /// Bind the demo client to one API version: v1 or v2 (default: both allowed).
    #[arg(long)]
    api_version: Option<String>,
    /// Token lifetime in seconds (client and user tokens).
    #[arg(long, default_value_t = 3600)]
    token_lifetime_secs: u64,
    /// Updates need SCA like imports.
    #[arg(long)]
    sca_on_update: bool,
    /// Days the consent of a finAPI import lasts (renewals get the usual 90); default: KONTOR_DEMO_IMPORT_CONSENT_DAYS, else 90.
    #[arg(long)]
    import_consent_days: Option<i64>,
    /// The bank's "today" (YYYY-MM-DD); default: the local date.
    #[arg(long)]
    today: Option<chrono::NaiveDate>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let client_api_version = match args.api_version.as_deref() {
        None => None,
        Some("v1") => Some(ApiVersion::V1),
        Some("v2") => Some(ApiVersion::V2),
        Some(other) => return Err(format!("--api-version must be v1 or v2, not {other}").into()),
    };
    let defaults = DemoBankConfig::default().with_environment();
    let import_consent_days = match args.import_consent_days {
        Some(days) if days < 1 => return Err("--import-consent-days must be at least 1".into()),
        Some(days) => Some(days),
        None => defaults.import_consent_days,
    };
    let config = DemoBankConfig {
        port: args.port,
        seed: args.seed,
        client_api_version,
        client_token_lifetime: Duration::from_secs(args.token_lifetime_secs),
        user_token_lifetime: Duration::from_secs(args.token_lifetime_secs),
        decoupled_in_progress_polls: args.decoupled_polls,
        decoupled_min_poll_interval: Duration::from_millis(args.decoupled_poll_interval_ms),
        download_in_progress_reads: args.download_reads,
        bulk_transactions_per_account: args.bulk_transactions,
        sca_on_update: args.sca_on_update,
        import_consent_days,
        today: args.today,
        ..defaults
    };
    let bank = DemoBank::start(config).await?;
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{}", bank.base_url())?;
        stdout.flush()?;
    }
    wait_for_termination().await;
    let _ = tokio::time::timeout(kontor_sandbox::SHUTDOWN_GRACE, bank.shutdown()).await;
    Ok(())
}

async fn wait_for_termination() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
