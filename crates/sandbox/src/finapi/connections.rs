//! Import and update of bank connections, including the multi-step authentication loop.
//!
//! Every call — the first and each MSA continuation — is validated in full (bank, interface, credentials,
//! consent), because finAPI expects the client to repeat the same body each time. Only then does the
//! `multiStepAuthentication` object decide between starting a flow and continuing one ([`super::msa`]).
//!
//! Which logins need SCA: `demo` / `demo` does, `demo_no_msa` / `demo_no_msa` does not. Any other
//! credentials answer 422 `BANK_SERVER_REJECTION` with the bank's German message.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::Utc;
use serde::Deserialize;

use super::ApiVersion;
use super::banks::{
    Bank, BankingInterface, InterfaceProperty, InterfaceSpec, LOGIN_WITH_SCA, LOGIN_WITHOUT_SCA, Procedure, ScaScheme,
};
use super::errors::{ApiError, Reply, RequestContext, finish};
use super::msa::{Answer, FlowStart, FlowTarget, Outcome, Pacing};
use super::routes::{authorize, require_user};
use super::store::{NewConnection, apply_update};
use super::wire;
use crate::data;
use crate::state::{DemoBankState, SharedState};

#[derive(Debug, Clone, Deserialize)]
struct CredentialInput {
    label: String,
    value: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct AccountReference {
    iban: Option<String>,
}

/// The body of `POST …/bankConnections/import` and `…/update` (the union of both; unknown fields are ignored).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConnectionRequest {
    bank_id: Option<u64>,
    bank_connection_id: Option<u64>,
    banking_interface: Option<String>,
    interface: Option<String>,
    name: Option<String>,
    login_credentials: Option<Vec<CredentialInput>>,
    store_secrets: Option<bool>,
    max_days_for_download: Option<u32>,
    account_types: Option<Vec<String>>,
    account_references: Option<Vec<AccountReference>>,
    redirect_url: Option<String>,
    multi_step_authentication: Option<Answer>,
}

impl ConnectionRequest {
    fn parse(body: &[u8]) -> Result<Self, ApiError> {
        serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("Invalid request body: {e}")))
    }

    /// The interface named with the version's field name. v2 requires it; v1 falls back to the bank's first.
    fn interface(&self, version: ApiVersion, bank: &Bank) -> Result<BankingInterface, ApiError> {
        let named = match version {
            ApiVersion::V1 => self.interface.as_deref(),
            ApiVersion::V2 => self.banking_interface.as_deref(),
        };
        let Some(named) = named else {
            return match version {
                ApiVersion::V2 => Err(ApiError::bad_request("'bankingInterface' is required")),
                ApiVersion::V1 => {
                    bank.interfaces.first().map(|spec| spec.interface).ok_or_else(|| unsupported_bank(bank))
                }
            };
        };
        let interface = BankingInterface::parse(named)
            .ok_or_else(|| ApiError::bad_request(format!("Unknown banking interface '{named}'")))?;
        if bank.interface(interface).is_none() {
            return Err(ApiError::unprocessable(
                "ILLEGAL_FIELD_VALUE",
                format!("Bank {} does not support the interface {named}.", bank.id),
            ));
        }
        Ok(interface)
    }
}

fn unsupported_bank(bank: &Bank) -> ApiError {
    ApiError::technical(
        StatusCode::NOT_IMPLEMENTED,
        "UNSUPPORTED_BANK",
        format!("Bank {} cannot be connected in the Demo Bank; use one of its test banks (280001-280004).", bank.id),
    )
}

