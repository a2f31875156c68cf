//! Transport types: what crosses IPC to the UI and JSON lines to CLI clients.
//!
//! Amounts travel as decimal strings (`"-12.34"`), dates as `YYYY-MM-DD`, timestamps as RFC 3339.
//! Every type here derives `ts_rs::TS`; `ui/src/bindings.ts` is generated from them.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::domain::{
    Account, AccountType, BookingStatus, Connection, ConnectionStatus, Direction, PendingMatch, Transaction,
    TransactionId,
};
use crate::error::KontorError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum KeySourceDto {
    Keyring,
    Passphrase,
}

impl From<KeySourceDto> for crate::vault::KeySource {
    fn from(source: KeySourceDto) -> Self {
        match source {
            KeySourceDto::Keyring => Self::Keyring,
            KeySourceDto::Passphrase => Self::Passphrase,
        }
    }
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
        cause: KeyringCause,
    },
    /// The vault exists but cannot be opened; `error.code` says why.
    Failed {
        error: KontorError,
    },
}

/// Why no keyring answered, as far as Kontor can tell; the UI explains each in the user's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum KeyringCause {
    /// The process has no D-Bus session bus (started under `xvfb-run`, over SSH, in a container), so the
    /// Secret Service cannot be reached at all; inside a desktop session it would be.
    NoSessionBus,
    /// A session bus exists, but the keyring service did not answer or refused; `error` has its words.
    ServiceFailed,
}

impl KeyringCause {
    /// Tells the two apart from the process environment: the session bus is found through
    /// `DBUS_SESSION_BUS_ADDRESS`, or at its default place `$XDG_RUNTIME_DIR/bus`.
    pub fn from_environment(bus_address: Option<&std::ffi::OsStr>, runtime_dir: Option<&std::path::Path>) -> Self {
        let has_address = bus_address.is_some_and(|a| !a.is_empty());
        let has_default_bus = runtime_dir.is_some_and(|dir| dir.join("bus").exists());
        if has_address || has_default_bus { Self::ServiceFailed } else { Self::NoSessionBus }
    }
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
    /// The bank's own name when the user gave the account another (`name` is then the user's).
    #[serde(default)]
    #[ts(optional)]
    pub bank_account_name: Option<String>,
    /// Another account in the overview with the same IBAN (a one-time import of an account another
    /// connection also holds): this one is left out of the total.
    #[serde(default)]
    #[ts(optional)]
    pub duplicate_of: Option<String>,
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
            bank_account_name: None,
            duplicate_of: None,
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
    /// Whole days until the consent ends (negative: ended), when known.
    #[serde(default)]
    #[ts(optional, type = "number")]
    pub consent_days_left: Option<i64>,
    /// finX ongoing access: when access is lost without activity (the refresh token's 90 days; each
    /// sync renews it).
    #[serde(default)]
    #[ts(optional)]
    pub access_expires_at: Option<String>,
    /// What the user should know about the deadlines, from [`CONSENT_WARNING_DAYS`] before the consent
    /// ends or access is lost for inactivity: codes with parameters, worded by the UI.
    #[serde(default)]
    pub deadline_warnings: Vec<DeadlineWarning>,
    /// `finx_onetime`, `finx_ongoing`, or absent (finAPI).
    #[serde(default)]
    #[ts(optional)]
    pub access_kind: Option<String>,
}

/// A deadline of a connection the user should act on; the UI words each in the user's language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum DeadlineWarning {
    /// The bank's consent ends in `days_left` days: renew it before then.
    ConsentEnds {
        #[ts(type = "number")]
        days_left: i64,
    },
    /// The bank's consent has ended: renew it to see new data.
    ConsentEnded,
    /// finX ongoing access is lost in `days_left` days without a sync (90 idle days).
    AccessEnds {
        #[ts(type = "number")]
        days_left: i64,
    },
    /// finX ongoing access was lost after 90 days without a sync.
    AccessLost,
}

/// How many days ahead Kontor warns that a consent ends or an access is lost for inactivity.
pub const CONSENT_WARNING_DAYS: i64 = 21;

impl ConnectionSummary {
    pub fn from_domain(c: &Connection) -> Self {
        let access_kind = match c.interface.as_deref() {
            Some(crate::api::finx::ONETIME_INTERFACE) => Some("finx_onetime".to_owned()),
            Some(crate::api::finx::ONGOING_INTERFACE) => Some("finx_ongoing".to_owned()),
            _ => None,
        };
        Self {
            id: c.id.to_string(),
            bank_name: c.bank_name.clone(),
            status: c.status,
            consent_expires_at: c.consent_expires_at.map(|t| t.to_rfc3339()),
            last_synced_at: c.last_synced_at.map(|t| t.to_rfc3339()),
            consent_days_left: None,
            access_expires_at: None,
            deadline_warnings: Vec::new(),
            access_kind,
        }
    }

