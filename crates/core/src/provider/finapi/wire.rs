//! finAPI's JSON as it is on the wire (Access v1 and v2), parsed tolerantly.
//!
//! Rules:
//!
//! - Unknown fields are ignored; every field that is not an id is `Option` or has a default, and an
//!   explicit `null` is treated like an absent field (v1 sends `null` for every unset key, v2 omits
//!   them). Lists accept `null` as empty ([`null_vec`]).
//! - v1 and v2 names are both accepted where they differ (`interface` / `bankingInterface`).
//! - Amounts never pass through a float: [`parse`] first rewrites every non-integer JSON number into
//!   a JSON string with exactly the same digits ([`quote_decimals`]), and the DTOs read decimals from
//!   strings or integers ([`decimal`]). Timestamps and dates stay text here; `map.rs` reads them.
//! - These types never leave `provider::finapi`.

use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::KontorError;

pub use crate::provider::json::{decimal, null_vec, quote_decimals};

/// Parses a finAPI response body; see [`crate::provider::json::parse_body`].
pub fn parse<T: DeserializeOwned>(body: &str, what: &str) -> Result<T, KontorError> {
    crate::provider::json::parse_body(body, "finAPI", what)
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Token {
    pub access_token: String,
    pub token_type: Option<String>,
    pub refresh_token: Option<String>,
    pub expires_in: Option<i64>,
}

/// The OAuth error shape (`error_description`, or v1's `errorDescription`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct OauthError {
    pub error: Option<String>,
    pub error_description: Option<String>,
    #[serde(rename = "errorDescription")]
    pub error_description_v1: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct User {
    pub id: String,
    pub password: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Paging {
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    pub page_count: Option<i64>,
    pub total_count: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct LoginCredential {
    pub label: Option<String>,
    pub is_secret: Option<bool>,
    pub is_volatile: Option<bool>,
    pub is_mandatory: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct BankInterface {
    pub banking_interface: Option<String>,
    /// v1 name of `bankingInterface`.
    pub interface: Option<String>,
    #[serde(deserialize_with = "null_vec")]
    pub login_credentials: Vec<LoginCredential>,
    #[serde(deserialize_with = "null_vec")]
    pub properties: Vec<String>,
    pub login_hint: Option<String>,
    pub health: Option<i64>,
    pub is_ais_supported: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Bank {
    pub id: i64,
    pub name: Option<String>,
    pub blz: Option<String>,
    pub bic: Option<String>,
    pub city: Option<String>,
    pub location: Option<String>,
    pub is_test_bank: Option<bool>,
    pub popularity: Option<i64>,
    #[serde(deserialize_with = "null_vec")]
    pub interfaces: Vec<BankInterface>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct BankList {
    #[serde(deserialize_with = "null_vec")]
    pub banks: Vec<Bank>,
    pub paging: Option<Paging>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TwoStepProcedure {
    pub procedure_id: Option<String>,
    pub procedure_name: Option<String>,
    pub procedure_challenge_type: Option<String>,
    pub implicit_execute: Option<bool>,
}

/// `errors[0].multiStepAuthentication` of a 510.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct MultiStepAuthentication {
    pub hash: Option<String>,
    pub status: Option<String>,
    pub challenge_message: Option<String>,
    pub answer_field_label: Option<String>,
    pub redirect_url: Option<String>,
    pub redirect_context: Option<String>,
    pub redirect_context_field: Option<String>,
    #[serde(deserialize_with = "null_vec")]
    pub two_step_procedures: Vec<TwoStepProcedure>,
    pub photo_tan_mime_type: Option<String>,
    pub photo_tan_data: Option<String>,
    pub optical_data: Option<String>,
    pub optical_data_as_reiner_sct: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ErrorDetails {
    pub message: Option<String>,
    pub code: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub multi_step_authentication: Option<MultiStepAuthentication>,
}

/// finAPI's error envelope (`ErrorMessage`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ErrorMessage {
    #[serde(deserialize_with = "null_vec")]
    pub errors: Vec<ErrorDetails>,
    pub date: Option<String>,
    pub request_id: Option<String>,
    pub endpoint: Option<String>,
    pub bank: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AisConsent {
    pub status: Option<String>,
    pub expires_at: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct UpdateResult {
    pub result: Option<String>,
    pub error_message: Option<String>,
    pub error_type: Option<String>,
    pub timestamp: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ConnectionInterface {
    pub banking_interface: Option<String>,
    pub interface: Option<String>,
    /// `[{label, value}]`: secrets come back as `XXXXX`, `value` is null when finAPI keeps none.
    /// `None` when the answer has no such list.
    pub login_credentials: Option<Vec<StoredCredential>>,
    pub ais_consent: Option<AisConsent>,
    pub last_manual_update: Option<UpdateResult>,
    pub last_auto_update: Option<UpdateResult>,
    pub user_action_required: Option<bool>,
}

/// One login field of a connection's interface as finAPI keeps it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct StoredCredential {
    pub label: Option<String>,
    pub value: Option<String>,
}

/// A page of `GET /api/v2/pendingTransactions`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PendingTransactionPage {
    #[serde(deserialize_with = "null_vec")]
    pub pending_transactions: Vec<serde_json::Value>,
    pub paging: Option<Paging>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct BankConnection {
    pub id: i64,
    pub name: Option<String>,
    pub update_status: Option<String>,
    pub categorization_status: Option<String>,
    #[serde(deserialize_with = "null_vec")]
    pub interfaces: Vec<ConnectionInterface>,
    #[serde(deserialize_with = "null_vec")]
    pub account_ids: Vec<i64>,
    pub bank: Option<Bank>,
    /// v1 only.
    pub bank_id: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AccountInterface {
    pub banking_interface: Option<String>,
    pub interface: Option<String>,
    pub status: Option<String>,
    pub last_successful_update: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Account {
    pub id: i64,
    pub bank_connection_id: Option<i64>,
    pub account_name: Option<String>,
    pub iban: Option<String>,
    pub account_number: Option<String>,
    pub sub_account_number: Option<String>,
    pub account_holder_name: Option<String>,
    pub account_currency: Option<String>,
    pub account_type: Option<String>,
    /// v1 only (1 Checking … 8 Bausparen).
    pub account_type_id: Option<i64>,
    #[serde(deserialize_with = "decimal::deserialize")]
    pub balance: Option<Decimal>,
    #[serde(deserialize_with = "decimal::deserialize")]
    pub overdraft: Option<Decimal>,
    #[serde(deserialize_with = "decimal::deserialize")]
    pub overdraft_limit: Option<Decimal>,
    #[serde(deserialize_with = "decimal::deserialize")]
    pub available_funds: Option<Decimal>,
    #[serde(deserialize_with = "null_vec")]
    pub interfaces: Vec<AccountInterface>,
    /// v1 only: top-level status.
    pub status: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AccountList {
    #[serde(deserialize_with = "null_vec")]
    pub accounts: Vec<Account>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Transaction {
    pub id: i64,
    pub account_id: i64,
    pub parent_id: Option<i64>,
    pub value_date: Option<String>,
    pub bank_booking_date: Option<String>,
    pub finapi_booking_date: Option<String>,
    #[serde(deserialize_with = "decimal::deserialize")]
    pub amount: Option<Decimal>,
    pub currency: Option<String>,
    pub purpose: Option<String>,
    pub counterpart_name: Option<String>,
    pub counterpart_iban: Option<String>,
    pub counterpart_bic: Option<String>,
    pub counterpart_account_number: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub is_potential_duplicate: Option<bool>,
    pub is_adjusting_entry: Option<bool>,
    pub import_date: Option<String>,
}

/// A page of transactions; rows stay JSON values so each one's raw text can be kept.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TransactionPage {
    #[serde(deserialize_with = "null_vec")]
    pub transactions: Vec<serde_json::Value>,
    pub paging: Option<Paging>,
}

/// `multiStepAuthentication` of a request.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MsaCallback {
    pub hash: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub two_step_procedure_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub challenge_response: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_callback: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decoupled_callback: Option<bool>,
}
