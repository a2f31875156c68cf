//! finX without HTTP: wire parsing (unknown fields, nulls, absent optionals, exact amounts, dates,
//! field-name drift), the error envelope → Kontor codes, callback parsing, challenges and the
//! income report.

use chrono::NaiveDate;
use kontor_core::ErrorCode;
use kontor_core::domain::{AccountType, BookingStatus};
use kontor_core::provider::finx::error::{ErrorContext, from_response};
use kontor_core::provider::finx::{
    ChallengeKind, EmbeddedContent, InputFormat, SyncStatus, html, map, parse_callback, wire,
};
use kontor_core::provider::{ScaChallenge, TanChallenge};
use rust_decimal::Decimal;
use serde_json::Value;

fn dec(text: &str) -> Decimal {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_else(|| panic!("bad date"))
}

fn rows(body: &str) -> wire::TransactionList {
    wire::parse(body, "transactions").unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn transactions_parse_exactly_with_unknown_fields_nulls_and_both_name_generations() {
    let body = r#"{
      "transactions": [
        {"transaction_id":"T1.2","account_id":"A1.1","amount":-1234.56,"currency":"EUR","booked":true,
         "booked_at":"2024-03-05T00:00:00.000Z","settled_at":"2024-03-06","name":"Stadtwerke",
         "iban":"DE89 3704 0044 0532 0130 00","bic":null,"purpose":"Abschlag März","type":"Direct debit",
         "categories":[{"id":1,"parent_id":null,"name":"Energy"}],"additional_info":{"fee":0.5},
         "some_future_field":{"nested":[1,2,3]}},
        {"transaction_id":"T1.3","account_id":"A1.1","amount":"0.10","booked":false,"created_at":"2024-03-07T10:00:00+01:00"},
        {"transaction_id":"T1.4","account_id":"A1.1","amount":99999999999999.99,"booking_date":"2024-01-02",
         "value_date":"2024-01-03","creation_timestamp":"2024-01-02T08:00:00Z","booked_at":null},
        {"transaction_id":7,"account_id":"A1.1","amount":1e2,"booked_at":"2024-02-01","currency":null}
      ],
      "deleted": ["T0.9", 12, null],
      "status": {"synced_at":"2024-03-07T10:00:00Z","succeeded_at":"2024-03-07T10:00:00Z"},
      "statistics": {"deposit_sum": 0.0}
    }"#;
    let list = rows(body);
    assert_eq!(list.deleted, vec!["T0.9", "12"]);
    let txs: Vec<_> =
        list.transactions.into_iter().map(|r| map::transaction(r).unwrap_or_else(|e| panic!("{e}"))).collect();

    assert_eq!(txs[0].amount, dec("-1234.56"));
    assert_eq!(txs[0].amount.to_string(), "-1234.56");
    assert_eq!(txs[0].booking_date, date(2024, 3, 5));
    assert_eq!(txs[0].value_date, Some(date(2024, 3, 6)));
    assert_eq!(txs[0].status, BookingStatus::Booked);
    assert_eq!(txs[0].counterparty.name.as_deref(), Some("Stadtwerke"));
    assert_eq!(txs[0].counterparty.iban.as_deref(), Some("DE89370400440532013000"));
    assert_eq!(txs[0].counterparty.bic, None);
    assert_eq!(txs[0].kind.as_deref(), Some("Direct debit"));
    assert_eq!(txs[0].currency.map(|c| c.to_string()).as_deref(), Some("EUR"));
    // The raw row keeps the decimal exactly (as a string).
    assert!(txs[0].raw.as_deref().unwrap_or_default().contains("\"-1234.56\""), "{:?}", txs[0].raw);

    assert_eq!(txs[1].status, BookingStatus::Pending);
    assert_eq!(txs[1].amount.to_string(), "0.10");
    assert_eq!(txs[1].booking_date, date(2024, 3, 7), "pending without booking date falls back to created_at");

    assert_eq!(txs[2].amount, dec("99999999999999.99"));
    assert_eq!(txs[2].booking_date, date(2024, 1, 2), "pre-v4 booking_date");
    assert_eq!(txs[2].value_date, Some(date(2024, 1, 3)), "pre-v4 value_date");
    assert_eq!(txs[2].status, BookingStatus::Booked);

    assert_eq!(txs[3].provider_id, "7");
    assert_eq!(txs[3].amount, dec("100"));
    assert_eq!(txs[3].currency, None);
}

