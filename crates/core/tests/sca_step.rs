//! The SCA machine's pure transitions, one by one.

use chrono::{DateTime, Duration, TimeZone, Utc};
use kontor_core::ErrorCode;
use kontor_core::KontorError;
use kontor_core::domain::{ConnectionId, FlowId, ProviderConfigId};
use kontor_core::provider::{
    AuthAnswer, AuthReply, Continuation, LoginField, LoginValue, ScaChallenge, ScaProcedure, TanChallenge,
};
use kontor_core::sca::{
    CallKind, Effect, Event, Flow, FlowPurpose, FlowSetup, Resume, ScaState, UserAnswer, UserRequest, step,
};
use kontor_core::secret::SecretString;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 15, 10, 0, 0).single().unwrap_or_default()
}

fn fields() -> Vec<LoginField> {
    vec![
        LoginField { label: "Onlinebanking-ID".into(), secret: false, volatile: false, mandatory: true },
        LoginField { label: "PIN".into(), secret: true, volatile: false, mandatory: true },
    ]
}

fn setup(login_fields: Vec<LoginField>, ask_ibans: bool) -> FlowSetup {
    FlowSetup {
        id: FlowId::from("flow-1"),
        provider_config_id: ProviderConfigId::from("cfg"),
        purpose: FlowPurpose::Link { bank_id: "280001".into(), bank_bic: None },
        bank_name: "finAPI Test Bank".into(),
        interface: "XS2A".into(),
        login_fields,
        login_hint: None,
        ask_ibans,
        known_ibans: vec![],
        redirect_url: None,
        ask_credentials_first: true,
        poll_interval_ms: 5_000,
        timeout_secs: 900,
    }
}

fn flow() -> Flow {
    Flow::new(setup(fields(), false), t0())
}

fn with_state(state: ScaState) -> Flow {
    let mut f = flow();
    f.continuation = Some(Continuation { token: "hash-1".into(), procedure_id: None });
    f.state = state;
    f
}

fn creds(id: &str, pin: &str) -> Vec<LoginValue> {
    vec![
        LoginValue { label: "Onlinebanking-ID".into(), value: SecretString::new(id.into()) },
        LoginValue { label: "PIN".into(), value: SecretString::new(pin.into()) },
    ]
}

fn procedures() -> Vec<ScaProcedure> {
    vec![
        ScaProcedure { id: "smsTan".into(), name: "smsTAN".into(), kind: None },
        ScaProcedure { id: "decoupled".into(), name: "Demo Decoupled Auth".into(), kind: None },
    ]
}

fn rejected_with(effects: &[Effect], code: ErrorCode) -> bool {
    matches!(effects, [Effect::Reject(e)] if e.code == code)
}

fn needs(challenge: ScaChallenge) -> Event {
    Event::Reply(AuthReply::NeedsAnswer {
        continuation: Continuation { token: "hash-2".into(), procedure_id: Some("smsTan".into()) },
        challenge,
    })
}

#[test]
fn begin_asks_for_credentials() {
    let (f, effects) = step(flow(), Event::Begin, t0());
    assert_eq!(f.state, ScaState::AwaitingCredentials { resume: None });
    assert!(
        matches!(&effects[..], [Effect::Persist, Effect::Ask(UserRequest::EnterCredentials { fields, .. })] if fields.len() == 2)
    );
}

#[test]
fn begin_without_fields_submits_at_once() {
    let f = Flow::new(setup(vec![], false), t0());
    let (f, effects) = step(f, Event::Begin, t0());
    assert_eq!(f.state, ScaState::Submitting { call: CallKind::Initial });
    assert_eq!(effects, vec![Effect::Persist, Effect::Submit(AuthAnswer::None)]);
}

#[test]
fn begin_with_detailed_consent_and_no_fields_asks_for_ibans() {
    let f = Flow::new(setup(vec![], true), t0());
    let (f, effects) = step(f, Event::Begin, t0());
    assert_eq!(f.state, ScaState::AwaitingAccounts);
    assert!(matches!(&effects[..], [Effect::Persist, Effect::Ask(UserRequest::SelectAccounts { .. })]));
}