/// The login after checking the credentials against the interface's fields and the demo logins.
fn check_credentials(spec: &InterfaceSpec, credentials: &[CredentialInput]) -> Result<String, ApiError> {
    for given in credentials {
        if !spec.login_fields.iter().any(|field| field.label == given.label) {
            return Err(ApiError::unprocessable(
                "LOGIN_FIELDS_MISMATCH",
                format!(
                    "Unknown login field '{}'; expected the labels {:?}.",
                    given.label,
                    spec.login_fields.iter().map(|f| f.label).collect::<Vec<_>>()
                ),
            ));
        }
    }
    let value_of = |label: &str| {
        credentials.iter().find(|c| c.label == label).and_then(|c| c.value.clone()).filter(|v| !v.is_empty())
    };
    for field in spec.login_fields.iter().filter(|f| f.is_mandatory) {
        if value_of(field.label).is_none() {
            return Err(ApiError::unprocessable(
                "ILLEGAL_FIELD_VALUE",
                format!("The login field '{}' is required.", field.label),
            ));
        }
    }
    let login = value_of("Onlinebanking-ID").unwrap_or_default();
    let pin = value_of("PIN");
    let known_login = login == LOGIN_WITH_SCA || login == LOGIN_WITHOUT_SCA;
    if !known_login || pin.as_ref().is_some_and(|pin| pin != &login) {
        return Err(ApiError::bank_rejection(
            "Die Anmeldung ist fehlgeschlagen. Bitte überprüfen Sie Ihre Onlinebanking-ID und Ihre PIN. (9942 PIN falsch)",
        ));
    }
    Ok(login)
}

fn pacing(state: &DemoBankState, version: ApiVersion) -> Pacing {
    Pacing {
        version,
        base_url: state.base_url.clone(),
        decoupled_in_progress_polls: state.config.decoupled_in_progress_polls,
        decoupled_min_poll_interval: state.config.decoupled_min_poll_interval,
    }
}

fn procedures_of(bank: &Bank) -> Vec<Procedure> {
    match &bank.sca {
        Some(ScaScheme::Embedded { procedures }) => procedures.clone(),
        _ => Vec::new(),
    }
}

/// Runs the SCA part of a call: `Ok(Some(procedure))`/`Ok(None)` when authenticated (with the procedure used,
/// if any), `Err` with the 510 or the refusal otherwise.
fn authenticate(
    state: &DemoBankState,
    version: ApiVersion,
    user: &str,
    bank: &Bank,
    target: FlowTarget,
    request: &ConnectionRequest,
) -> Result<Option<Procedure>, ApiError> {
    let pacing = pacing(state, version);
    let mut store = state.store();
    let outcome = match &request.multi_step_authentication {
        Some(answer) => store.flows.answer(user, &target, answer, &pacing)?,
        None => {
            let redirect_to = match bank.sca {
                Some(ScaScheme::Redirect) => request.redirect_url.clone(),
                _ => None,
            };
            store.flows.start(
                FlowStart { user_key: user.to_owned(), target, procedures: procedures_of(bank), redirect_to },
                &pacing,
            )
        }
    };
    match outcome {
        Outcome::Challenge(error) => Err(error),
        Outcome::Done { procedure } => Ok(procedure),
    }
}

fn bank_label(bank: &Bank, version: ApiVersion) -> Option<String> {
    Some(match version {
        ApiVersion::V1 => bank.label_v1(),
        ApiVersion::V2 => bank.label_v2(),
    })
}

fn compact_iban(iban: &str) -> String {
    iban.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase()
}

/// The `PSU-IP-Address` header, when sent, must be the user's address: finAPI v2 takes IPv4 only, and a
/// loopback or unspecified address names no user (the Demo Bank refuses it rather than substituting its own).
fn check_psu_ip(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get("psu-ip-address") else { return Ok(()) };
    let ip = value.to_str().ok().and_then(|text| text.trim().parse::<std::net::IpAddr>().ok());
    match ip {
        Some(ip) if !ip.is_loopback() && !ip.is_unspecified() => Ok(()),
        _ => Err(ApiError::unprocessable(
            "ILLEGAL_FIELD_VALUE",
            "PSU-IP-Address must be the user's IP address as the bank sees it, not a loopback or unspecified \
             address; leave the header out when it is unknown.",
        )),
    }
}

pub async fn import(
    context: RequestContext,
    State(state): State<SharedState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = authorize(&state, &headers, context.version).and_then(|grant| {
        let user = require_user(&grant)?;
        check_psu_ip(&headers)?;
        let request = ConnectionRequest::parse(&body)?;
        let bank_id = request.bank_id.ok_or_else(|| ApiError::bad_request("'bankId' is required"))?;
        let bank = state.catalog.get(bank_id).ok_or_else(|| {
            ApiError::unprocessable("UNKNOWN_ENTITY", format!("Bank with id {bank_id} does not exist."))
        })?;
        import_into(&state, context.version, &user, bank, &request)
            .map_err(|error| error.with_bank(bank_label(bank, context.version)))
    });
    finish(&context, result)
}

