//! Linking and syncing through the `Kontor` facade, end to end over HTTP on 127.0.0.1 against a small
//! stateful finAPI v2 fake (embedded, decoupled and redirect flows; restart; cancel), with a real
//! SQLCipher vault in a temporary directory.
//!
//! The Demo Bank (`kontor-sandbox`) was still being written while these were; once it exports its
//! server, the same journeys should run against it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use kontor_core::api::Kontor;
use kontor_core::api::link::LinkOptions;
use kontor_core::api::link_dto::{FlowUpdate, NewProviderConfig, StartLink};
use kontor_core::domain::ProviderKind;
use kontor_core::provider::LoginValue;
use kontor_core::provider::finapi::RetryPolicy;
use kontor_core::sca::{UserAnswer, UserRequest};
use kontor_core::secret::SecretString;
use kontor_core::vault::{SecretStore, SecretStoreError};
use kontor_core::{ErrorCode, clock};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[derive(Debug, Default)]
struct MemKeyring(Mutex<HashMap<String, String>>);

impl SecretStore for MemKeyring {
    fn get(&self, name: &str) -> Result<Option<SecretString>, SecretStoreError> {
        Ok(self.0.lock().unwrap_or_else(|e| e.into_inner()).get(name).cloned().map(SecretString::new))
    }
    fn set(&self, name: &str, value: &SecretString) -> Result<(), SecretStoreError> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).insert(name.to_owned(), value.expose().clone());
        Ok(())
    }
    fn delete(&self, name: &str) -> Result<(), SecretStoreError> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(name);
        Ok(())
    }
}

/// The fake's memory: requests seen and per-connection progress.
#[derive(Debug, Default)]
struct Bank {
    base: String,
    bodies: Vec<(String, Value)>,
    decoupled_polls: u32,
    connection_reads: u32,
    updates: u32,
}

fn err510(hash: &str, msa: Value, message: &str) -> (u16, Value) {
    let mut msa = msa;
    msa["hash"] = json!(hash);
    (
        510,
        json!({"errors":[{"message": message, "code":"ADDITIONAL_AUTHENTICATION_REQUIRED","type":"BUSINESS","multiStepAuthentication": msa}]}),
    )
}

fn interfaces(id: i64) -> Value {
    if id == 280002 {
        json!([{"bankingInterface":"XS2A","properties":["REDIRECT_APPROACH"],
            "loginCredentials":[{"label":"Onlinebanking-ID","isSecret":false,"isVolatile":false,"isMandatory":true}]}])
    } else {
        json!([{"bankingInterface":"XS2A","properties":["DECOUPLED_APPROACH"],
            "loginCredentials":[{"label":"Onlinebanking-ID","isSecret":false,"isVolatile":false,"isMandatory":true},
                                {"label":"PIN","isSecret":true,"isVolatile":false,"isMandatory":true}]}])
    }
}

fn bank_json(id: i64) -> Value {
    let name = if id == 280002 { "finAPI Test Redirect Bank" } else { "finAPI Test Bank" };
    json!({"id": id, "name": name, "blz": format!("DEMO000{}", id - 280000), "isTestBank": true, "interfaces": interfaces(id)})
}

