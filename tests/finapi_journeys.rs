//! Journeys: the `Kontor` facade against the real Demo Bank (`kontor_sandbox::DemoBank` on
//! 127.0.0.1:0, real HTTP), with a real SQLCipher vault (passphrase) in a temporary directory and the
//! real OS keyring (a throwaway service per test; run inside `tests/support/desktop-session.sh`).
//!
//! Every journey exists for finAPI v1 and v2 (`<journey>_v1`, `<journey>_v2`): the provider
//! configuration uses the Demo Bank client bound to that version, so a wrong path or field name
//! fails with "API Version mismatch".
//!
//! - Link journeys link a connection and re-sync it, checking accounts (2 checking + 1 savings),
//!   transaction counts and balances against the Demo Bank's generator, the sync journal, and that a
//!   re-sync adds exactly the new bookings.
//! - Failure journeys check the exact error code, a message for people, the bank's text where it
//!   sent one, that the vault holds no half-written connection, and that a retry succeeds.
//!
//! The Kontor clock is a manual clock on the Demo Bank's test "today" (2025-06-15), so sync windows
//! line up with the generated data.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use chrono::{NaiveDate, TimeZone, Utc};
use kontor_core::api::Kontor;
use kontor_core::api::link::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, LinkOptions};
use kontor_core::api::link_dto::{FlowUpdate, NewProviderConfig, StartLink, WorkStep};
use kontor_core::clock::{ManualClock, SharedClock};
use kontor_core::domain::{AccountType, BookingStatus, ConnectionId, FlowId, ProviderKind};
use kontor_core::provider::finapi::RetryPolicy;
use kontor_core::provider::{LoginValue, TanChallenge};
use kontor_core::sca::{FlowStore, UserAnswer, UserRequest};
use kontor_core::secret::SecretString;
use kontor_core::vault::{OsKeyring, SecretStore};
use kontor_core::{ErrorCode, KontorError};
use kontor_sandbox::data::{self, GeneratedAccount};
use kontor_sandbox::{DemoBank, DemoBankConfig, RunningDemoBank};
use rust_decimal::Decimal;

type TestResult = Result<(), String>;

const CALLBACK: &str = "kontor://sca-callback";
/// Rows each Demo Bank update books: the oldest pending Girokonto row, a Girokonto card payment and
/// a Haushaltskonto row (sandbox README, "Updates").
const BOOKED_PER_UPDATE: usize = 3;

fn fail<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> String + '_ {
    move |e| format!("{what}: {e}")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    V1,
    V2,
}

impl Version {
    fn client_id(self) -> String {
        match self {
            Self::V1 => format!("{DEMO_CLIENT_ID}-v1"),
            Self::V2 => format!("{DEMO_CLIENT_ID}-v2"),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::V1 => "v1",
            Self::V2 => "v2",
        }
    }
}

/// How the test answers the bank's questions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sca {
    /// Choose this embedded procedure of bank 280001 and expect this kind of challenge.
    Embedded { procedure: &'static str, expect: Challenge },
    /// Approve on the Demo Bank's redirect page.
    Redirect,
    /// Approve in the app (the driver polls).
    Decoupled,
    /// Name all IBANs (DETAILED_CONSENT), then TAN.
    Consent,
    /// `demo_no_msa`: no SCA at all.
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Challenge {
    Text,
    Flicker,
    Photo,
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 6, 15).unwrap_or_default()
}

/// One Demo Bank, one vault, one keyring service, one provider configuration.
struct Env {
    version: Version,
    bank: RunningDemoBank,
    seed: u64,
    kontor: Kontor,
    keyring: Arc<OsKeyring>,
    config_id: String,
    _dir: tempfile::TempDir,
    /// Set to arm `truncate_next(1)` when the next download starts (see [`Env::truncate_at_download`]).
    truncate_at_download: Arc<AtomicBool>,
    /// Set to cut the answer *after* the download's first read (the connection's status), i.e. the
    /// accounts GET (see [`options`]).
    truncate_after_status: Arc<AtomicBool>,
    steps: Arc<Mutex<Vec<WorkStep>>>,
}

impl Drop for Env {
    fn drop(&mut self) {
        for name in [format!("provider-secret:{}", self.config_id), format!("provider-user:{}", self.config_id)] {
            let _ = self.keyring.delete(&name);
        }
    }
}

fn unique_service() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("dev.kontor.Kontor.test-{}-{}-{nanos}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

fn options(
    env_truncate: &Arc<AtomicBool>,
    env_truncate_after_status: &Arc<AtomicBool>,
    faults: kontor_sandbox::FaultSwitch,
    steps: &Arc<Mutex<Vec<WorkStep>>>,
) -> LinkOptions {
    let truncate = env_truncate.clone();
    let after_status = env_truncate_after_status.clone();
    let steps = steps.clone();
    LinkOptions {
        poll_interval_ms: 0,
        callback_url: CALLBACK.to_owned(),
        download_poll_interval: StdDuration::from_millis(10),
        download_max_polls: 20,
        retry: RetryPolicy {
            max_attempts: 3,
            base_delay: StdDuration::from_millis(20),
            max_wait: StdDuration::from_secs(2),
        },
        progress: Some(Arc::new(move |update: &FlowUpdate| {
            if let FlowUpdate::Working { step, .. } = update {
                steps.lock().unwrap_or_else(|e| e.into_inner()).push(*step);
                if *step == WorkStep::Downloading && truncate.swap(false, Ordering::SeqCst) {
                    faults.truncate_next(1);
                }
                if *step == WorkStep::Downloading && after_status.swap(false, Ordering::SeqCst) {
                    // The download's first request (the connection's status) is held back 200 ms by
                    // `delay_next`; as soon as it has taken its share of the plan, the *next*
                    // request (the accounts GET) is armed to be cut.
                    faults.delay_next(1, StdDuration::from_millis(200));
                    let faults = faults.clone();
                    tokio::spawn(async move {
                        for _ in 0..2000 {
                            if faults.plan().delayed == 0 {
                                faults.truncate_next(1);
                                return;
                            }
                            tokio::time::sleep(StdDuration::from_millis(1)).await;
                        }
                    });
                }
            }
        })),
        ..LinkOptions::default()
    }
}

async fn env_with(version: Version, tweak: impl FnOnce(&mut DemoBankConfig)) -> Result<Env, String> {
    let mut config = DemoBankConfig::for_tests();
    tweak(&mut config);
    let seed = config.seed;
    let bank = DemoBank::start(config).await.map_err(fail("start the Demo Bank"))?;
    let dir = tempfile::tempdir().map_err(fail("tempdir"))?;
    let keyring = Arc::new(OsKeyring::new(unique_service()));
    let clock: SharedClock =
        Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2025, 6, 15, 12, 0, 0).single().unwrap_or_default()));
    let kontor = Kontor::new(dir.path(), keyring.clone(), clock);
    kontor.create_with_passphrase(&SecretString::new("journey passphrase".into())).map_err(fail("create vault"))?;
    let truncate_at_download = Arc::new(AtomicBool::new(false));
    let truncate_after_status = Arc::new(AtomicBool::new(false));
    let steps = Arc::new(Mutex::new(Vec::new()));
    kontor.set_link_options(options(&truncate_at_download, &truncate_after_status, bank.faults(), &steps));
    let config = kontor
        .add_provider_config(NewProviderConfig {
            kind: ProviderKind::Finapi,
            label: format!("Demo Bank {}", version.name()),
            base_url: bank.base_url(),
            client_id: version.client_id(),
            client_secret: SecretString::new(DEMO_CLIENT_SECRET.into()),
            api_version: Some(version.name().into()),
            is_demo: false,
        })
        .map_err(fail("add the provider (is the Secret Service running? use tests/support/desktop-session.sh)"))?;
    Ok(Env {
        version,
        bank,
        seed,
        kontor,
        keyring,
        config_id: config.id,
        _dir: dir,
        truncate_at_download,
        truncate_after_status,
        steps,
    })
}

async fn env(version: Version) -> Result<Env, String> {
    env_with(version, |_| {}).await
}

