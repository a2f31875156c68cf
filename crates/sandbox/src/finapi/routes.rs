//! finAPI handlers: tokens, users, banks, and reading connections, accounts and transactions.
//! Import and update (the MSA loop) live in [`super::connections`].

use std::cmp::Ordering;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};

use super::ApiVersion;
use super::errors::{ApiError, Reply, RequestContext, finish};
use super::store::{AccessGrant, ConnectionRecord, Row, Store, Subject, client_binding};
use super::wire;
use crate::json::money;
use crate::state::{DemoBankState, SharedState};

/// Query parameters as sent: repeated keys kept, comma lists split on demand.
#[derive(Debug, Default)]
pub struct QueryParams {
    pairs: Vec<(String, String)>,
}

impl QueryParams {
    pub fn parse(raw: Option<&str>) -> Self {
        let pairs = raw.map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default();
        Self { pairs }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// All values of `key`, accepting both `k=1,2` and `k=1&k=2`.
    pub fn list(&self, key: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == key)
            .flat_map(|(_, v)| v.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect::<Vec<_>>())
            .collect()
    }

    /// Like [`Self::list`], parsed as ids.
    pub fn ids(&self, key: &str) -> Result<Option<Vec<u64>>, ApiError> {
        let values = self.list(key);
        if values.is_empty() {
            return Ok(None);
        }
        values
            .iter()
            .map(|v| v.parse::<u64>().map_err(|_| ApiError::bad_request(format!("'{key}' must be a list of ids"))))
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    pub fn flag(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(_) => Err(ApiError::bad_request(format!("'{key}' must be true or false"))),
        }
    }

    pub fn date(&self, key: &str) -> Result<Option<NaiveDate>, ApiError> {
        self.get(key)
            .map(|v| {
                NaiveDate::parse_from_str(v, "%Y-%m-%d")
                    .map_err(|_| ApiError::bad_request(format!("'{key}' must be a date in the format YYYY-MM-DD")))
            })
            .transpose()
    }

    pub fn decimal(&self, key: &str) -> Result<Option<Decimal>, ApiError> {
        self.get(key)
            .map(|v| v.parse::<Decimal>().map_err(|_| ApiError::bad_request(format!("'{key}' must be a number"))))
            .transpose()
    }

    /// `page` (≥ 1, default 1) and `perPage` (1–500, default 20).
    pub fn paging(&self) -> Result<(u64, u64), ApiError> {
        let page = match self.get("page") {
            None => 1,
            Some(v) => v
                .parse::<u64>()
                .ok()
                .filter(|p| *p >= 1)
                .ok_or_else(|| ApiError::bad_request("'page' must be a number of at least 1"))?,
        };
        let per_page = match self.get("perPage") {
            None => 20,
            Some(v) => v.parse::<u64>().ok().filter(|p| (1..=500).contains(p)).ok_or_else(|| {
                ApiError::technical(StatusCode::BAD_REQUEST, "ILLEGAL_PAGE_SIZE", "'perPage' must be between 1 and 500")
            })?,
        };
        Ok((page, per_page))
    }
}

/// The version a client id is bound to (`None`: both), ignoring the secret.
fn binding_of(state: &DemoBankState, client_id: &str) -> Option<ApiVersion> {
    let config = &state.config;
    client_binding(
        &config.client_id,
        &config.client_secret,
        config.client_api_version,
        client_id,
        &config.client_secret,
    )
    .flatten()
}

/// The grant behind the request's bearer token, checked against the API version of the path.
pub fn authorize(state: &DemoBankState, headers: &HeaderMap, version: ApiVersion) -> Result<AccessGrant, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .ok_or_else(|| ApiError::invalid_token("Full authentication is required to access this resource"))?;
    let grant = state
        .store()
        .access(token)
        .ok_or_else(|| ApiError::invalid_token("Invalid access token: the token is unknown or has expired"))?;
    if binding_of(state, &grant.client_id).is_some_and(|bound| bound != version) {
        return Err(ApiError::version_mismatch());
    }
    Ok(grant)
}

/// The user key of a user token; a client token is refused.
pub fn require_user(grant: &AccessGrant) -> Result<String, ApiError> {
    match &grant.subject {
        Subject::User(key) => Ok(key.clone()),
        Subject::Client => Err(ApiError::technical(
            StatusCode::FORBIDDEN,
            "UNAUTHORIZED_ACCESS",
            "This service needs a user access token (grant_type=password), not a client token.",
        )),
    }
}

