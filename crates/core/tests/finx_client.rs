//! The finX client over real HTTP on 127.0.0.1, against a scripted axum server: Basic and Bearer
//! auth, widget-link bodies, the code exchange, refresh rotation, retries (and the calls that must
//! never be retried), 429 with `retry_at`, truncated bodies, paging with `deleted`, synchronisations
//! and challenge answers. (Journeys against the Demo Bank's finX face live in the root package's
//! `tests/finx_client.rs`.)

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration as StdDuration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use kontor_core::ErrorCode;
use kontor_core::clock::ManualClock;
use kontor_core::domain::BookingStatus;
use kontor_core::provider::finx::{
    AccessToken, ChallengeAnswer, ChallengeKind, FinxClient, FinxConfig, IncomeReportRequest, OnetimeAccessRequest,
    OngoingAccessRequest, ReportWindow, RetryPolicy, Since, SinceType, SyncRequest, SyncScope, SyncStatus, TokenSet,
    TransactionQuery,
};
use kontor_core::secret::SecretString;
use serde_json::{Value, json};

#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    query: String,
    headers: HeaderMap,
    body: String,
}

impl Seen {
    fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
    }
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
    fn query_value(&self, key: &str) -> Option<String> {
        url::form_urlencoded::parse(self.query.as_bytes()).find(|(k, _)| k == key).map(|(_, v)| v.into_owned())
    }
}

#[derive(Debug, Clone)]
struct Canned {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
}

fn reply(status: u16, body: impl Into<String>) -> Canned {
    Canned { status, headers: vec![], body: body.into() }
}

#[derive(Clone, Default)]
struct Script {
    seen: Arc<Mutex<Vec<Seen>>>,
    queue: Arc<Mutex<VecDeque<Canned>>>,
}

