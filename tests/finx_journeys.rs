//! finX journeys: the `Kontor` facade against the real Demo Bank's finX face (`kontor_sandbox::DemoBank`
//! on 127.0.0.1:0, real HTTP), a real SQLCipher vault (passphrase) in a temporary directory and the real
//! OS keyring (a throwaway service per test; run inside `tests/support/desktop-session.sh`).
//!
//! The test plays the browser: it clicks through the Demo Bank's widget (and its redirect bank page) and
//! hands the callback URL the widget redirects to to `Kontor::handle_callback`, as the `kontor://` deep
//! link or the loopback listener would.
//!
//! - `flow_*`: each widget flow end to end (one-time, ongoing with two banks under one finX user, income
//!   report); `flow_ongoing_first_download_fails_then_sync`: the connection is kept as `failed` and a
//!   sync fills it.
//! - `sync_*`: a provider synchronisation through each challenge type (METHOD_SELECTION then TEXT, HTML,
//!   HHD flicker, PHOTO, DECOUPLED; TEXT at once; REDIRECT; DECOUPLED; credentials when finX kept none).
//! - `sync_wrong_tan_then_retry`: a wrong TAN makes finX fail the sync (FAILED, 10004): the flow ends
//!   with `TanRejected` instead of asking again for a dead sync, nothing is written but a `failed`
//!   journal row, and the next sync with the right TAN completes.
//! - `rotation_*`: refresh-token rotation over several refreshes, the Demo Bank refusing each old token.
//! - `callback_*`: an expired code, a wrong state, `success=false` and a cancel each end clearly with
//!   nothing written.
//! - `crash_after_refresh`: a child process (this test binary again, see [`crash_child`]) aborts right
//!   after persisting a rotated refresh token; a restart still has access.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration as StdDuration;

use chrono::{TimeZone, Utc};
use kontor_core::api::Kontor;
use kontor_core::api::finx::{TEST_ABORT_ENV, TOKEN_SCOPE};
use kontor_core::api::link::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, LinkOptions};
use kontor_core::api::link_dto::{FinxFlow, FlowUpdate, NewProviderConfig, StartFinxLink, WorkStep};
use kontor_core::clock::{ManualClock, SharedClock};
use kontor_core::domain::{ConnectionId, ConnectionStatus, ProviderConfigId, ProviderKind};
use kontor_core::provider::finapi::RetryPolicy;
use kontor_core::provider::{LoginValue, TanChallenge};
use kontor_core::sca::{UserAnswer, UserRequest};
use kontor_core::secret::SecretString;
use kontor_core::vault::{OsKeyring, SecretStore};
use kontor_core::{ErrorCode, KontorError};
use kontor_sandbox::finx::{DECOUPLED_PROVIDER, REDIRECT_PROVIDER, SELECTION_PROVIDER, TEXT_PROVIDER};
use kontor_sandbox::{DemoBank, DemoBankConfig, RunningDemoBank};

type TestResult = Result<(), String>;

const CALLBACK: &str = "kontor://finx-callback";
const PASSPHRASE: &str = "journey passphrase";
/// The child process of [`crash_after_refresh`]: its data dir, keyring service and provider id.
const CHILD_ENV: &str = "KONTOR_FINX_CRASH_CHILD";

fn fail<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> String + '_ {
    move |e| format!("{what}: {e}")
}

fn unique_service() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("dev.kontor.Kontor.finx-{}-{}-{nanos}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

fn clock() -> SharedClock {
    Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2025, 6, 15, 12, 0, 0).single().unwrap_or_default()))
}

fn options() -> LinkOptions {
    LinkOptions {
        // The redirect provider needs a PSU IP; a machine without a route has no outward address to
        // send, so the journeys name one (a documentation address, never loopback).
        psu: kontor_core::provider::Psu {
            ip_address: Some("198.51.100.7".to_owned()),
            ..kontor_core::provider::Psu::default()
        },
        poll_interval_ms: 0,
        callback_url: CALLBACK.to_owned(),
        download_poll_interval: StdDuration::from_millis(5),
        retry: RetryPolicy {
            max_attempts: 2,
            base_delay: StdDuration::from_millis(20),
            max_wait: StdDuration::from_secs(1),
        },
        ..LinkOptions::default()
    }
}

struct Env {
    _bank: RunningDemoBank,
    base: String,
    kontor: Kontor,
    keyring: Arc<OsKeyring>,
    service: String,
    config_id: String,
    dir: tempfile::TempDir,
    http: reqwest::Client,
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = self.keyring.delete(&format!("provider-secret:{}", self.config_id));
    }
}

async fn env_with(tweak: impl FnOnce(&mut DemoBankConfig)) -> Result<Env, String> {
    let mut config = DemoBankConfig::for_tests();
    config.finx = kontor_sandbox::finx::FinxConfig::for_tests();
    tweak(&mut config);
    let bank = DemoBank::start(config).await.map_err(fail("start the Demo Bank"))?;
    let base = bank.base_url();
    let dir = tempfile::tempdir().map_err(fail("tempdir"))?;
    let service = unique_service();
    let keyring = Arc::new(OsKeyring::new(service.clone()));
    let kontor = Kontor::new(dir.path(), keyring.clone(), clock());
    kontor.create_with_passphrase(&SecretString::new(PASSPHRASE.into())).map_err(fail("create vault"))?;
    kontor.set_link_options(options());
    let config = kontor
        .add_provider_config(NewProviderConfig {
            kind: ProviderKind::Finx,
            label: "Demo Bank finX".into(),
            base_url: base.clone(),
            client_id: DEMO_CLIENT_ID.into(),
            client_secret: SecretString::new(DEMO_CLIENT_SECRET.into()),
            api_version: None,
            is_demo: false,
        })
        .map_err(fail("add the provider (is the Secret Service running? use tests/support/desktop-session.sh)"))?;
    let http =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().map_err(fail("http client"))?;
    Ok(Env { _bank: bank, base, kontor, keyring, service, config_id: config.id, dir, http })
}

