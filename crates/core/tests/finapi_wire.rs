//! finAPI wire parsing: tolerant of unknown fields, nulls and absent optionals; exact amounts; v1 and
//! v2 timestamps; challenges decided by which fields are set; the error envelope mapped to codes.

use chrono::NaiveDate;
use kontor_core::ErrorCode;
use kontor_core::domain::AccountType;
use kontor_core::provider::finapi::error::{ErrorContext, from_response};
use kontor_core::provider::finapi::{map, wire};
use kontor_core::provider::{ScaChallenge, TanChallenge};
use rust_decimal::Decimal;

fn dec(s: &str) -> Decimal {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn quoting_touches_only_non_integer_numbers_outside_strings() {
    let text = r#"{"a":1234.56,"b":-0.1,"c":100,"d":"1.5 \" 2.5","e":[1e3,-2.50],"f":12345678901234567890}"#;
    assert_eq!(
        wire::quote_decimals(text),
        r#"{"a":"1234.56","b":"-0.1","c":100,"d":"1.5 \" 2.5","e":["1e3","-2.50"],"f":"12345678901234567890"}"#
    );
}

#[test]
fn amounts_are_exact() {
    let body = r#"{"accounts":[
        {"id":1,"balance":1234.56,"availableFunds":-0.1,"overdraft":100,"accountCurrency":"EUR"},
        {"id":2,"balance":0.30000000000000004,"availableFunds":null},
        {"id":3,"balance":99999999999999.99}
    ]}"#;
    let list: wire::AccountList = wire::parse(body, "accounts").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(list.accounts[0].balance, Some(dec("1234.56")));
    assert_eq!(list.accounts[0].available_funds, Some(dec("-0.1")));
    assert_eq!(list.accounts[0].overdraft, Some(dec("100")));
    assert_eq!(list.accounts[1].balance.map(|d| d.to_string()).as_deref(), Some("0.30000000000000004"));
    assert_eq!(list.accounts[1].available_funds, None);
    assert_eq!(list.accounts[2].balance.map(|d| d.to_string()).as_deref(), Some("99999999999999.99"));
    let sum: Decimal = (0..10).map(|_| dec("-0.1")).sum();
    assert_eq!(list.accounts[0].available_funds.map(|d| d * Decimal::from(10)), Some(sum));
}

#[test]
fn v2_bank_with_unknown_fields_and_absent_optionals() {
    let body = r#"{"banks":[{"id":280001,"name":"finAPI Test Bank","blz":"DEMO0001","isTestBank":true,
        "somethingNew":{"x":[1,2.5]},
        "interfaces":[{"bankingInterface":"XS2A","properties":["DECOUPLED_APPROACH","DETAILED_CONSENT"],
          "loginCredentials":[{"label":"Onlinebanking-ID","isSecret":false,"isVolatile":false,"isMandatory":true},
                              {"label":"PIN","isSecret":true,"isVolatile":false}],
          "loginHint":"Bitte <b>PIN</b>","health":100,"aisAccountTypes":["Checking"]}]}],
        "paging":{"page":1,"perPage":20,"pageCount":1,"totalCount":1}}"#;
    let list: wire::BankList = wire::parse(body, "banks").unwrap_or_else(|e| panic!("{e}"));
    let bank = map::bank(list.banks.into_iter().next().unwrap_or_default());
    assert_eq!(bank.id, "280001");
    assert!(bank.is_test_bank);
    assert_eq!(bank.bic, None);
    let iface = &bank.interfaces[0];
    assert_eq!(iface.id, "XS2A");
    assert!(iface.decoupled && iface.detailed_consent && !iface.redirect);
    assert_eq!(iface.login_fields.len(), 2);
    assert!(iface.login_fields[1].secret && iface.login_fields[1].mandatory);
    assert_eq!(iface.health, Some(100));
}

