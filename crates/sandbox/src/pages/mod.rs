//! The bank's own web pages: the redirect-approach login page of the finAPI Test Redirect Bank.
//!
//! `GET /demo-bank/redirect/{context}` shows the page a 510 `REDIRECT_REQUIRED` points at. Its two buttons are
//! plain links, so a test can "click" them with a GET:
//!
//! - `GET /demo-bank/redirect/{context}/approve` → 303 to the client's `redirectUrl` with
//!   `state=<context>&code=<one-time code>` appended;
//! - `GET /demo-bank/redirect/{context}/cancel` → 303 to the client's `redirectUrl` with
//!   `state=<context>&error=access_denied&error_description=…` appended.
//!
//! The client then sends that query string as `multiStepAuthentication.redirectCallback`; after a cancel the
//! Demo Bank answers 422 `BANK_SERVER_REJECTION` (the user cancelled at the bank), as finAPI's sandbox does.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use crate::finapi::msa::Step;
use crate::state::SharedState;

pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/demo-bank/redirect/{context}", get(show))
        .route("/demo-bank/redirect/{context}/approve", get(approve))
        .route("/demo-bank/redirect/{context}/cancel", get(cancel))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

const STYLE: &str = "body{margin:0;font-family:system-ui,-apple-system,'Segoe UI',sans-serif;background:#eef2f6;color:#1d2733}\
header{background:#0b3d63;color:#fff;padding:18px 32px;font-size:20px;font-weight:600;letter-spacing:.3px}\
header small{display:block;font-weight:400;font-size:13px;opacity:.8}\
main{max-width:460px;margin:40px auto;background:#fff;border-radius:10px;box-shadow:0 4px 18px rgba(0,0,0,.08);padding:28px 32px}\
h1{font-size:20px;margin:0 0 12px}p{line-height:1.5}.meta{font-size:13px;color:#5b6878;background:#f5f7fa;border-radius:6px;padding:10px 12px}\
.actions{display:flex;gap:12px;margin-top:24px}.button{flex:1;text-align:center;padding:12px;border-radius:6px;text-decoration:none;font-weight:600}\
.approve{background:#0b7a3e;color:#fff}.cancel{background:#fff;color:#9b1c1c;border:1px solid #d9b3b3}\
footer{text-align:center;font-size:12px;color:#7a8694;margin-top:18px}";

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"de\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width,initial-scale=1\"><title>{title}</title><style>{STYLE}</style></head><body>\
         <header>finAPI Test Redirect Bank<small>Demo Bank · Online-Banking</small></header><main>{body}</main>\
         <footer>Dies ist eine Demo-Bank. Es werden keine echten Daten übertragen.</footer></body></html>"
    )
}

fn not_found() -> Response {
    let body = page(
        "Vorgang nicht gefunden",
        "<h1>Vorgang nicht gefunden</h1><p>Dieser Freigabe-Vorgang ist unbekannt oder abgelaufen. Bitte starten Sie \
         die Verbindung in Ihrer App erneut.</p>",
    );
    (StatusCode::NOT_FOUND, Html(body)).into_response()
}

async fn show(State(state): State<SharedState>, Path(context): Path<String>) -> Response {
    let return_host = {
        let store = state.store();
        match store.flows.by_context(&context).map(|flow| &flow.step) {
            Some(Step::Redirect { return_url, .. }) => {
                url::Url::parse(return_url).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default()
            }
            _ => return not_found(),
        }
    };
    let context_html = escape(&context);
    let body = format!(
        "<h1>Zugriff auf Ihre Konten freigeben</h1>\
         <p>Eine Anwendung möchte im Rahmen der PSD2 auf Ihre Kontoinformationen (Kontostände und Umsätze) zugreifen.</p>\
         <p class=\"meta\">Empfänger: <b>{}</b><br>Vorgang: {context_html}<br>Angemeldet als: <b>demo</b></p>\
         <div class=\"actions\"><a class=\"button cancel\" id=\"cancel\" href=\"/demo-bank/redirect/{context_html}/cancel\">Abbrechen</a>\
         <a class=\"button approve\" id=\"approve\" href=\"/demo-bank/redirect/{context_html}/approve\">Freigeben</a></div>",
        escape(&return_host)
    );
    Html(page("Freigabe – finAPI Test Redirect Bank", &body)).into_response()
}

fn decide(state: &SharedState, context: &str, approve: bool) -> Response {
    let target = state.store().flows.decide_redirect(context, approve);
    match target {
        Some(url) => (StatusCode::SEE_OTHER, [(header::LOCATION, url)]).into_response(),
        None => not_found(),
    }
}

async fn approve(State(state): State<SharedState>, Path(context): Path<String>) -> Response {
    decide(&state, &context, true)
}

async fn cancel(State(state): State<SharedState>, Path(context): Path<String>) -> Response {
    decide(&state, &context, false)
}
