//! Linking banks and syncing connections: the facade's provider, SCA and sync methods.
//!
//! Every method returns a [`FlowUpdate`] the app and the CLI render. A flow that waits for the user
//! is persisted in `sca_flows` (without secrets) and continues with [`Kontor::answer`] or, after a
//! bank redirect, [`Kontor::handle_callback`]; a pending redirect survives a restart. Login values
//! live in memory for the flow's lifetime only; after a restart the user is asked again where the
//! bank needs them.
//!
//! Runtime state that is not in the vault (provider clients with their token caches, in-memory
//! secrets and cancel switches of running flows, [`LinkOptions`]) is a [`LinkRuntime`], a field of
//! [`Kontor`]: two `Kontor`s never share it, and dropping one drops its secrets.
//!
//! Once the provider has accepted a link, the connection is kept even if the first download fails
//! (status `failed`, no accounts or transactions, a `failed` journal row): the provider would refuse
//! a second link of the same login (`ENTITY_EXISTS`), and a sync fetches the data instead. The
//! user is told "Linked, but the first download failed: … — sync to try again".
//!
//! The store mutex is never held across an `.await`: each store access is one short
//! [`Kontor::with_store`] call.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration as StdDuration;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::Kontor;
use super::dto::ConnectionSummary;
use super::link_dto::{FlowUpdate, NewProviderConfig, PendingFlow, ProviderConfigSummary, StartLink, WorkStep};
use crate::domain::{
    Connection, ConnectionId, ConnectionStatus, FlowId, ProviderConfig, ProviderConfigId, ProviderKind,
};
use crate::error::{ErrorCode, KontorError, Result};
use crate::provider::finapi::{ApiVersion, FinapiClient, FinapiConfig, FinapiUser, RetryPolicy};
use crate::provider::{BankSearchHit, Provider, Psu};
use crate::sca::{
    CallKind, DEFAULT_FLOW_TIMEOUT_SECS, DEFAULT_POLL_INTERVAL_MS, Driver, Event, Flow, FlowPurpose, FlowSetup,
    FlowSink, FlowStore, Outcome, Secrets, UserAnswer,
};
use crate::secret::SecretString;
use crate::sync::Delivery;

/// Receives [`FlowUpdate::Working`] (and every final update) while a job runs.
pub type ProgressSink = Arc<dyn Fn(&FlowUpdate) + Send + Sync>;

/// Settings for linking and syncing; see [`Kontor::set_link_options`].
#[derive(Clone)]
pub struct LinkOptions {
    pub psu: Psu,
    /// Spacing of decoupled polls (finAPI asks for ≥ 5 s).
    pub poll_interval_ms: i64,
    pub flow_timeout_secs: i64,
    /// Where banks send the user back (`kontor://…` deep link or a loopback URL).
    pub callback_url: String,
    /// Spacing and number of reads while the provider downloads a connection's data.
    pub download_poll_interval: StdDuration,
    pub download_max_polls: u32,
    pub retry: RetryPolicy,
    pub progress: Option<ProgressSink>,
    /// finX syncs that need the bank login (secrets not saved at finX): let finX keep it afterwards.
    pub finx_save_secrets: bool,
    /// finX syncs: days of history to request (`sync_period`); `None`: finX's default.
    pub finx_sync_period_days: Option<u32>,
}

impl std::fmt::Debug for LinkOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkOptions")
            .field("psu", &self.psu)
            .field("poll_interval_ms", &self.poll_interval_ms)
            .field("callback_url", &self.callback_url)
            .finish_non_exhaustive()
    }
}

/// The deep link every Kontor build registers.
pub const DEEP_LINK_CALLBACK: &str = "kontor://sca-callback";

/// Scheme, host, port and path of a callback address, the parts a callback must match.
fn callback_origin(url: &url::Url) -> (String, Option<String>, Option<u16>, String) {
    let path = url.path().trim_end_matches('/').to_owned();
    (url.scheme().to_owned(), url.host_str().map(str::to_owned), url.port_or_known_default(), path)
}

fn is_loopback_host(host: Option<url::Host<&str>>) -> bool {
    match host {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Whether `url` could be addressed to Kontor at all: a `kontor://` link or http(s) on loopback.
fn is_trusted_callback_base(url: &url::Url) -> bool {
    url.scheme() == "kontor" || (matches!(url.scheme(), "http" | "https") && is_loopback_host(url.host()))
}

/// Whether `url` goes to exactly the address `candidate`, itself a trusted callback base.
fn is_callback_to(url: &url::Url, candidate: &str) -> bool {
    url::Url::parse(candidate)
        .ok()
        .is_some_and(|c| is_trusted_callback_base(&c) && callback_origin(&c) == callback_origin(url))
}

impl Default for LinkOptions {
    fn default() -> Self {
        Self {
            psu: Psu::default(),
            poll_interval_ms: DEFAULT_POLL_INTERVAL_MS,
            flow_timeout_secs: DEFAULT_FLOW_TIMEOUT_SECS,
            callback_url: DEEP_LINK_CALLBACK.to_owned(),
            download_poll_interval: StdDuration::from_secs(2),
            download_max_polls: 150,
            retry: RetryPolicy::default(),
            progress: None,
            finx_save_secrets: false,
            finx_sync_period_days: None,
        }
    }
}

#[derive(Debug)]
struct Session {
    secrets: Secrets,
    cancel: watch::Sender<bool>,
    busy: bool,
}

/// Holds a flow's session busy while [`Kontor::drive`] runs. Dropped — at the end, or when the
/// future running the flow is dropped — it releases the session: a finished flow's session is
/// removed, an unfinished one keeps its secrets (`secrets`, once the driver handed them back) and
/// is free for the next answer. Dropped in the middle of a run (the secrets still with the driver),
/// the session is removed, so the next answer restores the flow as after a restart.
struct BusyGuard<'a> {
    runtime: &'a LinkRuntime,
    flow_id: FlowId,
    secrets: Option<Secrets>,
    finished: bool,
}

impl Drop for BusyGuard<'_> {
    fn drop(&mut self) {
        let mut sessions = self.runtime.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        match (self.finished, self.secrets.take()) {
            (false, Some(secrets)) => {
                if let Some(session) = sessions.get_mut(&self.flow_id) {
                    session.secrets = secrets;
                    session.busy = false;
                }
            }
            _ => {
                sessions.remove(&self.flow_id);
            }
        }
    }
}

