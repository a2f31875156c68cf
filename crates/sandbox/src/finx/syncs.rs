//! Provider synchronizations (finx.md §5) and their SCA challenges (§6).
//!
//! `POST /rest/accesses/{id}/syncs` answers 201 with status `QUEUED`. The sync moves only when it is polled
//! (`GET …/syncs/{sid}`), which keeps every test deterministic:
//!
//! `QUEUED → RUNNING` (for `running_polls` polls) `→` login check `→` (`AWAIT_AUTH` with a challenge `→ RUNNING`)*
//! `→ COMPLETED`, or `FAILED` with an `error`.
//!
//! Which challenges appear depends on the access's provider ([`super::providers`]) and login: `demo` always
//! needs SCA, `demo_no_sca` never. Answers go to `POST …/challenges/{cid}/response` (202 `{}`): `METHOD_SELECTION`
//! `{"method_id"}`, `EMBEDDED` `{"value"}` (TAN `123456`; a wrong TAN fails the sync with 10004). `REDIRECT`
//! continues when the bank page was approved, `DECOUPLED` after `decoupled_polls` further polls; a POST to their
//! `response` is accepted (202) and changes nothing.

use std::borrow::Cow;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::FinxShared;
use super::errors::{FinxError, FinxResult, json_response};
use super::links::{callback_url, opt};
use super::providers::{AuthMethod, ChallengeStyle, DEMO_TAN, LOGIN_WITH_SCA, ProviderSca};
use super::store::{DataContext, FinxStore, SyncStatus};
use super::tokens::{authenticate, parse_body};
use crate::challenge::{flicker, qr_png};

/// The sync's `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize)]
pub enum SyncState {
    Queued,
    Running,
    AwaitAuth,
    Completed,
    Failed,
}

impl SyncState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "QUEUED",
            Self::Running => "RUNNING",
            Self::AwaitAuth => "AWAIT_AUTH",
            Self::Completed => "COMPLETED",
            Self::Failed => "FAILED",
        }
    }

    fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed)
    }
}

/// The `error` of a failed sync.
#[derive(Debug, Clone, serde::Serialize, Deserialize)]
pub struct SyncError {
    pub code: u32,
    pub name: Cow<'static, str>,
    /// The bank's own text (German).
    pub message: String,
    pub description: Cow<'static, str>,
}

impl SyncError {
    fn json(&self) -> Value {
        json!({"code": self.code, "name": self.name, "message": self.message, "description": self.description,
               "group": super::errors::group(self.code)})
    }

    fn credentials_invalid() -> Self {
        Self {
            code: 10000,
            name: Cow::Borrowed("LOGIN_CREDENTIALS_INVALID"),
            message: "Die Anmeldung ist fehlgeschlagen. Bitte überprüfen Sie Anmeldename und PIN.".to_owned(),
            description: Cow::Borrowed("Login credentials are invalid."),
        }
    }

    fn tan_invalid() -> Self {
        Self {
            code: 10004,
            name: Cow::Borrowed("TAN_INVALID"),
            message: "Die eingegebene TAN ist ungültig.".to_owned(),
            description: Cow::Borrowed("TAN is invalid."),
        }
    }

    fn consent_expired(expired: DateTime<Utc>) -> Self {
        Self {
            code: 10005,
            name: Cow::Borrowed("NO_AUTHORIZATION_FOR_ACCOUNT"),
            message: format!(
                "Die Zustimmung ist am {} abgelaufen. Bitte erteilen Sie sie über das Widget neu.",
                expired.format("%d.%m.%Y")
            ),
            description: Cow::Borrowed(
                "No authorization for account: the consent expired; renew it with a new widget flow.",
            ),
        }
    }

    fn redirect_cancelled() -> Self {
        Self {
            code: 20006,
            name: Cow::Borrowed("LOGIN_NOT_POSSIBLE"),
            message: "Der Vorgang wurde vom Kunden auf der Seite der Bank abgebrochen.".to_owned(),
            description: Cow::Borrowed("Login not possible: the user cancelled at the bank."),
        }
    }
}

