//! Warnings a sync records beside its outcome: codes with parameters, never sentences.
//!
//! The core decides *what* happened; the UI (and the CLI) say it in the user's language. A warning
//! travels in `FlowUpdate::Done`, in the sync journal (stored as JSON) and in the sync history.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Something the user should know about a sync that still succeeded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum SyncWarning {
    /// The bank could not send new data for this account (its other accounts synced).
    AccountNotDelivered { account_name: String },
    /// Bookings the bank withdrew were removed from the vault.
    WithdrawnRemoved { count: u32 },
    /// Bookings for accounts Kontor does not know were skipped.
    UnknownAccountSkipped { count: u32 },
    /// The previous balance plus the booked changes differs from the balance the bank reports.
    /// Amounts are exact decimal strings (as Money is written elsewhere) in the account's currency.
    BalanceMismatch { account_id: String, account_name: String, expected: String, reported: String, currency: String },
}
