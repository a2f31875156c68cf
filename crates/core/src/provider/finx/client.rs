//! The finX HTTP client.
//!
//! - **Authentication.** Widget-link calls, `POST /auth/token` and `/auth/revoke` use HTTP Basic
//!   with the client id and secret; `/rest` calls use `Bearer <access token>`. The client holds no
//!   user tokens: every `/rest` method takes the [`AccessToken`] to use, and token methods return a
//!   [`TokenSet`] for the caller to persist (see the rotation invariant in [`super`]). A bearer call
//!   with a token that has expired by the injected [`Clock`](crate::clock::Clock) is refused before
//!   anything is sent (`ProviderAuthFailed`), exactly as finX's 401 would be.
//! - **Retries** ([`RetryPolicy`]). 429 is retried on every call (finX did nothing), honouring
//!   `Retry-After` up to [`RetryPolicy::max_wait`]; beyond that, or when the attempts are used up,
//!   it surfaces as `RateLimited` with `retry_at`. 5xx and broken connections are retried only for
//!   idempotent reads (`GET`), plus 503 for widget links and sync starts (finX answered before doing
//!   anything). Token grants and challenge answers are never repeated after they may have reached
//!   finX: an authorization code is single-use and a refresh token is spent by its first use.
//! - **Bodies.** Responses are read as text and parsed with [`wire::parse`] (exact decimals); a
//!   truncated or malformed body is `ProviderResponseInvalid`. Request bodies with secrets are built
//!   just before sending and never logged; only method, path and status are.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Map, Value, json};

use super::error::{self as ferr, ErrorContext};
use super::map;
use super::types::{
    AccessToken, ChallengeAnswer, FinxAccess, FinxAccount, FinxBalance, FinxChallenge, IncomeReport, Synchronization,
    TokenSet, TransactionBatch, WidgetLink,
};
use super::wire;
use crate::clock::SharedClock;
use crate::error::{ErrorCode, KontorError, Result};
use crate::secret::SecretString;

pub use crate::provider::retry::RetryPolicy;
use crate::provider::retry::{retry_after, to_chrono};

/// Everything a client needs to talk to one finX client configuration.
#[derive(Debug, Clone)]
pub struct FinxConfig {
    /// The API base, e.g. `https://api.finx-s.qwist.cloud` or `http://127.0.0.1:PORT` for the Demo
    /// Bank. No public source names the production host (finx.md §1); it is configuration.
    pub base_url: String,
    pub client_id: String,
    pub client_secret: SecretString,
    pub retry: RetryPolicy,
    pub request_timeout: StdDuration,
    /// Sent as `Accept-Language` (localises finX's texts), e.g. `de` or `en`.
    pub accept_language: Option<String>,
}

impl FinxConfig {
    pub fn new(base_url: impl Into<String>, client_id: impl Into<String>, client_secret: SecretString) -> Self {
        Self {
            base_url: base_url.into(),
            client_id: client_id.into(),
            client_secret,
            retry: RetryPolicy::default(),
            request_timeout: StdDuration::from_secs(60),
            accept_language: None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

/// `POST /onetime/access`: a one-time data access (no autosync).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnetimeAccessRequest {
    /// Where the widget returns to (`kontor://…` or the loopback listener). Keep it: the code
    /// exchange must send exactly the same value.
    pub redirect_uri: String,
    /// Random, checked on return ([`super::parse_callback`]).
    pub state: String,
    /// `de` (finX default), `en`, `es`, `fr`, `ar`.
    pub language: Option<String>,
    /// IBANs (or account numbers, PANs) to pre-select the bank.
    pub accounts: Vec<String>,
    pub account_types: Vec<String>,
    pub allow_multi_selection: Option<bool>,
    /// Days of transaction history; sent as 90 unless changed.
    pub sync_period: u32,
}

impl OnetimeAccessRequest {
    pub fn new(redirect_uri: impl Into<String>, state: impl Into<String>) -> Self {
        Self {
            redirect_uri: redirect_uri.into(),
            state: state.into(),
            language: None,
            accounts: Vec::new(),
            account_types: Vec::new(),
            allow_multi_selection: None,
            sync_period: 90,
        }
    }
}

/// `POST /ongoing/access`: ongoing access with autosync until the consent ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OngoingAccessRequest {
    /// Kontor's stable key for the finX user; one user holds several bank connections. A new flow
    /// for the same user invalidates that user's previous refresh token (finx.md §3).
    pub user_id: String,
    pub redirect_uri: String,
    pub state: String,
    pub language: Option<String>,
    /// A provider UUID to pre-select the bank.
    pub provider_id: Option<String>,
    pub accounts: Vec<String>,
    pub account_types: Vec<String>,
    pub allow_multi_selection: Option<bool>,
    pub sync_period: Option<u32>,
    /// Let finX keep the bank login's secrets for autosync.
    pub save_secrets: Option<bool>,
    pub tracking_id: Option<String>,
}

impl OngoingAccessRequest {
    pub fn new(user_id: impl Into<String>, redirect_uri: impl Into<String>, state: impl Into<String>) -> Self {
        Self {
            user_id: user_id.into(),
            redirect_uri: redirect_uri.into(),
            state: state.into(),
            language: None,
            provider_id: None,
            accounts: Vec::new(),
            account_types: Vec::new(),
            allow_multi_selection: None,
            sync_period: None,
            save_secrets: None,
            tracking_id: None,
        }
    }
}

/// The window of an income report: finX refuses both at once, so it is one or the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportWindow {
    /// Days of history (`sync_period`).
    SyncPeriodDays(u32),
    /// Months (`reporting_period`), at least 4; finX's default is 12.
    ReportingPeriodMonths(u32),
}