fn handle(bank: &mut Bank, method: &str, path: &str, query: &str, body: &str) -> (u16, Value) {
    let body: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    bank.bodies.push((path.to_owned(), body.clone()));
    match (method, path) {
        ("POST", "/api/v2/oauth/token") => {
            (200, json!({"access_token":"t","token_type":"bearer","refresh_token":"r","expires_in":3600}))
        }
        ("POST", "/api/v2/users") => (201, json!({"id":"kontor-1","password":body["password"],"email":null})),
        ("GET", "/api/v2/banks") => {
            (200, json!({"banks":[bank_json(280001), bank_json(280002)],"paging":{"page":1,"pageCount":1}}))
        }
        ("GET", p) if p.starts_with("/api/v2/banks/") => {
            let id: i64 = p.trim_start_matches("/api/v2/banks/").parse().unwrap_or(0);
            (200, bank_json(id))
        }
        ("POST", "/api/v2/bankConnections/import") => import(bank, &body),
        ("POST", "/api/v2/bankConnections/update") => {
            bank.updates += 1;
            (200, json!({"id":21,"updateStatus":"IN_PROGRESS"}))
        }
        ("GET", p) if p.starts_with("/api/v2/bankConnections/") => {
            bank.connection_reads += 1;
            let status = if bank.connection_reads % 2 == 1 { "IN_PROGRESS" } else { "READY" };
            (
                200,
                json!({"id":21,"updateStatus":status,"accountIds":[1,2],"bank":bank_json(280001),
                "interfaces":[{"bankingInterface":"XS2A","aisConsent":{"status":"PRESENT","expiresAt":"2025-09-13T10:00:00.000+02:00"},
                  "lastManualUpdate":{"result":"OK","errorMessage":null},"userActionRequired":false}]}),
            )
        }
        ("GET", "/api/v2/accounts") => (
            200,
            json!({"accounts":[
            {"id":1,"bankConnectionId":21,"accountName":"Girokonto","iban":"DE02120300000000202051","accountCurrency":"EUR",
             "accountType":"Checking","balance":"1234.56","availableFunds":"1734.56","interfaces":[{"bankingInterface":"XS2A","status":"UPDATED"}]},
            {"id":2,"bankConnectionId":21,"accountName":"Tagesgeld","iban":"DE12500105170648489890","accountCurrency":"EUR",
             "accountType":"Savings","balance":"-0.1","interfaces":[{"bankingInterface":"XS2A","status":"UPDATED"}]}]}),
        ),
        ("GET", "/api/v2/transactions") => {
            assert!(query.contains("perPage=500"));
            let mut rows = vec![
                json!({"id":100,"accountId":1,"bankBookingDate":"2025-06-01","valueDate":"2025-06-01","amount":"2500","purpose":"Gehalt","counterpartName":"ACME GmbH"}),
                json!({"id":101,"accountId":1,"bankBookingDate":"2025-06-03","amount":"-45.99","purpose":"REWE","counterpartName":"REWE"}),
                json!({"id":102,"accountId":2,"bankBookingDate":"2025-06-05","amount":"100","purpose":"Sparen"}),
            ];
            if bank.updates > 0 {
                rows.push(
                    json!({"id":103,"accountId":1,"bankBookingDate":"2025-06-10","amount":"-12.00","purpose":"Kino"}),
                );
            }
            (200, json!({"transactions": rows, "paging":{"page":1,"perPage":500,"pageCount":1,"totalCount":3}}))
        }
        ("GET", "/api/v2/pendingTransactions") => {
            (200, json!({"pendingTransactions": [], "paging":{"page":1,"perPage":500,"pageCount":1,"totalCount":0}}))
        }
        _ => (404, json!({"errors":[{"message":"nope","code":"UNKNOWN_ENTITY","type":"BUSINESS"}]})),
    }
}

fn import(bank: &mut Bank, body: &Value) -> (u16, Value) {
    let connected = (201, json!({"id":21,"updateStatus":"IN_PROGRESS","accountIds":[1,2]}));
    let msa = &body["multiStepAuthentication"];
    if body["bankId"] == 280002 {
        if msa.is_null() {
            let url = format!("{}/bank/authorize?state=ctx-1", bank.base);
            return err510(
                "r1",
                json!({"status":"REDIRECT_REQUIRED","redirectUrl":url,"redirectContext":"ctx-1","redirectContextField":"state"}),
                "",
            );
        }
        if msa["hash"] == "r1" && msa["redirectCallback"].as_str().is_some_and(|q| q.contains("state=ctx-1")) {
            return connected;
        }
        return (422, json!({"errors":[{"message":"Abgebrochen","code":"BANK_SERVER_REJECTION","type":"BUSINESS"}]}));
    }
    let creds = &body["loginCredentials"];
    if creds[0]["value"] != "demo" || creds[1]["value"] != "demo" {
        return (
            422,
            json!({"errors":[{"message":"Zugangsdaten falsch","code":"BANK_SERVER_REJECTION","type":"BUSINESS"}]}),
        );
    }
    if msa.is_null() {
        return err510(
            "h1",
            json!({"status":"TWO_STEP_PROCEDURE_REQUIRED","twoStepProcedures":[
            {"procedureId":"smsTan","procedureName":"smsTAN","procedureChallengeType":"TEXT","implicitExecute":false},
            {"procedureId":"decoupled","procedureName":"Demo Decoupled Auth","procedureChallengeType":null,"implicitExecute":false}]}),
            "Es muss eine Zwei-Faktor-Authentifizierungsmethode ausgewählt werden",
        );
    }
    match (msa["twoStepProcedureId"].as_str(), msa["hash"].as_str()) {
        (Some("smsTan"), Some("h1")) => err510(
            "h2",
            json!({"status":"CHALLENGE_RESPONSE_REQUIRED","challengeMessage":"Code: 123456","answerFieldLabel":"TAN"}),
            "Code: 123456",
        ),
        (Some("smsTan"), Some("h2")) if msa["challengeResponse"] == "123456" => connected,
        (Some("smsTan"), Some("h2")) => {
            (422, json!({"errors":[{"message":"TAN falsch","code":"BANK_SERVER_REJECTION","type":"BUSINESS"}]}))
        }
        (Some("decoupled"), Some("h1")) => err510(
            "d1",
            json!({"status":"DECOUPLED_AUTH_REQUIRED","challengeMessage":"Bitte in der App bestätigen"}),
            "",
        ),
        (Some("decoupled"), Some("d1")) if msa["decoupledCallback"] == true => {
            bank.decoupled_polls += 1;
            if bank.decoupled_polls < 3 {
                err510("d1", json!({"status":"DECOUPLED_AUTH_IN_PROGRESS"}), "")
            } else {
                connected
            }
        }
        _ => (422, json!({"errors":[{"message":"Kein Vorgang","code":"NO_EXISTING_CHALLENGE","type":"BUSINESS"}]})),
    }
}

