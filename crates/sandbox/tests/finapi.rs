//! The Demo Bank's finAPI face over real HTTP: tokens, banks, every MSA path, updates, faults.

use std::time::{Duration, Instant};

use kontor_sandbox::{DemoBank, DemoBankConfig, RunningDemoBank};
use serde_json::{Value, json};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A started Demo Bank with a user and a user token.
struct Session {
    bank: RunningDemoBank,
    http: reqwest::Client,
    base: String,
    user_token: String,
}

async fn client_token(http: &reqwest::Client, url: &str, client_id: &str) -> Result<reqwest::Response, reqwest::Error> {
    http.post(url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", "kontor-demo-secret"),
        ])
        .send()
        .await
}

impl Session {
    async fn start(config: DemoBankConfig) -> Result<Self, Box<dyn std::error::Error>> {
        let bank = DemoBank::start(config).await?;
        let base = bank.base_url();
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
        let token: Value =
            client_token(&http, &format!("{base}/api/v2/oauth/token"), "kontor-demo").await?.json().await?;
        let client = token["access_token"].as_str().unwrap_or_default().to_owned();
        let created = http
            .post(format!("{base}/api/v2/users"))
            .bearer_auth(&client)
            .json(&json!({"id": "alice", "password": "alice-secret"}))
            .send()
            .await?;
        assert_eq!(created.status(), 201);
        let user: Value = http
            .post(format!("{base}/api/v2/oauth/token"))
            .form(&[
                ("grant_type", "password"),
                ("client_id", "kontor-demo"),
                ("client_secret", "kontor-demo-secret"),
                ("username", "alice"),
                ("password", "alice-secret"),
            ])
            .send()
            .await?
            .json()
            .await?;
        let user_token = user["access_token"].as_str().unwrap_or_default().to_owned();
        assert!(!user_token.is_empty(), "{user}");
        Ok(Self { bank, http, base, user_token })
    }

    async fn get(&self, path: &str) -> Result<(u16, Value), Box<dyn std::error::Error>> {
        let response = self.http.get(format!("{}{path}", self.base)).bearer_auth(&self.user_token).send().await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::String(text))))
    }

    async fn post(&self, path: &str, body: &Value) -> Result<(u16, Value), Box<dyn std::error::Error>> {
        let response =
            self.http.post(format!("{}{path}", self.base)).bearer_auth(&self.user_token).json(body).send().await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::String(text))))
    }

    async fn import(&self, body: &Value) -> Result<(u16, Value), Box<dyn std::error::Error>> {
        self.post("/api/v2/bankConnections/import", body).await
    }
}

fn msa(body: &Value) -> &Value {
    &body["errors"][0]["multiStepAuthentication"]
}

fn with_answer(body: &Value, answer: Value) -> Value {
    let mut next = body.clone();
    next["multiStepAuthentication"] = answer;
    next
}

fn test_bank_body(login: &str) -> Value {
    json!({
        "bankId": 280001,
        "bankingInterface": "XS2A",
        "loginCredentials": [{"label": "Onlinebanking-ID", "value": login}, {"label": "PIN", "value": login}],
    })
}

/// Imports at 280001 with `demo` and picks `procedure`; returns the request body and the 510 of the next step.
async fn start_with_procedure(
    session: &Session,
    procedure: &str,
) -> Result<(Value, Value), Box<dyn std::error::Error>> {
    let body = test_bank_body("demo");
    let (status, first) = session.import(&body).await?;
    assert_eq!(status, 510, "{first}");
    assert_eq!(msa(&first)["status"], "TWO_STEP_PROCEDURE_REQUIRED");
    let hash = msa(&first)["hash"].as_str().unwrap_or_default().to_owned();
    let (status, second) =
        session.import(&with_answer(&body, json!({"hash": hash, "twoStepProcedureId": procedure}))).await?;
    assert_eq!(status, 510, "{second}");
    Ok((body, second))
}

