//! The finAPI client over real HTTP on 127.0.0.1, against a scripted server: tokens, the v1/v2
//! switch, the 510 loop's request bodies, PSU headers, retries, 429, 423, truncated bodies, paging.
//! (The full Demo Bank journeys live in `finapi_link.rs`.)

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use chrono::{Duration, TimeZone, Utc};
use kontor_core::ErrorCode;
use kontor_core::clock::ManualClock;
use kontor_core::provider::finapi::{ApiVersion, FinapiClient, FinapiConfig, FinapiUser, RetryPolicy};
use kontor_core::provider::{
    AuthAnswer, AuthCall, AuthOperation, AuthReply, Continuation, LoginValue, Psu, ScaChallenge,
};
use kontor_core::secret::SecretString;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

#[derive(Debug, Clone)]
struct Canned {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
    /// Announce a longer body than sent, then close (a connection cut mid-body).
    cut: bool,
}

fn reply(status: u16, body: &str) -> Canned {
    Canned { status, headers: vec![], body: body.to_owned(), cut: false }
}

const TOKEN: &str = r#"{"access_token":"tok","token_type":"bearer","expires_in":3600,"scope":"all"}"#;
const USER_TOKEN: &str = r#"{"access_token":"utok","token_type":"bearer","refresh_token":"rtok","expires_in":3600}"#;

/// A server that answers token requests itself and everything else from a script, in order.
#[derive(Clone)]
struct Script {
    seen: Arc<Mutex<Vec<Seen>>>,
    queue: Arc<Mutex<VecDeque<Canned>>>,
    base: String,
}

impl Script {
    async fn start(answers: Vec<Canned>) -> Script {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("bind: {e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("addr: {e}"));
        let script = Script {
            seen: Arc::default(),
            queue: Arc::new(Mutex::new(answers.into())),
            base: format!("http://{addr}"),
        };
        let server = script.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let server = server.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    let (head_end, content_length) = loop {
                        let Ok(n) = socket.read(&mut chunk).await else { return };
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&buf[..pos]).to_string();
                            let len = head
                                .lines()
                                .find_map(|l| {
                                    let (k, v) = l.split_once(':')?;
                                    k.eq_ignore_ascii_case("content-length").then(|| v.trim().parse::<usize>().ok())?
                                })
                                .unwrap_or(0);
                            break (pos + 4, len);
                        }
                    };
                    while buf.len() < head_end + content_length {
                        let Ok(n) = socket.read(&mut chunk).await else { return };
                        if n == 0 {
                            break;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                    }
                    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                    let body = String::from_utf8_lossy(&buf[head_end..]).to_string();
                    let mut lines = head.lines();
                    let first = lines.next().unwrap_or_default().to_owned();
                    let mut parts = first.split(' ');
                    let method = parts.next().unwrap_or_default().to_owned();
                    let target = parts.next().unwrap_or_default().to_owned();
                    let (path, query) = target
                        .split_once('?')
                        .map_or((target.clone(), String::new()), |(p, q)| (p.to_owned(), q.to_owned()));
                    let headers = lines
                        .filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned())))
                        .collect();
                    let seen = Seen { method, path: path.clone(), query, headers, body };
                    let canned = if path.ends_with("/oauth/token") {
                        if seen.body.contains("grant_type=client_credentials") {
                            reply(200, TOKEN)
                        } else {
                            reply(200, USER_TOKEN)
                        }
                    } else {
                        server
                            .queue
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .pop_front()
                            .unwrap_or_else(|| reply(599, "script exhausted"))
                    };
                    server.seen.lock().unwrap_or_else(|e| e.into_inner()).push(seen);
                    let announced = if canned.cut { canned.body.len() + 100 } else { canned.body.len() };
                    let mut out = format!(
                        "HTTP/1.1 {} X\r\nContent-Type: application/json\r\nContent-Length: {announced}\r\nConnection: close\r\n",
                        canned.status
                    );
                    for (k, v) in &canned.headers {
                        out.push_str(&format!("{k}: {v}\r\n"));
                    }
                    out.push_str("\r\n");
                    out.push_str(&canned.body);
                    let _ = socket.write_all(out.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        script
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn calls(&self) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| !s.path.ends_with("/oauth/token")).collect()
    }

    fn token_calls(&self) -> usize {
        self.seen().iter().filter(|s| s.path.ends_with("/oauth/token")).count()
    }
}

