//! finX's failures in Kontor's words.
//!
//! finX answers errors with HTTP ≥ 400 and the envelope
//! `{"error":{"code":1000,"group":"client","description":"…","data":{…}}}` (finx.md §8); a FAILED
//! synchronisation carries the same object (plus the bank's `message`) in its `error` field. The
//! token endpoint may instead answer OAuth-style `{"error":"invalid_grant","error_description":"…"}`.
//! Both are read leniently (`code` may be `null`, `group` may be `unknown`).
//!
//! [`from_response`] decides by finX's `code` first, then by the HTTP status, then by the code's
//! group (its range). The bank's own `message` (user-group and bank-group errors) is kept as
//! [`KontorError::bank_message`]; finX's technical `description` only goes to the log.
//!
//! | finX                                   | Kontor                                   |
//! |----------------------------------------|------------------------------------------|
//! | 1000, 1001, 1006, HTTP 400             | `InvalidInput`                           |
//! | 1002, 10011, 20001, HTTP 404           | `NotFound`                               |
//! | 1003, 1004, 1007, 1010, HTTP 401/403   | `ProviderAuthFailed` (bearer: see below) |
//! | 1008, 10015, HTTP 423                  | `ResourceBusy`                           |
//! | 1011                                   | `CredentialsRequired`                    |
//! | 1020 (also as HTTP 429)                | `TooManySyncs` (+ `retry_at` on 429)     |
//! | 1021                                   | `PsuIpRequired`                          |
//! | 10000, 10001, 10002, 10007, 10010, 10012, other 1xxxx | `CredentialsRejected`     |
//! | 10004, 10016, 10017                    | `TanRejected`                            |
//! | 10003, 10014, 40000–49999              | `NotSupported`                           |
//! | 10005 (no authorization / consent gone)| `ConsentExpired`                         |
//! | 20006 (login not possible / cancelled) | `ScaCancelled`                           |
//! | 30005 (sync expired while waiting)     | `ScaTimedOut`                            |
//! | 20000–29999, 30000–39999, HTTP 5xx     | `ProviderUnavailable`                    |
//! | HTTP 429                               | `RateLimited` (+ `retry_at`)             |
//! | token: code grant refused (`invalid_grant`, 400 1000/1002/1003/1006) | `AuthorizationExpired` |
//! | token: refresh grant refused (same)    | `ConsentExpired`                         |
//! | token: client id/secret refused (1004, `invalid_client`, 401) | `ProviderAuthFailed` |
//! | unreadable / truncated JSON            | `ProviderResponseInvalid` (in `wire`)    |
//!
//! A 401 on a `/rest` (bearer) call is `ProviderAuthFailed` with a message saying the *access
//! token* was refused: the caller refreshes (rotating) and repeats the call once. If that refresh is
//! refused too, the result is `ConsentExpired` and the user has to link again.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::wire::{self, ErrorBody};
use crate::error::{ErrorCode, KontorError};

/// What the failed call was doing; decides what a refusal means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorContext {
    /// Client-authenticated calls (widget links, revoke).
    Client,
    /// `/rest` calls with a bearer token.
    Bearer,
    /// `grant_type=authorization_code`.
    CodeGrant,
    /// `grant_type=refresh_token`.
    RefreshGrant,
    /// Answering an embedded (TAN) challenge.
    Tan,
    /// Starting a sync with credentials.
    Credentials,
}

/// The error object of a body, in either shape.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedError {
    pub code: Option<i64>,
    pub group: Option<String>,
    /// finX's technical description (log only).
    pub description: Option<String>,
    /// The bank's text (sync errors).
    pub message: Option<String>,
    /// OAuth `error` (`invalid_grant`, `invalid_client`, …): the string `error` of an OAuth body, or
    /// the envelope's `name` when it is one of these.
    pub oauth_error: Option<String>,
    /// Validation details, field → messages, flattened to `field: message` lines.
    pub data: Vec<String>,
}

