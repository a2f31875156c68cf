//! finX in the facade: the three widget flows, provider synchronisations with SCA, and the tokens.
//!
//! - **Widget flows** ([`Kontor::start_finx_link`], [`FinxFlow`]). Kontor asks finX for a widget link
//!   with a random `state` and the callback URL, and the SCA machine waits in `AwaitingRedirect` with
//!   the widget's `location` (the front end gets `OpenBrowser { url }`). The callback comes back
//!   through [`Kontor::handle_callback`]: a `state` of no pending flow is `ScaStateMismatch` and
//!   changes nothing; `success=false`, `cancel`/`abort` end the flow as `ScaCancelled` and nothing
//!   is written; otherwise the code is exchanged at once with the `redirect_uri` persisted with the
//!   flow (in its continuation). Then:
//!   - *one-time*: accounts, balances and transactions of the access are fetched into the vault
//!     (a connection with interface [`ONETIME_INTERFACE`]); the token lives only in memory until
//!     then and is dropped afterwards;
//!   - *ongoing*: the refresh token is stored in `provider_sessions` (encrypted with the vault, no
//!     size limit) under Kontor's one finX user per provider configuration, and every access of
//!     that user becomes a connection ([`ONGOING_INTERFACE`]): several banks under one user. Should
//!     the first download fail, the connection is kept as finAPI's is (status `failed`, no accounts
//!     or transactions, a `failed` journal row, "Linked, but the first download failed: … — sync to
//!     try again"): the token is stored, and a later sync fills it;
//!   - *income report*: the report is fetched and stored (`income_reports`) for offline reading.
//! - **Provider synchronisation** (`sync_connection` of an ongoing connection): `POST
//!   /rest/accesses/{id}/syncs` with everything the guide lists (credentials only when finX asks
//!   for them, `save_secrets`, notifications off while the user is present, `redirect_uri`, a random
//!   `state` checked on return, scope `TRANSACTIONS`, re-use of the last method and medium, the PSU
//!   IP, the sync period), then polling. `AWAIT_AUTH` challenges become the SCA machine's requests
//!   (choose a method, enter a TAN with text / HTML-as-text / flicker / photo, open the bank's page,
//!   approve in the app); `1011` (credentials needed) asks for the bank login.
//! - **A refused TAN follows the sync's status.** finX (and the Demo Bank) fail the sync after a
//!   wrong TAN (`FAILED`, 10004): that is [`AuthReply::Ended`], the flow ends with `TanRejected`
//!   (the bank's text in `bank_message`), nothing is written but a `failed` journal row, and the
//!   next sync starts a new one. Should finX keep the sync in `AWAIT_AUTH` instead, the TAN is asked
//!   again: for the same challenge with the refusal as the error, or for the new challenge with the
//!   refusal in its message. An answered challenge still shown without a refusal is polled on.
//! - **Tokens, rotation.** An access token is kept in memory only. A refresh goes through
//!   [`FinxClient::refresh_and_persist`]: the new refresh token replaces the old one in one SQLite
//!   transaction (compare-and-swap on the old value) *before* the new access token is used, so a
//!   crash never leaves Kontor holding only a spent token. Refreshes are serialised per runtime,
//!   so a refresh token is never sent twice. A `ProviderAuthFailed` on a bearer call refreshes once
//!   and repeats the call.
//!
//! Test hook, compiled only with the `test-hooks` feature (which only the journeys' dev-dependency
//! turns on, so no release build has it): with `KONTOR_TEST_ABORT_AFTER=token-persisted`
//! (`TEST_ABORT_ENV`) the process aborts right after a rotated refresh token was committed, for the
//! crash journey. Nothing else reads it.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::Kontor;
use super::dto::ConnectionSummary;
use super::link::LinkOptions;
use super::link_dto::{FinxFlow, FlowUpdate, StartFinxLink, StoredIncomeReport, WorkStep};
use crate::domain::{Connection, ConnectionId, ConnectionStatus, FlowId, ProviderConfigId, ProviderKind};
use crate::error::{ErrorCode, KontorError, Result};
use crate::provider::finx::sync_round::{SyncRound, SyncStep, TokenSource, with_token};
use crate::provider::finx::{
    self as fx, AccessToken, FinxAccess, FinxAccount, FinxClient, FinxConfig, IncomeReportRequest,
    OnetimeAccessRequest, OngoingAccessRequest, ReportWindow, Since, SinceType, TransactionQuery,
};
use crate::provider::{
    AuthAnswer, AuthCall, AuthOperation, AuthReply, BankSearchHit, BoxFuture, Continuation, FetchedAccount,
    FetchedTransaction, LoginField, Provider, Psu, RemoteConnection, ScaChallenge,
};
use crate::sca::{Flow, FlowPurpose, FlowSetup};
use crate::secret::SecretString;
use crate::store::Store;
use crate::sync::{Delivery, SyncOutcome};