#[test]
fn credentials_are_kept_in_memory_and_submitted() {
    let (f, _) = step(flow(), Event::Begin, t0());
    let (f, effects) =
        step(f, Event::Answer(UserAnswer::Credentials { values: creds("demo", "demo"), store_secrets: false }), t0());
    assert_eq!(f.state, ScaState::Submitting { call: CallKind::Initial });
    assert!(f.credentials_sent);
    assert!(
        matches!(&effects[..], [Effect::KeepCredentials { values: v, .. }, Effect::Persist, Effect::Submit(AuthAnswer::None)] if v.len() == 2)
    );
    let persisted = serde_json::to_string(&f).unwrap_or_default();
    assert!(!persisted.contains("\"demo\"") || !persisted.contains("PIN\",\"value"), "{persisted}");
}

#[test]
fn missing_mandatory_field_is_rejected() {
    let (f, _) = step(flow(), Event::Begin, t0());
    let (f2, effects) = step(
        f.clone(),
        Event::Answer(UserAnswer::Credentials { values: creds("demo", " "), store_secrets: false }),
        t0(),
    );
    assert_eq!(f2, f);
    assert!(rejected_with(&effects, ErrorCode::InvalidInput));
}

#[test]
fn unknown_field_is_rejected() {
    let (f, _) = step(flow(), Event::Begin, t0());
    let mut values = creds("demo", "demo");
    values.push(LoginValue { label: "Kundennummer".into(), value: SecretString::new("1".into()) });
    let (f2, effects) = step(f.clone(), Event::Answer(UserAnswer::Credentials { values, store_secrets: false }), t0());
    assert_eq!(f2, f);
    assert!(rejected_with(&effects, ErrorCode::InvalidInput));
}

#[test]
fn credentials_then_ibans_for_detailed_consent() {
    let f = Flow::new(setup(fields(), true), t0());
    let (f, _) = step(f, Event::Begin, t0());
    let (f, effects) =
        step(f, Event::Answer(UserAnswer::Credentials { values: creds("demo", "demo"), store_secrets: false }), t0());
    assert_eq!(f.state, ScaState::AwaitingAccounts);
    assert!(matches!(
        &effects[..],
        [Effect::KeepCredentials { .. }, Effect::Persist, Effect::Ask(UserRequest::SelectAccounts { .. })]
    ));
    let (f2, effects) = step(f.clone(), Event::Answer(UserAnswer::Accounts { ibans: vec!["nope".into()] }), t0());
    assert_eq!(f2, f);
    assert!(rejected_with(&effects, ErrorCode::InvalidInput));
    let (f, effects) =
        step(f, Event::Answer(UserAnswer::Accounts { ibans: vec!["de89 3704 0044 0532 0130 00".into()] }), t0());
    assert_eq!(f.ibans, vec!["DE89370400440532013000".to_owned()]);
    assert_eq!(effects, vec![Effect::Persist, Effect::Submit(AuthAnswer::None)]);
}

#[test]
fn procedure_choice_is_asked_and_validated() {
    let f = with_state(ScaState::Submitting { call: CallKind::Initial });
    let (f, effects) = step(f, needs(ScaChallenge::ChooseProcedure { message: None, procedures: procedures() }), t0());
    assert!(matches!(f.state, ScaState::AwaitingProcedure { .. }));
    assert_eq!(f.continuation.as_ref().map(|c| c.token.as_str()), Some("hash-2"));
    assert!(
        matches!(&effects[..], [Effect::Persist, Effect::Ask(UserRequest::ChooseProcedure { procedures, .. })] if procedures.len() == 2)
    );

    let (f2, effects) = step(f.clone(), Event::Answer(UserAnswer::Procedure { id: "carrier-pigeon".into() }), t0());
    assert_eq!(f2, f);
    assert!(rejected_with(&effects, ErrorCode::InvalidInput));

    let (f, effects) = step(f, Event::Answer(UserAnswer::Procedure { id: "smsTan".into() }), t0());
    assert_eq!(f.state, ScaState::Submitting { call: CallKind::Procedure });
    assert_eq!(effects, vec![Effect::Persist, Effect::Submit(AuthAnswer::Procedure("smsTan".into()))]);
}