fn non_empty(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
}

fn flatten_data(data: Option<&Value>) -> Vec<String> {
    let Some(Value::Object(map)) = data else { return Vec::new() };
    let mut out = Vec::new();
    for (field, value) in map {
        match value {
            Value::Array(items) => {
                for item in items {
                    if let Some(text) = item.as_str() {
                        out.push(format!("{field}: {text}"));
                    }
                }
            }
            Value::String(text) => out.push(format!("{field}: {text}")),
            _ => {}
        }
    }
    out
}

impl From<ErrorBody> for ParsedError {
    fn from(body: ErrorBody) -> Self {
        let name = non_empty(body.name.clone());
        let oauth_error = name.filter(|n| n.starts_with("invalid_") || n.starts_with("unsupported_"));
        Self {
            code: body.code,
            group: non_empty(body.group),
            description: non_empty(body.description).or(non_empty(body.name)),
            message: non_empty(body.message),
            oauth_error,
            data: flatten_data(body.data.as_ref()),
        }
    }
}

/// Reads finX's error envelope or an OAuth error from a body; `None` if it is neither.
pub fn parse_error(body: &str) -> Option<ParsedError> {
    let value: Value = wire::parse(body, "error").ok()?;
    let Value::Object(mut map) = value else { return None };
    match map.remove("error") {
        Some(object @ Value::Object(_)) => {
            let body: ErrorBody = serde_json::from_value(object).ok()?;
            Some(body.into())
        }
        Some(Value::String(oauth)) => Some(ParsedError {
            description: map.get("error_description").and_then(Value::as_str).map(str::to_owned),
            oauth_error: Some(oauth),
            ..ParsedError::default()
        }),
        _ => None,
    }
}

/// The group of a finX code by its range (finx.md §8).
pub fn group_of(code: i64) -> &'static str {
    match code {
        1000..=1999 => "client",
        10000..=19999 => "user",
        20000..=29999 => "bank",
        30000..=39999 => "general",
        40000..=49999 => "connectivity",
        50000..=59999 => "categorization",
        _ => "unknown",
    }
}

/// Kontor's code and message for a finX code, if the code alone decides.
fn by_code(code: i64, context: ErrorContext) -> Option<(ErrorCode, &'static str)> {
    use ErrorCode as C;
    Some(match code {
        1000 | 1006 => (C::InvalidInput, "finX refused the request as incomplete or invalid."),
        1001 => (C::InvalidInput, "finX already has this entry."),
        1002 => (C::NotFound, "finX does not know this item (any more)."),
        1003 if matches!(context, ErrorContext::Bearer | ErrorContext::Tan | ErrorContext::Credentials) => {
            (C::ProviderAuthFailed, "finX no longer accepts Kontor's access token for this connection.")
        }
        1003 | 1004 => (
            C::ProviderAuthFailed,
            "finX did not accept Kontor's client credentials. Check the client id and secret of this provider.",
        ),
        1007 => (C::ProviderAuthFailed, "finX does not allow Kontor to do this (missing permission)."),
        1008 => (C::ResourceBusy, "The bank connection is busy with another synchronisation. Try again in a minute."),
        1010 => (C::ProviderAuthFailed, "finX has locked this user. Contact the provider's support."),
        1011 => (C::CredentialsRequired, "The bank needs your complete login again."),
        1020 => (C::TooManySyncs, "This bank has been synchronised too often recently. Try again later."),
        1021 => (C::PsuIpRequired, "The bank needs your IP address for this synchronisation."),
        10000 | 10001 => {
            (C::CredentialsRejected, "The bank did not accept the login. Check your online-banking ID and PIN.")
        }
        10002 => (C::CredentialsRejected, "The bank has blocked online access for this login. Contact your bank."),
        10007 => (C::CredentialsRejected, "The bank wants you to change your PIN first (in its own online banking)."),
        10010 => (C::CredentialsRejected, "The bank has blocked this account."),
        10012 => {
            (C::CredentialsRejected, "The bank has blocked this TAN method. Choose another one or contact your bank.")
        }
        10004 | 10016 | 10017 => {
            (C::TanRejected, "The bank did not accept the TAN. Start again and enter the new TAN.")
        }
        10003 => (C::NotSupported, "This TAN method is not activated for your login. Choose another one."),
        // finx.md: "no authorization for account"; the Demo Bank uses it for an expired consent. Either
        // way the user has to give the bank's consent again through a widget flow.
        10005 => (
            C::ConsentExpired,
            "The bank no longer grants access to this account. Renew your consent by linking the bank again.",
        ),
        10011 => (C::NotFound, "The bank no longer has this account."),
        10014 => (C::NotSupported, "This account is not activated for online banking."),
        10015 => (C::ResourceBusy, "The bank is still processing an earlier request. Try again in a minute."),
        20001 => (C::NotFound, "The bank or the account is unknown."),
        20003 => (C::ProviderUnavailable, "The bank is down for maintenance. Try again later."),
        20006 => (C::ScaCancelled, "The login at the bank was cancelled or could not be completed. Try again."),
        30005 => (C::ScaTimedOut, "The authentication took too long and the bank ended it. Start again."),
        40000..=49999 => (C::NotSupported, "finX cannot reach this bank."),
        _ => return None,
    })
}

