//! How a Demo Bank is set up: seed, demo client, token lifetimes, SCA pacing, data volume.

use std::path::PathBuf;
use std::time::Duration;

use chrono::NaiveDate;

use crate::finapi::ApiVersion;

/// The demo client's default id (`client_id` of the token endpoint).
pub const DEFAULT_CLIENT_ID: &str = "kontor-demo";
/// The demo client's default secret.
pub const DEFAULT_CLIENT_SECRET: &str = "kontor-demo-secret";

/// The environment variable that shortens (or lengthens) the Demo Bank's finAPI consents.
pub const IMPORT_CONSENT_DAYS_ENV: &str = "KONTOR_DEMO_IMPORT_CONSENT_DAYS";

/// Configuration of one Demo Bank instance. `Default` gives the interactive settings (the ones the desktop app
/// and the `kontor-sandbox` binary use); [`DemoBankConfig::for_tests`] gives fast ones.
#[derive(Debug, Clone)]
pub struct DemoBankConfig {
    /// TCP port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Everything generated (IBANs, holders, bookings) is a pure function of this seed and `today`.
    pub seed: u64,
    /// The demo client's credentials.
    pub client_id: String,
    pub client_secret: String,
    /// `None` (default): the demo client may use both `/api/v1` and `/api/v2`. `Some(v)`: it is bound to `v`, and
    /// the other version answers 403 "API Version mismatch". Independently of this, the clients
    /// `<client_id>-v1` and `<client_id>-v2` (same secret) always exist and are bound to v1 and v2.
    pub client_api_version: Option<ApiVersion>,
    /// `expires_in` of client tokens (`client_credentials`).
    pub client_token_lifetime: Duration,
    /// `expires_in` of user tokens (`password`, `refresh_token` grants).
    pub user_token_lifetime: Duration,
    /// Lifetime of refresh tokens.
    pub refresh_token_lifetime: Duration,
    /// How many polls answer `DECOUPLED_AUTH_IN_PROGRESS` before the decoupled approval succeeds.
    pub decoupled_in_progress_polls: u32,
    /// Decoupled polls closer together than this are refused with HTTP 429 (finAPI asks for ≤ 1 poll / 5 s).
    pub decoupled_min_poll_interval: Duration,
    /// After an import or update, how many reads of the bank connection still report `updateStatus`
    /// `IN_PROGRESS` before it turns `READY`.
    pub download_in_progress_reads: u32,
    /// How long a download runs at most: after this it is done even if nobody read the connection.
    pub download_lasts: Duration,
    /// Extra, lazily generated transactions per account (for benchmarks), on top of the ~6 months of
    /// realistic history. At most 8,999,999.
    pub bulk_transactions_per_account: u64,
    /// Whether updates of a connection go through the same multi-step authentication as the import
    /// (default false: updates run on the stored consent without SCA).
    pub sca_on_update: bool,
    /// How long a finAPI consent lasts from the import (or its last renewal); an update after that is
    /// refused once with 422 `INVALID_CONSENT`, and the next one renews it with login and SCA. Default
    /// 90 days.
    pub consent_lifetime: Duration,
    /// The bank's "today" (the end of the generated history). `None`: the local date at start-up.
    pub today: Option<NaiveDate>,
    /// Where the bank keeps its users, connections (with accounts, bookings and update counters) and tokens
    /// between runs, as JSON written atomically after every change and read at start. `None` (default): memory
    /// only. Generated data stays a function of the seed; the file only remembers what the clients did.
    pub state_file: Option<PathBuf>,
    /// The finX face: code/token lifetimes, consent, sync pacing (`crate::finx::FinxConfig`).
    pub finx: crate::finx::FinxConfig,
    /// Days the consent of an import lasts, when set: it overrides `consent_lifetime` for imports only,
    /// so a client can see a consent near its end and renew it (renewals get `consent_lifetime`). The
    /// app and the CLI read `KONTOR_DEMO_IMPORT_CONSENT_DAYS` ([`DemoBankConfig::with_environment`]);
    /// `kontor-sandbox` has `--import-consent-days`. `None` (default): imports get `consent_lifetime`.
    pub import_consent_days: Option<i64>,
}

impl Default for DemoBankConfig {
    fn default() -> Self {
        Self {
            port: 0,
            seed: 1,
            client_id: DEFAULT_CLIENT_ID.to_owned(),
            client_secret: DEFAULT_CLIENT_SECRET.to_owned(),
            client_api_version: None,
            client_token_lifetime: Duration::from_secs(3600),
            user_token_lifetime: Duration::from_secs(3600),
            refresh_token_lifetime: Duration::from_secs(30 * 24 * 3600),
            decoupled_in_progress_polls: 2,
            decoupled_min_poll_interval: Duration::from_secs(5),
            download_in_progress_reads: 1,
            download_lasts: Duration::from_secs(20),
            bulk_transactions_per_account: 0,
            sca_on_update: false,
            consent_lifetime: Duration::from_secs(90 * 24 * 3600),
            today: None,
            state_file: None,
            finx: crate::finx::FinxConfig::default(),
            import_consent_days: None,
        }
    }
}

impl DemoBankConfig {
    /// Takes the settings the environment may override: [`IMPORT_CONSENT_DAYS_ENV`] (whole days,
    /// at least 1; anything else is ignored).
    pub fn with_environment(self) -> Self {
        let days = std::env::var(IMPORT_CONSENT_DAYS_ENV).ok().and_then(|v| v.trim().parse::<i64>().ok());
        Self { import_consent_days: days.filter(|d| *d >= 1).or(self.import_consent_days), ..self }
    }

    /// Fast settings for tests: no decoupled poll interval, no `IN_PROGRESS` reads, a fixed `today`
    /// (2025-06-15) so the data does not change with the calendar.
    pub fn for_tests() -> Self {
        Self {
            decoupled_min_poll_interval: Duration::ZERO,
            download_in_progress_reads: 0,
            today: NaiveDate::from_ymd_opt(2025, 6, 15),
            ..Self::default()
        }
    }
}