#[test]
fn empty_procedure_list_fails() {
    let f = with_state(ScaState::Submitting { call: CallKind::Initial });
    let (f, effects) = step(f, needs(ScaChallenge::ChooseProcedure { message: None, procedures: vec![] }), t0());
    assert!(matches!(f.state, ScaState::Failed { .. }));
    assert!(matches!(&effects[..], [Effect::Forget, Effect::Fail(e)] if e.code == ErrorCode::ProviderResponseInvalid));
}

#[test]
fn text_photo_and_flicker_challenges_become_tan_requests() {
    let challenges = [
        TanChallenge::Text,
        TanChallenge::Photo { mime_type: "image/png".into(), data_base64: "iVBORw0K".into() },
        TanChallenge::flicker("11048813833205002812775114302C30315D".into(), false),
    ];
    for challenge in challenges {
        let f = with_state(ScaState::Submitting { call: CallKind::Procedure });
        let event = needs(ScaChallenge::Tan {
            message: Some("Bitte TAN".into()),
            label: Some("TAN".into()),
            challenge: challenge.clone(),
        });
        let (f, effects) = step(f, event, t0());
        assert!(matches!(&f.state, ScaState::AwaitingTan { challenge: c, .. } if *c == challenge));
        assert!(
            matches!(&effects[..], [Effect::Persist, Effect::Ask(UserRequest::EnterTan { challenge: c, prompt: Some(_), .. })] if *c == challenge)
        );
    }
}

#[test]
fn tan_is_submitted_and_empty_tan_rejected() {
    let f = with_state(ScaState::AwaitingTan { message: None, label: None, challenge: TanChallenge::Text });
    let (f2, effects) = step(f.clone(), Event::Answer(UserAnswer::Tan { tan: SecretString::new("  ".into()) }), t0());
    assert_eq!(f2, f);
    assert!(rejected_with(&effects, ErrorCode::InvalidInput));
    let (f, effects) = step(f, Event::Answer(UserAnswer::Tan { tan: SecretString::new(" 123456 ".into()) }), t0());
    assert_eq!(f.state, ScaState::Submitting { call: CallKind::Tan });
    assert_eq!(effects, vec![Effect::Persist, Effect::Submit(AuthAnswer::Tan(SecretString::new("123456".into())))]);
}

#[test]
fn redirect_waits_for_the_matching_callback() {
    let f = with_state(ScaState::Submitting { call: CallKind::Initial });
    let event = needs(ScaChallenge::Redirect {
        url: "http://bank/authorize?state=ctx-9".into(),
        context: Some("ctx-9".into()),
        context_field: Some("state".into()),
    });
    let (f, effects) = step(f, event, t0());
    assert_eq!(f.state.callback_state(), Some("ctx-9"));
    assert!(
        matches!(&effects[..], [Effect::Persist, Effect::Ask(UserRequest::OpenBrowser { url })] if url.contains("ctx-9"))
    );

    // A foreign state changes nothing.
    let foreign = Event::Callback { params: vec![("state".into(), "other".into())], query: "state=other".into() };
    let (f2, effects) = step(f.clone(), foreign, t0());
    assert_eq!(f2, f);
    assert!(rejected_with(&effects, ErrorCode::ScaStateMismatch));

    let ok = Event::Callback {
        params: vec![("state".into(), "ctx-9".into()), ("code".into(), "abc".into())],
        query: "state=ctx-9&code=abc".into(),
    };
    let (f, effects) = step(f, ok, t0());
    assert_eq!(f.state, ScaState::Submitting { call: CallKind::RedirectCallback });
    assert_eq!(
        effects,
        vec![Effect::Persist, Effect::Submit(AuthAnswer::RedirectCallback("state=ctx-9&code=abc".into()))]
    );
}