/// `POST /onetime/income-report`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomeReportRequest {
    pub redirect_uri: String,
    pub state: String,
    pub language: Option<String>,
    pub accounts: Vec<String>,
    pub account_types: Vec<String>,
    pub allow_multi_selection: Option<bool>,
    /// `None`: finX's default (12 months).
    pub window: Option<ReportWindow>,
}

impl IncomeReportRequest {
    pub fn new(redirect_uri: impl Into<String>, state: impl Into<String>) -> Self {
        Self {
            redirect_uri: redirect_uri.into(),
            state: state.into(),
            language: None,
            accounts: Vec::new(),
            account_types: Vec::new(),
            allow_multi_selection: None,
            window: None,
        }
    }
}

/// What a synchronisation fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncScope {
    /// Basic account data only; also adds newly opened accounts to the access.
    Accounts,
    /// Accounts and transactions (finX's default).
    Transactions,
}

impl SyncScope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accounts => "ACCOUNTS",
            Self::Transactions => "TRANSACTIONS",
        }
    }
}

/// `POST /rest/accesses/{id}/syncs` (finx.md §5.1 and the createsync guide).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncRequest {
    /// The bank login's fields as `(key, value)`, e.g. `("login_id", …)`, `("password", …)`; only
    /// needed when finX does not keep the secrets.
    pub credentials: Vec<(String, SecretString)>,
    /// `Some(false)` makes finX *discard* previously saved secrets at the end of the sync.
    pub save_secrets: Option<bool>,
    pub disable_notifications: bool,
    /// Where a redirect-based SCA returns to; finX appends `state`.
    pub redirect_uri: Option<String>,
    /// 1–1024 characters with a random part.
    pub state: Option<String>,
    pub scope: SyncScope,
    /// Reuse the last SCA method / medium (finX default `true` for both): fewer challenges.
    pub reuse_last_auth_method: Option<bool>,
    pub reuse_last_auth_medium: Option<bool>,
    /// The user's IP address; some banks require it (error 1021).
    pub psu_ip: Option<String>,
    /// Days of history to request.
    pub sync_period: Option<u32>,
}

impl Default for SyncRequest {
    fn default() -> Self {
        Self {
            credentials: Vec::new(),
            save_secrets: None,
            disable_notifications: false,
            redirect_uri: None,
            state: None,
            scope: SyncScope::Transactions,
            reuse_last_auth_method: None,
            reuse_last_auth_medium: None,
            psu_ip: None,
            sync_period: None,
        }
    }
}

/// Where a transaction listing starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Since {
    /// On or after this date (inclusive), measured by [`SinceType`].
    Date(NaiveDate),
    /// At or after this instant (RFC 3339), e.g. a `modified` high-water mark.
    Time(DateTime<Utc>),
    /// After this transaction id (exclusive).
    TransactionId(String),
}

/// Which date `since` refers to. Always sent: the sources disagree on the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinceType {
    Booked,
    Created,
    /// For incremental sync with a high-water mark.
    Modified,
}

impl SinceType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Booked => "booked",
            Self::Created => "created",
            Self::Modified => "modified",
        }
    }
}

/// `GET /rest/transactions` parameters. Paging is `count`/`offset` only (no cursor).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionQuery {
    /// Account ids; empty = all accounts of the user.
    pub accounts: Vec<String>,
    pub since: Option<Since>,
    pub since_type: SinceType,
    /// Booked on or before.
    pub until: Option<NaiveDate>,
    /// Pending items come as a complete set regardless of `since`.
    pub include_pending: bool,
    /// Page size (finX default 1000).
    pub count: u32,
    pub offset: u32,
    /// Only items of one sync.
    pub sync_id: Option<String>,
}

