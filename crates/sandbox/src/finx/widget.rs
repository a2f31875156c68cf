//! The finX widget (the page a link's `location` opens) and the redirect bank's approval page.
//!
//! Every step is a plain HTML form, so a test drives it like a browser with redirects disabled:
//!
//! 1. `GET /finx/widget?token=T` renders the current step;
//! 2. `POST /finx/widget/bank` (`token`, `provider_id`) → 303 back to step 1 (skipped when `provider_id` or an
//!    IBAN of `accounts` pre-selected the bank);
//! 3. `POST /finx/widget/login` (`token`, `login_id`, `password`) → 303;
//! 4. `POST /finx/widget/tan` (`token`, `tan`) → 303 (only for the login `demo`);
//! 5. `POST /finx/widget/consent` (`token`, `account` repeated: IBANs) → **303 to `redirect_uri`** with
//!    `state`, `code`, `success=true`, `flow_id`; with `another=1` the bank's access is linked and the widget
//!    goes back to step 2 for the next bank, and the code issued at the end covers every bank of the flow (a
//!    one-time token over several banks);
//! - `POST /finx/widget/cancel` (`token`) at any step → 303 to `redirect_uri` with `state`, `success=false`,
//!   `cancel=true`, `abort=true`, `flow_id`; three wrong logins or TANs → `state`, `success=false`, `flow_id`.
//!
//! The redirect bank (sync challenges of type `REDIRECT`): `GET /finx/bank/redirect/{id}` shows the page,
//! `GET …/approve` and `GET …/cancel` answer 303 to the sync's `redirect_uri` with `state` (and, on cancel,
//! `error=access_denied`).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use chrono::Utc;
use serde::Deserialize;

use super::FinxShared;
use super::links::callback_url;
use super::providers::{self, DEMO_TAN, LOGIN_WITH_SCA, LOGIN_WITHOUT_SCA};
use super::store::{DataContext, Flow, FlowKind, WidgetStep};
use super::syncs::RedirectDecision;
use super::tokens::{ONETIME_SCOPE, ONGOING_SCOPE, authorization_code};
use crate::data;

pub fn router() -> Router<FinxShared> {
    Router::new()
        .route("/finx/widget", get(show))
        .route("/finx/widget/bank", post(choose_bank))
        .route("/finx/widget/login", post(login))
        .route("/finx/widget/tan", post(tan))
        .route("/finx/widget/consent", post(consent))
        .route("/finx/widget/cancel", post(cancel))
        .route("/finx/bank/redirect/{id}", get(bank_page))
        .route("/finx/bank/redirect/{id}/approve", get(bank_approve))
        .route("/finx/bank/redirect/{id}/cancel", get(bank_cancel))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

const STYLE: &str = "body{margin:0;font-family:system-ui,-apple-system,'Segoe UI',sans-serif;background:#f1f4f8;color:#1d2733}\
header{background:#14213d;color:#fff;padding:16px 28px;font-size:18px;font-weight:600}header small{display:block;font-weight:400;font-size:12px;opacity:.8}\
main{max-width:480px;margin:32px auto;background:#fff;border-radius:10px;box-shadow:0 4px 18px rgba(0,0,0,.08);padding:24px 28px}\
h1{font-size:19px;margin:0 0 12px}label{display:block;margin:12px 0 4px;font-size:14px}input[type=text],input[type=password]{width:100%;padding:9px;box-sizing:border-box;border:1px solid #c5ced9;border-radius:6px}\
button{padding:10px 14px;border-radius:6px;border:0;background:#2b6cb0;color:#fff;font-weight:600;cursor:pointer;margin-top:14px}\
button.bank{display:block;width:100%;text-align:left;background:#f5f7fa;color:#1d2733;border:1px solid #d5dce5}\
button.cancel{background:#fff;color:#9b1c1c;border:1px solid #d9b3b3}.error{color:#9b1c1c;background:#fdf0f0;padding:8px 10px;border-radius:6px}\
.hint{font-size:13px;color:#5b6878}.account{display:flex;gap:8px;align-items:center;margin:8px 0}";

fn page(title: &str, body: &str) -> Response {
    Html(format!(
        "<!doctype html><html lang=\"de\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width,initial-scale=1\"><title>{title}</title><style>{STYLE}</style></head><body>\
         <header>finX Widget<small>Demo Bank · keine echten Daten</small></header><main>{body}</main></body></html>"
    ))
    .into_response()
}

fn not_found() -> Response {
    let mut response = page(
        "Vorgang unbekannt",
        "<h1>Vorgang unbekannt</h1><p>Dieser Link ist ungültig oder abgelaufen. Bitte starten Sie den Vorgang in der \
         App erneut.</p>",
    );
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
}

fn see_other(location: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, location.to_owned())]).into_response()
}

