//! The multi-step authentication (MSA) loop: HTTP 510 until the bank is satisfied (finapi.md §3.2 and
//! finAPI's import guide).
//!
//! A flow starts when an import (or, with `sca_on_update`, an update) needs SCA. It is kept server-side under
//! its current `hash`; the client repeats the same call with the same body plus
//! `multiStepAuthentication: {hash, <one answer>}`:
//!
//! | step | 510 `status` | answer field |
//! |---|---|---|
//! | [`Step::ChooseProcedure`] | `TWO_STEP_PROCEDURE_REQUIRED` (+ `twoStepProcedures`) | `twoStepProcedureId` |
//! | [`Step::Challenge`] | `CHALLENGE_RESPONSE_REQUIRED` (+ text / `photoTanData` / `opticalData`) | `challengeResponse` |
//! | [`Step::Redirect`] | `REDIRECT_REQUIRED` (+ `redirectUrl`, `redirectContext`, `redirectContextField`) | `redirectCallback` |
//! | [`Step::Decoupled`] | `DECOUPLED_AUTH_REQUIRED`, then `DECOUPLED_AUTH_IN_PROGRESS` | `decoupledCallback: true` |
//!
//! Invariants:
//! - **Every 510 carries a new hash**; the previous one stops working at once (422 `NO_EXISTING_CHALLENGE`).
//! - **A 422 ends the flow and spends its hash** (finAPI: a 422 is not a 510, it carries no hash and the flow is
//!   over): after a wrong TAN, a missing field or a foreign hash the client has to start a new flow (a new import
//!   or update without `multiStepAuthentication`). Spent hashes are remembered, and every later call that
//!   still carries one is counted ([`Flows::spent_hashes_resent`]) and refused with `NO_EXISTING_CHALLENGE`.
//!   Only a too-early decoupled poll (429) keeps the hash.
//! - A flow belongs to one user and one request (same endpoint, `bankId` and interface, or same
//!   `bankConnectionId`); a hash from another request is refused with 422 `ILLEGAL_FIELD_VALUE`.
//! - A flow lives at most [`FLOW_LIFETIME`].
//! - Decoupled polls closer together than the configured interval answer 429 with `Retry-After` and do not
//!   count as polls.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

use super::ApiVersion;
use super::banks::{DEMO_TAN, Procedure, ProcedureKind};
use super::errors::ApiError;
use crate::challenge::{flicker, qr_png};

/// How long an unfinished flow is remembered.
pub const FLOW_LIFETIME: Duration = Duration::from_secs(15 * 60);
/// `redirectContextField`: the query parameter carrying `redirectContext` back.
pub const REDIRECT_CONTEXT_FIELD: &str = "state";

/// Which call a flow belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlowTarget {
    Import { bank_id: u64, interface: &'static str },
    Update { connection_id: u64 },
}

/// What the user did on the bank's redirect page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Approval {
    Waiting,
    Approved { code: String },
    Cancelled,
}

/// Where a flow stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    ChooseProcedure,
    Challenge {
        procedure: Procedure,
    },
    /// `polled`: false for the first 510 (`DECOUPLED_AUTH_REQUIRED`), true afterwards (`…_IN_PROGRESS`).
    Decoupled {
        procedure: Procedure,
        in_progress_left: u32,
        polled: bool,
    },
    Redirect {
        context: String,
        return_url: String,
        approval: Approval,
    },
}

/// One pending authentication.
#[derive(Debug, Clone)]
pub struct Flow {
    pub user_key: String,
    pub target: FlowTarget,
    pub procedures: Vec<Procedure>,
    pub step: Step,
    pub started: Instant,
    /// When the last 510 of this flow was sent (the decoupled poll interval counts from here).
    pub last_challenge: Instant,
    pub chosen: Option<Procedure>,
}

/// All pending flows, by hash, and the redirect contexts pointing at them; the hashes spent by a 422.
#[derive(Debug, Default)]
pub struct Flows {
    by_hash: HashMap<String, Flow>,
    by_context: HashMap<String, String>,
    spent: std::collections::HashSet<String>,
    spent_resent: u32,
}

