//! Accesses, accounts, balances and transactions (finx.md §4), all with `Authorization: Bearer`.
//!
//! A token sees only the accesses of its finX user. Transactions: `count` (1–1000, default 1000) / `offset`
//! paging, `sort` (`desc` default), `since` (date inclusive, RFC 3339 time inclusive, or a transaction id,
//! exclusive) with `since_type` (`booked` default, `created`, `modified`), `until` (booked on or before),
//! `accounts` (comma-separated), `include_pending` (pending rows ignore `since`/`until` but are sorted and paged
//! with the rest), `include_statistics`, and a `deleted` list of removed ids (on every page).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::FinxShared;
use super::errors::{FinxError, FinxResult, json_response};
use super::links::opt;
use super::store::{Access, Account, FinxStore, SyncStatus, Tx};
use super::tokens::authenticate;
use crate::data::BookingKind;
use crate::json::{money, money_opt};

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn status_json(status: &SyncStatus) -> Value {
    json!({
        "synced_at": status.synced_at.map(time),
        "succeeded_at": status.succeeded_at.map(time),
        "message": opt(status.message.as_deref()),
    })
}

/// The Access object.
pub fn access_json(access: &Access) -> Value {
    json!({
        "id": access.id,
        "provider_id": access.provider.id,
        "access_method_id": access.provider.id,
        "save_credentials": access.save_secrets,
        "created_at": time(access.created_at),
        "auth_methods": access.provider.methods.iter().map(|m| json!({
            "id": m.id, "medium_name": opt(m.medium_name), "type": m.kind, "additional_info": {"name": m.name}
        })).collect::<Vec<_>>(),
        "selected_auth_method": access.last_method.map(|m| m.id),
        "consent": {
            "recurring": access.ongoing,
            "period": access.consent_period,
            "scopes": ["ACCOUNTS", "BALANCES", "TRANSACTIONS"],
            "expires_at": time(access.consent_expires_at),
        },
        "status": status_json(&access.status),
        "accounts": access.accounts.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
    })
}

fn balance_json(access: &Access, account: &Account) -> Value {
    json!({
        "balance": money(account.balance),
        "balance_date": access.status.succeeded_at.map(time),
        "credit_line": money_opt(account.credit_line),
        "status": status_json(&access.status),
    })
}

/// The Account object.
pub fn account_json(access: &Access, account: &Account) -> Value {
    json!({
        "account_id": account.id,
        "access_id": access.id,
        "name": account.name,
        "owner": account.owner,
        "iban": account.iban,
        "bic": access.provider.bic,
        "account_number": account.account_number,
        "bank_code": access.provider.bank_code,
        "bank_name": access.provider.name,
        "currency": "EUR",
        "type": account.finx_type(),
        "balance": balance_json(access, account),
        "status": status_json(&access.status),
        "auto_sync": access.ongoing,
        "save_pin": access.save_secrets,
        "is_jointly_managed": false,
        "supported_payments": {},
        "icon": {"url": Value::Null, "resolutions": {}},
    })
}

fn finx_type(kind: BookingKind) -> &'static str {
    match kind {
        BookingKind::Salary => "Salary or rent",
        BookingKind::StandingOrder => "Standing order",
        BookingKind::DirectDebit => "Direct debit",
        BookingKind::TransferIn | BookingKind::TransferOut => "Transfer",
        BookingKind::Interest => "Charges or interest",
        BookingKind::CardPayment => "Unknown",
    }
}