fn import_into(
    state: &DemoBankState,
    version: ApiVersion,
    user: &str,
    bank: &Bank,
    request: &ConnectionRequest,
) -> Result<Reply, ApiError> {
    if bank.sca.is_none() {
        return Err(unsupported_bank(bank));
    }
    let interface = request.interface(version, bank)?;
    let spec = bank.interface(interface).ok_or_else(|| unsupported_bank(bank))?;
    if spec.has(InterfaceProperty::RedirectApproach) {
        let valid = request.redirect_url.as_deref().is_some_and(|u| url::Url::parse(u).is_ok());
        if !valid {
            return Err(ApiError::unprocessable(
                "ILLEGAL_FIELD_VALUE",
                "This bank interface uses the redirect approach: 'redirectUrl' (an absolute URL) is required.",
            ));
        }
    }
    let references: Option<Vec<String>> = request
        .account_references
        .as_ref()
        .map(|refs| refs.iter().filter_map(|r| r.iban.as_deref()).map(compact_iban).collect());
    if spec.has(InterfaceProperty::DetailedConsent) && references.as_ref().is_none_or(Vec::is_empty) {
        return Err(ApiError::unprocessable(
            "ILLEGAL_FIELD_VALUE",
            "This bank interface needs a detailed consent: send 'accountReferences' with the IBANs to import.",
        ));
    }
    if request.max_days_for_download.is_some_and(|days| days != 0 && !(14..=3650).contains(&days)) {
        return Err(ApiError::unprocessable("ILLEGAL_FIELD_VALUE", "'maxDaysForDownload' must be 0 or 14 to 3650."));
    }
    let credentials = request.login_credentials.clone().unwrap_or_default();
    let login = check_credentials(spec, &credentials)?;
    {
        let store = state.store();
        if store.connections.values().any(|c| c.user_key == user && c.bank_id == bank.id && c.login == login) {
            return Err(ApiError::unprocessable(
                "ENTITY_EXISTS",
                format!("A bank connection for this login at bank {} already exists.", bank.id),
            ));
        }
    }
    // Which of the login's accounts the consent covers.
    let generated = data::generate_login(state.config.seed, &bank.identity(), &login, state.today);
    let consented = spec.has(InterfaceProperty::DetailedConsent);
    if let (true, Some(ibans)) = (consented, &references) {
        if let Some(unknown) = ibans.iter().find(|iban| !generated.iter().any(|a| &a.iban == *iban)) {
            return Err(ApiError::bank_rejection(format!(
                "Das Konto {unknown} ist unter diesem Zugang nicht bekannt. Bitte prüfen Sie die IBAN."
            )));
        }
    }
    let types = request.account_types.clone().unwrap_or_default();
    let accounts: Vec<(usize, data::GeneratedAccount)> = generated
        .into_iter()
        .enumerate()
        .filter(|(_, a)| !consented || references.as_ref().is_some_and(|ibans| ibans.contains(&a.iban)))
        .filter(|(_, a)| types.is_empty() || types.iter().any(|t| t == a.kind.finapi_name()))
        .collect();
    if accounts.is_empty() {
        return Err(ApiError::unprocessable(
            "NO_ACCOUNTS_FOR_TYPE_LIST",
            "None of the accounts of this bank connection matches the requested account types.",
        ));
    }

    let procedure = if login == LOGIN_WITHOUT_SCA {
        if request.multi_step_authentication.is_some() {
            return Err(ApiError::unprocessable(
                "NO_EXISTING_CHALLENGE",
                "This login needs no multi-step authentication; send the request without multiStepAuthentication.",
            ));
        }
        None
    } else {
        let target = FlowTarget::Import { bank_id: bank.id, interface: interface.as_str() };
        authenticate(state, version, user, bank, target, request)?
    };

    let store_secrets = request.store_secrets.unwrap_or(false);
    let stored_credentials = spec
        .login_fields
        .iter()
        .map(|field| {
            let given = credentials.iter().find(|c| c.label == field.label).and_then(|c| c.value.clone());
            let keep = !field.is_secret || (store_secrets && !field.is_volatile);
            (field.label.to_owned(), given.filter(|_| keep))
        })
        .collect();
    let now = Utc::now();
    let mut store = state.store();
    let id = store.create_connection(
        NewConnection {
            user_key: user.to_owned(),
            bank_id: bank.id,
            interface,
            name: request.name.clone().or_else(|| Some(bank.name.clone())),
            login,
            credentials: stored_credentials,
            accounts,
            procedures: procedures_of(bank),
            default_procedure: procedure,
            bulk_count: state.config.bulk_transactions_per_account,
            in_progress_reads: state.config.download_in_progress_reads,
            download_lasts: state.config.download_lasts,
            max_days_for_download: request.max_days_for_download.unwrap_or(0),
            consent_lifetime: state.config.consent_lifetime,
        },
        now,
    );
    let connection = store.connections.get_mut(&id).ok_or_else(|| ApiError::not_found("Bank connection", id))?;
    if let Some(days) = state.config.import_consent_days {
        connection.consent_expires_at = now + chrono::Duration::days(days);
    }
    Ok(Reply::created(wire::connection(version, connection, bank, true)))
}