fn flow_id(update: &FlowUpdate) -> Result<String, String> {
    match update {
        FlowUpdate::NeedsInput { flow_id, .. } => Ok(flow_id.clone()),
        other => Err(format!("expected a question, got {other:?}")),
    }
}

fn login_values(fields: &[kontor_core::provider::LoginField], login: &str, pin: &str) -> Vec<LoginValue> {
    fields
        .iter()
        .map(|f| LoginValue {
            label: f.label.clone(),
            value: SecretString::new(if f.secret { pin.to_owned() } else { login.to_owned() }),
        })
        .collect()
}

/// Plays the user of the Demo Bank's redirect page: GET `<url>/<action>` without following the
/// redirect, and returns the `Location` (Kontor's callback URL).
async fn browser(url: &str, action: &str) -> Result<String, String> {
    let http =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().map_err(fail("http client"))?;
    let response = http.get(format!("{url}/{action}")).send().await.map_err(fail("open the bank page"))?;
    if response.status().as_u16() != 303 {
        return Err(format!("the bank page answered {} instead of 303", response.status()));
    }
    response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .ok_or_else(|| "no Location header".to_owned())
}

impl Env {
    fn bank_id(sca: Sca) -> &'static str {
        match sca {
            Sca::Embedded { .. } | Sca::None => "280001",
            Sca::Redirect => "280002",
            Sca::Consent => "280003",
            Sca::Decoupled => "280004",
        }
    }

    fn generated(&self, bank_id: &str, login: &str) -> Vec<GeneratedAccount> {
        let catalog = kontor_sandbox::finapi::banks::catalog(self.seed);
        let Some(bank) = bank_id.parse().ok().and_then(|id| catalog.get(id)) else { return Vec::new() };
        data::generate_login(self.seed, &bank.identity(), login, today())
    }

    async fn start(&self, bank_id: &str) -> Result<FlowUpdate, String> {
        let start = StartLink {
            provider_config_id: self.config_id.clone(),
            bank_id: bank_id.to_owned(),
            interface: None,
            callback_url: None,
        };
        self.kontor.start_link(start).await.map_err(fail("start_link"))
    }

    /// Answers every question the way a user of `sca` would, until the flow is done or failed.
    async fn drive(&self, mut update: FlowUpdate, sca: Sca, login: &str) -> Result<FlowUpdate, String> {
        let k = &self.kontor;
        for _ in 0..20 {
            let FlowUpdate::NeedsInput { flow_id, request, error } = &update else { return Ok(update) };
            if let Some(error) = error {
                return Err(format!("unexpected refusal: {error}"));
            }
            let answer = match request {
                UserRequest::EnterCredentials { fields, .. } => {
                    UserAnswer::Credentials { values: login_values(fields, login, login), store_secrets: false }
                }
                UserRequest::SelectAccounts { .. } => UserAnswer::Accounts {
                    ibans: self.generated("280003", login).into_iter().map(|a| a.iban).collect(),
                },
                UserRequest::ChooseProcedure { procedures, .. } => match sca {
                    Sca::Embedded { procedure, .. } => {
                        let chosen = procedures
                            .iter()
                            .find(|p| p.name == procedure)
                            .ok_or_else(|| format!("the bank did not offer {procedure}: {procedures:?}"))?;
                        UserAnswer::Procedure { id: chosen.id.clone() }
                    }
                    other => return Err(format!("{other:?} was asked to choose a procedure")),
                },
                UserRequest::EnterTan { challenge, .. } => {
                    let expected = match sca {
                        Sca::Embedded { expect, .. } => expect,
                        _ => Challenge::Text,
                    };
                    match (expected, challenge) {
                        (Challenge::Text, TanChallenge::Text) => {}
                        (Challenge::Flicker, TanChallenge::Flicker { flicker: Some(code), optical_data, .. }) => {
                            if !code.render_hex.eq_ignore_ascii_case(optical_data.trim()) {
                                return Err(format!(
                                    "parsed flicker {} != optical data {optical_data}",
                                    code.render_hex
                                ));
                            }
                        }
                        (Challenge::Photo, TanChallenge::Photo { mime_type, data_base64 })
                            if mime_type == "image/png" && !data_base64.is_empty() => {}
                        (want, got) => return Err(format!("expected a {want:?} challenge, got {got:?}")),
                    }
                    UserAnswer::Tan { tan: SecretString::new(kontor_sandbox::DEMO_TAN.into()) }
                }
                UserRequest::OpenBrowser { url } => {
                    let location = browser(url, "approve").await?;
                    update = k.handle_callback(&location).await.map_err(fail("handle_callback"))?;
                    continue;
                }
                UserRequest::ApproveInApp { .. } => UserAnswer::Continue,
            };
            update = k.answer(flow_id, answer).await.map_err(fail("answer"))?;
        }
        Err(format!("the flow did not end: {update:?}"))
    }

    async fn link(&self, sca: Sca, login: &str) -> Result<(ConnectionId, u32), String> {
        let first = self.start(Self::bank_id(sca)).await?;
        match self.drive(first, sca, login).await? {
            FlowUpdate::Done { connection, added, .. } => Ok((ConnectionId::from(connection.id.as_str()), added)),
            other => Err(format!("link did not finish: {other:?}")),
        }
    }

    async fn sync(&self, id: &ConnectionId) -> Result<FlowUpdate, String> {
        self.kontor.sync_connection(id.as_str()).await.map_err(fail("sync_connection"))
    }

    async fn sync_done(&self, id: &ConnectionId) -> Result<(u32, u32), String> {
        match self.sync(id).await? {
            FlowUpdate::Done { added, updated, .. } => Ok((added, updated)),
            other => Err(format!("sync did not finish: {other:?}")),
        }
    }

    /// How many requests to a path ending in `suffix` the Demo Bank received.
    fn requests_to(&self, suffix: &str) -> usize {
        self.bank.requests().iter().filter(|r| r.path.ends_with(suffix)).count()
    }

    fn connections(&self) -> Result<usize, String> {
        self.kontor.with_store(|s| Ok(s.connections()?.len())).map_err(fail("connections"))
    }

    fn transactions(&self, id: &ConnectionId) -> Result<Vec<kontor_core::domain::Transaction>, String> {
        let rows =
            self.kontor.with_store(|s| s.connection_transactions(id, None)).map_err(fail("connection_transactions"))?;
        Ok(rows.into_iter().map(|(_, t)| t).collect())
    }

    fn journal(&self) -> Result<Vec<kontor_core::store::sync_queries::JournalEntry>, String> {
        self.kontor.with_store(|s| s.sync_journal(50)).map_err(fail("sync_journal"))
    }

    /// Accounts, balances and bookings of `id` are exactly the Demo Bank's after `updates` updates.
    fn check(&self, id: &ConnectionId, bank_id: &str, login: &str, updates: usize) -> TestResult {
        let generated = self.generated(bank_id, login);
        let accounts = self.kontor.with_store(|s| s.connection_accounts(id)).map_err(fail("accounts"))?;
        let kinds: Vec<AccountType> = accounts.iter().map(|a| a.account_type).collect();
        let checking = kinds.iter().filter(|k| **k == AccountType::Checking).count();
        let savings = kinds.iter().filter(|k| **k == AccountType::Savings).count();
        if (accounts.len(), checking, savings) != (3, 2, 1) {
            return Err(format!("expected 2 checking + 1 savings accounts, got {kinds:?}"));
        }
        let all = self.transactions(id)?;
        let distinct: HashSet<(String, String)> =
            all.iter().map(|t| (t.account_id.to_string(), t.provider_id.clone())).collect();
        if distinct.len() != all.len() {
            return Err(format!("duplicate bookings: {} rows, {} distinct", all.len(), distinct.len()));
        }
        let (rows, pending): (Vec<_>, Vec<_>) = all.into_iter().partition(|t| t.status == BookingStatus::Booked);
        // finAPI v2 serves pending rows (`GET /pendingTransactions`); each update books one and adds one.
        let expected_pending = match self.version {
            Version::V1 => 0,
            Version::V2 => generated.iter().map(|a| a.pending.len()).sum(),
        };
        if pending.len() != expected_pending || !pending.iter().all(|t| t.provider_id.starts_with("pending:")) {
            let ids: Vec<&str> = pending.iter().map(|t| t.provider_id.as_str()).collect();
            return Err(format!("expected {expected_pending} pending rows with pending: ids, got {ids:?}"));
        }
        let history: usize = generated.iter().map(|a| a.bookings.len()).sum();
        let expected = history + updates * BOOKED_PER_UPDATE;
        if rows.len() != expected {
            return Err(format!("expected {expected} bookings ({history} + {updates} updates), got {}", rows.len()));
        }
        for account in &accounts {
            let generated = generated
                .iter()
                .find(|g| Some(&g.iban) == account.iban.as_ref())
                .ok_or_else(|| format!("account {:?} is not the Demo Bank's", account.iban))?;
            let sum: Decimal = rows.iter().filter(|t| t.account_id == account.id).map(|t| t.amount.amount).sum();
            let balance = account.balance_booked.map(|m| m.amount);
            if balance != Some(generated.opening_balance + sum) {
                return Err(format!(
                    "{}: balance {balance:?} != opening {} + bookings {sum}",
                    account.name, generated.opening_balance
                ));
            }
        }
        Ok(())
    }
}