async fn answer(State(script): State<Script>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let seen = Seen {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query: uri.query().unwrap_or_default().to_owned(),
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    script.seen.lock().unwrap_or_else(PoisonError::into_inner).push(seen);
    let canned = script.queue.lock().unwrap_or_else(PoisonError::into_inner).pop_front();
    let Some(canned) = canned else {
        return (StatusCode::IM_A_TEAPOT, "script exhausted").into_response();
    };
    let mut response = Response::builder().status(canned.status).header("content-type", "application/json");
    for (name, value) in canned.headers {
        response = response.header(name, value);
    }
    response.body(axum::body::Body::from(canned.body)).unwrap_or_else(|e| panic!("response: {e}"))
}

impl Script {
    async fn start(answers: Vec<Canned>) -> (Script, String) {
        let script = Script { seen: Arc::default(), queue: Arc::new(Mutex::new(answers.into())) };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("bind: {e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("addr: {e}"));
        let app = Router::new().fallback(answer).with_state(script.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (script, format!("http://{addr}"))
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

fn start_time() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 7, 10, 0, 0).single().unwrap_or_else(|| panic!("time"))
}

fn client(base: &str, clock: &ManualClock) -> FinxClient {
    let mut config = FinxConfig::new(base, "kontor-client", SecretString::new("s3cret".to_owned()));
    config.retry =
        RetryPolicy { max_attempts: 3, base_delay: StdDuration::from_millis(1), max_wait: StdDuration::from_secs(2) };
    FinxClient::new(config, Arc::new(clock.clone())).unwrap_or_else(|e| panic!("client: {e}"))
}

async fn setup(answers: Vec<Canned>) -> (Script, FinxClient, ManualClock) {
    let (script, base) = Script::start(answers).await;
    let clock = ManualClock::new(start_time());
    let client = client(&base, &clock);
    (script, client, clock)
}

fn bearer(clock: &ManualClock) -> AccessToken {
    AccessToken::new(SecretString::new("acc-tok".to_owned()), clock.now_plus(Duration::minutes(30)))
}

trait Now {
    fn now_plus(&self, by: Duration) -> chrono::DateTime<Utc>;
}

impl Now for ManualClock {
    fn now_plus(&self, by: Duration) -> chrono::DateTime<Utc> {
        kontor_core::clock::Clock::now(self) + by
    }
}

fn basic_header() -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("kontor-client:s3cret"))
}

const LINK: &str = r#"{"location":"https://finx.example/?token=eyJ","id":"3ca31c37-986a-454e-ad64-8e97143c86bc"}"#;

#[tokio::test]
async fn widget_links_use_basic_auth_and_send_the_documented_fields() {
    let (script, client, _clock) = setup(vec![reply(201, LINK), reply(200, LINK), reply(200, LINK)]).await;

    let mut onetime = OnetimeAccessRequest::new("kontor://finx/callback", "st4te");
    onetime.language = Some("en".into());
    onetime.accounts = vec!["DE89 3704 0044 0532 0130 00".into()];
    let link = client.create_onetime_access(&onetime).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(link.location, "https://finx.example/?token=eyJ");
    assert_eq!(link.id.as_deref(), Some("3ca31c37-986a-454e-ad64-8e97143c86bc"));

    let mut ongoing = OngoingAccessRequest::new("u-42@kontor", "http://127.0.0.1:4711/callback", "st4te");
    ongoing.provider_id = Some("74bab9d2".into());
    ongoing.save_secrets = Some(false);
    ongoing.sync_period = Some(365);
    client.create_ongoing_access(&ongoing).await.unwrap_or_else(|e| panic!("{e}"));

    let mut report = IncomeReportRequest::new("kontor://finx/callback", "st4te");
    report.window = Some(ReportWindow::ReportingPeriodMonths(6));
    client.create_income_report(&report).await.unwrap_or_else(|e| panic!("{e}"));

    report.window = Some(ReportWindow::ReportingPeriodMonths(3));
    let too_short = client.create_income_report(&report).await.err().map(|e| e.code);
    assert_eq!(too_short, Some(ErrorCode::InvalidInput));

    let seen = script.seen();
    assert_eq!(seen.len(), 3, "the invalid report request was never sent");
    for s in &seen {
        assert_eq!(s.method, "POST");
        assert_eq!(s.header("authorization"), Some(basic_header()));
        assert!(s.header("content-type").unwrap_or_default().starts_with("application/json"));
    }
    assert_eq!(seen[0].path, "/onetime/access");
    assert_eq!(
        seen[0].json(),
        json!({"redirect_uri":"kontor://finx/callback","state":"st4te","sync_period":90,"language":"en",
               "accounts":[{"id":"DE89370400440532013000"}]})
    );
    assert_eq!(seen[1].path, "/ongoing/access");
    assert_eq!(
        seen[1].json(),
        json!({"user_id":"u-42@kontor","redirect_uri":"http://127.0.0.1:4711/callback","state":"st4te",
               "provider_id":"74bab9d2","sync_period":365,"save_secrets":false})
    );
    assert_eq!(seen[2].path, "/onetime/income-report");
    assert_eq!(seen[2].json()["reporting_period"], json!(6));
    assert!(seen[2].json().get("sync_period").is_none(), "reporting_period and sync_period never together");
}

#[tokio::test]
async fn code_exchange_sends_the_same_redirect_uri_and_keeps_long_tokens_whole() {
    let long_access = "a".repeat(4096);
    let long_refresh = format!("R{}", "r".repeat(5000));
    let token = json!({"access_token": long_access, "token_type":"Bearer", "expires_in":3600,
                       "scope":"accounts=ro balance=ro transactions=ro offline", "refresh_token": long_refresh});
    let (script, client, clock) = setup(vec![reply(200, token.to_string())]).await;
    let tokens = client
        .exchange_code(&SecretString::new("C0DE".to_owned()), "kontor://finx/callback")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(tokens.access.token.expose(), &long_access);
    assert_eq!(tokens.refresh_token.as_ref().map(|t| t.expose().clone()), Some(long_refresh));
    assert!(tokens.is_offline());
    let now = kontor_core::clock::Clock::now(&clock);
    assert_eq!(tokens.access.expires_at, now + Duration::seconds(3600 - 60));
    assert_eq!(tokens.refresh_expires_at, Some(now + Duration::days(90)));
    assert!(!tokens.refresh_due(now, Duration::days(30)));
    assert!(tokens.refresh_due(now + Duration::days(61), Duration::days(30)));
    assert!(!format!("{tokens:?}").contains("aaaa"), "tokens never print");

    let seen = script.seen();
    assert_eq!(seen[0].path, "/auth/token");
    assert_eq!(seen[0].header("authorization"), Some(basic_header()));
    assert_eq!(
        seen[0].json(),
        json!({"grant_type":"authorization_code","code":"C0DE","redirect_uri":"kontor://finx/callback"})
    );
}

#[tokio::test]
async fn refused_codes_and_refresh_tokens_map_and_are_never_retried() {
    let (script, client, _clock) = setup(vec![
        reply(400, r#"{"error":{"code":1000,"group":"client","description":"invalid authorization code"}}"#),
        reply(400, r#"{"error":"invalid_grant","error_description":"refresh token expired"}"#),
        reply(500, r#"{"error":{"code":30000,"group":"general"}}"#),
        reply(401, r#"{"error":"invalid_client"}"#),
    ])
    .await;
    let code = client.exchange_code(&SecretString::new("old".to_owned()), "kontor://finx/callback").await;
    assert_eq!(code.err().map(|e| e.code), Some(ErrorCode::AuthorizationExpired));
    let refresh = client.refresh(&SecretString::new("R1".to_owned())).await;
    assert_eq!(refresh.err().map(|e| e.code), Some(ErrorCode::ConsentExpired));
    // A 5xx on a refresh is not repeated: the refresh token may already be spent.
    let refresh = client.refresh(&SecretString::new("R1".to_owned())).await;
    assert_eq!(refresh.err().map(|e| e.code), Some(ErrorCode::ProviderUnavailable));
    let refresh = client.refresh(&SecretString::new("R1".to_owned())).await;
    assert_eq!(refresh.err().map(|e| e.code), Some(ErrorCode::ProviderAuthFailed));
    assert_eq!(script.seen().len(), 4, "one request per call, no retries");
}

#[tokio::test]
async fn refresh_rotates_and_persists_before_the_access_token_is_handed_out() {
    let first = json!({"access_token":"A2","expires_in":3600,"refresh_token":"R2","scope":"offline"});
    let second = json!({"access_token":"A3","expires_in":3600,"refresh_token":"R3"});
    let no_rotation = json!({"access_token":"A4","expires_in":3600});
    let (script, client, _clock) =
        setup(vec![reply(200, first.to_string()), reply(200, second.to_string()), reply(200, no_rotation.to_string())])
            .await;

    // The store: what Kontor would have on disk.
    let stored = Mutex::new(SecretString::new("R1".to_owned()));
    let current = stored.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let tokens = client
        .refresh_and_persist(&current, |t: &TokenSet| {
            let new = t.refresh_token.clone().unwrap_or_else(|| current.clone());
            *stored.lock().unwrap_or_else(PoisonError::into_inner) = new;
            Ok(())
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(tokens.access.token.expose(), "A2");
    assert_eq!(stored.lock().unwrap_or_else(PoisonError::into_inner).expose(), "R2");

    // A failing persist keeps the new tokens from being used.
    let current = stored.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let failed = client
        .refresh_and_persist(&current, |_| Err(kontor_core::KontorError::new(ErrorCode::VaultBusy, "disk busy")))
        .await;
    assert_eq!(failed.err().map(|e| e.code), Some(ErrorCode::VaultBusy));

    // No refresh token in the answer: finX did not rotate; the caller keeps the old one.
    let tokens = client.refresh(&SecretString::new("R3".to_owned())).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(tokens.refresh_token.is_none());

    let seen = script.seen();
    assert_eq!(seen[0].json(), json!({"grant_type":"refresh_token","refresh_token":"R1"}));
    assert_eq!(seen[1].json(), json!({"grant_type":"refresh_token","refresh_token":"R2"}));
}

#[tokio::test]
async fn bearer_calls_send_the_token_and_refuse_an_expired_one_locally() {
    let accounts = r#"{"accounts":[{"account_id":"A1.1","access_id":"X1.1","name":"Giro","currency":"EUR",
        "type":"Giro account","balance":{"balance":-12.30}}]}"#;
    let (script, client, clock) = setup(vec![reply(200, accounts), reply(401, "")]).await;
    let token = bearer(&clock);
    let list = client.accounts(&token).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(list[0].account.balance.map(|b| b.to_string()).as_deref(), Some("-12.30"));
    assert_eq!(script.seen()[0].header("authorization").as_deref(), Some("Bearer acc-tok"));
    assert_eq!(script.seen()[0].path, "/rest/accounts");

    let refused = client.accounts(&token).await.err().unwrap_or_else(|| panic!("401"));
    assert_eq!(refused.code, ErrorCode::ProviderAuthFailed);
    assert!(refused.message.contains("access token"), "{}", refused.message);

    clock.advance(Duration::minutes(31));
    let expired = client.accounts(&token).await.err().map(|e| e.code);
    assert_eq!(expired, Some(ErrorCode::ProviderAuthFailed));
    assert_eq!(script.seen().len(), 2, "an expired token is not sent");

    let bad_id = client.account(&token_valid(&clock), "../auth/token").await.err().map(|e| e.code);
    assert_eq!(bad_id, Some(ErrorCode::InvalidInput));
}

fn token_valid(clock: &ManualClock) -> AccessToken {
    bearer(clock)
}

#[tokio::test]
async fn reads_retry_5xx_but_writes_that_reached_finx_do_not() {
    let ok = r#"[{"id":"X1.1"}]"#;
    let (script, client, clock) = setup(vec![
        reply(503, ""),
        reply(502, "<html>bad gateway</html>"),
        reply(200, ok),
        reply(500, r#"{"error":{"code":30000,"group":"general"}}"#),
        reply(502, ""),
        reply(502, ""),
        reply(502, ""),
    ])
    .await;
    let token = bearer(&clock);
    let accesses = client.accesses(&token).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(accesses[0].id, "X1.1");
    assert_eq!(script.seen().len(), 3);

    let answered = client
        .answer_challenge(&token, "X1.1", "9b0c", "L1.3", &ChallengeAnswer::Tan(SecretString::new("123456".into())))
        .await;
    assert_eq!(answered.err().map(|e| e.code), Some(ErrorCode::ProviderUnavailable));
    assert_eq!(script.seen().len(), 4, "a TAN is sent once");

    let gave_up = client.accesses(&token).await.err().map(|e| e.code);
    assert_eq!(gave_up, Some(ErrorCode::ProviderUnavailable));
    assert_eq!(script.seen().len(), 7, "three attempts, then ProviderUnavailable");
}

#[tokio::test]
async fn rate_limits_wait_briefly_or_surface_with_retry_at() {
    let (script, client, clock) = setup(vec![
        Canned { status: 429, headers: vec![("retry-after", "0".into())], body: String::new() },
        reply(200, "[]"),
        Canned { status: 429, headers: vec![("retry-after", "3600".into())], body: String::new() },
    ])
    .await;
    let token = bearer(&clock);
    assert!(client.accesses(&token).await.unwrap_or_else(|e| panic!("{e}")).is_empty());
    let limited = client.accesses(&token).await.err().unwrap_or_else(|| panic!("429"));
    assert_eq!(limited.code, ErrorCode::RateLimited);
    assert_eq!(limited.retry_at, Some(kontor_core::clock::Clock::now(&clock) + Duration::seconds(3600)));
    assert_eq!(script.seen().len(), 3);
}

#[tokio::test]
async fn truncated_json_is_provider_response_invalid() {
    let (_script, client, clock) =
        setup(vec![reply(200, r#"{"transactions":[{"transaction_id":"T1","amount":-1.5"#)]).await;
    let err = client.transactions(&bearer(&clock), &TransactionQuery::default()).await.err();
    assert_eq!(err.map(|e| e.code), Some(ErrorCode::ProviderResponseInvalid));
}

#[tokio::test]
async fn transactions_page_by_offset_and_collect_deleted_ids() {
    let page1 = r#"{"transactions":[
        {"transaction_id":"T1","account_id":"A1","amount":-10.01,"booked":true,"booked_at":"2024-03-01"},
        {"transaction_id":"T2","account_id":"A1","amount":2500.00,"booked":true,"booked_at":"2024-03-02"}],
        "deleted":["T0"]}"#;
    let page2 = r#"{"transactions":[
        {"transaction_id":"T3","account_id":"A1","amount":-3.33,"booked":false,"settled_at":"2024-03-05"}],
        "deleted":["T0","T-1"]}"#;
    let (script, client, clock) = setup(vec![reply(200, page1), reply(200, page2)]).await;
    let query = TransactionQuery {
        accounts: vec!["A1".into(), "A2".into()],
        since: Some(Since::Date(NaiveDate::from_ymd_opt(2024, 3, 1).unwrap_or_default())),
        since_type: SinceType::Modified,
        include_pending: true,
        count: 2,
        ..TransactionQuery::default()
    };
    let all = client.all_transactions(&bearer(&clock), &query).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(all.transactions.len(), 3);
    assert_eq!(all.transactions[1].amount.to_string(), "2500.00");
    assert_eq!(all.transactions[2].status, BookingStatus::Pending);
    assert_eq!(all.deleted, vec!["T0", "T-1"]);
    assert!(!all.has_more);

    let seen = script.seen();
    assert_eq!(seen[0].path, "/rest/transactions");
    assert_eq!(seen[0].query_value("count").as_deref(), Some("2"));
    assert_eq!(seen[0].query_value("offset").as_deref(), Some("0"));
    assert_eq!(seen[1].query_value("offset").as_deref(), Some("2"));
    assert_eq!(seen[0].query_value("since").as_deref(), Some("2024-03-01"));
    assert_eq!(seen[0].query_value("since_type").as_deref(), Some("modified"));
    assert_eq!(seen[0].query_value("include_pending").as_deref(), Some("true"));
    assert_eq!(seen[0].query_value("accounts").as_deref(), Some("A1,A2"));
}

#[tokio::test]
async fn synchronisation_with_method_choice_and_tan() {
    let queued = r#"{"id":"9b0c-11","status":"QUEUED","created_at":"2024-03-07T10:00:00Z"}"#;
    let choose = r#"{"id":"9b0c-11","status":"AWAIT_AUTH","challenge":{"id":"L1.1","type":"METHOD_SELECTION",
        "auth_methods":[{"id":"M1","type":"SMS_OTP","medium_name":"+49 …12"},{"id":"M2","type":"PHOTO_OTP"}]}}"#;
    let tan = r#"{"id":"9b0c-11","status":"AWAIT_AUTH","challenge":{"id":"L1.2","type":"EMBEDDED","format":"TEXT",
        "data":"SMS-TAN eingeben","label":"TAN"}}"#;
    let done = r#"{"id":"9b0c-11","status":"COMPLETED","ended_at":"2024-03-07T10:01:00Z"}"#;
    let (script, client, clock) = setup(vec![
        reply(201, queued),
        reply(200, choose),
        reply(202, ""),
        reply(200, tan),
        reply(400, r#"{"error":{"code":10004,"group":"user","message":"TAN ungültig"}}"#),
        reply(202, "{}"),
        reply(200, done),
    ])
    .await;
    let token = bearer(&clock);
    let request = SyncRequest {
        credentials: vec![
            ("login_id".into(), SecretString::new("demo".into())),
            ("password".into(), SecretString::new("demo".into())),
        ],
        save_secrets: Some(false),
        redirect_uri: Some("kontor://finx/sca".into()),
        state: Some("st4te".into()),
        scope: SyncScope::Transactions,
        reuse_last_auth_method: Some(true),
        psu_ip: Some("192.0.2.7".into()),
        sync_period: Some(90),
        ..SyncRequest::default()
    };
    let sync = client.start_sync(&token, "X1.1", &request).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sync.status, SyncStatus::Queued);

    let sync = client.get_sync(&token, "X1.1", &sync.id).await.unwrap_or_else(|e| panic!("{e}"));
    let challenge = sync.challenge.unwrap_or_else(|| panic!("challenge"));
    let ChallengeKind::MethodSelection { methods } = &challenge.kind else { panic!("{challenge:?}") };
    client
        .answer_challenge(&token, "X1.1", &sync.id, &challenge.id, &ChallengeAnswer::Method(methods[0].id.clone()))
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    let sync = client.get_sync(&token, "X1.1", &sync.id).await.unwrap_or_else(|e| panic!("{e}"));
    let challenge = sync.challenge.unwrap_or_else(|| panic!("tan challenge"));
    let wrong = client
        .answer_challenge(
            &token,
            "X1.1",
            &sync.id,
            &challenge.id,
            &ChallengeAnswer::Tan(SecretString::new("000000".into())),
        )
        .await
        .err()
        .unwrap_or_else(|| panic!("wrong TAN"));
    assert_eq!(wrong.code, ErrorCode::TanRejected);
    assert_eq!(wrong.bank_message.as_deref(), Some("TAN ungültig"));
    client
        .answer_challenge(
            &token,
            "X1.1",
            &sync.id,
            &challenge.id,
            &ChallengeAnswer::Tan(SecretString::new("123456".into())),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // Redirect and decoupled challenges are finished by the bank: nothing is sent.
    client
        .answer_challenge(&token, "X1.1", &sync.id, &challenge.id, &ChallengeAnswer::Acknowledge)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let sync = client.get_sync(&token, "X1.1", &sync.id).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sync.status, SyncStatus::Completed);

    let seen = script.seen();
    assert_eq!(seen.len(), 7);
    assert_eq!(seen[0].path, "/rest/accesses/X1.1/syncs");
    assert_eq!(
        seen[0].json(),
        json!({"credentials":{"login_id":"demo","password":"demo"},"save_secrets":false,"disable_notifications":false,
               "redirect_uri":"kontor://finx/sca","state":"st4te","scope":["TRANSACTIONS"],
               "reuse_last_auth_method":true,"psu_ip_address":"192.0.2.7","sync_period":90})
    );
    assert_eq!(seen[1].path, "/rest/accesses/X1.1/syncs/9b0c-11");
    assert_eq!(seen[2].path, "/rest/accesses/X1.1/syncs/9b0c-11/challenges/L1.1/response");
    assert_eq!(seen[2].json(), json!({"method_id":"M1"}));
    assert_eq!(seen[5].json(), json!({"value":"123456"}));
}

