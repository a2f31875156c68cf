//! Client and user authentication: HTTP Basic for the client, `POST /auth/token`, `POST /auth/revoke`, and the
//! Bearer check of `/rest` calls.
//!
//! Rules (finx.md §3):
//! - codes are single use and live `authorization_code_lifetime`; the exchange needs the link's `redirect_uri`;
//!   a replayed code is refused **and** revokes the tokens issued for it;
//! - a code exchange of an ongoing user invalidates every refresh token that user held before (one refresh token
//!   per finX user);
//! - each refresh answers a new refresh token; the used one is dead at once (every later use → `invalid_grant`);
//!   each new one lives `refresh_token_lifetime` from its issue;
//! - tokens are JWT-shaped (`header.payload.signature`, base64url) and looked up, not verified; refresh tokens are
//!   longer than 2048 characters on purpose (finx.md: store ≥ 2048 bytes).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use rand::RngCore as _;
use serde::Deserialize;
use serde_json::{Value, json};

use super::FinxShared;
use super::errors::{FinxError, FinxResult, json_response};
use super::store::{AccessToken, FinxStore, RefreshToken};

/// The scope of one-time and income-report flows (no `offline`: no refresh token).
pub const ONETIME_SCOPE: &str = "accounts=ro balance=ro transactions=ro";
/// The scope of ongoing flows.
pub const ONGOING_SCOPE: &str = "accounts=ro balance=ro transactions=ro offline";

/// Minimum length of refresh tokens.
pub const REFRESH_TOKEN_MIN_LENGTH: usize = 2048;

fn random_bytes(count: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; count];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes
}

/// A JWT-shaped opaque token: `base64url(header).base64url(claims).base64url(random)`.
pub fn jwt_like(claims: &Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signature = URL_SAFE_NO_PAD.encode(random_bytes(32));
    format!("{header}.{payload}.{signature}")
}

fn claims(kind: &str, user: u64, expires_at: DateTime<Utc>) -> Value {
    json!({"typ": kind, "sub": format!("U{user}"), "iat": Utc::now().timestamp(), "exp": expires_at.timestamp(),
           "jti": URL_SAFE_NO_PAD.encode(random_bytes(12)), "iss": "kontor-demo-bank/finx"})
}

/// A widget token for the `location` of a link.
pub fn widget_token(flow_id: &str) -> String {
    jwt_like(&json!({"typ": "widget", "flow": flow_id, "jti": URL_SAFE_NO_PAD.encode(random_bytes(12))}))
}

/// A new authorization code.
pub fn authorization_code(user: u64, expires_at: DateTime<Utc>) -> String {
    jwt_like(&claims("code", user, expires_at))
}

fn refresh_token_text(user: u64, expires_at: DateTime<Utc>) -> String {
    let mut claims = claims("refresh", user, expires_at);
    if let Some(object) = claims.as_object_mut() {
        object.insert("ctx".to_owned(), Value::String(URL_SAFE_NO_PAD.encode(random_bytes(1600))));
    }
    jwt_like(&claims)
}

/// Whole seconds, rounded up (so a 300 ms lifetime is not reported as 0).
pub fn seconds(duration: std::time::Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

fn chrono_duration(duration: std::time::Duration) -> chrono::Duration {
    chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX)
}

/// Checks `Authorization: Basic base64(client_id:client_secret)`.
pub fn check_client(state: &FinxShared, headers: &HeaderMap) -> Result<(), FinxError> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic ")))
        .and_then(|encoded| STANDARD.decode(encoded.trim()).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok());
    let expected = format!("{}:{}", state.client_id, state.client_secret);
    if given.as_deref() == Some(expected.as_str()) { Ok(()) } else { Err(FinxError::invalid_client()) }
}