fn cancel_form(token: &str) -> String {
    format!(
        "<form method=\"post\" action=\"/finx/widget/cancel\"><input type=\"hidden\" name=\"token\" value=\"{}\">\
         <button class=\"cancel\" id=\"cancel\" type=\"submit\">Abbrechen</button></form>",
        escape(token)
    )
}

#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

/// The form fields of a POST body (repeated keys kept).
fn form(body: &Bytes) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).map(|(key, value)| (key.into_owned(), value.into_owned())).collect()
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
}

/// The flow behind a widget token.
fn flow_for(state: &FinxShared, token: &str) -> Option<Flow> {
    let store = state.store();
    store.widget_tokens.get(token).and_then(|id| store.flows.get(id)).cloned()
}

fn save(state: &FinxShared, flow: Flow) {
    state.store().flows.insert(flow.id.clone(), flow);
}

fn back(state: &FinxShared, token: &str) -> Response {
    let encoded: String = url::form_urlencoded::byte_serialize(token.as_bytes()).collect();
    see_other(&format!("{}/finx/widget?token={encoded}", state.base_url))
}

fn finish_failed(state: &FinxShared, mut flow: Flow, cancelled: bool) -> Response {
    flow.step = WidgetStep::Done;
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    if let Some(value) = flow.state.as_deref() {
        pairs.push(("state", value));
    }
    pairs.push(("success", "false"));
    if cancelled {
        pairs.push(("cancel", "true"));
        pairs.push(("abort", "true"));
    }
    pairs.push(("flow_id", &flow.id));
    let location = callback_url(&flow.redirect_uri, &pairs);
    save(state, flow);
    see_other(&location)
}

/// The accounts of the flow's login, after the `account_types` filter: (IBAN, name, type, preselected).
fn offered_accounts(state: &FinxShared, flow: &Flow) -> Vec<(String, String, &'static str, bool)> {
    let (Some(provider), Some(login)) = (flow.provider, flow.login.as_deref()) else { return Vec::new() };
    data::generate_login(state.seed, &provider.identity(), login, state.today)
        .into_iter()
        .map(|account| {
            let finx_type = match account.kind {
                data::AccountKind::Checking => "Giro account",
                data::AccountKind::Savings => "Savings account",
            };
            let pre = flow.preselected.iter().any(|id| *id == account.iban || *id == account.account_number);
            (account.iban, account.name, finx_type, pre)
        })
        .filter(|(_, _, finx_type, _)| {
            flow.account_types.is_empty() || flow.account_types.iter().any(|t| t == finx_type)
        })
        .collect()
}