/// `connections.interface` of a one-time access (cannot be synced again).
pub const ONETIME_INTERFACE: &str = "finx-onetime";
/// `connections.interface` of an ongoing access.
pub const ONGOING_INTERFACE: &str = "finx-ongoing";
/// `provider_sessions` scope of Kontor's finX user id (one per provider configuration).
pub const USER_SCOPE: &str = "finx-user";
/// `provider_sessions` scope of the finX refresh token (one per finX user).
pub const TOKEN_SCOPE: &str = "finx-refresh-token";
/// Test-only crash hook: `token-persisted` aborts the process right after a rotated refresh token
/// was committed (the crash journey).
#[cfg(feature = "test-hooks")]
pub const TEST_ABORT_ENV: &str = "KONTOR_TEST_ABORT_AFTER";
pub use crate::provider::finx::sync_round::{LOGIN_ID_LABEL, PIN_LABEL};

/// The finX part of the link runtime (memory only).
#[derive(Debug, Default)]
pub struct FinxRuntime {
    clients: Mutex<HashMap<ProviderConfigId, Arc<FinxClient>>>,
    /// Access tokens of ongoing grants, per provider configuration.
    access: Mutex<HashMap<ProviderConfigId, AccessToken>>,
    /// Access tokens of one-time and income-report grants, per flow, until the flow is finished.
    grants: Mutex<HashMap<FlowId, AccessToken>>,
    /// The options of widget flows being started, per flow.
    links: Mutex<HashMap<FlowId, StartFinxLink>>,
    /// Serialises refreshes: a refresh token is spent by its first use.
    refresh: tokio::sync::Mutex<()>,
}

impl FinxRuntime {
    pub fn clear(&self) {
        self.clients.lock().unwrap_or_else(PoisonError::into_inner).clear();
        self.access.lock().unwrap_or_else(PoisonError::into_inner).clear();
        self.grants.lock().unwrap_or_else(PoisonError::into_inner).clear();
        self.links.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }

    pub fn forget_client(&self, id: &ProviderConfigId) {
        self.clients.lock().unwrap_or_else(PoisonError::into_inner).remove(id);
        self.access.lock().unwrap_or_else(PoisonError::into_inner).remove(id);
    }
}

/// What a finX flow remembers between calls (the SCA continuation; no secrets).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
enum Pending {
    Widget {
        flow: FinxFlow,
        state: String,
        redirect_uri: String,
        link_id: Option<String>,
    },
    /// A sync round's step ([`SyncStep`] writes it); read here only to tell it from a widget flow.
    Sync(SyncStep),
}

impl Pending {
    fn continuation(&self) -> Result<Continuation> {
        let token = serde_json::to_string(self).map_err(|e| KontorError::internal(e.to_string()))?;
        Ok(Continuation { token, procedure_id: None })
    }

    fn from(continuation: Option<&Continuation>) -> Option<Self> {
        continuation.and_then(|c| serde_json::from_str(&c.token).ok())
    }
}

fn stale() -> KontorError {
    KontorError::new(ErrorCode::ScaStale, "This finX authentication has lost its place. Please start again.")
}

fn random_state() -> String {
    use rand::RngCore as _;
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn relink() -> KontorError {
    KontorError::new(
        ErrorCode::ConsentExpired,
        "Kontor has no lasting finX access for this provider. Link the bank again (ongoing access).",
    )
}

/// Aborts the process at a named point when the test hook asks for it (`TEST_ABORT_ENV`); without
/// the `test-hooks` feature it does nothing and reads nothing.
fn test_abort_point(point: &str) {
    #[cfg(feature = "test-hooks")]
    if std::env::var(TEST_ABORT_ENV).is_ok_and(|v| v == point) {
        tracing::warn!(point, "test hook: aborting the process");
        std::process::abort();
    }
    #[cfg(not(feature = "test-hooks"))]
    let _ = point;
}

/// The stored refresh token's deadline (the 90-day inactivity rule) of a provider configuration.
pub fn access_expiry(store: &Store, config: &ProviderConfigId) -> Option<DateTime<Utc>> {
    let json = store.provider_session(config, TOKEN_SCOPE).ok().flatten()?;
    let value: serde_json::Value = serde_json::from_str(&json).ok()?;
    value.get("refresh_expires_at")?.as_str()?.parse().ok()
}

/// Which token a bearer call uses.
#[derive(Debug, Clone)]
pub(crate) enum Grant {
    /// The provider configuration's ongoing grant: cached access token, refreshed when needed.
    Ongoing,
    /// A one-time (or income-report) token, never refreshed and never stored.
    OneTime(AccessToken),
}

/// The SCA machine's view of finX: widget links and provider synchronisations as authorisation
/// calls. Built per run of the driver; holds nothing secret of its own.
pub(crate) struct FinxAuth<'a> {
    kontor: &'a Kontor,
    client: Arc<FinxClient>,
    config_id: ProviderConfigId,
    flow_id: FlowId,
    flow_kind: Option<FinxFlow>,
    /// The finX provider (bank) a link flow was started for, if any.
    bank_id: Option<String>,
    options: LinkOptions,
}

impl std::fmt::Debug for FinxAuth<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FinxAuth").field("config_id", &self.config_id).field("flow_id", &self.flow_id).finish()
    }
}