#[test]
fn v1_bank_with_explicit_nulls_everywhere() {
    let body = r#"{"banks":[{"id":280002,"name":"finAPI Test Redirect Bank","blz":"DEMO0002","bic":null,"city":null,
        "location":null,"isTestBank":null,"loginHint":null,"blzs":null,
        "interfaces":[{"interface":"XS2A","tppAuthenticationGroup":null,"loginCredentials":null,"properties":["REDIRECT_APPROACH"],
          "loginHint":null,"health":null,"lastCommunicationAttempt":null}]},
        {"id":5,"name":null,"interfaces":null}],"paging":null}"#;
    let list: wire::BankList = wire::parse(body, "banks").unwrap_or_else(|e| panic!("{e}"));
    let banks: Vec<_> = list.banks.into_iter().map(map::bank).collect();
    assert_eq!(banks[0].interfaces[0].id, "XS2A");
    assert!(banks[0].interfaces[0].redirect);
    assert!(banks[0].interfaces[0].login_fields.is_empty());
    assert!(!banks[0].is_test_bank);
    assert_eq!(banks[1].name, "Bank 5");
    assert!(banks[1].interfaces.is_empty());
}

#[test]
fn transactions_v2_and_v1_dates() {
    let v2 = serde_json::json!({"id":7,"accountId":3,"valueDate":"2025-06-01","bankBookingDate":"2025-06-02",
        "finapiBookingDate":"2025-06-02","amount":"-12.30","currency":null,"purpose":"REWE SAGT DANKE",
        "counterpartName":"REWE","counterpartIban":null,"type":"Lastschrift","newField":true,"category":null});
    let t = map::transaction(v2).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t.booking_date, NaiveDate::from_ymd_opt(2025, 6, 2).unwrap_or_default());
    assert_eq!(t.value_date, NaiveDate::from_ymd_opt(2025, 6, 1));
    assert_eq!(t.amount.to_string(), "-12.30");
    assert_eq!(t.currency, None);
    assert_eq!(t.counterparty.name.as_deref(), Some("REWE"));
    assert_eq!(t.kind.as_deref(), Some("Lastschrift"));

    let page = r#"{"transactions":[{"id":8,"accountId":3,"valueDate":"2018-01-01 00:00:00.000",
        "bankBookingDate":"2018-01-02 00:00:00.000","amount":100,"purpose":null,"counterpartName":null}],
        "paging":{"page":1,"pageCount":1},"income":100,"spending":0,"balance":100}"#;
    let page: wire::TransactionPage = wire::parse(page, "transactions").unwrap_or_else(|e| panic!("{e}"));
    let t =
        map::transaction(page.transactions.into_iter().next().unwrap_or_default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t.booking_date, NaiveDate::from_ymd_opt(2018, 1, 2).unwrap_or_default());
    assert_eq!(t.amount, dec("100"));
    assert!(t.raw.as_deref().is_some_and(|r| r.contains("\"id\":8")));
}

#[test]
fn transaction_without_amount_is_invalid() {
    let row = serde_json::json!({"id":9,"accountId":3,"bankBookingDate":"2025-06-02"});
    let err = map::transaction(row).err().map(|e| e.code);
    assert_eq!(err, Some(ErrorCode::ProviderResponseInvalid));
}

#[test]
fn timestamps_v1_german_time_and_v2_rfc3339() {
    let v1 = map::parse_timestamp("2019-11-29 09:51:55.931").map(|t| t.to_rfc3339());
    assert_eq!(v1.as_deref(), Some("2019-11-29T08:51:55.931+00:00"));
    let summer = map::parse_timestamp("2019-07-29 09:51:55.931").map(|t| t.to_rfc3339());
    assert_eq!(summer.as_deref(), Some("2019-07-29T07:51:55.931+00:00"));
    let v2 = map::parse_timestamp("2019-11-29T09:51:55.931+01:00").map(|t| t.to_rfc3339());
    assert_eq!(v2.as_deref(), Some("2019-11-29T08:51:55.931+00:00"));
}

