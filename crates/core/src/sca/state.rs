//! The persisted shape of an SCA flow.
//!
//! A [`Flow`] is everything Kontor remembers about one authorisation round (linking a bank, or
//! re-authorising a connection during a sync) between two steps. It is stored as JSON in the
//! `sca_flows` table, so a pending redirect survives an app restart.
//!
//! Invariants:
//!
//! - **No secrets.** PINs and TANs are never part of a [`Flow`]; they live in the driver's memory for
//!   the flow's lifetime. `credentials_sent` records that the provider has seen secrets that would
//!   have to be repeated, so that after a restart ([`super::Event::Restored`]) the user is asked again.
//! - `deadline` bounds the whole flow; `poll_interval_ms` spaces decoupled polls (≥ 5 s by default).
//! - The callback of a redirect is matched on [`ScaState::AwaitingRedirect::context`] in the query
//!   parameter `context_field`; that value is also the table's `callback_state`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::request::UserRequest;
use crate::domain::{ConnectionId, FlowId, ProviderConfigId};
use crate::error::KontorError;
use crate::provider::{Continuation, LoginField, ScaProcedure, TanChallenge};

/// What a flow is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "purpose", rename_all = "snake_case")]
pub enum FlowPurpose {
    /// Link a new bank connection.
    Link { bank_id: String, bank_bic: Option<String> },
    /// Update an existing connection (manual sync), re-authorising if the bank asks.
    Update { connection_id: ConnectionId, provider_connection_id: String },
}

impl FlowPurpose {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Link { .. } => "link",
            Self::Update { .. } => "update",
        }
    }
}

/// The call a flow is waiting on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallKind {
    Initial,
    Procedure,
    Tan,
    RedirectCallback,
    DecoupledPoll,
}

/// A call to send once the user has re-entered their secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "resume", rename_all = "snake_case")]
pub enum Resume {
    RedirectCallback { query: String },
}

/// Where a flow stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ScaState {
    /// Waiting for the login fields; with `resume`, only the secret ones, to finish a pending call.
    AwaitingCredentials {
        resume: Option<Resume>,
    },
    /// Waiting for the IBANs to include (DETAILED_CONSENT).
    AwaitingAccounts,
    /// A call is in flight.
    Submitting {
        call: CallKind,
    },
    AwaitingProcedure {
        message: Option<String>,
        procedures: Vec<ScaProcedure>,
    },
    AwaitingTan {
        message: Option<String>,
        label: Option<String>,
        challenge: TanChallenge,
    },
    AwaitingRedirect {
        url: String,
        context_field: String,
        context: String,
        /// The app restarted since the call: the secret login fields must be entered again.
        secrets_lost: bool,
    },
    AwaitingDecoupled {
        message: Option<String>,
        next_poll_at: DateTime<Utc>,
    },
    /// The provider accepted the authorisation; the driver downloads and saves the data.
    Linked {
        provider_connection_id: String,
    },
    Failed {
        error: KontorError,
    },
    Cancelled,
}

impl ScaState {
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Linked { .. } | Self::Failed { .. } | Self::Cancelled)
    }

    /// The value a redirect callback must carry, while one is expected.
    pub fn callback_state(&self) -> Option<&str> {
        match self {
            Self::AwaitingRedirect { context, .. } => Some(context),
            _ => None,
        }
    }
}

/// One authorisation round. See the module docs for the invariants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flow {
    pub id: FlowId,
    pub provider_config_id: ProviderConfigId,
    pub purpose: FlowPurpose,
    pub bank_name: String,
    /// The provider's interface (finAPI `XS2A`, …).
    pub interface: String,
    pub login_fields: Vec<LoginField>,
    pub login_hint: Option<String>,
    /// DETAILED_CONSENT: ask for IBANs before the first call.
    pub ask_ibans: bool,
    pub known_ibans: Vec<String>,
    pub ibans: Vec<String>,
    /// Where the bank returns the user (REDIRECT_APPROACH only).
    pub redirect_url: Option<String>,
    pub poll_interval_ms: i64,
    pub created_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    pub continuation: Option<Continuation>,
    pub credentials_sent: bool,
    /// The bank's last "approve in your app" text, kept while polling.
    #[serde(default)]
    pub approval_message: Option<String>,
    /// The TAN request the answer in flight belongs to, so a TAN the bank refuses (keeping its
    /// challenge) can be asked for again.
    #[serde(default)]
    pub tan_request: Option<ScaState>,
    /// TANs the bank refused in this flow.
    #[serde(default)]
    pub wrong_tans: u32,
    /// Logins the bank refused in this flow.
    #[serde(default)]
    pub rejected_logins: u32,
    pub state: ScaState,
}