fn by_group(code: i64, context: ErrorContext) -> Option<(ErrorCode, &'static str)> {
    use ErrorCode as C;
    Some(match group_of(code) {
        "client" => (C::InvalidInput, "finX refused the request."),
        "user" if context == ErrorContext::Tan => {
            (C::TanRejected, "The bank did not accept the TAN. Start again and enter the new TAN.")
        }
        "user" => (C::CredentialsRejected, "The bank refused the request."),
        "bank" | "general" | "categorization" => {
            (C::ProviderUnavailable, "The bank or finX cannot process this right now. Try again later.")
        }
        "connectivity" => (C::NotSupported, "finX cannot reach this bank."),
        _ => return None,
    })
}

fn by_status(status: u16, context: ErrorContext) -> (ErrorCode, &'static str) {
    use ErrorCode as C;
    match (status, context) {
        (429, _) => (C::RateLimited, "finX asks Kontor to slow down. Try again later."),
        (401, ErrorContext::Bearer | ErrorContext::Tan | ErrorContext::Credentials) => {
            (C::ProviderAuthFailed, "finX no longer accepts Kontor's access token for this connection.")
        }
        (401, _) => (
            C::ProviderAuthFailed,
            "finX did not accept Kontor's client credentials. Check the client id and secret of this provider.",
        ),
        (403, _) => (C::ProviderAuthFailed, "finX does not allow Kontor to do this (missing permission)."),
        (404, _) => (C::NotFound, "finX does not know this item (any more)."),
        (423, _) => {
            (C::ResourceBusy, "The bank connection is busy with another synchronisation. Try again in a minute.")
        }
        (400 | 405 | 409 | 422, _) => (C::InvalidInput, "finX refused the request as incomplete or invalid."),
        (500..=599, _) => (C::ProviderUnavailable, "finX or the bank is not answering right now. Try again later."),
        _ => (C::ProviderUnavailable, "finX answered unexpectedly. Try again later."),
    }
}