/// The client's `multiStepAuthentication` object.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Answer {
    pub hash: Option<String>,
    pub two_step_procedure_id: Option<String>,
    pub challenge_response: Option<String>,
    pub redirect_callback: Option<String>,
    pub decoupled_callback: Option<bool>,
}

/// The result of one step.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Answer 510 with this error.
    Challenge(ApiError),
    /// Authenticated; `procedure` is the one used (None for redirect).
    Done { procedure: Option<Procedure> },
}

/// What a new flow needs to know.
#[derive(Debug, Clone)]
pub struct FlowStart {
    pub user_key: String,
    pub target: FlowTarget,
    pub procedures: Vec<Procedure>,
    /// `Some(client redirectUrl)` for the redirect approach.
    pub redirect_to: Option<String>,
}

/// Settings the loop needs from the bank's configuration.
#[derive(Debug, Clone)]
pub struct Pacing {
    pub version: ApiVersion,
    pub base_url: String,
    pub decoupled_in_progress_polls: u32,
    pub decoupled_min_poll_interval: Duration,
}

fn new_hash() -> String {
    format!("{:032x}", rand::random::<u128>())
}

impl Flows {
    /// Starts a flow and returns its first 510.
    pub fn start(&mut self, start: FlowStart, pacing: &Pacing) -> Outcome {
        let now = Instant::now();
        self.by_hash.retain(|_, flow| now.duration_since(flow.started) < FLOW_LIFETIME);
        let step = match (&start.redirect_to, start.procedures.as_slice()) {
            (Some(return_url), _) => Step::Redirect {
                context: super::errors::random_uuid(),
                return_url: return_url.clone(),
                approval: Approval::Waiting,
            },
            (None, [only]) => step_for(only, pacing),
            (None, _) => Step::ChooseProcedure,
        };
        let chosen = match &step {
            Step::Challenge { procedure } | Step::Decoupled { procedure, .. } => Some(procedure.clone()),
            _ => None,
        };
        let flow = Flow {
            user_key: start.user_key,
            target: start.target,
            procedures: start.procedures,
            step,
            started: now,
            last_challenge: now,
            chosen,
        };
        self.issue(flow, pacing)
    }

    /// How many calls carried a hash that an earlier 422 had spent (a client that re-posts a spent hash
    /// has not understood that a 422 ends the flow).
    pub fn spent_hashes_resent(&self) -> u32 {
        self.spent_resent
    }

    /// Continues the flow named by `answer.hash`. Any 422 ends the flow and spends the hash.
    pub fn answer(
        &mut self,
        user_key: &str,
        target: &FlowTarget,
        answer: &Answer,
        pacing: &Pacing,
    ) -> Result<Outcome, ApiError> {
        let hash = answer.hash.as_deref().unwrap_or_default();
        if self.spent.contains(hash) {
            self.spent_resent = self.spent_resent.saturating_add(1);
            return Err(ApiError::unprocessable(
                "NO_EXISTING_CHALLENGE",
                "This multiStepAuthentication.hash was spent: the flow it belonged to ended with a 422. Start \
                 again without multiStepAuthentication.",
            ));
        }
        let known = self.by_hash.get(hash).is_some_and(|flow| flow.user_key == user_key);
        let outcome = self.continue_flow(user_key, target, answer, pacing);
        if let Err(error) = &outcome {
            if known && error.status == axum::http::StatusCode::UNPROCESSABLE_ENTITY {
                self.remove(hash);
                self.spent.insert(hash.to_owned());
            }
        }
        outcome
    }