fn expect_code(update: &FlowUpdate, code: ErrorCode) -> Result<KontorError, String> {
    match update {
        FlowUpdate::Failed { error, .. } if error.code == code => {
            if error.message.trim().is_empty() {
                return Err("the error has no message".into());
            }
            Ok(error.clone())
        }
        other => Err(format!("expected Failed({code:?}), got {other:?}")),
    }
}

// ---- link and re-sync -------------------------------------------------------------------------

async fn link_and_resync(version: Version, sca: Sca, login: &str) -> TestResult {
    let env = env(version).await?;
    let bank_id = Env::bank_id(sca);
    let (id, added) = env.link(sca, login).await?;
    env.check(&id, bank_id, login, 0)?;
    let generated = env.generated(bank_id, login);
    let pending: usize = if version == Version::V2 { generated.iter().map(|a| a.pending.len()).sum() } else { 0 };
    let history: usize = generated.iter().map(|a| a.bookings.len()).sum::<usize>() + pending;
    if usize::try_from(added).unwrap_or(0) != history {
        return Err(format!("link reported {added} added, the bank has {history}"));
    }
    let journal = env.journal()?;
    let first = journal.first().ok_or("no sync_journal row after linking")?;
    if first.outcome != "succeeded" || first.added != i64::from(added) || first.connection_id.as_ref() != Some(&id) {
        return Err(format!("journal after link: {first:?}"));
    }
    if !env.kontor.pending_flows().map_err(fail("pending"))?.is_empty() {
        return Err("a finished flow is still pending".into());
    }

    // Each Demo Bank update books 2 new rows and one pending row, and adds a pending row: v1 sees the
    // 3 booked rows; v2 the 2 new booked rows, the new pending row, and the pending row turned booked.
    let expected = match version {
        Version::V1 => (3, 0),
        Version::V2 => (3, 1),
    };
    for round in 1..=2 {
        let (added, updated) = env.sync_done(&id).await?;
        if (added, updated) != expected {
            return Err(format!("re-sync {round}: expected {expected:?}, got added {added} updated {updated}"));
        }
        env.check(&id, bank_id, login, round)?;
        let journal = env.journal()?;
        let last = journal.first().ok_or("no journal row")?;
        if last.outcome != "succeeded" || last.added != 3 {
            return Err(format!("journal after re-sync {round}: {last:?}"));
        }
    }
    if env.connections()? != 1 {
        return Err("more than one connection".into());
    }
    env.bank.faults().clear();
    Ok(())
}

macro_rules! journeys {
    ($($name:ident($v:ident) => $body:expr;)*) => {
        $(
            mod $name {
                use super::*;
                #[tokio::test]
                async fn v1() -> TestResult {
                    let $v = Version::V1;
                    $body.await
                }
                #[tokio::test]
                async fn v2() -> TestResult {
                    let $v = Version::V2;
                    $body.await
                }
            }
        )*
    };
}

journeys! {
    link_embedded_sms_tan(v) => link_and_resync(v, Sca::Embedded { procedure: "smsTan", expect: Challenge::Text }, "demo");
    link_embedded_push_tan(v) => link_and_resync(v, Sca::Embedded { procedure: "pushTan", expect: Challenge::Text }, "demo");
    link_embedded_chiptan_optical(v) => link_and_resync(v, Sca::Embedded { procedure: "chipTan optical", expect: Challenge::Flicker }, "demo");
    link_embedded_chiptan_qr(v) => link_and_resync(v, Sca::Embedded { procedure: "chipTan QR", expect: Challenge::Photo }, "demo");
    link_redirect(v) => link_and_resync(v, Sca::Redirect, "demo");
    link_decoupled(v) => link_decoupled(v);
    link_detailed_consent(v) => link_and_resync(v, Sca::Consent, "demo");
    link_demo_no_msa(v) => link_and_resync(v, Sca::None, "demo_no_msa");
    fail_wrong_pin(v) => wrong_pin(v);
    fail_wrong_tan(v) => wrong_tan(v);
    fail_wrong_tan_three_times(v) => wrong_tan_three_times(v);
    fail_redirect_cancelled_at_bank(v) => redirect_cancelled(v);
    fail_callback_with_foreign_state(v) => foreign_state(v);
    fail_stale_hash(v) => stale_hash(v);
    fail_locked_423(v) => locked(v);
    fail_server_error_5xx(v) => server_errors(v);
    fail_rate_limited_429(v) => rate_limited(v);
    fail_truncated_json(v) => truncated(v);
    fail_download_after_import_then_sync(v) => download_after_import(v);
    sync_without_stored_pin_asks_for_the_login_first(v) => sync_without_stored_pin(v);
    sync_after_consent_expired_asks_to_renew(v) => consent_expired(v);
    cancel_a_decoupled_wait(v) => cancel_decoupled(v);
    cancel_a_download(v) => cancel_download(v);
    dropping_a_running_answer_releases_the_flow(v) => dropped_answer(v);
}

/// finAPI v2 serves pending rows on `GET /pendingTransactions`: they appear in the vault as pending
/// (provider id `pending:<id>`); when the bank books one (a new booked id), the next sync turns it into
/// the booked row — one row, no duplicate — and the bank's new pending row appears.
#[tokio::test]
async fn pending_rows_appear_and_become_booked_v2() -> TestResult {
    let env = env(Version::V2).await?;
    let (id, _) = env.link(Sca::None, "demo_no_msa").await?;
    let generated = env.generated("280001", "demo_no_msa");
    let first = generated.first().and_then(|a| a.pending.first()).ok_or("the Demo Bank generated no pending row")?;
    let same = |t: &kontor_core::domain::Transaction| {
        t.amount.amount == first.amount && t.purpose.as_deref() == Some(first.purpose.as_str())
    };
    let rows = env.transactions(&id)?;
    let pending: Vec<_> = rows.iter().filter(|t| t.status == BookingStatus::Pending).collect();
    let expected: usize = generated.iter().map(|a| a.pending.len()).sum();
    if pending.len() != expected || !pending.iter().all(|t| t.provider_id.starts_with("pending:")) {
        return Err(format!("expected {expected} pending rows, got {pending:?}"));
    }
    if !rows.iter().any(|t| same(t) && t.status == BookingStatus::Pending) {
        return Err("the bank's first pending row is not in the vault as pending".into());
    }
    env.sync_done(&id).await?;
    let rows = env.transactions(&id)?;
    let matching: Vec<_> = rows.iter().filter(|t| same(t)).collect();
    match matching.as_slice() {
        [one] if one.status == BookingStatus::Booked && !one.provider_id.starts_with("pending:") => {}
        other => return Err(format!("expected the pending row booked, once: {other:?}")),
    }
    env.check(&id, "280001", "demo_no_msa", 1)
}

