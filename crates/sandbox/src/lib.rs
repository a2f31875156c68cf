//! The Demo Bank: a local server that speaks finAPI Access (v1 and v2) so that Kontor's real finAPI client runs
//! against it unchanged — in tests, in the CLI, and as the desktop app's offline "Demo Bank".
//!
//! ```no_run
//! # async fn demo() -> Result<(), kontor_sandbox::DemoBankError> {
//! use kontor_sandbox::{DemoBank, DemoBankConfig};
//! let bank = DemoBank::start(DemoBankConfig::for_tests()).await?;
//! let base = bank.base_url(); // http://127.0.0.1:<port>
//! bank.faults().fail_next(1, 503);
//! bank.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Layout:
//! - [`finapi`]: the finAPI routes, test banks and the multi-step authentication (510) loop;
//! - [`data`]: seeded, deterministic accounts and German bookings;
//! - [`challenge`]: real chipTAN flicker codes and chipTAN-QR PNGs for TAN challenges;
//! - [`pages`]: the bank's HTML page for the redirect approach;
//! - [`faults`]: injected failures (5xx, 429, delays, truncated bodies, 423 on update);
//! - [`requests`]: the log of every request received (for tests: what arrived, and when);
//! - a control endpoint `/__demo/faults` for out-of-process clients.
//!
//! `README.md` next to this crate is the contract for client authors.

pub mod challenge;
pub mod config;
pub mod data;
pub mod faults;
pub mod finapi;
pub mod finx;
pub mod json;
pub mod pages;
mod persist;
pub mod requests;
mod state;

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use config::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DemoBankConfig, IMPORT_CONSENT_DAYS_ENV};
pub use faults::{FaultPlan, FaultPlanPatch, FaultSwitch};
pub use finapi::ApiVersion;
pub use finapi::banks::{CONSENT_BANK, DECOUPLED_BANK, DEMO_TAN, REDIRECT_BANK, TEST_BANK};
pub use requests::LoggedRequest;

use finapi::errors::{ApiError, REQUEST_ID_HEADER, RequestContext, json_response};
use state::{DemoBankState, SharedState};

/// Why the Demo Bank could not start.
#[derive(Debug, thiserror::Error)]
pub enum DemoBankError {
    #[error("could not listen on 127.0.0.1:{port}: {source}")]
    Bind { port: u16, source: std::io::Error },
}

/// Starts Demo Banks.
#[derive(Debug)]
pub struct DemoBank;

impl DemoBank {
    /// Binds `127.0.0.1:<config.port>` (0 = any free port) and serves on the current tokio runtime until
    /// [`RunningDemoBank::shutdown`] or until the handle is dropped.
    pub async fn start(config: DemoBankConfig) -> Result<RunningDemoBank, DemoBankError> {
        let port = config.port;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|source| DemoBankError::Bind { port, source })?;
        let address = listener.local_addr().map_err(|source| DemoBankError::Bind { port, source })?;
        let base_url = format!("http://{address}");
        let faults = FaultSwitch::new();
        let today = config.today.unwrap_or_else(|| chrono::Local::now().date_naive());
        let state: SharedState =
            std::sync::Arc::new(DemoBankState::new(config, base_url.clone(), faults.clone(), today));
        let app = app(state.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
            if let Err(error) = served {
                tracing::warn!(%error, "the Demo Bank stopped with an error");
            }
        });
        tracing::info!(%base_url, "Demo Bank listening");
        Ok(RunningDemoBank { address, base_url, faults, state, stop: Some(stop), task: Some(task) })
    }
}

/// A Demo Bank serving in the background. Dropping it stops the server (without waiting).
#[derive(Debug)]
pub struct RunningDemoBank {
    address: SocketAddr,
    base_url: String,
    faults: FaultSwitch,
    state: SharedState,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RunningDemoBank {
    /// `http://127.0.0.1:<port>` (no trailing slash).
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The fault plan of this server.
    pub fn faults(&self) -> FaultSwitch {
        self.faults.clone()
    }

    /// Every request received so far (method, path, arrival time), oldest first.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.state.requests.entries()
    }

