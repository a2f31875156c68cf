//! finAPI's error answers and the per-request context they need.
//!
//! Two shapes exist (finapi.md §1, §3.2):
//!
//! - OAuth errors (token endpoint, bad or expired bearer token): `{"error": "...", "error_description": "..."}`.
//!   A v1 resource call with a bad token spells it `errorDescription`, as finAPI's own v1 example does.
//! - Everything else: the `ErrorMessage` envelope `{errors: [{message, code, type, multiStepAuthentication?}],
//!   date, requestId, endpoint, authContext, bank?}`. Codes are finAPI's `ErrorCode` enum only. Messages from
//!   the bank itself (wrong login, wrong TAN, cancelled redirect) are German, as finAPI passes them through;
//!   finAPI's own messages are English.

use std::convert::Infallible;

use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::{Value, json};

use super::ApiVersion;
use super::wire;

/// The header finAPI echoes back.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// What every answer of one request needs to know: API version, `endpoint` text and request id.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub version: ApiVersion,
    /// `POST /api/v2/bankConnections/import`
    pub endpoint: String,
    pub request_id: String,
}

impl<S: Send + Sync> FromRequestParts<S> for RequestContext {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let version = parts.extensions.get::<ApiVersion>().copied().unwrap_or(ApiVersion::V2);
        let path = parts
            .extensions
            .get::<OriginalUri>()
            .map(|uri| uri.0.path().to_owned())
            .unwrap_or_else(|| parts.uri.path().to_owned());
        let request_id = parts
            .headers
            .get(REQUEST_ID_HEADER)
            .and_then(|value| value.to_str().ok())
            .filter(|value| !value.is_empty() && value.len() <= 255)
            .map(str::to_owned)
            .unwrap_or_else(|| format!("selfgen-{}", random_uuid()));
        Ok(Self { version, endpoint: format!("{} {path}", parts.method), request_id })
    }
}

/// A random UUID-shaped string (version 4 layout).
pub fn random_uuid() -> String {
    let bytes: [u8; 16] = rand::random();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-4{}-a{}-{}", &hex[0..8], &hex[8..12], &hex[13..16], &hex[17..20], &hex[20..32])
}

/// `ErrorDetails.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    Business,
    Technical,
}

impl ErrorType {
    fn as_str(self) -> &'static str {
        match self {
            Self::Business => "BUSINESS",
            Self::Technical => "TECHNICAL",
        }
    }
}

/// The body of an error answer.
#[derive(Debug, Clone)]
pub enum ErrorBody {
    Envelope { code: &'static str, message: Option<String>, error_type: ErrorType, multi_step: Option<Value> },
    OAuth { error: &'static str, description: String },
}

/// An error answer, rendered with [`RequestContext`] into finAPI's shape.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: Box<ErrorBody>,
    pub retry_after_seconds: Option<u64>,
    /// The envelope's `bank` text, for bank-related errors.
    pub bank: Option<String>,
}

impl ApiError {
    fn envelope(status: StatusCode, code: &'static str, error_type: ErrorType, message: impl Into<String>) -> Self {
        Self {
            status,
            body: Box::new(ErrorBody::Envelope { code, message: Some(message.into()), error_type, multi_step: None }),
            retry_after_seconds: None,
            bank: None,
        }
    }

    /// A finAPI-side (technical) error.
    pub fn technical(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self::envelope(status, code, ErrorType::Technical, message)
    }

    /// A business error, meant for the user.
    pub fn business(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self::envelope(status, code, ErrorType::Business, message)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::technical(StatusCode::BAD_REQUEST, "BAD_REQUEST", message)
    }

    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::business(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    pub fn not_found(what: &str, id: impl std::fmt::Display) -> Self {
        Self::technical(StatusCode::NOT_FOUND, "UNKNOWN_ENTITY", format!("{what} with id {id} does not exist."))
    }

    /// A rejection by the bank: 422 `BANK_SERVER_REJECTION` with the bank's (German) message.
    pub fn bank_rejection(message: impl Into<String>) -> Self {
        Self::business(StatusCode::UNPROCESSABLE_ENTITY, "BANK_SERVER_REJECTION", message)
    }

    /// 510 with a multi-step authentication challenge.
    pub fn multi_step(message: Option<String>, challenge: Value) -> Self {
        Self {
            status: StatusCode::NOT_EXTENDED,
            body: Box::new(ErrorBody::Envelope {
                code: "ADDITIONAL_AUTHENTICATION_REQUIRED",
                message,
                error_type: ErrorType::Business,
                multi_step: Some(challenge),
            }),
            retry_after_seconds: None,
            bank: None,
        }
    }

    pub fn oauth(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            body: Box::new(ErrorBody::OAuth { error, description: description.into() }),
            retry_after_seconds: None,
            bank: None,
        }
    }

    /// 401 for a missing, unknown or expired bearer token.
    pub fn invalid_token(description: impl Into<String>) -> Self {
        Self::oauth(StatusCode::UNAUTHORIZED, "invalid_token", description)
    }

    /// 403 for a client bound to the other API version.
    pub fn version_mismatch() -> Self {
        Self::technical(StatusCode::FORBIDDEN, "FORBIDDEN", "API Version mismatch")
    }

    pub fn with_bank(mut self, bank: Option<String>) -> Self {
        self.bank = bank;
        self
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after_seconds = Some(seconds);
        self
    }

    /// The finished HTTP answer.
    pub fn render(self, context: &RequestContext) -> Response {
        let body = match *self.body {
            ErrorBody::OAuth { error, description } => {
                let resource_call = !context.endpoint.contains("/oauth/");
                let key = if context.version == ApiVersion::V1 && resource_call {
                    "errorDescription"
                } else {
                    "error_description"
                };
                json!({ "error": error, key: description })
            }
            ErrorBody::Envelope { code, message, error_type, multi_step } => {
                let mut detail = json!({ "message": message, "code": code, "type": error_type.as_str() });
                if let (Some(challenge), Some(object)) = (multi_step, detail.as_object_mut()) {
                    object.insert("multiStepAuthentication".to_owned(), challenge);
                }
                json!({
                    "errors": [detail],
                    "date": wire::timestamp(context.version, Utc::now()),
                    "requestId": context.request_id,
                    "endpoint": context.endpoint,
                    "authContext": "1/18",
                    "bank": self.bank,
                })
            }
        };
        let mut response = json_response(self.status, &body);
        if let Some(seconds) = self.retry_after_seconds {
            if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}

/// A JSON answer written with the money formatter.
pub fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, crate::json::to_bytes(body)).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json;charset=UTF-8"));
    response
}

/// A successful answer: status and JSON body.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
}

impl Reply {
    pub fn ok(body: Value) -> Self {
        Self { status: StatusCode::OK, body }
    }

    pub fn created(body: Value) -> Self {
        Self { status: StatusCode::CREATED, body }
    }
}

/// Turns a handler's result into the HTTP answer.
pub fn finish(context: &RequestContext, result: Result<Reply, ApiError>) -> Response {
    match result {
        Ok(reply) if reply.body.is_null() => reply.status.into_response(),
        Ok(reply) => json_response(reply.status, &reply.body),
        Err(error) => error.render(context),
    }
}
