//! The pure transition function: `step(flow, event, now) -> (flow, effects)`.
//!
//! Nothing here does I/O or reads a clock: the driver feeds events (answers, provider replies,
//! callbacks, timer ticks, cancel, restore after restart) and performs the returned [`Effect`]s in
//! order. Rules that hold for every state:
//!
//! - A finished flow (linked, failed, cancelled) refuses every event with `ScaStale`.
//! - `Cancel` ends any unfinished flow.
//! - Past the flow's deadline, every event except a provider reply ends the flow with `ScaTimedOut`
//!   (a reply may still say the connection was made, which must not be lost).
//! - An event that does not fit the state, or an answer that is invalid, is refused with
//!   [`Effect::Reject`] and changes nothing.
//! - `Persist` comes before `Submit`, so a crash during a call is seen on restart as "submitting",
//!   which restarts the round instead of guessing whether the call landed.
//! - Decoupled polls are spaced by the flow's poll interval: a tick before `next_poll_at` only
//!   re-arms the timer.
//! - A refusal the user can fix is asked again with the bank's error ([`Effect::Reject`] after the
//!   state changed back): a wrong TAN returns to the same TAN request (the bank keeps its challenge)
//!   up to [`super::state::MAX_WRONG_TANS`] TANs, a refused login to the login form up to
//!   [`super::state::MAX_REJECTED_LOGINS`] logins. A redirect the bank reports as not approved ends as
//!   `ScaCancelled`.
//! - Whether the bank kept its step is the provider's call: a failed call (`CallFailed`) may leave it
//!   open, but a reply [`AuthReply::Ended`] (a finX sync that is `FAILED`, a finAPI 422 after a TAN)
//!   says the round is over. Then nothing of it is answered again (a spent finAPI hash is never
//!   re-sent). Where the provider expects a new round for another try (`new_round`), a refused TAN
//!   starts one — the same import or update, without continuation, with the login kept in memory —
//!   and the request it leads to is shown with the refusal ([`Effect::Notice`]), up to
//!   [`super::state::MAX_WRONG_TANS`] TANs in all. Otherwise a refused TAN ends the flow with
//!   `TanRejected` (the bank's text kept), and only steps that start a new round (the login form)
//!   may still be offered.

use chrono::{DateTime, Duration, Utc};

use super::request::{UserAnswer, UserRequest};
use super::state::{CallKind, Flow, Resume, ScaState};
use crate::error::{ErrorCode, KontorError};
use crate::provider::{AuthAnswer, AuthReply, LoginValue, ScaChallenge};

/// Something that happened to a flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The flow was just created.
    Begin,
    Answer(UserAnswer),
    /// The provider answered the call in flight.
    Reply(AuthReply),
    /// The call in flight failed.
    CallFailed(KontorError),
    /// The bank sent the user back. `params` are the callback URL's query pairs, `query` the whole
    /// query string.
    Callback {
        params: Vec<(String, String)>,
        query: String,
    },
    /// A timer went off.
    Tick,
    Cancel,
    /// The flow was loaded from the vault after a restart; in-memory secrets are gone.
    Restored,
}

/// What the driver has to do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Save the flow (the `sca_flows` row).
    Persist,
    /// Delete the flow's row.
    Forget,
    /// Keep these login values in memory for the rest of the flow (never persisted), and whether the
    /// user agreed that the provider keeps them.
    KeepCredentials { values: Vec<LoginValue>, store_secrets: bool },
    /// Show this refusal together with the next request (a new round started after it).
    Notice(KontorError),
    /// Show this to the user and wait for an answer.
    Ask(UserRequest),
    /// Send the next call with this answer; feed back `Reply` or `CallFailed`.
    Submit(AuthAnswer),
    /// Feed `Tick` at this time.
    WakeAt(DateTime<Utc>),
    /// The connection exists at the provider: save it and download its data.
    Linked { provider_connection_id: String },
    /// The flow ended without a connection.
    Fail(KontorError),
    /// This event was refused; the flow is unchanged.
    Reject(KontorError),
}

fn reject(flow: Flow, error: KontorError) -> (Flow, Vec<Effect>) {
    (flow, vec![Effect::Reject(error)])
}

fn fail(mut flow: Flow, error: KontorError) -> (Flow, Vec<Effect>) {
    flow.state = ScaState::Failed { error: error.clone() };
    (flow, vec![Effect::Forget, Effect::Fail(error)])
}