pub async fn update(
    context: RequestContext,
    State(state): State<SharedState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = authorize(&state, &headers, context.version).and_then(|grant| {
        let user = require_user(&grant)?;
        check_psu_ip(&headers)?;
        let request = ConnectionRequest::parse(&body)?;
        let id = request.bank_connection_id.ok_or_else(|| ApiError::bad_request("'bankConnectionId' is required"))?;
        let known = {
            let mut store = state.store();
            let connection =
                store.connection_of(&user, id).ok_or_else(|| ApiError::not_found("Bank connection", id))?;
            KnownConnection {
                bank_id: connection.bank_id,
                interface: connection.interface,
                login: connection.login.clone(),
                stored: connection.credentials.clone(),
                consent_expired: Utc::now() >= connection.consent_expires_at,
                renewal_requested: connection.consent_renewal_requested,
                consent_revoked: connection.consent_revoked,
            }
        };
        let bank = state.catalog.get(known.bank_id).ok_or_else(|| ApiError::not_found("Bank", known.bank_id))?;
        update_connection(&state, context.version, &user, bank, id, &known, &request)
            .map_err(|error| error.with_bank(bank_label(bank, context.version)))
    });
    finish(&context, result)
}

/// What an update needs to know of the stored connection.
#[derive(Debug)]
struct KnownConnection {
    bank_id: u64,
    interface: BankingInterface,
    login: String,
    stored: Vec<(String, Option<String>)>,
    consent_expired: bool,
    renewal_requested: bool,
    /// The client ended the consent (`DELETE …/aisConsent`).
    consent_revoked: bool,
}

/// The login for an update: the sent `loginCredentials` merged with the stored values (finapi.md §3.3).
/// Every mandatory field must have a value, else 422 `MISSING_FIELD` ("Login credentials incomplete"); sent
/// values must be this connection's login.
fn merged_login(spec: &InterfaceSpec, known: &KnownConnection, request: &ConnectionRequest) -> Result<(), ApiError> {
    let sent = request.login_credentials.clone().unwrap_or_default();
    let merged: Vec<CredentialInput> = spec
        .login_fields
        .iter()
        .map(|field| {
            let given = sent.iter().find(|c| c.label == field.label).and_then(|c| c.value.clone());
            let stored = known.stored.iter().find(|(label, _)| label == field.label).and_then(|(_, v)| v.clone());
            CredentialInput { label: field.label.to_owned(), value: given.or(stored).filter(|v| !v.is_empty()) }
        })
        .collect();
    let missing: Vec<&str> = spec
        .login_fields
        .iter()
        .filter(|field| field.is_mandatory)
        .filter(|field| merged.iter().any(|c| c.label == field.label && c.value.is_none()))
        .map(|field| field.label)
        .collect();
    if !missing.is_empty() {
        return Err(ApiError::unprocessable(
            "MISSING_FIELD",
            format!("Login credentials incomplete, missing: {}", missing.join(", ")),
        ));
    }
    if !sent.is_empty() && check_credentials(spec, &merged)? != known.login {
        return Err(ApiError::bank_rejection(
            "Die Anmeldung ist fehlgeschlagen. Bitte überprüfen Sie Ihre Onlinebanking-ID und Ihre PIN. (9942 PIN falsch)",
        ));
    }
    Ok(())
}

