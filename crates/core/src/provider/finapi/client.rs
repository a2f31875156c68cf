//! The finAPI Access HTTP client.
//!
//! - **Versions.** A finAPI client is bound to one API version; [`ApiVersion`] decides the path prefix
//!   (`/api/v2` or `/api/v1`), the token path (`/api/v2/oauth/token` or `/oauth/token`) and the name of
//!   the interface field (`bankingInterface` or `interface`).
//! - **Tokens.** The client token (`client_credentials`) and the user token (`password`, renewed with
//!   `refresh_token`, falling back to `password`) are cached until shortly before they expire, measured
//!   on the injected [`Clock`](crate::clock::Clock). A 401 on a call drops the cached token and retries
//!   the call once with a fresh one.
//! - **Retries.** 429 and 5xx (except 501) are retried up to [`RetryPolicy::max_attempts`] with
//!   exponential backoff, honouring `Retry-After`; when the wait would be longer than
//!   [`RetryPolicy::max_wait`] or the attempts are used up, a 429 surfaces as `RateLimited` with
//!   `retry_at`. Calls that change data at the bank (import, update) are retried only on 429 and 503,
//!   which finAPI answers before doing anything.
//! - **Bodies.** Responses are read as text and parsed with [`wire::parse`]; a cut-off or malformed body
//!   is `ProviderResponseInvalid`. Request bodies with PINs and TANs are built just before sending and
//!   never logged; only method, path and status are.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::error::{self as ferr, ErrorContext};
use super::map;
use super::wire;
use crate::clock::SharedClock;
use crate::error::{ErrorCode, KontorError, Result};
use crate::provider::{
    AuthAnswer, AuthCall, AuthOperation, AuthReply, BankSearchHit, FetchedAccount, FetchedTransaction, Psu,
    RemoteConnection,
};
use crate::secret::SecretString;

/// The finAPI Access API version a client is bound to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApiVersion {
    V1,
    V2,
}

impl ApiVersion {
    /// `"v1"` or `"v2"` (what `ProviderConfig::api_version` holds); anything else is `None`.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "v1" | "1" => Some(Self::V1),
            "v2" | "2" | "" => Some(Self::V2),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1 => "v1",
            Self::V2 => "v2",
        }
    }

    pub fn prefix(self) -> &'static str {
        match self {
            Self::V1 => "/api/v1",
            Self::V2 => "/api/v2",
        }
    }

    pub fn token_path(self) -> &'static str {
        match self {
            Self::V1 => "/oauth/token",
            Self::V2 => "/api/v2/oauth/token",
        }
    }

    /// The request and response field naming the banking interface.
    pub fn interface_field(self) -> &'static str {
        match self {
            Self::V1 => "interface",
            Self::V2 => "bankingInterface",
        }
    }
}

pub use crate::provider::retry::RetryPolicy;
use crate::provider::retry::{retry_after, to_chrono};

/// Everything a client needs to talk to one finAPI client configuration.
#[derive(Debug, Clone)]
pub struct FinapiConfig {
    /// e.g. `https://sandbox.finapi.io` or `http://127.0.0.1:PORT` for the Demo Bank.
    pub base_url: String,
    pub client_id: String,
    pub client_secret: SecretString,
    pub version: ApiVersion,
    pub retry: RetryPolicy,
    pub request_timeout: StdDuration,
    /// Bank search offers only finAPI's test banks (`isTestBank=true`): set for the Demo Bank, whose other
    /// banks only look real and cannot be linked.
    pub test_banks_only: bool,
}

impl FinapiConfig {
    pub fn new(base_url: impl Into<String>, client_id: impl Into<String>, client_secret: SecretString) -> Self {
        Self {
            base_url: base_url.into(),
            client_id: client_id.into(),
            client_secret,
            version: ApiVersion::V2,
            retry: RetryPolicy::default(),
            request_timeout: StdDuration::from_secs(90),
            test_banks_only: false,
        }
    }
}

/// A finAPI user (one per Kontor provider configuration). The password is a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinapiUser {
    pub id: String,
    pub password: SecretString,
}

#[derive(Debug, Clone)]
struct CachedToken {
    access: SecretString,
    refresh: Option<SecretString>,
    /// `None`: does not expire.
    expires_at: Option<DateTime<Utc>>,
}