/// Enter `state` and announce it: ask the user, or send the call.
fn enter(mut flow: Flow, state: ScaState, answer: Option<AuthAnswer>) -> (Flow, Vec<Effect>) {
    flow.state = state;
    let mut effects = vec![Effect::Persist];
    match (&flow.state, answer) {
        (ScaState::Submitting { .. }, Some(answer)) => effects.push(Effect::Submit(answer)),
        (ScaState::Submitting { .. }, None) => effects.push(Effect::Submit(AuthAnswer::None)),
        _ => {
            if let Some(request) = flow.request() {
                effects.push(Effect::Ask(request));
            }
        }
    }
    (flow, effects)
}

fn stale(what: &str) -> KontorError {
    KontorError::new(ErrorCode::ScaStale, format!("{what} does not fit the current step of this authentication."))
}

fn normalise_iban(text: &str) -> Option<String> {
    let iban: String = text.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
    let ok = (15..=34).contains(&iban.len())
        && iban.chars().take(2).all(|c| c.is_ascii_alphabetic())
        && iban.chars().skip(2).take(2).all(|c| c.is_ascii_digit())
        && iban.chars().all(|c| c.is_ascii_alphanumeric());
    ok.then_some(iban)
}

fn check_credentials(flow: &Flow, values: &[LoginValue], only_secret: bool) -> Result<(), KontorError> {
    for value in values {
        if !flow.login_fields.iter().any(|f| f.label == value.label) {
            return Err(KontorError::invalid_input(format!("The bank has no login field '{}'.", value.label)));
        }
    }
    for field in flow.login_fields.iter().filter(|f| f.mandatory && (!only_secret || f.secret)) {
        let given = values.iter().find(|v| v.label == field.label);
        if given.is_none_or(|v| v.value.expose().trim().is_empty()) {
            return Err(KontorError::invalid_input(format!("Please fill in '{}'.", field.label)));
        }
    }
    Ok(())
}