#[test]
fn accounts_types_v1_ids_and_failed_downloads() {
    let body = r#"{"accounts":[
        {"id":1,"accountName":"Girokonto","iban":"DE02120300000000202051","accountType":"Checking",
         "interfaces":[{"bankingInterface":"XS2A","status":"UPDATED"}]},
        {"id":2,"accountName":null,"iban":null,"accountNumber":"12345","accountTypeId":2,"status":"DOWNLOAD_FAILED",
         "interfaces":null},
        {"id":3,"accountType":"CreditCard","interfaces":[{"interface":"FINTS_SERVER","status":"DOWNLOAD_FAILED"}]}]}"#;
    let list: wire::AccountList = wire::parse(body, "accounts").unwrap_or_else(|e| panic!("{e}"));
    let accounts: Vec<_> = list.accounts.into_iter().map(map::account).collect();
    assert_eq!(accounts[0].account_type, AccountType::Checking);
    assert!(!accounts[0].download_failed);
    assert_eq!(accounts[1].account_type, AccountType::Savings);
    assert_eq!(accounts[1].name, "12345");
    assert!(accounts[1].download_failed);
    assert_eq!(accounts[2].account_type, AccountType::CreditCard);
    assert!(accounts[2].download_failed);
}

#[test]
fn connection_ready_result_and_consent() {
    let body = r#"{"id":21,"updateStatus":"READY","categorizationStatus":"PENDING","accountIds":[1,2,3],
        "bank":{"id":280001,"name":"finAPI Test Bank","bic":"TESTDE00"},
        "interfaces":[{"bankingInterface":"XS2A","aisConsent":{"status":"PRESENT","expiresAt":"2025-09-13T10:00:00.000+02:00"},
          "lastManualUpdate":{"result":"OK","errorMessage":null,"timestamp":"2025-06-15T10:00:00.000+02:00"},
          "userActionRequired":false}]}"#;
    let c: wire::BankConnection = wire::parse(body, "connection").unwrap_or_else(|e| panic!("{e}"));
    let c = map::connection(c, None);
    assert!(c.ready);
    assert_eq!(c.account_ids, vec!["1", "2", "3"]);
    assert_eq!(c.interface.as_deref(), Some("XS2A"));
    assert!(c.last_update.as_ref().is_some_and(|u| u.ok));
    assert_eq!(c.consent_expires_at.map(|t| t.to_rfc3339()).as_deref(), Some("2025-09-13T08:00:00+00:00"));

    let failed = r#"{"id":22,"updateStatus":"IN_PROGRESS","interfaces":[{"interface":"XS2A",
        "lastManualUpdate":{"result":"BANK_SERVER_REJECTION","errorMessage":"PIN gesperrt"}}]}"#;
    let c: wire::BankConnection = wire::parse(failed, "connection").unwrap_or_else(|e| panic!("{e}"));
    let c = map::connection(c, None);
    assert!(!c.ready);
    assert!(c.last_update.as_ref().is_some_and(|u| !u.ok && u.message.as_deref() == Some("PIN gesperrt")));
}

fn msa(json: &str) -> (Option<String>, wire::MultiStepAuthentication) {
    let envelope: wire::ErrorMessage = wire::parse(json, "510").unwrap_or_else(|e| panic!("{e}"));
    let first = envelope.errors.into_iter().next().unwrap_or_default();
    (first.message, first.multi_step_authentication.unwrap_or_default())
}