/// Links at 280001 through `FINTS_SERVER` (the bank logs in on every update) with `demo_no_msa`,
/// keeping the PIN at finAPI only with `store_secrets`.
async fn link_fints(env: &Env, store_secrets: bool) -> Result<ConnectionId, String> {
    let start = StartLink {
        provider_config_id: env.config_id.clone(),
        bank_id: "280001".into(),
        interface: Some("FINTS_SERVER".into()),
        callback_url: None,
    };
    let first = env.kontor.start_link(start).await.map_err(fail("start_link"))?;
    let id = flow_id(&first)?;
    let FlowUpdate::NeedsInput { request: UserRequest::EnterCredentials { fields, .. }, .. } = &first else {
        return Err(format!("expected the login form, got {first:?}"));
    };
    let values = login_values(fields, "demo_no_msa", "demo_no_msa");
    let done =
        env.kontor.answer(&id, UserAnswer::Credentials { values, store_secrets }).await.map_err(fail("answer"))?;
    let FlowUpdate::Done { connection, .. } = done else { return Err(format!("not linked: {done:?}")) };
    Ok(ConnectionId::from(connection.id.as_str()))
}

/// finAPI keeps no PIN unless the import sent `storeSecrets: true`. A sync of such a connection asks
/// for the login *first* (no update is sent before), offers to keep it, and succeeds; kept, the next
/// sync asks nothing.
async fn sync_without_stored_pin(version: Version) -> TestResult {
    let env = env(version).await?;
    let id = link_fints(&env, false).await?;
    let updates_before = env.requests_to("/bankConnections/update");
    let update = env.sync(&id).await?;
    let (flow, fields) = match &update {
        FlowUpdate::NeedsInput { flow_id, request: UserRequest::EnterCredentials { fields, .. }, .. } => {
            (flow_id.clone(), fields.clone())
        }
        other => return Err(format!("expected the login form first, got {other:?}")),
    };
    if env.requests_to("/bankConnections/update") != updates_before {
        return Err("Kontor sent an update before asking for the login".into());
    }
    let values = login_values(&fields, "demo_no_msa", "demo_no_msa");
    let done = env
        .kontor
        .answer(&flow, UserAnswer::Credentials { values, store_secrets: true })
        .await
        .map_err(fail("answer"))?;
    let FlowUpdate::Done { added, .. } = done else { return Err(format!("the sync did not finish: {done:?}")) };
    if added == 0 {
        return Err("the sync added nothing".into());
    }
    // The PIN is kept at finAPI now: the next sync asks nothing.
    env.sync_done(&id).await?;
    env.check(&id, "280001", "demo_no_msa", 2)?;
    if env.requests_to("/bankConnections/update") != updates_before + 2 {
        return Err("expected exactly one update per sync".into());
    }
    Ok(())
}

/// After the consent's end finAPI answers `INVALID_CONSENT`: `ConsentExpired`, a message that says how
/// to renew, the connection marked; syncing again renews it (the bank asks for the login) and works.
async fn consent_expired(version: Version) -> TestResult {
    let env = env_with(version, |c| c.consent_lifetime = StdDuration::from_millis(1500)).await?;
    let (id, _) = env.link(Sca::None, "demo_no_msa").await?;
    tokio::time::sleep(StdDuration::from_millis(1600)).await;
    let update = env.sync(&id).await?;
    let error = expect_code(&update, ErrorCode::ConsentExpired)?;
    if !error.message.to_lowercase().contains("renew") {
        return Err(format!("the message does not say how to renew: {error:?}"));
    }
    let status = env.kontor.with_store(|s| s.connection(&id)).map_err(fail("connection"))?.map(|c| c.status);
    if status != Some(kontor_core::domain::ConnectionStatus::ConsentExpired) {
        return Err(format!("the connection is not marked: {status:?}"));
    }
    // Renewing: the bank needs the (volatile) PIN for a new consent.
    let update = env.sync(&id).await?;
    let done = env.drive(update_without_error(update), Sca::None, "demo_no_msa").await?;
    let FlowUpdate::Done { connection, .. } = &done else { return Err(format!("renewal failed: {done:?}")) };
    if connection.status != kontor_core::domain::ConnectionStatus::Active {
        return Err(format!("after the renewal: {connection:?}"));
    }
    env.check(&id, "280001", "demo_no_msa", 1)
}

/// Options for the cancellation journeys: real waits, so that a cancel lands in the middle of one.
fn waiting_options(env: &Env) -> LinkOptions {
    LinkOptions {
        poll_interval_ms: 300,
        download_poll_interval: StdDuration::from_millis(300),
        download_max_polls: 1000,
        ..options(&env.truncate_at_download, &env.truncate_after_status, env.bank.faults(), &env.steps)
    }
}

/// Runs `job` and cancels `flow` after `after`; returns the job's outcome, when the cancel was
/// sent and when the job ended.
async fn cancel_during(
    env: &Env,
    flow: &str,
    after: StdDuration,
    job: impl std::future::Future<Output = Result<FlowUpdate, KontorError>>,
) -> Result<(FlowUpdate, std::time::Instant, std::time::Instant), String> {
    let cancel = async {
        tokio::time::sleep(after).await;
        let at = std::time::Instant::now();
        let update = env.kontor.cancel(flow).await;
        (at, update)
    };
    let (outcome, (cancelled_at, cancelled)) = tokio::join!(
        async {
            let outcome = job.await;
            (outcome, std::time::Instant::now())
        },
        cancel
    );
    let (outcome, ended_at) = outcome;
    expect_code(&cancelled.map_err(fail("cancel"))?, ErrorCode::ScaCancelled)?;
    Ok((outcome.map_err(fail("the cancelled job"))?, cancelled_at, ended_at))
}

/// Within a generous second after the cancel the job ended, and the Demo Bank saw no request after it.
fn stopped_at_once(env: &Env, cancelled_at: std::time::Instant, ended_at: std::time::Instant) -> TestResult {
    let late: Vec<String> = env
        .bank
        .requests()
        .iter()
        .filter(|r| r.at > cancelled_at)
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    if !late.is_empty() {
        return Err(format!("the Demo Bank received requests after the cancel: {late:?}"));
    }
    if ended_at.duration_since(cancelled_at) > StdDuration::from_secs(1) {
        return Err(format!("the job ran {:?} past the cancel", ended_at.duration_since(cancelled_at)));
    }
    Ok(())
}

/// Cancelling while Kontor waits for an approval in the banking app stops the polling at once.
async fn cancel_decoupled(version: Version) -> TestResult {
    let env = env_with(version, |c| c.decoupled_in_progress_polls = 100_000).await?;
    // The Kontor clock stands still in the journeys, so polls are not spaced: the driver polls back
    // to back and the cancel lands in a call in flight or between two.
    env.kontor.set_link_options(LinkOptions { poll_interval_ms: 0, ..waiting_options(&env) });
    let first = env.start("280004").await?;
    let id = flow_id(&first)?;
    let FlowUpdate::NeedsInput { request: UserRequest::EnterCredentials { fields, .. }, .. } = &first else {
        return Err(format!("expected the login form, got {first:?}"));
    };
    let values = login_values(fields, "demo", "demo");
    let update = env
        .kontor
        .answer(&id, UserAnswer::Credentials { values, store_secrets: false })
        .await
        .map_err(fail("answer"))?;
    if !matches!(&update, FlowUpdate::NeedsInput { request: UserRequest::ApproveInApp { .. }, .. }) {
        return Err(format!("expected the approval request, got {update:?}"));
    }
    let polls_before = env.requests_to("/bankConnections/import");
    let (outcome, cancelled_at, ended_at) =
        cancel_during(&env, &id, StdDuration::from_millis(1000), env.kontor.answer(&id, UserAnswer::Continue)).await?;
    expect_code(&outcome, ErrorCode::ScaCancelled)?;
    if env.requests_to("/bankConnections/import") < polls_before + 2 {
        return Err("the wait was not polling when it was cancelled".into());
    }
    stopped_at_once(&env, cancelled_at, ended_at)?;
    if env.connections()? != 0 || !env.kontor.pending_flows().map_err(fail("pending"))?.is_empty() {
        return Err("a cancelled link left a connection or a pending flow".into());
    }
    Ok(())
}

