//! finX's JSON as it is on the wire, parsed tolerantly (finx.md §11, "Rust client advice").
//!
//! Rules:
//!
//! - Unknown fields are ignored. Every field is `Option` or has a default, an explicit `null` counts
//!   as absent, and lists accept `null` as empty ([`null_vec`]). Required-ness (ids, amounts) is
//!   checked in `map.rs`, where a missing value becomes a readable error.
//! - Ids are opaque strings but are accepted as JSON numbers too (old SDKs: challenge `id=1.0`).
//! - Amounts never pass through a float: [`parse`] first rewrites every non-integer JSON number into
//!   a JSON string with exactly the same digits (`quote_decimals`, in `provider::json`),
//!   and decimals are read from strings or integers ([`decimal`]).
//! - Field-name drift is absorbed with *separate* fields coalesced in `map.rs` (serde aliases would
//!   fail on a row that carries both names): pre-v4 `booking_date`/`value_date`/`creation_timestamp`/
//!   `modification_timestamp` next to v4 `booked_at`/`settled_at`/`created_at`/`modified_at`;
//!   `save_credentials` next to `save_secrets`; `redirect-uri` next to `location`.
//! - Timestamps and dates stay text here; `map.rs` reads both `YYYY-MM-DD` and RFC 3339.
//! - These types never leave `provider::finx`.

use serde::de::{DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{ErrorCode, KontorError};
pub use crate::provider::json::{decimal, null_vec};
use rust_decimal::Decimal;

/// Parses a finX response body; see [`crate::provider::json::parse_body`].
pub fn parse<T: DeserializeOwned>(body: &str, what: &str) -> Result<T, KontorError> {
    crate::provider::json::parse_body(body, "finX", what)
}

/// An id sent as a string or a number (`"L1.3"`, `7`, `1.0` — the last arrives quoted after
/// `quote_decimals`); `null` → `None`.
pub fn lenient_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// A list of ids, each a string or a number; `null` → empty.
pub fn lenient_ids<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let values: Vec<Value> = null_vec(d)?;
    Ok(values
        .into_iter()
        .filter_map(|v| match v {
            Value::String(s) => Some(s),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .collect())
}

/// An integer sent as a number or a numeric string; anything else → `None`.
pub fn lenient_int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => {
            let s = s.trim();
            s.parse::<i64>().ok().or_else(|| s.parse::<Decimal>().ok().and_then(|d| i64::try_from(d.trunc()).ok()))
        }
        _ => None,
    })
}

/// A boolean sent as `true`/`false` or as the strings `"true"`/`"false"`.
pub fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Bool(b)) => Some(b),
        Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" => Some(false),
            _ => None,
        },
        _ => None,
    })
}

/// A list that may come bare (`[…]`, the v4 spec) or wrapped in an object under `key`
/// (`{"accesses":[…]}`, one SDK helper) — finx.md §11.10.
pub fn parse_list<T: DeserializeOwned>(body: &str, key: &str, what: &str) -> Result<Vec<T>, KontorError> {
    let value: Value = parse(body, what)?;
    let list = match value {
        Value::Array(_) => value,
        Value::Object(mut map) => map.remove(key).unwrap_or(Value::Array(Vec::new())),
        Value::Null => Value::Array(Vec::new()),
        _ => {
            return Err(KontorError::new(
                ErrorCode::ProviderResponseInvalid,
                format!("finX sent an answer Kontor cannot read ({what}: not a list)."),
            ));
        }
    };
    if list.is_null() {
        return Ok(Vec::new());
    }
    serde_json::from_value(list).map_err(|e| {
        KontorError::new(
            ErrorCode::ProviderResponseInvalid,
            format!("finX sent an answer Kontor cannot read ({what}: {e})."),
        )
    })
}

// ---------------------------------------------------------------------------------------------
// Widget links and tokens
// ---------------------------------------------------------------------------------------------

/// `{location, id}` from `POST /onetime/access`, `/ongoing/access`, `/onetime/income-report`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct WidgetLink {
    pub location: Option<String>,
    #[serde(deserialize_with = "lenient_id")]
    pub id: Option<String>,
}

/// A one-time or ongoing access account hint: `{"id": "<IBAN or account no or PAN>"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountHint {
    pub id: String,
}

