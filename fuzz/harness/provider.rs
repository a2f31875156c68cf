//! Provider JSON: arbitrary bytes as a response body through the deserialisation and mapping the finAPI and finX
//! clients use (`wire::parse` / `wire::parse_list`, then `map::…`). Shared by the fuzz target
//! `fuzz/fuzz_targets/provider.rs` and the corpus replay in `crates/core/tests/fuzz_corpus.rs`.
//!
//! Input: the first byte picks the provider and the endpoint whose answer the rest is (lossily UTF-8, as the
//! clients read bodies as text).
//!
//! Properties: no panic; a body that does not parse is `ProviderResponseInvalid`; `quote_decimals` keeps every
//! JSON value but turns non-integer (and overlong) numbers into strings of the same number; and every amount a
//! mapping yields (transaction amounts, balances, available funds, credit lines) is exactly the number the JSON
//! said, never rounded, truncated or read from anything but a plain decimal.

use kontor_core::ErrorCode;
use kontor_core::provider::finapi::{error as finapi_error, map as finapi_map, wire as finapi_wire};
use kontor_core::provider::finx::{error as finx_error, map as finx_map, wire as finx_wire};
use rust_decimal::Decimal;
use serde_json::Value;

const ENDPOINTS: u8 = 20;

pub fn check(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let body = String::from_utf8_lossy(rest);
    let body = body.as_ref();
    check_quote_decimals(body);
    // The same body read as the clients' JSON (decimals quoted), for the amount checks.
    let json: Option<Value> = serde_json::from_str(&finapi_wire::quote_decimals(body)).ok();
    let json = json.as_ref();

    match selector % ENDPOINTS {
        0 => {
            let page = finapi_wire::parse::<finapi_wire::TransactionPage>(body, "transactions");
            if let Ok(page) = expect_readable(page, json) {
                for row in page.transactions {
                    if let Ok(mapped) = finapi_map::transaction(row.clone()) {
                        same_amount(Some(mapped.amount), field(Some(&row), "amount", 6), "finAPI transaction amount");
                        assert_eq!(mapped.raw.as_deref(), Some(row.to_string().as_str()));
                    }
                }
            }
        }
        1 => {
            let list = finapi_wire::parse::<finapi_wire::AccountList>(body, "accounts");
            if let Ok(list) = expect_readable(list, json) {
                let rows = json.and_then(|j| j.get("accounts")).and_then(Value::as_array);
                for (index, account) in list.accounts.into_iter().enumerate() {
                    let row = rows.and_then(|r| r.get(index));
                    let mapped = finapi_map::account(account);
                    same_amount(mapped.balance, field(row, "balance", 10), "finAPI balance");
                    same_amount(mapped.available, field(row, "availableFunds", 13), "finAPI available funds");
                }
            }
        }
        2 => {
            if let Ok(account) = expect_readable(finapi_wire::parse::<finapi_wire::Account>(body, "account"), json) {
                let mapped = finapi_map::account(account);
                same_amount(mapped.balance, field(json, "balance", 10), "finAPI balance");
                same_amount(mapped.available, field(json, "availableFunds", 13), "finAPI available funds");
            }
        }
        3 => {
            if let Ok(list) = expect_readable(finapi_wire::parse::<finapi_wire::BankList>(body, "banks"), json) {
                for bank in list.banks {
                    let id = bank.id;
                    let hit = finapi_map::bank(bank);
                    assert_eq!(hit.id, id.to_string());
                    assert!(!hit.name.trim().is_empty(), "a bank without a name");
                }
            }
        }
        4 => {
            let connection = finapi_wire::parse::<finapi_wire::BankConnection>(body, "bank connection");
            if let Ok(connection) = expect_readable(connection, json) {
                let id = connection.id;
                let first = connection.interfaces.first().and_then(|i| i.banking_interface.clone());
                let mapped = finapi_map::connection(connection.clone(), first.as_deref());
                assert_eq!(mapped.provider_connection_id, id.to_string());
                let _ = finapi_map::connection(connection, None);
            }
        }
        5 => {
            // A 510: the error envelope and its multi-step authentication, as `FinapiClient::authorize` reads it.
            if let Some(envelope) = finapi_error::envelope(body) {
                for details in envelope.errors {
                    if let Some(msa) = details.multi_step_authentication {
                        if let Ok((continuation, _)) = finapi_map::challenge(msa, details.message, Some("P".into())) {
                            assert!(!continuation.token.trim().is_empty(), "a continuation without a hash");
                            assert_eq!(continuation.procedure_id.as_deref(), Some("P"));
                        }
                    }
                }
            }
            for status in [400, 401, 403, 404, 409, 422, 423, 429, 500, 503] {
                for context in [
                    finapi_error::ErrorContext::Credentials,
                    finapi_error::ErrorContext::Tan,
                    finapi_error::ErrorContext::Other,
                ] {
                    let _ = finapi_error::from_response(status, body, context, None);
                }
            }
        }
        6 => {
            let _ = expect_readable(finapi_wire::parse::<finapi_wire::Token>(body, "token"), json);
            let _ = expect_readable(finapi_wire::parse::<finapi_wire::User>(body, "user"), json);
        }
        7 => {
            let list = finx_wire::parse::<finx_wire::TransactionList>(body, "transactions");
            if let Ok(list) = expect_readable(list, json) {
                for row in list.transactions {
                    if let Ok(mapped) = finx_map::transaction(row.clone()) {
                        same_amount(Some(mapped.amount), field(Some(&row), "amount", 2), "finX transaction amount");
                        assert_eq!(mapped.raw.as_deref(), Some(row.to_string().as_str()));
                        assert!(!mapped.provider_id.trim().is_empty());
                    }
                }
            }
        }
        8 => {
            let list = finx_wire::parse_list::<finx_wire::Account>(body, "accounts", "accounts");
            if let Ok(list) = expect_readable(list, json) {
                let rows = json.and_then(|j| j.as_array().or_else(|| j.get("accounts").and_then(Value::as_array)));
                for (index, account) in list.into_iter().enumerate() {
                    let row = field(rows.and_then(|r| r.get(index)), "balance", 11);
                    if let Ok(mapped) = finx_map::account(account) {
                        same_amount(mapped.account.balance, field(row, "balance", 0), "finX balance");
                        same_amount(mapped.account.available, field(row, "available", 3), "finX available");
                    }
                }
            }
        }
        9 => {
            if let Ok(balance) = expect_readable(finx_wire::parse::<finx_wire::Balance>(body, "balance"), json) {
                let mapped = finx_map::balance(balance);
                same_amount(mapped.balance, field(json, "balance", 0), "finX balance");
                same_amount(mapped.available, field(json, "available", 3), "finX available");
                same_amount(mapped.credit_line, field(json, "credit_line", 2), "finX credit line");
            }
        }
        10 => {
            let list = finx_wire::parse_list::<finx_wire::Access>(body, "accesses", "accesses");
            if let Ok(list) = expect_readable(list, json) {
                for access in list {
                    if let Ok(access) = finx_map::access(access) {
                        let _ = finx_map::remote_connection(&access, &[], chrono::DateTime::UNIX_EPOCH);
                    }
                }
            }
        }
        11 => {
            let list = finx_wire::parse_list::<finx_wire::Challenge>(body, "challenges", "challenges");
            if let Ok(list) = expect_readable(list, json) {
                for challenge in list {
                    if let Ok(challenge) = finx_map::challenge(challenge) {
                        let _ = finx_map::sca_challenge(&challenge);
                    }
                }
            }
        }
        12 => {
            if let Ok(sync) = expect_readable(finx_wire::parse::<finx_wire::Sync>(body, "synchronisation"), json) {
                let _ = finx_map::synchronization(sync);
            }
        }
        13 => {
            let report = finx_wire::parse::<finx_wire::IncomeReport>(body, "income report");
            if let Ok(report) = expect_readable(report, json) {
                let _ = finx_map::income_report(report, "report");
            }
        }
        14 => {
            let _ = expect_readable(finx_wire::parse::<finx_wire::Token>(body, "token"), json);
            let _ = expect_readable(finx_wire::parse::<finx_wire::WidgetLink>(body, "widget link"), json);
            use finx_error::ErrorContext as Context;
            let contexts = [
                Context::Client,
                Context::Bearer,
                Context::CodeGrant,
                Context::RefreshGrant,
                Context::Tan,
                Context::Credentials,
            ];
            for status in [400, 401, 403, 404, 409, 422, 429, 500, 503] {
                for context in contexts {
                    let _ = finx_error::from_response(status, body, context, None);
                }
            }
        }
        15 => {
            if let Ok(account) = expect_readable(finx_wire::parse::<finx_wire::Account>(body, "account"), json) {
                let balance = field(json, "balance", 11);
                if let Ok(mapped) = finx_map::account(account) {
                    same_amount(mapped.account.balance, field(balance, "balance", 0), "finX balance");
                    same_amount(mapped.account.available, field(balance, "available", 3), "finX available");
                }
            }
        }
        16 => {
            if let Ok(access) = expect_readable(finx_wire::parse::<finx_wire::Access>(body, "access"), json) {
                let _ = finx_map::access(access);
            }
        }
        17 => {
            if let Ok(challenge) = expect_readable(finx_wire::parse::<finx_wire::Challenge>(body, "challenge"), json) {
                if let Ok(challenge) = finx_map::challenge(challenge) {
                    let _ = finx_map::sca_challenge(&challenge);
                }
            }
        }
        18 => {
            // A single transaction row as the maps see it.
            if let Some(row) = json {
                if let Ok(mapped) = finapi_map::transaction(row.clone()) {
                    same_amount(Some(mapped.amount), field(Some(row), "amount", 6), "finAPI transaction amount");
                }
                if let Ok(mapped) = finx_map::transaction(row.clone()) {
                    same_amount(Some(mapped.amount), field(Some(row), "amount", 2), "finX transaction amount");
                }
            }
        }
        _ => {
            let _ = finapi_wire::parse::<Value>(body, "anything");
        }
    }
}