    fn continue_flow(
        &mut self,
        user_key: &str,
        target: &FlowTarget,
        answer: &Answer,
        pacing: &Pacing,
    ) -> Result<Outcome, ApiError> {
        let hash = answer.hash.as_deref().unwrap_or_default();
        let now = Instant::now();
        let known = self
            .by_hash
            .get(hash)
            .filter(|flow| flow.user_key == user_key && now.duration_since(flow.started) < FLOW_LIFETIME);
        let Some(flow) = known else {
            return Err(ApiError::unprocessable(
                "NO_EXISTING_CHALLENGE",
                "There is no pending multi-step authentication for this multiStepAuthentication.hash. Every 510 \
                 answer carries a new hash that is valid only for the next call; send the hash of the latest 510, \
                 or start again without multiStepAuthentication.",
            ));
        };
        if &flow.target != target {
            return Err(ApiError::unprocessable(
                "ILLEGAL_FIELD_VALUE",
                "multiStepAuthentication.hash belongs to a different request: repeat the same call with the same \
                 body (bankId, bankingInterface or bankConnectionId).",
            ));
        }
        let mut flow = flow.clone();
        match flow.step.clone() {
            Step::ChooseProcedure => {
                let Some(id) = answer.two_step_procedure_id.as_deref() else {
                    return Err(ApiError::unprocessable(
                        "MISSING_TWO_STEP_PROCEDURE",
                        "multiStepAuthentication.twoStepProcedureId is required: choose one of the twoStepProcedures.",
                    ));
                };
                let Some(procedure) = flow.procedures.iter().find(|p| p.id == id).cloned() else {
                    return Err(ApiError::unprocessable(
                        "INVALID_TWO_STEP_PROCEDURE",
                        format!("Two-step procedure '{id}' is not offered for this bank connection."),
                    ));
                };
                flow.step = step_for(&procedure, pacing);
                flow.chosen = Some(procedure);
                Ok(self.replace(hash, flow, pacing))
            }
            Step::Challenge { procedure } => {
                let Some(response) = answer.challenge_response.as_deref() else {
                    return Err(ApiError::unprocessable(
                        "MISSING_FIELD",
                        "multiStepAuthentication.challengeResponse is required: send the TAN the user entered.",
                    ));
                };
                self.remove(hash);
                if response.trim() == DEMO_TAN {
                    return Ok(Outcome::Done { procedure: Some(procedure) });
                }
                Err(ApiError::bank_rejection("TAN ungültig. Bitte starten Sie den Vorgang erneut. (9941)"))
            }
            Step::Decoupled { procedure, in_progress_left, .. } => {
                if answer.decoupled_callback != Some(true) {
                    return Err(ApiError::unprocessable(
                        "MISSING_FIELD",
                        "multiStepAuthentication.decoupledCallback must be true to ask whether the user has \
                         approved in the banking app.",
                    ));
                }
                let since = now.duration_since(flow.last_challenge);
                if since < pacing.decoupled_min_poll_interval {
                    let wait = pacing.decoupled_min_poll_interval - since;
                    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                    return Err(ApiError::technical(
                        axum::http::StatusCode::TOO_MANY_REQUESTS,
                        "ILLEGAL_ENTITY_STATE",
                        format!(
                            "Decoupled authentication polled too early: wait at least {} ms between two polls \
                             (retry in {seconds} s). This poll was not counted; the hash stays valid.",
                            pacing.decoupled_min_poll_interval.as_millis()
                        ),
                    )
                    .with_retry_after(seconds.max(1)));
                }
                if in_progress_left == 0 {
                    self.remove(hash);
                    return Ok(Outcome::Done { procedure: Some(procedure) });
                }
                flow.step = Step::Decoupled { procedure, in_progress_left: in_progress_left - 1, polled: true };
                Ok(self.replace(hash, flow, pacing))
            }
            Step::Redirect { context, approval, .. } => {
                let Some(callback) = answer.redirect_callback.as_deref() else {
                    return Err(ApiError::unprocessable(
                        "MISSING_FIELD",
                        "multiStepAuthentication.redirectCallback is required: send the complete query string the \
                         bank appended to your redirectUrl.",
                    ));
                };
                let query = callback.split_once('?').map_or(callback, |(_, query)| query);
                let pairs: HashMap<String, String> =
                    url::form_urlencoded::parse(query.trim_start_matches('?').as_bytes()).into_owned().collect();
                if pairs.get(REDIRECT_CONTEXT_FIELD) != Some(&context) {
                    return Err(ApiError::unprocessable(
                        "ILLEGAL_FIELD_VALUE",
                        format!(
                            "redirectCallback does not belong to this authentication: its '{REDIRECT_CONTEXT_FIELD}' \
                             must equal the redirectContext of the 510."
                        ),
                    ));
                }
                self.remove(hash);
                if pairs.contains_key("error") || approval == Approval::Cancelled {
                    return Err(ApiError::bank_rejection(
                        "Der Vorgang wurde vom Kunden auf der Seite der Bank abgebrochen.",
                    ));
                }
                match approval {
                    Approval::Approved { code } if pairs.get("code") == Some(&code) => {
                        Ok(Outcome::Done { procedure: None })
                    }
                    Approval::Approved { .. } => {
                        Err(ApiError::bank_rejection("Der Autorisierungscode ist ungültig oder abgelaufen."))
                    }
                    Approval::Waiting | Approval::Cancelled => Err(ApiError::bank_rejection(
                        "Die Autorisierung wurde auf der Seite der Bank nicht abgeschlossen.",
                    )),
                }
            }
        }
    }