// ---------------------------------------------------------------------------------------------------------
// OAuth

pub async fn token(context: RequestContext, State(state): State<SharedState>, body: Bytes) -> Response {
    finish(&context, issue_token(&state, context.version, &body))
}

fn issue_token(state: &DemoBankState, version: ApiVersion, body: &[u8]) -> Result<Reply, ApiError> {
    let form: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
    let field = |key: &str| form.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    let client_id = field("client_id").unwrap_or_default();
    let client_secret = field("client_secret").unwrap_or_default();
    let config = &state.config;
    let Some(binding) =
        client_binding(&config.client_id, &config.client_secret, config.client_api_version, client_id, client_secret)
    else {
        return Err(ApiError::oauth(StatusCode::UNAUTHORIZED, "invalid_client", "Bad client credentials"));
    };
    if binding.is_some_and(|bound| bound != version) {
        return Err(ApiError::version_mismatch());
    }
    let mut store = state.store();
    match field("grant_type") {
        Some("client_credentials") => {
            let (token, remaining) = store.issue_access(client_id, Subject::Client, config.client_token_lifetime);
            Ok(Reply::ok(json!({
                "access_token": token,
                "token_type": "bearer",
                "expires_in": remaining.as_secs(),
                "scope": "all",
            })))
        }
        Some("password") => {
            let username = field("username").unwrap_or_default().to_lowercase();
            let password = field("password").unwrap_or_default();
            let known = store.users.get(&username).is_some_and(|user| user.password == password);
            if !known {
                return Err(ApiError::bad_request("Bad user credentials"));
            }
            let (token, remaining) =
                store.issue_access(client_id, Subject::User(username.clone()), config.user_token_lifetime);
            let refresh = store.issue_refresh(client_id, &username, config.refresh_token_lifetime);
            Ok(Reply::ok(json!({
                "access_token": token,
                "token_type": "bearer",
                "refresh_token": refresh,
                "expires_in": remaining.as_secs(),
                "scope": "all",
            })))
        }
        Some("refresh_token") => {
            let refresh = field("refresh_token").unwrap_or_default();
            let Some(user_key) = store.refresh_user(client_id, refresh) else {
                return Err(ApiError::bad_request("Invalid refresh token"));
            };
            let (token, remaining) = store.issue_access(client_id, Subject::User(user_key), config.user_token_lifetime);
            Ok(Reply::ok(json!({
                "access_token": token,
                "token_type": "bearer",
                "refresh_token": refresh,
                "expires_in": remaining.as_secs(),
                "scope": "all",
            })))
        }
        Some(other) => Err(ApiError::bad_request(format!("Unsupported grant type: {other}"))),
        None => Err(ApiError::bad_request("Missing grant type")),
    }
}

pub async fn revoke(
    context: RequestContext,
    State(state): State<SharedState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let result = authorize(&state, &headers, context.version).map(|_| {
        let query = QueryParams::parse(query.as_deref());
        let form: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
        let token = query
            .get("token")
            .map(str::to_owned)
            .or_else(|| form.iter().find(|(k, _)| k == "token").map(|(_, v)| v.clone()));
        if let Some(token) = token {
            state.store().revoke(&token);
        }
        Reply::ok(Value::Null)
    });
    finish(&context, result)
}

// ---------------------------------------------------------------------------------------------------------
// Users

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserCreateParams {
    id: Option<String>,
    password: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    is_auto_update_enabled: Option<bool>,
}

fn random_text(length: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    (0..length)
        .map(|_| {
            let index = usize::from(rand::random::<u8>()) % ALPHABET.len();
            char::from(ALPHABET.get(index).copied().unwrap_or(b'x'))
        })
        .collect()
}

