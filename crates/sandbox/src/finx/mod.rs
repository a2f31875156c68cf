//! The Demo Bank's finX face: widget links, the widget itself, tokens with rotation, accesses, accounts,
//! transactions, provider synchronizations with every SCA challenge type, and income reports.
//!
//! It follows `shared/docs/finx.md` (the contract) and the finX guides; where they are silent the Demo Bank
//! makes a choice, marked "Demo Bank choice" in the crate's `README.md` ("finX face"), which is the reference for
//! client authors.
//!
//! Layout:
//! - [`config`]: [`FinxConfig`], the lifetimes and pacing knobs (`DemoBankConfig::finx`);
//! - [`errors`]: finX's error envelope `{error:{code,group,name?,description,data}}`;
//! - [`providers`]: the four demo providers, one per SCA style, and their authentication methods;
//! - [`store`]: users, accesses, accounts, transactions, flows, tokens and syncs (kept in the state file,
//!   if there is one, except flows, codes and unfinished syncs);
//! - [`tokens`]: HTTP Basic client auth, `POST /auth/token` (code exchange, refresh rotation), `/auth/revoke`;
//! - [`links`]: `POST /onetime/access`, `/ongoing/access`, `/onetime/income-report`;
//! - [`widget`]: the HTML widget (bank, login, TAN, consent → callback) and the redirect bank's page;
//! - [`rest`]: `/rest/accesses`, `/rest/accounts`, balances, `/rest/transactions`;
//! - [`syncs`]: `POST /rest/accesses/{id}/syncs`, polling, challenges and their answers;
//! - [`report`]: the income report computed from the seeded bookings.
//!
//! Faults: the API routes (not the HTML pages) share the finAPI face's [`crate::faults::FaultSwitch`]: a
//! request to either face consumes the armed counters; `locked_updates` is consumed by sync starts (423, 1008).

pub mod config;
pub mod errors;
pub mod links;
pub mod providers;
pub mod report;
pub mod rest;
pub mod store;
pub mod syncs;
pub mod tokens;
pub mod widget;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use chrono::NaiveDate;

pub use config::FinxConfig;
pub use providers::{DECOUPLED_PROVIDER, REDIRECT_PROVIDER, SELECTION_PROVIDER, TEXT_PROVIDER};

use crate::faults::FaultSwitch;
use crate::state::DemoBankState;
use errors::FinxError;
use store::FinxStore;

/// What the finX handlers share: configuration, the demo client, the fault switch and the store.
#[derive(Debug)]
pub struct FinxState {
    pub config: FinxConfig,
    pub client_id: String,
    pub client_secret: String,
    pub seed: u64,
    pub today: NaiveDate,
    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub base_url: String,
    pub faults: FaultSwitch,
    /// Shared with [`DemoBankState`], which writes it to the state file.
    store: Arc<Mutex<FinxStore>>,
}

/// The shared finX state.
pub type FinxShared = Arc<FinxState>;

impl FinxState {
    /// The store. Never hold the guard across an `.await`.
    pub fn store(&self) -> MutexGuard<'_, FinxStore> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The finX routes, with their own state taken from the Demo Bank's; merge into the app's router.
pub fn router<S: Clone + Send + Sync + 'static>(bank: &DemoBankState) -> Router<S> {
    let state: FinxShared = Arc::new(FinxState {
        config: bank.config.finx.clone(),
        client_id: bank.config.client_id.clone(),
        client_secret: bank.config.client_secret.clone(),
        seed: bank.config.seed,
        today: bank.today,
        base_url: bank.base_url.clone(),
        faults: bank.faults.clone(),
        store: bank.finx_store.clone(),
    });
    let api = Router::new()
        .route("/onetime/access", post(links::onetime_access))
        .route("/ongoing/access", post(links::ongoing_access))
        .route("/onetime/income-report", post(links::income_report))
        .route("/auth/token", post(tokens::token))
        .route("/auth/revoke", post(tokens::revoke))
        .route("/rest/accesses", get(rest::list_accesses))
        .route("/rest/accesses/{access_id}", get(rest::get_access))
        .route("/rest/accesses/{access_id}/syncs", post(syncs::start))
        .route("/rest/accesses/{access_id}/syncs/{sync_id}", get(syncs::poll))
        .route("/rest/accesses/{access_id}/syncs/{sync_id}/challenges", get(syncs::list_challenges))
        .route("/rest/accesses/{access_id}/syncs/{sync_id}/challenges/{challenge_id}", get(syncs::get_challenge))
        .route("/rest/accesses/{access_id}/syncs/{sync_id}/challenges/{challenge_id}/response", post(syncs::respond))
        .route("/rest/accounts", get(rest::list_accounts))
        .route("/rest/accounts/{account_id}", get(rest::get_account).delete(rest::delete_account))
        .route("/rest/accounts/{account_id}/balance", get(rest::get_balance))
        .route("/rest/accounts/{account_id}/transactions", get(rest::account_transactions))
        .route("/rest/accounts/{account_id}/transactions/{transaction_id}", get(rest::account_transaction))
        .route("/rest/transactions", get(rest::list_transactions))
        .route("/rest/transactions/{transaction_id}", get(rest::get_transaction))
        .route("/rest/income-reports/{report_id}", get(report::get_report))
        .layer(middleware::from_fn_with_state(state.clone(), apply_faults));
    Router::new().merge(api).merge(widget::router()).with_state(state)
}

/// The fault switch applied to one finX API request, with finX's error envelope.
async fn apply_faults(State(state): State<FinxShared>, request: Request, next: Next) -> Response {
    let faults = state.faults.take_for_request();
    if let Some(delay) = faults.delay {
        tokio::time::sleep(delay).await;
    }
    if let Some(status) = faults.server_error {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let code = if status == StatusCode::SERVICE_UNAVAILABLE { 30006 } else { 30000 };
        return FinxError::new(status, code, "Processing is not possible (injected by the Demo Bank's fault switch).")
            .into_response_value();
    }
    if let Some(seconds) = faults.rate_limit_retry_after {
        return FinxError::new(
            StatusCode::TOO_MANY_REQUESTS,
            30006,
            format!("Too many requests; retry after {seconds} s (injected by the Demo Bank's fault switch)."),
        )
        .with_retry_after(seconds)
        .into_response_value();
    }
    let response = next.run(request).await;
    if !faults.truncate {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
    let cut = Bytes::copy_from_slice(bytes.get(..bytes.len() / 2).unwrap_or_default());
    parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(cut.len()));
    Response::from_parts(parts, Body::from(cut))
}
