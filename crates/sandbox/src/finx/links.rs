//! Widget links (finx.md §2): `POST /onetime/access`, `POST /ongoing/access`, `POST /onetime/income-report`.
//!
//! Basic client auth, JSON body; 201 `{"location": "<base>/finx/widget?token=<JWT>", "id": "<uuid>"}`. The `id`
//! comes back as `flow_id` in the callback and is the income report's id.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use super::FinxShared;
use super::errors::{FinxError, FinxResult, json_response};
use super::providers;
use super::store::{Flow, FlowKind, WidgetStep};
use super::tokens::{check_client, parse_body, widget_token};

const LANGUAGES: &[&str] = &["de", "en", "es", "fr", "ar"];
const ACCOUNT_TYPES: &[&str] = &[
    "Giro account",
    "Savings account",
    "Daily savings account",
    "Credit card",
    "Loan account",
    "PayPal",
    "Depot",
    "Unknown",
];

#[derive(Debug, Default, Deserialize)]
struct AccountRef {
    id: Option<String>,
}

/// The union of the three links' bodies; each endpoint checks its own rules.
#[derive(Debug, Default, Deserialize)]
struct LinkRequest {
    redirect_uri: Option<String>,
    language: Option<String>,
    accounts: Option<Vec<AccountRef>>,
    account_types: Option<Vec<String>>,
    allow_multi_selection: Option<bool>,
    sync_period: Option<i64>,
    reporting_period: Option<i64>,
    state: Option<String>,
    user_id: Option<String>,
    provider_id: Option<String>,
    save_secrets: Option<bool>,
    #[allow(dead_code)]
    tracking_id: Option<String>,
}

pub async fn onetime_access(State(state): State<FinxShared>, headers: HeaderMap, body: Bytes) -> FinxResult {
    create(&state, &headers, &body, FlowKind::Onetime)
}

pub async fn ongoing_access(State(state): State<FinxShared>, headers: HeaderMap, body: Bytes) -> FinxResult {
    create(&state, &headers, &body, FlowKind::Ongoing)
}

pub async fn income_report(State(state): State<FinxShared>, headers: HeaderMap, body: Bytes) -> FinxResult {
    create(&state, &headers, &body, FlowKind::IncomeReport)
}

fn create(state: &FinxShared, headers: &HeaderMap, body: &Bytes, kind: FlowKind) -> FinxResult {
    check_client(state, headers)?;
    let request: LinkRequest = parse_body(headers, body)?;
    let mut error: Option<FinxError> = None;
    let mut complain = |field: &str, message: &str| {
        error = Some(match error.take() {
            Some(existing) => existing.with_data(field, message),
            None => FinxError::invalid(field, message),
        });
    };
    match request.redirect_uri.as_deref() {
        None => complain("redirect_uri", "Missing data for required field."),
        Some(uri) if url::Url::parse(uri).is_err() => complain("redirect_uri", "Not a valid URL."),
        Some(_) => {}
    }
    let language = request.language.clone().unwrap_or_else(|| "de".to_owned());
    if !LANGUAGES.contains(&language.as_str()) {
        complain("language", "Must be one of: de, en, es, fr, ar.");
    }
    if let Some(types) = &request.account_types
        && types.iter().any(|t| !ACCOUNT_TYPES.contains(&t.as_str()))
    {
        complain("account_types", "Unknown account type.");
    }
    let preselected: Vec<String> = request
        .accounts
        .unwrap_or_default()
        .into_iter()
        .filter_map(|account| account.id)
        .map(|id| id.chars().filter(|c| !c.is_whitespace()).collect::<String>())
        .collect();
    if let Some(state_value) = &request.state
        && (state_value.is_empty() || state_value.chars().count() > 1024)
    {
        complain("state", "Length must be between 1 and 1024.");
    }
    let mut sync_period = 90;
    if let Some(days) = request.sync_period {
        match u32::try_from(days) {
            Ok(days) if (1..=730).contains(&days) => sync_period = days,
            _ => complain("sync_period", "Must be between 1 and 730."),
        }
    }
    let mut reporting_period = 12;
    if kind == FlowKind::IncomeReport {
        if let Some(months) = request.reporting_period {
            if request.sync_period.is_some() {
                complain("reporting_period", "Cannot be combined with sync_period.");
            }
            match u32::try_from(months) {
                Ok(months) if (4..=24).contains(&months) => reporting_period = months,
                _ => complain("reporting_period", "Must be between 4 and 24."),
            }
        } else if request.sync_period.is_some() {
            reporting_period = sync_period.div_ceil(30).max(1);
        }
        // The bank needs the whole reporting period.
        if request.sync_period.is_none() {
            sync_period = reporting_period * 31;
        }
    }
    let mut provider = None;
    if kind == FlowKind::Ongoing {
        match request.user_id.as_deref() {
            None => complain("user_id", "Missing data for required field."),
            Some(id) if id.is_empty() || id.len() > 255 => complain("user_id", "Length must be between 1 and 255."),
            Some(_) => {}
        }
        if let Some(id) = &request.provider_id {
            provider = providers::by_id(id);
            if provider.is_none() {
                complain("provider_id", "Unknown provider.");
            }
        }
    }
    if let Some(error) = error {
        return Err(error);
    }
    if provider.is_none() {
        provider = preselected.iter().find_map(|iban| providers::by_iban(iban));
    }
    let id = crate::finapi::errors::random_uuid();
    let flow = Flow {
        id: id.clone(),
        kind,
        redirect_uri: request.redirect_uri.unwrap_or_default(),
        state: request.state,
        language,
        preselected,
        account_types: request.account_types.unwrap_or_default(),
        allow_multi_selection: request.allow_multi_selection.unwrap_or(true),
        sync_period,
        reporting_period,
        user_id: if kind == FlowKind::Ongoing { request.user_id } else { None },
        save_secrets: request.save_secrets.unwrap_or(false),
        step: if provider.is_some() { WidgetStep::Login } else { WidgetStep::Bank },
        provider,
        login: None,
        failures: 0,
        error: None,
        linked_user: None,
    };
    let token = widget_token(&id);
    {
        let mut store = state.store();
        store.flows.insert(id.clone(), flow);
        store.widget_tokens.insert(token.clone(), id.clone());
    }
    let location = format!("{}/finx/widget?token={token}", state.base_url);
    Ok(json_response(StatusCode::CREATED, &json!({"location": location, "id": id})))
}

/// The query of a callback: `base` with `pairs` appended (existing parameters kept).
pub fn callback_url(base: &str, pairs: &[(&str, &str)]) -> String {
    match url::Url::parse(base) {
        Ok(mut url) => {
            {
                let mut query = url.query_pairs_mut();
                for (key, value) in pairs {
                    query.append_pair(key, value);
                }
            }
            url.to_string()
        }
        Err(_) => base.to_owned(),
    }
}

/// `Value::Null` or the string.
pub fn opt(value: Option<&str>) -> Value {
    value.map_or(Value::Null, |v| Value::String(v.to_owned()))
}