pub async fn create_user(
    context: RequestContext,
    State(state): State<SharedState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = (|| {
        let grant = authorize(&state, &headers, context.version)?;
        if grant.subject != Subject::Client {
            return Err(ApiError::technical(
                StatusCode::FORBIDDEN,
                "UNAUTHORIZED_ACCESS",
                "Users are created with a client access token (grant_type=client_credentials).",
            ));
        }
        let params: UserCreateParams = if body.is_empty() {
            UserCreateParams::default()
        } else {
            serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(format!("Invalid request body: {e}")))?
        };
        let id = params.id.unwrap_or_else(|| random_text(20));
        let id_ok = (1..=36).contains(&id.len())
            && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+' | '@'));
        if !id_ok {
            return Err(ApiError::bad_request("'id' must be 1 to 36 characters of [0-9A-Za-z-_.+@]"));
        }
        let password = params.password.unwrap_or_else(|| random_text(16));
        if !(6..=128).contains(&password.chars().count()) {
            return Err(ApiError::bad_request("'password' must be 6 to 128 characters long"));
        }
        let key = id.to_lowercase();
        let mut store = state.store();
        if store.users.contains_key(&key) {
            return Err(ApiError::unprocessable("ENTITY_EXISTS", format!("A user with id '{id}' already exists.")));
        }
        let user = super::store::UserRecord {
            id,
            password,
            email: params.email,
            phone: params.phone,
            is_auto_update_enabled: params.is_auto_update_enabled.unwrap_or(false),
        };
        let body = wire::user(&user, true);
        store.users.insert(key, user);
        Ok(Reply::created(body))
    })();
    finish(&context, result)
}

pub async fn get_user(context: RequestContext, State(state): State<SharedState>, headers: HeaderMap) -> Response {
    let result = authorize(&state, &headers, context.version).and_then(|grant| {
        let key = require_user(&grant)?;
        let store = state.store();
        let user = store.users.get(&key).ok_or_else(|| ApiError::not_found("User", &key))?;
        Ok(Reply::ok(wire::user(user, false)))
    });
    finish(&context, result)
}

pub async fn delete_user(context: RequestContext, State(state): State<SharedState>, headers: HeaderMap) -> Response {
    let result = authorize(&state, &headers, context.version).and_then(|grant| {
        let key = require_user(&grant)?;
        let mut store = state.store();
        if store.connections.values().any(|c| c.user_key == key && c.is_busy()) {
            return Err(ApiError::business(
                StatusCode::LOCKED,
                "LOCKED",
                "A bank connection of this user is being updated; try again later.",
            ));
        }
        store.delete_user(&key);
        Ok(Reply::ok(Value::Null))
    });
    finish(&context, result)
}

// ---------------------------------------------------------------------------------------------------------
// Banks

pub async fn list_banks(
    context: RequestContext,
    State(state): State<SharedState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let result = authorize(&state, &headers, context.version).and_then(|_| {
        let query = QueryParams::parse(query.as_deref());
        search_banks(&state, context.version, &query)
    });
    finish(&context, result)
}

fn search_banks(state: &DemoBankState, version: ApiVersion, query: &QueryParams) -> Result<Reply, ApiError> {
    let (page, per_page) = query.paging()?;
    let terms: Vec<String> =
        query.get("search").map(|s| s.split_whitespace().map(str::to_lowercase).collect()).unwrap_or_default();
    let ids = query.ids("ids")?;
    let is_test_bank = query.flag("isTestBank")?;
    let locations = query.list("location");
    let interfaces_key = match version {
        ApiVersion::V1 => "supportedInterfaces",
        ApiVersion::V2 => "supportedBankingInterfaces",
    };
    let interfaces = query.list(interfaces_key);
    let mut banks: Vec<_> = state
        .catalog
        .banks
        .iter()
        .filter(|bank| ids.as_ref().is_none_or(|ids| ids.contains(&bank.id)))
        .filter(|bank| is_test_bank.is_none_or(|flag| bank.is_test_bank == flag))
        .filter(|bank| {
            locations.is_empty() || bank.location.as_ref().is_none_or(|loc| locations.iter().any(|l| l == loc))
        })
        .filter(|bank| {
            interfaces.is_empty()
                || bank.interfaces.iter().any(|spec| interfaces.iter().any(|i| i == spec.interface.as_str()))
        })
        .filter(|bank| {
            terms.iter().all(|term| {
                let compact_iban =
                    term.len() >= 12 && term.get(..2).is_some_and(|cc| cc.chars().all(char::is_alphabetic));
                bank.name.to_lowercase().contains(term)
                    || bank.blz.to_lowercase().contains(term)
                    || bank.bic.as_ref().is_some_and(|bic| bic.to_lowercase().contains(term))
                    || bank.city.as_ref().is_some_and(|city| city.to_lowercase().contains(term))
                    || (compact_iban && term.get(4..12).is_some_and(|blz| blz == bank.iban_blz))
            })
        })
        .collect();
    let order = query.get("order").unwrap_or("id,asc");
    let (property, direction) = order.split_once(',').unwrap_or((order, "asc"));
    let compare = |a: &&super::banks::Bank, b: &&super::banks::Bank| -> Ordering {
        match property {
            "name" => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
            "blz" => a.blz.cmp(&b.blz),
            "bic" => a.bic.cmp(&b.bic),
            "popularity" => a.popularity.cmp(&b.popularity),
            _ => a.id.cmp(&b.id),
        }
        .then(a.id.cmp(&b.id))
    };
    if !matches!(property, "id" | "name" | "blz" | "bic" | "popularity") || !matches!(direction, "asc" | "desc") {
        return Err(ApiError::bad_request(format!("Unsupported order '{order}'")));
    }
    banks.sort_by(compare);
    if direction == "desc" {
        banks.reverse();
    }
    let total = u64::try_from(banks.len()).unwrap_or(0);
    let page_items: Vec<Value> = banks
        .iter()
        .skip(usize::try_from((page - 1) * per_page).unwrap_or(usize::MAX))
        .take(usize::try_from(per_page).unwrap_or(0))
        .map(|bank| wire::bank(version, bank))
        .collect();
    Ok(Reply::ok(json!({"banks": page_items, "paging": wire::paging(page, per_page, total)})))
}