async fn show(State(state): State<FinxShared>, Query(query): Query<TokenQuery>) -> Response {
    let token = query.token.unwrap_or_default();
    let Some(flow) = flow_for(&state, &token) else { return not_found() };
    let token_html = escape(&token);
    let hidden = format!("<input type=\"hidden\" name=\"token\" value=\"{token_html}\">");
    let error =
        flow.error.as_deref().map(|e| format!("<p class=\"error\" id=\"error\">{}</p>", escape(e))).unwrap_or_default();
    let purpose = match flow.kind {
        FlowKind::Onetime => "einmaligen Abruf Ihrer Kontodaten",
        FlowKind::Ongoing => "laufenden Zugriff auf Ihre Kontodaten",
        FlowKind::IncomeReport => "einen Einkommensnachweis aus Ihren Umsätzen",
    };
    match flow.step {
        WidgetStep::Bank => {
            let buttons: String = providers::providers()
                .iter()
                .map(|p| {
                    format!(
                        "<button class=\"bank\" type=\"submit\" name=\"provider_id\" value=\"{}\">{} \
                         <span class=\"hint\">BLZ {}</span></button>",
                        p.id,
                        escape(p.name),
                        p.bank_code
                    )
                })
                .collect();
            page(
                "Bank wählen",
                &format!(
                    "<h1>Bank wählen</h1><p>Für den {purpose}.</p>{error}<form method=\"post\" \
                     action=\"/finx/widget/bank\">{hidden}{buttons}</form>{}",
                    cancel_form(&token)
                ),
            )
        }
        WidgetStep::Login => {
            let bank = flow.provider.map(|p| p.name).unwrap_or_default();
            page(
                "Anmelden",
                &format!(
                    "<h1>Anmelden bei {}</h1>{error}<form method=\"post\" action=\"/finx/widget/login\">{hidden}\
                     <label for=\"login_id\">Anmeldename</label><input type=\"text\" id=\"login_id\" name=\"login_id\">\
                     <label for=\"password\">PIN</label><input type=\"password\" id=\"password\" name=\"password\">\
                     <p class=\"hint\">Demo: <b>demo</b>/<b>demo</b> (mit TAN {DEMO_TAN}) oder \
                     <b>demo_no_sca</b>/<b>demo_no_sca</b>.</p><button type=\"submit\">Anmelden</button></form>{}",
                    escape(bank),
                    cancel_form(&token)
                ),
            )
        }
        WidgetStep::Tan => page(
            "TAN eingeben",
            &format!(
                "<h1>Anmeldung bestätigen</h1><p>Bitte geben Sie die TAN ein, die wir an Mobil ****1234 gesendet \
                 haben (Demo-TAN: {DEMO_TAN}).</p>{error}<form method=\"post\" action=\"/finx/widget/tan\">{hidden}\
                 <label for=\"tan\">TAN</label><input type=\"text\" id=\"tan\" name=\"tan\" inputmode=\"numeric\">\
                 <button type=\"submit\">Bestätigen</button></form>{}",
                cancel_form(&token)
            ),
        ),
        WidgetStep::Consent => {
            let accounts = offered_accounts(&state, &flow);
            let any_pre = accounts.iter().any(|(_, _, _, pre)| *pre);
            let input_type = if flow.allow_multi_selection { "checkbox" } else { "radio" };
            let rows: String = accounts
                .iter()
                .enumerate()
                .map(|(i, (iban, name, finx_type, pre))| {
                    let checked = *pre || (!any_pre && (flow.allow_multi_selection || i == 0));
                    format!(
                        "<label class=\"account\"><input type=\"{input_type}\" name=\"account\" value=\"{iban}\"{}> \
                         {} <span class=\"hint\">{iban} · {finx_type}</span></label>",
                        if checked { " checked" } else { "" },
                        escape(name)
                    )
                })
                .collect();
            page(
                "Zustimmung",
                &format!(
                    "<h1>Zustimmung</h1><p>Sie erlauben den {purpose} (Umsätze der letzten {} Tage).</p>{error}\
                     <form method=\"post\" action=\"/finx/widget/consent\">{hidden}{rows}\
                     <button type=\"submit\" id=\"consent\">Zustimmen</button>\
                     <button type=\"submit\" id=\"another\" name=\"another\" value=\"1\">Zustimmen und weitere Bank \
                     verbinden</button></form>{}",
                    flow.sync_period,
                    cancel_form(&token)
                ),
            )
        }
        WidgetStep::Done => {
            page("Abgeschlossen", "<h1>Vorgang abgeschlossen</h1><p>Sie können dieses Fenster schließen.</p>")
        }
    }
}