impl Default for TransactionQuery {
    fn default() -> Self {
        Self {
            accounts: Vec::new(),
            since: None,
            since_type: SinceType::Booked,
            until: None,
            include_pending: true,
            count: 500,
            offset: 0,
            sync_id: None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------------------------

/// How a call may be repeated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Repeat {
    /// `GET`: 429, 5xx, broken connections.
    Read,
    /// Creates something harmlessly (a new link, a new sync): 429, 503, connection refused.
    Create,
    /// Must reach finX at most once (token grants, challenge answers): 429, connection refused.
    Once,
}

#[derive(Debug, Clone, Copy)]
enum Auth<'a> {
    Basic,
    Bearer(&'a AccessToken),
}

#[derive(Debug)]
struct Reply {
    status: StatusCode,
    body: String,
}

/// The finX client. Cheap to share behind an `Arc`; holds no user tokens (see [`super`]).
#[derive(Debug)]
pub struct FinxClient {
    http: reqwest::Client,
    config: FinxConfig,
    base: String,
    clock: SharedClock,
}

/// A finX id as one path segment: opaque, but only `[A-Za-z0-9._-]` (ids look like `X12345.6`
/// or UUIDs), so nothing can change the path.
fn segment<'a>(id: &'a str, what: &str) -> Result<&'a str> {
    let id = id.trim();
    let ok = !id.is_empty()
        && id != "."
        && id != ".."
        && id.len() <= 200
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok { Ok(id) } else { Err(KontorError::invalid_input(format!("'{id}' is not a finX {what} id."))) }
}

fn non_blank(text: &str, what: &str) -> Result<()> {
    if text.trim().is_empty() {
        return Err(KontorError::invalid_input(format!("The finX {what} must not be empty.")));
    }
    Ok(())
}

fn check_state(state: &str) -> Result<()> {
    let len = state.chars().count();
    if !(1..=1024).contains(&len) {
        return Err(KontorError::invalid_input("The finX state must be 1 to 1024 characters long."));
    }
    Ok(())
}

fn account_hints(ids: &[String]) -> Value {
    Value::Array(ids.iter().map(|id| json!({ "id": id.replace(' ', "") })).collect())
}

/// Fields the three widget links share.
fn widget_common(
    body: &mut Map<String, Value>,
    language: Option<&String>,
    accounts: &[String],
    account_types: &[String],
    allow_multi_selection: Option<bool>,
) {
    if let Some(language) = language {
        body.insert("language".into(), json!(language));
    }
    if !accounts.is_empty() {
        body.insert("accounts".into(), account_hints(accounts));
    }
    if !account_types.is_empty() {
        body.insert("account_types".into(), json!(account_types));
    }
    if let Some(allow) = allow_multi_selection {
        body.insert("allow_multi_selection".into(), json!(allow));
    }
}

impl FinxClient {
    pub fn new(config: FinxConfig, clock: SharedClock) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .user_agent(format!("Kontor/{}", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| KontorError::internal(format!("Cannot set up the HTTP client: {e}")))?;
        let base = config.base_url.trim().trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(KontorError::invalid_input(format!("'{base}' is not an http(s) address for finX.")));
        }
        Ok(Self { http, config, base, clock })
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// One exchange with retries per [`Repeat`]. `make` builds a fresh request each time.
    async fn roundtrip(&self, make: &(dyn Fn() -> RequestBuilder + Send + Sync), repeat: Repeat) -> Result<Reply> {
        let policy = self.config.retry;
        let attempts = policy.max_attempts.max(1);
        let mut attempt = 1;
        loop {
            let backoff = policy.base_delay.saturating_mul(2u32.saturating_pow(attempt - 1)).min(policy.max_wait);
            let last = attempt >= attempts;
            let response = match make().send().await {
                Ok(response) => response,
                Err(e) => {
                    let retryable = repeat == Repeat::Read || e.is_connect();
                    if retryable && !last {
                        tracing::debug!(attempt, "finX transport failure, retrying: {e}");
                        tokio::time::sleep(backoff).await;
                        attempt += 1;
                        continue;
                    }
                    return Err(ferr::from_transport(&e));
                }
            };
            let status = response.status();
            let now = self.clock.now();
            let wait = retry_after(response.headers(), now);
            let body = match response.text().await {
                Ok(body) => body,
                Err(e) if repeat == Repeat::Read && !last => {
                    tracing::debug!(attempt, "finX body broke off, retrying: {e}");
                    tokio::time::sleep(backoff).await;
                    attempt += 1;
                    continue;
                }
                Err(e) => return Err(ferr::from_transport(&e)),
            };
            let code = status.as_u16();
            tracing::debug!(status = code, attempt, "finX answered");
            if code == 429 {
                let wait = wait.unwrap_or(backoff);
                // 1020 "too many syncs" is a daily quota: waiting a few seconds does not help.
                let quota = ferr::parse_error(&body).and_then(|e| e.code) == Some(1020);
                if !last && !quota && wait <= policy.max_wait {
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                    continue;
                }
                let retry_at = now + to_chrono(wait.max(StdDuration::from_secs(1)));
                return Err(ferr::from_response(code, &body, ErrorContext::Client, Some(retry_at)));
            }
            let transient = status.is_server_error() && code != 501;
            let may_repeat = match repeat {
                Repeat::Read => transient,
                Repeat::Create => code == 503,
                Repeat::Once => false,
            };
            if may_repeat && !last {
                let wait = wait.filter(|w| *w <= policy.max_wait).unwrap_or(backoff);
                tokio::time::sleep(wait).await;
                attempt += 1;
                continue;
            }
            return Ok(Reply { status, body });
        }
    }

