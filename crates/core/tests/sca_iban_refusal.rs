//! A bank that asks for the IBANs (detailed consent) and refuses one: the machine goes back to the
//! IBAN step with the bank's words, not to the login, and never re-sends the refused list by itself.

use chrono::{DateTime, TimeZone, Utc};
use kontor_core::domain::{FlowId, ProviderConfigId};
use kontor_core::provider::LoginField;
use kontor_core::sca::{CallKind, Effect, Event, Flow, FlowPurpose, FlowSetup, ScaState, UserRequest, step};
use kontor_core::{ErrorCode, KontorError};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 15, 10, 0, 0).single().unwrap_or_default()
}

/// A flow whose login and IBANs were sent (the import call in flight).
fn submitted(ibans: &[&str]) -> Flow {
    let setup = FlowSetup {
        id: FlowId::from("flow-iban"),
        provider_config_id: ProviderConfigId::from("cfg"),
        purpose: FlowPurpose::Link { bank_id: "280003".into(), bank_bic: None },
        bank_name: "finAPI Test Consent Bank".into(),
        interface: "XS2A".into(),
        login_fields: vec![
            LoginField { label: "Onlinebanking-ID".into(), secret: false, volatile: false, mandatory: true },
            LoginField { label: "PIN".into(), secret: true, volatile: false, mandatory: true },
        ],
        login_hint: None,
        ask_ibans: true,
        known_ibans: vec![],
        redirect_url: None,
        ask_credentials_first: true,
        poll_interval_ms: 5_000,
        timeout_secs: 900,
    };
    let mut flow = Flow::new(setup, t0());
    flow.credentials_sent = true;
    flow.ibans = ibans.iter().map(|i| (*i).to_owned()).collect();
    flow.state = ScaState::Submitting { call: CallKind::Initial };
    flow
}

fn refusal(bank_text: &str) -> KontorError {
    KontorError::new(ErrorCode::CredentialsRejected, "The bank refused the login.").with_bank_message(bank_text)
}

#[test]
fn a_refused_iban_returns_to_the_iban_step_with_the_banks_words() {
    let flow = submitted(&["DE12280003000000000001", "DE13280003000000000009"]);
    let bank = "Das Konto DE13280003000000000009 ist unter diesem Zugang nicht bekannt. Bitte prüfen Sie die IBAN.";
    let (flow, effects) = step(flow, Event::CallFailed(refusal(bank)), t0());
    assert_eq!(flow.state, ScaState::AwaitingAccounts);
    assert_eq!(flow.request(), Some(UserRequest::SelectAccounts { known_ibans: vec![] }));
    let shown = effects.iter().find_map(|e| if let Effect::Reject(e) = e { Some(e.clone()) } else { None });
    let shown = shown.unwrap_or_else(|| panic!("no refusal shown: {effects:?}"));
    assert_eq!(shown.code, ErrorCode::InvalidInput);
    assert_eq!(shown.bank_message.as_deref(), Some(bank));
    assert!(!effects.iter().any(|e| matches!(e, Effect::Submit(_))), "nothing is re-sent by itself: {effects:?}");
}

#[test]
fn a_refused_login_still_returns_to_the_login_and_the_iban_step_gives_up_after_three() {
    let (flow, _) = step(submitted(&["DE12280003000000000001"]), Event::CallFailed(refusal("PIN falsch")), t0());
    assert!(matches!(flow.state, ScaState::AwaitingCredentials { .. }), "{:?}", flow.state);

    let bank = "Das Konto DE12280003000000000001 ist unter diesem Zugang nicht bekannt.";
    let mut flow = submitted(&["DE12280003000000000001"]);
    flow.rejected_logins = 2;
    let (flow, effects) = step(flow, Event::CallFailed(refusal(bank)), t0());
    assert!(flow.state.is_terminal(), "{:?}", flow.state);
    assert!(
        effects.iter().any(|e| matches!(e, Effect::Fail(f) if f.code == ErrorCode::CredentialsRejected)),
        "{effects:?}"
    );
}