async fn start_bank() -> Arc<Mutex<Bank>> {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("bind: {e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let bank = Arc::new(Mutex::new(Bank { base: format!("http://{addr}"), ..Default::default() }));
    let shared = bank.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let shared = shared.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                let (head_end, len) = loop {
                    let Ok(n) = socket.read(&mut chunk).await else { return };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..pos]).to_ascii_lowercase();
                        let len = head
                            .lines()
                            .find_map(|l| {
                                l.strip_prefix("content-length:").and_then(|v| v.trim().parse::<usize>().ok())
                            })
                            .unwrap_or(0);
                        break (pos + 4, len);
                    }
                };
                while buf.len() < head_end + len {
                    let Ok(n) = socket.read(&mut chunk).await else { return };
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let body = String::from_utf8_lossy(&buf[head_end..]).to_string();
                let mut first = head.lines().next().unwrap_or_default().split(' ');
                let method = first.next().unwrap_or_default().to_owned();
                let target = first.next().unwrap_or_default().to_owned();
                let (path, query) = target.split_once('?').unwrap_or((target.as_str(), ""));
                let (status, json) = {
                    let mut bank = shared.lock().unwrap_or_else(|e| e.into_inner());
                    handle(&mut bank, &method, path, query, &body)
                };
                let text = json.to_string();
                let out = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                    text.len()
                );
                let _ = socket.write_all(out.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    bank
}

struct App {
    kontor: Kontor,
    keyring: Arc<MemKeyring>,
    config_id: String,
    _dir: tempfile::TempDir,
}

fn options() -> LinkOptions {
    LinkOptions {
        poll_interval_ms: 0,
        download_poll_interval: StdDuration::from_millis(5),
        retry: RetryPolicy {
            max_attempts: 2,
            base_delay: StdDuration::from_millis(5),
            max_wait: StdDuration::from_secs(1),
        },
        ..LinkOptions::default()
    }
}

fn open(dir: &std::path::Path, keyring: Arc<MemKeyring>) -> Kontor {
    let kontor = Kontor::new(dir, keyring, clock::system());
    let status = kontor.start();
    assert_eq!(status.vault, kontor_core::api::dto::VaultState::Ready, "{status:?}");
    kontor.set_link_options(options());
    kontor
}

async fn app(bank: &Arc<Mutex<Bank>>) -> App {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let keyring = Arc::new(MemKeyring::default());
    let kontor = open(dir.path(), keyring.clone());
    let config_id = add_test_provider(&kontor, bank);
    App { kontor, keyring, config_id, _dir: dir }
}