    /// The flow behind a redirect context (for the bank's HTML page).
    pub fn by_context(&self, context: &str) -> Option<&Flow> {
        self.by_context.get(context).and_then(|hash| self.by_hash.get(hash))
    }

    /// Records the user's click on the redirect page; returns the URL to send the browser to.
    pub fn decide_redirect(&mut self, context: &str, approve: bool) -> Option<String> {
        let hash = self.by_context.get(context)?.clone();
        let flow = self.by_hash.get_mut(&hash)?;
        let Step::Redirect { return_url, approval, .. } = &mut flow.step else {
            return None;
        };
        let mut target = url::Url::parse(return_url).ok()?;
        {
            let mut query = target.query_pairs_mut();
            query.append_pair(REDIRECT_CONTEXT_FIELD, context);
            if approve {
                let code = super::errors::random_uuid();
                query.append_pair("code", &code);
                *approval = Approval::Approved { code };
            } else {
                query.append_pair("error", "access_denied");
                query.append_pair("error_description", "Vorgang vom Kunden abgebrochen");
                *approval = Approval::Cancelled;
            }
        }
        Some(target.to_string())
    }

    fn remove(&mut self, hash: &str) {
        if let Some(flow) = self.by_hash.remove(hash) {
            if let Step::Redirect { context, .. } = flow.step {
                self.by_context.remove(&context);
            }
        }
    }

    fn replace(&mut self, old_hash: &str, flow: Flow, pacing: &Pacing) -> Outcome {
        self.remove(old_hash);
        self.issue(flow, pacing)
    }

    /// Stores `flow` under a fresh hash and builds its 510.
    fn issue(&mut self, mut flow: Flow, pacing: &Pacing) -> Outcome {
        let hash = new_hash();
        flow.last_challenge = Instant::now();
        let error = challenge_error(&hash, &flow, pacing);
        if let Step::Redirect { context, .. } = &flow.step {
            self.by_context.insert(context.clone(), hash.clone());
        }
        self.by_hash.insert(hash, flow);
        Outcome::Challenge(error)
    }
}

fn step_for(procedure: &Procedure, pacing: &Pacing) -> Step {
    if procedure.kind == ProcedureKind::Decoupled {
        Step::Decoupled {
            procedure: procedure.clone(),
            in_progress_left: pacing.decoupled_in_progress_polls,
            polled: false,
        }
    } else {
        Step::Challenge { procedure: procedure.clone() }
    }
}

/// The content of a 510 `multiStepAuthentication` object. Every key is present (`null` when unused), as in v1;
/// v2 adds `opticalDataAsReinerSct`.
#[derive(Debug, Default)]
struct ChallengeFields {
    challenge_message: Option<String>,
    answer_field_label: Option<String>,
    redirect_url: Option<String>,
    redirect_context: Option<String>,
    redirect_context_field: Option<String>,
    two_step_procedures: Option<Value>,
    photo_tan_mime_type: Option<String>,
    photo_tan_data: Option<String>,
    optical_data: Option<String>,
}