#[tokio::test]
async fn tokens_banks_and_versions() -> TestResult {
    let session = Session::start(DemoBankConfig::for_tests()).await?;
    let base = &session.base;
    let http = &session.http;

    // The same client gets the same token while it is valid.
    let first: Value = client_token(http, &format!("{base}/api/v2/oauth/token"), "kontor-demo").await?.json().await?;
    let again: Value = client_token(http, &format!("{base}/api/v2/oauth/token"), "kontor-demo").await?.json().await?;
    assert_eq!(first["access_token"], again["access_token"]);
    assert_eq!(first["token_type"], "bearer");
    let bad = http
        .post(format!("{base}/api/v2/oauth/token"))
        .form(&[("grant_type", "client_credentials"), ("client_id", "kontor-demo"), ("client_secret", "nope")])
        .send()
        .await?;
    assert_eq!(bad.status(), 401);
    let bad: Value = bad.json().await?;
    assert_eq!(bad["error"], "invalid_client");

    // Search finds the test bank by BLZ.
    let (status, banks) = session.get("/api/v2/banks?search=DEMO0001&isTestBank=true").await?;
    assert_eq!(status, 200);
    assert_eq!(banks["banks"][0]["id"], 280001);
    let interface = &banks["banks"][0]["interfaces"][0];
    assert_eq!(interface["bankingInterface"], "XS2A");
    assert_eq!(interface["properties"], json!(["DECOUPLED_APPROACH"]));
    assert_eq!(
        interface["loginCredentials"][1],
        json!({"label": "PIN", "isSecret": true, "isVolatile": true, "isMandatory": true})
    );
    let (_, page) = session.get("/api/v2/banks?perPage=5&page=2").await?;
    assert_eq!(page["paging"]["page"], 2);
    assert_eq!(page["banks"].as_array().map(Vec::len), Some(5));
    assert!(page["paging"]["totalCount"].as_u64().unwrap_or(0) > 20);
    let (status, too_big) = session.get("/api/v2/banks?perPage=501").await?;
    assert_eq!(status, 400);
    assert_eq!(too_big["errors"][0]["code"], "ILLEGAL_PAGE_SIZE");
    let (status, missing) = session.get("/api/v2/banks/999").await?;
    assert_eq!((status, missing["errors"][0]["code"].clone()), (404, json!("UNKNOWN_ENTITY")));

    // v1 through the v1 token endpoint: `interface`, and the default client may use both versions.
    let (status, v1) = session.get("/api/v1/banks/280002").await?;
    assert_eq!(status, 200);
    assert_eq!(v1["interfaces"][0]["interface"], "XS2A");
    assert!(v1["interfaces"][0].get("bankingInterface").is_none());

    // A client bound to v2 gets 403 on v1, both at the token endpoint and with its token.
    let mismatch = client_token(http, &format!("{base}/oauth/token"), "kontor-demo-v2").await?;
    assert_eq!(mismatch.status(), 403);
    let v2_only: Value =
        client_token(http, &format!("{base}/api/v2/oauth/token"), "kontor-demo-v2").await?.json().await?;
    let refused = http
        .get(format!("{base}/api/v1/banks"))
        .bearer_auth(v2_only["access_token"].as_str().unwrap_or_default())
        .send()
        .await?;
    assert_eq!(refused.status(), 403);
    let refused: Value = refused.json().await?;
    assert_eq!(refused["errors"][0]["message"], "API Version mismatch");

    // No token, bad token.
    let anonymous = http.get(format!("{base}/api/v2/banks")).send().await?;
    assert_eq!(anonymous.status(), 401);
    let anonymous: Value = anonymous.json().await?;
    assert_eq!(anonymous["error"], "invalid_token");
    session.bank.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn tokens_expire_and_refresh() -> TestResult {
    let config = DemoBankConfig { user_token_lifetime: Duration::from_millis(300), ..DemoBankConfig::for_tests() };
    let session = Session::start(config).await?;
    let (status, _) = session.get("/api/v2/users").await?;
    assert_eq!(status, 200);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let (status, body) = session.get("/api/v2/users").await?;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"], "invalid_token");
    Ok(())
}

#[tokio::test]
async fn import_without_sca_and_read_data() -> TestResult {
    let config = DemoBankConfig { download_in_progress_reads: 1, ..DemoBankConfig::for_tests() };
    let session = Session::start(config).await?;
    let (status, connection) = session.import(&test_bank_body("demo_no_msa")).await?;
    assert_eq!(status, 201, "{connection}");
    assert_eq!(connection["updateStatus"], "IN_PROGRESS");
    let id = connection["id"].as_u64().unwrap_or_default();
    let (_, polled) = session.get(&format!("/api/v2/bankConnections/{id}")).await?;
    assert_eq!(polled["updateStatus"], "IN_PROGRESS");
    let (_, ready) = session.get(&format!("/api/v2/bankConnections/{id}")).await?;
    assert_eq!(ready["updateStatus"], "READY");
    assert_eq!(ready["interfaces"][0]["lastManualUpdate"]["result"], "OK");
    assert_eq!(ready["interfaces"][0]["loginCredentials"][1]["value"], Value::Null);

    let (_, accounts) = session.get("/api/v2/accounts").await?;
    let accounts = accounts["accounts"].as_array().cloned().unwrap_or_default();
    assert_eq!(accounts.len(), 3);
    let types: Vec<&str> = accounts.iter().filter_map(|a| a["accountType"].as_str()).collect();
    assert_eq!(types, ["Checking", "Checking", "Savings"]);
    assert_eq!(accounts[0]["interfaces"][0]["status"], "UPDATED");

    // Amounts are JSON numbers with exactly two decimals.
    let raw = session
        .http
        .get(format!("{}/api/v2/transactions?view=bankView&perPage=500", session.base))
        .bearer_auth(&session.user_token)
        .send()
        .await?
        .text()
        .await?;
    assert!(raw.contains("\"amount\":-"), "amounts must be numbers");
    let page: Value = serde_json::from_str(&raw)?;
    let total = page["paging"]["totalCount"].as_u64().unwrap_or(0);
    assert!(total > 150, "{total}");
    let first = &page["transactions"][0];
    assert!(first["bankBookingDate"].as_str().is_some_and(|d| d.len() == 10));
    assert!(first["importDate"].as_str().is_some_and(|d| d.contains('T') && d.contains('+')));
    let purposes: Vec<&str> =
        page["transactions"].as_array().into_iter().flatten().filter_map(|t| t["purpose"].as_str()).collect();
    assert!(purposes.iter().any(|p| p.starts_with("Gehalt")));
    assert!(purposes.iter().any(|p| p.starts_with("Miete")));
    assert!(purposes.iter().any(|p| p.contains("REWE") || p.contains("EDEKA") || p.contains("ALDI")));
    for amount in ["\"amount\":", "\"income\":", "\"balance\":"] {
        let after = raw.split(amount).nth(1).unwrap_or_default();
        let number: String = after.chars().take_while(|c| c.is_ascii_digit() || *c == '.' || *c == '-').collect();
        assert_eq!(number.split('.').nth(1).map(str::len), Some(2), "{amount}{number}");
    }

    // The income/spending sums cover all pages; the second page follows the first.
    let (_, second) = session.get("/api/v2/transactions?view=bankView&perPage=10&page=2").await?;
    assert_eq!(
        second["paging"],
        json!({"page": 2, "perPage": 10, "pageCount": total.div_ceil(10), "totalCount": total})
    );
    assert_eq!(second["transactions"][0]["id"], page["transactions"][10]["id"]);
    assert_eq!(second["income"], page["income"]);
    let (_, filtered) =
        session.get("/api/v2/transactions?view=bankView&search=gehalt&order=bankBookingDate,desc").await?;
    assert!(filtered["paging"]["totalCount"].as_u64().unwrap_or(0) >= 5);
    let (status, _) = session.get("/api/v2/transactions").await?;
    assert_eq!(status, 400, "view is required");

    // Pending rows (v2 only) and v1 formats.
    let (_, pending) = session.get("/api/v2/pendingTransactions").await?;
    assert_eq!(pending["pendingTransactions"].as_array().map(Vec::len), Some(3));
    let (_, v1) = session.get("/api/v1/transactions?view=bankView&perPage=1").await?;
    assert!(v1["transactions"][0]["bankBookingDate"].as_str().is_some_and(|d| d.ends_with(" 00:00:00.000")));
    let (status, _) = session.get("/api/v1/pendingTransactions").await?;
    assert_eq!(status, 404);

    // Duplicate import.
    let (status, duplicate) = session.import(&test_bank_body("demo_no_msa")).await?;
    assert_eq!((status, duplicate["errors"][0]["code"].clone()), (422, json!("ENTITY_EXISTS")));
    Ok(())
}

#[tokio::test]
async fn update_adds_bookings_and_books_a_pending_one() -> TestResult {
    let session = Session::start(DemoBankConfig::for_tests()).await?;
    let (_, connection) = session.import(&test_bank_body("demo_no_msa")).await?;
    let id = connection["id"].as_u64().unwrap_or_default();
    let (_, before) = session.get("/api/v2/transactions?view=bankView&perPage=1").await?;
    let (_, pending_before) = session.get("/api/v2/pendingTransactions").await?;
    let (_, accounts_before) = session.get("/api/v2/accounts").await?;
    let (status, updated) = session
        .post("/api/v2/bankConnections/update", &json!({"bankConnectionId": id, "bankingInterface": "XS2A"}))
        .await?;
    assert_eq!(status, 200, "{updated}");
    let (_, after) = session.get("/api/v2/transactions?view=bankView&perPage=1").await?;
    let (_, pending_after) = session.get("/api/v2/pendingTransactions").await?;
    let grown =
        after["paging"]["totalCount"].as_u64().unwrap_or(0) - before["paging"]["totalCount"].as_u64().unwrap_or(0);
    assert_eq!(grown, 3, "one pending booked plus two new bookings");
    let booked_purpose = pending_before["pendingTransactions"][0]["purpose"].clone();
    assert!(
        pending_after["pendingTransactions"].as_array().into_iter().flatten().all(|p| p["purpose"] != booked_purpose)
    );
    let (_, search) = session
        .get(&format!(
            "/api/v2/transactions?view=bankView&purpose={}",
            booked_purpose.as_str().unwrap_or_default().split(' ').next().unwrap_or_default()
        ))
        .await?;
    assert!(search["paging"]["totalCount"].as_u64().unwrap_or(0) > 0);
    let (_, accounts_after) = session.get("/api/v2/accounts").await?;
    assert_ne!(accounts_before["accounts"][0]["balance"], accounts_after["accounts"][0]["balance"]);

    // A download runs on the bank's side: an update while it runs is LOCKED, but a client that never
    // reads the connection again (killed mid-sync) does not keep it locked beyond `download_lasts`.
    let slow = Session::start(DemoBankConfig {
        download_in_progress_reads: 1,
        download_lasts: std::time::Duration::from_millis(300),
        ..DemoBankConfig::for_tests()
    })
    .await?;
    let (_, slow_connection) = slow.import(&test_bank_body("demo_no_msa")).await?;
    let slow_update = json!({"bankConnectionId": slow_connection["id"], "bankingInterface": "XS2A"});
    let (status, busy) = slow.post("/api/v2/bankConnections/update", &slow_update).await?;
    assert_eq!((status, busy["errors"][0]["code"].clone()), (423, json!("LOCKED")), "{busy}");
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let (status, done) = slow.post("/api/v2/bankConnections/update", &slow_update).await?;
    assert_eq!(status, 200, "the download ended on its own: {done}");

    // Fault: the next update is locked.
    session.bank.faults().lock_next_updates(1);
    let (status, locked) = session
        .post("/api/v2/bankConnections/update", &json!({"bankConnectionId": id, "bankingInterface": "XS2A"}))
        .await?;
    assert_eq!((status, locked["errors"][0]["code"].clone()), (423, json!("LOCKED")));
    Ok(())
}

#[tokio::test]
async fn embedded_sms_tan_with_stale_hash_and_wrong_tan() -> TestResult {
    let session = Session::start(DemoBankConfig::for_tests()).await?;
    let body = test_bank_body("demo");
    let (status, first) = session.import(&body).await?;
    assert_eq!(status, 510);
    assert_eq!(first["errors"][0]["code"], "ADDITIONAL_AUTHENTICATION_REQUIRED");
    let procedures = msa(&first)["twoStepProcedures"].as_array().cloned().unwrap_or_default();
    assert_eq!(procedures.len(), 5);
    let first_hash = msa(&first)["hash"].as_str().unwrap_or_default().to_owned();
    let (status, challenge) =
        session.import(&with_answer(&body, json!({"hash": first_hash, "twoStepProcedureId": "DEMO-TSP-01"}))).await?;
    assert_eq!(status, 510);
    assert_eq!(msa(&challenge)["status"], "CHALLENGE_RESPONSE_REQUIRED");
    assert_eq!(msa(&challenge)["answerFieldLabel"], "TAN");
    assert_eq!(msa(&challenge)["opticalDataAsReinerSct"], false);
    let hash = msa(&challenge)["hash"].as_str().unwrap_or_default().to_owned();
    assert_ne!(hash, first_hash);

    let (status, stale) =
        session.import(&with_answer(&body, json!({"hash": first_hash, "challengeResponse": "123456"}))).await?;
    assert_eq!((status, stale["errors"][0]["code"].clone()), (422, json!("NO_EXISTING_CHALLENGE")));
    let (status, wrong) =
        session.import(&with_answer(&body, json!({"hash": hash, "challengeResponse": "000000"}))).await?;
    assert_eq!((status, wrong["errors"][0]["code"].clone()), (422, json!("BANK_SERVER_REJECTION")));
    assert!(wrong["errors"][0]["message"].as_str().is_some_and(|m| m.contains("TAN")));
    assert!(wrong["errors"][0].get("multiStepAuthentication").is_none_or(Value::is_null), "a 422 carries no hash");
    assert_eq!(session.bank.spent_hashes_resent(), 0);

    // finAPI: a 422 ends the flow and spends its hash. Re-posting it, even with the right TAN, is refused
    // and counted; the client has to start a new flow.
    let (status, spent) =
        session.import(&with_answer(&body, json!({"hash": hash, "challengeResponse": "123456"}))).await?;
    assert_eq!((status, spent["errors"][0]["code"].clone()), (422, json!("NO_EXISTING_CHALLENGE")), "{spent}");
    assert_eq!(session.bank.spent_hashes_resent(), 1);
    let (status, again) = session.import(&body).await?;
    assert_eq!(status, 510, "{again}");
    let again_hash = msa(&again)["hash"].as_str().unwrap_or_default().to_owned();
    let (status, challenge) =
        session.import(&with_answer(&body, json!({"hash": again_hash, "twoStepProcedureId": "DEMO-TSP-01"}))).await?;
    assert_eq!(status, 510);
    let hash = msa(&challenge)["hash"].as_str().unwrap_or_default().to_owned();
    let (status, done) =
        session.import(&with_answer(&body, json!({"hash": hash, "challengeResponse": "123456"}))).await?;
    assert_eq!(status, 201, "{done}");
    assert_eq!(done["interfaces"][0]["defaultTwoStepProcedureId"], "DEMO-TSP-01");
    assert_eq!(session.bank.spent_hashes_resent(), 1);

    // A missing answer is a 422 too: it spends the hash.
    let fresh = Session::start(DemoBankConfig::for_tests()).await?;
    let (_, other) = fresh.import(&body).await?;
    let other_hash = msa(&other)["hash"].clone();
    let (status, missing) = fresh.import(&with_answer(&body, json!({"hash": other_hash}))).await?;
    assert_eq!((status, missing["errors"][0]["code"].clone()), (422, json!("MISSING_TWO_STEP_PROCEDURE")));
    let (status, _) =
        fresh.import(&with_answer(&body, json!({"hash": other_hash, "twoStepProcedureId": "DEMO-TSP-01"}))).await?;
    assert_eq!(status, 422);
    assert_eq!(fresh.bank.spent_hashes_resent(), 1);

    // Wrong login.
    let (status, rejected) = session.import(&test_bank_body("mallory")).await?;
    assert_eq!((status, rejected["errors"][0]["code"].clone()), (422, json!("BANK_SERVER_REJECTION")));
    assert_eq!(rejected["errors"][0]["type"], "BUSINESS");
    assert!(rejected["bank"].as_str().is_some_and(|b| b.starts_with("DEMO0001 - finAPI Test Bank")));
    Ok(())
}

#[tokio::test]
async fn chiptan_flicker_and_qr_challenges_are_real() -> TestResult {
    let session = Session::start(DemoBankConfig::for_tests()).await?;
    let (_, flicker) = start_with_procedure(&session, "DEMO-TSP-03").await?;
    let optical = msa(&flicker)["opticalData"].as_str().unwrap_or_default().to_owned();
    let decoded = kontor_core::tan::decode_rendered(&optical)?;
    assert_eq!(decoded.render_hex, optical);

    let (body, photo) = start_with_procedure(&session, "DEMO-TSP-04").await?;
    assert_eq!(msa(&photo)["photoTanMimeType"], "image/png");
    let image = kontor_core::tan::decode_photo_base64(
        msa(&photo)["photoTanData"].as_str().unwrap_or_default(),
        Some("image/png"),
    )?;
    assert_eq!(image.mime_type, "image/png");
    let hash = msa(&photo)["hash"].clone();
    let (status, _) = session.import(&with_answer(&body, json!({"hash": hash, "challengeResponse": "123456"}))).await?;
    assert_eq!(status, 201);
    Ok(())
}

#[tokio::test]
async fn decoupled_polls_until_approved() -> TestResult {
    let session = Session::start(DemoBankConfig::for_tests()).await?;
    let (body, mut current) = start_with_procedure(&session, "DEMO-TSP-05").await?;
    assert_eq!(msa(&current)["status"], "DECOUPLED_AUTH_REQUIRED");
    let mut statuses = Vec::new();
    loop {
        let hash = msa(&current)["hash"].clone();
        let (status, next) =
            session.import(&with_answer(&body, json!({"hash": hash, "decoupledCallback": true}))).await?;
        if status == 201 {
            break;
        }
        assert_eq!(status, 510, "{next}");
        statuses.push(msa(&next)["status"].as_str().unwrap_or_default().to_owned());
        current = next;
    }
    assert_eq!(statuses, ["DECOUPLED_AUTH_IN_PROGRESS", "DECOUPLED_AUTH_IN_PROGRESS"]);

    // The decoupled-only bank skips the procedure choice.
    let body = json!({
        "bankId": 280004,
        "bankingInterface": "XS2A",
        "loginCredentials": [{"label": "Onlinebanking-ID", "value": "demo"}, {"label": "PIN", "value": "demo"}],
    });
    let (status, first) = session.import(&body).await?;
    assert_eq!((status, msa(&first)["status"].clone()), (510, json!("DECOUPLED_AUTH_REQUIRED")));
    Ok(())
}

#[tokio::test]
async fn decoupled_polls_too_fast_are_refused() -> TestResult {
    let config = DemoBankConfig { decoupled_min_poll_interval: Duration::from_secs(30), ..DemoBankConfig::for_tests() };
    let session = Session::start(config).await?;
    let (body, required) = start_with_procedure(&session, "DEMO-TSP-05").await?;
    let hash = msa(&required)["hash"].clone();
    let response = session
        .http
        .post(format!("{}/api/v2/bankConnections/import", session.base))
        .bearer_auth(&session.user_token)
        .json(&with_answer(&body, json!({"hash": hash, "decoupledCallback": true})))
        .send()
        .await?;
    assert_eq!(response.status(), 429);
    let retry_after: u64 = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or_default();
    assert!((29..=30).contains(&retry_after), "{retry_after}");
    Ok(())
}

#[tokio::test]
async fn redirect_approve_and_cancel() -> TestResult {
    let session = Session::start(DemoBankConfig::for_tests()).await?;
    for approve in [true, false] {
        let body = json!({
            "bankId": 280002,
            "bankingInterface": "XS2A",
            "redirectUrl": "http://127.0.0.1:9/callback?flow=abc",
            "loginCredentials": [{"label": "Onlinebanking-ID", "value": "demo"}],
        });
        if !approve {
            // The first import succeeded; a second one for the same login would be a duplicate.
            let (_, connections) = session.get("/api/v2/bankConnections").await?;
            let id = connections["connections"][0]["id"].as_u64().unwrap_or_default();
            let deleted = session
                .http
                .delete(format!("{}/api/v2/bankConnections/{id}", session.base))
                .bearer_auth(&session.user_token)
                .send()
                .await?;
            assert_eq!(deleted.status(), 200);
        }
        let (status, redirect) = session.import(&body).await?;
        assert_eq!(status, 510, "{redirect}");
        let challenge = msa(&redirect).clone();
        assert_eq!(challenge["status"], "REDIRECT_REQUIRED");
        assert_eq!(challenge["redirectContextField"], "state");
        let page_url = challenge["redirectUrl"].as_str().unwrap_or_default();
        let page = session.http.get(page_url).send().await?;
        assert_eq!(page.status(), 200);
        assert!(page.text().await?.contains("Freigeben"));
        let click = format!("{page_url}/{}", if approve { "approve" } else { "cancel" });
        let back = session.http.get(click).send().await?;
        assert_eq!(back.status(), 303);
        let location = back.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        assert!(location.starts_with("http://127.0.0.1:9/callback?flow=abc&state="), "{location}");
        let query = location.split_once('?').map(|(_, q)| q.to_owned()).unwrap_or_default();
        let answer = json!({"hash": challenge["hash"], "redirectCallback": query});
        let (status, done) = session.import(&with_answer(&body, answer)).await?;
        if approve {
            assert_eq!(status, 201, "{done}");
        } else {
            assert_eq!((status, done["errors"][0]["code"].clone()), (422, json!("BANK_SERVER_REJECTION")));
        }
    }
    // A missing redirectUrl is refused.
    let (status, missing) = session
        .import(&json!({"bankId": 280002, "bankingInterface": "XS2A", "loginCredentials": [{"label": "Onlinebanking-ID", "value": "demo"}]}))
        .await?;
    assert_eq!((status, missing["errors"][0]["code"].clone()), (422, json!("ILLEGAL_FIELD_VALUE")));
    Ok(())
}

#[tokio::test]
async fn detailed_consent_imports_only_the_chosen_accounts() -> TestResult {
    let config = DemoBankConfig::for_tests();
    let seed = config.seed;
    let session = Session::start(config).await?;
    let mut body = json!({
        "bankId": 280003,
        "bankingInterface": "XS2A",
        "loginCredentials": [{"label": "Onlinebanking-ID", "value": "demo"}, {"label": "PIN", "value": "demo"}],
    });
    let (status, missing) = session.import(&body).await?;
    assert_eq!((status, missing["errors"][0]["code"].clone()), (422, json!("ILLEGAL_FIELD_VALUE")));
    let (_, bank) = session.get("/api/v2/banks/280003").await?;
    let ibans = kontor_sandbox::finapi::banks::catalog(seed)
        .get(280003)
        .map(|b| kontor_sandbox::data::generate_login_ibans(seed, &b.identity(), "demo"))
        .unwrap_or_default();
    let hint = bank["interfaces"][0]["loginHint"].as_str().unwrap_or_default();
    assert!(ibans.iter().all(|iban| hint.contains(iban)), "{hint}");
    body["accountReferences"] = json!([{"iban": ibans[2]}]);
    let (status, challenge) = session.import(&body).await?;
    assert_eq!((status, msa(&challenge)["status"].clone()), (510, json!("CHALLENGE_RESPONSE_REQUIRED")));
    let (status, done) = session
        .import(&with_answer(&body, json!({"hash": msa(&challenge)["hash"], "challengeResponse": "123456"})))
        .await?;
    assert_eq!(status, 201, "{done}");
    assert_eq!(done["accountIds"].as_array().map(Vec::len), Some(1));
    let (_, accounts) = session.get("/api/v2/accounts").await?;
    assert_eq!(accounts["accounts"][0]["iban"], json!(ibans[2]));
    assert_eq!(accounts["accounts"][0]["accountType"], "Savings");
    Ok(())
}

#[tokio::test]
async fn faults_over_the_library_and_the_control_endpoint() -> TestResult {
    let session = Session::start(DemoBankConfig::for_tests()).await?;
    let faults = session.bank.faults();

    faults.fail_next(1, 503);
    let (status, body) = session.get("/api/v2/banks").await?;
    assert_eq!((status, body["errors"][0]["code"].clone()), (503, json!("UNEXPECTED_ERROR")));
    let (status, _) = session.get("/api/v2/banks").await?;
    assert_eq!(status, 200);

    faults.truncate_next(1);
    let response =
        session.http.get(format!("{}/api/v2/banks", session.base)).bearer_auth(&session.user_token).send().await?;
    assert_eq!(response.status(), 200);
    let text = response.text().await?;
    assert!(serde_json::from_str::<Value>(&text).is_err());

    faults.delay_next(1, Duration::from_millis(300));
    let started = Instant::now();
    let (status, _) = session.get("/api/v2/banks").await?;
    assert_eq!(status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));

    // The control endpoint, as an out-of-process client would use it.
    let plan: Value = session
        .http
        .post(format!("{}/__demo/faults", session.base))
        .json(&json!({"rateLimited": 1, "retryAfterSeconds": 7}))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(plan["rateLimited"], 1);
    let limited = session
        .http
        .get(format!("{}/api/v2/banks", session.base))
        .bearer_auth(&session.user_token)
        .header("X-Request-Id", "req-42")
        .send()
        .await?;
    assert_eq!(limited.status(), 429);
    assert_eq!(limited.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("7"));
    assert_eq!(limited.headers().get("x-request-id").and_then(|v| v.to_str().ok()), Some("req-42"));
    let limited: Value = limited.json().await?;
    assert_eq!(limited["requestId"], "req-42");
    let cleared: Value = session.http.delete(format!("{}/__demo/faults", session.base)).send().await?.json().await?;
    assert_eq!(cleared["rateLimited"], 0);
    Ok(())
}

