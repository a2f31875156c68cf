//! The Demo Bank's finAPI consent as finAPI documents it (shared/docs/finapi.md §3.3, §3.4, §9): an
//! import's consent lasts the configured days, `DELETE /bankConnections/{id}/aisConsent` ends it
//! (`aisConsent.status` `NOT_PRESENT`), and the next update asks for SCA and brings a new consent
//! (90 days, finAPI's usual recurring consent).

use kontor_sandbox::{DemoBank, DemoBankConfig, RunningDemoBank};
use serde_json::{Value, json};

type TestResult = Result<(), Box<dyn std::error::Error>>;

struct Session {
    bank: RunningDemoBank,
    http: reqwest::Client,
    base: String,
    user_token: String,
}

impl Session {
    async fn start(config: DemoBankConfig) -> Result<Self, Box<dyn std::error::Error>> {
        let bank = DemoBank::start(config).await?;
        let base = bank.base_url();
        let http = reqwest::Client::new();
        let form = |extra: &[(&'static str, &'static str)]| {
            let mut pairs = vec![("client_id", "kontor-demo"), ("client_secret", "kontor-demo-secret")];
            pairs.extend_from_slice(extra);
            pairs
        };
        let client: Value = http
            .post(format!("{base}/api/v2/oauth/token"))
            .form(&form(&[("grant_type", "client_credentials")]))
            .send()
            .await?
            .json()
            .await?;
        let created = http
            .post(format!("{base}/api/v2/users"))
            .bearer_auth(client["access_token"].as_str().unwrap_or_default())
            .json(&json!({"id": "renewer", "password": "renewer-secret"}))
            .send()
            .await?;
        assert_eq!(created.status(), 201);
        let user: Value = http
            .post(format!("{base}/api/v2/oauth/token"))
            .form(&form(&[("grant_type", "password"), ("username", "renewer"), ("password", "renewer-secret")]))
            .send()
            .await?
            .json()
            .await?;
        let user_token = user["access_token"].as_str().unwrap_or_default().to_owned();
        assert!(!user_token.is_empty(), "{user}");
        Ok(Self { bank, http, base, user_token })
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), Box<dyn std::error::Error>> {
        let mut request = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.user_token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::String(text))))
    }

    /// Sends `body` to `path`, answering every 510 with the first procedure and the demo TAN; returns
    /// the final answer and how many 510s it took.
    async fn with_sca(&self, path: &str, body: &Value) -> Result<(u16, Value, u32), Box<dyn std::error::Error>> {
        let mut request = body.clone();
        for rounds in 0..6 {
            let (status, reply) = self.send(reqwest::Method::POST, path, Some(&request)).await?;
            if status != 510 {
                return Ok((status, reply, rounds));
            }
            let msa = &reply["errors"][0]["multiStepAuthentication"];
            let hash = msa["hash"].clone();
            request["multiStepAuthentication"] = match msa["status"].as_str() {
                Some("TWO_STEP_PROCEDURE_REQUIRED") => json!({"hash": hash, "twoStepProcedureId": "DEMO-TSP-01"}),
                Some("CHALLENGE_RESPONSE_REQUIRED") => {
                    json!({"hash": hash, "challengeResponse": kontor_sandbox::DEMO_TAN})
                }
                other => return Err(format!("unexpected 510 status {other:?}: {reply}").into()),
            };
        }
        Err("more than six rounds of SCA".into())
    }
}

fn consent(connection: &Value) -> &Value {
    &connection["interfaces"][0]["aisConsent"]
}

fn expires(connection: &Value) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    consent(connection)["expiresAt"].as_str().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
}

#[tokio::test]
async fn a_consent_lasts_the_configured_days_and_renews_after_it_was_ended() -> TestResult {
    let config = DemoBankConfig { import_consent_days: Some(10), ..DemoBankConfig::for_tests() };
    let session = Session::start(config).await?;
    let import = json!({
        "bankId": 280001,
        "bankingInterface": "XS2A",
        "loginCredentials": [{"label": "Onlinebanking-ID", "value": "demo"}, {"label": "PIN", "value": "demo"}],
    });
    let before = chrono::Utc::now();
    let (status, imported, rounds) = session.with_sca("/api/v2/bankConnections/import", &import).await?;
    assert_eq!((status, rounds > 0), (201, true), "{imported}");
    let id = imported["id"].as_u64().ok_or("no connection id")?;
    assert_eq!(consent(&imported)["status"], "PRESENT");
    let first_end = expires(&imported).ok_or("no expiresAt")?;
    let days = (first_end.with_timezone(&chrono::Utc) - before).num_hours();
    assert!((239..=241).contains(&days), "a 10-day consent, got {days} hours");

    // An update on the consent needs no SCA (sca_on_update is off).
    let update = json!({"bankConnectionId": id, "bankingInterface": "XS2A"});
    let (status, updated, rounds) = session.with_sca("/api/v2/bankConnections/update", &update).await?;
    assert_eq!((status, rounds), (200, 0), "{updated}");

    // Ending the consent: NOT_PRESENT, and the next update asks for SCA and brings a new one.
    let path = format!("/api/v2/bankConnections/{id}/aisConsent");
    let (status, ended) = session.send(reqwest::Method::DELETE, &path, None).await?;
    assert_eq!(status, 200, "{ended}");
    let (_, read) = session.send(reqwest::Method::GET, &format!("/api/v2/bankConnections/{id}"), None).await?;
    assert_eq!(consent(&read)["status"], "NOT_PRESENT", "{read}");
    // A renewal logs in at the bank: without the PIN (not kept) it is refused, with it it asks for SCA.
    let (status, refused, _) = session.with_sca("/api/v2/bankConnections/update", &update).await?;
    assert_eq!((status, refused["errors"][0]["code"].clone()), (422, json!("MISSING_FIELD")), "{refused}");
    let mut with_login = update.clone();
    with_login["loginCredentials"] = json!([{"label": "PIN", "value": "demo"}]);
    let (status, renewed, rounds) = session.with_sca("/api/v2/bankConnections/update", &with_login).await?;
    assert_eq!(status, 200, "{renewed}");
    assert!(rounds > 0, "a renewal needs SCA");
    assert_eq!(consent(&renewed)["status"], "PRESENT");
    let renewed_end = expires(&renewed).ok_or("no new expiresAt")?.with_timezone(&chrono::Utc);
    let renewed_days = (renewed_end - chrono::Utc::now()).num_days();
    assert!((89..=90).contains(&renewed_days), "a renewal brings finAPI's usual 90 days, got {renewed_days}");
    assert_eq!(renewed["accountIds"], imported["accountIds"], "the same accounts");

    // Unknown connections are 404 UNKNOWN_ENTITY, as finAPI answers.
    let (status, missing) =
        session.send(reqwest::Method::DELETE, "/api/v2/bankConnections/999/aisConsent", None).await?;
    assert_eq!((status, missing["errors"][0]["code"].clone()), (404, json!("UNKNOWN_ENTITY")));
    session.bank.shutdown().await;
    Ok(())
}