impl<'a> FinxAuth<'a> {
    pub(crate) fn new(kontor: &'a Kontor, client: Arc<FinxClient>, flow: &Flow, options: LinkOptions) -> Self {
        Self {
            kontor,
            client,
            config_id: flow.provider_config_id.clone(),
            flow_id: flow.id.clone(),
            flow_kind: FinxFlow::parse(&flow.interface),
            bank_id: match &flow.purpose {
                FlowPurpose::Link { bank_id, .. } => Some(bank_id.clone()),
                FlowPurpose::Update { .. } => None,
            },
            options,
        }
    }

    async fn run(&self, call: AuthCall<'_>, psu: &Psu) -> Result<AuthReply> {
        match call.operation {
            AuthOperation::Import { bank_id, ibans, redirect_url, .. } => match call.answer {
                AuthAnswer::None => self.open_widget(bank_id, ibans, redirect_url.as_deref()).await,
                AuthAnswer::RedirectCallback(query) => self.widget_returned(call.continuation, query).await,
                _ => Err(stale()),
            },
            AuthOperation::Update { .. } => {
                let tokens = OngoingTokens { kontor: self.kontor, client: &self.client, config: &self.config_id };
                let round = SyncRound {
                    client: &self.client,
                    tokens: &tokens,
                    poll_interval: self.options.download_poll_interval,
                    callback_url: &self.options.callback_url,
                    save_secrets_by_default: self.options.finx_save_secrets,
                    sync_period_days: self.options.finx_sync_period_days,
                };
                round.authorize(call, psu).await
            }
        }
    }

    async fn open_widget(&self, provider_id: &str, ibans: &[String], redirect_url: Option<&str>) -> Result<AuthReply> {
        let params =
            self.kontor.link.finx.links.lock().unwrap_or_else(PoisonError::into_inner).get(&self.flow_id).cloned();
        let kind = params.as_ref().map(|p| p.flow).or(self.flow_kind).ok_or_else(stale)?;
        let state = random_state();
        let redirect_uri = params
            .as_ref()
            .and_then(|p| p.callback_url.clone())
            .or_else(|| redirect_url.map(str::to_owned))
            .unwrap_or_else(|| self.options.callback_url.clone());
        let mut accounts: Vec<String> = params.as_ref().map(|p| p.accounts.clone()).unwrap_or_default();
        if accounts.is_empty() {
            accounts = ibans.to_vec();
        }
        let sync_period = params.as_ref().and_then(|p| p.sync_period_days);
        let link = match kind {
            FinxFlow::OneTime => {
                let mut request = OnetimeAccessRequest::new(redirect_uri.clone(), state.clone());
                request.accounts = accounts;
                if let Some(days) = sync_period {
                    request.sync_period = days;
                }
                self.client.create_onetime_access(&request).await?
            }
            FinxFlow::Ongoing => {
                let user_id = self.kontor.finx_user_id(&self.config_id, None)?;
                let mut request = OngoingAccessRequest::new(user_id, redirect_uri.clone(), state.clone());
                request.accounts = accounts;
                request.sync_period = sync_period;
                request.save_secrets = params.as_ref().and_then(|p| p.save_secrets);
                request.provider_id = params
                    .as_ref()
                    .and_then(|p| p.provider_id.clone())
                    .or_else(|| Some(provider_id.trim().to_owned()))
                    .filter(|p| !p.is_empty());
                self.client.create_ongoing_access(&request).await?
            }
            FinxFlow::IncomeReport => {
                let mut request = IncomeReportRequest::new(redirect_uri.clone(), state.clone());
                request.accounts = accounts;
                request.window = match (sync_period, params.as_ref().and_then(|p| p.reporting_period_months)) {
                    (Some(_), Some(_)) => {
                        return Err(KontorError::invalid_input(
                            "An income report takes either days of history or months, not both.",
                        ));
                    }
                    (Some(days), None) => Some(ReportWindow::SyncPeriodDays(days)),
                    (None, Some(months)) => Some(ReportWindow::ReportingPeriodMonths(months)),
                    (None, None) => None,
                };
                self.client.create_income_report(&request).await?
            }
        };
        let pending = Pending::Widget { flow: kind, state: state.clone(), redirect_uri, link_id: link.id.clone() };
        Ok(AuthReply::NeedsAnswer {
            continuation: pending.continuation()?,
            challenge: ScaChallenge::Redirect {
                url: link.location,
                context: Some(state),
                context_field: Some("state".to_owned()),
            },
        })
    }

