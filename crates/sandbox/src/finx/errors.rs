//! finX's error envelope (finx.md §8) and JSON answers.
//!
//! Every error is `{"error":{"code","group","name"?,"description","data"}}` with HTTP status ≥ 400. `group`
//! follows the code range (1000s client, 10000s user, 20000s bank, 30000s general). `data` maps field names to
//! lists of messages for validation errors and is `{}` otherwise. `name` is set only where a client must tell
//! errors apart that share a code (`invalid_grant`, `unsupported_grant_type`, `invalid_scope`).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

/// A finX error answer.
#[derive(Debug, Clone)]
pub struct FinxError {
    pub status: StatusCode,
    pub code: u32,
    pub name: Option<&'static str>,
    pub description: String,
    pub data: Map<String, Value>,
    www_authenticate: Option<String>,
    retry_after: Option<u64>,
}

/// The `group` of an error code.
pub fn group(code: u32) -> &'static str {
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

impl FinxError {
    pub fn new(status: StatusCode, code: u32, description: impl Into<String>) -> Self {
        Self {
            status,
            code,
            name: None,
            description: description.into(),
            data: Map::new(),
            www_authenticate: None,
            retry_after: None,
        }
    }

    /// 400, code 1000 "Request body doesn't match input schema." with `data.{field} = [message]`.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, 1000, "Request body doesn't match input schema.").with_data(field, message)
    }

    /// 404, code 1002.
    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, 1002, format!("{what} not found."))
    }

    /// 401, code 1003, `WWW-Authenticate: Bearer …` (a missing, unknown, expired or revoked access token).
    pub fn invalid_token(description: &str) -> Self {
        let mut error = Self::new(StatusCode::UNAUTHORIZED, 1003, format!("Unauthorized: {description}"));
        error.www_authenticate =
            Some(format!("Bearer realm=\"finX\", error=\"invalid_token\", error_description=\"{description}\""));
        error
    }

    /// 401, code 1004, `WWW-Authenticate: Basic realm="finX"` (bad client credentials).
    pub fn invalid_client() -> Self {
        let mut error = Self::new(StatusCode::UNAUTHORIZED, 1004, "Invalid client authentication.");
        error.www_authenticate = Some("Basic realm=\"finX\"".to_owned());
        error
    }

    /// 400, code 1003, name `invalid_grant`: bad, expired, used or mismatching code or refresh token.
    pub fn invalid_grant(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut error = Self::new(StatusCode::BAD_REQUEST, 1003, format!("Invalid grant: {message}"));
        error.name = Some("invalid_grant");
        error.with_data(field, message)
    }

    pub fn with_name(mut self, name: &'static str) -> Self {
        self.name = Some(name);
        self
    }

    /// Adds `message` to `data.{field}`.
    pub fn with_data(mut self, field: &str, message: impl Into<String>) -> Self {
        let entry = self.data.entry(field.to_owned()).or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = entry {
            list.push(Value::String(message.into()));
        }
        self
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// The envelope as JSON.
    pub fn body(&self) -> Value {
        let mut error = json!({
            "code": self.code,
            "group": group(self.code),
            "description": self.description,
            "data": Value::Object(self.data.clone()),
        });
        if let (Some(name), Some(object)) = (self.name, error.as_object_mut()) {
            object.insert("name".to_owned(), Value::String(name.to_owned()));
        }
        json!({ "error": error })
    }

    pub fn into_response_value(self) -> Response {
        let mut response = json_response(self.status, &self.body());
        if let Some(value) = self.www_authenticate.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
        }
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl IntoResponse for FinxError {
    fn into_response(self) -> Response {
        self.into_response_value()
    }
}

/// A JSON answer; floats are money and are written with two decimals ([`crate::json`]).
pub fn json_response(status: StatusCode, value: &Value) -> Response {
    let mut response = (status, crate::json::to_bytes(value)).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// The result type of finX handlers.
pub type FinxResult = Result<Response, FinxError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_has_group_and_data() {
        let body = FinxError::invalid("redirect_uri", "Not a valid URL.").body();
        assert_eq!(
            body,
            json!({"error":{"code":1000,"group":"client","description":"Request body doesn't match input schema.",
                "data":{"redirect_uri":["Not a valid URL."]}}})
        );
        assert_eq!(group(10004), "user");
    }
}