impl CachedToken {
    fn valid_at(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_none_or(|at| now < at)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Auth {
    Client,
    User,
}

/// One authorised call to send.
#[derive(Debug, Clone, Copy)]
struct Request<'a> {
    method: &'a Method,
    url: &'a str,
    query: &'a [(String, String)],
    body: Option<&'a Value>,
    auth: Auth,
    /// User present: send the PSU headers.
    psu: Option<&'a Psu>,
    /// Safe to repeat after a 5xx or a broken connection.
    idempotent: bool,
}

/// A finished HTTP exchange.
#[derive(Debug)]
struct Reply {
    status: StatusCode,
    body: String,
}

/// The finAPI Access client. Cheap to share behind an `Arc`; tokens are cached inside.
#[derive(Debug)]
pub struct FinapiClient {
    http: reqwest::Client,
    config: FinapiConfig,
    base: String,
    clock: SharedClock,
    user: Mutex<Option<FinapiUser>>,
    client_token: tokio::sync::Mutex<Option<CachedToken>>,
    user_token: tokio::sync::Mutex<Option<CachedToken>>,
    token_requests: AtomicU32,
}

/// The share of a token's lifetime not used, so a token is never sent in its last seconds.
fn expiry(now: DateTime<Utc>, expires_in: Option<i64>) -> Option<DateTime<Utc>> {
    match expires_in {
        Some(0) => None,
        Some(secs) if secs > 0 => Some(now + Duration::seconds(secs) - Duration::seconds((secs / 10).min(60))),
        // Unknown lifetime: use finAPI's default of one hour, conservatively.
        _ => Some(now + Duration::minutes(50)),
    }
}

impl FinapiClient {
    pub fn new(config: FinapiConfig, clock: SharedClock) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .user_agent(format!("Kontor/{}", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| KontorError::internal(format!("Cannot set up the HTTP client: {e}")))?;
        let base = config.base_url.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(KontorError::invalid_input(format!("'{base}' is not an http(s) address for finAPI.")));
        }
        Ok(Self {
            http,
            config,
            base,
            clock,
            user: Mutex::new(None),
            client_token: tokio::sync::Mutex::new(None),
            user_token: tokio::sync::Mutex::new(None),
            token_requests: AtomicU32::new(0),
        })
    }

    pub fn version(&self) -> ApiVersion {
        self.config.version
    }

    /// How many token requests this client has sent (tokens are cached; tests check that).
    pub fn token_requests(&self) -> u32 {
        self.token_requests.load(Ordering::Relaxed)
    }