#[test]
fn redirect_without_context_uses_the_flow_id_as_state() {
    let f = with_state(ScaState::Submitting { call: CallKind::Initial });
    let event = needs(ScaChallenge::Redirect { url: "http://bank/".into(), context: None, context_field: None });
    let (f, _) = step(f, event, t0());
    assert!(
        matches!(&f.state, ScaState::AwaitingRedirect { context, context_field, .. } if context == "flow-1" && context_field == "state")
    );
}

#[test]
fn callback_when_none_is_expected_is_a_mismatch() {
    let f = with_state(ScaState::AwaitingTan { message: None, label: None, challenge: TanChallenge::Text });
    let event = Event::Callback { params: vec![("state".into(), "x".into())], query: "state=x".into() };
    let (f2, effects) = step(f.clone(), event, t0());
    assert_eq!(f2, f);
    assert!(rejected_with(&effects, ErrorCode::ScaStateMismatch));
}

#[test]
fn decoupled_asks_once_then_polls_no_faster_than_the_interval() {
    let f = with_state(ScaState::Submitting { call: CallKind::Procedure });
    let (f, effects) =
        step(f, needs(ScaChallenge::Decoupled { message: Some("Bitte bestätigen".into()), in_progress: false }), t0());
    let due = t0() + Duration::seconds(5);
    assert_eq!(f.state, ScaState::AwaitingDecoupled { message: Some("Bitte bestätigen".into()), next_poll_at: due });
    assert!(matches!(&effects[..], [Effect::Persist, Effect::Ask(UserRequest::ApproveInApp { message: Some(_) })]));

    // Too early: only re-arm the timer.
    let (f2, effects) = step(f.clone(), Event::Answer(UserAnswer::Continue), t0() + Duration::seconds(1));
    assert_eq!(f2, f);
    assert_eq!(effects, vec![Effect::WakeAt(due)]);
    let (_, effects) = step(f.clone(), Event::Tick, t0() + Duration::seconds(4));
    assert_eq!(effects, vec![Effect::WakeAt(due)]);

    let (f, effects) = step(f, Event::Tick, due);
    assert_eq!(f.state, ScaState::Submitting { call: CallKind::DecoupledPoll });
    assert_eq!(effects, vec![Effect::Persist, Effect::Submit(AuthAnswer::DecoupledPoll)]);

    // Still in progress: keep polling without asking again; the message is kept.
    let (f, effects) = step(f, needs(ScaChallenge::Decoupled { message: None, in_progress: true }), due);
    let next = due + Duration::seconds(5);
    assert_eq!(f.state, ScaState::AwaitingDecoupled { message: Some("Bitte bestätigen".into()), next_poll_at: next });
    assert_eq!(effects, vec![Effect::Persist, Effect::WakeAt(next)]);
}

#[test]
fn transient_failure_of_a_decoupled_poll_keeps_waiting() {
    let f = with_state(ScaState::Submitting { call: CallKind::DecoupledPoll });
    let err = KontorError::new(ErrorCode::RateLimited, "slow down");
    let (f, effects) = step(f, Event::CallFailed(err), t0());
    assert!(matches!(f.state, ScaState::AwaitingDecoupled { .. }));
    assert_eq!(effects, vec![Effect::Persist, Effect::WakeAt(t0() + Duration::seconds(5))]);
}

#[test]
fn connected_links_and_forgets_the_flow() {
    let f = with_state(ScaState::Submitting { call: CallKind::Tan });
    let (f, effects) = step(f, Event::Reply(AuthReply::Connected { provider_connection_id: "42".into() }), t0());
    assert_eq!(f.state, ScaState::Linked { provider_connection_id: "42".into() });
    assert_eq!(effects, vec![Effect::Linked { provider_connection_id: "42".into() }, Effect::Forget]);
}