    async fn widget_returned(&self, continuation: Option<&Continuation>, query: &str) -> Result<AuthReply> {
        let Some(Pending::Widget { flow, state, redirect_uri, link_id }) = Pending::from(continuation) else {
            return Err(stale());
        };
        // The machine already matched `state`; this also reads success, cancel/abort and the code.
        let callback = fx::parse_callback(query, &state)?;
        let tokens = self.client.exchange_code(&callback.code, &redirect_uri).await?;
        let link_id = callback.flow_id.or(link_id);
        match flow {
            FinxFlow::Ongoing => {
                let refresh = tokens.refresh_token.as_ref().ok_or_else(|| {
                    KontorError::new(
                        ErrorCode::ProviderResponseInvalid,
                        "finX granted no lasting access (no refresh token). Try linking the bank again.",
                    )
                })?;
                self.kontor.finx_store_grant(&self.config_id, refresh, tokens.refresh_expires_at, tokens.issued_at)?;
                self.kontor.cache_access(&self.config_id, tokens.access.clone());
                let accesses = self.client.accesses(&tokens.access).await?;
                let produced = self.access_of_this_flow(&accesses)?;
                Ok(AuthReply::Connected { provider_connection_id: produced })
            }
            FinxFlow::OneTime => {
                // The token may cover several banks; the download imports every access of it.
                let accesses = self.client.accesses(&tokens.access).await?;
                let first = accesses.first().ok_or_else(|| {
                    KontorError::new(ErrorCode::ProviderResponseInvalid, "finX shared no bank account.")
                })?;
                let id = first.id.clone();
                self.kontor.keep_grant(&self.flow_id, tokens.access);
                Ok(AuthReply::Connected { provider_connection_id: id })
            }
            FinxFlow::IncomeReport => {
                let id = link_id.ok_or_else(|| {
                    KontorError::new(ErrorCode::ProviderResponseInvalid, "finX did not say which report was made.")
                })?;
                self.kontor.keep_grant(&self.flow_id, tokens.access);
                Ok(AuthReply::Connected { provider_connection_id: id })
            }
        }
    }

    /// The access an ongoing widget flow produced, among all accesses of Kontor's finX user (finX
    /// names it nowhere; timestamps may tie and a renewed access keeps its old `created_at`):
    /// - the bank the flow was started for (`provider_id`), when it named one;
    /// - of those, the accesses Kontor does not know yet (a new link), else all (a renewal);
    /// - of those, the one with the latest consent end (the consent this flow just gave).
    ///
    ///
    /// Still ambiguous (several equal candidates, e.g. the user picked the bank in the widget and has
    /// other new accesses), the newest by `created_at` is named; every access is imported either way.
    fn access_of_this_flow(&self, accesses: &[FinxAccess]) -> Result<String> {
        let wanted_bank = self
            .kontor
            .link
            .finx
            .links
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&self.flow_id)
            .and_then(|p| p.provider_id.clone())
            .or_else(|| self.bank_id.clone())
            .filter(|b| !b.trim().is_empty());
        let at_bank: Vec<&FinxAccess> = match &wanted_bank {
            Some(bank) => accesses.iter().filter(|a| a.provider_id.as_deref() == Some(bank.as_str())).collect(),
            None => accesses.iter().collect(),
        };
        let known: Vec<String> = self.kontor.with_store(|s| {
            Ok(s.connections()?
                .into_iter()
                .filter(|c| c.provider_config_id == self.config_id)
                .map(|c| c.provider_connection_id)
                .collect())
        })?;
        let new: Vec<&FinxAccess> = at_bank.iter().copied().filter(|a| !known.contains(&a.id)).collect();
        let candidates = if new.is_empty() { at_bank } else { new };
        let latest = candidates.iter().filter_map(|a| a.consent_expires_at()).max();
        let best: Vec<&&FinxAccess> =
            candidates.iter().filter(|a| latest.is_none() || a.consent_expires_at() == latest).collect();
        best.iter()
            .max_by_key(|a| a.created_at)
            .map(|a| a.id.clone())
            .ok_or_else(|| KontorError::new(ErrorCode::ProviderResponseInvalid, "finX linked no bank account."))
    }
}

/// The ongoing grant's tokens for a [`SyncRound`]: the facade's cache and rotating refresh.
struct OngoingTokens<'a> {
    kontor: &'a Kontor,
    client: &'a FinxClient,
    config: &'a ProviderConfigId,
}

impl TokenSource for OngoingTokens<'_> {
    fn access_token(&self, force: bool) -> BoxFuture<'_, Result<AccessToken>> {
        Box::pin(self.kontor.finx_access(self.config, self.client, force))
    }
}

fn not_here<T>() -> Result<T> {
    Err(KontorError::new(ErrorCode::NotSupported, "finX chooses the bank in its own window."))
}

impl Provider for FinxAuth<'_> {
    fn search_banks<'a>(&'a self, _query: &'a str) -> BoxFuture<'a, Result<Vec<BankSearchHit>>> {
        Box::pin(async { not_here() })
    }
    fn bank<'a>(&'a self, _bank_id: &'a str) -> BoxFuture<'a, Result<BankSearchHit>> {
        Box::pin(async { not_here() })
    }
    fn authorize<'a>(&'a self, call: AuthCall<'a>, psu: &'a Psu) -> BoxFuture<'a, Result<AuthReply>> {
        Box::pin(self.run(call, psu))
    }
    fn connection<'a>(&'a self, _id: &'a str) -> BoxFuture<'a, Result<RemoteConnection>> {
        Box::pin(async { not_here() })
    }
    fn accounts<'a>(&'a self, _id: &'a str) -> BoxFuture<'a, Result<Vec<FetchedAccount>>> {
        Box::pin(async { not_here() })
    }
    fn transactions<'a>(
        &'a self,
        _ids: &'a [String],
        _since: Option<chrono::NaiveDate>,
    ) -> BoxFuture<'a, Result<Vec<FetchedTransaction>>> {
        Box::pin(async { not_here() })
    }
}