#[tokio::test]
async fn bulk_transactions_are_generated_lazily() -> TestResult {
    let config = DemoBankConfig { bulk_transactions_per_account: 200_000, ..DemoBankConfig::for_tests() };
    let session = Session::start(config).await?;
    let (status, _) = session.import(&test_bank_body("demo_no_msa")).await?;
    assert_eq!(status, 201);
    let started = Instant::now();
    let (_, page) = session.get("/api/v2/transactions?view=bankView&perPage=500&page=1000").await?;
    assert!(page["paging"]["totalCount"].as_u64().unwrap_or(0) > 600_000);
    assert_eq!(page["transactions"].as_array().map(Vec::len), Some(500));
    assert!(started.elapsed() < Duration::from_secs(2));
    Ok(())
}

/// finapi.md §3.1/§3.3: finAPI keeps the PIN only when the import sent `storeSecrets: true`, and the
/// `loginCredentials` of an update are merged with the stored values. A FinTS update (the bank logs in
/// every time) without a stored or sent PIN is 422 `MISSING_FIELD`.
#[tokio::test]
async fn update_needs_the_login_unless_secrets_were_stored() -> TestResult {
    let session = Session::start(DemoBankConfig::for_tests()).await?;
    let mut body = test_bank_body("demo_no_msa");
    body["bankingInterface"] = json!("FINTS_SERVER");
    let (status, connection) = session.import(&body).await?;
    assert_eq!(status, 201, "{connection}");
    let pin = connection["interfaces"][0]["loginCredentials"]
        .as_array()
        .and_then(|fields| fields.iter().find(|f| f["label"] == "PIN"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(pin["value"], Value::Null, "no storeSecrets: the PIN is not kept: {connection}");
    let id = connection["id"].clone();
    let update = json!({"bankConnectionId": id, "bankingInterface": "FINTS_SERVER"});
    let (status, missing) = session.post("/api/v2/bankConnections/update", &update).await?;
    assert_eq!((status, missing["errors"][0]["code"].clone()), (422, json!("MISSING_FIELD")), "{missing}");
    assert!(missing["errors"][0]["message"].as_str().is_some_and(|m| m.contains("Login credentials incomplete")));

    // The PIN alone is merged with the stored Onlinebanking-ID; a wrong one is the bank's refusal.
    let wrong = json!({"bankConnectionId": id, "bankingInterface": "FINTS_SERVER",
        "loginCredentials": [{"label": "PIN", "value": "nope"}]});
    let (status, refused) = session.post("/api/v2/bankConnections/update", &wrong).await?;
    assert_eq!((status, refused["errors"][0]["code"].clone()), (422, json!("BANK_SERVER_REJECTION")));
    let with_pin = json!({"bankConnectionId": id, "bankingInterface": "FINTS_SERVER", "storeSecrets": true,
        "loginCredentials": [{"label": "PIN", "value": "demo_no_msa"}]});
    let (status, updated) = session.post("/api/v2/bankConnections/update", &with_pin).await?;
    assert_eq!(status, 200, "{updated}");
    let stored = updated["interfaces"][0]["loginCredentials"]
        .as_array()
        .and_then(|fields| fields.iter().find(|f| f["label"] == "PIN"))
        .map(|f| f["value"].clone());
    assert_eq!(stored, Some(json!("XXXXX")), "storeSecrets on the update keeps the PIN");
    let (status, again) = session.post("/api/v2/bankConnections/update", &update).await?;
    assert_eq!(status, 200, "the stored PIN is used: {again}");

    // Imported with storeSecrets: true, updates need nothing.
    let mut stored_body = test_bank_body("demo");
    stored_body["bankingInterface"] = json!("FINTS_SERVER");
    stored_body["storeSecrets"] = json!(true);
    let other = Session::start(DemoBankConfig::for_tests()).await?;
    let (status, first) = other.import(&stored_body).await?;
    assert_eq!(status, 510);
    let (_, challenge) = other
        .import(&with_answer(&stored_body, json!({"hash": msa(&first)["hash"], "twoStepProcedureId": "DEMO-TSP-01"})))
        .await?;
    let (status, linked) = other
        .import(&with_answer(&stored_body, json!({"hash": msa(&challenge)["hash"], "challengeResponse": "123456"})))
        .await?;
    assert_eq!(status, 201, "{linked}");
    let (status, updated) = other
        .post(
            "/api/v2/bankConnections/update",
            &json!({"bankConnectionId": linked["id"], "bankingInterface": "FINTS_SERVER"}),
        )
        .await?;
    assert_eq!(status, 200, "{updated}");
    Ok(())
}

/// finapi.md §3.3 and §9: an update after the consent's end is 422 `INVALID_CONSENT`; retrying requests a
/// new consent (login and SCA), after which updates run again.
#[tokio::test]
async fn expired_consent_is_refused_then_renewed() -> TestResult {
    let session =
        Session::start(DemoBankConfig { consent_lifetime: Duration::from_millis(1500), ..DemoBankConfig::for_tests() })
            .await?;
    let body = test_bank_body("demo");
    let (_, first) = session.import(&body).await?;
    let (_, challenge) = session
        .import(&with_answer(&body, json!({"hash": msa(&first)["hash"], "twoStepProcedureId": "DEMO-TSP-01"})))
        .await?;
    let (status, linked) = session
        .import(&with_answer(&body, json!({"hash": msa(&challenge)["hash"], "challengeResponse": "123456"})))
        .await?;
    assert_eq!(status, 201, "{linked}");
    let update = json!({"bankConnectionId": linked["id"], "bankingInterface": "XS2A"});
    let (status, fresh) = session.post("/api/v2/bankConnections/update", &update).await?;
    assert_eq!(status, 200, "within the consent: {fresh}");
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let (status, expired) = session.post("/api/v2/bankConnections/update", &update).await?;
    assert_eq!((status, expired["errors"][0]["code"].clone()), (422, json!("INVALID_CONSENT")), "{expired}");

    // The retry asks for a new consent: the (volatile, never stored) PIN and SCA.
    let (status, missing) = session.post("/api/v2/bankConnections/update", &update).await?;
    assert_eq!((status, missing["errors"][0]["code"].clone()), (422, json!("MISSING_FIELD")), "{missing}");
    let renew = json!({"bankConnectionId": linked["id"], "bankingInterface": "XS2A",
        "loginCredentials": [{"label": "PIN", "value": "demo"}]});
    let (status, procedures) = session.post("/api/v2/bankConnections/update", &renew).await?;
    assert_eq!(status, 510, "{procedures}");
    let (_, tan) = session
        .post(
            "/api/v2/bankConnections/update",
            &with_answer(&renew, json!({"hash": msa(&procedures)["hash"], "twoStepProcedureId": "DEMO-TSP-01"})),
        )
        .await?;
    let (status, renewed) = session
        .post(
            "/api/v2/bankConnections/update",
            &with_answer(&renew, json!({"hash": msa(&tan)["hash"], "challengeResponse": "123456"})),
        )
        .await?;
    assert_eq!(status, 200, "{renewed}");
    let (status, after) = session.post("/api/v2/bankConnections/update", &update).await?;
    assert_eq!(status, 200, "the renewed consent runs again: {after}");
    Ok(())
}

/// `PSU-IP-Address` names the user's address; a loopback address is refused, a missing header is fine.
#[tokio::test]
async fn loopback_psu_ip_is_refused() -> TestResult {
    let session = Session::start(DemoBankConfig::for_tests()).await?;
    for ip in ["127.0.0.1", "::1", "0.0.0.0"] {
        let response = session
            .http
            .post(format!("{}/api/v2/bankConnections/import", session.base))
            .bearer_auth(&session.user_token)
            .header("PSU-IP-Address", ip)
            .json(&test_bank_body("demo_no_msa"))
            .send()
            .await?;
        let status = response.status().as_u16();
        let body: Value = response.json().await?;
        assert_eq!((status, body["errors"][0]["code"].clone()), (422, json!("ILLEGAL_FIELD_VALUE")), "{ip}: {body}");
    }
    let response = session
        .http
        .post(format!("{}/api/v2/bankConnections/import", session.base))
        .bearer_auth(&session.user_token)
        .header("PSU-IP-Address", "203.0.113.9")
        .json(&test_bank_body("demo_no_msa"))
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 201);
    Ok(())
}

/// The request log keeps every request in arrival order (method and path, no query, no body).
#[tokio::test]
async fn request_log_records_every_request() -> TestResult {
    let session = Session::start(DemoBankConfig::for_tests()).await?;
    let before = session.bank.requests().len();
    let (_, _) = session.get("/api/v2/banks?search=DEMO0001").await?;
    let (_, _) = session.get("/api/v2/pendingTransactions").await?;
    let log = session.bank.requests();
    let new: Vec<(String, String)> = log[before..].iter().map(|r| (r.method.clone(), r.path.clone())).collect();
    assert_eq!(
        new,
        vec![
            ("GET".to_owned(), "/api/v2/banks".to_owned()),
            ("GET".to_owned(), "/api/v2/pendingTransactions".to_owned())
        ]
    );
    assert!(log.windows(2).all(|w| w[0].at <= w[1].at));
    Ok(())
}