/// The transition function. See the module docs for the rules.
pub fn step(flow: Flow, event: Event, now: DateTime<Utc>) -> (Flow, Vec<Effect>) {
    if flow.state.is_terminal() {
        return reject(flow, KontorError::new(ErrorCode::ScaStale, "This authentication has already finished."));
    }
    if event == Event::Cancel {
        let mut flow = flow;
        flow.state = ScaState::Cancelled;
        let error = KontorError::new(ErrorCode::ScaCancelled, "The authentication was cancelled.");
        return (flow, vec![Effect::Forget, Effect::Fail(error)]);
    }
    let is_reply = matches!(event, Event::Reply(_) | Event::CallFailed(_));
    if now >= flow.deadline && !is_reply {
        return fail(
            flow,
            KontorError::new(ErrorCode::ScaTimedOut, "The authentication took too long. Please start again."),
        );
    }
    let state = flow.state.clone();
    match (state, event) {
        (_, Event::Begin) => {
            let state = flow.state.clone();
            enter(flow, state, None)
        }

        (state, Event::Restored) => restored(flow, state, now),

        (
            ScaState::AwaitingCredentials { resume },
            Event::Answer(UserAnswer::Credentials { values, store_secrets }),
        ) => {
            if let Err(e) = check_credentials(&flow, &values, resume.is_some()) {
                return reject(flow, e);
            }
            let mut flow = flow;
            flow.credentials_sent = true;
            let keep = Effect::KeepCredentials { values, store_secrets };
            let (flow, mut effects) = match resume {
                Some(Resume::RedirectCallback { query }) => enter(
                    flow,
                    ScaState::Submitting { call: CallKind::RedirectCallback },
                    Some(AuthAnswer::RedirectCallback(query)),
                ),
                None if flow.ask_ibans && flow.ibans.is_empty() => enter(flow, ScaState::AwaitingAccounts, None),
                None => enter(flow, ScaState::Submitting { call: CallKind::Initial }, None),
            };
            effects.insert(0, keep);
            (flow, effects)
        }

        (ScaState::AwaitingAccounts, Event::Answer(UserAnswer::Accounts { ibans })) => {
            let parsed: Option<Vec<String>> = ibans.iter().map(|i| normalise_iban(i)).collect();
            match parsed {
                Some(list) if !list.is_empty() => {
                    let mut flow = flow;
                    flow.ibans = list;
                    enter(flow, ScaState::Submitting { call: CallKind::Initial }, None)
                }
                _ => reject(flow, KontorError::invalid_input("Enter at least one valid IBAN.")),
            }
        }

        (ScaState::AwaitingProcedure { procedures, .. }, Event::Answer(UserAnswer::Procedure { id })) => {
            if !procedures.iter().any(|p| p.id == id) {
                return reject(flow, KontorError::invalid_input("Choose one of the methods the bank offers."));
            }
            enter(flow, ScaState::Submitting { call: CallKind::Procedure }, Some(AuthAnswer::Procedure(id)))
        }

        (ScaState::AwaitingTan { .. }, Event::Answer(UserAnswer::Tan { tan })) => {
            if tan.expose().trim().is_empty() {
                return reject(flow, KontorError::invalid_input("Enter the TAN."));
            }
            let tan = crate::secret::SecretString::new(tan.expose().trim().to_owned());
            let mut flow = flow;
            flow.tan_request = Some(flow.state.clone());
            enter(flow, ScaState::Submitting { call: CallKind::Tan }, Some(AuthAnswer::Tan(tan)))
        }

        (ScaState::AwaitingDecoupled { next_poll_at, .. }, Event::Answer(UserAnswer::Continue) | Event::Tick) => {
            if now < next_poll_at {
                return (flow, vec![Effect::WakeAt(next_poll_at)]);
            }
            enter(flow, ScaState::Submitting { call: CallKind::DecoupledPoll }, Some(AuthAnswer::DecoupledPoll))
        }

        (
            ScaState::AwaitingRedirect { context_field, context, secrets_lost, .. },
            Event::Callback { params, query },
        ) => {
            let carried = params.iter().find(|(k, _)| *k == context_field).map(|(_, v)| v.as_str());
            if carried != Some(context.as_str()) {
                return reject(
                    flow,
                    KontorError::new(
                        ErrorCode::ScaStateMismatch,
                        "This callback does not belong to this authentication.",
                    ),
                );
            }
            if secrets_lost {
                enter(flow, ScaState::AwaitingCredentials { resume: Some(Resume::RedirectCallback { query }) }, None)
            } else {
                enter(
                    flow,
                    ScaState::Submitting { call: CallKind::RedirectCallback },
                    Some(AuthAnswer::RedirectCallback(query)),
                )
            }
        }

        (ScaState::Submitting { .. }, Event::Reply(AuthReply::Connected { provider_connection_id })) => {
            let mut flow = flow;
            flow.state = ScaState::Linked { provider_connection_id: provider_connection_id.clone() };
            (flow, vec![Effect::Linked { provider_connection_id }, Effect::Forget])
        }

        (ScaState::Submitting { call }, Event::Reply(AuthReply::NeedsAnswer { continuation, challenge })) => {
            let mut flow = flow;
            flow.continuation = Some(continuation);
            challenged(flow, call, challenge, now)
        }

        (ScaState::Submitting { call }, Event::CallFailed(error)) => call_failed(flow, call, error, now, false),

        (ScaState::Submitting { call: CallKind::Tan }, Event::Reply(AuthReply::Ended { error, new_round: true }))
            if error.code == ErrorCode::TanRejected && flow.wrong_tans + 1 < super::state::MAX_WRONG_TANS =>
        {
            new_round_after_wrong_tan(flow, error)
        }

        (ScaState::Submitting { call }, Event::Reply(AuthReply::Ended { error, .. })) => {
            call_failed(flow, call, error, now, true)
        }

        (ScaState::Submitting { .. }, Event::Answer(answer)) => reject(
            flow,
            KontorError::new(
                ErrorCode::ResourceBusy,
                format!("Kontor is still waiting for the bank; the {} answer was not sent.", answer.kind()),
            ),
        ),

        (_, Event::Answer(UserAnswer::Continue)) => {
            let effects = flow.request().map(Effect::Ask).into_iter().collect();
            (flow, effects)
        }

        (_, Event::Tick) => (flow, Vec::new()),

        (_, Event::Callback { .. }) => reject(
            flow,
            KontorError::new(ErrorCode::ScaStateMismatch, "No bank redirect is expected for this authentication."),
        ),

        (_, Event::Answer(answer)) => {
            let what = format!("The {} answer", answer.kind());
            reject(flow, stale(&what))
        }

        (_, Event::Reply(_) | Event::CallFailed(_)) => reject(flow, stale("A reply from the bank")),

        (_, Event::Cancel) => reject(flow, stale("Cancel")),
    }
}