#[test]
fn v1_510_with_nulls_for_a_procedure_choice() {
    let (message, m) = msa(
        r#"{"errors":[{"message":"SCA method selection is required","code":"ADDITIONAL_AUTHENTICATION_REQUIRED","type":"BUSINESS",
        "multiStepAuthentication":{"hash":"112c","status":"TWO_STEP_PROCEDURE_REQUIRED","challengeMessage":null,
        "answerFieldLabel":null,"redirectUrl":null,"redirectContext":null,"redirectContextField":null,
        "twoStepProcedures":[{"procedureId":"DEMO-TSP-01","procedureName":"SMS","procedureChallengeType":"TEXT","implicitExecute":false},
                             {"procedureId":"DEMO-TSP-02","procedureName":null,"procedureChallengeType":null,"implicitExecute":null}],
        "photoTanMimeType":null,"photoTanData":null,"opticalData":null}}],
        "date":"2019-11-27 08:13:32.155","requestId":"x","endpoint":"POST /api/v1/bankConnections/import","authContext":"1/18","bank":"DEMO0001"}"#,
    );
    let (cont, challenge) = map::challenge(m, message, None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cont.token, "112c");
    let ScaChallenge::ChooseProcedure { procedures, message } = challenge else { panic!("not a choice") };
    assert_eq!(message.as_deref(), Some("SCA method selection is required"));
    assert_eq!(procedures[1].name, "DEMO-TSP-02");
}

#[test]
fn challenge_kind_is_decided_by_the_fields_that_are_set() {
    let optical = r#"{"errors":[{"code":"ADDITIONAL_AUTHENTICATION_REQUIRED","type":"BUSINESS","multiStepAuthentication":
        {"hash":"h","status":"CHALLENGE_RESPONSE_REQUIRED","challengeMessage":"Bitte TAN","answerFieldLabel":"TAN",
        "opticalData":"11048813833205002812775114302C30315D","opticalDataAsReinerSct":false}}]}"#;
    let (message, m) = msa(optical);
    let (cont, c) = map::challenge(m, message, Some("chipTan".into())).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cont.procedure_id.as_deref(), Some("chipTan"));
    assert!(
        matches!(c, ScaChallenge::Tan { challenge: TanChallenge::Flicker { ref optical_data, ref flicker, reiner_sct: false, ref qr_fallback }, .. } if optical_data.starts_with("1104") && flicker.is_some() && qr_fallback.is_some())
    );

    let photo = r#"{"errors":[{"code":"ADDITIONAL_AUTHENTICATION_REQUIRED","multiStepAuthentication":
        {"hash":"h","status":"CHALLENGE_RESPONSE_REQUIRED","photoTanMimeType":"image/png","photoTanData":"iVBORw0KGgo="}}]}"#;
    let (message, m) = msa(photo);
    let (_, c) = map::challenge(m, message, None).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        matches!(c, ScaChallenge::Tan { challenge: TanChallenge::Photo { ref mime_type, .. }, .. } if mime_type == "image/png")
    );

    let text = r#"{"errors":[{"message":"Code: 123456","code":"ADDITIONAL_AUTHENTICATION_REQUIRED","multiStepAuthentication":
        {"hash":"h","status":"CHALLENGE_RESPONSE_REQUIRED","opticalData":null,"photoTanData":""}}]}"#;
    let (message, m) = msa(text);
    let (_, c) = map::challenge(m, message, None).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        matches!(c, ScaChallenge::Tan { challenge: TanChallenge::Text, message: Some(ref m), .. } if m == "Code: 123456")
    );
}

#[test]
fn redirect_and_decoupled_statuses() {
    let (message, m) =
        msa(r#"{"errors":[{"message":null,"code":"ADDITIONAL_AUTHENTICATION_REQUIRED","multiStepAuthentication":
        {"hash":"288c","status":"REDIRECT_REQUIRED","redirectUrl":"https://demobank.finapi.io?state=976641d2",
         "redirectContext":"976641d2","redirectContextField":"state"}}]}"#);
    let (_, c) = map::challenge(m, message, None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        c,
        ScaChallenge::Redirect {
            url: "https://demobank.finapi.io?state=976641d2".into(),
            context: Some("976641d2".into()),
            context_field: Some("state".into())
        }
    );
    for (status, in_progress) in [("DECOUPLED_AUTH_REQUIRED", false), ("DECOUPLED_AUTH_IN_PROGRESS", true)] {
        let json = format!(
            r#"{{"errors":[{{"message":"Bitte bestätigen","multiStepAuthentication":{{"hash":"8f3b","status":"{status}"}}}}]}}"#
        );
        let (message, m) = msa(&json);
        let (_, c) = map::challenge(m, message, None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c, ScaChallenge::Decoupled { message: Some("Bitte bestätigen".into()), in_progress });
    }
}