/// A body that is not JSON is `ProviderResponseInvalid` (never a panic, never another code).
fn expect_readable<T>(parsed: Result<T, kontor_core::KontorError>, json: Option<&Value>) -> Result<T, ()> {
    match parsed {
        Ok(value) => {
            assert!(json.is_some(), "a body that is not JSON was read");
            Ok(value)
        }
        Err(error) => {
            assert_eq!(error.code, ErrorCode::ProviderResponseInvalid, "{error:?}");
            Err(())
        }
    }
}

/// Where serde reads a struct field from: the member `name` of an object, or (serde's derive accepts a struct as
/// a JSON array too, field by field in declaration order) the element at `position` of an array.
fn field<'a>(container: Option<&'a Value>, name: &str, position: usize) -> Option<&'a Value> {
    match container? {
        Value::Object(members) => members.get(name),
        Value::Array(elements) => elements.get(position),
        _ => None,
    }
}

/// `mapped` must be exactly the number in `json` (after `quote_decimals`: a string with the digits as sent, or
/// an integer), or absent when the JSON had none.
fn same_amount(mapped: Option<Decimal>, json: Option<&Value>, what: &str) {
    let Some(mapped) = mapped else { return };
    let said = match json {
        Some(Value::String(text)) => exact(text.trim()),
        Some(Value::Number(number)) => exact(&number.to_string()),
        other => panic!("{what} {mapped} from JSON {other:?}"),
    };
    assert_eq!(Some(canonical(mapped)), said, "{what} {mapped} from JSON {json:?}");
}