/// Cancelling while the provider downloads a new connection's data stops the download at once; the
/// connection (which exists at finAPI) is kept for a later sync.
async fn cancel_download(version: Version) -> TestResult {
    let env = env_with(version, |c| {
        c.download_in_progress_reads = 1000;
        c.download_lasts = StdDuration::from_secs(120);
    })
    .await?;
    env.kontor.set_link_options(waiting_options(&env));
    let first = env.start("280001").await?;
    let id = flow_id(&first)?;
    let FlowUpdate::NeedsInput { request: UserRequest::EnterCredentials { fields, .. }, .. } = &first else {
        return Err(format!("expected the login form, got {first:?}"));
    };
    let values = login_values(fields, "demo_no_msa", "demo_no_msa");
    let answer = UserAnswer::Credentials { values, store_secrets: false };
    let (outcome, cancelled_at, ended_at) =
        cancel_during(&env, &id, StdDuration::from_millis(1000), env.kontor.answer(&id, answer)).await?;
    let error = expect_code(&outcome, ErrorCode::ScaCancelled)?;
    let reads = env
        .bank
        .requests()
        .iter()
        .filter(|r| r.path.rsplit_once("/bankConnections/").is_some_and(|(_, id)| id.parse::<u64>().is_ok()))
        .count();
    if env.requests_to("/bankConnections/import") != 1 || reads < 2 {
        return Err("the download was not polling when it was cancelled".into());
    }
    stopped_at_once(&env, cancelled_at, ended_at)?;
    if !error.message.contains("Linked") || env.connections()? != 1 {
        return Err(format!("the linked connection was not kept for a later sync: {error:?}"));
    }
    Ok(())
}

/// A caller that drops a running answer (a closed window, a timeout) does not leave the flow busy:
/// the next answer is served (the flow restarts as after a restart, asking for the login again).
async fn dropped_answer(version: Version) -> TestResult {
    let env = env_with(version, |c| c.decoupled_in_progress_polls = 1000).await?;
    env.kontor.set_link_options(waiting_options(&env));
    let first = env.start("280004").await?;
    let id = flow_id(&first)?;
    let FlowUpdate::NeedsInput { request: UserRequest::EnterCredentials { fields, .. }, .. } = &first else {
        return Err(format!("expected the login form, got {first:?}"));
    };
    let values = login_values(fields, "demo", "demo");
    env.kontor.answer(&id, UserAnswer::Credentials { values, store_secrets: false }).await.map_err(fail("answer"))?;
    let dropped =
        tokio::time::timeout(StdDuration::from_millis(700), env.kontor.answer(&id, UserAnswer::Continue)).await;
    if dropped.is_ok() {
        return Err("the answer ended before it could be dropped".into());
    }
    let update = env.kontor.answer(&id, UserAnswer::Continue).await.map_err(fail("answer after the drop"))?;
    match update {
        FlowUpdate::NeedsInput { request: UserRequest::EnterCredentials { .. }, .. } => Ok(()),
        other => Err(format!("expected the flow to be served again, got {other:?}")),
    }
}

/// Decoupled with several `DECOUPLED_AUTH_IN_PROGRESS` answers first.
async fn link_decoupled(version: Version) -> TestResult {
    let env = env_with(version, |c| c.decoupled_in_progress_polls = 3).await?;
    let (id, _) = env.link(Sca::Decoupled, "demo").await?;
    env.check(&id, "280004", "demo", 0)?;
    let waits = env
        .steps
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .filter(|s| **s == WorkStep::WaitingForApproval)
        .count();
    if waits < 4 {
        return Err(format!("expected ≥ 4 decoupled polls (3 in progress + approval), saw {waits}"));
    }
    let (added, _) = env.sync_done(&id).await?;
    if added != 3 {
        return Err(format!("re-sync added {added}"));
    }
    env.check(&id, "280004", "demo", 1)
}

// ---- failures ---------------------------------------------------------------------------------

async fn embedded_until_tan(env: &Env) -> Result<String, String> {
    let update = env.start("280001").await?;
    let id = flow_id(&update)?;
    let fields = match &update {
        FlowUpdate::NeedsInput { request: UserRequest::EnterCredentials { fields, .. }, .. } => fields.clone(),
        other => return Err(format!("expected the login form, got {other:?}")),
    };
    let k = &env.kontor;
    let update = k
        .answer(&id, UserAnswer::Credentials { values: login_values(&fields, "demo", "demo"), store_secrets: false })
        .await
        .map_err(fail("credentials"))?;
    let FlowUpdate::NeedsInput { request: UserRequest::ChooseProcedure { procedures, .. }, .. } = &update else {
        return Err(format!("expected the choice of procedures, got {update:?}"));
    };
    let sms = procedures.iter().find(|p| p.name == "smsTan").ok_or("no smsTan")?;
    let update = k.answer(&id, UserAnswer::Procedure { id: sms.id.clone() }).await.map_err(fail("procedure"))?;
    if !matches!(&update, FlowUpdate::NeedsInput { request: UserRequest::EnterTan { .. }, .. }) {
        return Err(format!("expected a TAN request, got {update:?}"));
    }
    Ok(id)
}

fn tan(text: &str) -> UserAnswer {
    UserAnswer::Tan { tan: SecretString::new(text.into()) }
}

/// Wrong PIN: the login form comes back with the bank's text; the right PIN then links.
async fn wrong_pin(version: Version) -> TestResult {
    let env = env(version).await?;
    let update = env.start("280001").await?;
    let id = flow_id(&update)?;
    let FlowUpdate::NeedsInput { request: UserRequest::EnterCredentials { fields, .. }, .. } = &update else {
        return Err(format!("expected the login form, got {update:?}"));
    };
    let fields = fields.clone();
    let update = env
        .kontor
        .answer(&id, UserAnswer::Credentials { values: login_values(&fields, "demo", "1234"), store_secrets: false })
        .await
        .map_err(fail("answer"))?;
    match &update {
        FlowUpdate::NeedsInput { request: UserRequest::EnterCredentials { .. }, error: Some(error), .. }
            if error.code == ErrorCode::CredentialsRejected
                && !error.message.is_empty()
                && error.bank_message.as_deref().is_some_and(|m| m.contains("PIN falsch")) => {}
        other => return Err(format!("expected the login form again with CredentialsRejected, got {other:?}")),
    }
    if env.connections()? != 0 {
        return Err("a refused login left a connection".into());
    }
    // Retry: the right PIN in the same flow.
    let update = env
        .drive(update_without_error(update), Sca::Embedded { procedure: "smsTan", expect: Challenge::Text }, "demo")
        .await?;
    let FlowUpdate::Done { connection, .. } = update else { return Err(format!("retry did not link: {update:?}")) };
    env.check(&ConnectionId::from(connection.id.as_str()), "280001", "demo", 0)
}

fn update_without_error(update: FlowUpdate) -> FlowUpdate {
    match update {
        FlowUpdate::NeedsInput { flow_id, request, .. } => FlowUpdate::NeedsInput { flow_id, request, error: None },
        other => other,
    }
}

/// After a refused TAN the new round asks for the procedure again (finAPI's first 510): chooses smsTan
/// and expects the TAN request.
async fn choose_sms_tan(env: &Env, id: &str, update: &FlowUpdate) -> Result<(), String> {
    let FlowUpdate::NeedsInput { request: UserRequest::ChooseProcedure { procedures, .. }, .. } = update else {
        return Err(format!("expected the choice of procedures of a new round, got {update:?}"));
    };
    let sms = procedures.iter().find(|p| p.name == "smsTan").ok_or("no smsTan")?;
    let update =
        env.kontor.answer(id, UserAnswer::Procedure { id: sms.id.clone() }).await.map_err(fail("procedure"))?;
    match &update {
        FlowUpdate::NeedsInput { request: UserRequest::EnterTan { .. }, error: None, .. } => Ok(()),
        other => Err(format!("expected a new TAN request, got {other:?}")),
    }
}