/// A POSTed widget form: its fields, the widget token and the flow.
struct Posted {
    fields: Vec<(String, String)>,
    token: String,
    flow: Flow,
}

/// Reads the token and flow of a POST; `None` for an unknown or finished flow.
fn posted(state: &FinxShared, body: &Bytes) -> Option<Posted> {
    let fields = form(body);
    let token = field(&fields, "token").unwrap_or_default().to_owned();
    match flow_for(state, &token) {
        Some(flow) if flow.step != WidgetStep::Done => Some(Posted { fields, token, flow }),
        _ => None,
    }
}

async fn choose_bank(State(state): State<FinxShared>, body: Bytes) -> Response {
    let Some(Posted { fields, token, mut flow }) = posted(&state, &body) else { return not_found() };
    match field(&fields, "provider_id").and_then(providers::by_id) {
        Some(provider) if flow.step == WidgetStep::Bank => {
            flow.provider = Some(provider);
            flow.step = WidgetStep::Login;
            flow.error = None;
        }
        _ => flow.error = Some("Bitte wählen Sie eine Bank.".to_owned()),
    }
    save(&state, flow);
    back(&state, &token)
}

async fn login(State(state): State<FinxShared>, body: Bytes) -> Response {
    let Some(Posted { fields, token, mut flow }) = posted(&state, &body) else { return not_found() };
    if flow.step != WidgetStep::Login {
        return back(&state, &token);
    }
    let login = field(&fields, "login_id").unwrap_or_default().trim().to_owned();
    let password = field(&fields, "password").unwrap_or_default();
    if (login == LOGIN_WITH_SCA || login == LOGIN_WITHOUT_SCA) && password == login {
        flow.step = if login == LOGIN_WITH_SCA { WidgetStep::Tan } else { WidgetStep::Consent };
        flow.login = Some(login);
        flow.error = None;
        flow.failures = 0;
    } else {
        flow.failures += 1;
        if flow.failures >= 3 {
            return finish_failed(&state, flow, false);
        }
        flow.error = Some("Die Anmeldedaten sind ungültig (Demo: demo/demo).".to_owned());
    }
    save(&state, flow);
    back(&state, &token)
}

async fn tan(State(state): State<FinxShared>, body: Bytes) -> Response {
    let Some(Posted { fields, token, mut flow }) = posted(&state, &body) else { return not_found() };
    if flow.step != WidgetStep::Tan {
        return back(&state, &token);
    }
    if field(&fields, "tan").map(str::trim) == Some(DEMO_TAN) {
        flow.step = WidgetStep::Consent;
        flow.error = None;
        flow.failures = 0;
    } else {
        flow.failures += 1;
        if flow.failures >= 3 {
            return finish_failed(&state, flow, false);
        }
        flow.error = Some("Die TAN ist ungültig.".to_owned());
    }
    save(&state, flow);
    back(&state, &token)
}