async fn env() -> Result<Env, String> {
    env_with(|_| {}).await
}

/// What the widget user does.
#[derive(Debug, Clone, Copy)]
enum Widget {
    /// Log in (choosing `bank` on the bank page if asked), TAN if needed, agree to all accounts.
    Agree { bank: &'static str, login: &'static str },
    /// Press cancel on the first page.
    Cancel,
}

fn query_value(url: &str, name: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    parsed.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

impl Env {
    fn config(&self) -> ProviderConfigId {
        ProviderConfigId::from(self.config_id.as_str())
    }

    async fn page(&self, url: &str) -> Result<String, String> {
        let response = self.http.get(url).send().await.map_err(fail("GET widget"))?;
        if response.status().as_u16() != 200 {
            return Err(format!("widget page answered {}", response.status()));
        }
        response.text().await.map_err(fail("widget body"))
    }

    async fn submit(&self, path: &str, fields: &[(&str, &str)]) -> Result<String, String> {
        let response =
            self.http.post(format!("{}{path}", self.base)).form(fields).send().await.map_err(fail("POST widget"))?;
        if response.status().as_u16() != 303 {
            return Err(format!("POST {path} answered {}", response.status()));
        }
        Ok(response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned())
    }

    /// Clicks through the widget like a browser; returns the callback URL it redirects to.
    async fn widget(&self, location: &str, how: Widget) -> Result<String, String> {
        let token = query_value(location, "token").ok_or("the widget URL has no token")?;
        let mut html = self.page(location).await?;
        let (bank, login) = match how {
            Widget::Cancel => return self.submit("/finx/widget/cancel", &[("token", &token)]).await,
            Widget::Agree { bank, login } => (bank, login),
        };
        if html.contains("/finx/widget/bank") {
            let next = self.submit("/finx/widget/bank", &[("token", &token), ("provider_id", bank)]).await?;
            html = self.page(&next).await?;
        }
        if !html.contains("login_id") {
            return Err(format!("no login form: {html}"));
        }
        let next =
            self.submit("/finx/widget/login", &[("token", &token), ("login_id", login), ("password", login)]).await?;
        html = self.page(&next).await?;
        if html.contains("name=\"tan\"") {
            let next = self.submit("/finx/widget/tan", &[("token", &token), ("tan", "123456")]).await?;
            html = self.page(&next).await?;
        }
        let mut fields = vec![("token".to_owned(), token.clone())];
        for part in html.split("name=\"account\" value=\"").skip(1) {
            if let Some(iban) = part.split('"').next() {
                fields.push(("account".to_owned(), iban.to_owned()));
            }
        }
        if fields.len() < 2 {
            return Err(format!("no accounts offered: {html}"));
        }
        let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        self.submit("/finx/widget/consent", &borrowed).await
    }

    fn start(&self, flow: FinxFlow) -> StartFinxLink {
        StartFinxLink {
            provider_config_id: self.config_id.clone(),
            flow,
            user_id: None,
            provider_id: None,
            accounts: Vec::new(),
            save_secrets: None,
            sync_period_days: None,
            reporting_period_months: None,
            callback_url: None,
        }
    }

    /// Starts a widget flow and returns the widget URL.
    async fn open(&self, request: StartFinxLink) -> Result<String, String> {
        match self.kontor.start_finx_link(request).await.map_err(fail("start_finx_link"))? {
            FlowUpdate::NeedsInput { request: UserRequest::OpenBrowser { url }, .. } => Ok(url),
            other => Err(format!("expected OpenBrowser, got {other:?}")),
        }
    }

    /// A whole widget flow: start, browser, callback.
    async fn link(&self, request: StartFinxLink, how: Widget) -> Result<FlowUpdate, String> {
        let url = self.open(request).await?;
        let callback = self.widget(&url, how).await?;
        self.kontor.handle_callback(&callback).await.map_err(fail("handle_callback"))
    }

    /// An ongoing access to `bank` with `login`, finX keeping the secrets.
    async fn ongoing(
        &self,
        bank: &'static str,
        login: &'static str,
        save_secrets: bool,
    ) -> Result<ConnectionId, String> {
        let mut request = self.start(FinxFlow::Ongoing);
        request.provider_id = Some(bank.to_owned());
        request.save_secrets = Some(save_secrets);
        match self.link(request, Widget::Agree { bank, login }).await? {
            FlowUpdate::Done { connection, added, .. } if added > 0 => Ok(ConnectionId::from(connection.id.as_str())),
            other => Err(format!("expected a linked connection with bookings, got {other:?}")),
        }
    }

    fn refresh_token(&self) -> Result<Option<String>, String> {
        let json = self
            .kontor
            .with_store(|s| s.provider_session(&self.config(), TOKEN_SCOPE))
            .map_err(fail("read the stored token"))?;
        Ok(json
            .and_then(|j| serde_json::from_str::<serde_json::Value>(&j).ok())
            .and_then(|v| v.get("refresh_token").and_then(|t| t.as_str()).map(str::to_owned)))
    }

    fn counts(&self) -> Result<(usize, usize), String> {
        let overview = self.kontor.overview().map_err(fail("overview"))?;
        let txs = self
            .kontor
            .with_store(|s| {
                let mut n = 0;
                for c in s.connections()? {
                    n += s.connection_transactions(&c.id, None)?.len();
                }
                Ok(n)
            })
            .map_err(fail("count transactions"))?;
        Ok((overview.connections.len(), txs))
    }

    /// Whether the Demo Bank accepts this refresh token (it is spent by this call if so).
    async fn bank_accepts_refresh(&self, token: &str) -> Result<bool, String> {
        let response = self
            .http
            .post(format!("{}/auth/token", self.base))
            .basic_auth(DEMO_CLIENT_ID, Some(DEMO_CLIENT_SECRET))
            .json(&serde_json::json!({"grant_type": "refresh_token", "refresh_token": token}))
            .send()
            .await
            .map_err(fail("POST /auth/token"))?;
        Ok(response.status().is_success())
    }
}

fn expect_failed(update: &FlowUpdate, code: ErrorCode) -> Result<KontorError, String> {
    match update {
        FlowUpdate::Failed { error, .. } if error.code == code => {
            if error.message.trim().is_empty() {
                return Err("the error has no message for people".into());
            }
            Ok(error.clone())
        }
        other => Err(format!("expected Failed({code:?}), got {other:?}")),
    }
}

// ------------------------------------------------------------------------------------------ flows

#[tokio::test]
async fn flow_onetime_access() -> TestResult {
    let env = env().await?;
    let update = env.link(env.start(FinxFlow::OneTime), Widget::Agree { bank: TEXT_PROVIDER, login: "demo" }).await?;
    let FlowUpdate::Done { connection, added, .. } = update else { return Err(format!("not done: {update:?}")) };
    if added == 0 || connection.access_kind.as_deref() != Some("finx_onetime") {
        return Err(format!("one-time link: {added} added, {connection:?}"));
    }
    let (connections, txs) = env.counts()?;
    let accounts = env.kontor.overview().map_err(fail("overview"))?.accounts;
    if connections != 1
        || txs != added as usize
        || accounts.is_empty()
        || accounts.iter().any(|a| a.balance_booked.is_none())
    {
        return Err(format!("vault: {connections} connections, {txs} rows, accounts {accounts:?}"));
    }
    if env.refresh_token()?.is_some() {
        return Err("a one-time token was stored".into());
    }
    match env.kontor.sync_connection(&connection.id).await {
        Err(e) if e.code == ErrorCode::NotSupported => Ok(()),
        other => Err(format!("syncing a one-time access should be refused: {other:?}")),
    }
}

#[tokio::test]
async fn flow_ongoing_access_two_banks_one_user() -> TestResult {
    let env = env().await?;
    env.ongoing(TEXT_PROVIDER, "demo_no_sca", true).await?;
    let first_token = env.refresh_token()?.ok_or("no refresh token stored")?;
    if first_token.len() < 2048 {
        return Err(format!("the stored refresh token was cut to {} bytes", first_token.len()));
    }
    env.ongoing(DECOUPLED_PROVIDER, "demo_no_sca", true).await?;
    let overview = env.kontor.overview().map_err(fail("overview"))?;
    if overview.connections.len() != 2 {
        return Err(format!("expected 2 connections under one finX user, got {:?}", overview.connections));
    }
    for c in &overview.connections {
        let days = c.consent_days_left.ok_or("no consent days")?;
        if c.access_kind.as_deref() != Some("finx_ongoing") || c.access_expires_at.is_none() || days < 100 {
            return Err(format!("consent info missing: {c:?}"));
        }
    }
    // The second code exchange replaced the user's refresh token; the first is refused.
    if env.bank_accepts_refresh(&first_token).await? {
        return Err("the Demo Bank still accepts the replaced refresh token".into());
    }
    // Both connections sync with the stored token.
    for c in &overview.connections {
        match env.kontor.sync_connection(&c.id).await.map_err(fail("sync"))? {
            FlowUpdate::Done { .. } => {}
            other => return Err(format!("sync of {}: {other:?}", c.bank_name)),
        }
    }
    Ok(())
}

#[tokio::test]
async fn flow_income_report() -> TestResult {
    let env = env().await?;
    let update = env
        .link(env.start(FinxFlow::IncomeReport), Widget::Agree { bank: TEXT_PROVIDER, login: "demo_no_sca" })
        .await?;
    let FlowUpdate::ReportReady { report } = update else { return Err(format!("no report: {update:?}")) };
    if report.report.income.streams.is_empty() || report.report.disposable_income.is_none() {
        return Err(format!("report lacks income streams or disposable income: {report:?}"));
    }
    let stored = env.kontor.income_report(&report.id).map_err(fail("income_report"))?;
    let all = env.kontor.income_reports().map_err(fail("income_reports"))?;
    if stored.report != report.report || all.len() != 1 {
        return Err("the stored report differs from the one shown".into());
    }
    if env.refresh_token()?.is_some() || env.counts()?.0 != 0 {
        return Err("an income report left a token or a connection behind".into());
    }
    Ok(())
}

/// The first download after an ongoing link fails (the accounts GET is cut in half): the access
/// exists at finX and its refresh token is stored, so the connection is kept with status `failed`,
/// without accounts or bookings, with a `failed` journal row, and the user is told to sync; a sync
/// then fills it.
#[tokio::test]
async fn flow_ongoing_first_download_fails_then_sync() -> TestResult {
    let env = env().await?;
    let faults = env._bank.faults();
    let armed = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let hook = armed.clone();
    env.kontor.set_link_options(LinkOptions {
        progress: Some(Arc::new(move |update: &FlowUpdate| {
            // The download's first request (after the callback's code exchange and access list).
            if matches!(update, FlowUpdate::Working { step: WorkStep::Downloading, .. })
                && hook.swap(false, Ordering::SeqCst)
            {
                faults.truncate_next(1);
            }
        })),
        ..options()
    });
    let mut request = env.start(FinxFlow::Ongoing);
    request.provider_id = Some(TEXT_PROVIDER.to_owned());
    request.save_secrets = Some(true);
    let update = env.link(request, Widget::Agree { bank: TEXT_PROVIDER, login: "demo_no_sca" }).await?;
    if armed.load(Ordering::SeqCst) {
        return Err("the download never started".into());
    }
    let error = expect_failed(&update, ErrorCode::ProviderResponseInvalid)?;
    if !error.message.starts_with("Linked, but the first download failed:")
        || !error.message.contains("sync to try again")
    {
        return Err(format!("the message does not say the bank is linked: {}", error.message));
    }
    if env.refresh_token()?.is_none() {
        return Err("the refresh token was not stored".into());
    }
    let overview = env.kontor.overview().map_err(fail("overview"))?;
    let [connection] = overview.connections.as_slice() else {
        return Err(format!("expected the one kept connection, got {:?}", overview.connections));
    };
    if connection.status != ConnectionStatus::Failed || connection.access_kind.as_deref() != Some("finx_ongoing") {
        return Err(format!("kept connection: {connection:?}"));
    }
    if !overview.accounts.is_empty() || env.counts()?.1 != 0 {
        return Err("a failed download left accounts or bookings behind".into());
    }
    let id = ConnectionId::from(connection.id.as_str());
    let journal = env.kontor.with_store(|s| s.sync_journal(5)).map_err(fail("journal"))?;
    match journal.first() {
        Some(entry)
            if entry.outcome == "failed"
                && entry.error_code.as_deref() == Some("ProviderResponseInvalid")
                && entry.connection_id.as_ref() == Some(&id) => {}
        other => return Err(format!("expected a failed journal row, got {other:?}")),
    }
    if !env.kontor.pending_flows().map_err(fail("flows"))?.is_empty() {
        return Err("the ended flow is still pending".into());
    }

    // A sync downloads everything with the stored token.
    match env.kontor.sync_connection(id.as_str()).await.map_err(fail("sync"))? {
        FlowUpdate::Done { added, .. } if added > 0 => {}
        other => return Err(format!("the sync after the failed download: {other:?}")),
    }
    let overview = env.kontor.overview().map_err(fail("overview"))?;
    if overview.connections.len() != 1
        || overview.connections.iter().any(|c| c.status != ConnectionStatus::Active)
        || overview.accounts.is_empty()
        || env.counts()?.1 == 0
    {
        return Err(format!("after the sync: {:?}", overview.connections));
    }
    let journal = env.kontor.with_store(|s| s.sync_journal(5)).map_err(fail("journal"))?;
    match journal.first() {
        Some(entry) if entry.outcome == "succeeded" && entry.connection_id.as_ref() == Some(&id) => Ok(()),
        other => Err(format!("journal after the sync: {other:?}")),
    }
}

// ------------------------------------------------------------------------------------------ syncs

#[derive(Debug, Clone, Copy)]
enum Expect {
    Text,
    Html,
    Flicker,
    Photo,
    Decoupled,
    Redirect,
}

/// Answers one sync's requests; `method` for METHOD_SELECTION, `expect` the challenge to see.
async fn play_sync(env: &Env, id: &ConnectionId, method: Option<&str>, expect: Expect, creds: bool) -> TestResult {
    let mut update = env.kontor.sync_connection(id.as_str()).await.map_err(fail("sync"))?;
    let mut seen = false;
    let mut asked_creds = false;
    for _ in 0..12 {
        let (flow_id, request) = match update {
            FlowUpdate::Done { .. } if seen && asked_creds == creds => return Ok(()),
            FlowUpdate::NeedsInput { flow_id, request, error: None } => (flow_id, request),
            other => return Err(format!("sync ended or failed before {expect:?} was seen: {other:?}")),
        };
        update = match request {
            UserRequest::EnterCredentials { fields, .. } => {
                asked_creds = true;
                let values = fields
                    .iter()
                    .map(|f| LoginValue { label: f.label.clone(), value: SecretString::new("demo".into()) })
                    .collect();
                env.kontor.answer(&flow_id, UserAnswer::Credentials { values, store_secrets: false }).await
            }
            UserRequest::ChooseProcedure { procedures, .. } => {
                let wanted = method.ok_or("unexpected method selection")?;
                if !procedures.iter().any(|p| p.id == wanted) {
                    return Err(format!("{wanted} not offered: {procedures:?}"));
                }
                env.kontor.answer(&flow_id, UserAnswer::Procedure { id: wanted.into() }).await
            }
            UserRequest::EnterTan { prompt, challenge, .. } => {
                let ok = match (expect, &challenge) {
                    (Expect::Text, TanChallenge::Text) => prompt.is_some(),
                    (Expect::Html, TanChallenge::Text) => prompt.as_deref().is_some_and(|p| !p.contains('<')),
                    (Expect::Flicker, TanChallenge::Flicker { flicker, .. }) => flicker.is_some(),
                    (Expect::Photo, TanChallenge::Photo { data_base64, .. }) => !data_base64.is_empty(),
                    _ => false,
                };
                if !ok {
                    return Err(format!("expected {expect:?}, got {challenge:?} / {prompt:?}"));
                }
                seen = true;
                env.kontor.answer(&flow_id, UserAnswer::Tan { tan: SecretString::new("123456".into()) }).await
            }
            UserRequest::ApproveInApp { .. } if matches!(expect, Expect::Decoupled) => {
                seen = true;
                env.kontor.answer(&flow_id, UserAnswer::Continue).await
            }
            UserRequest::OpenBrowser { url } if matches!(expect, Expect::Redirect) => {
                seen = true;
                let response = env.http.get(format!("{url}/approve")).send().await.map_err(fail("bank page"))?;
                let back = response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default();
                env.kontor.handle_callback(back).await
            }
            other => return Err(format!("unexpected request for {expect:?}: {other:?}")),
        }
        .map_err(fail("answer"))?;
    }
    Err("the sync did not finish".into())
}

async fn sync_case(bank: &'static str, method: Option<&str>, expect: Expect, save_secrets: bool) -> TestResult {
    let env = env().await?;
    let id = env.ongoing(bank, "demo", save_secrets).await?;
    let before = env.counts()?.1;
    play_sync(&env, &id, method, expect, !save_secrets).await?;
    let after = env.counts()?.1;
    if after <= before {
        return Err(format!("the sync added nothing ({before} → {after})"));
    }
    let journal = env.kontor.with_store(|s| s.sync_journal(5)).map_err(fail("journal"))?;
    match journal.first() {
        Some(entry) if entry.outcome == "succeeded" => Ok(()),
        other => Err(format!("journal: {other:?}")),
    }
}

macro_rules! sync_journeys {
    ($($name:ident: $bank:expr, $method:expr, $expect:expr, $save:expr;)*) => {$(
        #[tokio::test]
        async fn $name() -> TestResult {
            sync_case($bank, $method, $expect, $save).await
        }
    )*};
}

sync_journeys! {
    sync_method_selection_then_text: SELECTION_PROVIDER, Some("M28000501.1"), Expect::Text, true;
    sync_method_selection_then_html: SELECTION_PROVIDER, Some("M28000502.1"), Expect::Html, true;
    sync_method_selection_then_flicker: SELECTION_PROVIDER, Some("M28000503.1"), Expect::Flicker, true;
    sync_method_selection_then_photo: SELECTION_PROVIDER, Some("M28000504.1"), Expect::Photo, true;
    sync_method_selection_then_decoupled: SELECTION_PROVIDER, Some("M28000505.1"), Expect::Decoupled, true;
    sync_embedded_text: TEXT_PROVIDER, None, Expect::Text, true;
    sync_redirect: REDIRECT_PROVIDER, None, Expect::Redirect, true;
    sync_decoupled: DECOUPLED_PROVIDER, None, Expect::Decoupled, true;
    sync_credentials_then_text: TEXT_PROVIDER, None, Expect::Text, false;
}

/// Everything the vault holds of one connection that a sync could change.
fn snapshot(env: &Env, id: &ConnectionId) -> Result<String, String> {
    env.kontor
        .with_store(|s| {
            let connection = s.connection(id)?;
            let accounts = s.connection_accounts(id)?;
            let rows = s.connection_transactions(id, None)?;
            Ok(format!("{connection:?}\n{accounts:?}\n{rows:?}"))
        })
        .map_err(fail("snapshot"))
}

/// A wrong TAN: finX fails the sync (FAILED, 10004), so asking for the TAN again would answer a
/// dead sync. The flow ends with `TanRejected` and the bank's text, the vault is unchanged except
/// for a `failed` journal row with the code, and a new sync with the right TAN completes.
#[tokio::test]
async fn sync_wrong_tan_then_retry() -> TestResult {
    let env = env().await?;
    let id = env.ongoing(TEXT_PROVIDER, "demo", true).await?;
    let before = snapshot(&env, &id)?;
    let (connections, rows) = env.counts()?;

    let update = env.kontor.sync_connection(id.as_str()).await.map_err(fail("sync"))?;
    let FlowUpdate::NeedsInput { flow_id, request: UserRequest::EnterTan { .. }, error: None } = update else {
        return Err(format!("expected a TAN request, got {update:?}"));
    };
    let update = env
        .kontor
        .answer(&flow_id, UserAnswer::Tan { tan: SecretString::new("999999".into()) })
        .await
        .map_err(fail("answer the wrong TAN"))?;
    let error = expect_failed(&update, ErrorCode::TanRejected)?;
    if !error.bank_message.as_deref().is_some_and(|m| m.contains("TAN")) {
        return Err(format!("expected the bank's text in bank_message, got {error:?}"));
    }
    if snapshot(&env, &id)? != before || env.counts()? != (connections, rows) {
        return Err("the failed sync changed the vault".into());
    }
    let journal = env.kontor.with_store(|s| s.sync_journal(5)).map_err(fail("journal"))?;
    match journal.first() {
        Some(entry)
            if entry.outcome == "failed"
                && entry.error_code.as_deref() == Some("TanRejected")
                && entry.connection_id.as_ref() == Some(&id) => {}
        other => return Err(format!("expected a failed journal row with TanRejected, got {other:?}")),
    }
    if !env.kontor.pending_flows().map_err(fail("flows"))?.is_empty() {
        return Err("the ended flow is still pending".into());
    }
    match env.kontor.answer(&flow_id, UserAnswer::Tan { tan: SecretString::new("123456".into()) }).await {
        Err(_) | Ok(FlowUpdate::Failed { .. }) => {}
        Ok(other) => return Err(format!("the ended flow still took a TAN: {other:?}")),
    }

    // Starting again: a new sync, the right TAN, COMPLETED.
    play_sync(&env, &id, None, Expect::Text, false).await?;
    if env.counts()?.1 <= rows {
        return Err("the retried sync added nothing".into());
    }
    let journal = env.kontor.with_store(|s| s.sync_journal(5)).map_err(fail("journal"))?;
    match journal.first() {
        Some(entry) if entry.outcome == "succeeded" => Ok(()),
        other => Err(format!("journal after the retry: {other:?}")),
    }
}

// ------------------------------------------------------------------------------------------ tokens

#[tokio::test]
async fn rotation_over_several_refreshes() -> TestResult {
    let env = env().await?;
    let id = env.ongoing(TEXT_PROVIDER, "demo_no_sca", true).await?;
    let mut spent = Vec::new();
    for round in 1..=3 {
        let old = env.refresh_token()?.ok_or("no token")?;
        // Forget the access token, as a restart would: the sync has to refresh.
        env.kontor.reset_link_runtime();
        match env.kontor.sync_connection(id.as_str()).await.map_err(fail("sync"))? {
            FlowUpdate::Done { .. } => {}
            other => return Err(format!("round {round}: {other:?}")),
        }
        let new = env.refresh_token()?.ok_or("no token after refresh")?;
        if new == old || new.len() < 2048 {
            return Err(format!("round {round}: the refresh token was not rotated and kept whole"));
        }
        spent.push(old);
    }
    for (n, token) in spent.iter().enumerate() {
        if env.bank_accepts_refresh(token).await? {
            return Err(format!("the Demo Bank still accepts spent token #{}", n + 1));
        }
    }
    Ok(())
}

/// The child of [`crash_after_refresh`]: it opens the vault, syncs, and (with the abort hook armed)
/// dies right after the rotated token was persisted. Run on its own it fails.
#[tokio::test]
#[ignore = "runs only as the child process of crash_after_refresh"]
async fn crash_child() -> TestResult {
    let spec = std::env::var(CHILD_ENV).map_err(|_| format!("{CHILD_ENV} is not set: run crash_after_refresh"))?;
    let mut parts = spec.splitn(3, '\n');
    let (dir, service, connection) =
        (parts.next().unwrap_or_default(), parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    let kontor = Kontor::new(dir, Arc::new(OsKeyring::new(service)), clock());
    kontor.unlock_with_passphrase(&SecretString::new(PASSPHRASE.into())).map_err(fail("unlock"))?;
    kontor.set_link_options(options());
    let update = kontor.sync_connection(connection).await.map_err(fail("child sync"))?;
    Err(format!("the child should have died after the refresh, but the sync ended: {update:?}"))
}

#[tokio::test]
async fn crash_after_refresh() -> TestResult {
    let env = env().await?;
    let id = env.ongoing(TEXT_PROVIDER, "demo_no_sca", true).await?;
    let before = env.refresh_token()?.ok_or("no token")?;
    env.kontor.close().map_err(fail("close"))?;

    let exe = std::env::current_exe().map_err(fail("current_exe"))?;
    let spec = format!("{}\n{}\n{}", env.dir.path().display(), env.service, id.as_str());
    let status = tokio::task::spawn_blocking(move || {
        kontor_testkit::output_within(
            std::process::Command::new(exe)
                .args(["crash_child", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
                .env(CHILD_ENV, spec)
                .env(TEST_ABORT_ENV, "token-persisted"),
            std::time::Duration::from_secs(120),
        )
    })
    .await
    .map_err(fail("join the child"))?
    .map_err(fail("run the child"))?
    .status;
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt as _;
        if status.signal() != Some(6) {
            return Err(format!("the child did not abort at the hook: {status:?}"));
        }
    }
    if status.success() {
        return Err("the child process did not die after the refresh".into());
    }

    // Restart: a new facade on the same vault.
    let kontor = Kontor::new(env.dir.path(), env.keyring.clone(), clock());
    kontor.unlock_with_passphrase(&SecretString::new(PASSPHRASE.into())).map_err(fail("unlock after crash"))?;
    kontor.set_link_options(options());
    let stored = kontor
        .with_store(|s| s.provider_session(&env.config(), TOKEN_SCOPE))
        .map_err(fail("read token"))?
        .ok_or("the token is gone after the crash")?;
    if stored.contains(&before) {
        return Err("the child did not persist the rotated token before dying".into());
    }
    match kontor.sync_connection(id.as_str()).await.map_err(fail("sync after crash"))? {
        FlowUpdate::Done { .. } => {}
        other => return Err(format!("no access after the crash: {other:?}")),
    }
    if env.bank_accepts_refresh(&before).await? {
        return Err("the token spent before the crash is still accepted".into());
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------ callbacks

#[tokio::test]
async fn callback_code_expired() -> TestResult {
    let env = env_with(|c| c.finx.authorization_code_lifetime = StdDuration::from_millis(300)).await?;
    let url = env.open(env.start(FinxFlow::OneTime)).await?;
    let callback = env.widget(&url, Widget::Agree { bank: TEXT_PROVIDER, login: "demo_no_sca" }).await?;
    tokio::time::sleep(StdDuration::from_millis(700)).await;
    let update = env.kontor.handle_callback(&callback).await.map_err(fail("callback"))?;
    expect_failed(&update, ErrorCode::AuthorizationExpired)?;
    nothing_written(&env)
}

fn nothing_written(env: &Env) -> TestResult {
    let (connections, txs) = env.counts()?;
    let reports = env.kontor.income_reports().map_err(fail("reports"))?.len();
    if connections + txs + reports != 0 || env.refresh_token()?.is_some() {
        return Err(format!("something was written: {connections} connections, {txs} rows, {reports} reports"));
    }
    Ok(())
}

#[tokio::test]
async fn callback_wrong_state() -> TestResult {
    let env = env().await?;
    let url = env.open(env.start(FinxFlow::Ongoing)).await?;
    let callback = env.widget(&url, Widget::Agree { bank: TEXT_PROVIDER, login: "demo_no_sca" }).await?;
    let state = query_value(&callback, "state").ok_or("no state")?;
    let forged = callback.replace(&format!("state={state}"), "state=forged0123456789");
    match env.kontor.handle_callback(&forged).await {
        Err(e) if e.code == ErrorCode::ScaStateMismatch => {}
        other => return Err(format!("a wrong state was not refused: {other:?}")),
    }
    nothing_written(&env)?;
    if env.kontor.pending_flows().map_err(fail("flows"))?.len() != 1 {
        return Err("the real flow should still be waiting".into());
    }
    Ok(())
}

#[tokio::test]
async fn callback_success_false() -> TestResult {
    let env = env().await?;
    let url = env.open(env.start(FinxFlow::Ongoing)).await?;
    let flows = env.kontor.pending_flows().map_err(fail("flows"))?;
    let flow = flows.first().ok_or("no pending flow")?;
    // The widget's own answer when it ends without a grant (e.g. three wrong logins).
    let callback = env.widget(&url, Widget::Agree { bank: TEXT_PROVIDER, login: "demo_no_sca" }).await?;
    let state = query_value(&callback, "state").ok_or("no state")?;
    let failed = format!("{CALLBACK}?state={state}&success=false&flow_id=x");
    let update = env.kontor.handle_callback(&failed).await.map_err(fail("callback"))?;
    expect_failed(&update, ErrorCode::ScaCancelled)?;
    nothing_written(&env)?;
    if env.kontor.pending_flows().map_err(fail("flows"))?.iter().any(|f| f.flow_id == flow.flow_id) {
        return Err("the failed flow is still pending".into());
    }
    Ok(())
}

#[tokio::test]
async fn callback_cancelled() -> TestResult {
    let env = env().await?;
    let update = env.link(env.start(FinxFlow::Ongoing), Widget::Cancel).await?;
    expect_failed(&update, ErrorCode::ScaCancelled)?;
    nothing_written(&env)
}

// ------------------------------------------------------------------- what the bank needs, which bank

/// A one-time token over three banks (the widget's "agree and add another bank"): every bank, account
/// and booking of the token is imported, each bank as its own connection.
#[tokio::test]
async fn flow_onetime_access_over_three_banks() -> TestResult {
    let env = env().await?;
    let url = env.open(env.start(FinxFlow::OneTime)).await?;
    let token = query_value(&url, "token").ok_or("the widget URL has no token")?;
    let banks = [TEXT_PROVIDER, DECOUPLED_PROVIDER, SELECTION_PROVIDER];
    let mut callback = String::new();
    let mut expected_accounts = 0;
    for (n, bank) in banks.iter().enumerate() {
        env.submit("/finx/widget/bank", &[("token", &token), ("provider_id", bank)]).await?;
        let next = env
            .submit(
                "/finx/widget/login",
                &[("token", &token), ("login_id", "demo_no_sca"), ("password", "demo_no_sca")],
            )
            .await?;
        let html = env.page(&next).await?;
        let ibans: Vec<String> = html
            .split("name=\"account\" value=\"")
            .skip(1)
            .filter_map(|part| part.split('"').next().map(str::to_owned))
            .collect();
        expected_accounts += ibans.len();
        let mut fields = vec![("token", token.as_str())];
        fields.extend(ibans.iter().map(|iban| ("account", iban.as_str())));
        if n + 1 < banks.len() {
            fields.push(("another", "1"));
        }
        callback = env.submit("/finx/widget/consent", &fields).await?;
    }
    let update = env.kontor.handle_callback(&callback).await.map_err(fail("handle_callback"))?;
    let FlowUpdate::Done { added, .. } = update else { return Err(format!("not done: {update:?}")) };
    let overview = env.kontor.overview().map_err(fail("overview"))?;
    let mut names: Vec<&str> = overview.connections.iter().map(|c| c.bank_name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    if overview.connections.len() != 3 || names.len() != 3 {
        return Err(format!("expected three banks, got {:?}", overview.connections));
    }
    if overview.accounts.len() != expected_accounts {
        return Err(format!("expected {expected_accounts} accounts, got {}", overview.accounts.len()));
    }
    let (_, rows) = env.counts()?;
    if rows != added as usize || rows == 0 {
        return Err(format!("{added} reported added, {rows} in the vault"));
    }
    // Every account has bookings: nothing of the second and third bank was left out.
    let booked_accounts: std::collections::HashSet<String> = env
        .kontor
        .with_store(|s| {
            let mut ids = std::collections::HashSet::new();
            for c in s.connections()? {
                ids.extend(s.connection_transactions(&c.id, None)?.into_iter().map(|(_, t)| t.account_id.to_string()));
            }
            Ok(ids)
        })
        .map_err(fail("bookings per account"))?;
    let empty: Vec<&str> =
        overview.accounts.iter().filter(|a| !booked_accounts.contains(&a.id)).map(|a| a.name.as_str()).collect();
    if !empty.is_empty() {
        return Err(format!("accounts without bookings: {empty:?}"));
    }
    Ok(())
}

/// Linking a bank again (a renewed consent) names the bank the flow was for, even when the accesses'
/// timestamps tie and another bank's access was created later.
#[tokio::test]
async fn flow_ongoing_relink_names_the_right_bank_with_tied_timestamps() -> TestResult {
    let tie = Utc.with_ymd_and_hms(2025, 6, 15, 10, 0, 0).single().unwrap_or_default();
    let env = env_with(|c| c.finx.access_created_at = Some(tie)).await?;
    let text_id = env.ongoing(TEXT_PROVIDER, "demo_no_sca", true).await?;
    let app_id = env.ongoing(DECOUPLED_PROVIDER, "demo_no_sca", true).await?;
    let names = |env: &Env| -> Result<Vec<(String, String)>, String> {
        let overview = env.kontor.overview().map_err(fail("overview"))?;
        Ok(overview.connections.iter().map(|c| (c.id.clone(), c.bank_name.clone())).collect())
    };
    // Each bank in turn: whichever access a guess would pick, one of the two relinks would show it.
    for (bank, id) in [(TEXT_PROVIDER, &text_id), (DECOUPLED_PROVIDER, &app_id)] {
        let name = names(&env)?
            .into_iter()
            .find(|(c, _)| c == id.as_str())
            .map(|(_, name)| name)
            .ok_or("a connection is gone")?;
        let mut request = env.start(FinxFlow::Ongoing);
        request.provider_id = Some(bank.to_owned());
        request.save_secrets = Some(true);
        let update = env.link(request, Widget::Agree { bank, login: "demo_no_sca" }).await?;
        let FlowUpdate::Done { connection, .. } = update else { return Err(format!("relink failed: {update:?}")) };
        if connection.bank_name != name || connection.id != id.as_str() {
            return Err(format!("the relink of {name} was named {}", connection.bank_name));
        }
        if names(&env)?.len() != 2 {
            return Err(format!("the relink added a connection: {:?}", names(&env)?));
        }
    }
    Ok(())
}

/// Where finX kept no login (`save_secrets: false`), a sync asks for it before any synchronisation is
/// started (none fails with 1011 first); ticked "keep", the next sync asks nothing.
#[tokio::test]
async fn sync_asks_for_the_login_first_when_finx_kept_none() -> TestResult {
    let env = env().await?;
    let id = env.ongoing(TEXT_PROVIDER, "demo", false).await?;
    let syncs =
        |env: &Env| env._bank.requests().iter().filter(|r| r.method == "POST" && r.path.ends_with("/syncs")).count();
    let update = env.kontor.sync_connection(id.as_str()).await.map_err(fail("sync"))?;
    let FlowUpdate::NeedsInput { flow_id, request: UserRequest::EnterCredentials { fields, .. }, error: None } = update
    else {
        return Err(format!("expected the login form first, got {update:?}"));
    };
    if syncs(&env) != 0 {
        return Err("a synchronisation was started before the login was asked for".into());
    }
    let values =
        fields.iter().map(|f| LoginValue { label: f.label.clone(), value: SecretString::new("demo".into()) }).collect();
    let mut update = env
        .kontor
        .answer(&flow_id, UserAnswer::Credentials { values, store_secrets: true })
        .await
        .map_err(fail("credentials"))?;
    for _ in 0..5 {
        let FlowUpdate::NeedsInput { flow_id, request: UserRequest::EnterTan { .. }, .. } = &update else { break };
        update = env
            .kontor
            .answer(flow_id, UserAnswer::Tan { tan: SecretString::new("123456".into()) })
            .await
            .map_err(fail("tan"))?;
    }
    if !matches!(update, FlowUpdate::Done { .. }) {
        return Err(format!("the sync did not finish: {update:?}"));
    }
    // finX keeps the login now: the next sync starts at once.
    let update = env.kontor.sync_connection(id.as_str()).await.map_err(fail("second sync"))?;
    if matches!(update, FlowUpdate::NeedsInput { request: UserRequest::EnterCredentials { .. }, .. }) {
        return Err("the login was asked for again although finX keeps it".into());
    }
    Ok(())
}

/// After the consent's end finX fails the sync: `ConsentExpired`, a message that says how to renew, and
/// the connection marked for renewal.
#[tokio::test]
async fn sync_after_the_consent_ended_asks_to_renew() -> TestResult {
    let env = env_with(|c| c.finx.consent_lifetime = StdDuration::from_millis(1500)).await?;
    let id = env.ongoing(DECOUPLED_PROVIDER, "demo_no_sca", true).await?;
    tokio::time::sleep(StdDuration::from_millis(1600)).await;
    let update = env.kontor.sync_connection(id.as_str()).await.map_err(fail("sync"))?;
    let error = expect_failed(&update, ErrorCode::ConsentExpired)?;
    if !error.message.to_lowercase().contains("renew") {
        return Err(format!("the message does not say how to renew: {error:?}"));
    }
    let status = env.kontor.with_store(|s| s.connection(&id)).map_err(fail("connection"))?.map(|c| c.status);
    if status != Some(ConnectionStatus::ConsentExpired) {
        return Err(format!("the connection is not marked: {status:?}"));
    }
    Ok(())
}

/// Cancelling a finX sync while Kontor polls it (finX keeps answering `RUNNING`) stops the polling at
/// once: the call ends within a second and finX sees no further request.
#[tokio::test]
async fn sync_polling_is_cancelled_at_once() -> TestResult {
    let env = env_with(|c| c.finx.running_polls = 100_000).await?;
    let id = env.ongoing(DECOUPLED_PROVIDER, "demo_no_sca", true).await?;
    env.kontor.set_link_options(LinkOptions { download_poll_interval: StdDuration::from_millis(50), ..options() });
    let job = async {
        let outcome = env.kontor.sync_connection(id.as_str()).await;
        (outcome, std::time::Instant::now())
    };
    let cancel = async {
        tokio::time::sleep(StdDuration::from_millis(1000)).await;
        let flow = env.kontor.pending_flows().map_err(fail("pending"))?.into_iter().next().ok_or("no running flow")?;
        let at = std::time::Instant::now();
        let cancelled = env.kontor.cancel(&flow.flow_id).await.map_err(fail("cancel"))?;
        expect_failed(&cancelled, ErrorCode::ScaCancelled)?;
        Ok::<_, String>(at)
    };
    let ((outcome, ended_at), cancelled_at) = tokio::join!(job, cancel);
    let cancelled_at = cancelled_at?;
    expect_failed(&outcome.map_err(fail("sync"))?, ErrorCode::ScaCancelled)?;
    let polls = env._bank.requests().iter().filter(|r| r.path.contains("/syncs/")).count();
    if polls < 5 {
        return Err(format!("the sync was not being polled when it was cancelled ({polls} polls)"));
    }
    let late: Vec<String> = env
        ._bank
        .requests()
        .iter()
        .filter(|r| r.at > cancelled_at)
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    if !late.is_empty() {
        return Err(format!("finX received requests after the cancel: {late:?}"));
    }
    if ended_at.duration_since(cancelled_at) > StdDuration::from_secs(1) {
        return Err(format!("the sync ran {:?} past the cancel", ended_at.duration_since(cancelled_at)));
    }
    Ok(())
}