/// Wrong TANs after which a flow ends (banks end the challenge after three).
pub const MAX_WRONG_TANS: u32 = 3;
/// Refused logins after which a flow ends, before the bank locks the online-banking access.
pub const MAX_REJECTED_LOGINS: u32 = 3;

/// How a new flow starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowSetup {
    pub id: FlowId,
    pub provider_config_id: ProviderConfigId,
    pub purpose: FlowPurpose,
    pub bank_name: String,
    pub interface: String,
    pub login_fields: Vec<LoginField>,
    pub login_hint: Option<String>,
    pub ask_ibans: bool,
    pub known_ibans: Vec<String>,
    pub redirect_url: Option<String>,
    /// Ask for the login before the first call (a new link); an update first tries without.
    pub ask_credentials_first: bool,
    pub poll_interval_ms: i64,
    pub timeout_secs: i64,
}

impl Flow {
    /// A new flow in its first state; feed it [`super::Event::Begin`].
    pub fn new(setup: FlowSetup, now: DateTime<Utc>) -> Self {
        let mut flow = Self {
            id: setup.id,
            provider_config_id: setup.provider_config_id,
            purpose: setup.purpose,
            bank_name: setup.bank_name,
            interface: setup.interface,
            login_fields: setup.login_fields,
            login_hint: setup.login_hint,
            ask_ibans: setup.ask_ibans,
            known_ibans: setup.known_ibans,
            ibans: Vec::new(),
            redirect_url: setup.redirect_url,
            poll_interval_ms: setup.poll_interval_ms.max(0),
            created_at: now,
            deadline: now + chrono::Duration::seconds(setup.timeout_secs.max(1)),
            continuation: None,
            credentials_sent: false,
            approval_message: None,
            tan_request: None,
            wrong_tans: 0,
            rejected_logins: 0,
            state: ScaState::Cancelled,
        };
        flow.state = if setup.ask_credentials_first {
            flow.fresh_start()
        } else {
            ScaState::Submitting { call: CallKind::Initial }
        };
        flow
    }

    /// The first state of a (re)started round: login fields, then IBANs, then the first call.
    pub fn fresh_start(&self) -> ScaState {
        if !self.login_fields.is_empty() {
            ScaState::AwaitingCredentials { resume: None }
        } else if self.ask_ibans && self.ibans.is_empty() {
            ScaState::AwaitingAccounts
        } else {
            ScaState::Submitting { call: CallKind::Initial }
        }
    }

    pub fn secret_fields(&self) -> Vec<LoginField> {
        self.login_fields.iter().filter(|f| f.secret).cloned().collect()
    }

    /// What the user has to do now, if anything.
    pub fn request(&self) -> Option<UserRequest> {
        Some(match &self.state {
            ScaState::AwaitingCredentials { resume } => UserRequest::EnterCredentials {
                bank_name: self.bank_name.clone(),
                fields: if resume.is_some() { self.secret_fields() } else { self.login_fields.clone() },
                hint: self.login_hint.clone(),
            },
            ScaState::AwaitingAccounts => UserRequest::SelectAccounts { known_ibans: self.known_ibans.clone() },
            ScaState::AwaitingProcedure { message, procedures } => {
                UserRequest::ChooseProcedure { message: message.clone(), procedures: procedures.clone() }
            }
            ScaState::AwaitingTan { message, label, challenge } => UserRequest::EnterTan {
                prompt: message.clone(),
                label: label.clone(),
                challenge: challenge.clone().with_parsed_flicker(),
            },
            ScaState::AwaitingRedirect { url, .. } => UserRequest::OpenBrowser { url: url.clone() },
            ScaState::AwaitingDecoupled { message, .. } => UserRequest::ApproveInApp { message: message.clone() },
            _ => return None,
        })
    }
}