/// The Transaction object.
pub fn transaction_json(account: &Account, tx: &Tx) -> Value {
    let booking = &tx.booking;
    let counterpart = booking.counterpart.as_ref();
    json!({
        "transaction_id": tx.id,
        "account_id": account.id,
        "amount": money(booking.amount),
        "currency": "EUR",
        "booked": tx.booked,
        "booked_at": booking.booking_date.format("%Y-%m-%d").to_string(),
        "settled_at": booking.value_date.format("%Y-%m-%d").to_string(),
        "name": counterpart.map(|c| c.name.clone()),
        "iban": counterpart.and_then(|c| c.iban.clone()),
        "bic": counterpart.and_then(|c| c.bic.clone()),
        "bank_name": counterpart.and_then(|c| c.bank_name.clone()),
        "purpose": booking.purpose,
        "booking_text": booking.kind.type_text(),
        "type": finx_type(booking.kind),
        "transaction_code": booking.kind.zka_code().parse::<u32>().ok(),
        "sepa_purpose_code": booking.kind.sepa_purpose_code(),
        "end_to_end_reference": booking.end_to_end_reference,
        "mandate_reference": counterpart.and_then(|c| c.mandate_reference.clone()),
        "creditor_id": counterpart.and_then(|c| c.creditor_id.clone()),
        "sync_id": tx.sync_id,
        "created_at": time(tx.created_at),
        "modified_at": time(tx.modified_at),
    })
}

pub async fn list_accesses(State(state): State<FinxShared>, headers: HeaderMap) -> FinxResult {
    let store = state.store();
    let user = authenticate(&store, &headers)?;
    let list: Vec<Value> = store.accesses_of(user).map(access_json).collect();
    Ok(json_response(StatusCode::OK, &Value::Array(list)))
}

pub async fn get_access(
    State(state): State<FinxShared>,
    Path(access_id): Path<String>,
    headers: HeaderMap,
) -> FinxResult {
    let store = state.store();
    let user = authenticate(&store, &headers)?;
    let access = store.accesses_of(user).find(|a| a.id == access_id).ok_or_else(|| FinxError::not_found("Access"))?;
    Ok(json_response(StatusCode::OK, &access_json(access)))
}

pub async fn list_accounts(State(state): State<FinxShared>, headers: HeaderMap) -> FinxResult {
    let store = state.store();
    let user = authenticate(&store, &headers)?;
    let list: Vec<Value> = store
        .accesses_of(user)
        .flat_map(|access| access.accounts.iter().map(move |account| account_json(access, account)))
        .collect();
    Ok(json_response(StatusCode::OK, &json!({"accounts": list})))
}

fn account_lookup<'a>(
    store: &'a FinxStore,
    headers: &HeaderMap,
    id: &str,
) -> Result<(&'a Access, &'a Account), FinxError> {
    let user = authenticate(store, headers)?;
    store.account_of(user, id).ok_or_else(|| FinxError::not_found("Account"))
}

pub async fn get_account(
    State(state): State<FinxShared>,
    Path(account_id): Path<String>,
    headers: HeaderMap,
) -> FinxResult {
    let store = state.store();
    let (access, account) = account_lookup(&store, &headers, &account_id)?;
    Ok(json_response(StatusCode::OK, &account_json(access, account)))
}

pub async fn get_balance(
    State(state): State<FinxShared>,
    Path(account_id): Path<String>,
    headers: HeaderMap,
) -> FinxResult {
    let store = state.store();
    let (access, account) = account_lookup(&store, &headers, &account_id)?;
    Ok(json_response(StatusCode::OK, &balance_json(access, account)))
}