/// The mock bank as a real (not demo) finAPI provider of `kontor`; returns its configuration id.
fn add_test_provider(kontor: &Kontor, bank: &Arc<Mutex<Bank>>) -> String {
    let base = bank.lock().unwrap_or_else(|e| e.into_inner()).base.clone();
    kontor
        .add_provider_config(NewProviderConfig {
            kind: ProviderKind::Finapi,
            label: "Test".into(),
            base_url: base,
            client_id: "kontor-demo".into(),
            client_secret: SecretString::new("kontor-demo-secret".into()),
            api_version: Some("v2".into()),
            is_demo: false,
        })
        .unwrap_or_else(|e| panic!("{e}"))
        .id
}

fn creds(pin: &str) -> UserAnswer {
    UserAnswer::Credentials {
        values: vec![
            LoginValue { label: "Onlinebanking-ID".into(), value: SecretString::new("demo".into()) },
            LoginValue { label: "PIN".into(), value: SecretString::new(pin.into()) },
        ],
        store_secrets: false,
    }
}

fn flow_id(update: &FlowUpdate) -> String {
    match update {
        FlowUpdate::NeedsInput { flow_id, .. } => flow_id.clone(),
        other => panic!("expected a request, got {other:?}"),
    }
}

async fn must<T>(f: impl std::future::Future<Output = kontor_core::Result<T>>) -> T {
    f.await.unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn embedded_link_then_sync() {
    let bank = start_bank().await;
    let app = app(&bank).await;
    let k = &app.kontor;
    assert!(app.keyring.0.lock().unwrap_or_else(|e| e.into_inner()).values().any(|v| v == "kontor-demo-secret"));

    let hits = must(k.search_banks(&app.config_id, "DEMO0001")).await;
    assert_eq!(hits[0].id, "280001");
    let start = StartLink {
        provider_config_id: app.config_id.clone(),
        bank_id: "280001".into(),
        interface: None,
        callback_url: None,
    };
    let update = must(k.start_link(start)).await;
    let id = flow_id(&update);
    assert!(
        matches!(&update, FlowUpdate::NeedsInput { request: UserRequest::EnterCredentials { fields, .. }, .. } if fields.len() == 2 && fields[1].secret)
    );
    assert_eq!(must(async { k.pending_flows() }).await.len(), 1);

    // An empty PIN is refused and the same request shown again.
    let update = must(k.answer(&id, creds(""))).await;
    assert!(
        matches!(&update, FlowUpdate::NeedsInput { request: UserRequest::EnterCredentials { .. }, error: Some(e), .. } if e.code == ErrorCode::InvalidInput)
    );

    let update = must(k.answer(&id, creds("demo"))).await;
    assert!(
        matches!(&update, FlowUpdate::NeedsInput { request: UserRequest::ChooseProcedure { procedures, .. }, .. } if procedures.len() == 2)
    );
    let update = must(k.answer(&id, UserAnswer::Procedure { id: "smsTan".into() })).await;
    assert!(
        matches!(&update, FlowUpdate::NeedsInput { request: UserRequest::EnterTan { prompt: Some(p), .. }, .. } if p == "Code: 123456")
    );
    let update = must(k.answer(&id, UserAnswer::Tan { tan: SecretString::new("123456".into()) })).await;
    let FlowUpdate::Done { connection, added, updated, .. } = &update else { panic!("expected done, got {update:?}") };
    assert_eq!((*added, *updated), (3, 0));
    assert_eq!(connection.bank_name, "finAPI Test Bank");
    assert!(connection.consent_expires_at.is_some());
    assert!(must(async { k.pending_flows() }).await.is_empty());

    let overview = must(async { k.overview() }).await;
    assert_eq!(overview.accounts.len(), 2);
    let giro = overview.accounts.iter().find(|a| a.name == "Girokonto").unwrap_or_else(|| panic!("no Girokonto"));
    assert_eq!(giro.balance_booked.as_deref(), Some("1234.56"));
    assert_eq!(overview.totals[0].amount, "1234.46");

    // The manual sync: update at the bank, then only the new row is added.
    let update = must(k.sync_connection(&connection.id)).await;
    assert!(matches!(update, FlowUpdate::Done { added: 1, updated: 0, .. }), "{update:?}");
    let journal = must(async { k.with_store(|s| s.sync_journal(10)) }).await;
    assert_eq!(journal.len(), 2);
    assert!(journal.iter().all(|j| j.outcome == "succeeded"));
    assert_eq!(journal[0].added, 1);

    let bodies = bank.lock().unwrap_or_else(|e| e.into_inner()).bodies.clone();
    let update_body = bodies.iter().find(|(p, _)| p.ends_with("/update")).map(|(_, b)| b.clone()).unwrap_or_default();
    assert_eq!(update_body["bankConnectionId"], 21);
    assert_eq!(update_body["bankingInterface"], "XS2A");

    // Nothing secret reached the vault's flow table or sessions.
    let sessions = must(async {
        k.with_store(|s| {
            s.conn()
                .query_row("SELECT group_concat(payload) FROM provider_sessions", [], |r| r.get::<_, Option<String>>(0))
                .map_err(|e| kontor_core::KontorError::internal(e.to_string()))
        })
    })
    .await;
    assert!(sessions.is_some_and(|s| s.contains("kontor-1") && !s.contains("password")));
}

#[tokio::test]
async fn wrong_tan_starts_a_new_round_with_the_banks_text() {
    let bank = start_bank().await;
    let app = app(&bank).await;
    let k = &app.kontor;
    let start = StartLink {
        provider_config_id: app.config_id.clone(),
        bank_id: "280001".into(),
        interface: None,
        callback_url: None,
    };
    let id = flow_id(&must(k.start_link(start)).await);
    must(k.answer(&id, creds("demo"))).await;
    must(k.answer(&id, UserAnswer::Procedure { id: "smsTan".into() })).await;
    let update = must(k.answer(&id, UserAnswer::Tan { tan: SecretString::new("000000".into()) })).await;
    // finAPI's 422 ended its flow: a new import (without the spent hash) asks for the procedure again.
    assert!(
        matches!(&update, FlowUpdate::NeedsInput { request: UserRequest::ChooseProcedure { .. }, error: Some(error), .. } if error.code == ErrorCode::TanRejected && error.bank_message.as_deref() == Some("TAN falsch")),
        "{update:?}"
    );
    assert_eq!(must(async { k.pending_flows() }).await.len(), 1);
    let imports = bank
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .bodies
        .iter()
        .filter(|(p, _)| p.ends_with("/import"))
        .map(|(_, b)| b.clone())
        .collect::<Vec<_>>();
    let last = imports.last().cloned().unwrap_or_default();
    assert!(last.get("multiStepAuthentication").is_none(), "the new round starts without a hash: {last}");
}

#[tokio::test]
async fn decoupled_link_polls_until_approved() {
    let bank = start_bank().await;
    let app = app(&bank).await;
    let k = &app.kontor;
    let start = StartLink {
        provider_config_id: app.config_id.clone(),
        bank_id: "280001".into(),
        interface: None,
        callback_url: None,
    };
    let id = flow_id(&must(k.start_link(start)).await);
    must(k.answer(&id, creds("demo"))).await;
    let update = must(k.answer(&id, UserAnswer::Procedure { id: "decoupled".into() })).await;
    assert!(
        matches!(&update, FlowUpdate::NeedsInput { request: UserRequest::ApproveInApp { message: Some(m) }, .. } if m.contains("App")),
        "{update:?}"
    );
    let update = must(k.answer(&id, UserAnswer::Continue)).await;
    assert!(matches!(update, FlowUpdate::Done { added: 3, .. }), "{update:?}");
    assert_eq!(bank.lock().unwrap_or_else(|e| e.into_inner()).decoupled_polls, 3);
}

#[tokio::test]
async fn redirect_survives_a_restart_and_foreign_callbacks_change_nothing() {
    let bank = start_bank().await;
    let app = app(&bank).await;
    let k = &app.kontor;
    let start = StartLink {
        provider_config_id: app.config_id.clone(),
        bank_id: "280002".into(),
        interface: None,
        callback_url: Some("kontor://sca-callback".into()),
    };
    let update = must(k.start_link(start)).await;
    let id = flow_id(&update);
    let answer = UserAnswer::Credentials {
        values: vec![LoginValue { label: "Onlinebanking-ID".into(), value: SecretString::new("demo".into()) }],
        store_secrets: false,
    };
    let update = must(k.answer(&id, answer)).await;
    assert!(
        matches!(&update, FlowUpdate::NeedsInput { request: UserRequest::OpenBrowser { url }, .. } if url.contains("state=ctx-1")),
        "{update:?}"
    );

    let before = must(async { k.pending_flows() }).await;
    let foreign = k.handle_callback("kontor://sca-callback?state=someone-else&code=1").await.err();
    assert_eq!(foreign.map(|e| e.code), Some(ErrorCode::ScaStateMismatch));
    let garbage = k.handle_callback("not a url").await.err();
    assert_eq!(garbage.map(|e| e.code), Some(ErrorCode::ScaStateMismatch));
    assert_eq!(must(async { k.pending_flows() }).await, before);

    // Restart: close the vault, forget everything in memory, open again.
    must(async { k.close() }).await;
    k.reset_link_runtime();
    let k2 = open(app._dir.path(), app.keyring.clone());
    let pending = must(async { k2.pending_flows() }).await;
    assert_eq!(pending.len(), 1);
    assert!(matches!(&pending[0].request, Some(UserRequest::OpenBrowser { .. })));

    let update = must(k2.handle_callback("kontor://sca-callback?state=ctx-1&code=abc")).await;
    assert!(matches!(update, FlowUpdate::Done { added: 3, .. }), "{update:?}");
    let bodies = bank.lock().unwrap_or_else(|e| e.into_inner()).bodies.clone();
    let last_import =
        bodies.iter().rev().find(|(p, _)| p.ends_with("/import")).map(|(_, b)| b.clone()).unwrap_or_default();
    assert_eq!(last_import["multiStepAuthentication"]["redirectCallback"], "state=ctx-1&code=abc");
    assert_eq!(last_import["multiStepAuthentication"]["hash"], "r1");
    assert_eq!(last_import["redirectUrl"], "kontor://sca-callback");
    assert!(must(async { k2.pending_flows() }).await.is_empty());
}

#[tokio::test]
async fn callbacks_to_any_other_address_are_refused_even_with_the_right_state() {
    let bank = start_bank().await;
    let app = app(&bank).await;
    let k = &app.kontor;
    k.set_link_options(LinkOptions { callback_url: "http://127.0.0.1:45678/callback".into(), ..options() });
    let start = StartLink {
        provider_config_id: app.config_id.clone(),
        bank_id: "280002".into(),
        interface: None,
        callback_url: None,
    };
    let id = flow_id(&must(k.start_link(start)).await);
    let answer = UserAnswer::Credentials {
        values: vec![LoginValue { label: "Onlinebanking-ID".into(), value: SecretString::new("demo".into()) }],
        store_secrets: false,
    };
    let update = must(k.answer(&id, answer)).await;
    assert!(matches!(&update, FlowUpdate::NeedsInput { request: UserRequest::OpenBrowser { .. }, .. }), "{update:?}");
    let before = must(async { k.pending_flows() }).await;
    let calls = bank.lock().unwrap_or_else(|e| e.into_inner()).bodies.len();

    for forged in [
        "javascript:alert(1)//?state=ctx-1&code=abc",
        "file:///etc/passwd?state=ctx-1&code=abc",
        "http://evil.example/callback?state=ctx-1&code=abc",
        "https://evil.example/?state=ctx-1&code=abc",
        "http://127.0.0.1:45679/callback?state=ctx-1&code=abc",
        "http://127.0.0.1:45678/elsewhere?state=ctx-1&code=abc",
        "kontor://evil?state=ctx-1&code=abc",
    ] {
        let error = k.handle_callback(forged).await.err();
        assert!(
            matches!(error.as_ref().map(|e| e.code), Some(ErrorCode::InvalidInput | ErrorCode::ScaStateMismatch)),
            "{forged}: {error:?}"
        );
    }
    assert_eq!(must(async { k.pending_flows() }).await, before);
    assert_eq!(
        bank.lock().unwrap_or_else(|e| e.into_inner()).bodies.len(),
        calls,
        "a forged callback reached the bank"
    );

    let update = must(k.handle_callback("http://127.0.0.1:45678/callback?state=ctx-1&code=abc")).await;
    assert!(matches!(update, FlowUpdate::Done { added: 3, .. }), "{update:?}");
}

/// Two processes on one vault (the app and the CLI, or two CLI commands), each with its own Demo
/// Bank: the second registering its address must not send the first to it.
#[tokio::test]
async fn each_process_on_one_vault_reaches_its_own_demo_bank() {
    let (first_bank, second_bank) = (start_bank().await, start_bank().await);
    let base = |bank: &Arc<Mutex<Bank>>| bank.lock().unwrap_or_else(|e| e.into_inner()).base.clone();
    let requests = |bank: &Arc<Mutex<Bank>>| bank.lock().unwrap_or_else(|e| e.into_inner()).bodies.len();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let keyring = Arc::new(MemKeyring::default());
    let first = open(dir.path(), keyring.clone());
    let config = must(async { first.ensure_demo_provider(&base(&first_bank)) }).await;
    let second = open(dir.path(), keyring.clone());
    let seen_by_second = must(async { second.ensure_demo_provider(&base(&second_bank)) }).await;
    assert_eq!(seen_by_second.id, config.id);
    assert_eq!(seen_by_second.base_url, base(&second_bank));

    let start = StartLink {
        provider_config_id: config.id.clone(),
        bank_id: "280001".into(),
        interface: None,
        callback_url: None,
    };
    let update = must(first.start_link(start)).await;
    assert!(matches!(update, FlowUpdate::NeedsInput { .. }), "{update:?}");
    assert!(requests(&first_bank) > 0, "the first process did not reach its Demo Bank");
    assert_eq!(requests(&second_bank), 0, "the first process reached the second one's Demo Bank");
    let listed = must(async { first.provider_configs() }).await;
    assert_eq!(listed.iter().find(|c| c.id == config.id).map(|c| c.base_url.clone()), Some(base(&first_bank)));
}

#[tokio::test]
async fn a_remote_provider_needs_https() {
    let bank = start_bank().await;
    let app = app(&bank).await;
    let new = |base_url: &str| NewProviderConfig {
        kind: ProviderKind::Finapi,
        label: "Bank".into(),
        base_url: base_url.into(),
        client_id: "id".into(),
        client_secret: SecretString::new("secret".into()),
        api_version: None,
        is_demo: false,
    };
    for refused in
        ["http://bank.example.com", "http://10.0.0.1:8080", "ftp://bank.example.com", "http://127.0.0.1.evil.example"]
    {
        let error = app.kontor.add_provider_config(new(refused)).err();
        assert_eq!(error.map(|e| e.code), Some(ErrorCode::InvalidInput), "{refused}");
    }
    for accepted in [
        "https://bank.example.com",
        "http://127.0.0.1:9000",
        "http://127.1.2.3",
        "http://localhost:8080",
        "http://[::1]:8080",
    ] {
        must(async { app.kontor.add_provider_config(new(accepted)) }).await;
    }
}

#[tokio::test]
async fn a_flow_past_its_deadline_is_not_listed() {
    let bank = start_bank().await;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let clock = Arc::new(clock::ManualClock::new(chrono::Utc::now()));
    let k = Kontor::new(dir.path(), Arc::new(MemKeyring::default()), clock.clone());
    assert_eq!(k.start().vault, kontor_core::api::dto::VaultState::Ready);
    k.set_link_options(LinkOptions { flow_timeout_secs: 600, ..options() });
    let config_id = add_test_provider(&k, &bank);
    let start =
        StartLink { provider_config_id: config_id, bank_id: "280002".into(), interface: None, callback_url: None };
    let id = flow_id(&must(k.start_link(start)).await);
    let answer = UserAnswer::Credentials {
        values: vec![LoginValue { label: "Onlinebanking-ID".into(), value: SecretString::new("demo".into()) }],
        store_secrets: false,
    };
    must(k.answer(&id, answer)).await;
    assert_eq!(must(async { k.pending_flows() }).await.len(), 1);
    clock.advance(chrono::Duration::seconds(601));
    assert_eq!(must(async { k.pending_flows() }).await, Vec::new());
}

#[tokio::test]
async fn cancel_ends_a_flow() {
    let bank = start_bank().await;
    let app = app(&bank).await;
    let k = &app.kontor;
    let start = StartLink {
        provider_config_id: app.config_id.clone(),
        bank_id: "280001".into(),
        interface: None,
        callback_url: None,
    };
    let id = flow_id(&must(k.start_link(start)).await);
    must(k.answer(&id, creds("demo"))).await;
    let update = must(k.cancel(&id)).await;
    assert!(matches!(&update, FlowUpdate::Failed { error, .. } if error.code == ErrorCode::ScaCancelled));
    assert!(must(async { k.pending_flows() }).await.is_empty());
    let again = k.answer(&id, UserAnswer::Procedure { id: "smsTan".into() }).await.err();
    assert_eq!(again.map(|e| e.code), Some(ErrorCode::NotFound));
}