fn clock() -> ManualClock {
    ManualClock::new(Utc.with_ymd_and_hms(2025, 6, 15, 10, 0, 0).single().unwrap_or_default())
}

fn client(script: &Script, version: ApiVersion, clock: &ManualClock) -> FinapiClient {
    let mut config = FinapiConfig::new(script.base.clone(), "client", SecretString::new("secret".into()));
    config.version = version;
    config.retry =
        RetryPolicy { max_attempts: 3, base_delay: StdDuration::from_millis(10), max_wait: StdDuration::from_secs(2) };
    config.request_timeout = StdDuration::from_secs(10);
    let client = FinapiClient::new(config, Arc::new(clock.clone())).unwrap_or_else(|e| panic!("{e}"));
    client.set_user(FinapiUser { id: "kontor-user".into(), password: SecretString::new("pw".into()) });
    client
}

const BANKS: &str =
    r#"{"banks":[{"id":280001,"name":"finAPI Test Bank","interfaces":[]}],"paging":{"page":1,"pageCount":1}}"#;

#[tokio::test]
async fn tokens_are_cached_until_they_expire() {
    let script = Script::start(vec![reply(200, BANKS), reply(200, BANKS), reply(200, BANKS)]).await;
    let clock = clock();
    let client = client(&script, ApiVersion::V2, &clock);
    for _ in 0..2 {
        let banks = client.search_banks("DEMO0001").await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(banks[0].id, "280001");
    }
    assert_eq!(script.token_calls(), 1);
    clock.advance(Duration::seconds(3600));
    client.search_banks("DEMO0001").await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(script.token_calls(), 2);
    let calls = script.calls();
    assert_eq!(calls[0].path, "/api/v2/banks");
    assert!(calls[0].query.contains("search=DEMO0001"));
    assert_eq!(calls[0].header("authorization"), Some("Bearer tok"));
    assert!(calls[0].header("x-request-id").is_some());
    assert!(script.seen()[0].path == "/api/v2/oauth/token");
}

fn import_op() -> AuthOperation {
    AuthOperation::Import { bank_id: "280001".into(), interface: "XS2A".into(), ibans: vec![], redirect_url: None }
}

fn creds() -> Vec<LoginValue> {
    vec![
        LoginValue { label: "Onlinebanking-ID".into(), value: SecretString::new("demo".into()) },
        LoginValue { label: "PIN".into(), value: SecretString::new("demo".into()) },
    ]
}

const TSP_510: &str = r#"{"errors":[{"message":"Es muss eine Zwei-Faktor-Authentifizierungsmethode ausgewählt werden","code":"ADDITIONAL_AUTHENTICATION_REQUIRED","type":"BUSINESS",
  "multiStepAuthentication":{"hash":"h1","status":"TWO_STEP_PROCEDURE_REQUIRED","twoStepProcedures":[{"procedureId":"955","procedureName":"mobileTAN","procedureChallengeType":"TEXT","implicitExecute":false}]}}]}"#;
const TAN_510: &str = r#"{"errors":[{"message":"Bitte TAN eingeben","code":"ADDITIONAL_AUTHENTICATION_REQUIRED","type":"BUSINESS",
  "multiStepAuthentication":{"hash":"h2","status":"CHALLENGE_RESPONSE_REQUIRED","challengeMessage":"Bitte geben Sie folgenden Code an: 123456","answerFieldLabel":"TAN"}}]}"#;
const CONNECTION: &str = r#"{"id":21,"updateStatus":"IN_PROGRESS","accountIds":[1],"interfaces":[]}"#;