/// Wrong TAN: finAPI answers 422, which ends its flow and spends the hash. Kontor starts a new flow (a
/// new import: the procedure choice comes back, with "TAN rejected" and the bank's text), and the
/// right TAN then links. The Demo Bank never saw the spent hash again.
async fn wrong_tan(version: Version) -> TestResult {
    let env = env(version).await?;
    let id = embedded_until_tan(&env).await?;
    let imports_before = env.requests_to("/bankConnections/import");
    let update = env.kontor.answer(&id, tan("000000")).await.map_err(fail("answer"))?;
    match &update {
        FlowUpdate::NeedsInput { request: UserRequest::ChooseProcedure { .. }, error: Some(error), flow_id }
            if flow_id == &id
                && error.code == ErrorCode::TanRejected
                && error.bank_message.as_deref().is_some_and(|m| m.contains("TAN ungültig")) => {}
        other => return Err(format!("expected a new round (procedure choice) with TanRejected, got {other:?}")),
    }
    // The wrong TAN, then the new flow's first call (without multiStepAuthentication).
    if env.requests_to("/bankConnections/import") != imports_before + 2 {
        return Err("expected exactly the TAN call and one new import".into());
    }
    if env.connections()? != 0 || env.kontor.pending_flows().map_err(fail("pending"))?.len() != 1 {
        return Err("after a wrong TAN: expected no connection and one pending flow".into());
    }
    choose_sms_tan(&env, &id, &update).await?;
    let update = env.kontor.answer(&id, tan(kontor_sandbox::DEMO_TAN)).await.map_err(fail("answer"))?;
    let FlowUpdate::Done { connection, .. } = update else { return Err(format!("right TAN did not link: {update:?}")) };
    if env.bank.spent_hashes_resent() != 0 {
        return Err(format!("Kontor re-sent a spent hash {} times", env.bank.spent_hashes_resent()));
    }
    env.check(&ConnectionId::from(connection.id.as_str()), "280001", "demo", 0)
}

/// Three wrong TANs (each in a new round) end the flow; no spent hash is ever re-sent; starting again
/// links.
async fn wrong_tan_three_times(version: Version) -> TestResult {
    let env = env(version).await?;
    let id = embedded_until_tan(&env).await?;
    let mut last = env.kontor.answer(&id, tan("000000")).await.map_err(fail("answer"))?;
    for _ in 0..2 {
        choose_sms_tan(&env, &id, &last).await?;
        last = env.kontor.answer(&id, tan("000000")).await.map_err(fail("answer"))?;
    }
    let error = expect_code(&last, ErrorCode::TanRejected)?;
    if !error.bank_message.as_deref().is_some_and(|m| m.contains("TAN ungültig"))
        || !error.message.contains("too often")
    {
        return Err(format!("expected 'too often' with the bank's text, got {error:?}"));
    }
    if env.connections()? != 0 || !env.kontor.pending_flows().map_err(fail("pending"))?.is_empty() {
        return Err("after the flow ended: expected no connection and no pending flow".into());
    }
    if env.bank.spent_hashes_resent() != 0 {
        return Err(format!("Kontor re-sent a spent hash {} times", env.bank.spent_hashes_resent()));
    }
    let (id, _) = env.link(Sca::Embedded { procedure: "smsTan", expect: Challenge::Text }, "demo").await?;
    env.check(&id, "280001", "demo", 0)
}

async fn redirect_until_browser(env: &Env) -> Result<(String, String), String> {
    let first = env.start("280002").await?;
    let id = flow_id(&first)?;
    let mut update = first;
    for _ in 0..3 {
        match &update {
            FlowUpdate::NeedsInput { request: UserRequest::OpenBrowser { url }, .. } => return Ok((id, url.clone())),
            FlowUpdate::NeedsInput { request: UserRequest::EnterCredentials { fields, .. }, .. } => {
                update = env
                    .kontor
                    .answer(
                        &id,
                        UserAnswer::Credentials { values: login_values(fields, "demo", "demo"), store_secrets: false },
                    )
                    .await
                    .map_err(fail("credentials"))?;
            }
            other => return Err(format!("expected the bank page, got {other:?}")),
        }
    }
    Err("no bank page".into())
}

/// Cancelled on the bank's page: `ScaCancelled` with the bank's text; linking again works.
async fn redirect_cancelled(version: Version) -> TestResult {
    let env = env(version).await?;
    let (_, url) = redirect_until_browser(&env).await?;
    let location = browser(&url, "cancel").await?;
    let update = env.kontor.handle_callback(&location).await.map_err(fail("handle_callback"))?;
    let error = expect_code(&update, ErrorCode::ScaCancelled)?;
    if !error.bank_message.as_deref().is_some_and(|m| m.contains("abgebrochen")) {
        return Err(format!("expected the bank's text, got {error:?}"));
    }
    if env.connections()? != 0 || !env.kontor.pending_flows().map_err(fail("pending"))?.is_empty() {
        return Err("after a cancel: expected no connection and no pending flow".into());
    }
    let (id, _) = env.link(Sca::Redirect, "demo").await?;
    env.check(&id, "280002", "demo", 0)
}

/// A callback with a state Kontor never issued changes nothing; the real one still links.
async fn foreign_state(version: Version) -> TestResult {
    let env = env(version).await?;
    let (id, url) = redirect_until_browser(&env).await?;
    let foreign = format!("{CALLBACK}?state=00000000-0000-4000-8000-000000000000&code=stolen");
    match env.kontor.handle_callback(&foreign).await {
        Err(error) if error.code == ErrorCode::ScaStateMismatch && !error.message.is_empty() => {}
        other => return Err(format!("expected ScaStateMismatch, got {other:?}")),
    }
    let pending = env.kontor.pending_flows().map_err(fail("pending"))?;
    if pending.len() != 1 || pending[0].flow_id != id || env.connections()? != 0 {
        return Err(format!("the foreign callback changed something: {pending:?}"));
    }
    let location = browser(&url, "approve").await?;
    let update = env.kontor.handle_callback(&location).await.map_err(fail("handle_callback"))?;
    let FlowUpdate::Done { connection, .. } = update else { return Err(format!("approve did not link: {update:?}")) };
    env.check(&ConnectionId::from(connection.id.as_str()), "280002", "demo", 0)
}

/// A hash the bank no longer knows (expired, or a restarted bank): `ScaStale`; starting again links.
async fn stale_hash(version: Version) -> TestResult {
    let env = env(version).await?;
    let update = env.start("280001").await?;
    let id = flow_id(&update)?;
    let FlowUpdate::NeedsInput { request: UserRequest::EnterCredentials { fields, .. }, .. } = &update else {
        return Err(format!("expected the login form, got {update:?}"));
    };
    let fields = fields.clone();
    let update = env
        .kontor
        .answer(&id, UserAnswer::Credentials { values: login_values(&fields, "demo", "demo"), store_secrets: false })
        .await
        .map_err(fail("credentials"))?;
    let FlowUpdate::NeedsInput { request: UserRequest::ChooseProcedure { procedures, .. }, .. } = &update else {
        return Err(format!("expected the choice of procedures, got {update:?}"));
    };
    let procedure = procedures.first().map(|p| p.id.clone()).ok_or("no procedure")?;
    // The bank forgets the hash: rewrite the persisted continuation to one it never issued.
    let flow = FlowId::from(id.as_str());
    env.kontor
        .with_store(|s| {
            let Some(mut stored) = s.flow(&flow)? else { return Ok(()) };
            if let Some(c) = stored.continuation.as_mut() {
                c.token = "0123456789abcdef0123456789abcdef".into();
            }
            s.save_flow(&stored, Utc::now())
        })
        .map_err(fail("rewrite flow"))?;
    let update = env.kontor.answer(&id, UserAnswer::Procedure { id: procedure }).await.map_err(fail("answer"))?;
    expect_code(&update, ErrorCode::ScaStale)?;
    if env.connections()? != 0 || !env.kontor.pending_flows().map_err(fail("pending"))?.is_empty() {
        return Err("after a stale hash: expected no connection and no pending flow".into());
    }
    let (id, _) = env.link(Sca::Embedded { procedure: "smsTan", expect: Challenge::Text }, "demo").await?;
    env.check(&id, "280001", "demo", 0)
}