/// `POST /auth/token` answer.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Token {
    pub access_token: Option<String>,
    pub token_type: Option<String>,
    #[serde(deserialize_with = "lenient_int")]
    pub expires_in: Option<i64>,
    pub scope: Option<String>,
    pub refresh_token: Option<String>,
    /// Not documented; read if a deployment sends it.
    #[serde(deserialize_with = "lenient_int")]
    pub refresh_expires_in: Option<i64>,
}

/// The body inside finX's error envelope `{"error": {...}}`, also the `error` of a FAILED sync.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ErrorBody {
    #[serde(deserialize_with = "lenient_int")]
    pub code: Option<i64>,
    pub group: Option<String>,
    pub name: Option<String>,
    /// The bank's original text (sync errors).
    pub message: Option<String>,
    pub description: Option<String>,
    /// Field name → messages for validation errors.
    pub data: Option<Value>,
}

// ---------------------------------------------------------------------------------------------
// Accesses, accounts, balances, transactions
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Consent {
    #[serde(deserialize_with = "lenient_bool")]
    pub recurring: Option<bool>,
    /// Days.
    #[serde(deserialize_with = "lenient_int")]
    pub period: Option<i64>,
    #[serde(deserialize_with = "null_vec")]
    pub scopes: Vec<String>,
    pub expires_at: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AuthMethod {
    #[serde(deserialize_with = "lenient_id")]
    pub id: Option<String>,
    pub medium_name: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub name: Option<String>,
    pub additional_info: Option<Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Access {
    #[serde(deserialize_with = "lenient_id")]
    pub id: Option<String>,
    #[serde(deserialize_with = "lenient_id")]
    pub access_method_id: Option<String>,
    #[serde(deserialize_with = "lenient_id")]
    pub provider_id: Option<String>,
    pub provider: Option<Provider>,
    #[serde(deserialize_with = "lenient_bool")]
    pub save_credentials: Option<bool>,
    #[serde(deserialize_with = "lenient_bool")]
    pub save_secrets: Option<bool>,
    pub created_at: Option<String>,
    #[serde(deserialize_with = "null_vec")]
    pub auth_methods: Vec<AuthMethod>,
    pub consent: Option<Consent>,
    pub status: Option<SyncState>,
    #[serde(deserialize_with = "lenient_bool")]
    pub auto_sync: Option<bool>,
    /// The access's account ids (Demo Bank and some deployments).
    #[serde(deserialize_with = "lenient_ids")]
    pub accounts: Vec<String>,
    #[serde(deserialize_with = "lenient_id")]
    pub selected_auth_method: Option<String>,
    /// Not in the public contract; read when present (the 90-day inactivity rule).
    pub last_activity_at: Option<String>,
    pub last_activity: Option<String>,
    pub synced_at: Option<String>,
    pub succeeded_at: Option<String>,
}

/// `provider` when an access is fetched with `embed=provider`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Provider {
    #[serde(deserialize_with = "lenient_id")]
    pub id: Option<String>,
    pub name: Option<String>,
    pub bic: Option<String>,
    pub bank_code: Option<String>,
}

/// `{synced_at, succeeded_at, message}` on accounts, balances and transaction lists.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SyncState {
    pub synced_at: Option<String>,
    pub succeeded_at: Option<String>,
    pub message: Option<String>,
    pub code: Option<Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Balance {
    #[serde(deserialize_with = "decimal::deserialize")]
    pub balance: Option<Decimal>,
    pub balance_date: Option<String>,
    #[serde(deserialize_with = "decimal::deserialize")]
    pub credit_line: Option<Decimal>,
    /// Not documented for finX (finx.md §4.2, "no booked/available split"); read when present.
    #[serde(deserialize_with = "decimal::deserialize")]
    pub available: Option<Decimal>,
    pub status: Option<SyncState>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Account {
    #[serde(deserialize_with = "lenient_id")]
    pub account_id: Option<String>,
    #[serde(deserialize_with = "lenient_id")]
    pub access_id: Option<String>,
    pub name: Option<String>,
    pub owner: Option<String>,
    pub iban: Option<String>,
    pub bic: Option<String>,
    pub account_number: Option<String>,
    pub bank_code: Option<String>,
    pub bank_name: Option<String>,
    pub currency: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub balance: Option<Balance>,
    pub status: Option<SyncState>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AccountList {
    #[serde(deserialize_with = "null_vec")]
    pub accounts: Vec<Account>,
}

/// One transaction. Everything but `transaction_id` and `amount` is optional (finx.md §4.3).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Transaction {
    #[serde(deserialize_with = "lenient_id")]
    pub transaction_id: Option<String>,
    #[serde(deserialize_with = "lenient_id")]
    pub account_id: Option<String>,
    #[serde(deserialize_with = "decimal::deserialize")]
    pub amount: Option<Decimal>,
    pub currency: Option<String>,
    #[serde(deserialize_with = "lenient_bool")]
    pub booked: Option<bool>,
    pub booked_at: Option<String>,
    pub settled_at: Option<String>,
    pub created_at: Option<String>,
    pub modified_at: Option<String>,
    /// Pre-v4 names (finx.md §4.3 "field-name drift"); separate fields, not aliases, so a row carrying
    /// both generations still parses.
    pub booking_date: Option<String>,
    pub value_date: Option<String>,
    pub creation_timestamp: Option<String>,
    pub modification_timestamp: Option<String>,
    /// The counterparty's name.
    pub name: Option<String>,
    pub iban: Option<String>,
    pub bic: Option<String>,
    pub purpose: Option<String>,
    pub booking_text: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// `GET /rest/transactions`: the rows stay JSON so each row's raw text can be kept.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TransactionList {
    #[serde(deserialize_with = "null_vec")]
    pub transactions: Vec<Value>,
    #[serde(deserialize_with = "lenient_ids")]
    pub deleted: Vec<String>,
    pub status: Option<SyncState>,
}

// ---------------------------------------------------------------------------------------------
// Synchronizations and challenges
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Challenge {
    #[serde(deserialize_with = "lenient_id")]
    pub id: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub created_at: Option<String>,
    // METHOD_SELECTION
    #[serde(deserialize_with = "null_vec")]
    pub auth_methods: Vec<AuthMethod>,
    // EMBEDDED
    pub format: Option<String>,
    pub data: Option<String>,
    pub version: Option<String>,
    pub label: Option<String>,
    pub additional_info: Option<Value>,
    pub input_format: Option<String>,
    #[serde(deserialize_with = "lenient_int")]
    pub min_length: Option<i64>,
    #[serde(deserialize_with = "lenient_int")]
    pub max_length: Option<i64>,
    // REDIRECT
    pub location: Option<String>,
    /// The pre-draft-4 name of `location`.
    #[serde(rename = "redirect-uri")]
    pub redirect_uri_legacy: Option<String>,
    // DECOUPLED
    pub message: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Sync {
    #[serde(deserialize_with = "lenient_id")]
    pub id: Option<String>,
    pub status: Option<String>,
    pub created_at: Option<String>,
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
    pub challenge: Option<Challenge>,
    pub error: Option<ErrorBody>,
}

// ---------------------------------------------------------------------------------------------
// Income report (finx.md §7.1)
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Figures {
    #[serde(deserialize_with = "decimal::deserialize")]
    pub total: Option<Decimal>,
    #[serde(deserialize_with = "decimal::deserialize")]
    pub low: Option<Decimal>,
    #[serde(deserialize_with = "decimal::deserialize")]
    pub high: Option<Decimal>,
    #[serde(deserialize_with = "decimal::deserialize")]
    pub average: Option<Decimal>,
    #[serde(deserialize_with = "lenient_int")]
    pub count: Option<i64>,
    #[serde(deserialize_with = "decimal::deserialize")]
    pub ratio: Option<Decimal>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Category {
    #[serde(deserialize_with = "lenient_id")]
    pub id: Option<String>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Stream {
    pub category: Option<Category>,
    pub first_booked_on: Option<String>,
    pub last_booked_on: Option<String>,
    /// A name, or an object with a `name`.
    pub payment_partner: Option<Value>,
    pub summary: Option<Figures>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct StreamGroup {
    pub category: Option<Category>,
    pub summary: Option<Figures>,
    #[serde(deserialize_with = "null_vec")]
    pub streams: Vec<Stream>,
    pub primary: Option<Stream>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct IncomeReport {
    #[serde(deserialize_with = "lenient_id")]
    pub id: Option<String>,
    #[serde(deserialize_with = "lenient_int")]
    pub period: Option<i64>,
    pub currency: Option<String>,
    pub income: Option<StreamGroup>,
    #[serde(deserialize_with = "null_vec")]
    pub regular_expenses: Vec<StreamGroup>,
    #[serde(deserialize_with = "null_vec")]
    pub variable_expenses: Vec<StreamGroup>,
    pub disposable_income: Option<Figures>,
    pub discretionary_income: Option<Figures>,
}