/// What a challenge asks for.
#[derive(Debug, Clone)]
pub enum ChallengeKind {
    MethodSelection(Vec<&'static AuthMethod>),
    Embedded(&'static AuthMethod),
    Redirect,
    Decoupled,
}

/// A challenge raised by a sync, with its JSON fixed at creation.
#[derive(Debug, Clone)]
pub struct Challenge {
    pub id: String,
    pub kind: ChallengeKind,
    pub json: Value,
    pub answered: bool,
    /// The redirect bank page id (`REDIRECT`).
    pub page: Option<String>,
}

/// What happens when the current `RUNNING` wait ends.
#[derive(Debug, Clone)]
enum Next {
    Login,
    Challenge(ChallengeKind),
    Fetch,
    Fail(SyncError),
    Nothing,
}

/// The user's decision on the redirect bank's page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirectDecision {
    Approved,
    Cancelled,
}

/// One synchronization.
#[derive(Debug, Clone)]
pub struct Sync {
    pub id: String,
    pub access_id: String,
    pub status: SyncState,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
    wait: u32,
    next: Next,
    pub challenges: Vec<Challenge>,
    error: Option<SyncError>,
    transactions: bool,
    scope: Vec<String>,
    redirect_uri: Option<String>,
    state: Option<String>,
    credentials: Option<(String, String)>,
    save_secrets: Option<bool>,
    sync_period: Option<u32>,
    reuse_method: bool,
    reuse_medium: bool,
    decoupled_left: u32,
    redirect: Option<RedirectDecision>,
}

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn time_opt(at: Option<DateTime<Utc>>) -> Value {
    at.map_or(Value::Null, |at| Value::String(time(at)))
}

/// A finished (`COMPLETED` or `FAILED`) sync as the state file keeps it: what its Synchronization object
/// shows. Unfinished syncs are not kept; a client starts a new one after a restart.
#[derive(Debug, Clone, serde::Serialize, Deserialize)]
pub struct SavedSync {
    pub id: String,
    pub access_id: String,
    pub status: SyncState,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub scope: Vec<String>,
    pub state: Option<String>,
    pub error: Option<SyncError>,
}

impl Sync {
    /// The sync for the state file, if it is finished.
    pub fn saved(&self) -> Option<SavedSync> {
        self.status.is_terminal().then(|| SavedSync {
            id: self.id.clone(),
            access_id: self.access_id.clone(),
            status: self.status,
            created_at: self.created_at,
            started_at: self.started_at,
            ended_at: self.ended_at,
            scope: self.scope.clone(),
            state: self.state.clone(),
            error: self.error.clone(),
        })
    }

    /// A finished sync read back from the state file.
    pub fn restore(saved: SavedSync) -> Self {
        let transactions = saved.scope.iter().any(|s| s == "TRANSACTIONS");
        Self {
            id: saved.id,
            access_id: saved.access_id,
            status: saved.status,
            created_at: saved.created_at,
            started_at: saved.started_at,
            ended_at: saved.ended_at,
            wait: 0,
            next: Next::Nothing,
            challenges: Vec::new(),
            error: saved.error,
            transactions,
            scope: saved.scope,
            redirect_uri: None,
            state: saved.state,
            credentials: None,
            save_secrets: None,
            sync_period: None,
            reuse_method: false,
            reuse_medium: false,
            decoupled_left: 0,
            redirect: None,
        }
    }

    fn current(&self) -> Option<&Challenge> {
        self.challenges.last().filter(|_| self.status == SyncState::AwaitAuth)
    }