#[test]
fn rejected_tan_asks_again_then_fails_the_flow_with_the_bank_message() {
    let asking = ScaState::AwaitingTan {
        message: Some("TAN?".into()),
        label: Some("TAN".into()),
        challenge: TanChallenge::Text,
    };
    let mut f = with_state(asking.clone());
    let err = KontorError::new(ErrorCode::TanRejected, "wrong").with_bank_message("TAN falsch");
    for round in 1..=2 {
        let tan = UserAnswer::Tan { tan: kontor_core::secret::SecretString::new("000000".into()) };
        let (next, _) = step(f, Event::Answer(tan), t0());
        assert_eq!(next.state, ScaState::Submitting { call: CallKind::Tan });
        let (next, effects) = step(next, Event::CallFailed(err.clone()), t0());
        assert_eq!(next.state, asking, "round {round}: back at the same TAN request");
        assert_eq!(next.wrong_tans, round);
        assert!(
            matches!(&effects[..], [Effect::Persist, Effect::Reject(e)] if e.code == ErrorCode::TanRejected && e.bank_message.as_deref() == Some("TAN falsch")),
            "{effects:?}"
        );
        f = next;
    }
    let tan = UserAnswer::Tan { tan: kontor_core::secret::SecretString::new("000000".into()) };
    let (f, _) = step(f, Event::Answer(tan), t0());
    let (f, effects) = step(f, Event::CallFailed(err), t0());
    assert!(
        matches!(&f.state, ScaState::Failed { error } if error.code == ErrorCode::TanRejected && error.bank_message.as_deref() == Some("TAN falsch"))
    );
    assert!(matches!(&effects[..], [Effect::Forget, Effect::Fail(_)]));
}

#[test]
fn tan_refused_by_an_ended_round_fails_at_once_with_the_bank_message() {
    // finX: the sync is FAILED after a wrong TAN, so its challenge is gone; no second TAN request.
    let asking = ScaState::AwaitingTan { message: None, label: None, challenge: TanChallenge::Text };
    let f = with_state(asking);
    let tan = UserAnswer::Tan { tan: kontor_core::secret::SecretString::new("000000".into()) };
    let (f, _) = step(f, Event::Answer(tan), t0());
    let error = KontorError::new(ErrorCode::TanRejected, "wrong").with_bank_message("TAN ungültig");
    let (f, effects) = step(f, Event::Reply(AuthReply::Ended { error, new_round: false }), t0());
    assert_eq!(f.wrong_tans, 0);
    assert!(matches!(&f.state, ScaState::Failed { error } if error.code == ErrorCode::TanRejected
            && error.bank_message.as_deref() == Some("TAN ungültig") && error.message.contains("start again")));
    assert!(matches!(&effects[..], [Effect::Forget, Effect::Fail(e)] if e.code == ErrorCode::TanRejected));
}

#[test]
fn an_ended_round_is_not_polled_again_but_may_ask_for_a_new_login() {
    let f = with_state(ScaState::Submitting { call: CallKind::DecoupledPoll });
    let error = KontorError::new(ErrorCode::ProviderUnavailable, "failed");
    let (f, effects) = step(f, Event::Reply(AuthReply::Ended { error, new_round: false }), t0());
    assert!(matches!(f.state, ScaState::Failed { .. }), "{:?}", f.state);
    assert!(matches!(&effects[..], [Effect::Forget, Effect::Fail(e)] if e.code == ErrorCode::ProviderUnavailable));

    // A sync that ended because the bank login is needed starts a new round with it.
    let mut f = with_state(ScaState::Submitting { call: CallKind::Initial });
    f.purpose = FlowPurpose::Update { connection_id: ConnectionId::from("c1"), provider_connection_id: "7".into() };
    let error = KontorError::new(ErrorCode::CredentialsRequired, "login");
    let (f, effects) = step(f, Event::Reply(AuthReply::Ended { error, new_round: false }), t0());
    assert_eq!(f.state, ScaState::AwaitingCredentials { resume: None });
    assert!(matches!(&effects[..],
        [Effect::Notice(e), Effect::Persist, Effect::Ask(UserRequest::EnterCredentials { .. })] if e.code == ErrorCode::CredentialsRequired));
}