async fn consent(State(state): State<FinxShared>, body: Bytes) -> Response {
    let Some(Posted { fields, token, mut flow }) = posted(&state, &body) else { return not_found() };
    if flow.step != WidgetStep::Consent {
        return back(&state, &token);
    }
    let offered = offered_accounts(&state, &flow);
    let chosen: Vec<String> = fields
        .iter()
        .filter(|(key, _)| key == "account")
        .map(|(_, value)| value.clone())
        .filter(|iban| offered.iter().any(|(offered, _, _, _)| offered == iban))
        .collect();
    if chosen.is_empty() || (!flow.allow_multi_selection && chosen.len() > 1) {
        flow.error = Some(if chosen.is_empty() {
            "Bitte wählen Sie mindestens ein Konto.".to_owned()
        } else {
            "Bitte wählen Sie genau ein Konto.".to_owned()
        });
        save(&state, flow);
        return back(&state, &token);
    }
    let (Some(provider), Some(login)) = (flow.provider, flow.login.clone()) else { return back(&state, &token) };
    let ctx = DataContext { seed: state.seed, today: state.today };
    let consent_lifetime = chrono::Duration::from_std(state.config.consent_lifetime).unwrap_or(chrono::Duration::MAX);
    let code_lifetime =
        chrono::Duration::from_std(state.config.authorization_code_lifetime).unwrap_or(chrono::Duration::MAX);
    let another = field(&fields, "another") == Some("1");
    let code = {
        let mut store = state.store();
        let user = match flow.linked_user {
            Some(user) => user,
            None => store.user_for(flow.user_id.as_deref()),
        };
        let ongoing = flow.kind == FlowKind::Ongoing;
        store.link_access(
            ctx,
            user,
            provider,
            &login,
            &chosen,
            flow.sync_period,
            ongoing,
            flow.save_secrets,
            consent_lifetime,
            state.config.access_created_at,
        );
        if another {
            // The consent for this bank is given; the same code will cover the next bank too.
            flow.linked_user = Some(user);
            flow.step = WidgetStep::Bank;
            flow.provider = None;
            flow.login = None;
            flow.preselected.clear();
            flow.error = None;
            drop(store);
            save(&state, flow);
            return back(&state, &token);
        }
        if flow.kind == FlowKind::IncomeReport
            && let Some(owner) = store.users.get_mut(&user)
        {
            owner.report = Some((flow.id.clone(), flow.reporting_period));
        }
        let expires_at = Utc::now() + code_lifetime;
        let code = authorization_code(user, expires_at);
        store.codes.insert(
            code.clone(),
            super::store::AuthCode {
                user,
                redirect_uri: flow.redirect_uri.clone(),
                scope: if ongoing { ONGOING_SCOPE } else { ONETIME_SCOPE }.to_owned(),
                expires_at,
                used: false,
                issued: Vec::new(),
            },
        );
        code
    };
    flow.step = WidgetStep::Done;
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    if let Some(value) = flow.state.as_deref() {
        pairs.push(("state", value));
    }
    pairs.push(("code", &code));
    pairs.push(("success", "true"));
    pairs.push(("flow_id", &flow.id));
    let location = callback_url(&flow.redirect_uri, &pairs);
    save(&state, flow);
    see_other(&location)
}

async fn cancel(State(state): State<FinxShared>, body: Bytes) -> Response {
    match posted(&state, &body) {
        Some(posted) => finish_failed(&state, posted.flow, true),
        None => not_found(),
    }
}

async fn bank_page(State(state): State<FinxShared>, Path(id): Path<String>) -> Response {
    if !state.store().redirects.contains_key(&id) {
        return not_found();
    }
    let id_html = escape(&id);
    page(
        "Freigabe – Demo Redirect Bank",
        &format!(
            "<h1>Demo Redirect Bank: Zugriff freigeben</h1><p>Eine Anwendung möchte Ihre Konten über finX \
             synchronisieren.</p><p><a id=\"approve\" href=\"/finx/bank/redirect/{id_html}/approve\">Freigeben</a> · \
             <a id=\"cancel\" href=\"/finx/bank/redirect/{id_html}/cancel\">Abbrechen</a></p>"
        ),
    )
}

async fn bank_approve(State(state): State<FinxShared>, Path(id): Path<String>) -> Response {
    decide(&state, &id, RedirectDecision::Approved)
}

async fn bank_cancel(State(state): State<FinxShared>, Path(id): Path<String>) -> Response {
    decide(&state, &id, RedirectDecision::Cancelled)
}

fn decide(state: &FinxShared, id: &str, decision: RedirectDecision) -> Response {
    match super::syncs::decide_redirect(state, id, decision) {
        Some(location) => see_other(&location),
        None => not_found(),
    }
}