impl Kontor {
    /// The finX client of a configuration (the client secret from the keyring).
    pub(crate) fn finx_client(&self, id: &ProviderConfigId) -> Result<Arc<FinxClient>> {
        let runtime = &self.link.finx;
        if let Some(client) = runtime.clients.lock().unwrap_or_else(PoisonError::into_inner).get(id) {
            return Ok(client.clone());
        }
        let config = self
            .with_store(|s| s.provider_config(id))?
            .ok_or_else(|| KontorError::not_found("This provider configuration does not exist."))?;
        if config.kind != ProviderKind::Finx {
            return Err(KontorError::invalid_input("This provider configuration is not a finX one."));
        }
        let secret = match self.keyring().get(&config.secret_key_name()) {
            Ok(Some(secret)) => secret,
            _ => match self.with_store(|s| s.provider_session(&config.id, super::link::DEMO_SECRET_SCOPE))? {
                // The Demo Bank's secret is no real secret: without a keyring it lives in the vault.
                Some(secret) if config.is_demo => SecretString::new(secret),
                _ => {
                    return Err(KontorError::new(
                        ErrorCode::ProviderAuthFailed,
                        "The client secret of this provider is not in the keyring. Add the provider again.",
                    ));
                }
            },
        };
        let options = self.link_options();
        let mut finx_config = FinxConfig::new(self.base_url_of(&config), config.client_id.clone(), secret);
        finx_config.retry = fx::RetryPolicy {
            max_attempts: options.retry.max_attempts,
            base_delay: options.retry.base_delay,
            max_wait: options.retry.max_wait,
        };
        let client = Arc::new(FinxClient::new(finx_config, self.clock().clone())?);
        runtime.clients.lock().unwrap_or_else(PoisonError::into_inner).insert(id.clone(), client.clone());
        Ok(client)
    }

    /// Kontor's finX user of a configuration, created on first use. `wanted` sets it the first time
    /// and must match afterwards (one finX user, one refresh token per configuration).
    pub(crate) fn finx_user_id(&self, config: &ProviderConfigId, wanted: Option<&str>) -> Result<String> {
        let wanted = wanted.map(str::trim).filter(|w| !w.is_empty());
        if let Some(w) = wanted {
            if w.chars().count() > 255 {
                return Err(KontorError::invalid_input("A finX user id has at most 255 characters."));
            }
        }
        let existing = self.with_store(|s| s.provider_session(config, USER_SCOPE))?;
        match (existing, wanted) {
            (Some(id), Some(w)) if id != w => Err(KontorError::invalid_input(format!(
                "This provider configuration already uses the finX user '{id}'; add another configuration for another user."
            ))),
            (Some(id), _) => Ok(id),
            (None, wanted) => {
                let id = wanted.map(str::to_owned).unwrap_or_else(|| format!("kontor-{}", random_state()));
                let now = self.clock().now();
                self.with_store(|s| s.set_provider_session(config, USER_SCOPE, &id, now))?;
                Ok(id)
            }
        }
    }

    /// Stores a freshly granted refresh token (a code exchange replaces the user's previous one).
    fn finx_store_grant(
        &self,
        config: &ProviderConfigId,
        refresh: &SecretString,
        expires_at: Option<DateTime<Utc>>,
        issued_at: DateTime<Utc>,
    ) -> Result<()> {
        let payload = grant_payload(refresh, expires_at, issued_at);
        let now = self.clock().now();
        self.with_store(|s| s.set_provider_session(config, TOKEN_SCOPE, &payload, now))
    }

    fn cache_access(&self, config: &ProviderConfigId, token: AccessToken) {
        self.link.finx.access.lock().unwrap_or_else(PoisonError::into_inner).insert(config.clone(), token);
    }

    fn keep_grant(&self, flow: &FlowId, token: AccessToken) {
        self.link.finx.grants.lock().unwrap_or_else(PoisonError::into_inner).insert(flow.clone(), token);
    }

    /// An access token of the ongoing grant: the cached one, or a refresh (rotating, persisted first).
    async fn finx_access(&self, config: &ProviderConfigId, client: &FinxClient, force: bool) -> Result<AccessToken> {
        let runtime = &self.link.finx;
        let _one_refresh_at_a_time = runtime.refresh.lock().await;
        let now = self.clock().now();
        if !force {
            let cached = runtime.access.lock().unwrap_or_else(PoisonError::into_inner).get(config).cloned();
            if let Some(token) = cached.filter(|t| t.valid_at(now)) {
                return Ok(token);
            }
        }
        let stored = self.with_store(|s| s.provider_session(config, TOKEN_SCOPE))?.ok_or_else(relink)?;
        let value: serde_json::Value = serde_json::from_str(&stored).map_err(|_| relink())?;
        let old = SecretString::new(value.get("refresh_token").and_then(|v| v.as_str()).ok_or_else(relink)?.to_owned());
        let tokens = client
            .refresh_and_persist(&old, |tokens| {
                let Some(new) = &tokens.refresh_token else {
                    // Not rotated: the old refresh token stays the valid one.
                    return Ok(());
                };
                let payload = grant_payload(new, tokens.refresh_expires_at, tokens.issued_at);
                let now = self.clock().now();
                let replaced =
                    self.with_store(|s| s.replace_provider_session(config, TOKEN_SCOPE, Some(&stored), &payload, now))?;
                if replaced {
                    Ok(())
                } else {
                    Err(KontorError::internal("The stored finX token changed during a refresh."))
                }
            })
            .await?;
        test_abort_point("token-persisted");
        runtime.access.lock().unwrap_or_else(PoisonError::into_inner).insert(config.clone(), tokens.access.clone());
        Ok(tokens.access)
    }