/// `DELETE /rest/accounts/{id}`: 204; the last account takes its access with it.
pub async fn delete_account(
    State(state): State<FinxShared>,
    Path(account_id): Path<String>,
    headers: HeaderMap,
) -> FinxResult {
    let mut store = state.store();
    let access_id = account_lookup(&store, &headers, &account_id)?.0.id.clone();
    let mut remove_access = false;
    if let Some(access) = store.accesses.get_mut(&access_id) {
        if access.busy_sync.is_some() {
            return Err(FinxError::new(StatusCode::LOCKED, 1008, "Resource busy: a synchronization is running."));
        }
        access.accounts.retain(|account| account.id != account_id);
        remove_access = access.accounts.is_empty();
    }
    if remove_access {
        store.accesses.remove(&access_id);
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Where `since` points.
enum Since {
    Date(NaiveDate),
    Time(DateTime<Utc>),
    /// (booked date, seq, modified_seq) of the reference transaction.
    Transaction(NaiveDate, u64, u64),
}

pub async fn list_transactions(
    State(state): State<FinxShared>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> FinxResult {
    transactions(&state, &headers, &query, None)
}

pub async fn account_transactions(
    State(state): State<FinxShared>,
    Path(account_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> FinxResult {
    transactions(&state, &headers, &query, Some(&account_id))
}

pub async fn get_transaction(
    State(state): State<FinxShared>,
    Path(transaction_id): Path<String>,
    headers: HeaderMap,
) -> FinxResult {
    one_transaction(&state, &headers, None, &transaction_id)
}

pub async fn account_transaction(
    State(state): State<FinxShared>,
    Path((account_id, transaction_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> FinxResult {
    one_transaction(&state, &headers, Some(&account_id), &transaction_id)
}

fn one_transaction(state: &FinxShared, headers: &HeaderMap, account_id: Option<&str>, id: &str) -> FinxResult {
    let store = state.store();
    let user = authenticate(&store, headers)?;
    store
        .accesses_of(user)
        .flat_map(|access| access.accounts.iter())
        .filter(|account| account_id.is_none_or(|wanted| account.id == wanted))
        .find_map(|account| account.txs.iter().find(|tx| tx.id == id).map(|tx| transaction_json(account, tx)))
        .map(|body| json_response(StatusCode::OK, &body))
        .ok_or_else(|| FinxError::not_found("Transaction"))
}

fn flag(query: &HashMap<String, String>, name: &str) -> Result<bool, FinxError> {
    match query.get(name).map(String::as_str) {
        None | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") | Some("") => Ok(true),
        Some(_) => Err(FinxError::invalid(name, "Not a valid boolean.")),
    }
}

fn transactions(
    state: &FinxShared,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
    account_id: Option<&str>,
) -> FinxResult {
    let store = state.store();
    let user = authenticate(&store, headers)?;
    if let Some(id) = account_id
        && store.account_of(user, id).is_none()
    {
        return Err(FinxError::not_found("Account"));
    }
    let count = match query.get("count") {
        None => 1000,
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=1000).contains(&n) => n,
            _ => return Err(FinxError::invalid("count", "Must be between 1 and 1000.")),
        },
    };
    let offset = match query.get("offset") {
        None => 0,
        Some(text) => text.parse::<usize>().map_err(|_| FinxError::invalid("offset", "Not a valid integer."))?,
    };
    let descending = match query.get("sort").map(String::as_str) {
        None | Some("desc") => true,
        Some("asc") => false,
        Some(_) => return Err(FinxError::invalid("sort", "Must be one of: asc, desc.")),
    };
    let since_type = query.get("since_type").map_or("booked", String::as_str);
    if !["booked", "created", "modified"].contains(&since_type) {
        return Err(FinxError::invalid("since_type", "Must be one of: booked, created, modified."));
    }
    let wanted: Option<Vec<&str>> = query.get("accounts").map(|list| list.split(',').map(str::trim).collect());
    let include_pending = flag(query, "include_pending")?;
    let include_statistics = flag(query, "include_statistics")?;
    let until = match query.get("until") {
        None => None,
        Some(text) => Some(
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map_err(|_| FinxError::invalid("until", "Not a valid date (YYYY-MM-DD)."))?,
        ),
    };
    let accounts: Vec<(&Access, &Account)> = store
        .accesses_of(user)
        .flat_map(|access| access.accounts.iter().map(move |account| (access, account)))
        .filter(|(_, account)| account_id.is_none_or(|id| account.id == id))
        .filter(|(_, account)| wanted.as_ref().is_none_or(|list| list.contains(&account.id.as_str())))
        .collect();
    let since = match query.get("since").map(String::as_str).filter(|s| !s.is_empty()) {
        None => None,
        Some(text) => Some(if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            Since::Date(date)
        } else if let Ok(at) = DateTime::parse_from_rfc3339(text) {
            Since::Time(at.with_timezone(&Utc))
        } else {
            let tx = store
                .accesses_of(user)
                .flat_map(|access| access.accounts.iter())
                .flat_map(|account| account.txs.iter())
                .find(|tx| tx.id == text)
                .ok_or_else(|| FinxError::invalid("since", "Neither a date nor a known transaction id."))?;
            Since::Transaction(tx.booking.booking_date, tx.seq, tx.modified_seq)
        }),
    };
    let after_since = |tx: &Tx| -> bool {
        let Some(since) = &since else { return true };
        match (since, since_type) {
            (Since::Date(date), "booked") => tx.booking.booking_date >= *date,
            (Since::Date(date), "created") => tx.created_at.date_naive() >= *date,
            (Since::Date(date), _) => tx.modified_at.date_naive() >= *date,
            (Since::Time(at), "booked") => tx.booking.booking_date >= at.date_naive(),
            (Since::Time(at), "created") => tx.created_at >= *at,
            (Since::Time(at), _) => tx.modified_at >= *at,
            (Since::Transaction(date, seq, _), "booked") => (tx.booking.booking_date, tx.seq) > (*date, *seq),
            (Since::Transaction(_, seq, _), "created") => tx.seq > *seq,
            (Since::Transaction(_, _, modified), _) => tx.modified_seq > *modified,
        }
    };
    let mut rows: Vec<(&Account, &Tx)> = accounts
        .iter()
        .flat_map(|(_, account)| account.txs.iter().map(move |tx| (*account, tx)))
        .filter(|(_, tx)| {
            if tx.booked {
                after_since(tx) && until.is_none_or(|until| tx.booking.booking_date <= until)
            } else {
                include_pending
            }
        })
        .collect();
    rows.sort_by_key(|(_, tx)| (tx.booking.booking_date, tx.seq));
    if descending {
        rows.reverse();
    }
    let statistics = include_statistics.then(|| {
        let deposits: Vec<Decimal> =
            rows.iter().map(|(_, tx)| tx.booking.amount).filter(|a| a.is_sign_positive() && !a.is_zero()).collect();
        let expenses: Vec<Decimal> =
            rows.iter().map(|(_, tx)| tx.booking.amount).filter(|a| a.is_sign_negative()).collect();
        json!({
            "deposit_sum": money(deposits.iter().copied().sum()),
            "deposit_max": money(deposits.iter().copied().max().unwrap_or_default()),
            "expense_sum": money(expenses.iter().copied().sum()),
            "expense_max": money(expenses.iter().copied().min().unwrap_or_default()),
        })
    });
    let page: Vec<Value> =
        rows.iter().skip(offset).take(count).map(|(account, tx)| transaction_json(account, tx)).collect();
    let deleted: Vec<&str> = accounts
        .iter()
        .flat_map(|(_, account)| account.deleted.iter())
        .filter(|deleted| match (&since, since_type) {
            (None, _) | (Some(_), "booked") => true,
            (Some(Since::Date(date)), _) => deleted.at.date_naive() >= *date,
            (Some(Since::Time(at)), _) => deleted.at >= *at,
            (Some(Since::Transaction(_, seq, modified)), kind) => {
                deleted.seq > if kind == "created" { *seq } else { *modified }
            }
        })
        .map(|deleted| deleted.id.as_str())
        .collect();
    let synced_at = accounts.iter().filter_map(|(access, _)| access.status.synced_at).max();
    let succeeded_at = accounts.iter().filter_map(|(access, _)| access.status.succeeded_at).max();
    let mut body = json!({
        "transactions": page,
        "deleted": deleted,
        "status": {"synced_at": synced_at.map(time), "succeeded_at": succeeded_at.map(time)},
    });
    if let (Some(statistics), Some(object)) = (statistics, body.as_object_mut()) {
        object.insert("statistics".to_owned(), statistics);
    }
    Ok(json_response(StatusCode::OK, &body))
}