/// Linked with `demo_no_msa`; returns the connection and its booking count.
async fn linked(env: &Env) -> Result<(ConnectionId, usize), String> {
    let (id, _) = env.link(Sca::None, "demo_no_msa").await?;
    let count = env.transactions(&id)?.len();
    Ok((id, count))
}

/// The failed sync changed no booking and was journalled with its code.
fn unchanged_and_journalled(env: &Env, id: &ConnectionId, before: usize, code: ErrorCode) -> TestResult {
    let after = env.transactions(id)?.len();
    if after != before {
        return Err(format!("a failed sync changed the bookings: {before} -> {after}"));
    }
    let journal = env.journal()?;
    let last = journal.first().ok_or("no journal row")?;
    if last.outcome != "failed" || last.error_code.as_deref() != Some(&format!("{code:?}")[..]) {
        return Err(format!("expected a journal row with {code:?}, got {last:?}"));
    }
    Ok(())
}

/// 423 while the connection is busy: `ResourceBusy`; the next sync works.
async fn locked(version: Version) -> TestResult {
    let env = env(version).await?;
    let (id, before) = linked(&env).await?;
    env.bank.faults().lock_next_updates(1);
    let update = env.sync(&id).await?;
    expect_code(&update, ErrorCode::ResourceBusy)?;
    unchanged_and_journalled(&env, &id, before, ErrorCode::ResourceBusy)?;
    let (added, _) = env.sync_done(&id).await?;
    if added != 3 {
        return Err(format!("retry added {added}"));
    }
    env.check(&id, "280001", "demo_no_msa", 1)
}

/// 5xx: two 503s are retried unseen; a persistent outage ends in `ProviderUnavailable`, and the
/// sync after it works.
async fn server_errors(version: Version) -> TestResult {
    let env = env(version).await?;
    let (id, _) = linked(&env).await?;
    env.bank.faults().fail_next(2, 503);
    let (added, _) = env.sync_done(&id).await?;
    if added != 3 {
        return Err(format!("a sync through two 503s added {added}"));
    }
    let before = env.transactions(&id)?.len();
    env.bank.faults().fail_next(50, 503);
    let update = env.sync(&id).await?;
    expect_code(&update, ErrorCode::ProviderUnavailable)?;
    env.bank.faults().clear();
    unchanged_and_journalled(&env, &id, before, ErrorCode::ProviderUnavailable)?;
    let (added, _) = env.sync_done(&id).await?;
    if added != 3 {
        return Err(format!("retry added {added}"));
    }
    env.check(&id, "280001", "demo_no_msa", 2)
}

/// 429: one with `Retry-After: 1` is waited out; one asking for longer than Kontor waits ends in
/// `RateLimited` with `retry_at`, and the sync after it works.
async fn rate_limited(version: Version) -> TestResult {
    let env = env(version).await?;
    let (id, _) = linked(&env).await?;
    env.bank.faults().rate_limit_next(1, StdDuration::from_secs(1));
    let (added, _) = env.sync_done(&id).await?;
    if added != 3 {
        return Err(format!("a sync through one 429 added {added}"));
    }
    let before = env.transactions(&id)?.len();
    env.bank.faults().rate_limit_next(50, StdDuration::from_secs(60));
    let update = env.sync(&id).await?;
    let error = expect_code(&update, ErrorCode::RateLimited)?;
    if error.retry_at.is_none() {
        return Err("RateLimited without retry_at".into());
    }
    env.bank.faults().clear();
    unchanged_and_journalled(&env, &id, before, ErrorCode::RateLimited)?;
    let (added, _) = env.sync_done(&id).await?;
    if added != 3 {
        return Err(format!("retry added {added}"));
    }
    env.check(&id, "280001", "demo_no_msa", 2)
}

/// Truncated JSON: during a link (the next answer is cut) and during a sync's download; each ends
/// in `ProviderResponseInvalid` with nothing written, and the retry works without duplicates.
async fn truncated(version: Version) -> TestResult {
    let env = env(version).await?;
    let update = env.start("280001").await?;
    let id = flow_id(&update)?;
    let FlowUpdate::NeedsInput { request: UserRequest::EnterCredentials { fields, .. }, .. } = &update else {
        return Err(format!("expected the login form, got {update:?}"));
    };
    let fields = fields.clone();
    env.bank.faults().truncate_next(1);
    let update = env
        .kontor
        .answer(&id, UserAnswer::Credentials { values: login_values(&fields, "demo", "demo"), store_secrets: false })
        .await
        .map_err(fail("credentials"))?;
    expect_code(&update, ErrorCode::ProviderResponseInvalid)?;
    if env.connections()? != 0 || !env.kontor.pending_flows().map_err(fail("pending"))?.is_empty() {
        return Err("after a truncated answer: expected no connection and no pending flow".into());
    }
    let (id, _) = env.link(Sca::Embedded { procedure: "smsTan", expect: Challenge::Text }, "demo").await?;
    let before = env.transactions(&id)?.len();

    env.truncate_at_download.store(true, Ordering::SeqCst);
    let update = env.sync(&id).await?;
    expect_code(&update, ErrorCode::ProviderResponseInvalid)?;
    unchanged_and_journalled(&env, &id, before, ErrorCode::ProviderResponseInvalid)?;
    // The bank did update (its answer was cut afterwards): the retry brings both updates' rows, once.
    let (added, _) = env.sync_done(&id).await?;
    if added != 6 {
        return Err(format!("retry after the cut added {added}, expected 6"));
    }
    env.check(&id, "280001", "demo", 2)
}

/// finAPI accepted the import, then the first download broke (the accounts GET was cut): the
/// connection is kept (status `failed`, no accounts, no bookings, a `failed` journal row with the
/// code), the user is told to sync, and a sync then fills it. Linking again is not needed (finAPI
/// would refuse it with `ENTITY_EXISTS`).
async fn download_after_import(version: Version) -> TestResult {
    let env = env(version).await?;
    env.truncate_after_status.store(true, Ordering::SeqCst);
    let first = env.start("280001").await?;
    let update = env.drive(first, Sca::None, "demo_no_msa").await?;
    let error = expect_code(&update, ErrorCode::ProviderResponseInvalid)?;
    if !error.message.starts_with("Linked, but the first download failed:") || !error.message.contains("sync") {
        return Err(format!("the message does not say the bank is linked and to sync: {error:?}"));
    }
    let connections = env.kontor.with_store(|s| s.connections()).map_err(fail("connections"))?;
    let [connection] = connections.as_slice() else {
        return Err(format!("expected the imported connection to be kept, got {connections:?}"));
    };
    if connection.status != kontor_core::domain::ConnectionStatus::Failed || connection.last_synced_at.is_some() {
        return Err(format!("expected a failed, never-synced connection, got {connection:?}"));
    }
    let id = connection.id.clone();
    let accounts = env.kontor.with_store(|s| s.connection_accounts(&id)).map_err(fail("accounts"))?;
    if !accounts.is_empty() || !env.transactions(&id)?.is_empty() {
        return Err(format!(
            "half-written data: {} accounts, {} bookings",
            accounts.len(),
            env.transactions(&id)?.len()
        ));
    }
    unchanged_and_journalled(&env, &id, 0, ErrorCode::ProviderResponseInvalid)?;
    let journal = env.journal()?;
    if journal.first().and_then(|j| j.connection_id.as_ref()) != Some(&id) {
        return Err(format!("the failed journal row names no connection: {journal:?}"));
    }
    if !env.kontor.pending_flows().map_err(fail("pending"))?.is_empty() {
        return Err("the finished link flow is still pending".into());
    }

    let (added, _) = env.sync_done(&id).await?;
    let generated = env.generated("280001", "demo_no_msa");
    let history: usize = generated.iter().map(|a| a.bookings.len()).sum();
    // v2 also downloads the pending rows (as many as at the link: each update books one and adds one).
    let pending: usize = if version == Version::V2 { generated.iter().map(|a| a.pending.len()).sum() } else { 0 };
    if usize::try_from(added).unwrap_or(0) != history + BOOKED_PER_UPDATE + pending {
        return Err(format!("the sync added {added}, expected {history} + {BOOKED_PER_UPDATE} + {pending} pending"));
    }
    env.check(&id, "280001", "demo_no_msa", 1)?;
    let connection = env.kontor.with_store(|s| s.connection(&id)).map_err(fail("connection"))?;
    if connection.as_ref().map(|c| c.status) != Some(kontor_core::domain::ConnectionStatus::Active) {
        return Err(format!("after the sync: {connection:?}"));
    }
    if env.connections()? != 1 || env.journal()?.first().map(|j| j.outcome.as_str()) != Some("succeeded") {
        return Err("after the sync: expected one connection and a succeeded journal row".into());
    }
    Ok(())
}