/// A value as (negative, significant digits without leading or trailing zeros, power of ten); zero is
/// `(false, "", 0)`.
type Exact = (bool, String, i64);

/// A plain decimal literal (`-12.50`, `+3`, `.5`, `1e-3`) read exactly, with no rounding; anything else `None`.
fn exact(text: &str) -> Option<Exact> {
    let (negative, unsigned) = match text.as_bytes().first() {
        Some(b'-') => (true, text.get(1..)?),
        Some(b'+') => (false, text.get(1..)?),
        _ => (false, text),
    };
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (unsigned.get(..at)?, unsigned.get(at + 1..)?.parse::<i64>().ok()?),
        None => (unsigned, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    if !whole.bytes().chain(fraction.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let power = exponent.checked_sub(i64::try_from(fraction.len()).ok()?)?;
    Some(normalise(negative, format!("{whole}{fraction}"), power))
}

fn canonical(value: Decimal) -> Exact {
    let digits = value.mantissa().unsigned_abs().to_string();
    normalise(value.is_sign_negative(), digits, -i64::from(value.scale()))
}

fn normalise(negative: bool, digits: String, power: i64) -> Exact {
    let digits = digits.trim_start_matches('0');
    let significant = digits.trim_end_matches('0');
    if significant.is_empty() {
        return (false, String::new(), 0);
    }
    let trailing = i64::try_from(digits.len() - significant.len()).unwrap_or(i64::MAX);
    (negative, significant.to_owned(), power.saturating_add(trailing))
}

/// `quote_decimals` changes nothing but non-integer (or overlong) numbers, which become strings of the same
/// number.
fn check_quote_decimals(body: &str) {
    let Ok(original) = serde_json::from_str::<Value>(body) else { return };
    let quoted = serde_json::from_str::<Value>(&finapi_wire::quote_decimals(body));
    assert!(quoted.is_ok(), "quote_decimals broke a valid body {body:?}: {quoted:?}");
    if let Ok(quoted) = quoted {
        same_value(&original, &quoted, body);
    }
}

fn same_value(original: &Value, quoted: &Value, body: &str) {
    match (original, quoted) {
        (Value::Number(number), Value::String(text)) => {
            assert!(
                !number.is_i64() || text.bytes().filter(u8::is_ascii_digit).count() > 18,
                "{number} quoted in {body:?}"
            );
            // serde_json's float parsing may be one unit in the last place off; the text must be that number.
            let close = match (text.parse::<f64>(), number.as_f64()) {
                (Ok(a), Some(b)) => a == b || (a - b).abs() <= a.abs().max(b.abs()) * 1e-15,
                _ => false,
            };
            assert!(close, "{number} quoted as {text:?} in {body:?}");
        }
        (Value::Array(one), Value::Array(other)) => {
            assert_eq!(one.len(), other.len(), "{body:?}");
            one.iter().zip(other).for_each(|(a, b)| same_value(a, b, body));
        }
        (Value::Object(one), Value::Object(other)) => {
            assert_eq!(one.len(), other.len(), "{body:?}");
            for (key, value) in one {
                let counterpart = other.get(key);
                assert!(counterpart.is_some(), "quote_decimals lost {key:?} in {body:?}");
                if let Some(counterpart) = counterpart {
                    same_value(value, counterpart, body);
                }
            }
        }
        _ => assert_eq!(original, quoted, "quote_decimals changed a value in {body:?}"),
    }
}