    /// Sends one call. Bearer tokens past their expiry are refused here, before sending.
    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        auth: Auth<'_>,
        repeat: Repeat,
    ) -> Result<Reply> {
        if let Auth::Bearer(token) = auth {
            if !token.valid_at(self.clock.now()) {
                return Err(KontorError::new(
                    ErrorCode::ProviderAuthFailed,
                    "The finX access token has expired; Kontor has to refresh it first.",
                ));
            }
        }
        let url = self.url(path);
        let make = || {
            let mut req = self.http.request(method.clone(), &url).header("Accept", "application/json");
            req = match auth {
                Auth::Basic => req.basic_auth(&self.config.client_id, Some(self.config.client_secret.expose())),
                Auth::Bearer(token) => req.bearer_auth(token.token.expose()),
            };
            if let Some(language) = &self.config.accept_language {
                req = req.header("Accept-Language", language);
            }
            if !query.is_empty() {
                req = req.query(query);
            }
            if let Some(body) = body {
                req = req.json(body);
            }
            req
        };
        self.roundtrip(&make, repeat).await
    }

    /// A bearer `GET` that must succeed, parsed as `T`.
    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        token: &AccessToken,
        path: &str,
        query: &[(&str, String)],
        what: &str,
    ) -> Result<T> {
        let reply = self.send(Method::GET, path, query, None, Auth::Bearer(token), Repeat::Read).await?;
        if !reply.status.is_success() {
            return Err(ferr::from_response(reply.status.as_u16(), &reply.body, ErrorContext::Bearer, None));
        }
        wire::parse(&reply.body, what)
    }

    // ------------------------------------------------------------------ widget links

    async fn widget_link(&self, path: &str, body: Value) -> Result<WidgetLink> {
        let reply = self.send(Method::POST, path, &[], Some(&body), Auth::Basic, Repeat::Create).await?;
        if !reply.status.is_success() {
            return Err(ferr::from_response(reply.status.as_u16(), &reply.body, ErrorContext::Client, None));
        }
        let link: wire::WidgetLink = wire::parse(&reply.body, "widget link")?;
        let location = map::non_empty(link.location).ok_or_else(|| {
            KontorError::new(ErrorCode::ProviderResponseInvalid, "finX created a widget link without a location.")
        })?;
        if !(location.starts_with("https://") || location.starts_with("http://")) {
            return Err(KontorError::new(
                ErrorCode::ProviderResponseInvalid,
                "finX sent a widget link that is not a web address.",
            ));
        }
        Ok(WidgetLink { location, id: map::non_empty(link.id) })
    }

    /// `POST /onetime/access` → the widget URL (and link id).
    pub async fn create_onetime_access(&self, request: &OnetimeAccessRequest) -> Result<WidgetLink> {
        non_blank(&request.redirect_uri, "redirect URI")?;
        check_state(&request.state)?;
        let mut body = Map::new();
        body.insert("redirect_uri".into(), json!(request.redirect_uri));
        body.insert("state".into(), json!(request.state));
        body.insert("sync_period".into(), json!(request.sync_period));
        widget_common(
            &mut body,
            request.language.as_ref(),
            &request.accounts,
            &request.account_types,
            request.allow_multi_selection,
        );
        self.widget_link("/onetime/access", Value::Object(body)).await
    }

    /// `POST /ongoing/access` → the widget URL (and link id).
    pub async fn create_ongoing_access(&self, request: &OngoingAccessRequest) -> Result<WidgetLink> {
        non_blank(&request.user_id, "user id")?;
        non_blank(&request.redirect_uri, "redirect URI")?;
        check_state(&request.state)?;
        let mut body = Map::new();
        body.insert("user_id".into(), json!(request.user_id));
        body.insert("redirect_uri".into(), json!(request.redirect_uri));
        body.insert("state".into(), json!(request.state));
        widget_common(
            &mut body,
            request.language.as_ref(),
            &request.accounts,
            &request.account_types,
            request.allow_multi_selection,
        );
        if let Some(provider_id) = &request.provider_id {
            body.insert("provider_id".into(), json!(provider_id));
        }
        if let Some(days) = request.sync_period {
            body.insert("sync_period".into(), json!(days));
        }
        if let Some(save) = request.save_secrets {
            body.insert("save_secrets".into(), json!(save));
        }
        if let Some(tracking_id) = &request.tracking_id {
            body.insert("tracking_id".into(), json!(tracking_id));
        }
        self.widget_link("/ongoing/access", Value::Object(body)).await
    }

    /// `POST /onetime/income-report` → the widget URL; its `id` is the report id.
    pub async fn create_income_report(&self, request: &IncomeReportRequest) -> Result<WidgetLink> {
        non_blank(&request.redirect_uri, "redirect URI")?;
        check_state(&request.state)?;
        let mut body = Map::new();
        body.insert("redirect_uri".into(), json!(request.redirect_uri));
        body.insert("state".into(), json!(request.state));
        widget_common(
            &mut body,
            request.language.as_ref(),
            &request.accounts,
            &request.account_types,
            request.allow_multi_selection,
        );
        match request.window {
            Some(ReportWindow::SyncPeriodDays(days)) => {
                body.insert("sync_period".into(), json!(days));
            }
            Some(ReportWindow::ReportingPeriodMonths(months)) => {
                if months < 4 {
                    return Err(KontorError::invalid_input("An income report covers at least 4 months."));
                }
                body.insert("reporting_period".into(), json!(months));
            }
            None => {}
        }
        self.widget_link("/onetime/income-report", Value::Object(body)).await
    }

    // ------------------------------------------------------------------ tokens

    async fn token_request(&self, body: Value, context: ErrorContext) -> Result<TokenSet> {
        let reply = self.send(Method::POST, "/auth/token", &[], Some(&body), Auth::Basic, Repeat::Once).await?;
        drop(body);
        let issued_at = self.clock.now();
        if !reply.status.is_success() {
            return Err(ferr::from_response(reply.status.as_u16(), &reply.body, context, None));
        }
        let token: wire::Token = wire::parse(&reply.body, "token")?;
        let access = token
            .access_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| KontorError::new(ErrorCode::ProviderResponseInvalid, "finX sent an empty access token."))?;
        // Use `expires_in`, never a hard-coded hour; keep a margin so a token is not sent in its last
        // seconds. Unknown lifetime: finX documents one hour; assume 50 minutes.
        let expires_at = match token.expires_in {
            Some(secs) if secs > 0 => issued_at + Duration::seconds(secs) - Duration::seconds((secs / 10).min(60)),
            _ => issued_at + Duration::minutes(50),
        };
        let refresh_token = token.refresh_token.filter(|t| !t.is_empty()).map(SecretString::new);
        let refresh_expires_at = refresh_token.as_ref().map(|_| match token.refresh_expires_in {
            Some(secs) if secs > 0 => issued_at + Duration::seconds(secs),
            _ => issued_at + Duration::days(TokenSet::REFRESH_LIFETIME_DAYS),
        });
        Ok(TokenSet {
            access: AccessToken::new(SecretString::new(access), expires_at),
            refresh_token,
            scope: token.scope.unwrap_or_default().split_whitespace().map(str::to_owned).collect(),
            issued_at,
            refresh_expires_at,
        })
    }

    /// Exchanges the callback's single-use authorization code (`authorization_code` grant).
    /// `redirect_uri` must be exactly the one the widget link was created with. Never retried
    /// after it may have reached finX. A refused or expired code is `AuthorizationExpired`.
    pub async fn exchange_code(&self, code: &SecretString, redirect_uri: &str) -> Result<TokenSet> {
        non_blank(code.expose(), "authorization code")?;
        non_blank(redirect_uri, "redirect URI")?;
        let body = json!({
            "grant_type": "authorization_code",
            "code": code.expose(),
            "redirect_uri": redirect_uri,
        });
        self.token_request(body, ErrorContext::CodeGrant).await
    }

    /// Uses a refresh token (`refresh_token` grant). **The token sent is spent**: the answer's
    /// `refresh_token` replaces it (rotation), so persist the returned [`TokenSet`] before using its
    /// access token (or use [`Self::refresh_and_persist`]). Never retried after it may have reached
    /// finX. A refused refresh token is `ConsentExpired`: the user has to link the bank again.
    pub async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenSet> {
        non_blank(refresh_token.expose(), "refresh token")?;
        let body = json!({ "grant_type": "refresh_token", "refresh_token": refresh_token.expose() });
        self.token_request(body, ErrorContext::RefreshGrant).await
    }

    /// [`Self::refresh`], then `persist` the new token set, and only then hand it out. If `persist`
    /// fails, its error is returned and the new access token is not used: the caller still holds
    /// the old refresh token and knows its refresh may have been spent (`ConsentExpired` on the
    /// next try means: link again).
    pub async fn refresh_and_persist<F>(&self, refresh_token: &SecretString, persist: F) -> Result<TokenSet>
    where
        F: FnOnce(&TokenSet) -> Result<()>,
    {
        let tokens = self.refresh(refresh_token).await?;
        persist(&tokens)?;
        Ok(tokens)
    }

    /// `POST /auth/revoke` (v4 contract; not re-confirmed in the current docs). With `cascade`,
    /// revoking an access token also revokes its refresh token.
    pub async fn revoke(&self, token: &SecretString, cascade: bool) -> Result<()> {
        let body = json!({ "token": token.expose(), "cascade": cascade });
        let reply = self.send(Method::POST, "/auth/revoke", &[], Some(&body), Auth::Basic, Repeat::Once).await?;
        if !reply.status.is_success() {
            return Err(ferr::from_response(reply.status.as_u16(), &reply.body, ErrorContext::Client, None));
        }
        Ok(())
    }

    // ------------------------------------------------------------------ data

    /// `GET /rest/accesses` (bare array or wrapped).
    pub async fn accesses(&self, token: &AccessToken) -> Result<Vec<FinxAccess>> {
        let reply = self.send(Method::GET, "/rest/accesses", &[], None, Auth::Bearer(token), Repeat::Read).await?;
        if !reply.status.is_success() {
            return Err(ferr::from_response(reply.status.as_u16(), &reply.body, ErrorContext::Bearer, None));
        }
        let list: Vec<wire::Access> = wire::parse_list(&reply.body, "accesses", "accesses")?;
        list.into_iter().map(map::access).collect()
    }

    /// `GET /rest/accesses/{id}`.
    pub async fn access(&self, token: &AccessToken, access_id: &str) -> Result<FinxAccess> {
        let path = format!("/rest/accesses/{}", segment(access_id, "access")?);
        let wire: wire::Access = self.get_json(token, &path, &[], "access").await?;
        map::access(wire)
    }

    /// `GET /rest/accounts`: every account of the finX user (filter by `access_id`).
    pub async fn accounts(&self, token: &AccessToken) -> Result<Vec<FinxAccount>> {
        let reply = self.send(Method::GET, "/rest/accounts", &[], None, Auth::Bearer(token), Repeat::Read).await?;
        if !reply.status.is_success() {
            return Err(ferr::from_response(reply.status.as_u16(), &reply.body, ErrorContext::Bearer, None));
        }
        let list: Vec<wire::Account> = wire::parse_list(&reply.body, "accounts", "accounts")?;
        list.into_iter().map(map::account).collect()
    }

    /// `GET /rest/accounts/{id}`.
    pub async fn account(&self, token: &AccessToken, account_id: &str) -> Result<FinxAccount> {
        let path = format!("/rest/accounts/{}", segment(account_id, "account")?);
        let wire: wire::Account = self.get_json(token, &path, &[], "account").await?;
        map::account(wire)
    }

    /// `GET /rest/accounts/{id}/balance`.
    pub async fn balance(&self, token: &AccessToken, account_id: &str) -> Result<FinxBalance> {
        let path = format!("/rest/accounts/{}/balance", segment(account_id, "account")?);
        let wire: wire::Balance = self.get_json(token, &path, &[], "balance").await?;
        Ok(map::balance(wire))
    }

    /// One page of `GET /rest/transactions`.
    pub async fn transactions(&self, token: &AccessToken, query: &TransactionQuery) -> Result<TransactionBatch> {
        let count = query.count.clamp(1, 1000);
        let mut params: Vec<(&str, String)> = vec![
            ("count", count.to_string()),
            ("offset", query.offset.to_string()),
            ("sort", "asc".to_owned()),
            ("since_type", query.since_type.as_str().to_owned()),
            ("include_pending", query.include_pending.to_string()),
        ];
        if !query.accounts.is_empty() {
            for id in &query.accounts {
                segment(id, "account")?;
            }
            params.push(("accounts", query.accounts.join(",")));
        }
        match &query.since {
            Some(Since::Date(date)) => params.push(("since", date.format("%Y-%m-%d").to_string())),
            Some(Since::Time(at)) => {
                params.push(("since", at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)));
            }
            Some(Since::TransactionId(id)) => params.push(("since", segment(id, "transaction")?.to_owned())),
            None => {}
        }
        if let Some(until) = query.until {
            params.push(("until", until.format("%Y-%m-%d").to_string()));
        }
        if let Some(sync_id) = &query.sync_id {
            params.push(("sync_id", segment(sync_id, "sync")?.to_owned()));
        }
        let list: wire::TransactionList = self.get_json(token, "/rest/transactions", &params, "transactions").await?;
        let rows = list.transactions.len();
        let transactions = list.transactions.into_iter().map(map::transaction).collect::<Result<Vec<_>>>()?;
        Ok(TransactionBatch {
            transactions,
            deleted: list.deleted.into_iter().map(|d| d.trim().to_owned()).filter(|d| !d.is_empty()).collect(),
            has_more: rows >= count as usize,
        })
    }

    /// Every page of `GET /rest/transactions` from `query.offset` on, with the `deleted` ids of all
    /// pages. Rows repeated across pages (pending items come as a complete set) are kept once, the
    /// last copy winning.
    pub async fn all_transactions(&self, token: &AccessToken, query: &TransactionQuery) -> Result<TransactionBatch> {
        const MAX_PAGES: u32 = 100_000;
        let mut query = query.clone();
        let mut out = TransactionBatch::default();
        let mut seen = std::collections::HashMap::new();
        for _ in 0..MAX_PAGES {
            let page = self.transactions(token, &query).await?;
            let rows = page.transactions.len();
            for tx in page.transactions {
                match seen.get(&tx.provider_id) {
                    Some(&at) => {
                        if let Some(slot) = out.transactions.get_mut(at) {
                            *slot = tx;
                        }
                    }
                    None => {
                        seen.insert(tx.provider_id.clone(), out.transactions.len());
                        out.transactions.push(tx);
                    }
                }
            }
            for id in page.deleted {
                if !out.deleted.contains(&id) {
                    out.deleted.push(id);
                }
            }
            if !page.has_more || rows == 0 {
                return Ok(out);
            }
            query.offset = query.offset.saturating_add(u32::try_from(rows).unwrap_or(u32::MAX));
        }
        Err(KontorError::new(ErrorCode::ProviderResponseInvalid, "finX kept sending transaction pages without end."))
    }

    /// `GET /rest/income-reports/{id}` with the token from the income-report flow's code exchange.
    pub async fn income_report(&self, token: &AccessToken, report_id: &str) -> Result<IncomeReport> {
        let id = segment(report_id, "income report")?;
        let path = format!("/rest/income-reports/{id}");
        let wire: wire::IncomeReport = self.get_json(token, &path, &[], "income report").await?;
        Ok(map::income_report(wire, id))
    }

    // ------------------------------------------------------------------ synchronisations

    /// `POST /rest/accesses/{id}/syncs` → the new sync (`QUEUED`). Poll it with [`Self::get_sync`].
    pub async fn start_sync(
        &self,
        token: &AccessToken,
        access_id: &str,
        request: &SyncRequest,
    ) -> Result<Synchronization> {
        let path = format!("/rest/accesses/{}/syncs", segment(access_id, "access")?);
        let mut body = Map::new();
        if !request.credentials.is_empty() {
            let mut credentials = Map::new();
            for (key, value) in &request.credentials {
                non_blank(key, "credential name")?;
                credentials.insert(key.clone(), json!(value.expose()));
            }
            body.insert("credentials".into(), Value::Object(credentials));
        }
        if let Some(save) = request.save_secrets {
            body.insert("save_secrets".into(), json!(save));
        }
        body.insert("disable_notifications".into(), json!(request.disable_notifications));
        if let Some(uri) = &request.redirect_uri {
            body.insert("redirect_uri".into(), json!(uri));
        }
        if let Some(state) = &request.state {
            check_state(state)?;
            body.insert("state".into(), json!(state));
        }
        body.insert("scope".into(), json!([request.scope.as_str()]));
        if let Some(reuse) = request.reuse_last_auth_method {
            body.insert("reuse_last_auth_method".into(), json!(reuse));
        }
        if let Some(reuse) = request.reuse_last_auth_medium {
            body.insert("reuse_last_auth_medium".into(), json!(reuse));
        }
        if let Some(ip) = &request.psu_ip {
            body.insert("psu_ip_address".into(), json!(ip));
        }
        if let Some(days) = request.sync_period {
            body.insert("sync_period".into(), json!(days));
        }
        let body = Value::Object(body);
        let reply = self.send(Method::POST, &path, &[], Some(&body), Auth::Bearer(token), Repeat::Create).await?;
        drop(body);
        if !reply.status.is_success() {
            let context = if request.credentials.is_empty() { ErrorContext::Bearer } else { ErrorContext::Credentials };
            return Err(ferr::from_response(reply.status.as_u16(), &reply.body, context, None));
        }
        let wire: wire::Sync = wire::parse(&reply.body, "synchronisation")?;
        map::synchronization(wire)
    }

    /// `GET /rest/accesses/{aid}/syncs/{sid}`: status, and the pending challenge while `AWAIT_AUTH`.
    pub async fn get_sync(&self, token: &AccessToken, access_id: &str, sync_id: &str) -> Result<Synchronization> {
        let path = format!("/rest/accesses/{}/syncs/{}", segment(access_id, "access")?, segment(sync_id, "sync")?);
        let wire: wire::Sync = self.get_json(token, &path, &[], "synchronisation").await?;
        map::synchronization(wire)
    }

    /// `GET …/syncs/{sid}/challenges` (bare array or wrapped).
    pub async fn challenges(&self, token: &AccessToken, access_id: &str, sync_id: &str) -> Result<Vec<FinxChallenge>> {
        let path =
            format!("/rest/accesses/{}/syncs/{}/challenges", segment(access_id, "access")?, segment(sync_id, "sync")?);
        let reply = self.send(Method::GET, &path, &[], None, Auth::Bearer(token), Repeat::Read).await?;
        if !reply.status.is_success() {
            return Err(ferr::from_response(reply.status.as_u16(), &reply.body, ErrorContext::Bearer, None));
        }
        let list: Vec<wire::Challenge> = wire::parse_list(&reply.body, "challenges", "challenges")?;
        list.into_iter().map(map::challenge).collect()
    }

    /// `GET …/syncs/{sid}/challenges/{cid}`.
    pub async fn challenge(
        &self,
        token: &AccessToken,
        access_id: &str,
        sync_id: &str,
        challenge_id: &str,
    ) -> Result<FinxChallenge> {
        let path = format!(
            "/rest/accesses/{}/syncs/{}/challenges/{}",
            segment(access_id, "access")?,
            segment(sync_id, "sync")?,
            segment(challenge_id, "challenge")?
        );
        let wire: wire::Challenge = self.get_json(token, &path, &[], "challenge").await?;
        map::challenge(wire)
    }

    /// `POST …/challenges/{cid}/response` (202, empty body); then keep polling the sync.
    /// [`ChallengeAnswer::Acknowledge`] sends nothing: finx.md §6 documents no body for REDIRECT
    /// and DECOUPLED, which finish by themselves. A refused TAN is `TanRejected`.
    pub async fn answer_challenge(
        &self,
        token: &AccessToken,
        access_id: &str,
        sync_id: &str,
        challenge_id: &str,
        answer: &ChallengeAnswer,
    ) -> Result<()> {
        let path = format!(
            "/rest/accesses/{}/syncs/{}/challenges/{}/response",
            segment(access_id, "access")?,
            segment(sync_id, "sync")?,
            segment(challenge_id, "challenge")?
        );
        let (body, context) = match answer {
            ChallengeAnswer::Method(id) => {
                non_blank(id, "method id")?;
                (json!({ "method_id": id }), ErrorContext::Bearer)
            }
            ChallengeAnswer::Tan(tan) => {
                non_blank(tan.expose(), "TAN")?;
                (json!({ "value": tan.expose() }), ErrorContext::Tan)
            }
            ChallengeAnswer::Acknowledge => return Ok(()),
        };
        let reply = self.send(Method::POST, &path, &[], Some(&body), Auth::Bearer(token), Repeat::Once).await?;
        drop(body);
        if !reply.status.is_success() {
            return Err(ferr::from_response(reply.status.as_u16(), &reply.body, context, None));
        }
        Ok(())
    }
}
