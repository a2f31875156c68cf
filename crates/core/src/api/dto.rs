//! Transport types: what crosses IPC to the UI and JSON lines to CLI clients.
//!
//! Amounts travel as decimal strings (`"-12.34"`), dates as `YYYY-MM-DD`, timestamps as RFC 3339.
//! Every type here derives `ts_rs::TS`; `ui/src/bindings.ts` is generated from them.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::domain::{Account, AccountType, Connection, ConnectionStatus};
use crate::error::KontorError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum KeySourceDto {
    Keyring,
    Passphrase,
}

/// Where the vault stands; the UI shows one screen per state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum VaultState {
    Ready,
    /// A passphrase-protected vault waits for its passphrase.
    NeedsPassphrase,
    /// No vault yet and no keyring: offer to create one with a passphrase.
    KeyringUnavailable {
        error: KontorError,
    },
    /// The vault exists but cannot be opened; `error.code` says why.
    Failed {
        error: KontorError,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AppStatus {
    pub vault: VaultState,
    /// True until the user has finished the welcome screen.
    pub first_run: bool,
    pub data_dir: String,
    pub key_source: Option<KeySourceDto>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AccountSummary {
    pub id: String,
    pub connection_id: String,
    pub bank_name: String,
    pub name: String,
    pub iban: Option<String>,
    pub account_type: AccountType,
    pub currency: String,
    pub balance_booked: Option<String>,
    pub balance_booked_date: Option<String>,
    pub balance_available: Option<String>,
}

impl AccountSummary {
    pub fn from_domain(account: &Account, bank_name: String) -> Self {
        Self {
            id: account.id.to_string(),
            connection_id: account.connection_id.to_string(),
            bank_name,
            name: account.name.clone(),
            iban: account.iban.clone(),
            account_type: account.account_type,
            currency: account.currency.to_string(),
            balance_booked: account.balance_booked.map(|m| m.amount.to_string()),
            balance_booked_date: account.balance_booked_date.map(|d| d.to_string()),
            balance_available: account.balance_available.map(|m| m.amount.to_string()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ConnectionSummary {
    pub id: String,
    pub bank_name: String,
    pub status: ConnectionStatus,
    pub consent_expires_at: Option<String>,
    pub last_synced_at: Option<String>,
}

impl ConnectionSummary {
    pub fn from_domain(c: &Connection) -> Self {
        Self {
            id: c.id.to_string(),
            bank_name: c.bank_name.clone(),
            status: c.status,
            consent_expires_at: c.consent_expires_at.map(|t| t.to_rfc3339()),
            last_synced_at: c.last_synced_at.map(|t| t.to_rfc3339()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct CurrencyTotal {
    pub currency: String,
    pub amount: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Overview {
    pub accounts: Vec<AccountSummary>,
    pub totals: Vec<CurrencyTotal>,
    pub connections: Vec<ConnectionSummary>,
}