#[test]
fn a_transaction_without_amount_or_date_is_an_error_not_a_zero() {
    for row in [
        r#"{"transaction_id":"T1","account_id":"A1","booked_at":"2024-01-01"}"#,
        r#"{"transaction_id":"T1","account_id":"A1","amount":1}"#,
        r#"{"account_id":"A1","amount":1,"booked_at":"2024-01-01"}"#,
    ] {
        let value: Value = wire::parse(row, "row").unwrap_or_else(|e| panic!("{e}"));
        let err = map::transaction(value).err().unwrap_or_else(|| panic!("{row} should fail"));
        assert_eq!(err.code, ErrorCode::ProviderResponseInvalid, "{row}");
    }
}

#[test]
fn truncated_and_malformed_bodies_are_provider_response_invalid() {
    for body in [r#"{"transactions":[{"transaction_id":"T1","amount":-12.3"#, "<html>502</html>", ""] {
        let err = wire::parse::<wire::TransactionList>(body, "transactions").err().unwrap_or_else(|| panic!("{body}"));
        assert_eq!(err.code, ErrorCode::ProviderResponseInvalid);
    }
    let err = wire::parse::<wire::TransactionList>(r#"{"transactions":[{"amount":-12.3"#, "transactions")
        .err()
        .unwrap_or_else(|| panic!("cut"));
    assert!(err.message.contains("cut off"), "{}", err.message);
}

#[test]
fn accounts_and_accesses_map_to_domain_types() {
    let body = r#"{"accounts":[
      {"account_id":"A1.1","access_id":"X1.1","name":"Girokonto","owner":"Erika Mustermann","iban":"DE02120300000000202051",
       "bic":"BYLADEM1001","currency":"EUR","type":"Giro account",
       "balance":{"balance":1523.07,"balance_date":"2024-03-07T00:00:00Z","credit_line":null},
       "status":{"synced_at":"2024-03-07T10:00:00Z","succeeded_at":"2024-03-06T10:00:00Z","message":"PIN falsch"},
       "icon":{"url":"https://x"},"supported_payments":{}},
      {"account_id":"A1.2","access_id":"X1.1","type":"Daily savings account","currency":null,"balance":null,"status":null},
      {"account_id":"A1.3","type":"Depot","name":null,"iban":null,"account_number":"12345"}
    ]}"#;
    let list: wire::AccountList = wire::parse(body, "accounts").unwrap_or_else(|e| panic!("{e}"));
    let accounts: Vec<_> =
        list.accounts.into_iter().map(|a| map::account(a).unwrap_or_else(|e| panic!("{e}"))).collect();
    let giro = &accounts[0];
    assert_eq!(giro.account.account_type, AccountType::Checking);
    assert_eq!(giro.account.balance, Some(dec("1523.07")));
    assert_eq!(giro.account.available, None);
    assert_eq!(giro.balance_date, Some(date(2024, 3, 7)));
    assert!(giro.account.download_failed, "synced after the last success");
    assert_eq!(giro.sync.message.as_deref(), Some("PIN falsch"));
    assert_eq!(giro.access_id.as_deref(), Some("X1.1"));
    assert_eq!(accounts[1].account.account_type, AccountType::Savings);
    assert_eq!(accounts[1].account.currency.to_string(), "EUR");
    assert_eq!(accounts[1].account.name, "Account A1.2");
    assert_eq!(accounts[2].account.account_type, AccountType::Securities);
    assert_eq!(accounts[2].account.name, "12345");

    let accesses: Vec<wire::Access> = wire::parse_list(
        r#"[{"id":"X1.1","access_method_id":"5f2d…","save_credentials":true,"created_at":"2024-01-01T00:00:00Z",
             "auth_methods":[{"id":"M1.1","medium_name":"iPhone","type":"PUSH_OTP","additional_info":{}}],
             "consent":{"recurring":true,"period":90,"scopes":["ACCOUNTS","BALANCES","TRANSACTIONS"],"expires_at":"2024-06-29"},
             "unknown":1}]"#,
        "accesses",
        "accesses",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let wrapped: Vec<wire::Access> =
        wire::parse_list(r#"{"accesses":[{"id":"X2.1","consent":null,"auth_methods":null}]}"#, "accesses", "accesses")
            .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(wrapped.len(), 1);
    let access = map::access(accesses.into_iter().next().unwrap_or_default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(access.secrets_saved, Some(true));
    assert_eq!(access.auth_methods[0].display_name, "Push notification (iPhone)");
    let expires = access.consent_expires_at().unwrap_or_else(|| panic!("expiry"));
    assert_eq!(expires.to_rfc3339(), "2024-06-29T00:00:00+00:00");
    assert!(!access.consent_expired(expires - chrono::Duration::seconds(1)));
    assert!(access.consent_expired(expires));
}

#[test]
fn error_envelope_maps_to_kontor_codes() {
    let env = |code: i64, group: &str| {
        format!(
            r#"{{"error":{{"code":{code},"group":"{group}","description":"d","message":"Bank sagt nein","data":{{}}}}}}"#
        )
    };
    let cases: &[(u16, String, ErrorContext, ErrorCode)] = &[
        (400, env(10000, "user"), ErrorContext::Credentials, ErrorCode::CredentialsRejected),
        (400, env(10001, "user"), ErrorContext::Credentials, ErrorCode::CredentialsRejected),
        (400, env(10004, "user"), ErrorContext::Tan, ErrorCode::TanRejected),
        (400, env(10016, "user"), ErrorContext::Tan, ErrorCode::TanRejected),
        (400, env(10099, "user"), ErrorContext::Tan, ErrorCode::TanRejected),
        (423, env(1008, "client"), ErrorContext::Bearer, ErrorCode::ResourceBusy),
        (423, String::new(), ErrorContext::Bearer, ErrorCode::ResourceBusy),
        (400, env(1021, "client"), ErrorContext::Bearer, ErrorCode::PsuIpRequired),
        (400, env(1020, "client"), ErrorContext::Bearer, ErrorCode::TooManySyncs),
        (400, env(1011, "client"), ErrorContext::Bearer, ErrorCode::CredentialsRequired),
        (404, env(1002, "client"), ErrorContext::Bearer, ErrorCode::NotFound),
        (400, env(1000, "client"), ErrorContext::Client, ErrorCode::InvalidInput),
        (401, env(1004, "client"), ErrorContext::Client, ErrorCode::ProviderAuthFailed),
        (401, String::new(), ErrorContext::Bearer, ErrorCode::ProviderAuthFailed),
        (400, env(40000, "connectivity"), ErrorContext::Bearer, ErrorCode::NotSupported),
        (400, env(30005, "general"), ErrorContext::Bearer, ErrorCode::ScaTimedOut),
        (500, env(20000, "bank"), ErrorContext::Bearer, ErrorCode::ProviderUnavailable),
        (502, "<html>bad gateway</html>".to_owned(), ErrorContext::Bearer, ErrorCode::ProviderUnavailable),
        (503, String::new(), ErrorContext::Client, ErrorCode::ProviderUnavailable),
        (429, String::new(), ErrorContext::Bearer, ErrorCode::RateLimited),
        // Token grants.
        (400, env(1000, "client"), ErrorContext::CodeGrant, ErrorCode::AuthorizationExpired),
        (
            400,
            r#"{"error":"invalid_grant","error_description":"code expired"}"#.to_owned(),
            ErrorContext::CodeGrant,
            ErrorCode::AuthorizationExpired,
        ),
        (400, r#"{"error":"invalid_grant"}"#.to_owned(), ErrorContext::RefreshGrant, ErrorCode::ConsentExpired),
        (401, env(1003, "client"), ErrorContext::RefreshGrant, ErrorCode::ProviderAuthFailed),
        (401, r#"{"error":"invalid_client"}"#.to_owned(), ErrorContext::CodeGrant, ErrorCode::ProviderAuthFailed),
        // The Demo Bank's refusal of a grant: 400, code 1003, name invalid_grant.
        (
            400,
            r#"{"error":{"code":1003,"group":"client","name":"invalid_grant","description":"x","data":{}}}"#.to_owned(),
            ErrorContext::CodeGrant,
            ErrorCode::AuthorizationExpired,
        ),
        (
            400,
            r#"{"error":{"code":1003,"group":"client","name":"invalid_grant","description":"x","data":{}}}"#.to_owned(),
            ErrorContext::RefreshGrant,
            ErrorCode::ConsentExpired,
        ),
        (401, env(1004, "client"), ErrorContext::RefreshGrant, ErrorCode::ProviderAuthFailed),
        (429, env(1020, "client"), ErrorContext::Bearer, ErrorCode::TooManySyncs),
        (400, env(10005, "user"), ErrorContext::Bearer, ErrorCode::ConsentExpired),
        // The older lenient shape: code null, group unknown.
        (
            400,
            r#"{"error":{"code":null,"group":"unknown","name":"x","message":"y"}}"#.to_owned(),
            ErrorContext::Bearer,
            ErrorCode::InvalidInput,
        ),
    ];
    for (status, body, context, expected) in cases {
        let err = from_response(*status, body, *context, None);
        assert_eq!(err.code, *expected, "{status} {body} {context:?}: {}", err.message);
        assert!(!err.message.is_empty());
    }
    let err = from_response(400, &env(10000, "user"), ErrorContext::Credentials, None);
    assert_eq!(err.bank_message.as_deref(), Some("Bank sagt nein"));
    let validation = r#"{"error":{"code":1000,"group":"client","description":"Request body doesn't match input schema.","data":{"redirect_uri":["Not a valid URL."]}}}"#;
    let err = from_response(400, validation, ErrorContext::Client, None);
    assert!(err.message.contains("redirect_uri: Not a valid URL."), "{}", err.message);
}

#[test]
fn callbacks_check_state_first_and_report_cancel_and_failure() {
    let ok = parse_callback("kontor://finx/callback?state=s3cr3t&code=C0DE&success=true&flow_id=3ca31c37", "s3cr3t")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ok.code.expose(), "C0DE");
    assert_eq!(ok.flow_id.as_deref(), Some("3ca31c37"));
    let loopback = parse_callback("http://127.0.0.1:53682/callback?code=a%2Bb&state=s3cr3t", "s3cr3t")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(loopback.code.expose(), "a+b");
    assert!(parse_callback("?state=s3cr3t&code=x&success=true", "s3cr3t").is_ok());

    let code_of = |url: &str| parse_callback(url, "s3cr3t").err().map(|e| e.code);
    assert_eq!(code_of("kontor://finx/callback?state=other&code=C&success=true"), Some(ErrorCode::ScaStateMismatch));
    assert_eq!(code_of("kontor://finx/callback?code=C&success=true"), Some(ErrorCode::ScaStateMismatch));
    assert_eq!(code_of("kontor://finx/callback?state=s3cr3t&state=other&code=C"), Some(ErrorCode::ScaStateMismatch));
    // A wrong state wins over everything else: a forged cancel changes nothing either.
    assert_eq!(code_of("kontor://finx/callback?state=other&cancel=true"), Some(ErrorCode::ScaStateMismatch));
    assert_eq!(
        parse_callback("kontor://finx/callback?state=&code=C", "").err().map(|e| e.code),
        Some(ErrorCode::ScaStateMismatch)
    );

    let cancelled = parse_callback("kontor://finx/callback?state=s3cr3t&success=false&cancel=true", "s3cr3t")
        .err()
        .unwrap_or_else(|| panic!("cancel"));
    assert_eq!(cancelled.code, ErrorCode::ScaCancelled);
    assert!(cancelled.message.contains("cancelled"), "{}", cancelled.message);
    let aborted = parse_callback("kontor://finx/callback?state=s3cr3t&abort=true", "s3cr3t").err().map(|e| e.code);
    assert_eq!(aborted, Some(ErrorCode::ScaCancelled));
    let failed = parse_callback("kontor://finx/callback?state=s3cr3t&success=false", "s3cr3t")
        .err()
        .unwrap_or_else(|| panic!("failure"));
    assert_eq!(failed.code, ErrorCode::ScaCancelled);
    assert!(failed.message.contains("did not complete"), "{}", failed.message);
    assert_eq!(code_of("kontor://finx/callback?state=s3cr3t&success=true"), Some(ErrorCode::ProviderResponseInvalid));
    assert_eq!(code_of("https://evil.example/callback?state=s3cr3t&code=C"), Some(ErrorCode::InvalidInput));
    assert_eq!(code_of("not a url"), Some(ErrorCode::InvalidInput));
}

fn challenge(json: &str) -> kontor_core::Result<kontor_core::provider::finx::FinxChallenge> {
    let wire: wire::Challenge = wire::parse(json, "challenge")?;
    map::challenge(wire)
}

#[test]
fn challenges_of_every_type_and_format() {
    let methods = challenge(
        r#"{"id":"L1.3","type":"METHOD_SELECTION","created_at":"2024-03-07T10:00:00Z",
            "auth_methods":[{"id":"M1.1","medium_name":"+49 170 …12","type":"SMS_OTP"},{"id":"M1.2","type":"CHIP_OTP"},{"id":null}]}"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let ChallengeKind::MethodSelection { methods: list } = &methods.kind else { panic!("{methods:?}") };
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].display_name, "SMS (+49 170 …12)");
    match map::sca_challenge(&methods) {
        ScaChallenge::ChooseProcedure { procedures, .. } => assert_eq!(procedures[1].name, "chipTAN"),
        other => panic!("{other:?}"),
    }

    let text = challenge(
        r#"{"id":1.0,"type":"EMBEDDED","format":"TEXT","data":"Enter the SMS TAN","label":"TAN",
            "input_format":"INTEGER","min_length":6,"max_length":"6"}"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(text.id, "1.0");
    let ChallengeKind::Embedded(embedded) = &text.kind else { panic!("{text:?}") };
    assert_eq!(embedded.input_format, InputFormat::Integer);
    assert_eq!((embedded.min_length, embedded.max_length), (Some(6), Some(6)));
    assert_eq!(embedded.content, EmbeddedContent::Text { text: "Enter the SMS TAN".into() });

    let html = challenge(
        r#"{"id":"L2","type":"EMBEDDED","format":"HTML","data":"<p>Bitte <b>TAN</b> eingeben</p><script>alert(1)</script><p>Betrag&nbsp;10&euro;</p>"}"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let ChallengeKind::Embedded(embedded) = &html.kind else { panic!("{html:?}") };
    assert_eq!(
        embedded.content,
        EmbeddedContent::Html { paragraphs: vec!["Bitte TAN eingeben".into(), "Betrag 10€".into()] }
    );
    match map::sca_challenge(&html) {
        ScaChallenge::Tan { message, challenge: TanChallenge::Text, .. } => {
            assert_eq!(message.as_deref(), Some("Bitte TAN eingeben\n\nBetrag 10€"));
        }
        other => panic!("{other:?}"),
    }

    let hhd =
        challenge(r#"{"id":"L3","type":"EMBEDDED","format":"HHD","data":"018880112345678041,00","version":"1.4"}"#)
            .unwrap_or_else(|e| panic!("{e}"));
    let ChallengeKind::Embedded(embedded) = &hhd.kind else { panic!("{hhd:?}") };
    let EmbeddedContent::Flicker { code, raw } = &embedded.content else { panic!("{embedded:?}") };
    assert_eq!(raw, "018880112345678041,00");
    match map::sca_challenge(&hhd) {
        ScaChallenge::Tan { challenge: TanChallenge::Flicker { optical_data, .. }, .. } => {
            assert_eq!(optical_data, code.render_hex);
        }
        other => panic!("{other:?}"),
    }
    let bad_hhd = challenge(r#"{"id":"L3","type":"EMBEDDED","format":"HHD","data":"not a flicker code"}"#);
    assert_eq!(bad_hhd.err().map(|e| e.code), Some(ErrorCode::ProviderResponseInvalid));

    let photo =
        challenge(r#"{"id":"L4","type":"EMBEDDED","format":"PHOTO","data":"data:image/png;base64,iVBORw0KGgo="}"#)
            .unwrap_or_else(|e| panic!("{e}"));
    match map::sca_challenge(&photo) {
        ScaChallenge::Tan { challenge: TanChallenge::Photo { mime_type, data_base64 }, .. } => {
            assert_eq!(mime_type, "image/png");
            assert_eq!(data_base64, "iVBORw0KGgo=");
        }
        other => panic!("{other:?}"),
    }
    let bad_photo = challenge(r#"{"id":"L4","type":"EMBEDDED","format":"PHOTO","data":"data:text/html;base64,PHA+"}"#);
    assert_eq!(bad_photo.err().map(|e| e.code), Some(ErrorCode::ProviderResponseInvalid));

    let redirect = challenge(r#"{"id":"L5","type":"REDIRECT","redirect-uri":"https://bank.example/sca?x=1"}"#)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(redirect.kind, ChallengeKind::Redirect { url: "https://bank.example/sca?x=1".into() });
    let js = challenge(r#"{"id":"L5","type":"REDIRECT","location":"javascript:alert(1)"}"#);
    assert_eq!(js.err().map(|e| e.code), Some(ErrorCode::ProviderResponseInvalid));

    let decoupled = challenge(r#"{"id":"L6","type":"DECOUPLED","message":"Bitte in der App freigeben"}"#)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(decoupled.kind, ChallengeKind::Decoupled { message: Some("Bitte in der App freigeben".into()) });

    assert_eq!(
        challenge(r#"{"id":"L7","type":"TELEPATHY"}"#).err().map(|e| e.code),
        Some(ErrorCode::ProviderResponseInvalid)
    );
}

#[test]
fn synchronization_statuses_and_failure() {
    let sync = |json: &str| {
        let wire: wire::Sync = wire::parse(json, "sync").unwrap_or_else(|e| panic!("{e}"));
        map::synchronization(wire).unwrap_or_else(|e| panic!("{e}"))
    };
    let waiting = sync(
        r#"{"id":"9b0c","status":"AWAIT_AUTH","created_at":"2024-03-07T10:00:00Z","ended_at":null,
            "challenge":{"id":"L1.3","type":"EMBEDDED","format":"TEXT","data":"TAN?"},"error":null}"#,
    );
    assert_eq!(waiting.status, SyncStatus::AwaitAuth);
    assert!(waiting.challenge.is_some());
    let failed = sync(
        r#"{"id":"9b0c","status":"FAILED","error":{"code":10000,"name":"x","message":"Die PIN ist falsch","group":"user"}}"#,
    );
    assert!(failed.status.is_terminal());
    let error = failed.error.unwrap_or_else(|| panic!("error"));
    assert_eq!(error.code, ErrorCode::CredentialsRejected);
    assert_eq!(error.bank_message.as_deref(), Some("Die PIN ist falsch"));
    assert_eq!(sync(r#"{"id":"1","status":"PAUSED"}"#).status, SyncStatus::Other("PAUSED".into()));
    assert_eq!(sync(r#"{"id":"1","status":"COMPLETED","challenge":{"id":"old"}}"#).challenge, None);
}

#[test]
fn income_report_is_exact_and_serialisable() {
    let body = r#"{"id":"3ca31c37","period":12,
      "income":{"summary":{"total":42000.10,"low":3400,"high":3600.5,"average":3500.0083,"count":12},
                "streams":[{"category":{"id":1,"name":"Salary"},"first_booked_on":"2023-04-01","last_booked_on":"2024-03-01"}],
                "primary":{"category":{"id":"c1","name":"Salary"},"first_booked_on":"2023-04-01","last_booked_on":"2024-03-01",
                           "payment_partner":{"name":"ACME GmbH"}}},
      "regular_expenses":[{"summary":{"total":-14400.00,"count":12},"streams":[{"category":{"name":"Rent"}}]}],
      "variable_expenses":null,
      "disposable_income":{"total":27600.10,"low":null,"high":2300,"average":2300.0083,"ratio":0.6571},
      "discretionary_income":{"ratio":0.1},
      "extra":true}"#;
    let wire: wire::IncomeReport = wire::parse(body, "income report").unwrap_or_else(|e| panic!("{e}"));
    let report = map::income_report(wire, "3ca31c37");
    assert_eq!(report.period_months, Some(12));
    let summary = report.income.summary.clone().unwrap_or_default();
    assert_eq!(summary.total, Some(dec("42000.10")));
    assert_eq!(summary.average, Some(dec("3500.0083")));
    assert_eq!(summary.count, Some(12));
    assert_eq!(report.income.streams[0].category_id.as_deref(), Some("1"));
    assert_eq!(report.income.streams[0].first_booked_on, Some(date(2023, 4, 1)));
    let primary = report.primary_income.clone().unwrap_or_default();
    assert_eq!(primary.payment_partner.as_deref(), Some("ACME GmbH"));
    assert_eq!(report.regular_expenses[0].summary.as_ref().and_then(|s| s.total), Some(dec("-14400.00")));
    assert!(report.variable_expenses.is_empty());
    assert_eq!(report.disposable_income.as_ref().and_then(|d| d.ratio), Some(dec("0.6571")));

    let json = serde_json::to_value(&report).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(json["income"]["summary"]["total"], Value::String("42000.10".into()));
    assert_eq!(json["disposable_income"]["low"], Value::Null);
    assert_eq!(json["income"]["streams"][0]["first_booked_on"], Value::String("2023-04-01".into()));
    let back: kontor_core::provider::finx::IncomeReport =
        serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back, report);
    let ts = <kontor_core::provider::finx::IncomeReport as ts_rs::TS>::decl(&ts_rs::Config::default());
    assert!(ts.contains("disposable_income"), "{ts}");
}

#[test]
fn html_never_passes_markup_on() {
    let paragraphs = html::to_paragraphs(
        "<div><h3>Auftrag</h3><table><tr><td>IBAN</td><td>DE02&nbsp;1203</td></tr></table><iframe src=x>y</iframe>&lt;script&gt;</div>",
    );
    assert_eq!(paragraphs, vec!["Auftrag", "IBAN DE02 1203", "<script>"]);
}