pub async fn get_bank(
    context: RequestContext,
    State(state): State<SharedState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let result = authorize(&state, &headers, context.version).and_then(|_| {
        let bank = id
            .parse::<u64>()
            .ok()
            .and_then(|id| state.catalog.get(id))
            .ok_or_else(|| ApiError::not_found("Bank", &id))?;
        Ok(Reply::ok(wire::bank(context.version, bank)))
    });
    finish(&context, result)
}

// ---------------------------------------------------------------------------------------------------------
// Bank connections (reads)

/// Reads a connection: each read while the download runs counts down towards `READY`.
fn read_connection(state: &DemoBankState, version: ApiVersion, user: &str, id: u64) -> Result<Value, ApiError> {
    let mut store = state.store();
    let connection = store.connection_of(user, id).ok_or_else(|| ApiError::not_found("Bank connection", id))?;
    let updating = connection.is_busy();
    if updating {
        connection.in_progress_reads_left -= 1;
    }
    let bank = state.catalog.get(connection.bank_id).ok_or_else(|| ApiError::not_found("Bank", connection.bank_id))?;
    Ok(wire::connection(version, connection, bank, updating))
}

pub async fn get_connection(
    context: RequestContext,
    State(state): State<SharedState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let result = authorize(&state, &headers, context.version).and_then(|grant| {
        let user = require_user(&grant)?;
        let id = id.parse::<u64>().map_err(|_| ApiError::not_found("Bank connection", &id))?;
        read_connection(&state, context.version, &user, id).map(Reply::ok)
    });
    finish(&context, result)
}

pub async fn list_connections(
    context: RequestContext,
    State(state): State<SharedState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let result = authorize(&state, &headers, context.version).and_then(|grant| {
        let user = require_user(&grant)?;
        let ids = QueryParams::parse(query.as_deref()).ids("ids")?;
        let own: Vec<u64> = state
            .store()
            .connections
            .values()
            .filter(|c| c.user_key == user && ids.as_ref().is_none_or(|ids| ids.contains(&c.id)))
            .map(|c| c.id)
            .collect();
        let connections = own
            .into_iter()
            .map(|id| read_connection(&state, context.version, &user, id))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Reply::ok(json!({"connections": connections})))
    });
    finish(&context, result)
}

pub async fn delete_connection(
    context: RequestContext,
    State(state): State<SharedState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let result = authorize(&state, &headers, context.version).and_then(|grant| {
        let user = require_user(&grant)?;
        let mut store = state.store();
        let id = idle_connection(&mut store, &user, &id)?.id;
        store.connections.remove(&id);
        Ok(Reply::ok(Value::Null))
    });
    finish(&context, result)
}