    /// Fills in the days left and the warning as of `now`; `access_expires_at` is the inactivity
    /// deadline of a finX ongoing access.
    pub fn with_deadlines(
        mut self,
        c: &Connection,
        now: chrono::DateTime<chrono::Utc>,
        access_expires_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Self {
        let days = |at: chrono::DateTime<chrono::Utc>| (at - now).num_days();
        self.consent_days_left = c.consent_expires_at.map(days);
        self.access_expires_at = access_expires_at.map(|t| t.to_rfc3339());
        let mut warnings = Vec::new();
        if let Some(left) = self.consent_days_left {
            if left < 0 {
                warnings.push(DeadlineWarning::ConsentEnded);
            } else if left <= CONSENT_WARNING_DAYS {
                warnings.push(DeadlineWarning::ConsentEnds { days_left: left });
            }
        }
        if let Some(at) = access_expires_at {
            let left = days(at);
            if left < 0 {
                warnings.push(DeadlineWarning::AccessLost);
            } else if left <= CONSENT_WARNING_DAYS {
                warnings.push(DeadlineWarning::AccessEnds { days_left: left });
            }
        }
        self.deadline_warnings = warnings;
        self
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

/// Which transactions to list, total or export. Every field is optional; amounts are decimal
/// strings, dates `YYYY-MM-DD`. `after` is the `next` cursor of the previous page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TransactionQuery {
    /// Only these accounts (ids from the overview); empty or absent: all.
    #[serde(default)]
    #[ts(optional)]
    pub accounts: Option<Vec<String>>,
    #[serde(default)]
    #[ts(optional)]
    pub from: Option<String>,
    #[serde(default)]
    #[ts(optional)]
    pub to: Option<String>,
    #[serde(default)]
    #[ts(optional)]
    pub min_amount: Option<String>,
    #[serde(default)]
    #[ts(optional)]
    pub max_amount: Option<String>,
    #[serde(default)]
    #[ts(optional)]
    pub direction: Option<Direction>,
    #[serde(default)]
    #[ts(optional)]
    pub status: Option<BookingStatus>,
    /// Search words (prefixes of words in counterparty, IBAN, purpose, kind).
    #[serde(default)]
    #[ts(optional)]
    pub text: Option<String>,
    #[serde(default)]
    #[ts(optional)]
    pub after: Option<String>,
    /// `min_amount`/`max_amount` bound the amount's size whatever its sign (see the store's filter).
    #[serde(default)]
    #[ts(optional)]
    pub amounts_as_magnitudes: Option<bool>,
    /// Oldest first instead of newest first (to jump to the start of the history).
    #[serde(default)]
    #[ts(optional)]
    pub oldest_first: Option<bool>,
    /// Rows per page (default 100, at most 1000).
    #[serde(default)]
    #[ts(optional)]
    pub limit: Option<u32>,
}

/// One booking in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TransactionRow {
    #[ts(type = "number")]
    pub id: i64,
    pub account_id: String,
    pub booking_date: String,
    pub value_date: Option<String>,
    pub amount: String,
    pub currency: String,
    pub status: BookingStatus,
    pub counterparty_name: Option<String>,
    pub counterparty_iban: Option<String>,
    pub purpose: Option<String>,
    pub kind: Option<String>,
    /// The account's booked balance after this booking (`None` for pending rows and where it is not
    /// known exactly: see `store::running_balance`).
    pub running_balance: Option<String>,
}

impl TransactionRow {
    pub fn from_domain(id: TransactionId, t: &Transaction, running_balance: Option<Decimal>) -> Self {
        Self {
            id: id.0,
            account_id: t.account_id.to_string(),
            booking_date: t.booking_date.to_string(),
            value_date: t.value_date.map(|d| d.to_string()),
            amount: t.amount.amount.to_string(),
            currency: t.amount.currency.to_string(),
            status: t.status,
            counterparty_name: t.counterparty.name.clone(),
            counterparty_iban: t.counterparty.iban.clone(),
            purpose: t.purpose.clone(),
            kind: t.kind.clone(),
            running_balance: running_balance.map(|b| b.to_string()),
        }
    }
}

/// Count and exact sum of the whole filtered set in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TransactionTotal {
    pub currency: String,
    #[ts(type = "number")]
    pub count: u64,
    pub sum: String,
}

/// A page of a transaction list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TransactionPage {
    pub transactions: Vec<TransactionRow>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
    /// Count and sum of the whole filtered set per currency (not only this page); computed for the
    /// first page (no `after`) and absent on later pages, whose set is the same.
    pub totals: Option<Vec<TransactionTotal>>,
}

/// One booking with every field Kontor stores, the provider's raw JSON included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TransactionDetail {
    #[ts(type = "number")]
    pub id: i64,
    pub account_id: String,
    pub account_name: Option<String>,
    pub bank_name: Option<String>,
    pub provider_id: String,
    pub booking_date: String,
    pub value_date: Option<String>,
    pub amount: String,
    pub currency: String,
    pub status: BookingStatus,
    pub counterparty_name: Option<String>,
    pub counterparty_iban: Option<String>,
    pub counterparty_bic: Option<String>,
    pub purpose: Option<String>,
    pub kind: Option<String>,
    /// The account's booked balance after this booking, as in [`TransactionRow`].
    pub running_balance: Option<String>,
    /// The provider's JSON for this booking, as received.
    pub raw: Option<String>,
    pub first_seen_at: Option<String>,
    pub updated_at: Option<String>,
    /// Set when a sync turned a pending booking into this one: the rule and the fields it compared.
    pub pending_match: Option<PendingMatch>,
}

/// Money in and out of one account in one month (`YYYY-MM`); `spending` is negative or zero.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct MonthlyFlow {
    pub account_id: String,
    pub month: String,
    pub currency: String,
    #[ts(type = "number")]
    pub count: u64,
    pub income: String,
    pub spending: String,
}

/// An account's booked balance at the end of a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct BalancePoint {
    pub date: String,
    pub balance: String,
}