    /// Acts as this finAPI user from now on.
    pub fn set_user(&self, user: FinapiUser) {
        *self.user.lock().unwrap_or_else(PoisonError::into_inner) = Some(user);
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    fn api(&self, path: &str) -> String {
        self.url(&format!("{}{}", self.config.version.prefix(), path))
    }

    /// One call with retries for 429/5xx/transport failures. `make` builds a fresh request each time.
    async fn roundtrip(&self, make: &(dyn Fn() -> RequestBuilder + Send + Sync), idempotent: bool) -> Result<Reply> {
        let policy = self.config.retry;
        let attempts = policy.max_attempts.max(1);
        let mut attempt = 1;
        loop {
            let backoff = policy.base_delay.saturating_mul(2u32.saturating_pow(attempt - 1)).min(policy.max_wait);
            let last = attempt >= attempts;
            let response = match make().header("X-Request-Id", uuid::Uuid::new_v4().to_string()).send().await {
                Ok(response) => response,
                Err(e) => {
                    let retryable = idempotent || e.is_connect();
                    if retryable && !last {
                        tracing::debug!(attempt, "finAPI transport failure, retrying: {e}");
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
                Err(e) if idempotent && !last => {
                    tracing::debug!(attempt, "finAPI body broke off, retrying: {e}");
                    tokio::time::sleep(backoff).await;
                    attempt += 1;
                    continue;
                }
                Err(e) => return Err(ferr::from_transport(&e)),
            };
            tracing::debug!(status = status.as_u16(), attempt, "finAPI answered");
            let code = status.as_u16();
            if code == 429 {
                let wait = wait.unwrap_or(backoff);
                if !last && wait <= policy.max_wait {
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                    continue;
                }
                let retry_at = now + to_chrono(wait.max(StdDuration::from_secs(1)));
                return Err(ferr::from_response(code, &body, ErrorContext::Other, Some(retry_at)));
            }
            let transient_5xx = status.is_server_error() && code != 501 && code != 510;
            if transient_5xx && (idempotent || code == 503) && !last {
                let wait = wait.filter(|w| *w <= policy.max_wait).unwrap_or(backoff);
                tokio::time::sleep(wait).await;
                attempt += 1;
                continue;
            }
            return Ok(Reply { status, body });
        }
    }

    async fn fetch_token(&self, form: Vec<(&'static str, String)>, user_grant: bool) -> Result<CachedToken> {
        self.token_requests.fetch_add(1, Ordering::Relaxed);
        let url = self.url(self.config.version.token_path());
        let make = || self.http.post(&url).header("Accept", "application/json").form(&form);
        let now = self.clock.now();
        let reply = self.roundtrip(&make, true).await?;
        if !reply.status.is_success() {
            return Err(ferr::from_token_response(reply.status.as_u16(), &reply.body, user_grant));
        }
        let token: wire::Token = wire::parse(&reply.body, "token")?;
        if token.access_token.is_empty() {
            return Err(KontorError::new(ErrorCode::ProviderResponseInvalid, "finAPI sent an empty access token."));
        }
        Ok(CachedToken {
            access: SecretString::new(token.access_token),
            refresh: token.refresh_token.filter(|r| !r.is_empty()).map(SecretString::new),
            expires_at: expiry(now, token.expires_in),
        })
    }

    fn client_form(&self, grant: &'static str) -> Vec<(&'static str, String)> {
        vec![
            ("grant_type", grant.to_owned()),
            ("client_id", self.config.client_id.clone()),
            ("client_secret", self.config.client_secret.expose().clone()),
        ]
    }

    async fn token(&self, auth: Auth) -> Result<SecretString> {
        let now = self.clock.now();
        match auth {
            Auth::Client => {
                let mut cached = self.client_token.lock().await;
                if let Some(token) = cached.as_ref().filter(|t| t.valid_at(now)) {
                    return Ok(token.access.clone());
                }
                let token = self.fetch_token(self.client_form("client_credentials"), false).await?;
                let access = token.access.clone();
                *cached = Some(token);
                Ok(access)
            }
            Auth::User => {
                let mut cached = self.user_token.lock().await;
                if let Some(token) = cached.as_ref().filter(|t| t.valid_at(now)) {
                    return Ok(token.access.clone());
                }
                let refresh = cached.as_ref().and_then(|t| t.refresh.clone());
                let mut fresh = None;
                if let Some(refresh) = refresh {
                    let mut form = self.client_form("refresh_token");
                    form.push(("refresh_token", refresh.expose().clone()));
                    match self.fetch_token(form, true).await {
                        Ok(token) => fresh = Some(token),
                        Err(e) if e.code == ErrorCode::ProviderAuthFailed => {
                            tracing::debug!("finAPI refresh token refused; logging in again");
                        }
                        Err(e) => return Err(e),
                    }
                }
                let token = match fresh {
                    Some(token) => token,
                    None => {
                        let user =
                            self.user.lock().unwrap_or_else(PoisonError::into_inner).clone().ok_or_else(|| {
                                KontorError::internal("No finAPI user is set up for this provider configuration.")
                            })?;
                        let mut form = self.client_form("password");
                        form.push(("username", user.id.clone()));
                        form.push(("password", user.password.expose().clone()));
                        self.fetch_token(form, true).await?
                    }
                };
                let access = token.access.clone();
                *cached = Some(token);
                Ok(access)
            }
        }
    }

    async fn forget_token(&self, auth: Auth) {
        match auth {
            Auth::Client => *self.client_token.lock().await = None,
            Auth::User => {
                // Keep the refresh token: it may still be good.
                if let Some(token) = self.user_token.lock().await.as_mut() {
                    token.expires_at = Some(DateTime::<Utc>::MIN_UTC);
                }
            }
        }
    }

    /// An authorised call; a 401 drops the token and tries once more with a fresh one.
    async fn call(&self, request: Request<'_>) -> Result<Reply> {
        let Request { method, url, query, body, auth, psu, idempotent } = request;
        for round in 0..2 {
            let token = self.token(auth).await?;
            let make = || {
                let mut req = self
                    .http
                    .request(method.clone(), url)
                    .bearer_auth(token.expose())
                    .header("Accept", "application/json")
                    .query(query);
                if let Some(psu) = psu {
                    if let Some(ip) = &psu.ip_address {
                        req = req.header("PSU-IP-Address", ip);
                    }
                    req = req.header("PSU-Device-OS", &psu.device_os).header("PSU-User-Agent", &psu.user_agent);
                }
                if let Some(body) = body {
                    req = req.json(body);
                }
                req
            };
            let reply = self.roundtrip(&make, idempotent).await?;
            if reply.status == StatusCode::UNAUTHORIZED && round == 0 {
                self.forget_token(auth).await;
                continue;
            }
            return Ok(reply);
        }
        Err(KontorError::internal("unreachable: the token retry loop ended"))
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        query: &[(String, String)],
        auth: Auth,
        what: &str,
    ) -> Result<T> {
        let url = self.api(path);
        let request = Request { method: &Method::GET, url: &url, query, body: None, auth, psu: None, idempotent: true };
        let reply = self.call(request).await?;
        if !reply.status.is_success() {
            return Err(ferr::from_response(reply.status.as_u16(), &reply.body, ErrorContext::Other, None));
        }
        wire::parse(&reply.body, what)
    }

    /// Creates a new finAPI user with a random password (client token). Store the result: the
    /// password cannot be read back.
    pub async fn create_user(&self) -> Result<FinapiUser> {
        let password = uuid::Uuid::new_v4().simple().to_string();
        let body = json!({ "password": password, "isAutoUpdateEnabled": false });
        let url = self.api("/users");
        let request = Request {
            method: &Method::POST,
            url: &url,
            query: &[],
            body: Some(&body),
            auth: Auth::Client,
            psu: None,
            idempotent: false,
        };
        let reply = self.call(request).await?;
        if !reply.status.is_success() {
            return Err(ferr::from_response(reply.status.as_u16(), &reply.body, ErrorContext::Other, None));
        }
        let user: wire::User = wire::parse(&reply.body, "user")?;
        if user.id.is_empty() {
            return Err(KontorError::new(ErrorCode::ProviderResponseInvalid, "finAPI created a user without an id."));
        }
        let password = match user.password {
            Some(p) if !p.is_empty() && p != "XXXXX" => p,
            _ => password,
        };
        Ok(FinapiUser { id: user.id, password: SecretString::new(password) })
    }

    pub async fn search_banks(&self, query: &str) -> Result<Vec<BankSearchHit>> {
        let mut query = vec![("search".to_owned(), query.trim().to_owned()), ("perPage".to_owned(), "100".to_owned())];
        if self.config.test_banks_only {
            query.push(("isTestBank".to_owned(), "true".to_owned()));
        }
        let list: wire::BankList = self.get_json("/banks", &query, Auth::Client, "banks").await?;
        Ok(list.banks.into_iter().map(map::bank).collect())
    }

    pub async fn bank(&self, bank_id: &str) -> Result<BankSearchHit> {
        let id: i64 =
            bank_id.trim().parse().map_err(|_| KontorError::invalid_input("That is not a finAPI bank id."))?;
        let bank: wire::Bank = self.get_json(&format!("/banks/{id}"), &[], Auth::Client, "bank").await?;
        Ok(map::bank(bank))
    }

    /// The JSON body of an import or update call: the operation's fields, the credentials, and on a
    /// continuation the multi-step block with the hash, the accumulated procedure and the one answer.
    fn auth_body(&self, call: &AuthCall<'_>) -> Result<Value> {
        let mut body = Map::new();
        let interface_field = self.config.version.interface_field();
        let number = |text: &str, what: &str| {
            text.trim()
                .parse::<i64>()
                .map_err(|_| KontorError::invalid_input(format!("'{text}' is not a finAPI {what} id.")))
        };
        match call.operation {
            AuthOperation::Import { bank_id, interface, ibans, redirect_url } => {
                body.insert("bankId".into(), json!(number(bank_id, "bank")?));
                body.insert(interface_field.into(), json!(interface));
                if !ibans.is_empty() {
                    let refs: Vec<Value> = ibans.iter().map(|iban| json!({ "iban": iban })).collect();
                    body.insert("accountReferences".into(), Value::Array(refs));
                }
                if let Some(url) = redirect_url {
                    body.insert("redirectUrl".into(), json!(url));
                }
            }
            AuthOperation::Update { provider_connection_id, interface, redirect_url } => {
                body.insert("bankConnectionId".into(), json!(number(provider_connection_id, "bank connection")?));
                body.insert(interface_field.into(), json!(interface));
                if let Some(url) = redirect_url {
                    body.insert("redirectUrl".into(), json!(url));
                }
            }
        }
        if !call.credentials.is_empty() {
            let creds: Vec<Value> =
                call.credentials.iter().map(|c| json!({ "label": c.label, "value": c.value.expose() })).collect();
            body.insert("loginCredentials".into(), Value::Array(creds));
            if call.store_secrets {
                body.insert("storeSecrets".into(), json!(true));
            }
        }
        if let Some(continuation) = call.continuation {
            let mut msa = wire::MsaCallback {
                hash: continuation.token.clone(),
                two_step_procedure_id: continuation.procedure_id.clone(),
                ..Default::default()
            };
            match call.answer {
                AuthAnswer::None => {}
                AuthAnswer::Procedure(id) => msa.two_step_procedure_id = Some(id.clone()),
                AuthAnswer::Tan(tan) => msa.challenge_response = Some(tan.expose().clone()),
                AuthAnswer::RedirectCallback(query) => msa.redirect_callback = Some(query.clone()),
                AuthAnswer::DecoupledPoll => msa.decoupled_callback = Some(true),
            }
            let msa = serde_json::to_value(msa).map_err(|e| KontorError::internal(e.to_string()))?;
            body.insert("multiStepAuthentication".into(), msa);
        }
        Ok(Value::Object(body))
    }

    pub async fn authorize(&self, call: AuthCall<'_>, psu: &Psu) -> Result<AuthReply> {
        let body = self.auth_body(&call)?;
        let path = match call.operation {
            AuthOperation::Import { .. } => "/bankConnections/import",
            AuthOperation::Update { .. } => "/bankConnections/update",
        };
        let context = match call.answer {
            AuthAnswer::Tan(_) => ErrorContext::Tan,
            AuthAnswer::None if !call.credentials.is_empty() => ErrorContext::Credentials,
            _ => ErrorContext::Other,
        };
        let url = self.api(path);
        let request = Request {
            method: &Method::POST,
            url: &url,
            query: &[],
            body: Some(&body),
            auth: Auth::User,
            psu: Some(psu),
            idempotent: false,
        };
        let reply = self.call(request).await?;
        drop(body);
        let status = reply.status.as_u16();
        if reply.status.is_success() {
            let connection: wire::BankConnection = wire::parse(&reply.body, "bank connection")?;
            return Ok(AuthReply::Connected { provider_connection_id: connection.id.to_string() });
        }
        if status == 510 {
            let envelope = ferr::envelope(&reply.body).ok_or_else(|| {
                KontorError::new(
                    ErrorCode::ProviderResponseInvalid,
                    "finAPI asked for more authentication but sent no readable details.",
                )
            })?;
            let details = envelope.errors.into_iter().find(|e| e.multi_step_authentication.is_some());
            let Some(details) = details else {
                return Err(KontorError::new(
                    ErrorCode::ProviderResponseInvalid,
                    "finAPI asked for more authentication without saying which.",
                ));
            };
            let previous_procedure = match call.answer {
                AuthAnswer::Procedure(id) => Some(id.clone()),
                _ => call.continuation.and_then(|c| c.procedure_id.clone()),
            };
            let msa = details.multi_step_authentication.unwrap_or_default();
            let (continuation, challenge) = map::challenge(msa, details.message, previous_procedure)?;
            return Ok(AuthReply::NeedsAnswer { continuation, challenge });
        }
        let error = ferr::from_response(status, &reply.body, context, None);
        if status == 422 && call.continuation.is_some() && error.code == ErrorCode::TanRejected {
            // A 422 is not a 510: it carries no hash, and finAPI's flow is over. Another TAN needs a
            // new flow (a new import or update), never the spent hash.
            return Ok(AuthReply::Ended { error, new_round: true });
        }
        let update_without_login = matches!(call.operation, AuthOperation::Update { .. })
            && call.continuation.is_none()
            && call.credentials.is_empty();
        let missing_login = ferr::envelope(&reply.body)
            .and_then(|e| e.errors.into_iter().next())
            .is_some_and(|d| d.code.as_deref() == Some("MISSING_FIELD"));
        if status == 422 && update_without_login && missing_login {
            // finAPI keeps no PIN unless the import asked it to (`storeSecrets`): the update needs the login.
            let mut needs = KontorError::new(
                ErrorCode::CredentialsRequired,
                "The bank needs your login for this sync: finAPI has not kept it.",
            );
            needs.bank_message = error.bank_message;
            return Err(needs);
        }
        Err(error)
    }

    pub async fn connection(&self, provider_connection_id: &str) -> Result<RemoteConnection> {
        let id: i64 = provider_connection_id
            .trim()
            .parse()
            .map_err(|_| KontorError::invalid_input("That is not a finAPI bank connection id."))?;
        let wire: wire::BankConnection =
            self.get_json(&format!("/bankConnections/{id}"), &[], Auth::User, "bank connection").await?;
        Ok(map::connection(wire, None))
    }

    pub async fn accounts(&self, provider_connection_id: &str) -> Result<Vec<FetchedAccount>> {
        let query = [("bankConnectionIds".to_owned(), provider_connection_id.trim().to_owned())];
        let list: wire::AccountList = self.get_json("/accounts", &query, Auth::User, "accounts").await?;
        Ok(list.accounts.into_iter().map(map::account).collect())
    }

    /// All transactions of the accounts, paged with `perPage=500`, oldest id first.
    pub async fn transactions(
        &self,
        account_ids: &[String],
        since: Option<NaiveDate>,
    ) -> Result<Vec<FetchedTransaction>> {
        if account_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        let mut page = 1i64;
        loop {
            let mut query = vec![
                ("view".to_owned(), "bankView".to_owned()),
                ("perPage".to_owned(), "500".to_owned()),
                ("page".to_owned(), page.to_string()),
                ("order".to_owned(), "id,asc".to_owned()),
            ];
            for id in account_ids {
                query.push(("accountIds".to_owned(), id.clone()));
            }
            if let Some(since) = since {
                query.push(("minBankBookingDate".to_owned(), since.format("%Y-%m-%d").to_string()));
            }
            let batch: wire::TransactionPage =
                self.get_json("/transactions", &query, Auth::User, "transactions").await?;
            let rows = batch.transactions.len();
            for row in batch.transactions {
                out.push(map::transaction(row)?);
            }
            let page_count = batch.paging.and_then(|p| p.page_count).unwrap_or(page);
            if page >= page_count || rows == 0 {
                break;
            }
            page += 1;
        }
        if self.version() == ApiVersion::V2 {
            out.extend(self.pending_transactions(account_ids).await?);
        }
        Ok(out)
    }

    /// v2 only: the accounts' pending transactions (`GET /pendingTransactions`, paged by 500).
    pub async fn pending_transactions(&self, account_ids: &[String]) -> Result<Vec<FetchedTransaction>> {
        let mut out = Vec::new();
        let mut page = 1i64;
        loop {
            let mut query = vec![("perPage".to_owned(), "500".to_owned()), ("page".to_owned(), page.to_string())];
            for id in account_ids {
                query.push(("accountIds".to_owned(), id.clone()));
            }
            let batch: wire::PendingTransactionPage =
                self.get_json("/pendingTransactions", &query, Auth::User, "pending transactions").await?;
            let rows = batch.pending_transactions.len();
            for row in batch.pending_transactions {
                out.push(map::pending_transaction(row)?);
            }
            let page_count = batch.paging.and_then(|p| p.page_count).unwrap_or(page);
            if page >= page_count || rows == 0 {
                break;
            }
            page += 1;
        }
        Ok(out)
    }
}

/// Removing at finAPI: a bank connection, or only its consent (which makes the next update ask for
/// SCA and a new consent).
impl FinapiClient {
    fn connection_number(provider_connection_id: &str) -> Result<i64> {
        provider_connection_id
            .trim()
            .parse()
            .map_err(|_| KontorError::invalid_input("That is not a finAPI bank connection id."))
    }

    async fn delete(&self, path: &str) -> Result<()> {
        let url = self.api(path);
        let request = Request {
            method: &Method::DELETE,
            url: &url,
            query: &[],
            body: None,
            auth: Auth::User,
            psu: None,
            idempotent: true,
        };
        let reply = self.call(request).await?;
        if !reply.status.is_success() {
            return Err(ferr::from_response(reply.status.as_u16(), &reply.body, ErrorContext::Other, None));
        }
        Ok(())
    }

    /// `DELETE /bankConnections/{id}`: the connection with its accounts and transactions at finAPI.
    pub async fn delete_connection(&self, provider_connection_id: &str) -> Result<()> {
        let id = Self::connection_number(provider_connection_id)?;
        self.delete(&format!("/bankConnections/{id}")).await
    }

    /// `DELETE /users`: the finAPI user with everything it holds (refused with 423 while a connection
    /// of it is busy).
    pub async fn delete_user(&self) -> Result<()> {
        self.delete("/users").await
    }

    /// `DELETE /bankConnections/{id}/aisConsent`: ends the connection's consent; the next update asks
    /// the bank for a new one (with SCA).
    pub async fn delete_consent(&self, provider_connection_id: &str) -> Result<()> {
        let id = Self::connection_number(provider_connection_id)?;
        self.delete(&format!("/bankConnections/{id}/aisConsent")).await
    }
}
