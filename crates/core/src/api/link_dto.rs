//! Transport types for linking banks, SCA flows and syncing (see [`super::link`]).
//!
//! [`FlowUpdate`] is what every linking or syncing call returns, and what the progress sink receives
//! while a long job runs: the app and the CLI render its [`UserRequest`] and answer with a
//! [`crate::sca::UserAnswer`]. Inputs that carry secrets ([`NewProviderConfig`]) deserialise only.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::dto::ConnectionSummary;
use crate::domain::{ProviderConfig, ProviderKind, SyncWarning};
use crate::error::KontorError;
use crate::sca::{Flow, UserRequest};
use crate::secret::SecretString;

/// A new provider configuration. The client secret goes to the OS keyring, never the database.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, TS)]
pub struct NewProviderConfig {
    pub kind: ProviderKind,
    pub label: String,
    /// e.g. `https://sandbox.finapi.io`.
    pub base_url: String,
    pub client_id: String,
    #[ts(type = "string")]
    pub client_secret: SecretString,
    /// finAPI: `"v2"` (default) or `"v1"`; a finAPI client is bound to one version.
    #[serde(default)]
    pub api_version: Option<String>,
    /// The built-in Demo Bank.
    #[serde(default)]
    pub is_demo: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ProviderConfigSummary {
    pub id: String,
    pub kind: ProviderKind,
    pub label: String,
    pub base_url: String,
    pub client_id: String,
    pub api_version: String,
    pub is_demo: bool,
}

impl ProviderConfigSummary {
    pub fn from_domain(c: &ProviderConfig) -> Self {
        Self {
            id: c.id.to_string(),
            kind: c.kind,
            label: c.label.clone(),
            base_url: c.base_url.clone(),
            client_id: c.client_id.clone(),
            api_version: c.api_version.clone(),
            is_demo: c.is_demo,
        }
    }
}

/// Start linking a bank found by `search_banks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct StartLink {
    pub provider_config_id: String,
    pub bank_id: String,
    /// The interface to use (finAPI `XS2A`, `FINTS_SERVER`, …); default: the best one offered.
    #[serde(default)]
    pub interface: Option<String>,
    /// Where the bank sends the user back after a redirect; default: the link options' callback URL.
    #[serde(default)]
    pub callback_url: Option<String>,
}

/// Which finX widget flow to run (finAPI ignores it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum FinxFlow {
    /// `POST /onetime/access`: accounts, balances and transactions fetched once; the token is dropped.
    OneTime,
    /// `POST /ongoing/access`: a lasting access under Kontor's finX user, synced with `sync_connection`.
    Ongoing,
    /// `POST /onetime/income-report`: the report is fetched, stored and shown; no connection.
    IncomeReport,
}

impl FinxFlow {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OneTime => "onetime",
            Self::Ongoing => "ongoing",
            Self::IncomeReport => "income_report",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "onetime" | "one_time" => Some(Self::OneTime),
            "ongoing" => Some(Self::Ongoing),
            "income_report" | "incomereport" => Some(Self::IncomeReport),
            _ => None,
        }
    }
}

/// Start a finX widget flow: the answer is `NeedsInput` with `OpenBrowser { url }` (the widget); its
/// callback goes to `handle_callback`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct StartFinxLink {
    pub provider_config_id: String,
    pub flow: FinxFlow,
    /// Ongoing only: the finX `user_id`. Default: the one Kontor created for this provider
    /// configuration (one finX user, several bank connections).
    #[serde(default)]
    pub user_id: Option<String>,
    /// Ongoing only: a finX provider id (UUID) to pre-select the bank.
    #[serde(default)]
    pub provider_id: Option<String>,
    /// IBANs (or account numbers) to pre-select the bank and accounts.
    #[serde(default)]
    pub accounts: Vec<String>,
    /// Ongoing only: let finX keep the bank login's secrets for unattended syncs (default false).
    #[serde(default)]
    pub save_secrets: Option<bool>,
    /// Days of history (one-time, ongoing; income report: turned into months by finX).
    #[serde(default)]
    pub sync_period_days: Option<u32>,
    /// Income report only: months (4–24; finX default 12). Not together with `sync_period_days`.
    #[serde(default)]
    pub reporting_period_months: Option<u32>,
    /// Where the widget returns (default: the link options' callback URL).
    #[serde(default)]
    pub callback_url: Option<String>,
}

/// A finX income report as stored in the vault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct StoredIncomeReport {
    /// finX's link id (the callback's `flow_id`).
    pub id: String,
    /// When Kontor fetched it (RFC 3339).
    pub created_at: String,
    pub report: crate::provider::finx::IncomeReport,
}

/// What a long job is doing right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum WorkStep {
    /// Talking to the bank (login, method, TAN, callback).
    Authorizing,
    /// Asking the bank whether the app approval arrived.
    WaitingForApproval,
    /// The provider downloads balances and transactions.
    Downloading,
    /// Writing to the vault.
    Saving,
}

/// Where a linking or syncing job stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum FlowUpdate {
    /// Render `request` and answer with `answer(flow_id, …)`. `error` says why the previous answer
    /// was refused (e.g. an empty field), if it was.
    NeedsInput {
        flow_id: String,
        request: UserRequest,
        error: Option<KontorError>,
    },
    /// Progress of a running job (only through the progress sink).
    Working {
        flow_id: Option<String>,
        step: WorkStep,
    },
    /// Linked or synced.
    Done {
        connection: ConnectionSummary,
        added: u32,
        updated: u32,
        /// Codes with parameters; front ends say them in the user's language.
        warnings: Vec<SyncWarning>,
    },
    Failed {
        flow_id: Option<String>,
        error: KontorError,
    },
    /// A finX income-report flow finished; the report is stored (see `income_reports`).
    ReportReady {
        report: Box<StoredIncomeReport>,
    },
}

/// A flow waiting for the user, e.g. after a restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PendingFlow {
    pub flow_id: String,
    pub provider_config_id: String,
    /// `link` or `update`.
    pub purpose: String,
    pub bank_name: String,
    pub request: Option<UserRequest>,
    pub created_at: String,
    pub expires_at: String,
}

impl PendingFlow {
    pub fn from_flow(flow: &Flow) -> Self {
        Self {
            flow_id: flow.id.to_string(),
            provider_config_id: flow.provider_config_id.to_string(),
            purpose: flow.purpose.as_str().to_owned(),
            bank_name: flow.bank_name.clone(),
            request: flow.request(),
            created_at: flow.created_at.to_rfc3339(),
            expires_at: flow.deadline.to_rfc3339(),
        }
    }
}