/// The provider ended the round after a refused TAN and expects a new one: the same operation again
/// from its first call (new hash, new challenge), never the spent continuation.
fn new_round_after_wrong_tan(flow: Flow, error: KontorError) -> (Flow, Vec<Effect>) {
    let mut flow = flow;
    flow.wrong_tans += 1;
    flow.continuation = None;
    flow.tan_request = None;
    let mut notice = KontorError::new(
        ErrorCode::TanRejected,
        "The bank did not accept the TAN and ended that authentication. Kontor has started a new one: \
         answer the bank's next request and enter the new TAN.",
    );
    notice.bank_message = error.bank_message;
    let (flow, mut effects) = enter(flow, ScaState::Submitting { call: CallKind::Initial }, None);
    effects.insert(0, Effect::Notice(notice));
    (flow, effects)
}

/// The call in flight failed (`ended == false`), or the provider ended the round itself
/// (`ended == true`, [`AuthReply::Ended`]): then its challenge is gone, so a refused TAN is not asked
/// again and a decoupled approval is not polled again.
fn call_failed(flow: Flow, call: CallKind, error: KontorError, now: DateTime<Utc>, ended: bool) -> (Flow, Vec<Effect>) {
    if call == CallKind::DecoupledPoll && error.code.is_transient() && !ended {
        let mut flow = flow;
        let next = now + Duration::milliseconds(flow.poll_interval_ms);
        let message = flow.approval_message.clone();
        flow.state = ScaState::AwaitingDecoupled { message, next_poll_at: next };
        return (flow, vec![Effect::Persist, Effect::WakeAt(next)]);
    }
    if call == CallKind::Tan && error.code == ErrorCode::TanRejected && ended {
        let text = if flow.wrong_tans + 1 >= super::state::MAX_WRONG_TANS {
            "The bank refused the TAN too often and ended the authentication. Nothing was changed; \
             start again to get a new TAN."
        } else {
            "The bank did not accept the TAN and ended this authentication. Nothing was changed; \
             start again to get a new TAN."
        };
        let mut over = KontorError::new(ErrorCode::TanRejected, text);
        over.bank_message = error.bank_message.clone();
        return fail(flow, over);
    }
    if let Some(outcome) = ask_again(&flow, call, &error) {
        let (state, error) = outcome;
        let mut flow = flow;
        match state {
            ScaState::AwaitingTan { .. } => flow.wrong_tans += 1,
            _ => {
                flow.rejected_logins += 1;
                flow.continuation = None;
            }
        }
        flow.state = state;
        return (flow, vec![Effect::Persist, Effect::Reject(error)]);
    }
    if call == CallKind::Tan && error.code == ErrorCode::TanRejected {
        let mut ended = KontorError::new(
            ErrorCode::TanRejected,
            "The bank refused the TAN too often and ended the authentication. Please start again.",
        );
        ended.bank_message = error.bank_message.clone();
        return fail(flow, ended);
    }
    if call == CallKind::RedirectCallback && error.code == ErrorCode::CredentialsRejected {
        // The bank answers a cancelled (or never finished) approval on its page like this.
        let mut cancelled = KontorError::new(
            ErrorCode::ScaCancelled,
            "The approval was cancelled or not finished on the bank's page. Start again to link the bank.",
        );
        cancelled.bank_message = error.bank_message.clone();
        return fail(flow, cancelled);
    }
    if error.code == ErrorCode::CredentialsRequired && !flow.login_fields.is_empty() {
        let mut flow = flow;
        flow.continuation = None;
        let (flow, mut effects) = enter(flow, ScaState::AwaitingCredentials { resume: None }, None);
        effects.insert(0, Effect::Notice(error));
        return (flow, effects);
    }
    fail(flow, error)
}

/// A refusal the user can fix by answering again (the bank keeps the step): a wrong TAN goes back
/// to the same TAN request, a refused login to the login form, each a few times at most. Returns
/// the state to go back to and the error to show with it.
fn ask_again(flow: &Flow, call: CallKind, error: &KontorError) -> Option<(ScaState, KontorError)> {
    match (call, error.code) {
        (CallKind::Initial, ErrorCode::CredentialsRejected)
            if refuses_a_sent_iban(flow, error) && flow.rejected_logins + 1 < super::state::MAX_REJECTED_LOGINS =>
        {
            let mut again = KontorError::new(
                ErrorCode::InvalidInput,
                "The bank does not know one of these accounts under your login. Check the IBANs and enter them again.",
            );
            again.bank_message = error.bank_message.clone();
            Some((ScaState::AwaitingAccounts, again))
        }
        (CallKind::Tan, ErrorCode::TanRejected) if flow.wrong_tans + 1 < super::state::MAX_WRONG_TANS => {
            let state = flow.tan_request.clone().filter(|s| matches!(s, ScaState::AwaitingTan { .. }))?;
            let mut again = KontorError::new(
                ErrorCode::TanRejected,
                "The bank did not accept this TAN. Check it and enter it again.",
            );
            again.bank_message = error.bank_message.clone();
            Some((state, again))
        }
        (CallKind::Initial, ErrorCode::CredentialsRejected)
            if flow.credentials_sent
                && !flow.login_fields.is_empty()
                && flow.rejected_logins + 1 < super::state::MAX_REJECTED_LOGINS =>
        {
            let mut again = KontorError::new(
                ErrorCode::CredentialsRejected,
                "The bank did not accept the login. Check your online-banking ID and PIN and enter them again.",
            );
            again.bank_message = error.bank_message.clone();
            Some((ScaState::AwaitingCredentials { resume: None }, again))
        }
        _ => None,
    }
}

