//! finAPI's failures in Kontor's words.
//!
//! finAPI answers errors with an envelope `{"errors":[{code, message, type}], ...}` (OAuth endpoints
//! with `{error, error_description}`). [`from_response`] turns status + body into a [`KontorError`]
//! with one of Kontor's [`ErrorCode`]s and an English message for people. Where finAPI marks an
//! error `BUSINESS` its `message` comes from the bank and is meant for the user (usually German): it
//! is kept in [`KontorError::bank_message`]. `TECHNICAL` messages only go to the log.
//!
//! `BANK_SERVER_REJECTION` means "the bank said no": to the login when credentials were sent, to the
//! TAN when a TAN was sent ([`ErrorContext`]).

use chrono::{DateTime, Utc};

use super::wire::{self, ErrorMessage, OauthError};
use crate::error::{ErrorCode, KontorError};

/// What the failed call was sending, to tell a refused PIN from a refused TAN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorContext {
    /// Login credentials (the first call of an import or update).
    Credentials,
    /// A TAN (`challengeResponse`).
    Tan,
    /// Anything else.
    Other,
}

/// The first entry of finAPI's error envelope, if the body is one.
pub fn envelope(body: &str) -> Option<ErrorMessage> {
    wire::parse::<ErrorMessage>(body, "error").ok().filter(|e| !e.errors.is_empty())
}

/// Maps a non-success answer (not 510) to a [`KontorError`]. `retry_at` is set for 429.
pub fn from_response(status: u16, body: &str, context: ErrorContext, retry_at: Option<DateTime<Utc>>) -> KontorError {
    let details = envelope(body).and_then(|e| e.errors.into_iter().next());
    let code = details.as_ref().and_then(|d| d.code.clone()).unwrap_or_default();
    let business = details.as_ref().and_then(|d| d.kind.as_deref()) == Some("BUSINESS");
    let finapi_message = details.as_ref().and_then(|d| d.message.clone()).unwrap_or_default();
    if !finapi_message.is_empty() {
        tracing::debug!(status, code = %code, "finAPI error: {finapi_message}");
    }

    let (kontor_code, message) = match (status, code.as_str()) {
        (_, "BANK_SERVER_REJECTION") => match context {
            ErrorContext::Tan => {
                (ErrorCode::TanRejected, "The bank did not accept the TAN. Start again and enter the new TAN.")
            }
            ErrorContext::Credentials => (
                ErrorCode::CredentialsRejected,
                "The bank did not accept the login. Check your online-banking ID and PIN.",
            ),
            ErrorContext::Other => (ErrorCode::CredentialsRejected, "The bank refused the request."),
        },
        (_, "INVALID_CONSENT") => (
            ErrorCode::ConsentExpired,
            "Your consent for this bank has run out. Sync again to renew it: the bank will ask you to confirm.",
        ),
        (_, "MISSING_CREDENTIALS") | (_, "LOGIN_FIELDS_MISMATCH") => {
            (ErrorCode::CredentialsRequired, "The bank needs your login again.")
        }
        (_, "NO_EXISTING_CHALLENGE") => {
            (ErrorCode::ScaStale, "This authentication step is no longer valid. Start again.")
        }
        (_, "INVALID_TWO_STEP_PROCEDURE") | (_, "MISSING_TWO_STEP_PROCEDURE") => {
            (ErrorCode::InvalidInput, "The bank does not offer that authentication method. Choose another one.")
        }
        (_, "ENTITY_EXISTS") => (ErrorCode::InvalidInput, "This bank login is already linked."),
        (_, "NO_ACCOUNTS_FOR_TYPE_LIST") => (ErrorCode::NotFound, "The bank has no accounts of the requested kind."),
        (_, "UNSUPPORTED_BANK") | (_, "UNSUPPORTED_FEATURE") | (_, "UNSUPPORTED_ORDER") | (_, "WEB_FORM_REQUIRED") => {
            (ErrorCode::NotSupported, "finAPI cannot do this for this bank.")
        }
        (_, "NO_PSU_METADATA") => (ErrorCode::PsuIpRequired, "finAPI needs your IP address for this request."),
        (_, "LOCKED") | (423, _) => {
            (ErrorCode::ResourceBusy, "The bank connection is busy with another update. Try again in a minute.")
        }
        (_, "ILLEGAL_FIELD_VALUE") | (_, "MISSING_FIELD") | (_, "BAD_REQUEST") | (_, "ILLEGAL_PAGE_SIZE") => {
            (ErrorCode::InvalidInput, "finAPI refused the request as incomplete or invalid.")
        }
        (_, "UNKNOWN_ENTITY") | (404, _) => (ErrorCode::NotFound, "finAPI does not know this item (any more)."),
        (_, "INVALID_TOKEN") | (401, _) => (
            ErrorCode::ProviderAuthFailed,
            "finAPI did not accept Kontor's credentials. Check the client id and secret of this provider.",
        ),
        (_, "UNAUTHORIZED_ACCESS") | (_, "FORBIDDEN") | (403, _) => (
            ErrorCode::ProviderAuthFailed,
            "finAPI refused access. Check the client's credentials and its API version (v1 or v2).",
        ),
        (429, _) => (ErrorCode::RateLimited, "finAPI asks Kontor to slow down. Try again later."),
        (501, _) => (ErrorCode::NotSupported, "finAPI cannot do this for this bank."),
        (500..=599, _) => {
            (ErrorCode::ProviderUnavailable, "finAPI or the bank is not answering right now. Try again later.")
        }
        _ => (ErrorCode::ProviderUnavailable, "finAPI answered unexpectedly. Try again later."),
    };
    let mut err = KontorError::new(kontor_code, message);
    if business {
        err = err.with_bank_message(finapi_message);
    }
    if let Some(at) = retry_at {
        err = err.with_retry_at(at);
    }
    err
}

/// Maps a failure of the token endpoint.
pub fn from_token_response(status: u16, body: &str, user_grant: bool) -> KontorError {
    if status == 429 || status >= 500 {
        return from_response(status, body, ErrorContext::Other, None);
    }
    let oauth: OauthError = wire::parse(body, "token error").unwrap_or_default();
    let description = oauth.error_description.or(oauth.error_description_v1).or(oauth.error).unwrap_or_default();
    tracing::debug!(status, "finAPI token request refused: {description}");
    let message = match (status, user_grant) {
        (423, _) => "finAPI has locked this user after too many failed logins.",
        (_, true) => "finAPI did not accept Kontor's finAPI user for this provider.",
        (_, false) => "finAPI did not accept the client id and secret of this provider.",
    };
    KontorError::new(ErrorCode::ProviderAuthFailed, message)
}

/// A transport failure (no answer at all).
pub fn from_transport(err: &reqwest::Error) -> KontorError {
    let what = if err.is_timeout() {
        "finAPI did not answer in time"
    } else if err.is_connect() {
        "Kontor cannot reach finAPI"
    } else if err.is_body() || err.is_decode() {
        "the answer from finAPI broke off"
    } else {
        "the connection to finAPI failed"
    };
    tracing::debug!("finAPI transport error: {err}");
    KontorError::new(ErrorCode::ProviderUnavailable, format!("{what}. Check your internet connection and try again."))
}