/// The user of a `/rest` call, from `Authorization: Bearer <access_token>`.
pub fn authenticate(store: &FinxStore, headers: &HeaderMap) -> Result<u64, FinxError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")))
        .map(str::trim)
        .ok_or_else(|| FinxError::invalid_token("missing bearer token"))?;
    let entry = store.access_tokens.get(token).ok_or_else(|| FinxError::invalid_token("unknown access token"))?;
    if entry.revoked {
        return Err(FinxError::invalid_token("the access token was revoked"));
    }
    if entry.expires_at <= Utc::now() {
        return Err(FinxError::invalid_token("the access token expired"));
    }
    Ok(entry.user)
}

/// Issues an access token (and, with `offline` in `scope`, a refresh token) for `user`.
fn issue(state: &FinxShared, store: &mut FinxStore, user: u64, scope: &str) -> (Value, Vec<String>) {
    let now = Utc::now();
    let access_expires = now + chrono_duration(state.config.access_token_lifetime);
    let access_token = jwt_like(&claims("access", user, access_expires));
    let mut issued = vec![access_token.clone()];
    let refresh = scope.split_whitespace().any(|flag| flag == "offline").then(|| {
        let expires_at = now + chrono_duration(state.config.refresh_token_lifetime);
        let text = refresh_token_text(user, expires_at);
        let generation = store.users.get(&user).map_or(0, |u| u.refresh_generation);
        store
            .refresh_tokens
            .insert(text.clone(), RefreshToken { user, scope: scope.to_owned(), expires_at, spent: false, generation });
        issued.push(text.clone());
        text
    });
    store.access_tokens.insert(
        access_token.clone(),
        AccessToken {
            user,
            scope: scope.to_owned(),
            expires_at: access_expires,
            revoked: false,
            refresh: refresh.clone(),
        },
    );
    let mut body = json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": seconds(state.config.access_token_lifetime),
        "scope": scope,
    });
    if let (Some(refresh), Some(object)) = (refresh, body.as_object_mut()) {
        object.insert("refresh_token".to_owned(), Value::String(refresh));
    }
    (body, issued)
}

/// The body of `POST /auth/token` (JSON, or form-encoded).
#[derive(Debug, Default, Deserialize)]
struct TokenRequest {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    refresh_token: Option<String>,
    scope: Option<String>,
}

/// Parses a JSON body, or a form body when the content type says so.
pub fn parse_body<T: for<'de> Deserialize<'de> + Default>(headers: &HeaderMap, body: &Bytes) -> Result<T, FinxError> {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    if form {
        let pairs: serde_json::Map<String, Value> = url::form_urlencoded::parse(body)
            .map(|(key, value)| (key.into_owned(), Value::String(value.into_owned())))
            .collect();
        serde_json::from_value(Value::Object(pairs)).map_err(|error| FinxError::invalid("_schema", error.to_string()))
    } else {
        serde_json::from_slice(body).map_err(|error| FinxError::invalid("_schema", error.to_string()))
    }
}