/// The in-memory side of linking: provider clients (with their token caches), the secrets and
/// cancel switches of running flows, and the [`LinkOptions`]. Owned by one [`Kontor`].
#[derive(Debug, Default)]
pub struct LinkRuntime {
    providers: Mutex<HashMap<ProviderConfigId, Arc<FinapiClient>>>,
    sessions: Mutex<HashMap<FlowId, Session>>,
    options: Mutex<LinkOptions>,
    /// finX clients, access tokens and one-time grants.
    pub(super) finx: super::finx::FinxRuntime,
    /// Where this process's Demo Bank listens, per demo configuration. Every process (the app, each
    /// CLI command) runs its own Demo Bank on its own port, so the address is kept here and never
    /// written into the configuration the processes share in the vault.
    demo_urls: Mutex<HashMap<ProviderConfigId, String>>,
}

/// The provider client a flow runs against.
#[derive(Debug, Clone)]
pub(crate) enum Backend {
    Finapi(Arc<FinapiClient>),
    Finx(Arc<crate::provider::finx::FinxClient>),
}

/// The finAPI user of a provider configuration, as stored in `provider_sessions`.
#[derive(Debug, Serialize, Deserialize)]
struct StoredUser {
    id: String,
    /// Only for the Demo Bank when no keyring answers (its users are not real secrets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    demo_password: Option<String>,
}

const USER_SCOPE: &str = "finapi-user";
/// The Demo Bank's default client id (`kontor_sandbox::DEFAULT_CLIENT_ID`).
pub const DEMO_CLIENT_ID: &str = "kontor-demo";
/// The Demo Bank's default client secret (`kontor_sandbox::DEFAULT_CLIENT_SECRET`); not a real secret.
pub const DEMO_CLIENT_SECRET: &str = "kontor-demo-secret";
/// The label of the demo provider configuration.
pub const DEMO_PROVIDER_LABEL: &str = "Demo Bank (offline)";
/// The label of the demo finX provider configuration (the Demo Bank's finX face).
pub const DEMO_FINX_PROVIDER_LABEL: &str = "Demo Bank (finX)";
pub(super) const DEMO_SECRET_SCOPE: &str = "demo-client-secret";

fn user_secret_name(config: &ProviderConfigId) -> String {
    format!("provider-user:{config}")
}

/// Persists flows through the facade's store.
struct StoreSink<'a>(&'a Kontor);

impl FlowSink for StoreSink<'_> {
    fn save(&self, flow: &Flow) -> Result<()> {
        let now = self.0.clock().now();
        self.0.with_store(|s| s.save_flow(flow, now))
    }

    fn forget(&self, flow: &Flow) -> Result<()> {
        self.0.with_store(|s| s.forget_flow(&flow.id))
    }
}

/// The query of a bank redirect's callback URL as decoded pairs and as the raw query text, the way
/// [`Kontor::handle_callback`] reads it; a URL that does not parse is `ScaStateMismatch`.
#[doc(hidden)]
pub fn callback_params(url: &str) -> Result<(Vec<(String, String)>, String)> {
    let parsed = url::Url::parse(url.trim()).map_err(|_| mismatch())?;
    let params = parsed.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let query = parsed.query().unwrap_or_default().to_owned();
    Ok((params, query))
}

fn mismatch() -> KontorError {
    KontorError::new(
        ErrorCode::ScaStateMismatch,
        "This link does not belong to any pending bank authentication. Nothing was changed.",
    )
}

impl Kontor {
    fn link_runtime(&self) -> &LinkRuntime {
        &self.link
    }

    /// The address to reach a configuration at: for the Demo Bank, this process's own.
    pub(super) fn base_url_of(&self, config: &ProviderConfig) -> String {
        let own = config
            .is_demo
            .then(|| {
                self.link_runtime().demo_urls.lock().unwrap_or_else(PoisonError::into_inner).get(&config.id).cloned()
            })
            .flatten();
        own.unwrap_or_else(|| config.base_url.clone())
    }