async fn authorize(
    client: &FinapiClient,
    op: &AuthOperation,
    credentials: &[LoginValue],
    continuation: Option<&Continuation>,
    answer: AuthAnswer,
) -> Result<AuthReply, kontor_core::KontorError> {
    let psu = Psu { ip_address: Some("192.0.2.1".into()), device_os: "linux".into(), user_agent: "Kontor/test".into() };
    client
        .authorize(AuthCall { operation: op, credentials, store_secrets: false, continuation, answer: &answer }, &psu)
        .await
}

#[tokio::test]
async fn the_510_loop_repeats_the_request_with_the_hash_and_one_answer() {
    let script = Script::start(vec![reply(510, TSP_510), reply(510, TAN_510), reply(201, CONNECTION)]).await;
    let clock = clock();
    let client = client(&script, ApiVersion::V2, &clock);
    let op = import_op();
    let creds = creds();

    let first = authorize(&client, &op, &creds, None, AuthAnswer::None).await.unwrap_or_else(|e| panic!("{e}"));
    let AuthReply::NeedsAnswer { continuation, challenge: ScaChallenge::ChooseProcedure { procedures, .. } } = first
    else {
        panic!("expected a procedure choice, got {first:?}")
    };
    assert_eq!(procedures[0].id, "955");
    let second = authorize(&client, &op, &creds, Some(&continuation), AuthAnswer::Procedure("955".into()))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let AuthReply::NeedsAnswer { continuation, challenge: ScaChallenge::Tan { message, .. } } = second else {
        panic!("expected a TAN, got {second:?}")
    };
    assert_eq!(message.as_deref(), Some("Bitte geben Sie folgenden Code an: 123456"));
    assert_eq!(continuation.procedure_id.as_deref(), Some("955"));
    let third =
        authorize(&client, &op, &creds, Some(&continuation), AuthAnswer::Tan(SecretString::new("123456".into())))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(third, AuthReply::Connected { provider_connection_id: "21".into() });

    let calls = script.calls();
    assert_eq!(calls.len(), 3);
    for call in &calls {
        assert_eq!(call.method, "POST");
        assert_eq!(call.path, "/api/v2/bankConnections/import");
        let body = call.json();
        assert_eq!(body["bankId"], 280001);
        assert_eq!(body["bankingInterface"], "XS2A");
        assert!(body.get("interface").is_none());
        assert_eq!(body["loginCredentials"][1]["label"], "PIN");
        assert_eq!(call.header("psu-ip-address"), Some("192.0.2.1"));
        assert_eq!(call.header("psu-device-os"), Some("linux"));
        assert_eq!(call.header("psu-user-agent"), Some("Kontor/test"));
        assert_eq!(call.header("authorization"), Some("Bearer utok"));
    }
    assert!(calls[0].json().get("multiStepAuthentication").is_none());
    let msa2 = &calls[1].json()["multiStepAuthentication"];
    assert_eq!(msa2["hash"], "h1");
    assert_eq!(msa2["twoStepProcedureId"], "955");
    assert!(msa2.get("challengeResponse").is_none());
    let msa3 = &calls[2].json()["multiStepAuthentication"];
    assert_eq!(msa3["hash"], "h2");
    assert_eq!(msa3["twoStepProcedureId"], "955");
    assert_eq!(msa3["challengeResponse"], "123456");
}

#[tokio::test]
async fn v1_uses_its_paths_and_field_names() {
    let redirect = AuthOperation::Import {
        bank_id: "280002".into(),
        interface: "XS2A".into(),
        ibans: vec!["DE89370400440532013000".into()],
        redirect_url: Some("kontor://sca-callback".into()),
    };
    let script = Script::start(vec![reply(201, CONNECTION)]).await;
    let clock = clock();
    let client = client(&script, ApiVersion::V1, &clock);
    let cont = Continuation { token: "h9".into(), procedure_id: None };
    authorize(&client, &redirect, &[], Some(&cont), AuthAnswer::RedirectCallback("state=abc&code=1".into()))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let seen = script.seen();
    assert_eq!(seen[0].path, "/oauth/token");
    assert!(seen[0].body.contains("grant_type=password") && seen[0].body.contains("username=kontor-user"));
    let call = &script.calls()[0];
    assert_eq!(call.path, "/api/v1/bankConnections/import");
    let body = call.json();
    assert_eq!(body["interface"], "XS2A");
    assert!(body.get("bankingInterface").is_none());
    assert_eq!(body["redirectUrl"], "kontor://sca-callback");
    assert_eq!(body["accountReferences"][0]["iban"], "DE89370400440532013000");
    assert_eq!(body["multiStepAuthentication"]["redirectCallback"], "state=abc&code=1");
    assert!(body.get("loginCredentials").is_none());
}