#[tokio::test]
async fn sync_start_errors_map_to_codes() {
    let (_script, client, clock) = setup(vec![
        reply(423, r#"{"error":{"code":1008,"group":"client","description":"Resource busy"}}"#),
        reply(400, r#"{"error":{"code":1021,"group":"client","description":"PSU IP is required"}}"#),
        reply(400, r#"{"error":{"code":1020,"group":"client"}}"#),
        reply(400, r#"{"error":{"code":10000,"group":"user","message":"Zugangsdaten falsch"}}"#),
    ])
    .await;
    let token = bearer(&clock);
    let mut request = SyncRequest::default();
    let mut codes = Vec::new();
    for round in 0..4 {
        if round == 3 {
            request.credentials = vec![("password".into(), SecretString::new("nope".into()))];
        }
        codes.push(client.start_sync(&token, "X1.1", &request).await.err().map(|e| e.code));
    }
    assert_eq!(
        codes,
        vec![
            Some(ErrorCode::ResourceBusy),
            Some(ErrorCode::PsuIpRequired),
            Some(ErrorCode::TooManySyncs),
            Some(ErrorCode::CredentialsRejected)
        ]
    );
}

#[tokio::test]
async fn income_report_and_challenge_list() {
    let report = r#"{"period":12,"income":{"summary":{"total":42000.10}},"disposable_income":{"ratio":0.66}}"#;
    let list = r#"[{"id":"L1","type":"DECOUPLED","message":"Freigabe in der App"},{"id":"L2","type":"REDIRECT","location":"https://bank.example/x"}]"#;
    let (script, client, clock) = setup(vec![reply(200, report), reply(200, list)]).await;
    let token = bearer(&clock);
    let report = client.income_report(&token, "3ca31c37-986a").await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.id.as_deref(), Some("3ca31c37-986a"));
    assert_eq!(report.income.summary.and_then(|s| s.total).map(|t| t.to_string()).as_deref(), Some("42000.10"));
    let challenges = client.challenges(&token, "X1", "S1").await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(challenges.len(), 2);
    assert_eq!(script.seen()[0].path, "/rest/income-reports/3ca31c37-986a");
    assert_eq!(script.seen()[1].path, "/rest/accesses/X1/syncs/S1/challenges");
}