/// The user's connection `id`, refused with 423 while an import or update runs on it.
fn idle_connection<'a>(store: &'a mut Store, user: &str, id: &str) -> Result<&'a mut ConnectionRecord, ApiError> {
    let id = id.parse::<u64>().map_err(|_| ApiError::not_found("Bank connection", id))?;
    let connection = store.connection_of(user, id).ok_or_else(|| ApiError::not_found("Bank connection", id))?;
    if connection.is_busy() {
        return Err(ApiError::business(
            StatusCode::LOCKED,
            "LOCKED",
            format!("Bank connection {id} is currently being updated; try again later."),
        ));
    }
    Ok(connection)
}

/// `DELETE /bankConnections/{id}/aisConsent`: ends the connection's consent (423 while it is busy).
pub async fn delete_consent(
    context: RequestContext,
    State(state): State<SharedState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let result = authorize(&state, &headers, context.version).and_then(|grant| {
        let user = require_user(&grant)?;
        let mut store = state.store();
        idle_connection(&mut store, &user, &id)?.consent_revoked = true;
        Ok(Reply::ok(Value::Null))
    });
    finish(&context, result)
}

// ---------------------------------------------------------------------------------------------------------
// Accounts

pub async fn list_accounts(
    context: RequestContext,
    State(state): State<SharedState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let result = authorize(&state, &headers, context.version).and_then(|grant| {
        let user = require_user(&grant)?;
        let query = QueryParams::parse(query.as_deref());
        let ids = query.ids("ids")?;
        let connection_ids = query.ids("bankConnectionIds")?;
        let types = query.list("accountTypes");
        let type_ids = query.ids("accountTypeIds")?;
        let search = query.get("search").map(str::to_lowercase);
        let store = state.store();
        let accounts: Vec<Value> = store
            .accounts_of(&user)
            .filter(|(_, a)| ids.as_ref().is_none_or(|ids| ids.contains(&a.id)))
            .filter(|(c, _)| connection_ids.as_ref().is_none_or(|ids| ids.contains(&c.id)))
            .filter(|(_, a)| types.is_empty() || types.iter().any(|t| t == a.kind.finapi_name()))
            .filter(|(_, a)| type_ids.as_ref().is_none_or(|ids| ids.contains(&u64::from(a.kind.finapi_v1_id()))))
            .filter(|(_, a)| {
                search.as_ref().is_none_or(|s| {
                    a.name.to_lowercase().contains(s)
                        || a.iban.to_lowercase().contains(s)
                        || a.account_number.contains(s)
                })
            })
            .map(|(c, a)| wire::account(context.version, c, a))
            .collect();
        Ok(Reply::ok(json!({"accounts": accounts})))
    });
    finish(&context, result)
}

pub async fn get_account(
    context: RequestContext,
    State(state): State<SharedState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let result = authorize(&state, &headers, context.version).and_then(|grant| {
        let user = require_user(&grant)?;
        let store = state.store();
        let found = id.parse::<u64>().ok().and_then(|id| store.accounts_of(&user).find(|(_, a)| a.id == id));
        let (connection, account) = found.ok_or_else(|| ApiError::not_found("Account", &id))?;
        Ok(Reply::ok(wire::account(context.version, connection, account)))
    });
    finish(&context, result)
}

// ---------------------------------------------------------------------------------------------------------
// Transactions

/// The filters of `GET /transactions` the Demo Bank understands.
#[derive(Debug, Default)]
struct TransactionFilter {
    ids: Option<Vec<u64>>,
    min_date: Option<NaiveDate>,
    max_date: Option<NaiveDate>,
    min_amount: Option<Decimal>,
    max_amount: Option<Decimal>,
    direction: Option<String>,
    search: Option<String>,
    counterpart: Option<String>,
    purpose: Option<String>,
}

impl TransactionFilter {
    fn from_query(query: &QueryParams) -> Result<Self, ApiError> {
        let direction = query.get("direction").map(str::to_owned);
        if direction.as_deref().is_some_and(|d| !matches!(d, "all" | "income" | "spending")) {
            return Err(ApiError::bad_request("'direction' must be all, income or spending"));
        }
        Ok(Self {
            ids: query.ids("ids")?,
            min_date: query.date("minBankBookingDate")?,
            max_date: query.date("maxBankBookingDate")?,
            min_amount: query.decimal("minAmount")?,
            max_amount: query.decimal("maxAmount")?,
            direction: direction.filter(|d| d != "all"),
            search: query.get("search").map(str::to_lowercase),
            counterpart: query.get("counterpart").map(str::to_lowercase),
            purpose: query.get("purpose").map(str::to_lowercase),
        })
    }