#[tokio::test]
async fn decoupled_poll_sends_decoupled_callback() {
    let script = Script::start(vec![reply(201, CONNECTION)]).await;
    let clock = clock();
    let client = client(&script, ApiVersion::V2, &clock);
    let update =
        AuthOperation::Update { provider_connection_id: "21".into(), interface: "XS2A".into(), redirect_url: None };
    let cont = Continuation { token: "h5".into(), procedure_id: Some("decoupled".into()) };
    authorize(&client, &update, &[], Some(&cont), AuthAnswer::DecoupledPoll).await.unwrap_or_else(|e| panic!("{e}"));
    let body = script.calls()[0].json();
    assert_eq!(script.calls()[0].path, "/api/v2/bankConnections/update");
    assert_eq!(body["bankConnectionId"], 21);
    assert_eq!(body["multiStepAuthentication"]["decoupledCallback"], true);
    assert_eq!(body["multiStepAuthentication"]["twoStepProcedureId"], "decoupled");
}

#[tokio::test]
async fn bank_rejection_is_credentials_or_tan_by_context() {
    let rejection = r#"{"errors":[{"message":"Die TAN ist falsch","code":"BANK_SERVER_REJECTION","type":"BUSINESS"}]}"#;
    let script = Script::start(vec![reply(422, rejection), reply(422, rejection)]).await;
    let clock = clock();
    let client = client(&script, ApiVersion::V2, &clock);
    let op = import_op();
    let creds = creds();
    let e = authorize(&client, &op, &creds, None, AuthAnswer::None).await.err();
    assert_eq!(e.as_ref().map(|e| e.code), Some(ErrorCode::CredentialsRejected));
    // A 422 after a TAN ends finAPI's flow (its hash is spent): the round is over and a new one is due.
    let cont = Continuation { token: "h".into(), procedure_id: None };
    let reply = authorize(&client, &op, &creds, Some(&cont), AuthAnswer::Tan(SecretString::new("1".into()))).await;
    let Ok(AuthReply::Ended { error, new_round: true }) = reply else { panic!("expected a new round: {reply:?}") };
    assert_eq!(error.code, ErrorCode::TanRejected);
    assert_eq!(error.bank_message.as_deref(), Some("Die TAN ist falsch"));
}

#[tokio::test]
async fn an_update_without_a_stored_login_needs_credentials() {
    let missing = r#"{"errors":[{"message":"Login credentials incomplete, missing: Online-PIN","code":"MISSING_FIELD","type":"BUSINESS"}]}"#;
    let script = Script::start(vec![reply(422, missing), reply(422, missing)]).await;
    let clock = clock();
    let client = client(&script, ApiVersion::V2, &clock);
    let update = AuthOperation::Update {
        provider_connection_id: "21".into(),
        interface: "FINTS_SERVER".into(),
        redirect_url: None,
    };
    let e = authorize(&client, &update, &[], None, AuthAnswer::None).await.err();
    assert_eq!(e.as_ref().map(|e| e.code), Some(ErrorCode::CredentialsRequired));
    assert!(e.and_then(|e| e.bank_message).is_some_and(|m| m.contains("Online-PIN")));
    // With the login sent, MISSING_FIELD is a malformed request, not a question for the user.
    let e = authorize(&client, &update, &creds(), None, AuthAnswer::None).await.err();
    assert_eq!(e.map(|e| e.code), Some(ErrorCode::InvalidInput));
}

