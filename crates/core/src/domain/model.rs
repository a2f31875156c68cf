use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::ids::{AccountId, ConnectionId, ProviderConfigId};
use super::money::{Currency, Money};

/// Which aggregator protocol a provider configuration speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    Finapi,
    Finx,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Finapi => "finapi",
            Self::Finx => "finx",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "finapi" => Some(Self::Finapi),
            "finx" => Some(Self::Finx),
            _ => None,
        }
    }
}

/// One set of client credentials for a provider. The client secret lives in the OS keyring under
/// [`ProviderConfig::secret_key_name`], never in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderConfig {
    pub id: ProviderConfigId,
    pub kind: ProviderKind,
    pub label: String,
    pub base_url: String,
    pub client_id: String,
    /// Provider-specific API version (finAPI: "v1" or "v2").
    pub api_version: String,
    /// The built-in Demo Bank, started in-process; needs no secret.
    pub is_demo: bool,
    pub created_at: DateTime<Utc>,
}

impl ProviderConfig {
    pub fn secret_key_name(&self) -> String {
        format!("provider-secret:{}", self.id)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionStatus {
    /// Linked and usable.
    Active,
    /// The bank wants a new SCA or consent before the next sync.
    NeedsAuthentication,
    /// The consent ran out.
    ConsentExpired,
    /// The last sync failed for a reason other than authentication.
    Failed,
}

impl ConnectionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::NeedsAuthentication => "needs_authentication",
            Self::ConsentExpired => "consent_expired",
            Self::Failed => "failed",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "active" => Self::Active,
            "needs_authentication" => Self::NeedsAuthentication,
            "consent_expired" => Self::ConsentExpired,
            "failed" => Self::Failed,
            _ => return None,
        })
    }
}

/// A link to one bank login at one provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub id: ConnectionId,
    pub provider_config_id: ProviderConfigId,
    /// The provider's id for it (finAPI bank connection id, finX access id).
    pub provider_connection_id: String,
    pub bank_id: Option<String>,
    pub bank_name: String,
    pub bank_bic: Option<String>,
    /// The provider's interface (finAPI: XS2A, FINTS_SERVER, WEB_SCRAPER).
    pub interface: Option<String>,
    pub status: ConnectionStatus,
    pub consent_expires_at: Option<DateTime<Utc>>,
    pub last_synced_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum AccountType {
    Checking,
    Savings,
    CreditCard,
    Loan,
    Securities,
    Other,
}

impl AccountType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Checking => "checking",
            Self::Savings => "savings",
            Self::CreditCard => "credit_card",
            Self::Loan => "loan",
            Self::Securities => "securities",
            Self::Other => "other",
        }
    }

    pub fn parse(value: &str) -> Self {
        match value {
            "checking" => Self::Checking,
            "savings" => Self::Savings,
            "credit_card" => Self::CreditCard,
            "loan" => Self::Loan,
            "securities" => Self::Securities,
            _ => Self::Other,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub connection_id: ConnectionId,
    pub provider_account_id: String,
    pub iban: Option<String>,
    pub name: String,
    pub holder: Option<String>,
    pub account_type: AccountType,
    pub currency: Currency,
    pub balance_booked: Option<Money>,
    pub balance_booked_date: Option<NaiveDate>,
    pub balance_available: Option<Money>,
    pub balance_available_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum BookingStatus {
    Booked,
    Pending,
}

impl BookingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Booked => "booked",
            Self::Pending => "pending",
        }
    }

    pub fn parse(value: &str) -> Self {
        if value == "pending" { Self::Pending } else { Self::Booked }
    }
}

/// Money in or money out, by the sign of the amount (an amount of zero is neither).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Amount above zero: credits.
    Incoming,
    /// Amount below zero: debits.
    Outgoing,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counterparty {
    pub name: Option<String>,
    pub iban: Option<String>,
    pub bic: Option<String>,
}

/// A booking as the provider reported it. `raw` keeps the provider's JSON for later re-mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    pub account_id: AccountId,
    pub provider_id: String,
    pub booking_date: NaiveDate,
    pub value_date: Option<NaiveDate>,
    pub amount: Money,
    pub counterparty: Counterparty,
    pub purpose: Option<String>,
    /// The provider's or bank's transaction type text (e.g. "Lastschrift", "SEPA-Überweisung").
    pub kind: Option<String>,
    pub status: BookingStatus,
    pub raw: Option<String>,
}