/// `POST /auth/token`.
pub async fn token(State(state): State<FinxShared>, headers: HeaderMap, body: Bytes) -> FinxResult {
    check_client(&state, &headers)?;
    let request: TokenRequest = parse_body(&headers, &body)?;
    let now = Utc::now();
    let mut store = state.store();
    match request.grant_type.as_deref() {
        Some("authorization_code") => {
            let code = request.code.ok_or_else(|| FinxError::invalid("code", "Missing data for required field."))?;
            let redirect_uri = request
                .redirect_uri
                .ok_or_else(|| FinxError::invalid("redirect_uri", "Missing data for required field."))?;
            let entry = store
                .codes
                .get_mut(&code)
                .ok_or_else(|| FinxError::invalid_grant("code", "The authorization code is unknown."))?;
            if entry.used {
                let issued = std::mem::take(&mut entry.issued);
                for token in issued {
                    if let Some(access) = store.access_tokens.get_mut(&token) {
                        access.revoked = true;
                    }
                    if let Some(refresh) = store.refresh_tokens.get_mut(&token) {
                        refresh.spent = true;
                    }
                }
                return Err(FinxError::invalid_grant("code", "The authorization code was already used."));
            }
            if entry.expires_at <= now {
                return Err(FinxError::invalid_grant("code", "The authorization code expired."));
            }
            if entry.redirect_uri != redirect_uri {
                return Err(FinxError::invalid_grant(
                    "redirect_uri",
                    "The redirect_uri does not match the one of the widget link.",
                ));
            }
            entry.used = true;
            let (user, scope) = (entry.user, entry.scope.clone());
            if let Some(owner) = store.users.get_mut(&user) {
                owner.refresh_generation += 1;
            }
            let (body, issued) = issue(&state, &mut store, user, &scope);
            if let Some(entry) = store.codes.get_mut(&code) {
                entry.issued = issued;
            }
            Ok(json_response(StatusCode::OK, &body))
        }
        Some("refresh_token") => {
            let token = request
                .refresh_token
                .ok_or_else(|| FinxError::invalid("refresh_token", "Missing data for required field."))?;
            let entry = store
                .refresh_tokens
                .get(&token)
                .cloned()
                .ok_or_else(|| FinxError::invalid_grant("refresh_token", "The refresh token is unknown."))?;
            let generation = store.users.get(&entry.user).map_or(0, |user| user.refresh_generation);
            if entry.spent {
                return Err(FinxError::invalid_grant(
                    "refresh_token",
                    "The refresh token was already used; use the one from the last refresh.",
                ));
            }
            if entry.generation != generation {
                return Err(FinxError::invalid_grant(
                    "refresh_token",
                    "The refresh token was replaced by a newer authorization of this user.",
                ));
            }
            if entry.expires_at <= now {
                return Err(FinxError::invalid_grant("refresh_token", "The refresh token expired (inactivity)."));
            }
            let scope = match request.scope.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                None => entry.scope.clone(),
                Some(narrower) => {
                    let granted: Vec<&str> = entry.scope.split_whitespace().collect();
                    if narrower.split_whitespace().any(|flag| !granted.contains(&flag)) {
                        return Err(FinxError::new(
                            StatusCode::BAD_REQUEST,
                            1000,
                            "The requested scope exceeds the granted scope.",
                        )
                        .with_name("invalid_scope")
                        .with_data("scope", "A refresh may only narrow the scope."));
                    }
                    narrower.to_owned()
                }
            };
            if let Some(used) = store.refresh_tokens.get_mut(&token) {
                used.spent = true;
            }
            let (body, _) = issue(&state, &mut store, entry.user, &scope);
            Ok(json_response(StatusCode::OK, &body))
        }
        Some(other) => Err(FinxError::new(StatusCode::BAD_REQUEST, 1000, format!("Unsupported grant_type {other:?}."))
            .with_name("unsupported_grant_type")
            .with_data("grant_type", "Must be one of: authorization_code, refresh_token.")),
        None => Err(FinxError::invalid("grant_type", "Missing data for required field.")),
    }
}

#[derive(Debug, Default, Deserialize)]
struct RevokeRequest {
    token: Option<String>,
    #[serde(default)]
    cascade: bool,
}

/// `POST /auth/revoke` `{token, cascade}`: 200 `{}` (also for unknown tokens).
pub async fn revoke(State(state): State<FinxShared>, headers: HeaderMap, body: Bytes) -> FinxResult {
    check_client(&state, &headers)?;
    let request: RevokeRequest = parse_body(&headers, &body)?;
    let token = request.token.ok_or_else(|| FinxError::invalid("token", "Missing data for required field."))?;
    let mut store = state.store();
    let mut cascade_refresh = None;
    if let Some(access) = store.access_tokens.get_mut(&token) {
        access.revoked = true;
        cascade_refresh = access.refresh.clone().filter(|_| request.cascade);
    }
    for refresh in [Some(token), cascade_refresh].into_iter().flatten() {
        if let Some(entry) = store.refresh_tokens.get_mut(&refresh) {
            entry.spent = true;
        }
    }
    Ok(json_response(StatusCode::OK, &json!({})))
}