// ---- the demo provider and the Demo Bank's state file -----------------------------------------

#[tokio::test]
async fn demo_provider_is_created_once_and_follows_the_port() -> TestResult {
    let env = env(Version::V2).await?;
    let k = &env.kontor;
    if !k.has_real_provider().map_err(fail("has_real_provider"))? {
        return Err("the v2 test provider is a real provider".into());
    }
    if (DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
        != (kontor_sandbox::DEFAULT_CLIENT_ID, kontor_sandbox::DEFAULT_CLIENT_SECRET)
    {
        return Err("core's demo client differs from the Demo Bank's defaults".into());
    }
    let first = k.ensure_demo_provider(&env.bank.base_url()).map_err(fail("ensure_demo_provider"))?;
    let again = k.ensure_demo_provider(&format!("{}/", env.bank.base_url())).map_err(fail("ensure again"))?;
    let moved = k.ensure_demo_provider("http://127.0.0.1:9").map_err(fail("ensure moved"))?;
    let demos: Vec<_> = k.provider_configs().map_err(fail("configs"))?.into_iter().filter(|c| c.is_demo).collect();
    let _ = env.keyring.delete(&format!("provider-secret:{}", first.id));
    let _ = env.keyring.delete(&format!("provider-user:{}", first.id));
    if !(first.is_demo && first.id == again.id && again.id == moved.id && demos.len() == 1) {
        return Err(format!("expected one demo provider, got {demos:?}"));
    }
    if moved.base_url != "http://127.0.0.1:9" || first.client_id != DEMO_CLIENT_ID || first.kind != ProviderKind::Finapi
    {
        return Err(format!("demo provider: {moved:?}"));
    }
    Ok(())
}

/// The Demo Bank's search offers only its own test banks: the real-looking banks of its directory exist for
/// the sandbox's paging tests and cannot be linked, so a user would pick one and fail.
#[tokio::test]
async fn demo_bank_search_offers_only_its_test_banks() -> TestResult {
    let env = env(Version::V2).await?;
    let k = &env.kontor;
    let demo = k.ensure_demo_provider(&env.bank.base_url()).map_err(fail("ensure_demo_provider"))?;
    let sparkassen = k.search_banks(&demo.id, "Sparkasse").await.map_err(fail("search Sparkasse"))?;
    if !sparkassen.is_empty() {
        return Err(format!("the Demo Bank offered banks it cannot link: {sparkassen:?}"));
    }
    let demo_banks = k.search_banks(&demo.id, "DEMO").await.map_err(fail("search DEMO"))?;
    let ids: Vec<&str> = demo_banks.iter().map(|b| b.id.as_str()).collect();
    if ids != ["280001", "280002", "280003", "280004"] || !demo_banks.iter().all(|b| b.is_test_bank) {
        return Err(format!("expected the four test banks, got {demo_banks:?}"));
    }
    // a real provider's search is not narrowed: the same server, configured as a provider of its own
    let real = k.search_banks(&env.config_id, "Sparkasse").await.map_err(fail("search as a real provider"))?;
    if real.is_empty() {
        return Err("a real provider's search was narrowed to test banks".into());
    }
    let _ = env.keyring.delete(&format!("provider-secret:{}", demo.id));
    let _ = env.keyring.delete(&format!("provider-user:{}", demo.id));
    Ok(())
}

/// Start, link, shut down, start again with the same state file (a new port), update the connection.
#[tokio::test]
async fn demo_bank_state_survives_a_restart() -> TestResult {
    let state_dir = tempfile::tempdir().map_err(fail("tempdir"))?;
    let state_file = state_dir.path().join("demo-bank.json");
    let dir = tempfile::tempdir().map_err(fail("tempdir"))?;
    let keyring = Arc::new(OsKeyring::new(unique_service()));
    let clock: SharedClock =
        Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2025, 6, 15, 12, 0, 0).single().unwrap_or_default()));
    let config = || DemoBankConfig { state_file: Some(state_file.clone()), ..DemoBankConfig::for_tests() };

    let bank = DemoBank::start(config()).await.map_err(fail("start"))?;
    let kontor = Kontor::new(dir.path(), keyring.clone(), clock.clone());
    kontor.create_with_passphrase(&SecretString::new("journey passphrase".into())).map_err(fail("vault"))?;
    let steps = Arc::new(Mutex::new(Vec::new()));
    kontor.set_link_options(options(
        &Arc::new(AtomicBool::new(false)),
        &Arc::new(AtomicBool::new(false)),
        bank.faults(),
        &steps,
    ));
    let demo = kontor.ensure_demo_provider(&bank.base_url()).map_err(fail("ensure_demo_provider"))?;
    let cleanup = |keyring: &OsKeyring| {
        let _ = keyring.delete(&format!("provider-secret:{}", demo.id));
        let _ = keyring.delete(&format!("provider-user:{}", demo.id));
    };
    let result = async {
        let start = StartLink {
            provider_config_id: demo.id.clone(),
            bank_id: "280001".into(),
            interface: None,
            callback_url: None,
        };
        let first = kontor.start_link(start).await.map_err(fail("start_link"))?;
        let id = flow_id(&first)?;
        let FlowUpdate::NeedsInput { request: UserRequest::EnterCredentials { fields, .. }, .. } = &first else {
            return Err(format!("expected the login form, got {first:?}"));
        };
        let values = login_values(fields, "demo_no_msa", "demo_no_msa");
        let done = kontor
            .answer(&id, UserAnswer::Credentials { values, store_secrets: false })
            .await
            .map_err(fail("answer"))?;
        let FlowUpdate::Done { connection, .. } = done else { return Err(format!("not linked: {done:?}")) };
        let old_url = bank.base_url();
        bank.shutdown().await;
        if !state_file.exists() {
            return Err("no state file after linking".into());
        }

        // The app restarts: a new Demo Bank on a new port, the same file; Kontor forgets its clients.
        let bank = DemoBank::start(config()).await.map_err(fail("restart"))?;
        kontor.reset_link_runtime();
        kontor.set_link_options(options(
            &Arc::new(AtomicBool::new(false)),
            &Arc::new(AtomicBool::new(false)),
            bank.faults(),
            &steps,
        ));
        let moved = kontor.ensure_demo_provider(&bank.base_url()).map_err(fail("ensure after restart"))?;
        if moved.id != demo.id || (moved.base_url == old_url && bank.base_url() != old_url) {
            return Err(format!("the demo provider did not follow the port: {moved:?}"));
        }
        let update = kontor.sync_connection(&connection.id).await.map_err(fail("sync after restart"))?;
        let FlowUpdate::Done { added, .. } = update else { return Err(format!("sync failed: {update:?}")) };
        if added != 3 {
            return Err(format!("the update after the restart added {added}"));
        }
        // Once more: the update counter was persisted too (a second update brings new rows).
        bank.shutdown().await;
        let bank = DemoBank::start(config()).await.map_err(fail("restart 2"))?;
        kontor.reset_link_runtime();
        kontor.ensure_demo_provider(&bank.base_url()).map_err(fail("ensure 2"))?;
        let update = kontor.sync_connection(&connection.id).await.map_err(fail("sync 2"))?;
        let FlowUpdate::Done { added, .. } = update else { return Err(format!("sync 2 failed: {update:?}")) };
        if added != 3 {
            return Err(format!("the second update after restarts added {added}"));
        }
        bank.shutdown().await;
        Ok(())
    }
    .await;
    cleanup(&keyring);
    result
}