    /// The Synchronization object.
    pub fn json(&self) -> Value {
        json!({
            "id": self.id,
            "access_id": self.access_id,
            "status": self.status.as_str(),
            "created_at": time(self.created_at),
            "started_at": time_opt(self.started_at),
            "ended_at": time_opt(self.ended_at),
            "scope": self.scope,
            "state": opt(self.state.as_deref()),
            "challenge": self.current().map_or(Value::Null, |c| c.json.clone()),
            "error": self.error.as_ref().map_or(Value::Null, SyncError::json),
        })
    }
}

#[derive(Debug, Default, Deserialize)]
struct SyncRequest {
    credentials: Option<Value>,
    save_secrets: Option<bool>,
    #[allow(dead_code)]
    disable_notifications: Option<bool>,
    redirect_uri: Option<String>,
    state: Option<String>,
    scope: Option<Vec<String>>,
    reuse_last_auth_method: Option<bool>,
    reuse_last_auth_medium: Option<bool>,
    psu_ip_address: Option<String>,
    sync_period: Option<i64>,
}

/// `POST /rest/accesses/{access_id}/syncs`.
pub async fn start(
    State(state): State<FinxShared>,
    Path(access_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> FinxResult {
    let mut store = state.store();
    let user = authenticate(&store, &headers)?;
    let request: SyncRequest = parse_body(&headers, &body)?;
    let Some(access) = store.accesses.get(&access_id).filter(|access| access.user == user) else {
        return Err(FinxError::not_found("Access"));
    };
    if let Some(uri) = &request.redirect_uri
        && url::Url::parse(uri).is_err()
    {
        return Err(FinxError::invalid("redirect_uri", "Not a valid URL."));
    }
    if let Some(value) = &request.state
        && (value.is_empty() || value.chars().count() > 1024)
    {
        return Err(FinxError::invalid("state", "Length must be between 1 and 1024."));
    }
    let scope = request.scope.clone().unwrap_or_else(|| vec!["TRANSACTIONS".to_owned()]);
    if scope.is_empty() || scope.iter().any(|s| s != "ACCOUNTS" && s != "TRANSACTIONS") {
        return Err(FinxError::invalid("scope", "Must be a non-empty list of ACCOUNTS, TRANSACTIONS."));
    }
    let sync_period = match request.sync_period {
        None => None,
        Some(days) => match u32::try_from(days) {
            Ok(days) if (1..=730).contains(&days) => Some(days),
            _ => return Err(FinxError::invalid("sync_period", "Must be between 1 and 730.")),
        },
    };
    let psu_ip = request
        .psu_ip_address
        .clone()
        .or_else(|| headers.get("psu-ip-address").and_then(|value| value.to_str().ok()).map(str::to_owned));
    match psu_ip.as_deref().map(str::parse::<std::net::IpAddr>) {
        Some(Err(_)) => return Err(FinxError::invalid("psu_ip_address", "Not a valid IP address.")),
        Some(Ok(ip)) if ip.is_loopback() || ip.is_unspecified() => {
            return Err(FinxError::invalid(
                "psu_ip_address",
                "Must be the end user's address as the bank sees it, not a loopback or unspecified address.",
            ));
        }
        _ => {}
    }
    let credentials = match &request.credentials {
        None | Some(Value::Null) => None,
        Some(Value::Object(map)) if map.get("type").and_then(Value::as_str) == Some("encrypted") => {
            return Err(FinxError::invalid(
                "credentials",
                "Encrypted (JWE) credentials are not supported by the Demo Bank.",
            ));
        }
        Some(Value::Object(map)) => {
            let login = map.get("login_id").and_then(Value::as_str);
            let password = map.get("password").and_then(Value::as_str);
            match (login, password) {
                (Some(login), Some(password)) => Some((login.to_owned(), password.to_owned())),
                _ => {
                    return Err(FinxError::new(
                        StatusCode::BAD_REQUEST,
                        1011,
                        "Credentials are incomplete or malformed.",
                    )
                    .with_data("credentials", "Needs login_id and password."));
                }
            }
        }
        Some(_) => return Err(FinxError::invalid("credentials", "Must be an object.")),
    };
    if !access.ongoing {
        return Err(FinxError::new(
            StatusCode::FORBIDDEN,
            1007,
            "Forbidden: a one-time access cannot be synchronized; start a new widget flow.",
        ));
    }
    if access.busy_sync.is_some() || state.faults.take_locked_update() {
        return Err(FinxError::new(
            StatusCode::LOCKED,
            1008,
            "Resource busy: a synchronization of this access is already running.",
        ));
    }
    if !access.save_secrets && credentials.is_none() {
        return Err(FinxError::new(StatusCode::BAD_REQUEST, 1011, "Credentials are incomplete or malformed.")
            .with_data("credentials", "The secrets of this access are not saved; send login_id and password."));
    }
    if access.provider.requires_psu_ip && psu_ip.is_none() {
        return Err(FinxError::new(StatusCode::BAD_REQUEST, 1021, "PSU IP is required.")
            .with_data("psu_ip_address", "This provider needs the end user's IP address."));
    }
    if access.provider.sca == ProviderSca::Redirect && request.redirect_uri.is_none() {
        return Err(FinxError::invalid(
            "redirect_uri",
            "This provider authenticates by redirect; a redirect_uri is required.",
        ));
    }
    let now = Utc::now();
    let today = now.date_naive();
    let used_today = if access.syncs_today.0 == today { access.syncs_today.1 } else { 0 };
    if used_today >= state.config.max_syncs_per_day {
        return Err(FinxError::new(
            StatusCode::TOO_MANY_REQUESTS,
            1020,
            "Maximum number of account synchronizations exceeded.",
        ));
    }
    let sync = Sync {
        id: crate::finapi::errors::random_uuid(),
        access_id: access_id.clone(),
        status: SyncState::Queued,
        created_at: now,
        started_at: None,
        ended_at: None,
        wait: 0,
        next: Next::Login,
        challenges: Vec::new(),
        error: None,
        transactions: scope.iter().any(|s| s == "TRANSACTIONS"),
        scope,
        redirect_uri: request.redirect_uri,
        state: request.state,
        credentials,
        save_secrets: request.save_secrets,
        sync_period,
        reuse_method: request.reuse_last_auth_method.unwrap_or(true),
        reuse_medium: request.reuse_last_auth_medium.unwrap_or(true),
        decoupled_left: 0,
        redirect: None,
    };
    let body = sync.json();
    if let Some(access) = store.accesses.get_mut(&access_id) {
        access.syncs_today = (today, used_today + 1);
        access.busy_sync = Some(sync.id.clone());
    }
    store.syncs.insert(sync.id.clone(), sync);
    Ok(json_response(StatusCode::CREATED, &body))
}

/// The sync `sync_id` of access `access_id`, if `user` owns it.
fn owned<'a>(store: &'a FinxStore, user: u64, access_id: &str, sync_id: &str) -> Result<&'a Sync, FinxError> {
    let owns = store.accesses.get(access_id).is_some_and(|access| access.user == user);
    store
        .syncs
        .get(sync_id)
        .filter(|sync| owns && sync.access_id == access_id)
        .ok_or_else(|| FinxError::not_found("Synchronization"))
}

/// `GET /rest/accesses/{access_id}/syncs/{sync_id}`: advances the sync one poll and shows it.
pub async fn poll(
    State(state): State<FinxShared>,
    Path((access_id, sync_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> FinxResult {
    let mut store = state.store();
    let user = authenticate(&store, &headers)?;
    owned(&store, user, &access_id, &sync_id)?;
    advance(&state, &mut store, &sync_id);
    let body = store.syncs.get(&sync_id).map(Sync::json).unwrap_or(Value::Null);
    Ok(json_response(StatusCode::OK, &body))
}

/// `GET …/challenges`: every challenge of the sync so far (bare array).
pub async fn list_challenges(
    State(state): State<FinxShared>,
    Path((access_id, sync_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> FinxResult {
    let store = state.store();
    let user = authenticate(&store, &headers)?;
    let sync = owned(&store, user, &access_id, &sync_id)?;
    let list: Vec<Value> = sync.challenges.iter().map(|c| c.json.clone()).collect();
    Ok(json_response(StatusCode::OK, &Value::Array(list)))
}

/// `GET …/challenges/{challenge_id}`.
pub async fn get_challenge(
    State(state): State<FinxShared>,
    Path((access_id, sync_id, challenge_id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> FinxResult {
    let store = state.store();
    let user = authenticate(&store, &headers)?;
    let sync = owned(&store, user, &access_id, &sync_id)?;
    let challenge =
        sync.challenges.iter().find(|c| c.id == challenge_id).ok_or_else(|| FinxError::not_found("Challenge"))?;
    Ok(json_response(StatusCode::OK, &challenge.json))
}

#[derive(Debug, Default, Deserialize)]
struct ChallengeAnswer {
    method_id: Option<String>,
    value: Option<Value>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// `POST …/challenges/{challenge_id}/response`: 202 `{}`.
pub async fn respond(
    State(state): State<FinxShared>,
    Path((access_id, sync_id, challenge_id)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> FinxResult {
    let mut store = state.store();
    let user = authenticate(&store, &headers)?;
    let sync = owned(&store, user, &access_id, &sync_id)?;
    if !sync.challenges.iter().any(|c| c.id == challenge_id) {
        return Err(FinxError::not_found("Challenge"));
    }
    let Some(current) = sync.current().filter(|c| c.id == challenge_id && !c.answered).cloned() else {
        return Err(FinxError::new(
            StatusCode::BAD_REQUEST,
            1006,
            "Unprocessable: this challenge is not awaiting a response.",
        ));
    };
    let answer: ChallengeAnswer = parse_body(&headers, &body)?;
    let next = match &current.kind {
        ChallengeKind::MethodSelection(methods) => {
            let id =
                answer.method_id.ok_or_else(|| FinxError::invalid("method_id", "Missing data for required field."))?;
            let method = methods
                .iter()
                .copied()
                .find(|method| method.id == id)
                .ok_or_else(|| FinxError::invalid("method_id", "Not one of the offered auth_methods."))?;
            if let Some(access) = store.accesses.get_mut(&access_id) {
                access.last_method = Some(method);
            }
            Some(Next::Challenge(challenge_for(method)))
        }
        ChallengeKind::Embedded(_) => {
            if answer.kind.as_deref() == Some("encrypted") {
                return Err(FinxError::invalid("value", "Encrypted (JWE) answers are not supported by the Demo Bank."));
            }
            let value = match answer.value {
                Some(Value::String(text)) => text,
                Some(Value::Number(number)) => number.to_string(),
                _ => return Err(FinxError::invalid("value", "Missing data for required field.")),
            };
            Some(if value.trim() == DEMO_TAN { Next::Fetch } else { Next::Fail(SyncError::tan_invalid()) })
        }
        ChallengeKind::Redirect | ChallengeKind::Decoupled => None,
    };
    if let (Some(next), Some(sync)) = (next, store.syncs.get_mut(&sync_id)) {
        if let Some(challenge) = sync.challenges.last_mut() {
            challenge.answered = true;
        }
        sync.status = SyncState::Running;
        sync.wait = state.config.running_polls;
        sync.next = next;
    }
    Ok(json_response(StatusCode::ACCEPTED, &json!({})))
}

/// The challenge a chosen method raises.
fn challenge_for(method: &'static AuthMethod) -> ChallengeKind {
    if method.style == ChallengeStyle::Decoupled { ChallengeKind::Decoupled } else { ChallengeKind::Embedded(method) }
}

/// The first challenge of an access's sync.
fn first_challenge(
    sync: &Sync,
    provider: &'static super::providers::Provider,
    last: Option<&'static AuthMethod>,
) -> ChallengeKind {
    match provider.sca {
        ProviderSca::Selection => match last.filter(|_| sync.reuse_method) {
            Some(method) if sync.reuse_medium => challenge_for(method),
            Some(method) => {
                let media: Vec<&'static AuthMethod> =
                    provider.methods.iter().filter(|m| m.name == method.name && m.kind == method.kind).collect();
                if media.len() > 1 { ChallengeKind::MethodSelection(media) } else { challenge_for(method) }
            }
            None => ChallengeKind::MethodSelection(provider.methods.iter().collect()),
        },
        ProviderSca::EmbeddedText => match provider.methods.first() {
            Some(method) => ChallengeKind::Embedded(method),
            None => ChallengeKind::Decoupled,
        },
        ProviderSca::Redirect => ChallengeKind::Redirect,
        ProviderSca::Decoupled => ChallengeKind::Decoupled,
    }
}

/// A rendered HHD 1.4 flicker code (control byte 01, 8-digit start code, one 10-digit data element).
fn flicker_code() -> String {
    let start: u64 = rand::random::<u64>() % 100_000_000;
    let element: u64 = rand::random::<u64>() % 10_000_000_000;
    flicker::render(&flicker::FlickerChallenge {
        control_bytes: vec![1],
        start_code: format!("{start:08}"),
        data_elements: vec![format!("{element:010}")],
    })
}

/// Creates the challenge JSON (and, for `REDIRECT`, the bank page).
fn make_challenge(state: &FinxShared, store: &mut FinxStore, sync: &Sync, kind: ChallengeKind) -> Challenge {
    let id = format!("L{}.3", store.number());
    let created_at = time(Utc::now());
    let mut page = None;
    let json = match &kind {
        ChallengeKind::MethodSelection(methods) => json!({
            "id": id, "type": "METHOD_SELECTION", "created_at": created_at,
            "label": "Bitte wählen Sie ein Authentifizierungsverfahren.",
            "auth_methods": methods.iter().map(|m| json!({
                "id": m.id, "medium_name": opt(m.medium_name), "type": m.kind,
                "additional_info": {"name": m.name}})).collect::<Vec<_>>(),
        }),
        ChallengeKind::Embedded(method) => {
            let medium = method.medium_name.unwrap_or("Ihr Gerät");
            let (format, data, version) = match method.style {
                ChallengeStyle::Html => (
                    "HTML",
                    format!(
                        "<p>Bitte geben Sie die <b>pushTAN</b> ein, die Ihre App auf <i>{medium}</i> anzeigt.</p>\
                         <p>Demo-TAN: <b>{DEMO_TAN}</b></p>"
                    ),
                    Value::Null,
                ),
                ChallengeStyle::Hhd => ("HHD", flicker_code(), Value::String("1.4".to_owned())),
                ChallengeStyle::Photo => {
                    let png = qr_png::bqr_payload(&flicker_code()).and_then(|payload| qr_png::qr_png(&payload));
                    let data = match png {
                        Ok(bytes) => format!("data:image/png;base64,{}", STANDARD.encode(bytes)),
                        Err(_) => String::new(),
                    };
                    ("PHOTO", data, Value::Null)
                }
                ChallengeStyle::Text | ChallengeStyle::Decoupled => (
                    "TEXT",
                    format!("Bitte geben Sie die TAN ein, die an {medium} gesendet wurde (Demo-TAN: {DEMO_TAN})."),
                    Value::Null,
                ),
            };
            json!({
                "id": id, "type": "EMBEDDED", "created_at": created_at, "format": format, "data": data,
                "version": version, "label": "TAN", "additional_info": {"auth_method_id": method.id},
                "input_format": "INTEGER", "min_length": 6, "max_length": 6,
            })
        }
        ChallengeKind::Redirect => {
            let page_id = crate::finapi::errors::random_uuid();
            store.redirects.insert(page_id.clone(), sync.id.clone());
            let location = format!("{}/finx/bank/redirect/{page_id}", state.base_url);
            page = Some(page_id);
            json!({"id": id, "type": "REDIRECT", "created_at": created_at, "location": location})
        }
        ChallengeKind::Decoupled => json!({
            "id": id, "type": "DECOUPLED", "created_at": created_at,
            "message": "Bitte bestätigen Sie die Anmeldung in Ihrer Demo-App.",
        }),
    };
    Challenge { id, kind, json, answered: false, page }
}

/// One poll: moves the sync on as far as it goes without the user.
fn advance(state: &FinxShared, store: &mut FinxStore, sync_id: &str) {
    let Some(mut sync) = store.syncs.remove(sync_id) else { return };
    let ctx = DataContext { seed: state.seed, today: state.today };
    let now = Utc::now();
    loop {
        match sync.status {
            SyncState::Queued => {
                sync.status = SyncState::Running;
                sync.started_at = Some(now);
                sync.wait = state.config.running_polls;
            }
            SyncState::Running => {
                if sync.wait > 0 {
                    sync.wait -= 1;
                    break;
                }
                match std::mem::replace(&mut sync.next, Next::Nothing) {
                    Next::Login => {
                        let Some(access) = store.accesses.get(&sync.access_id) else {
                            sync.next = Next::Fail(SyncError {
                                code: 30000,
                                name: Cow::Borrowed("PROCESSING_NOT_POSSIBLE"),
                                message: "Der Zugang existiert nicht mehr.".to_owned(),
                                description: Cow::Borrowed("Processing not possible."),
                            });
                            continue;
                        };
                        sync.next = if access.consent_expires_at <= now {
                            Next::Fail(SyncError::consent_expired(access.consent_expires_at))
                        } else if sync
                            .credentials
                            .as_ref()
                            .is_some_and(|(login, password)| *login != access.login || *password != access.login)
                        {
                            Next::Fail(SyncError::credentials_invalid())
                        } else if access.login == LOGIN_WITH_SCA {
                            Next::Challenge(first_challenge(&sync, access.provider, access.last_method))
                        } else {
                            Next::Fetch
                        };
                    }
                    Next::Challenge(kind) => {
                        if matches!(kind, ChallengeKind::Decoupled) {
                            sync.decoupled_left = state.config.decoupled_polls;
                        }
                        let challenge = make_challenge(state, store, &sync, kind);
                        sync.challenges.push(challenge);
                        sync.status = SyncState::AwaitAuth;
                        break;
                    }
                    Next::Fetch => {
                        store.apply_sync(ctx, &sync.access_id, &sync.id, sync.transactions, sync.sync_period);
                        sync.status = SyncState::Completed;
                        break;
                    }
                    Next::Fail(error) => {
                        sync.error = Some(error);
                        sync.status = SyncState::Failed;
                        break;
                    }
                    Next::Nothing => break,
                }
            }
            SyncState::AwaitAuth => {
                let kind = sync.challenges.last().map(|c| c.kind.clone());
                match kind {
                    Some(ChallengeKind::Decoupled) => {
                        if sync.decoupled_left > 0 {
                            sync.decoupled_left -= 1;
                            break;
                        }
                        approve_current(&mut sync, state, Next::Fetch);
                    }
                    Some(ChallengeKind::Redirect) => match sync.redirect {
                        Some(RedirectDecision::Approved) => approve_current(&mut sync, state, Next::Fetch),
                        Some(RedirectDecision::Cancelled) => {
                            approve_current(&mut sync, state, Next::Fail(SyncError::redirect_cancelled()));
                        }
                        None => break,
                    },
                    _ => break,
                }
            }
            SyncState::Completed | SyncState::Failed => break,
        }
    }
    if sync.status.is_terminal() && sync.ended_at.is_none() {
        sync.ended_at = Some(now);
        finish(store, &sync, now);
    }
    store.syncs.insert(sync_id.to_owned(), sync);
}

fn approve_current(sync: &mut Sync, state: &FinxShared, next: Next) {
    if let Some(challenge) = sync.challenges.last_mut() {
        challenge.answered = true;
    }
    sync.status = SyncState::Running;
    sync.wait = state.config.running_polls;
    sync.next = next;
}

/// Releases the access and applies `save_secrets` at the end of a sync.
fn finish(store: &mut FinxStore, sync: &Sync, now: DateTime<Utc>) {
    let Some(access) = store.accesses.get_mut(&sync.access_id) else { return };
    access.busy_sync = None;
    match sync.save_secrets {
        Some(true) if sync.status == SyncState::Completed && sync.credentials.is_some() => access.save_secrets = true,
        Some(false) => access.save_secrets = false,
        _ => {}
    }
    if let Some(error) = &sync.error {
        let succeeded_at = access.status.succeeded_at;
        access.status = SyncStatus { synced_at: Some(now), succeeded_at, message: Some(error.message.clone()) };
    }
}

/// Records the user's decision on the redirect page `page_id`; the URL to send the browser to.
pub fn decide_redirect(state: &FinxShared, page_id: &str, decision: RedirectDecision) -> Option<String> {
    let mut store = state.store();
    let sync_id = store.redirects.get(page_id)?.clone();
    let sync = store.syncs.get_mut(&sync_id)?;
    let is_current = sync.current().is_some_and(|c| c.page.as_deref() == Some(page_id));
    if is_current && sync.redirect.is_none() {
        sync.redirect = Some(decision);
    }
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    if let Some(value) = sync.state.as_deref() {
        pairs.push(("state", value));
    }
    if sync.redirect == Some(RedirectDecision::Cancelled) {
        pairs.push(("error", "access_denied"));
    }
    let base = sync.redirect_uri.clone().unwrap_or_default();
    Some(callback_url(&base, &pairs))
}