#[test]
fn credentials_required_during_an_update_asks_for_them() {
    let mut f = with_state(ScaState::Submitting { call: CallKind::Initial });
    f.purpose = FlowPurpose::Update { connection_id: ConnectionId::from("c1"), provider_connection_id: "7".into() };
    let err = KontorError::new(ErrorCode::CredentialsRequired, "again");
    let (f, effects) = step(f, Event::CallFailed(err), t0());
    assert_eq!(f.state, ScaState::AwaitingCredentials { resume: None });
    assert!(f.continuation.is_none());
    assert!(matches!(&effects[..],
        [Effect::Notice(e), Effect::Persist, Effect::Ask(UserRequest::EnterCredentials { .. })] if e.message == "again"));
}

#[test]
fn a_tan_refused_by_a_round_that_wants_a_new_one_starts_it_without_the_spent_continuation() {
    // finAPI: a 422 after a TAN ends the flow and spends its hash; another try is a new import/update.
    let asking = ScaState::AwaitingTan { message: None, label: None, challenge: TanChallenge::Text };
    let mut f = with_state(asking);
    f.continuation = Some(Continuation { token: "spent-hash".into(), procedure_id: Some("p1".into()) });
    for round in 1..=2 {
        let tan = UserAnswer::Tan { tan: kontor_core::secret::SecretString::new("000000".into()) };
        let (next, _) = step(f, Event::Answer(tan), t0());
        let error = KontorError::new(ErrorCode::TanRejected, "wrong").with_bank_message("TAN ungültig");
        let (next, effects) = step(next, Event::Reply(AuthReply::Ended { error, new_round: true }), t0());
        assert_eq!(next.wrong_tans, round);
        assert_eq!(next.state, ScaState::Submitting { call: CallKind::Initial });
        assert!(next.continuation.is_none(), "the spent hash is never sent again");
        assert!(
            matches!(&effects[..], [Effect::Notice(e), Effect::Persist, Effect::Submit(AuthAnswer::None)]
                if e.code == ErrorCode::TanRejected && e.bank_message.as_deref() == Some("TAN ungültig")),
            "{effects:?}"
        );
        // The new round's first call brings a new challenge.
        let challenge = ScaChallenge::Tan { message: None, label: None, challenge: TanChallenge::Text };
        let continuation = Continuation { token: format!("hash-{round}"), procedure_id: None };
        let (next, _) = step(next, Event::Reply(AuthReply::NeedsAnswer { continuation, challenge }), t0());
        assert!(matches!(next.state, ScaState::AwaitingTan { .. }));
        f = next;
    }
    // The third refused TAN ends the flow (bounded tries).
    let tan = UserAnswer::Tan { tan: kontor_core::secret::SecretString::new("000000".into()) };
    let (f, _) = step(f, Event::Answer(tan), t0());
    let error = KontorError::new(ErrorCode::TanRejected, "wrong");
    let (f, effects) = step(f, Event::Reply(AuthReply::Ended { error, new_round: true }), t0());
    assert!(
        matches!(&f.state, ScaState::Failed { error } if error.code == ErrorCode::TanRejected && error.message.contains("too often"))
    );
    assert!(matches!(&effects[..], [Effect::Forget, Effect::Fail(_)]));
}

#[test]
fn cancel_ends_every_unfinished_state() {
    let states = [
        ScaState::AwaitingCredentials { resume: None },
        ScaState::AwaitingAccounts,
        ScaState::Submitting { call: CallKind::Tan },
        ScaState::AwaitingProcedure { message: None, procedures: procedures() },
        ScaState::AwaitingTan { message: None, label: None, challenge: TanChallenge::Text },
        ScaState::AwaitingRedirect {
            url: "u".into(),
            context_field: "state".into(),
            context: "c".into(),
            secrets_lost: false,
        },
        ScaState::AwaitingDecoupled { message: None, next_poll_at: t0() },
    ];
    for state in states {
        let (f, effects) = step(with_state(state), Event::Cancel, t0());
        assert_eq!(f.state, ScaState::Cancelled);
        assert!(matches!(&effects[..], [Effect::Forget, Effect::Fail(e)] if e.code == ErrorCode::ScaCancelled));
    }
}