    fn is_empty(&self) -> bool {
        self.ids.is_none()
            && self.min_date.is_none()
            && self.max_date.is_none()
            && self.min_amount.is_none()
            && self.max_amount.is_none()
            && self.direction.is_none()
            && self.search.is_none()
            && self.counterpart.is_none()
            && self.purpose.is_none()
    }

    fn matches(&self, row: &Row) -> bool {
        let b = &row.booking;
        let counterpart = b.counterpart.as_ref().map(|c| c.name.to_lowercase()).unwrap_or_default();
        let purpose = b.purpose.to_lowercase();
        self.ids.as_ref().is_none_or(|ids| ids.contains(&row.id))
            && self.min_date.is_none_or(|d| b.booking_date >= d)
            && self.max_date.is_none_or(|d| b.booking_date <= d)
            && self.min_amount.is_none_or(|a| b.amount >= a)
            && self.max_amount.is_none_or(|a| b.amount <= a)
            && self.direction.as_deref().is_none_or(|d| (d == "income") != b.amount.is_sign_negative())
            && self.search.as_ref().is_none_or(|s| purpose.contains(s) || counterpart.contains(s))
            && self.counterpart.as_ref().is_none_or(|s| counterpart.contains(s))
            && self.purpose.as_ref().is_none_or(|s| purpose.contains(s))
    }
}

type RowOrder = Vec<(String, bool)>;

fn parse_order(query: &QueryParams) -> Result<RowOrder, ApiError> {
    let mut order = Vec::new();
    for entry in query.pairs.iter().filter(|(k, _)| k == "order").map(|(_, v)| v) {
        let (property, direction) = entry.split_once(',').unwrap_or((entry.as_str(), "asc"));
        if !matches!(
            property,
            "id" | "accountId"
                | "valueDate"
                | "bankBookingDate"
                | "finapiBookingDate"
                | "amount"
                | "purpose"
                | "counterpartName"
                | "importDate"
        ) || !matches!(direction, "asc" | "desc")
        {
            return Err(ApiError::bad_request(format!("Unsupported order '{entry}'")));
        }
        order.push((property.to_owned(), direction == "desc"));
    }
    Ok(order)
}

fn compare_rows(order: &RowOrder, a: &Row, b: &Row) -> Ordering {
    for (property, descending) in order {
        let ordering = match property.as_str() {
            "accountId" => a.account_id.cmp(&b.account_id),
            "valueDate" => a.booking.value_date.cmp(&b.booking.value_date),
            "bankBookingDate" | "finapiBookingDate" => a.booking.booking_date.cmp(&b.booking.booking_date),
            "amount" => a.booking.amount.cmp(&b.booking.amount),
            "purpose" => a.booking.purpose.cmp(&b.booking.purpose),
            "counterpartName" => {
                a.booking.counterpart.as_ref().map(|c| &c.name).cmp(&b.booking.counterpart.as_ref().map(|c| &c.name))
            }
            "importDate" => a.imported_at.cmp(&b.imported_at),
            _ => a.id.cmp(&b.id),
        };
        let ordering = if *descending { ordering.reverse() } else { ordering };
        if ordering != Ordering::Equal {
            return ordering;
        }
    }
    a.id.cmp(&b.id)
}

pub async fn list_transactions(
    context: RequestContext,
    State(state): State<SharedState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let result = authorize(&state, &headers, context.version).and_then(|grant| {
        let user = require_user(&grant)?;
        let query = QueryParams::parse(query.as_deref());
        transactions_page(&state, context.version, &user, &query)
    });
    finish(&context, result)
}