fn update_connection(
    state: &DemoBankState,
    version: ApiVersion,
    user: &str,
    bank: &Bank,
    id: u64,
    known: &KnownConnection,
    request: &ConnectionRequest,
) -> Result<Reply, ApiError> {
    // Validated like finAPI does; the connection keeps the interface it was imported with.
    request.interface(version, bank)?;
    let spec = bank.interface(known.interface).ok_or_else(|| unsupported_bank(bank))?;
    let locked = || {
        ApiError::business(
            StatusCode::LOCKED,
            "LOCKED",
            format!("Bank connection {id} is currently being imported or updated; try again later."),
        )
    };
    if state.faults.take_locked_update() {
        return Err(locked());
    }
    if state.store().connections.get(&id).is_some_and(|c| c.is_busy()) {
        return Err(locked());
    }
    if known.consent_expired && !known.renewal_requested && !known.consent_revoked {
        if let Some(connection) = state.store().connection_of(user, id) {
            connection.consent_renewal_requested = true;
        }
        return Err(ApiError::unprocessable(
            "INVALID_CONSENT",
            "Die Zustimmung (Consent) für den Kontozugriff ist abgelaufen. Bitte erteilen Sie eine neue Zustimmung.",
        ));
    }
    // A consent that ran out (refused once above) or that the client ended (`DELETE …/aisConsent`) is
    // renewed: login and SCA, then a new consent.
    let renew_consent = known.consent_expired || known.consent_revoked;
    // The bank logs in when it has to: FinTS always, XS2A only to give (or renew) a consent with SCA.
    let bank_login = known.interface == BankingInterface::FintsServer || state.config.sca_on_update || renew_consent;
    if bank_login {
        merged_login(spec, known, request)?;
    }
    let sca = (state.config.sca_on_update || renew_consent) && known.login != LOGIN_WITHOUT_SCA;
    if sca {
        if bank.sca == Some(ScaScheme::Redirect) && request.redirect_url.is_none() {
            return Err(ApiError::unprocessable(
                "ILLEGAL_FIELD_VALUE",
                "This bank interface uses the redirect approach: 'redirectUrl' is required.",
            ));
        }
        let target = FlowTarget::Update { connection_id: id };
        authenticate(state, version, user, bank, target, request)?;
    } else if request.multi_step_authentication.is_some() {
        return Err(ApiError::unprocessable(
            "NO_EXISTING_CHALLENGE",
            "This update needs no multi-step authentication; send it without multiStepAuthentication.",
        ));
    }
    let now = Utc::now();
    let mut store = state.store();
    let connection = store.connection_of(user, id).ok_or_else(|| ApiError::not_found("Bank connection", id))?;
    if request.store_secrets == Some(true) {
        let sent = request.login_credentials.clone().unwrap_or_default();
        for field in spec.login_fields.iter().filter(|f| !f.is_volatile) {
            let given = sent.iter().find(|c| c.label == field.label).and_then(|c| c.value.clone());
            if let (Some(value), Some(slot)) =
                (given, connection.credentials.iter_mut().find(|(label, _)| label == field.label))
            {
                slot.1 = Some(value);
            }
        }
    }
    if renew_consent {
        connection.consent_expires_at =
            now + chrono::Duration::from_std(state.config.consent_lifetime).unwrap_or(chrono::Duration::days(90));
        connection.consent_renewal_requested = false;
        connection.consent_revoked = false;
    }
    apply_update(connection, state.config.seed, state.today, now);
    connection.start_download(state.config.download_in_progress_reads, state.config.download_lasts);
    Ok(Reply::ok(wire::connection(version, connection, bank, true)))
}