#[test]
fn finished_flows_refuse_everything() {
    let finished = [
        ScaState::Cancelled,
        ScaState::Linked { provider_connection_id: "1".into() },
        ScaState::Failed { error: KontorError::internal("x") },
    ];
    for state in finished {
        for event in [Event::Cancel, Event::Tick, Event::Answer(UserAnswer::Continue)] {
            let f = with_state(state.clone());
            let (f2, effects) = step(f.clone(), event, t0());
            assert_eq!(f2, f);
            assert!(rejected_with(&effects, ErrorCode::ScaStale));
        }
    }
}

#[test]
fn timeout_ends_waiting_flows_but_not_replies() {
    let late = t0() + Duration::seconds(901);
    let f = with_state(ScaState::AwaitingTan { message: None, label: None, challenge: TanChallenge::Text });
    let (f2, effects) = step(f, Event::Tick, late);
    assert!(matches!(f2.state, ScaState::Failed { ref error } if error.code == ErrorCode::ScaTimedOut));
    assert!(matches!(&effects[..], [Effect::Forget, Effect::Fail(e)] if e.code == ErrorCode::ScaTimedOut));

    let f = with_state(ScaState::AwaitingTan { message: None, label: None, challenge: TanChallenge::Text });
    let (_, effects) = step(f, Event::Answer(UserAnswer::Tan { tan: SecretString::new("1".into()) }), late);
    assert!(matches!(&effects[..], [Effect::Forget, Effect::Fail(e)] if e.code == ErrorCode::ScaTimedOut));

    // A reply after the deadline still links: the connection exists.
    let f = with_state(ScaState::Submitting { call: CallKind::Tan });
    let (f, _) = step(f, Event::Reply(AuthReply::Connected { provider_connection_id: "5".into() }), late);
    assert!(matches!(f.state, ScaState::Linked { .. }));
}

#[test]
fn answers_that_do_not_fit_are_stale() {
    let f = with_state(ScaState::AwaitingTan { message: None, label: None, challenge: TanChallenge::Text });
    let (f2, effects) = step(f.clone(), Event::Answer(UserAnswer::Procedure { id: "smsTan".into() }), t0());
    assert_eq!(f2, f);
    assert!(rejected_with(&effects, ErrorCode::ScaStale));

    // A stale reply (nothing in flight).
    let (f2, effects) =
        step(f.clone(), Event::Reply(AuthReply::Connected { provider_connection_id: "1".into() }), t0());
    assert_eq!(f2, f);
    assert!(rejected_with(&effects, ErrorCode::ScaStale));

    // While a call is in flight, answers are refused as busy.
    let busy = with_state(ScaState::Submitting { call: CallKind::Tan });
    let (_, effects) = step(busy, Event::Answer(UserAnswer::Tan { tan: SecretString::new("1".into()) }), t0());
    assert!(rejected_with(&effects, ErrorCode::ResourceBusy));
}

#[test]
fn continue_re_shows_the_current_request() {
    let f = with_state(ScaState::AwaitingTan { message: None, label: None, challenge: TanChallenge::Text });
    let (f2, effects) = step(f.clone(), Event::Answer(UserAnswer::Continue), t0());
    assert_eq!(f2, f);
    assert!(matches!(&effects[..], [Effect::Ask(UserRequest::EnterTan { .. })]));
}