fn transactions_page(
    state: &DemoBankState,
    version: ApiVersion,
    user: &str,
    query: &QueryParams,
) -> Result<Reply, ApiError> {
    match query.get("view") {
        Some("bankView" | "userView") => {}
        Some(other) => {
            return Err(ApiError::bad_request(format!("'view' must be bankView or userView, not '{other}'")));
        }
        None => return Err(ApiError::bad_request("'view' is required (bankView or userView)")),
    }
    let (page, per_page) = query.paging()?;
    let account_ids = query.ids("accountIds")?;
    let filter = TransactionFilter::from_query(query)?;
    let order = parse_order(query)?;
    let store = state.store();
    let accounts: Vec<_> = store
        .accounts_of(user)
        .map(|(_, a)| a)
        .filter(|a| account_ids.as_ref().is_none_or(|ids| ids.contains(&a.id)))
        .collect();
    let skip = (page - 1).saturating_mul(per_page);
    let id_order_only = order.iter().all(|(property, _)| property == "id");
    let (rows, total, income, spending) = if filter.is_empty() && id_order_only {
        // Fast path: rows are the concatenation of the accounts' rows in id order; generate only this page.
        let descending = order.first().is_some_and(|(_, desc)| *desc);
        let total: u64 = accounts.iter().map(|a| a.row_count()).sum();
        let (income, spending) = accounts
            .iter()
            .map(|a| a.income_and_spending())
            .fold((Decimal::ZERO, Decimal::ZERO), |(i, s), (ai, asp)| (i + ai, s + asp));
        let mut rows = Vec::new();
        let end = skip.saturating_add(per_page).min(total);
        for position in skip..end {
            let mut index = if descending { total - 1 - position } else { position };
            for account in &accounts {
                if index < account.row_count() {
                    rows.extend(account.row(index, state.today));
                    break;
                }
                index -= account.row_count();
            }
        }
        (rows, total, income, spending)
    } else {
        let mut matched: Vec<Row> = accounts
            .iter()
            .flat_map(|a| (0..a.row_count()).filter_map(|i| a.row(i, state.today)))
            .filter(|row| filter.matches(row))
            .collect();
        matched.sort_by(|a, b| compare_rows(&order, a, b));
        let income: Decimal = matched.iter().map(|r| r.booking.amount).filter(|a| !a.is_sign_negative()).sum();
        let spending: Decimal = matched.iter().map(|r| r.booking.amount).filter(|a| a.is_sign_negative()).sum();
        let total = u64::try_from(matched.len()).unwrap_or(0);
        let rows = matched
            .into_iter()
            .skip(usize::try_from(skip).unwrap_or(usize::MAX))
            .take(usize::try_from(per_page).unwrap_or(0))
            .collect();
        (rows, total, income, spending)
    };
    let transactions: Vec<Value> = rows.iter().map(|row| wire::transaction(version, row)).collect();
    Ok(Reply::ok(json!({
        "transactions": transactions,
        "paging": wire::paging(page, per_page, total),
        "income": money(income),
        "spending": money(spending),
        "balance": money(income + spending),
    })))
}

pub async fn get_transaction(
    context: RequestContext,
    State(state): State<SharedState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let result = authorize(&state, &headers, context.version).and_then(|grant| {
        let user = require_user(&grant)?;
        let row = id
            .parse::<u64>()
            .ok()
            .and_then(|id| state.store().find_transaction(&user, id, state.today))
            .ok_or_else(|| ApiError::not_found("Transaction", &id))?;
        Ok(Reply::ok(wire::transaction(context.version, &row)))
    });
    finish(&context, result)
}

pub async fn list_pending_transactions(
    context: RequestContext,
    State(state): State<SharedState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let result = authorize(&state, &headers, context.version).and_then(|grant| {
        let user = require_user(&grant)?;
        let query = QueryParams::parse(query.as_deref());
        let (page, per_page) = query.paging()?;
        let account_ids = query.ids("accountIds")?;
        let store = state.store();
        let all: Vec<Value> = store
            .accounts_of(&user)
            .filter(|(_, a)| account_ids.as_ref().is_none_or(|ids| ids.contains(&a.id)))
            .flat_map(|(_, a)| a.pending.iter().map(move |p| wire::pending_transaction(a.id, p)))
            .collect();
        let total = u64::try_from(all.len()).unwrap_or(0);
        let items: Vec<Value> = all
            .into_iter()
            .skip(usize::try_from((page - 1) * per_page).unwrap_or(usize::MAX))
            .take(usize::try_from(per_page).unwrap_or(0))
            .collect();
        Ok(Reply::ok(json!({"pendingTransactions": items, "paging": wire::paging(page, per_page, total)})))
    });
    finish(&context, result)
}