/// Whether a refused login is the bank refusing an account the user named (detailed consent): its
/// text names one of the IBANs sent. Then the IBAN step is asked again, not the login.
fn refuses_a_sent_iban(flow: &Flow, error: &KontorError) -> bool {
    let text: String = [error.bank_message.as_deref(), Some(error.message.as_str())]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    flow.ask_ibans && flow.ibans.iter().any(|iban| text.contains(iban.as_str()))
}

/// A 510 after `call`: move to the state that asks the user for the one answer.
fn challenged(flow: Flow, call: CallKind, challenge: ScaChallenge, now: DateTime<Utc>) -> (Flow, Vec<Effect>) {
    match challenge {
        ScaChallenge::ChooseProcedure { message, procedures } => {
            if procedures.is_empty() {
                return fail(
                    flow,
                    KontorError::new(ErrorCode::ProviderResponseInvalid, "The bank offered no authentication method."),
                );
            }
            enter(flow, ScaState::AwaitingProcedure { message, procedures }, None)
        }
        ScaChallenge::Tan { message, label, challenge } => {
            enter(flow, ScaState::AwaitingTan { message, label, challenge }, None)
        }
        ScaChallenge::Redirect { url, context, context_field } => {
            let context = context.unwrap_or_else(|| flow.id.to_string());
            let context_field = context_field.unwrap_or_else(|| "state".to_owned());
            enter(flow, ScaState::AwaitingRedirect { url, context_field, context, secrets_lost: false }, None)
        }
        ScaChallenge::Decoupled { message, .. } => {
            let mut flow = flow;
            let next_poll_at = now + Duration::milliseconds(flow.poll_interval_ms);
            let message = message.or_else(|| flow.approval_message.clone());
            flow.approval_message = message.clone();
            flow.state = ScaState::AwaitingDecoupled { message: message.clone(), next_poll_at };
            if call == CallKind::DecoupledPoll {
                // The user already sees the prompt: keep polling.
                (flow, vec![Effect::Persist, Effect::WakeAt(next_poll_at)])
            } else {
                (flow, vec![Effect::Persist, Effect::Ask(UserRequest::ApproveInApp { message })])
            }
        }
    }
}

/// After a restart: states that need secrets the driver no longer has start the round again.
fn restored(flow: Flow, state: ScaState, now: DateTime<Utc>) -> (Flow, Vec<Effect>) {
    let needs_secrets = flow.credentials_sent && flow.login_fields.iter().any(|f| f.secret);
    match state {
        ScaState::AwaitingRedirect { url, context_field, context, .. } => {
            enter(flow, ScaState::AwaitingRedirect { url, context_field, context, secrets_lost: needs_secrets }, None)
        }
        ScaState::AwaitingCredentials { .. } | ScaState::AwaitingAccounts => {
            let state = flow.state.clone();
            enter(flow, state, None)
        }
        ScaState::Submitting { .. } => restart(flow),
        ScaState::AwaitingProcedure { .. } | ScaState::AwaitingTan { .. } | ScaState::AwaitingDecoupled { .. }
            if needs_secrets =>
        {
            restart(flow)
        }
        ScaState::AwaitingDecoupled { message, .. } => {
            let mut flow = flow;
            flow.state = ScaState::AwaitingDecoupled { message: message.clone(), next_poll_at: now };
            (flow, vec![Effect::Persist, Effect::Ask(UserRequest::ApproveInApp { message })])
        }
        other => {
            let mut flow = flow;
            flow.state = other;
            let effects = flow.request().map(Effect::Ask).into_iter().collect();
            (flow, effects)
        }
    }
}

fn restart(mut flow: Flow) -> (Flow, Vec<Effect>) {
    flow.continuation = None;
    flow.credentials_sent = false;
    let state = flow.fresh_start();
    enter(flow, state, None)
}