#[tokio::test]
async fn store_secrets_is_sent_only_with_the_login() {
    let script = Script::start(vec![reply(201, r#"{"id":5}"#), reply(201, r#"{"id":6}"#)]).await;
    let clock = clock();
    let client = client(&script, ApiVersion::V2, &clock);
    let op = import_op();
    let creds = creds();
    let psu = Psu { ip_address: None, device_os: "linux".into(), user_agent: "Kontor/test".into() };
    let call = AuthCall {
        operation: &op,
        credentials: &creds,
        store_secrets: true,
        continuation: None,
        answer: &AuthAnswer::None,
    };
    client.authorize(call, &psu).await.unwrap_or_else(|e| panic!("{e}"));
    let call = AuthCall {
        operation: &op,
        credentials: &creds,
        store_secrets: false,
        continuation: None,
        answer: &AuthAnswer::None,
    };
    client.authorize(call, &psu).await.unwrap_or_else(|e| panic!("{e}"));
    let calls = script.calls();
    assert_eq!(calls[0].json()["storeSecrets"], true);
    assert!(calls[1].json().get("storeSecrets").is_none());
    assert!(calls.iter().all(|c| c.header("psu-ip-address").is_none()), "an unknown PSU IP is left out");
}

#[test]
fn the_default_psu_ip_is_never_loopback() {
    let psu = Psu::default();
    let ip = psu.ip_address.as_deref().map(str::parse::<std::net::Ipv4Addr>);
    let fine = match ip {
        None => true,
        Some(Ok(ip)) => !ip.is_loopback() && !ip.is_unspecified(),
        Some(Err(_)) => false,
    };
    assert!(fine, "{psu:?}");
}

#[tokio::test]
async fn server_errors_are_retried_for_reads_only() {
    let script = Script::start(vec![reply(500, "{}"), reply(502, "<html>"), reply(200, BANKS)]).await;
    let clock = clock();
    let client = client(&script, ApiVersion::V2, &clock);
    assert!(client.search_banks("x").await.is_ok());
    assert_eq!(script.calls().len(), 3);

    let script = Script::start(vec![reply(500, "{}"), reply(201, CONNECTION)]).await;
    let client2 = self::client(&script, ApiVersion::V2, &clock);
    let e = authorize(&client2, &import_op(), &creds(), None, AuthAnswer::None).await.err();
    assert_eq!(e.map(|e| e.code), Some(ErrorCode::ProviderUnavailable));
    assert_eq!(script.calls().len(), 1, "an import must not be repeated after a 500");

    let script = Script::start(vec![reply(500, "{}"), reply(500, "{}"), reply(500, "{}")]).await;
    let client3 = self::client(&script, ApiVersion::V2, &clock);
    let e = client3.search_banks("x").await.err();
    assert_eq!(e.map(|e| e.code), Some(ErrorCode::ProviderUnavailable));
    assert_eq!(script.calls().len(), 3);
}

#[tokio::test]
async fn rate_limits_honour_retry_after_and_surface_retry_at() {
    let mut soon = reply(429, "{}");
    soon.headers.push(("Retry-After".into(), "0".into()));
    let script = Script::start(vec![soon, reply(200, BANKS)]).await;
    let clock = clock();
    let client = client(&script, ApiVersion::V2, &clock);
    assert!(client.search_banks("x").await.is_ok());
    assert_eq!(script.calls().len(), 2);

    let mut later = reply(429, "{}");
    later.headers.push(("Retry-After".into(), "120".into()));
    let script = Script::start(vec![later]).await;
    let client = self::client(&script, ApiVersion::V2, &clock);
    let e = client.search_banks("x").await.err().unwrap_or_else(|| panic!("expected RateLimited"));
    assert_eq!(e.code, ErrorCode::RateLimited);
    assert_eq!(e.retry_at, Some(clock.now_for_test() + Duration::seconds(120)));
    assert_eq!(script.calls().len(), 1, "a long Retry-After is not waited for");
}

trait NowForTest {
    fn now_for_test(&self) -> chrono::DateTime<Utc>;
}

impl NowForTest for ManualClock {
    fn now_for_test(&self) -> chrono::DateTime<Utc> {
        use kontor_core::clock::Clock;
        self.now()
    }
}

#[tokio::test]
async fn truncated_bodies_and_locks() {
    let script = Script::start(vec![reply(200, r#"{"banks":[{"id":1,"name":"A"#)]).await;
    let clock = clock();
    let client = client(&script, ApiVersion::V2, &clock);
    let e = client.search_banks("x").await.err();
    assert_eq!(e.as_ref().map(|e| e.code), Some(ErrorCode::ProviderResponseInvalid));
    assert!(e.is_some_and(|e| e.message.contains("cut off")));

    let mut cut = reply(200, r#"{"banks":["#);
    cut.cut = true;
    let script = Script::start(vec![cut.clone(), cut.clone(), cut]).await;
    let client = self::client(&script, ApiVersion::V2, &clock);
    let e = client.search_banks("x").await.err();
    assert_eq!(e.map(|e| e.code), Some(ErrorCode::ProviderUnavailable));

    let locked =
        r#"{"errors":[{"message":"Bankverbindung wird gerade aktualisiert","code":"LOCKED","type":"BUSINESS"}]}"#;
    let script = Script::start(vec![reply(423, locked)]).await;
    let client = self::client(&script, ApiVersion::V2, &clock);
    let update =
        AuthOperation::Update { provider_connection_id: "21".into(), interface: "XS2A".into(), redirect_url: None };
    let e = authorize(&client, &update, &[], None, AuthAnswer::None).await.err();
    assert_eq!(e.map(|e| e.code), Some(ErrorCode::ResourceBusy));
}

#[tokio::test]
async fn an_expired_token_is_renewed_once() {
    let invalid = r#"{"error":"invalid_token","error_description":"Invalid access token: tok"}"#;
    let script = Script::start(vec![reply(401, invalid), reply(200, BANKS)]).await;
    let clock = clock();
    let client = client(&script, ApiVersion::V2, &clock);
    assert!(client.search_banks("x").await.is_ok());
    assert_eq!(script.token_calls(), 2);

    let script = Script::start(vec![reply(401, invalid), reply(401, invalid)]).await;
    let client = self::client(&script, ApiVersion::V2, &clock);
    let e = client.search_banks("x").await.err();
    assert_eq!(e.map(|e| e.code), Some(ErrorCode::ProviderAuthFailed));
}

#[tokio::test]
async fn transactions_are_paged_by_500() {
    let page = |n: i64, id: i64| {
        reply(
            200,
            &format!(
                r#"{{"transactions":[{{"id":{id},"accountId":1,"bankBookingDate":"2025-06-0{n}","amount":-{n}.5}}],
                "paging":{{"page":{n},"perPage":500,"pageCount":3,"totalCount":3}}}}"#
            ),
        )
    };
    let pending = reply(
        200,
        r#"{"pendingTransactions":[{"id":10,"accountId":2,"bankBookingDate":"2025-06-14","amount":-9.99,
            "counterpartName":"Kiosk"}],"paging":{"page":1,"perPage":500,"pageCount":1,"totalCount":1}}"#,
    );
    let script = Script::start(vec![page(1, 10), page(2, 11), page(3, 12), pending]).await;
    let clock = clock();
    let client = client(&script, ApiVersion::V2, &clock);
    let ids = vec!["1".to_owned(), "2".to_owned()];
    let rows = client.transactions(&ids, None).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rows.iter().map(|t| t.amount.to_string()).collect::<Vec<_>>(), ["-1.5", "-2.5", "-3.5", "-9.99"]);
    let calls = script.calls();
    assert_eq!(calls.len(), 4);
    assert!(calls[..3].iter().all(|c| c.query.contains("perPage=500") && c.query.contains("view=bankView")));
    assert!(calls[0].query.contains("accountIds=1&accountIds=2"));
    assert!(calls[2].query.contains("page=3"));
    // v2 serves pending rows on their own endpoint; their ids get a prefix so they never meet a booked id.
    assert_eq!(calls[3].path, "/api/v2/pendingTransactions");
    assert!(calls[3].query.contains("accountIds=1&accountIds=2"));
    let pending = &rows[3];
    assert_eq!(
        (pending.provider_id.as_str(), pending.status),
        ("pending:10", kontor_core::domain::BookingStatus::Pending)
    );
    assert_eq!(rows[0].provider_id, "10");
}