    pub(super) fn link_options(&self) -> LinkOptions {
        self.link_runtime().options.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Replaces the settings for linking and syncing (PSU data, poll spacing, callback URL, progress
    /// sink). Clients already built keep their retry policy.
    pub fn set_link_options(&self, options: LinkOptions) {
        *self.link_runtime().options.lock().unwrap_or_else(PoisonError::into_inner) = options;
    }

    /// Drops the in-memory link state (provider clients with their tokens, the secrets of running
    /// flows), exactly as quitting the app would; persisted flows stay. For restart tests and "log out".
    pub fn reset_link_runtime(&self) {
        let runtime = self.link_runtime();
        runtime.providers.lock().unwrap_or_else(PoisonError::into_inner).clear();
        runtime.sessions.lock().unwrap_or_else(PoisonError::into_inner).clear();
        runtime.finx.clear();
    }

    pub(super) fn report(&self, update: &FlowUpdate) {
        if let Some(sink) = self.link_options().progress {
            sink(update);
        }
    }

    /// Adds a provider configuration. The client secret is stored in the OS keyring.
    pub fn add_provider_config(&self, input: NewProviderConfig) -> Result<ProviderConfigSummary> {
        let api_version = match input.kind {
            ProviderKind::Finapi => {
                let version_text = input.api_version.clone().unwrap_or_else(|| "v2".to_owned());
                ApiVersion::parse(&version_text)
                    .ok_or_else(|| KontorError::invalid_input("The finAPI API version must be v1 or v2."))?
                    .as_str()
                    .to_owned()
            }
            ProviderKind::Finx => "finx".to_owned(),
        };
        let base_url = input.base_url.trim().trim_end_matches('/').to_owned();
        let transport_ok = url::Url::parse(&base_url).is_ok_and(|u| match u.scheme() {
            "https" => true,
            "http" => input.is_demo || is_loopback_host(u.host()),
            _ => false,
        });
        if !transport_ok {
            return Err(KontorError::invalid_input(
                "The provider address must start with https:// (http:// only for this computer: localhost, 127.0.0.1 or ::1), so that the client secret and your bank data travel encrypted.",
            ));
        }
        if input.client_id.trim().is_empty() {
            return Err(KontorError::invalid_input("Enter the client id."));
        }
        let config = ProviderConfig {
            id: ProviderConfigId::generate(),
            kind: input.kind,
            label: match (input.label.trim(), input.kind) {
                ("", ProviderKind::Finapi) => "finAPI".to_owned(),
                ("", ProviderKind::Finx) => "finX".to_owned(),
                (label, _) => label.to_owned(),
            },
            base_url,
            client_id: input.client_id.trim().to_owned(),
            api_version,
            is_demo: input.is_demo,
            created_at: self.clock().now(),
        };
        let stored_in_keyring = self.keyring().set(&config.secret_key_name(), &input.client_secret);
        self.with_store(|s| {
            s.upsert_provider_config(&config)?;
            match stored_in_keyring {
                Ok(()) => Ok(()),
                Err(_) if config.is_demo => s.set_provider_session(
                    &config.id,
                    DEMO_SECRET_SCOPE,
                    input.client_secret.expose(),
                    self.clock().now(),
                ),
                Err(e) => Err(KontorError::new(
                    ErrorCode::KeyringUnavailable,
                    format!("Kontor keeps client secrets in the OS keyring, which did not answer: {e}"),
                )),
            }
        })
        .inspect_err(|_| {
            let _ = self.keyring().delete(&config.secret_key_name());
        })?;
        Ok(ProviderConfigSummary::from_domain(&config))
    }

    /// Registers the built-in Demo Bank (`kontor_sandbox`, started in-process on a random port each
    /// run) as the demo provider configuration: creates it once, and points this process (only) at
    /// `base_url`, dropping a cached client of another address; other processes on the same vault
    /// keep their own Demo Bank. Its client id and secret are the
    /// Demo Bank's defaults ([`DEMO_CLIENT_ID`], [`DEMO_CLIENT_SECRET`]); without a keyring the
    /// secret lives in the vault, as it is not a real secret.
    pub fn ensure_demo_provider(&self, base_url: &str) -> Result<ProviderConfigSummary> {
        self.ensure_demo_config(ProviderKind::Finapi, base_url)
    }

    /// Registers the Demo Bank's finX face (the same server as [`Self::ensure_demo_provider`]) as
    /// the demo finX provider configuration, like `ensure_demo_provider` does for finAPI.
    pub fn ensure_demo_finx_provider(&self, base_url: &str) -> Result<ProviderConfigSummary> {
        self.ensure_demo_config(ProviderKind::Finx, base_url)
    }

    fn ensure_demo_config(&self, kind: ProviderKind, base_url: &str) -> Result<ProviderConfigSummary> {
        let base_url = base_url.trim().trim_end_matches('/').to_owned();
        if url::Url::parse(&base_url).map(|u| !matches!(u.scheme(), "http" | "https")).unwrap_or(true) {
            return Err(KontorError::invalid_input("The Demo Bank address must be an http:// URL."));
        }
        let existing =
            self.with_store(|s| Ok(s.provider_configs()?.into_iter().find(|c| c.is_demo && c.kind == kind)))?;
        let Some(mut config) = existing else {
            let (label, api_version) = match kind {
                ProviderKind::Finapi => (DEMO_PROVIDER_LABEL, Some("v2".to_owned())),
                ProviderKind::Finx => (DEMO_FINX_PROVIDER_LABEL, None),
            };
            let created = self.add_provider_config(NewProviderConfig {
                kind,
                label: label.to_owned(),
                base_url: base_url.clone(),
                client_id: DEMO_CLIENT_ID.to_owned(),
                client_secret: SecretString::new(DEMO_CLIENT_SECRET.to_owned()),
                api_version,
                is_demo: true,
            })?;
            self.link_runtime()
                .demo_urls
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(ProviderConfigId::from(created.id.as_str()), base_url);
            return Ok(created);
        };
        let previous = self
            .link_runtime()
            .demo_urls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(config.id.clone(), base_url.clone());
        if previous.as_deref() != Some(base_url.as_str()) {
            self.link_runtime().providers.lock().unwrap_or_else(PoisonError::into_inner).remove(&config.id);
            self.link_runtime().finx.forget_client(&config.id);
        }
        config.base_url = base_url;
        let has_secret = matches!(self.keyring().get(&config.secret_key_name()), Ok(Some(_)))
            || self.with_store(|s| s.provider_session(&config.id, DEMO_SECRET_SCOPE))?.is_some();
        if !has_secret {
            let secret = SecretString::new(DEMO_CLIENT_SECRET.to_owned());
            if self.keyring().set(&config.secret_key_name(), &secret).is_err() {
                let now = self.clock().now();
                self.with_store(|s| s.set_provider_session(&config.id, DEMO_SECRET_SCOPE, DEMO_CLIENT_SECRET, now))?;
            }
        }
        Ok(ProviderConfigSummary::from_domain(&config))
    }

    /// Whether any provider configuration other than the Demo Bank's (finAPI and finX) exists (then
    /// the app does not start the Demo Bank).
    pub fn has_real_provider(&self) -> Result<bool> {
        self.with_store(|s| Ok(s.provider_configs()?.iter().any(|c| !c.is_demo)))
    }

    pub fn provider_configs(&self) -> Result<Vec<ProviderConfigSummary>> {
        let mut configs = self.with_store(|s| s.provider_configs())?;
        for config in &mut configs {
            config.base_url = self.base_url_of(config);
        }
        Ok(configs.iter().map(ProviderConfigSummary::from_domain).collect())
    }

    /// The finAPI client of a configuration, with its user set up (created on first use).
    async fn finapi(&self, id: &ProviderConfigId) -> Result<Arc<FinapiClient>> {
        let runtime = self.link_runtime();
        if let Some(client) = runtime.providers.lock().unwrap_or_else(PoisonError::into_inner).get(id) {
            return Ok(client.clone());
        }
        let config = self
            .with_store(|s| s.provider_config(id))?
            .ok_or_else(|| KontorError::not_found("This provider configuration does not exist."))?;
        let version = ApiVersion::parse(&config.api_version).unwrap_or(ApiVersion::V2);
        let secret = match self.keyring().get(&config.secret_key_name()) {
            Ok(Some(secret)) => secret,
            _ => match self.with_store(|s| s.provider_session(&config.id, DEMO_SECRET_SCOPE))? {
                Some(secret) if config.is_demo => SecretString::new(secret),
                _ => {
                    return Err(KontorError::new(
                        ErrorCode::ProviderAuthFailed,
                        "The client secret of this provider is not in the keyring. Add the provider again.",
                    ));
                }
            },
        };
        let mut finapi_config = FinapiConfig::new(self.base_url_of(&config), config.client_id.clone(), secret);
        finapi_config.version = version;
        finapi_config.retry = self.link_options().retry;
        finapi_config.test_banks_only = config.is_demo;
        let client = FinapiClient::new(finapi_config, self.clock().clone())?;

        let stored: Option<StoredUser> = self
            .with_store(|s| s.provider_session(&config.id, USER_SCOPE))?
            .and_then(|json| serde_json::from_str(&json).ok());
        let user = match stored {
            Some(stored) => {
                let password = match stored.demo_password {
                    Some(p) => Some(SecretString::new(p)),
                    None => self.keyring().get(&user_secret_name(&config.id)).ok().flatten(),
                };
                password.map(|password| FinapiUser { id: stored.id, password })
            }
            None => None,
        };
        let user = match user {
            Some(user) => user,
            None => {
                let user = client.create_user().await?;
                let keyring_ok = self.keyring().set(&user_secret_name(&config.id), &user.password).is_ok();
                let stored = StoredUser {
                    id: user.id.clone(),
                    demo_password: (!keyring_ok && config.is_demo).then(|| user.password.expose().clone()),
                };
                if !keyring_ok && !config.is_demo {
                    return Err(KontorError::new(
                        ErrorCode::KeyringUnavailable,
                        "Kontor keeps its finAPI user's password in the OS keyring, which did not answer.",
                    ));
                }
                let json = serde_json::to_string(&stored).map_err(|e| KontorError::internal(e.to_string()))?;
                let now = self.clock().now();
                self.with_store(|s| s.set_provider_session(&config.id, USER_SCOPE, &json, now))?;
                user
            }
        };
        client.set_user(user);
        let client = Arc::new(client);
        runtime.providers.lock().unwrap_or_else(PoisonError::into_inner).insert(id.clone(), client.clone());
        Ok(client)
    }

    /// The client of a configuration, by its kind.
    pub(crate) async fn backend(&self, id: &ProviderConfigId) -> Result<Backend> {
        let kind = self
            .with_store(|s| s.provider_config(id))?
            .ok_or_else(|| KontorError::not_found("This provider configuration does not exist."))?
            .kind;
        match kind {
            ProviderKind::Finapi => Ok(Backend::Finapi(self.finapi(id).await?)),
            ProviderKind::Finx => Ok(Backend::Finx(self.finx_client(id)?)),
        }
    }

    /// Searches the provider's banks by name, BLZ, BIC, city or IBAN.
    pub async fn search_banks(&self, provider_config_id: &str, query: &str) -> Result<Vec<BankSearchHit>> {
        if query.trim().is_empty() {
            return Err(KontorError::invalid_input("Enter a bank name, BLZ, BIC or IBAN."));
        }
        match self.backend(&ProviderConfigId::from(provider_config_id)).await? {
            Backend::Finapi(client) => client.search_banks(query).await,
            Backend::Finx(_) => Err(KontorError::new(
                ErrorCode::NotSupported,
                "finX lets you choose the bank in its own window: start a link instead.",
            )),
        }
    }

    /// Starts linking a bank: usually answers with a request for the bank's login fields.
    pub async fn start_link(&self, request: StartLink) -> Result<FlowUpdate> {
        let config_id = ProviderConfigId::from(request.provider_config_id.as_str());
        let client = match self.backend(&config_id).await? {
            Backend::Finapi(client) => client,
            Backend::Finx(_) => {
                // finX: an ongoing access, the bank (a finX provider id) pre-selected if given.
                return self
                    .start_finx_link(super::link_dto::StartFinxLink {
                        provider_config_id: request.provider_config_id,
                        flow: super::link_dto::FinxFlow::Ongoing,
                        user_id: None,
                        provider_id: Some(request.bank_id).filter(|b| !b.trim().is_empty()),
                        accounts: Vec::new(),
                        save_secrets: None,
                        sync_period_days: None,
                        reporting_period_months: None,
                        callback_url: request.callback_url,
                    })
                    .await;
            }
        };
        let bank = Provider::bank(client.as_ref(), &request.bank_id).await?;
        let interface = bank.choose_interface(request.interface.as_deref()).cloned().ok_or_else(|| {
            KontorError::new(ErrorCode::NotSupported, format!("{} cannot be linked through this provider.", bank.name))
        })?;
        let options = self.link_options();
        let setup = FlowSetup {
            id: FlowId::generate(),
            provider_config_id: config_id,
            purpose: FlowPurpose::Link { bank_id: bank.id.clone(), bank_bic: bank.bic.clone() },
            bank_name: bank.name.clone(),
            interface: interface.id.clone(),
            login_fields: interface.login_fields.clone(),
            login_hint: interface.login_hint.clone(),
            ask_ibans: interface.detailed_consent,
            known_ibans: Vec::new(),
            redirect_url: interface
                .redirect
                .then(|| request.callback_url.clone().unwrap_or(options.callback_url.clone())),
            ask_credentials_first: true,
            poll_interval_ms: options.poll_interval_ms,
            timeout_secs: options.flow_timeout_secs,
        };
        let flow = Flow::new(setup, self.clock().now());
        self.drive(Backend::Finapi(client), flow, Event::Begin).await
    }

    /// Answers the request of a waiting flow.
    pub async fn answer(&self, flow_id: &str, answer: UserAnswer) -> Result<FlowUpdate> {
        let id = FlowId::from(flow_id);
        let flow = self
            .with_store(|s| s.flow(&id))?
            .ok_or_else(|| KontorError::not_found("There is no pending bank authentication with this id."))?;
        let client = self.backend(&flow.provider_config_id).await?;
        let restored = !self.link_runtime().sessions.lock().unwrap_or_else(PoisonError::into_inner).contains_key(&id);
        let flow = if restored { self.restore(client.clone(), flow).await? } else { flow };
        self.drive(client, flow, Event::Answer(answer)).await
    }

    /// Brings a flow loaded after a restart into a state that needs no lost secrets.
    async fn restore(&self, client: Backend, flow: Flow) -> Result<Flow> {
        let id = flow.id.clone();
        let _ = self.drive(client, flow, Event::Restored).await?;
        self.with_store(|s| s.flow(&id))?
            .ok_or_else(|| KontorError::new(ErrorCode::ScaStale, "This authentication has ended. Please start again."))
    }

    /// Continues the flow a bank redirect belongs to. `url` is the whole callback URL; a `state` that
    /// belongs to no pending flow is refused with `ScaStateMismatch` and changes nothing.
    ///
    /// Only these addresses are callbacks, matched exactly on scheme, host, port and path: the
    /// `kontor://sca-callback` deep link, the callback URL of this process
    /// ([`LinkOptions::callback_url`], e.g. the CLI's loopback listener) and the one the flow gave
    /// the bank, each only where it is a `kontor://` link or on a loopback host. Anything else
    /// (`javascript:`, `file:`, another host, port or path) is `InvalidInput`, whatever `state` it
    /// carries, and changes nothing.
    pub async fn handle_callback(&self, url: &str) -> Result<FlowUpdate> {
        let parsed = url::Url::parse(url.trim()).map_err(|_| mismatch())?;
        let not_for_kontor = || {
            KontorError::invalid_input(
                "This address is not a callback for Kontor: it must start with kontor://sca-callback or Kontor's own loopback address. Nothing was changed.",
            )
        };
        if !is_trusted_callback_base(&parsed) {
            return Err(not_for_kontor());
        }
        let (params, query) = callback_params(url)?;
        let mut found = None;
        for (key, value) in &params {
            if let Some(flow) = self.with_store(|s| s.flow_by_callback_state(value))? {
                let field_matches = matches!(&flow.state, crate::sca::ScaState::AwaitingRedirect { context_field, .. } if context_field == key);
                if field_matches {
                    found = Some(flow);
                    break;
                }
            }
        }
        let flow = found.ok_or_else(mismatch)?;
        let addressed =
            [Some(DEEP_LINK_CALLBACK), Some(self.link_options().callback_url.as_str()), flow.redirect_url.as_deref()]
                .into_iter()
                .flatten()
                .any(|candidate| is_callback_to(&parsed, candidate));
        if !addressed {
            return Err(not_for_kontor());
        }
        let client = self.backend(&flow.provider_config_id).await?;
        let restored =
            !self.link_runtime().sessions.lock().unwrap_or_else(PoisonError::into_inner).contains_key(&flow.id);
        let flow = if restored { self.restore(client.clone(), flow).await? } else { flow };
        self.drive(client, flow, Event::Callback { params, query }).await
    }

    /// Cancels a flow. A call, poll or download in flight is stopped at once (nothing more is sent
    /// for it); a flow waiting for the user ends.
    pub async fn cancel(&self, flow_id: &str) -> Result<FlowUpdate> {
        let id = FlowId::from(flow_id);
        let cancelled = KontorError::new(ErrorCode::ScaCancelled, "The authentication was cancelled.");
        {
            let runtime = self.link_runtime();
            let sessions = runtime.sessions.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(session) = sessions.get(&id).filter(|s| s.busy) {
                let _ = session.cancel.send(true);
                return Ok(FlowUpdate::Failed { flow_id: Some(id.to_string()), error: cancelled });
            }
        }
        let flow = self
            .with_store(|s| s.flow(&id))?
            .ok_or_else(|| KontorError::not_found("There is no pending bank authentication with this id."))?;
        let client = self.backend(&flow.provider_config_id).await?;
        self.drive(client, flow, Event::Cancel).await
    }

    /// Flows waiting for the user (e.g. a redirect left open before a restart).
    /// Flows past their deadline are not listed: they cannot be continued any more.
    pub fn pending_flows(&self) -> Result<Vec<PendingFlow>> {
        let now = self.clock().now();
        self.with_store(|s| Ok(s.flows()?.iter().filter(|f| f.deadline > now).map(PendingFlow::from_flow).collect()))
    }

    /// Updates one connection at the bank (the manual sync) and applies the new data. Asks for SCA
    /// when the bank wants it.
    pub async fn sync_connection(&self, connection_id: &str) -> Result<FlowUpdate> {
        let id = ConnectionId::from(connection_id);
        let connection = self
            .with_store(|s| s.connection(&id))?
            .ok_or_else(|| KontorError::not_found("This connection does not exist."))?;
        let client = match self.backend(&connection.provider_config_id).await? {
            Backend::Finapi(client) => client,
            Backend::Finx(client) => return self.sync_finx_connection(connection, client).await,
        };
        let bank = match &connection.bank_id {
            Some(bank_id) => Provider::bank(client.as_ref(), bank_id).await.ok(),
            None => None,
        };
        let interface = bank.as_ref().and_then(|b| b.choose_interface(connection.interface.as_deref())).cloned();
        // finAPI keeps the login only when the user agreed (`storeSecrets`); it says which fields it
        // keeps. A field the update needs and finAPI cannot have is asked for first, instead of
        // sending an update that finAPI refuses as incomplete.
        // Without a consent (ended, e.g. to renew it) the update gives a new one, which needs the login
        // and SCA: the login is asked for first then too.
        let remote = Provider::connection(client.as_ref(), &connection.provider_connection_id).await.ok();
        let stored = remote.as_ref().and_then(|r| r.stored_login_labels.clone());
        let consent_gone = remote.as_ref().is_some_and(|r| r.consent_present == Some(false));
        let ask_login_first = match (&interface, &stored) {
            (Some(interface), _) if consent_gone => interface.login_fields.iter().any(|f| f.mandatory && f.secret),
            (Some(interface), Some(stored)) => interface
                .login_fields
                .iter()
                .any(|f| f.mandatory && !f.volatile && !stored.iter().any(|label| label == &f.label)),
            _ => false,
        };
        let known_ibans = self.with_store(|s| s.connection_accounts(&id))?.into_iter().filter_map(|a| a.iban).collect();
        let options = self.link_options();
        let setup = FlowSetup {
            id: FlowId::generate(),
            provider_config_id: connection.provider_config_id.clone(),
            purpose: FlowPurpose::Update {
                connection_id: id.clone(),
                provider_connection_id: connection.provider_connection_id.clone(),
            },
            bank_name: connection.bank_name.clone(),
            interface: connection
                .interface
                .clone()
                .or_else(|| interface.as_ref().map(|i| i.id.clone()))
                .unwrap_or_else(|| "XS2A".to_owned()),
            login_fields: interface.as_ref().map(|i| i.login_fields.clone()).unwrap_or_default(),
            login_hint: interface.as_ref().and_then(|i| i.login_hint.clone()),
            ask_ibans: false,
            known_ibans,
            redirect_url: interface.as_ref().filter(|i| i.redirect).map(|_| options.callback_url.clone()),
            ask_credentials_first: ask_login_first,
            poll_interval_ms: options.poll_interval_ms,
            timeout_secs: options.flow_timeout_secs,
        };
        let flow = Flow::new(setup, self.clock().now());
        self.drive(Backend::Finapi(client), flow, Event::Begin).await
    }

    /// Syncs every connection in turn; one update per connection.
    pub async fn sync_all(&self) -> Result<Vec<FlowUpdate>> {
        let connections = self.with_store(|s| s.connections())?;
        let mut out = Vec::with_capacity(connections.len());
        for connection in connections {
            let update = match self.sync_connection(connection.id.as_str()).await {
                Ok(update) => update,
                Err(error) => FlowUpdate::Failed { flow_id: None, error },
            };
            out.push(update);
        }
        Ok(out)
    }

    /// Runs the SCA driver for one event and turns the outcome into a [`FlowUpdate`]; after a link or
    /// sync was accepted, downloads and saves the data. The flow's session stays busy (and
    /// cancellable) until the end, and a [`BusyGuard`] releases it also when this future is dropped.
    pub(super) async fn drive(&self, backend: Backend, flow: Flow, event: Event) -> Result<FlowUpdate> {
        let runtime = self.link_runtime();
        let flow_id = flow.id.clone();
        let (secrets, cancel_rx) = {
            let mut sessions = runtime.sessions.lock().unwrap_or_else(PoisonError::into_inner);
            let session = sessions.entry(flow_id.clone()).or_insert_with(|| Session {
                secrets: Secrets::default(),
                cancel: watch::channel(false).0,
                busy: false,
            });
            if session.busy {
                return Err(KontorError::new(ErrorCode::ResourceBusy, "This authentication is already working."));
            }
            session.busy = true;
            (std::mem::take(&mut session.secrets), session.cancel.subscribe())
        };
        let mut guard = BusyGuard { runtime, flow_id: flow_id.clone(), secrets: None, finished: false };
        let options = self.link_options();
        let mut secrets = secrets;
        let sink = StoreSink(self);
        let on_call = |flow: &Flow, call: CallKind| {
            let step =
                if call == CallKind::DecoupledPoll { WorkStep::WaitingForApproval } else { WorkStep::Authorizing };
            self.report(&FlowUpdate::Working { flow_id: Some(flow.id.to_string()), step });
        };
        let finx_auth;
        let provider: &dyn Provider = match &backend {
            Backend::Finapi(client) => client.as_ref(),
            Backend::Finx(client) => {
                finx_auth = super::finx::FinxAuth::new(self, client.clone(), &flow, options.clone());
                &finx_auth
            }
        };
        let mut driver = Driver {
            provider,
            psu: &options.psu,
            clock: self.clock(),
            sink: &sink,
            cancel: cancel_rx.clone(),
            on_call: &on_call,
        };
        let (flow, outcome) = driver.run(flow, event, &mut secrets).await;
        guard.finished = flow.state.is_terminal();
        guard.secrets = Some(secrets);
        let update = match outcome {
            Outcome::NeedsInput(request) => {
                FlowUpdate::NeedsInput { flow_id: flow_id.to_string(), request, error: None }
            }
            Outcome::AskedAgain { request, error } => {
                FlowUpdate::NeedsInput { flow_id: flow_id.to_string(), request, error: Some(error) }
            }
            Outcome::Rejected(error) => match flow.request() {
                Some(request) if error.code != ErrorCode::ScaStateMismatch => {
                    FlowUpdate::NeedsInput { flow_id: flow_id.to_string(), request, error: Some(error) }
                }
                _ => return Err(error),
            },
            Outcome::Linked { provider_connection_id } => match &backend {
                Backend::Finapi(client) => {
                    self.finish(client.as_ref(), &flow, &provider_connection_id, &options, cancel_rx).await
                }
                Backend::Finx(client) => {
                    self.finish_finx(client.as_ref(), &flow, &provider_connection_id, &options, cancel_rx).await
                }
            },
            Outcome::Failed(error) => {
                self.record_failure(&flow, &error);
                FlowUpdate::Failed { flow_id: Some(flow_id.to_string()), error }
            }
        };
        drop(guard);
        self.report(&update);
        Ok(update)
    }

    pub(super) fn record_failure(&self, flow: &Flow, error: &KontorError) {
        let FlowPurpose::Update { connection_id, .. } = &flow.purpose else { return };
        let now = self.clock().now();
        let status = match error.code {
            ErrorCode::ConsentExpired => Some(ConnectionStatus::ConsentExpired),
            ErrorCode::CredentialsRejected | ErrorCode::CredentialsRequired => {
                Some(ConnectionStatus::NeedsAuthentication)
            }
            _ => None,
        };
        let cancelled = error.code == ErrorCode::ScaCancelled;
        let outcome = self.with_store(|s| {
            if let (Some(status), Some(mut connection)) = (status, s.connection(connection_id)?) {
                connection.status = status;
                s.upsert_connection(&connection)?;
            }
            s.journal_failure(Some(connection_id), flow.created_at, now, cancelled, error)
        });
        if let Err(e) = outcome {
            tracing::warn!(code = ?e.code, "could not record a failed sync: {}", e.message);
        }
    }

    /// After the provider accepted: wait for the download, then fetch and apply in one transaction.
    /// A failed first download still keeps the new connection ([`Self::keep_imported`]).
    async fn finish(
        &self,
        client: &FinapiClient,
        flow: &Flow,
        provider_connection_id: &str,
        options: &LinkOptions,
        cancel: watch::Receiver<bool>,
    ) -> FlowUpdate {
        let downloaded = tokio::select! {
            biased;
            downloaded = self.download(client, flow, provider_connection_id, options) => downloaded,
            () = crate::sca::driver::cancelled(cancel) => {
                Err(KontorError::new(ErrorCode::ScaCancelled, "The download was cancelled."))
            }
        };
        match downloaded {
            Ok(update) => update,
            Err(error) => {
                let error = match &flow.purpose {
                    FlowPurpose::Link { .. } => {
                        self.keep_imported(flow, provider_connection_id, &flow.interface, error)
                    }
                    FlowPurpose::Update { .. } => {
                        self.record_failure(flow, &error);
                        error
                    }
                };
                FlowUpdate::Failed { flow_id: Some(flow.id.to_string()), error }
            }
        }
    }

    /// finAPI accepted the import but the first download failed. The connection exists at finAPI
    /// (linking again would be refused with `ENTITY_EXISTS`), so it is kept: status `failed` (or
    /// what the error says about the login or consent), no accounts or transactions (the data part
    /// is written in one transaction or not at all), and a `failed` journal row with the code — the
    /// row and the journal in one transaction. A later `sync_connection` downloads everything.
    /// Returns the error for the user, saying that the bank is linked and to sync. A new row gets
    /// `interface` (finX keeps its own access kinds, see `finish_finx`).
    pub(super) fn keep_imported(
        &self,
        flow: &Flow,
        provider_connection_id: &str,
        interface: &str,
        error: KontorError,
    ) -> KontorError {
        let now = self.clock().now();
        let status = match error.code {
            ErrorCode::ConsentExpired => ConnectionStatus::ConsentExpired,
            ErrorCode::CredentialsRejected | ErrorCode::CredentialsRequired => ConnectionStatus::NeedsAuthentication,
            _ => ConnectionStatus::Failed,
        };
        let kept = self.with_store(|s| {
            let existing = s.connections()?.into_iter().find(|c| {
                c.provider_config_id == flow.provider_config_id && c.provider_connection_id == provider_connection_id
            });
            let connection = match existing {
                Some(mut connection) => {
                    connection.status = status;
                    connection
                }
                None => {
                    let (bank_id, bank_bic) = match &flow.purpose {
                        FlowPurpose::Link { bank_id, bank_bic } => (Some(bank_id.clone()), bank_bic.clone()),
                        FlowPurpose::Update { .. } => (None, None),
                    };
                    Connection {
                        id: ConnectionId::generate(),
                        provider_config_id: flow.provider_config_id.clone(),
                        provider_connection_id: provider_connection_id.to_owned(),
                        bank_id: bank_id.filter(|b| !b.trim().is_empty()),
                        bank_name: flow.bank_name.clone(),
                        bank_bic,
                        interface: Some(interface.to_owned()),
                        status,
                        consent_expires_at: None,
                        last_synced_at: None,
                        created_at: now,
                    }
                }
            };
            s.keep_failed_connection(&connection, flow.created_at, now, &error)
        });
        if let Err(e) = kept {
            tracing::warn!(code = ?e.code, "could not keep a linked connection whose download failed: {}", e.message);
            return error;
        }
        let reason = error.message.trim_end_matches('.');
        KontorError {
            message: format!("Linked, but the first download failed: {reason} — sync to try again."),
            ..error
        }
    }

    async fn download(
        &self,
        client: &FinapiClient,
        flow: &Flow,
        provider_connection_id: &str,
        options: &LinkOptions,
    ) -> Result<FlowUpdate> {
        let started_at = self.clock().now();
        self.report(&FlowUpdate::Working { flow_id: Some(flow.id.to_string()), step: WorkStep::Downloading });
        let mut polls = 0;
        let remote = loop {
            let remote = Provider::connection(client, provider_connection_id).await?;
            if remote.ready {
                break remote;
            }
            polls += 1;
            if polls >= options.download_max_polls.max(1) {
                return Err(KontorError::new(
                    ErrorCode::ProviderUnavailable,
                    "The bank is still sending your data. Sync again in a few minutes.",
                ));
            }
            tokio::time::sleep(options.download_poll_interval).await;
        };

        let now = self.clock().now();
        let existing = match &flow.purpose {
            FlowPurpose::Update { connection_id, .. } => self.with_store(|s| s.connection(connection_id))?,
            FlowPurpose::Link { .. } => self.with_store(|s| {
                Ok(s.connections()?.into_iter().find(|c| {
                    c.provider_config_id == flow.provider_config_id
                        && c.provider_connection_id == provider_connection_id
                }))
            })?,
        };
        let bank_id = match &flow.purpose {
            FlowPurpose::Link { bank_id, .. } => Some(bank_id.clone()),
            FlowPurpose::Update { .. } => existing.as_ref().and_then(|c| c.bank_id.clone()),
        };
        let bank_bic = match &flow.purpose {
            FlowPurpose::Link { bank_bic, .. } => bank_bic.clone(),
            FlowPurpose::Update { .. } => existing.as_ref().and_then(|c| c.bank_bic.clone()),
        };
        let last_failed = remote.last_update.as_ref().filter(|u| !u.ok);
        let mut connection = Connection {
            id: existing.as_ref().map(|c| c.id.clone()).unwrap_or_else(ConnectionId::generate),
            provider_config_id: flow.provider_config_id.clone(),
            provider_connection_id: provider_connection_id.to_owned(),
            bank_id: remote.bank_id.clone().or(bank_id),
            bank_name: remote.bank_name.clone().unwrap_or_else(|| flow.bank_name.clone()),
            bank_bic: remote.bank_bic.clone().or(bank_bic),
            interface: remote.interface.clone().or_else(|| Some(flow.interface.clone())),
            status: if last_failed.is_some() || remote.user_action_required {
                ConnectionStatus::NeedsAuthentication
            } else {
                ConnectionStatus::Active
            },
            consent_expires_at: remote.consent_expires_at.or(existing.as_ref().and_then(|c| c.consent_expires_at)),
            last_synced_at: existing.as_ref().and_then(|c| c.last_synced_at),
            created_at: existing.as_ref().map(|c| c.created_at).unwrap_or(now),
        };
        if let Some(failed) = last_failed {
            // The login worked but the download did not: keep the connection so the user can retry.
            self.with_store(|s| s.upsert_connection(&connection))?;
            let mut error =
                KontorError::new(ErrorCode::CredentialsRejected, "The bank refused the download of your data.");
            if let Some(message) = &failed.message {
                error = error.with_bank_message(message.clone());
            }
            return Err(error);
        }

        let accounts = Provider::accounts(client, provider_connection_id).await?;
        let account_ids: Vec<String> = accounts.iter().map(|a| a.provider_account_id.clone()).collect();
        let since = crate::sync::download_since(Some(&connection));
        let transactions = Provider::transactions(client, &account_ids, since).await?;

        self.report(&FlowUpdate::Working { flow_id: Some(flow.id.to_string()), step: WorkStep::Saving });
        let now = self.clock().now();
        connection.last_synced_at = Some(now);
        let delivery = Delivery { accounts, transactions, deleted: Vec::new(), pending_complete: true };
        let outcome = self.with_store(|s| {
            crate::sync::apply_delivery(s, &connection, delivery, started_at, now, crate::domain::AccountId::generate)
        })?;
        Ok(FlowUpdate::Done {
            connection: ConnectionSummary::from_domain(&connection),
            added: outcome.added,
            updated: outcome.updated,
            warnings: outcome.warnings,
        })
    }
}

impl Kontor {
    /// Forgets the finAPI user of a configuration: its password in the OS keyring, its row in the
    /// vault and the cached client; the next link creates a new user.
    pub(super) fn forget_finapi_user(&self, config: &ProviderConfigId) -> Result<()> {
        let _ = self.keyring().delete(&user_secret_name(config));
        self.link_runtime().providers.lock().unwrap_or_else(PoisonError::into_inner).remove(config);
        self.with_store(|s| s.delete_provider_session(config, USER_SCOPE))
    }
}
