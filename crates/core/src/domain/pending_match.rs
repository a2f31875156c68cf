//! Why a booked transaction took over a pending one: the rule that matched and the fields it compared.
//!
//! Recorded once, when a sync turns a pending row into a booked one, stored with the row and shown in
//! the transaction's details, so a user can see why Kontor considered the two the same booking.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Which rule made a booked row the successor of a pending one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum MatchRule {
    /// The bank delivered the booked row under the pending row's own id.
    ProviderId,
    /// The bank no longer delivers the pending row and delivered exactly one new booked row that fits
    /// it (same account and amount, counterparty and purpose compatible, booked 2 days before to
    /// 7 days after the pending date), which fits no other pending row.
    SameBooking,
}

/// A field the rule compared and found equal (or compatible, for the purpose).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum MatchField {
    Amount,
    CounterpartyName,
    CounterpartyIban,
    Purpose,
}

/// The record of one pending → booked match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PendingMatch {
    pub rule: MatchRule,
    /// The pending row's provider id.
    pub pending_provider_id: String,
    /// The pending row's booking date (`YYYY-MM-DD`).
    pub pending_date: String,
    /// Booking date of the booked row minus the pending date, in days.
    #[ts(type = "number")]
    pub days_apart: i64,
    /// The fields compared (empty for [`MatchRule::ProviderId`]).
    pub fields: Vec<MatchField>,
}