/// A refused token request, by grant.
fn token_refusal(status: u16, parsed: &ParsedError, context: ErrorContext) -> Option<(ErrorCode, &'static str)> {
    let oauth = parsed.oauth_error.as_deref().unwrap_or_default();
    let description = parsed.description.as_deref().unwrap_or_default().to_ascii_lowercase();
    let client_refused = oauth == "invalid_client"
        || parsed.code == Some(1004)
        || (status == 401 && oauth != "invalid_grant" && !description.contains("grant"));
    if client_refused {
        return Some((
            ErrorCode::ProviderAuthFailed,
            "finX did not accept Kontor's client credentials. Check the client id and secret of this provider.",
        ));
    }
    // finX does not document how it refuses a grant; any other 400/401/403 (or the client-group
    // "invalid request" codes) from the token endpoint means the code or refresh token is no good.
    let grant_refused = oauth == "invalid_grant"
        || matches!(parsed.code, Some(1000 | 1002 | 1003 | 1006))
        || matches!(status, 400 | 401 | 403);
    if !grant_refused {
        return None;
    }
    Some(match context {
        ErrorContext::CodeGrant => (
            ErrorCode::AuthorizationExpired,
            "The sign-in with the bank took too long or was already used. Link the bank again.",
        ),
        _ => (
            ErrorCode::ConsentExpired,
            "Kontor's access to this bank through finX has run out. Link the bank again to renew it.",
        ),
    })
}

/// Maps a non-success answer to a [`KontorError`]. `retry_at` is set for 429.
pub fn from_response(status: u16, body: &str, context: ErrorContext, retry_at: Option<DateTime<Utc>>) -> KontorError {
    let parsed = parse_error(body).unwrap_or_default();
    tracing::debug!(
        status,
        code = ?parsed.code,
        group = parsed.group.as_deref().unwrap_or(""),
        "finX error: {}",
        parsed.description.as_deref().or(parsed.oauth_error.as_deref()).unwrap_or("")
    );
    let is_token = matches!(context, ErrorContext::CodeGrant | ErrorContext::RefreshGrant);
    let (code, message) = if status == 429 && parsed.code == Some(1020) {
        (ErrorCode::TooManySyncs, "This bank has been synchronised too often recently. Try again later.")
    } else if status == 429 {
        by_status(429, context)
    } else if is_token && status < 500 {
        token_refusal(status, &parsed, context)
            .or_else(|| parsed.code.and_then(|c| by_code(c, context)))
            .unwrap_or_else(|| by_status(status, context))
    } else {
        parsed
            .code
            .and_then(|c| by_code(c, context))
            .or_else(|| if status >= 500 { None } else { parsed.code.and_then(|c| by_group(c, context)) })
            .unwrap_or_else(|| by_status(status, context))
    };
    let mut err = KontorError::new(code, message);
    let user_facing = parsed.code.is_some_and(|c| matches!(group_of(c), "user" | "bank"));
    if let Some(text) = parsed.message.clone().filter(|_| user_facing) {
        err = err.with_bank_message(text);
    }
    if code == ErrorCode::InvalidInput && !parsed.data.is_empty() {
        err.message = format!("{} ({})", err.message, parsed.data.join("; "));
    }
    if let Some(at) = retry_at {
        err = err.with_retry_at(at);
    }
    err
}

/// The `error` of a FAILED synchronisation.
pub fn from_sync_error(body: ErrorBody) -> KontorError {
    let parsed: ParsedError = body.into();
    let (code, message) = parsed
        .code
        .and_then(|c| by_code(c, ErrorContext::Credentials).or_else(|| by_group(c, ErrorContext::Credentials)))
        .unwrap_or((ErrorCode::ProviderUnavailable, "The synchronisation with the bank failed. Try again later."));
    let mut err = KontorError::new(code, message);
    if let Some(text) = parsed.message.or(parsed.description) {
        err = err.with_bank_message(text);
    }
    err
}

/// A transport failure (no answer at all).
pub fn from_transport(err: &reqwest::Error) -> KontorError {
    let what = if err.is_timeout() {
        "finX did not answer in time"
    } else if err.is_connect() {
        "Kontor cannot reach finX"
    } else if err.is_body() || err.is_decode() {
        "the answer from finX broke off"
    } else {
        "the connection to finX failed"
    };
    tracing::debug!("finX transport error: {err}");
    KontorError::new(ErrorCode::ProviderUnavailable, format!("{what}. Check your internet connection and try again."))
}