#[test]
fn unreadable_challenges_are_invalid() {
    let (message, m) = msa(r#"{"errors":[{"multiStepAuthentication":{"hash":"h","status":"SOMETHING_NEW"}}]}"#);
    let err = map::challenge(m, message, None).err().map(|e| e.code);
    assert_eq!(err, Some(ErrorCode::ProviderResponseInvalid));
    let (message, m) = msa(r#"{"errors":[{"multiStepAuthentication":{"status":"REDIRECT_REQUIRED"}}]}"#);
    assert!(map::challenge(m, message, None).is_err());
}

#[test]
fn truncated_and_malformed_json_is_provider_response_invalid() {
    for body in [r#"{"accounts":[{"id":1,"balance":12"#, "<html>Bad Gateway</html>", "", r#"{"accounts":"nope"}"#] {
        let err = wire::parse::<wire::AccountList>(body, "accounts").err();
        assert_eq!(err.as_ref().map(|e| e.code), Some(ErrorCode::ProviderResponseInvalid), "{body}");
    }
    let cut = wire::parse::<wire::AccountList>(r#"{"accounts":[{"id":1"#, "accounts").err();
    assert!(cut.is_some_and(|e| e.message.contains("cut off")));
}

#[test]
fn error_envelope_maps_to_kontor_codes_with_the_banks_text() {
    let rejection = r#"{"errors":[{"message":"Anmeldung fehlgeschlagen: PIN falsch","code":"BANK_SERVER_REJECTION","type":"BUSINESS"}],
        "date":"2025-06-15T10:00:00.000+02:00","requestId":"r","endpoint":"POST /api/v2/bankConnections/import"}"#;
    let e = from_response(422, rejection, ErrorContext::Credentials, None);
    assert_eq!(e.code, ErrorCode::CredentialsRejected);
    assert_eq!(e.bank_message.as_deref(), Some("Anmeldung fehlgeschlagen: PIN falsch"));
    assert_eq!(from_response(422, rejection, ErrorContext::Tan, None).code, ErrorCode::TanRejected);

    let technical =
        r#"{"errors":[{"message":"NullPointerException at ...","code":"UNEXPECTED_ERROR","type":"TECHNICAL"}]}"#;
    let e = from_response(500, technical, ErrorContext::Other, None);
    assert_eq!(e.code, ErrorCode::ProviderUnavailable);
    assert_eq!(e.bank_message, None);

    let cases = [
        (422, "INVALID_CONSENT", ErrorCode::ConsentExpired),
        (423, "LOCKED", ErrorCode::ResourceBusy),
        (404, "UNKNOWN_ENTITY", ErrorCode::NotFound),
        (422, "NO_EXISTING_CHALLENGE", ErrorCode::ScaStale),
        (422, "MISSING_CREDENTIALS", ErrorCode::CredentialsRequired),
        (501, "UNSUPPORTED_BANK", ErrorCode::NotSupported),
        (422, "NO_PSU_METADATA", ErrorCode::PsuIpRequired),
        (403, "UNAUTHORIZED_ACCESS", ErrorCode::ProviderAuthFailed),
        (422, "ILLEGAL_FIELD_VALUE", ErrorCode::InvalidInput),
    ];
    for (status, code, expected) in cases {
        let body = format!(r#"{{"errors":[{{"message":"m","code":"{code}","type":"BUSINESS"}}]}}"#);
        assert_eq!(from_response(status, &body, ErrorContext::Other, None).code, expected, "{code}");
    }
    assert_eq!(from_response(423, "", ErrorContext::Other, None).code, ErrorCode::ResourceBusy);
    assert_eq!(from_response(503, "<html>", ErrorContext::Other, None).code, ErrorCode::ProviderUnavailable);
}