    /// How many finAPI calls re-sent a multi-step hash that a 422 had already spent.
    pub fn spent_hashes_resent(&self) -> u32 {
        self.state.store().flows.spent_hashes_resent()
    }

    /// Stops accepting connections and waits for the server task to end.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningDemoBank {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The whole HTTP application.
fn app(state: SharedState) -> Router {
    let finapi = finapi::router()
        .layer(middleware::from_fn_with_state(state.clone(), apply_faults))
        .layer(middleware::from_fn_with_state(state.clone(), persist_changes));
    Router::new()
        .merge(finapi)
        .merge(finx::router(&state).layer(middleware::from_fn_with_state(state.clone(), persist_changes)))
        .merge(pages::router())
        .route("/__demo/faults", get(show_faults).post(set_faults).delete(clear_faults))
        .route("/__demo/health", get(|| async { "ok" }))
        .layer(middleware::from_fn(echo_request_id))
        .layer(middleware::from_fn_with_state(state.clone(), log_request))
        .with_state(state)
}

/// Records every request in the [`requests::RequestLog`] as it arrives.
async fn log_request(State(state): State<SharedState>, request: Request, next: Next) -> Response {
    state.requests.record(request.method().as_str(), request.uri().path());
    next.run(request).await
}

/// Echoes `X-Request-Id` on every answer (finAPI does).
async fn echo_request_id(request: Request, next: Next) -> Response {
    let id = request.headers().get(REQUEST_ID_HEADER).cloned();
    let mut response = next.run(request).await;
    if let Some(id) = id {
        response.headers_mut().insert(REQUEST_ID_HEADER, id);
    }
    response
}

/// Saves the stores to the state file after each finAPI or finX request that changed them (see
/// [`DemoBankConfig::state_file`]).
async fn persist_changes(State(state): State<SharedState>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if state.config.state_file.is_some() {
        let state = state.clone();
        let _ = tokio::task::spawn_blocking(move || state.persist()).await;
    }
    response
}

/// Applies the armed faults to one finAPI request (see [`faults`]).
async fn apply_faults(
    State(state): State<SharedState>,
    context: RequestContext,
    request: Request,
    next: Next,
) -> Response {
    let faults = state.faults.take_for_request();
    if let Some(delay) = faults.delay {
        tokio::time::sleep(delay).await;
    }
    if let Some(status) = faults.server_error {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return ApiError::technical(
            status,
            "UNEXPECTED_ERROR",
            "An unexpected error occurred (injected by the Demo Bank's fault switch).",
        )
        .render(&context);
    }
    if let Some(seconds) = faults.rate_limit_retry_after {
        return ApiError::technical(
            StatusCode::TOO_MANY_REQUESTS,
            "UNEXPECTED_ERROR",
            format!("Too many requests; retry after {seconds} s (injected by the Demo Bank's fault switch)."),
        )
        .with_retry_after(seconds)
        .render(&context);
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

async fn show_faults(State(state): State<SharedState>) -> Response {
    plan_response(&state.faults.plan())
}

async fn set_faults(State(state): State<SharedState>, body: Bytes) -> Response {
    match serde_json::from_slice::<FaultPlanPatch>(&body) {
        Ok(patch) => {
            state.faults.apply(&patch);
            plan_response(&state.faults.plan())
        }
        Err(error) => {
            json_response(StatusCode::BAD_REQUEST, &json!({"error": "invalid fault plan", "detail": error.to_string()}))
        }
    }
}

async fn clear_faults(State(state): State<SharedState>) -> Response {
    state.faults.clear();
    plan_response(&state.faults.plan())
}

fn plan_response(plan: &FaultPlan) -> Response {
    match serde_json::to_value(plan) {
        Ok(value) => json_response(StatusCode::OK, &value),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// How long [`RunningDemoBank::shutdown`] callers may want to wait at most; exposed for the binary.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