fn challenge_error(hash: &str, flow: &Flow, pacing: &Pacing) -> ApiError {
    let mut fields = ChallengeFields::default();
    let status = match &flow.step {
        Step::ChooseProcedure => {
            fields.two_step_procedures = Some(Value::Array(
                flow.procedures
                    .iter()
                    .map(|p| {
                        json!({
                            "procedureId": p.id,
                            "procedureName": p.name,
                            "procedureChallengeType": p.kind.challenge_type(),
                            "implicitExecute": false,
                        })
                    })
                    .collect(),
            ));
            "TWO_STEP_PROCEDURE_REQUIRED"
        }
        Step::Challenge { procedure } => {
            fields.answer_field_label = Some("TAN".to_owned());
            let message = match procedure.kind {
                ProcedureKind::Flicker => {
                    fields.optical_data = Some(flicker_for(hash));
                    "Bitte halten Sie Ihren TAN-Generator an die Grafik und geben Sie die angezeigte TAN ein. \
                     (Demo-TAN: 123456)"
                        .to_owned()
                }
                ProcedureKind::Photo => {
                    match qr_png::bqr_payload(&flicker_for(hash)).and_then(|payload| qr_png::qr_png(&payload)) {
                        Ok(png) => {
                            fields.photo_tan_mime_type = Some("image/png".to_owned());
                            fields.photo_tan_data = Some(base64::engine::general_purpose::STANDARD.encode(png));
                        }
                        Err(error) => tracing::warn!(%error, "could not draw the chipTAN QR code"),
                    }
                    "Bitte scannen Sie den QR-Code mit Ihrem TAN-Generator und geben Sie die angezeigte TAN ein. \
                     (Demo-TAN: 123456)"
                        .to_owned()
                }
                ProcedureKind::Text if procedure.name == "pushTan" => {
                    "Bitte geben Sie die TAN ein, die Ihnen in Ihrer pushTAN-App angezeigt wird. (Demo-TAN: 123456)"
                        .to_owned()
                }
                ProcedureKind::Text | ProcedureKind::Decoupled => {
                    "Es ist eine zusätzliche Authentifizierung erforderlich. Bitte geben Sie folgenden Code an: 123456"
                        .to_owned()
                }
            };
            fields.challenge_message = Some(message);
            "CHALLENGE_RESPONSE_REQUIRED"
        }
        Step::Decoupled { polled, .. } => {
            fields.challenge_message = Some("Bitte bestätigen Sie auf ihrem externen Gerät die Anmeldung".to_owned());
            if *polled { "DECOUPLED_AUTH_IN_PROGRESS" } else { "DECOUPLED_AUTH_REQUIRED" }
        }
        Step::Redirect { context, .. } => {
            fields.redirect_url = Some(format!("{}/demo-bank/redirect/{context}", pacing.base_url));
            fields.redirect_context = Some(context.clone());
            fields.redirect_context_field = Some(REDIRECT_CONTEXT_FIELD.to_owned());
            "REDIRECT_REQUIRED"
        }
    };
    let mut challenge = json!({
        "hash": hash,
        "status": status,
        "challengeMessage": fields.challenge_message,
        "answerFieldLabel": fields.answer_field_label,
        "redirectUrl": fields.redirect_url,
        "redirectContext": fields.redirect_context,
        "redirectContextField": fields.redirect_context_field,
        "twoStepProcedures": fields.two_step_procedures,
        "photoTanMimeType": fields.photo_tan_mime_type,
        "photoTanData": fields.photo_tan_data,
        "opticalData": fields.optical_data,
    });
    if pacing.version == ApiVersion::V2 {
        if let Some(object) = challenge.as_object_mut() {
            object.insert("opticalDataAsReinerSct".to_owned(), Value::Bool(false));
        }
    }
    let message = match status {
        "TWO_STEP_PROCEDURE_REQUIRED" => {
            Some("Es muss eine Zwei-Faktor-Authentifizierungsmethode ausgewählt werden".to_owned())
        }
        "REDIRECT_REQUIRED" => None,
        _ => fields.challenge_message,
    };
    ApiError::multi_step(message, challenge)
}

/// A rendered HHD 1.4 flicker code for this challenge: start code and one data element derived from the hash.
fn flicker_for(hash: &str) -> String {
    let number = u128::from_str_radix(hash, 16).unwrap_or(0);
    let challenge = flicker::FlickerChallenge {
        control_bytes: vec![1],
        start_code: format!("{:08}", number % 100_000_000),
        data_elements: vec![format!("{:010}", (number / 100_000_000) % 10_000_000_000)],
    };
    flicker::render(&challenge)
}