#[test]
fn restored_redirect_asks_for_secret_fields_again_before_continuing() {
    let mut f = with_state(ScaState::AwaitingRedirect {
        url: "u".into(),
        context_field: "state".into(),
        context: "c".into(),
        secrets_lost: false,
    });
    f.credentials_sent = true;
    let (f, effects) = step(f, Event::Restored, t0());
    assert!(matches!(f.state, ScaState::AwaitingRedirect { secrets_lost: true, .. }));
    assert!(matches!(&effects[..], [Effect::Persist, Effect::Ask(UserRequest::OpenBrowser { .. })]));

    let cb = Event::Callback { params: vec![("state".into(), "c".into())], query: "state=c&code=1".into() };
    let (f, effects) = step(f, cb, t0());
    assert_eq!(
        f.state,
        ScaState::AwaitingCredentials { resume: Some(Resume::RedirectCallback { query: "state=c&code=1".into() }) }
    );
    assert!(
        matches!(&effects[..], [Effect::Persist, Effect::Ask(UserRequest::EnterCredentials { fields, .. })] if fields.len() == 1 && fields[0].label == "PIN")
    );

    // Only the secret field is needed now.
    let values = vec![LoginValue { label: "PIN".into(), value: SecretString::new("demo".into()) }];
    let (f, effects) = step(f, Event::Answer(UserAnswer::Credentials { values, store_secrets: false }), t0());
    assert_eq!(f.state, ScaState::Submitting { call: CallKind::RedirectCallback });
    assert!(
        matches!(&effects[..], [Effect::KeepCredentials { .. }, Effect::Persist, Effect::Submit(AuthAnswer::RedirectCallback(q))] if q == "state=c&code=1")
    );
}

#[test]
fn restored_redirect_without_secrets_continues_directly() {
    let f = with_state(ScaState::AwaitingRedirect {
        url: "u".into(),
        context_field: "state".into(),
        context: "c".into(),
        secrets_lost: false,
    });
    let (f, _) = step(f, Event::Restored, t0());
    assert!(matches!(f.state, ScaState::AwaitingRedirect { secrets_lost: false, .. }));
}

#[test]
fn restored_embedded_flow_with_lost_secrets_starts_again() {
    for state in [
        ScaState::Submitting { call: CallKind::Tan },
        ScaState::AwaitingTan { message: None, label: None, challenge: TanChallenge::Text },
        ScaState::AwaitingProcedure { message: None, procedures: procedures() },
        ScaState::AwaitingDecoupled { message: None, next_poll_at: t0() },
    ] {
        let mut f = with_state(state);
        f.credentials_sent = true;
        let (f, effects) = step(f, Event::Restored, t0());
        assert_eq!(f.state, ScaState::AwaitingCredentials { resume: None });
        assert!(f.continuation.is_none());
        assert!(matches!(&effects[..], [Effect::Persist, Effect::Ask(UserRequest::EnterCredentials { .. })]));
    }
}

#[test]
fn restored_decoupled_without_secrets_polls_at_once() {
    let f =
        with_state(ScaState::AwaitingDecoupled { message: Some("m".into()), next_poll_at: t0() + Duration::hours(1) });
    let (f, effects) = step(f, Event::Restored, t0());
    assert_eq!(f.state, ScaState::AwaitingDecoupled { message: Some("m".into()), next_poll_at: t0() });
    assert!(matches!(&effects[..], [Effect::Persist, Effect::Ask(UserRequest::ApproveInApp { .. })]));
}

#[test]
fn persisted_flow_round_trips_and_holds_no_secret() {
    let (f, _) = step(flow(), Event::Begin, t0());
    let (f, _) = step(
        f,
        Event::Answer(UserAnswer::Credentials { values: creds("user-x", "pin-geheim-9"), store_secrets: false }),
        t0(),
    );
    let (f, _) = step(f, needs(ScaChallenge::Tan { message: None, label: None, challenge: TanChallenge::Text }), t0());
    let (f, _) = step(f, Event::Answer(UserAnswer::Tan { tan: SecretString::new("tan-geheim-7".into()) }), t0());
    let json = serde_json::to_string(&f).unwrap_or_else(|e| panic!("{e}"));
    assert!(!json.contains("pin-geheim-9") && !json.contains("tan-geheim-7") && !json.contains("user-x"), "{json}");
    let back: Flow = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back, f);
}