    /// Runs a bearer call; on `ProviderAuthFailed` with the ongoing grant, refreshes once and repeats.
    pub(crate) async fn finx_bearer<T, F, Fut>(
        &self,
        client: &FinxClient,
        config: &ProviderConfigId,
        grant: &Grant,
        call: F,
    ) -> Result<T>
    where
        F: Fn(AccessToken) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        match grant {
            Grant::OneTime(token) => call(token.clone()).await,
            Grant::Ongoing => with_token(&OngoingTokens { kontor: self, client, config }, call).await,
        }
    }

    /// Starts a finX widget flow; the answer asks the user to open the widget in the browser.
    pub async fn start_finx_link(&self, request: StartFinxLink) -> Result<FlowUpdate> {
        let config_id = ProviderConfigId::from(request.provider_config_id.as_str());
        let config = self
            .with_store(|s| s.provider_config(&config_id))?
            .ok_or_else(|| KontorError::not_found("This provider configuration does not exist."))?;
        let client = self.finx_client(&config_id)?;
        if request.sync_period_days.is_some() && request.reporting_period_months.is_some() {
            return Err(KontorError::invalid_input("Give either days of history or report months, not both."));
        }
        if request.flow == FinxFlow::Ongoing {
            self.finx_user_id(&config_id, request.user_id.as_deref())?;
        }
        let options = self.link_options();
        let id = FlowId::generate();
        let callback = request.callback_url.clone().unwrap_or_else(|| options.callback_url.clone());
        let setup = FlowSetup {
            id: id.clone(),
            provider_config_id: config_id,
            purpose: FlowPurpose::Link { bank_id: request.provider_id.clone().unwrap_or_default(), bank_bic: None },
            bank_name: config.label.clone(),
            interface: request.flow.as_str().to_owned(),
            login_fields: Vec::new(),
            login_hint: None,
            ask_ibans: false,
            known_ibans: Vec::new(),
            redirect_url: Some(callback),
            ask_credentials_first: true,
            poll_interval_ms: options.poll_interval_ms,
            timeout_secs: options.flow_timeout_secs,
        };
        self.link.finx.links.lock().unwrap_or_else(PoisonError::into_inner).insert(id.clone(), request);
        let flow = Flow::new(setup, self.clock().now());
        let outcome = self.drive(super::link::Backend::Finx(client), flow, crate::sca::Event::Begin).await;
        self.link.finx.links.lock().unwrap_or_else(PoisonError::into_inner).remove(&id);
        outcome
    }

    /// Syncs a finX connection: a provider synchronisation for an ongoing access.
    pub(crate) async fn sync_finx_connection(
        &self,
        connection: Connection,
        client: Arc<FinxClient>,
    ) -> Result<FlowUpdate> {
        if connection.interface.as_deref() == Some(ONETIME_INTERFACE) {
            return Err(KontorError::new(
                ErrorCode::NotSupported,
                "This was a one-time access: Kontor kept no access to the bank. Link it again to see new data.",
            ));
        }
        let options = self.link_options();
        let field = |label: &str, secret: bool| LoginField {
            label: label.to_owned(),
            secret,
            volatile: false,
            mandatory: true,
        };
        // finX says whether it kept the bank login (`save_secrets`); without it a sync would fail
        // (1011), so the login is asked for first.
        let access_id = connection.provider_connection_id.as_str();
        let config_id = &connection.provider_config_id;
        let client_ref = client.as_ref();
        let secrets_saved =
            self.finx_bearer(client_ref, config_id, &Grant::Ongoing, |t| async move {
                client_ref.access(&t, access_id).await
            })
            .await
            .ok()
            .and_then(|access| access.secrets_saved);
        let setup = FlowSetup {
            id: FlowId::generate(),
            provider_config_id: connection.provider_config_id.clone(),
            purpose: FlowPurpose::Update {
                connection_id: connection.id.clone(),
                provider_connection_id: connection.provider_connection_id.clone(),
            },
            bank_name: connection.bank_name.clone(),
            interface: ONGOING_INTERFACE.to_owned(),
            login_fields: vec![field(LOGIN_ID_LABEL, false), field(PIN_LABEL, true)],
            login_hint: Some("finX has not kept your bank login; enter it for this sync.".to_owned()),
            ask_ibans: false,
            known_ibans: Vec::new(),
            redirect_url: Some(options.callback_url.clone()),
            ask_credentials_first: secrets_saved == Some(false),
            poll_interval_ms: options.poll_interval_ms,
            timeout_secs: options.flow_timeout_secs,
        };
        let flow = Flow::new(setup, self.clock().now());
        self.drive(super::link::Backend::Finx(client), flow, crate::sca::Event::Begin).await
    }

    /// After finX accepted (a widget flow returned, or a sync completed): fetch and save.
    pub(crate) async fn finish_finx(
        &self,
        client: &FinxClient,
        flow: &Flow,
        provider_connection_id: &str,
        options: &LinkOptions,
        cancel: tokio::sync::watch::Receiver<bool>,
    ) -> FlowUpdate {
        let grant = self.link.finx.grants.lock().unwrap_or_else(PoisonError::into_inner).remove(&flow.id);
        let outcome = tokio::select! {
            biased;
            outcome = self.finx_download(client, flow, provider_connection_id, grant, options) => outcome,
            () = crate::sca::driver::cancelled(cancel) => {
                Err(KontorError::new(ErrorCode::ScaCancelled, "The download was cancelled."))
            }
        };
        // A one-time token is not kept: `grant` was taken out of the runtime and is dropped here.
        match outcome {
            Ok(update) => update,
            Err(error) => {
                // An ongoing access exists at finX and its refresh token is already stored
                // (`widget_returned`): keep the connection as `failed`, a sync fetches the data. A
                // one-time access or a report has no token to come back with: the error suffices.
                let ongoing_link = matches!(flow.purpose, FlowPurpose::Link { .. })
                    && matches!(
                        Pending::from(flow.continuation.as_ref()),
                        Some(Pending::Widget { flow: FinxFlow::Ongoing, .. })
                    );
                let error = if ongoing_link {
                    self.keep_imported(flow, provider_connection_id, ONGOING_INTERFACE, error)
                } else {
                    self.record_failure(flow, &error);
                    error
                };
                FlowUpdate::Failed { flow_id: Some(flow.id.to_string()), error }
            }
        }
    }

    async fn finx_download(
        &self,
        client: &FinxClient,
        flow: &Flow,
        provider_connection_id: &str,
        one_time: Option<AccessToken>,
        _options: &LinkOptions,
    ) -> Result<FlowUpdate> {
        let started_at = self.clock().now();
        let config = &flow.provider_config_id;
        self.report(&FlowUpdate::Working { flow_id: Some(flow.id.to_string()), step: WorkStep::Downloading });
        let kind = match (&flow.purpose, Pending::from(flow.continuation.as_ref())) {
            (FlowPurpose::Update { .. }, _) => FinxFlow::Ongoing,
            (FlowPurpose::Link { .. }, Some(Pending::Widget { flow, .. })) => flow,
            _ => return Err(stale()),
        };
        let grant = match (kind, one_time) {
            (FinxFlow::Ongoing, _) => Grant::Ongoing,
            (_, Some(token)) => Grant::OneTime(token),
            (_, None) => return Err(stale()),
        };
        if kind == FinxFlow::IncomeReport {
            let report = self
                .finx_bearer(client, config, &grant, |t| async move {
                    client.income_report(&t, provider_connection_id).await
                })
                .await?;
            self.report(&FlowUpdate::Working { flow_id: Some(flow.id.to_string()), step: WorkStep::Saving });
            let now = self.clock().now();
            let payload = serde_json::to_string(&report).map_err(|e| KontorError::internal(e.to_string()))?;
            self.with_store(|s| s.save_income_report(provider_connection_id, config, &payload, now))?;
            return Ok(FlowUpdate::ReportReady {
                report: Box::new(StoredIncomeReport {
                    id: provider_connection_id.to_owned(),
                    created_at: now.to_rfc3339(),
                    report,
                }),
            });
        }

        let accesses = self.finx_bearer(client, config, &grant, |t| async move { client.accesses(&t).await }).await?;
        let accounts = self.finx_bearer(client, config, &grant, |t| async move { client.accounts(&t).await }).await?;
        // A widget flow imports every access of the user (several banks under one finX user); a
        // sync only its own.
        let wanted: Vec<&FinxAccess> = match (&flow.purpose, kind) {
            // A widget flow imports every access of the token: several banks under one finX user
            // (ongoing), or every bank a one-time token covers.
            (FlowPurpose::Link { .. }, FinxFlow::Ongoing | FinxFlow::OneTime) => accesses.iter().collect(),
            _ => accesses.iter().filter(|a| a.id == provider_connection_id).collect(),
        };
        if wanted.is_empty() {
            return Err(KontorError::new(ErrorCode::NotFound, "finX no longer knows this bank access. Link it again."));
        }
        let interface = if kind == FinxFlow::OneTime { ONETIME_INTERFACE } else { ONGOING_INTERFACE };
        let mut main = None;
        let mut totals = (0u32, 0u32);
        let mut warnings = Vec::new();
        for access in wanted {
            let existing = match &flow.purpose {
                FlowPurpose::Update { connection_id, .. } => self.with_store(|s| s.connection(connection_id))?,
                FlowPurpose::Link { .. } => self.with_store(|s| {
                    Ok(s.connections()?
                        .into_iter()
                        .find(|c| &c.provider_config_id == config && c.provider_connection_id == access.id))
                })?,
            };
            let (connection, outcome) =
                self.finx_import(client, flow, &grant, access, &accounts, existing, interface, started_at).await?;
            totals = (totals.0 + outcome.added, totals.1 + outcome.updated);
            warnings.extend(outcome.warnings);
            if access.id == provider_connection_id || main.is_none() {
                main = Some(connection);
            }
        }
        let connection = main.ok_or_else(stale)?;
        let now = self.clock().now();
        let expiry = self.with_store(|s| Ok(access_expiry(s, config)))?;
        let summary = ConnectionSummary::from_domain(&connection).with_deadlines(
            &connection,
            now,
            (interface == ONGOING_INTERFACE).then_some(expiry).flatten(),
        );
        Ok(FlowUpdate::Done { connection: summary, added: totals.0, updated: totals.1, warnings })
    }

    #[allow(clippy::too_many_arguments)]
    async fn finx_import(
        &self,
        client: &FinxClient,
        flow: &Flow,
        grant: &Grant,
        access: &FinxAccess,
        accounts: &[FinxAccount],
        existing: Option<Connection>,
        interface: &str,
        started_at: DateTime<Utc>,
    ) -> Result<(Connection, SyncOutcome)> {
        let config = &flow.provider_config_id;
        let now = self.clock().now();
        let mine: Vec<FinxAccount> = accounts
            .iter()
            .filter(|a| match &a.access_id {
                Some(id) => id == &access.id,
                None => access.account_ids.contains(&a.account.provider_account_id),
            })
            .cloned()
            .collect();
        let mut fetched_accounts = Vec::with_capacity(mine.len());
        for account in &mine {
            let id = account.account.provider_account_id.as_str();
            let balance =
                self.finx_bearer(client, config, grant, |t| async move { client.balance(&t, id).await }).await?;
            let mut fetched = account.account.clone();
            fetched.balance = balance.balance.or(fetched.balance);
            fetched.available = balance.available.or(fetched.available);
            fetched_accounts.push(fetched);
        }
        let account_ids: Vec<String> = fetched_accounts.iter().map(|a| a.provider_account_id.clone()).collect();
        let since = crate::sync::download_since(existing.as_ref());
        let batch = if account_ids.is_empty() {
            fx::TransactionBatch::default()
        } else {
            let query = TransactionQuery {
                accounts: account_ids,
                since: since.map(Since::Date),
                since_type: SinceType::Booked,
                include_pending: true,
                count: 500,
                ..TransactionQuery::default()
            };
            let query = &query;
            self.finx_bearer(client, config, grant, |t| async move { client.all_transactions(&t, query).await }).await?
        };
        let remote = fx::map::remote_connection(access, &mine, now);
        let connection = Connection {
            id: existing.as_ref().map(|c| c.id.clone()).unwrap_or_else(ConnectionId::generate),
            provider_config_id: config.clone(),
            provider_connection_id: access.id.clone(),
            bank_id: remote.bank_id.clone().or(existing.as_ref().and_then(|c| c.bank_id.clone())),
            bank_name: remote
                .bank_name
                .clone()
                .or(existing.as_ref().map(|c| c.bank_name.clone()))
                .unwrap_or_else(|| flow.bank_name.clone()),
            bank_bic: remote.bank_bic.clone().or(existing.as_ref().and_then(|c| c.bank_bic.clone())),
            interface: Some(interface.to_owned()),
            status: if remote.user_action_required {
                ConnectionStatus::ConsentExpired
            } else {
                ConnectionStatus::Active
            },
            consent_expires_at: remote.consent_expires_at.or(existing.as_ref().and_then(|c| c.consent_expires_at)),
            last_synced_at: Some(now),
            created_at: existing.as_ref().map(|c| c.created_at).unwrap_or(now),
        };
        self.report(&FlowUpdate::Working { flow_id: Some(flow.id.to_string()), step: WorkStep::Saving });
        let delivery = Delivery {
            accounts: fetched_accounts,
            transactions: batch.transactions,
            deleted: batch.deleted,
            pending_complete: true,
        };
        let outcome = self.with_store(|s| {
            crate::sync::apply_delivery(s, &connection, delivery, started_at, now, crate::domain::AccountId::generate)
        })?;
        Ok((connection, outcome))
    }

    /// Stored income reports, newest first.
    pub fn income_reports(&self) -> Result<Vec<StoredIncomeReport>> {
        let rows = self.with_store(|s| s.income_reports())?;
        rows.into_iter()
            .map(|(id, created_at, payload)| {
                let report = serde_json::from_str(&payload)
                    .map_err(|e| KontorError::internal(format!("A stored income report cannot be read: {e}")))?;
                Ok(StoredIncomeReport { id, created_at, report })
            })
            .collect()
    }

    /// One stored income report.
    pub fn income_report(&self, id: &str) -> Result<StoredIncomeReport> {
        self.income_reports()?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or_else(|| KontorError::not_found("There is no income report with this id."))
    }
}

fn grant_payload(refresh: &SecretString, expires_at: Option<DateTime<Utc>>, issued_at: DateTime<Utc>) -> String {
    json!({
        "refresh_token": refresh.expose(),
        "refresh_expires_at": expires_at.map(|t| t.to_rfc3339()),
        "issued_at": issued_at.to_rfc3339(),
    })
    .to_string()
}
