//! The Demo Bank's finX face over real HTTP: widget flows (as a browser would click them), code exchange,
//! refresh rotation, data paging with pending items and deletions, syncs through every challenge type, errors
//! and faults.

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine as _;
use kontor_sandbox::finx::{DECOUPLED_PROVIDER, FinxConfig, REDIRECT_PROVIDER, SELECTION_PROVIDER, TEXT_PROVIDER};
use kontor_sandbox::{DemoBank, DemoBankConfig, RunningDemoBank};
use serde_json::{Value, json};

type TestResult = Result<(), Box<dyn std::error::Error>>;
type AnyResult<T> = Result<T, Box<dyn std::error::Error>>;

const CLIENT: &str = "kontor-demo";
const SECRET: &str = "kontor-demo-secret";
const CALLBACK: &str = "http://127.0.0.1:9/callback";

struct Bank {
    _bank: RunningDemoBank,
    faults: kontor_sandbox::FaultSwitch,
    http: reqwest::Client,
    base: String,
}

fn config(finx: FinxConfig) -> DemoBankConfig {
    DemoBankConfig { finx, ..DemoBankConfig::for_tests() }
}

impl Bank {
    async fn start(config: DemoBankConfig) -> AnyResult<Self> {
        let bank = DemoBank::start(config).await?;
        let base = bank.base_url();
        let faults = bank.faults();
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
        Ok(Self { _bank: bank, faults, http, base })
    }

    async fn fast() -> AnyResult<Self> {
        Self::start(config(FinxConfig::for_tests())).await
    }

    async fn read(response: reqwest::Response) -> AnyResult<(u16, Value)> {
        let status = response.status().as_u16();
        let text = response.text().await?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::String(text))))
    }

    /// A Basic-auth POST (widget links, `/auth/token`).
    async fn client_post(&self, path: &str, body: &Value) -> AnyResult<(u16, Value)> {
        let response =
            self.http.post(format!("{}{path}", self.base)).basic_auth(CLIENT, Some(SECRET)).json(body).send().await?;
        Self::read(response).await
    }

    async fn get(&self, token: &str, path: &str) -> AnyResult<(u16, Value)> {
        Self::read(self.http.get(format!("{}{path}", self.base)).bearer_auth(token).send().await?).await
    }

    async fn post(&self, token: &str, path: &str, body: &Value) -> AnyResult<(u16, Value)> {
        Self::read(self.http.post(format!("{}{path}", self.base)).bearer_auth(token).json(body).send().await?).await
    }

    /// Creates a link; `(location, id)`.
    async fn link(&self, path: &str, body: &Value) -> AnyResult<(String, String)> {
        let (status, link) = self.client_post(path, body).await?;
        assert_eq!(status, 201, "{link}");
        let location = link["location"].as_str().unwrap_or_default().to_owned();
        let id = link["id"].as_str().unwrap_or_default().to_owned();
        assert!(location.starts_with(&format!("{}/finx/widget?token=", self.base)), "{location}");
        Ok((location, id))
    }

    /// GET a widget page (200 HTML).
    async fn page(&self, url: &str) -> AnyResult<String> {
        let response = self.http.get(url).send().await?;
        assert_eq!(response.status(), 200);
        Ok(response.text().await?)
    }

    /// POST a widget form; the `Location` of the 303.
    async fn submit(&self, path: &str, fields: &[(&str, &str)]) -> AnyResult<String> {
        let response = self.http.post(format!("{}{path}", self.base)).form(fields).send().await?;
        assert_eq!(response.status(), 303, "POST {path}");
        let location = response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default();
        Ok(location.to_owned())
    }

    /// Clicks through the widget like a browser; returns the callback URL.
    async fn widget(
        &self,
        location: &str,
        provider: Option<&str>,
        login: &str,
        accounts: &[String],
    ) -> AnyResult<String> {
        let token = query(location).remove("token").unwrap_or_default();
        let mut html = self.page(location).await?;
        if let Some(provider) = provider {
            assert!(html.contains("Bank wählen"), "{html}");
            let next = self.submit("/finx/widget/bank", &[("token", &token), ("provider_id", provider)]).await?;
            html = self.page(&next).await?;
        }
        assert!(html.contains("login_id"), "{html}");
        let next =
            self.submit("/finx/widget/login", &[("token", &token), ("login_id", login), ("password", login)]).await?;
        html = self.page(&next).await?;
        if login == "demo" {
            assert!(html.contains("name=\"tan\""), "{html}");
            let next = self.submit("/finx/widget/tan", &[("token", &token), ("tan", "000000")]).await?;
            assert!(self.page(&next).await?.contains("TAN ist ungültig"));
            let next = self.submit("/finx/widget/tan", &[("token", &token), ("tan", "123456")]).await?;
            html = self.page(&next).await?;
        }
        assert!(html.contains("Zustimmen"), "{html}");
        let mut fields = vec![("token", token.as_str())];
        fields.extend(accounts.iter().map(|iban| ("account", iban.as_str())));
        self.submit("/finx/widget/consent", &fields).await
    }

    async fn exchange(&self, code: &str, redirect_uri: &str) -> AnyResult<(u16, Value)> {
        self.client_post(
            "/auth/token",
            &json!({"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}),
        )
        .await
    }

    async fn refresh(&self, refresh_token: &str) -> AnyResult<(u16, Value)> {
        self.client_post("/auth/token", &json!({"grant_type": "refresh_token", "refresh_token": refresh_token})).await
    }

    /// An ongoing access through the whole widget; `(access_token, refresh_token, access_id)`.
    async fn ongoing(
        &self,
        user_id: &str,
        provider: &str,
        login: &str,
        save_secrets: bool,
    ) -> AnyResult<(String, String, String)> {
        let (location, id) = self
            .link(
                "/ongoing/access",
                &json!({"redirect_uri": CALLBACK, "user_id": user_id, "state": "s-1", "provider_id": provider,
                        "save_secrets": save_secrets}),
            )
            .await?;
        let callback = self.widget(&location, None, login, &ibans(provider, login)).await?;
        let params = query(&callback);
        assert_eq!(params.get("flow_id"), Some(&id));
        let code = params.get("code").cloned().unwrap_or_default();
        let (status, tokens) = self.exchange(&code, CALLBACK).await?;
        assert_eq!(status, 200, "{tokens}");
        let access_token = tokens["access_token"].as_str().unwrap_or_default().to_owned();
        let refresh_token = tokens["refresh_token"].as_str().unwrap_or_default().to_owned();
        let (_, accesses) = self.get(&access_token, "/rest/accesses").await?;
        let access_id = accesses
            .as_array()
            .and_then(|list| list.iter().find(|a| a["provider_id"] == provider))
            .and_then(|a| a["id"].as_str())
            .unwrap_or_default()
            .to_owned();
        Ok((access_token, refresh_token, access_id))
    }

    async fn start_sync(&self, token: &str, access: &str, body: &Value) -> AnyResult<(u16, Value)> {
        self.post(token, &format!("/rest/accesses/{access}/syncs"), body).await
    }

    async fn poll(&self, token: &str, access: &str, sync: &Value) -> AnyResult<Value> {
        let id = sync["id"].as_str().unwrap_or_default();
        let (status, body) = self.get(token, &format!("/rest/accesses/{access}/syncs/{id}")).await?;
        assert_eq!(status, 200, "{body}");
        Ok(body)
    }

    async fn answer(&self, token: &str, access: &str, sync: &Value, body: &Value) -> AnyResult<(u16, Value)> {
        let sid = sync["id"].as_str().unwrap_or_default();
        let cid = sync["challenge"]["id"].as_str().unwrap_or_default();
        self.post(token, &format!("/rest/accesses/{access}/syncs/{sid}/challenges/{cid}/response"), body).await
    }
}

fn query(url: &str) -> HashMap<String, String> {
    url::Url::parse(url).map(|u| u.query_pairs().into_owned().collect()).unwrap_or_default()
}

fn ibans(provider: &str, login: &str) -> Vec<String> {
    let identity = kontor_sandbox::finx::providers::by_id(provider).map(|p| p.identity());
    identity.map(|identity| kontor_sandbox::data::generate_login_ibans(1, &identity, login)).unwrap_or_default()
}

#[tokio::test]
async fn onetime_flow_through_the_widget_and_code_rules() -> TestResult {
    let bank = Bank::fast().await?;
    let (location, id) = bank
        .link("/onetime/access", &json!({"redirect_uri": format!("{CALLBACK}?x=1"), "state": "st8", "language": "en"}))
        .await?;
    let accounts = ibans(TEXT_PROVIDER, "demo_no_sca");
    let callback = bank.widget(&location, Some(TEXT_PROVIDER), "demo_no_sca", &accounts[..2]).await?;
    assert!(callback.starts_with(CALLBACK), "{callback}");
    let params = query(&callback);
    assert_eq!(params.get("x").map(String::as_str), Some("1"));
    assert_eq!(params.get("state").map(String::as_str), Some("st8"));
    assert_eq!(params.get("success").map(String::as_str), Some("true"));
    assert_eq!(params.get("flow_id"), Some(&id));
    let code = params.get("code").cloned().unwrap_or_default();
    // The widget is done: its token no longer accepts steps.
    let token = query(&location).remove("token").unwrap_or_default();
    let response =
        bank.http.post(format!("{}/finx/widget/cancel", bank.base)).form(&[("token", &token)]).send().await?;
    assert_eq!(response.status(), 404);

    let (status, error) = bank.exchange(&code, "http://127.0.0.1:9/other").await?;
    assert_eq!(status, 400);
    assert_eq!(error["error"]["name"], "invalid_grant");
    assert!(error["error"]["data"]["redirect_uri"].is_array(), "{error}");
    let (status, tokens) = bank.exchange(&code, &format!("{CALLBACK}?x=1")).await?;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3600);
    assert_eq!(tokens["scope"], "accounts=ro balance=ro transactions=ro");
    assert!(tokens.get("refresh_token").is_none(), "one-time flows have no refresh token");
    let access_token = tokens["access_token"].as_str().unwrap_or_default().to_owned();
    assert_eq!(access_token.split('.').count(), 3);

    let (status, accounts_body) = bank.get(&access_token, "/rest/accounts").await?;
    assert_eq!(status, 200);
    let list = accounts_body["accounts"].as_array().cloned().unwrap_or_default();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["iban"], accounts[0].as_str());
    assert_eq!(list[0]["type"], "Giro account");
    assert!(list[0]["balance"]["balance"].is_number());
    let account_id = list[0]["account_id"].as_str().unwrap_or_default();
    let (status, balance) = bank.get(&access_token, &format!("/rest/accounts/{account_id}/balance")).await?;
    assert_eq!(status, 200);
    assert_eq!(balance["balance"], list[0]["balance"]["balance"]);
    let (_, accesses) = bank.get(&access_token, "/rest/accesses").await?;
    assert_eq!(accesses[0]["consent"]["recurring"], false);
    // One-time accesses cannot be synced.
    let access_id = accesses[0]["id"].as_str().unwrap_or_default();
    let (status, error) = bank.start_sync(&access_token, access_id, &json!({})).await?;
    assert_eq!((status, error["error"]["code"].as_u64()), (403, Some(1007)));

    // Replaying the code fails and revokes what it gave.
    let (status, error) = bank.exchange(&code, &format!("{CALLBACK}?x=1")).await?;
    assert_eq!(status, 400);
    assert_eq!(error["error"]["code"], 1003);
    assert_eq!(error["error"]["group"], "client");
    let response = bank.http.get(format!("{}/rest/accounts", bank.base)).bearer_auth(&access_token).send().await?;
    assert_eq!(response.status(), 401);
    assert!(response.headers().get("www-authenticate").is_some());
    Ok(())
}

#[tokio::test]
async fn codes_expire_and_clients_must_authenticate() -> TestResult {
    let finx = FinxConfig { authorization_code_lifetime: Duration::from_millis(150), ..FinxConfig::for_tests() };
    let bank = Bank::start(config(finx)).await?;
    let (location, _) = bank.link("/onetime/access", &json!({"redirect_uri": CALLBACK})).await?;
    let accounts = ibans(DECOUPLED_PROVIDER, "demo");
    let callback = bank.widget(&location, Some(DECOUPLED_PROVIDER), "demo", &accounts[..1]).await?;
    let params = query(&callback);
    assert!(!params.contains_key("state"));
    tokio::time::sleep(Duration::from_millis(250)).await;
    let (status, error) = bank.exchange(params.get("code").map(String::as_str).unwrap_or_default(), CALLBACK).await?;
    assert_eq!(status, 400);
    assert!(error["error"]["description"].as_str().unwrap_or_default().contains("expired"), "{error}");
    let (status, error) = bank.exchange("nope", CALLBACK).await?;
    assert_eq!((status, error["error"]["name"].as_str()), (400, Some("invalid_grant")));
    let (status, error) = bank.client_post("/auth/token", &json!({"grant_type": "client_credentials"})).await?;
    assert_eq!((status, error["error"]["name"].as_str()), (400, Some("unsupported_grant_type")));

    let response = bank
        .http
        .post(format!("{}/onetime/access", bank.base))
        .basic_auth(CLIENT, Some("wrong"))
        .json(&json!({"redirect_uri": CALLBACK}))
        .send()
        .await?;
    assert_eq!(response.status(), 401);
    assert!(
        response.headers().get("www-authenticate").is_some_and(|v| v.to_str().unwrap_or_default().starts_with("Basic"))
    );
    let (_, body) = Bank::read(response).await?;
    assert_eq!(body["error"]["code"], 1004);

    let (status, error) = bank.client_post("/onetime/access", &json!({"language": "xx"})).await?;
    assert_eq!(status, 400);
    assert_eq!(error["error"]["code"], 1000);
    assert!(
        error["error"]["data"]["redirect_uri"].is_array() && error["error"]["data"]["language"].is_array(),
        "{error}"
    );
    let (status, error) = bank.client_post("/ongoing/access", &json!({"redirect_uri": CALLBACK})).await?;
    assert_eq!(status, 400);
    assert!(error["error"]["data"]["user_id"].is_array(), "{error}");
    let (status, error) = bank
        .client_post(
            "/onetime/income-report",
            &json!({"redirect_uri": CALLBACK, "sync_period": 90, "reporting_period": 6}),
        )
        .await?;
    assert_eq!(status, 400);
    assert!(error["error"]["data"]["reporting_period"].is_array(), "{error}");
    Ok(())
}

#[tokio::test]
async fn widget_cancel_and_failed_login_come_back_without_code() -> TestResult {
    let bank = Bank::fast().await?;
    let (location, id) = bank.link("/onetime/access", &json!({"redirect_uri": CALLBACK, "state": "c1"})).await?;
    let token = query(&location).remove("token").unwrap_or_default();
    assert!(bank.page(&location).await?.contains("Abbrechen"));
    let callback = bank.submit("/finx/widget/cancel", &[("token", &token)]).await?;
    let params = query(&callback);
    assert_eq!(params.get("success").map(String::as_str), Some("false"));
    assert_eq!(params.get("cancel").map(String::as_str), Some("true"));
    assert_eq!(params.get("abort").map(String::as_str), Some("true"));
    assert_eq!(params.get("state").map(String::as_str), Some("c1"));
    assert_eq!(params.get("flow_id"), Some(&id));
    assert!(!params.contains_key("code"));

    let (location, _) = bank
        .link(
            "/onetime/access",
            &json!({"redirect_uri": CALLBACK, "accounts": [{"id": ibans(SELECTION_PROVIDER, "demo")[0]}]}),
        )
        .await?;
    let token = query(&location).remove("token").unwrap_or_default();
    assert!(bank.page(&location).await?.contains("Demo Bank (TAN-Auswahl)"), "IBAN pre-selects the bank");
    let mut last = String::new();
    for _ in 0..3 {
        last = bank.submit("/finx/widget/login", &[("token", &token), ("login_id", "demo"), ("password", "x")]).await?;
    }
    let params = query(&last);
    assert_eq!(params.get("success").map(String::as_str), Some("false"));
    assert!(!params.contains_key("cancel") && !params.contains_key("code"), "{last}");
    Ok(())
}

#[tokio::test]
async fn ongoing_access_rotates_refresh_tokens() -> TestResult {
    let bank = Bank::fast().await?;
    let (access_token, refresh, access_id) = bank.ongoing("u-42@app", SELECTION_PROVIDER, "demo", false).await?;
    assert!(refresh.len() >= 2048, "refresh tokens exercise ≥ 2048-byte storage: {}", refresh.len());
    let (_, access) = bank.get(&access_token, &format!("/rest/accesses/{access_id}")).await?;
    assert_eq!(access["consent"]["recurring"], true);
    assert!(access["consent"]["expires_at"].is_string(), "{access}");
    assert_eq!(access["auth_methods"].as_array().map(Vec::len), Some(6));

    let mut current = refresh;
    let mut spent = Vec::new();
    for _ in 0..3 {
        let (status, tokens) = bank.refresh(&current).await?;
        assert_eq!(status, 200, "{tokens}");
        let next = tokens["refresh_token"].as_str().unwrap_or_default().to_owned();
        assert!(next.len() >= 2048 && next != current);
        spent.push(std::mem::replace(&mut current, next));
        let fresh = tokens["access_token"].as_str().unwrap_or_default();
        assert_eq!(bank.get(fresh, "/rest/accounts").await?.0, 200);
    }
    for old in &spent {
        let (status, error) = bank.refresh(old).await?;
        assert_eq!((status, error["error"]["name"].as_str()), (400, Some("invalid_grant")), "{error}");
    }
    let (status, narrowed) = bank
        .client_post(
            "/auth/token",
            &json!({"grant_type": "refresh_token", "refresh_token": current, "scope": "accounts=ro offline"}),
        )
        .await?;
    assert_eq!((status, narrowed["scope"].as_str()), (200, Some("accounts=ro offline")));
    current = narrowed["refresh_token"].as_str().unwrap_or_default().to_owned();

    // A second bank connection for the same finX user: two accesses, and the new code exchange replaces the
    // refresh token.
    let (second_token, second_refresh, _) = bank.ongoing("u-42@app", DECOUPLED_PROVIDER, "demo_no_sca", false).await?;
    let (_, accesses) = bank.get(&second_token, "/rest/accesses").await?;
    assert_eq!(accesses.as_array().map(Vec::len), Some(2));
    let (status, error) = bank.refresh(&current).await?;
    assert_eq!((status, error["error"]["name"].as_str()), (400, Some("invalid_grant")));
    assert_eq!(bank.refresh(&second_refresh).await?.0, 200);
    // Another user sees nothing of it.
    let (other, _, _) = bank.ongoing("someone-else", TEXT_PROVIDER, "demo_no_sca", false).await?;
    let (_, accesses) = bank.get(&other, "/rest/accesses").await?;
    assert_eq!(accesses.as_array().map(Vec::len), Some(1));
    assert_eq!(bank.get(&other, &format!("/rest/accesses/{access_id}")).await?.0, 404);
    Ok(())
}

#[tokio::test]
async fn refresh_and_access_tokens_expire() -> TestResult {
    let finx = FinxConfig {
        refresh_token_lifetime: Duration::from_millis(400),
        access_token_lifetime: Duration::from_millis(400),
        ..FinxConfig::for_tests()
    };
    let bank = Bank::start(config(finx)).await?;
    let (access_token, refresh, _) = bank.ongoing("inactive", TEXT_PROVIDER, "demo_no_sca", false).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (status, error) = bank.get(&access_token, "/rest/accounts").await?;
    assert_eq!((status, error["error"]["code"].as_u64()), (401, Some(1003)));
    let (status, error) = bank.refresh(&refresh).await?;
    assert_eq!(status, 400);
    assert!(error["error"]["description"].as_str().unwrap_or_default().contains("expired"), "{error}");
    Ok(())
}

#[tokio::test]
async fn transactions_page_with_pending_items_and_deletions() -> TestResult {
    let bank = Bank::fast().await?;
    let (token, _, access) = bank.ongoing("pager", TEXT_PROVIDER, "demo_no_sca", true).await?;
    let (_, all) = bank.get(&token, "/rest/transactions?include_pending=true&sort=desc").await?;
    let all = all["transactions"].as_array().cloned().unwrap_or_default();
    assert!(all.len() > 50, "{}", all.len());
    let pending: Vec<String> = all
        .iter()
        .filter(|t| t["booked"] == false)
        .filter_map(|t| t["transaction_id"].as_str().map(str::to_owned))
        .collect();
    assert!(!pending.is_empty());
    let (_, booked_only) = bank.get(&token, "/rest/transactions").await?;
    assert_eq!(booked_only["transactions"].as_array().map(Vec::len), Some(all.len() - pending.len()));

    let mut paged = Vec::new();
    let mut offset = 0;
    loop {
        let (status, page) = bank
            .get(&token, &format!("/rest/transactions?include_pending=true&sort=desc&count=25&offset={offset}"))
            .await?;
        assert_eq!(status, 200);
        let rows = page["transactions"].as_array().cloned().unwrap_or_default();
        paged.extend(rows.iter().cloned());
        offset += 25;
        if rows.len() < 25 {
            break;
        }
    }
    assert_eq!(paged, all, "pages concatenate to the whole list");
    let dates: Vec<&str> = all.iter().filter_map(|t| t["booked_at"].as_str()).collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "sorted descending");

    let (_, since) = bank.get(&token, "/rest/transactions?since=2025-06-01&since_type=booked&sort=asc").await?;
    let rows = since["transactions"].as_array().cloned().unwrap_or_default();
    assert!(!rows.is_empty() && rows.iter().all(|t| t["booked_at"].as_str() >= Some("2025-06-01")));
    assert_eq!(bank.get(&token, "/rest/transactions?count=0").await?.0, 400);

    let before = chrono::Utc::now().to_rfc3339();
    let (status, sync) = bank.start_sync(&token, &access, &json!({})).await?;
    assert_eq!((status, sync["status"].as_str()), (201, Some("QUEUED")), "{sync}");
    let done = bank.poll(&token, &access, &sync).await?;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    let (_, changed) = bank
        .get(
            &token,
            &format!("/rest/transactions?since={}&since_type=created&include_pending=true", url_encode(&before)),
        )
        .await?;
    let deleted: Vec<String> = changed["deleted"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    assert_eq!(deleted.len(), 1, "{changed}");
    assert!(pending.contains(&deleted[0]));
    let new_rows = changed["transactions"].as_array().cloned().unwrap_or_default();
    assert!(new_rows.iter().all(|t| t["transaction_id"] != deleted[0].as_str()));
    assert!(new_rows.iter().filter(|t| t["booked"] == true).count() >= 2, "{changed}");
    assert!(new_rows.iter().all(|t| t["sync_id"] == done["id"] || t["booked"] == false));
    let (status, _) = bank.get(&token, &format!("/rest/transactions/{}", deleted[0])).await?;
    assert_eq!(status, 404);
    Ok(())
}

fn url_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[tokio::test]
async fn syncs_raise_every_embedded_and_decoupled_challenge() -> TestResult {
    let bank = Bank::fast().await?;
    let (token, _, access) = bank.ongoing("sca", SELECTION_PROVIDER, "demo", true).await?;
    for (method, format) in [
        ("M28000501.1", Some("TEXT")),
        ("M28000502.1", Some("HTML")),
        ("M28000503.1", Some("HHD")),
        ("M28000504.1", Some("PHOTO")),
        ("M28000505.1", None),
    ] {
        let (status, sync) =
            bank.start_sync(&token, &access, &json!({"reuse_last_auth_method": false, "state": "x"})).await?;
        assert_eq!(status, 201, "{sync}");
        let polled = bank.poll(&token, &access, &sync).await?;
        assert_eq!(polled["status"], "AWAIT_AUTH");
        assert_eq!(polled["challenge"]["type"], "METHOD_SELECTION");
        assert_eq!(polled["challenge"]["auth_methods"].as_array().map(Vec::len), Some(6));
        let (status, body) = bank.answer(&token, &access, &polled, &json!({"method_id": method})).await?;
        assert_eq!((status, body), (202, json!({})));
        let polled = bank.poll(&token, &access, &sync).await?;
        assert_eq!(polled["status"], "AWAIT_AUTH", "{polled}");
        let challenge = &polled["challenge"];
        match format {
            Some(format) => {
                assert_eq!(challenge["type"], "EMBEDDED");
                assert_eq!(challenge["format"], format);
                let data = challenge["data"].as_str().unwrap_or_default();
                match format {
                    "HHD" => {
                        assert!(data.chars().all(|c| c.is_ascii_hexdigit()) && data.len() % 2 == 0, "{data}");
                        assert_eq!(usize::from_str_radix(&data[..2], 16)?, data.len() / 2 - 1);
                    }
                    "PHOTO" => {
                        let encoded = data.strip_prefix("data:image/png;base64,").unwrap_or_default();
                        let png = base64::engine::general_purpose::STANDARD.decode(encoded)?;
                        assert_eq!(png.get(..8), Some(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A][..]));
                    }
                    "HTML" => assert!(data.contains("<b>"), "{data}"),
                    _ => assert!(data.contains("123456"), "{data}"),
                }
                let (status, _) = bank.answer(&token, &access, &polled, &json!({"value": "123456"})).await?;
                assert_eq!(status, 202);
            }
            None => {
                assert_eq!(challenge["type"], "DECOUPLED");
                assert!(challenge["message"].is_string());
                let again = bank.poll(&token, &access, &sync).await?;
                assert_eq!(again["status"], "AWAIT_AUTH", "one extra poll with for_tests()");
            }
        }
        let done = bank.poll(&token, &access, &sync).await?;
        assert_eq!(done["status"], "COMPLETED", "{method}: {done}");
        assert!(done["ended_at"].is_string() && done["error"].is_null());
        let sid = sync["id"].as_str().unwrap_or_default();
        let (_, list) = bank.get(&token, &format!("/rest/accesses/{access}/syncs/{sid}/challenges")).await?;
        assert_eq!(list.as_array().map(Vec::len), Some(2));
    }
    // Re-use: the last method (decoupled) comes at once.
    let (_, sync) = bank.start_sync(&token, &access, &json!({})).await?;
    assert_eq!(bank.poll(&token, &access, &sync).await?["challenge"]["type"], "DECOUPLED");
    for _ in 0..2 {
        bank.poll(&token, &access, &sync).await?;
    }
    // SMS with a new medium: only the SMS media are offered; a wrong TAN fails the sync.
    let (_, sync) = bank.start_sync(&token, &access, &json!({"reuse_last_auth_method": false})).await?;
    let polled = bank.poll(&token, &access, &sync).await?;
    bank.answer(&token, &access, &polled, &json!({"method_id": "M28000501.2"})).await?;
    let polled = bank.poll(&token, &access, &sync).await?;
    assert_eq!(polled["challenge"]["format"], "TEXT");
    let (status, error) = bank.answer(&token, &access, &polled, &json!({})).await?;
    assert_eq!((status, error["error"]["code"].as_u64()), (400, Some(1000)));
    bank.answer(&token, &access, &polled, &json!({"value": "999999"})).await?;
    let failed = bank.poll(&token, &access, &sync).await?;
    assert_eq!(failed["status"], "FAILED");
    assert_eq!(failed["error"]["code"], 10004);
    assert_eq!(failed["error"]["group"], "user");
    let (_, sync) = bank.start_sync(&token, &access, &json!({"reuse_last_auth_medium": false})).await?;
    let polled = bank.poll(&token, &access, &sync).await?;
    assert_eq!(polled["challenge"]["type"], "METHOD_SELECTION");
    assert_eq!(polled["challenge"]["auth_methods"].as_array().map(Vec::len), Some(2));
    Ok(())
}

#[tokio::test]
async fn redirect_and_text_providers_and_sync_errors() -> TestResult {
    let finx = FinxConfig { max_syncs_per_day: 3, running_polls: 1, ..FinxConfig::for_tests() };
    let bank = Bank::start(config(finx)).await?;
    let (token, _, access) = bank.ongoing("redir", REDIRECT_PROVIDER, "demo", false).await?;
    let creds = json!({"login_id": "demo", "password": "demo"});
    let (status, error) = bank.start_sync(&token, &access, &json!({})).await?;
    assert_eq!((status, error["error"]["code"].as_u64()), (400, Some(1011)), "secrets not saved");
    let (status, error) = bank.start_sync(&token, &access, &json!({"credentials": creds})).await?;
    assert_eq!((status, error["error"]["code"].as_u64()), (400, Some(1021)), "{error}");
    let body = json!({"credentials": creds, "psu_ip_address": "192.0.2.7", "redirect_uri": "kontor://sync", "state": "r-9",
                      "scope": ["TRANSACTIONS"], "sync_period": 120});
    let (status, sync) = bank.start_sync(&token, &access, &body).await?;
    assert_eq!(status, 201, "{sync}");
    let (status, error) = bank.start_sync(&token, &access, &body).await?;
    assert_eq!((status, error["error"]["code"].as_u64()), (423, Some(1008)));
    assert_eq!(bank.poll(&token, &access, &sync).await?["status"], "RUNNING");
    let polled = bank.poll(&token, &access, &sync).await?;
    assert_eq!(polled["challenge"]["type"], "REDIRECT", "{polled}");
    let location = polled["challenge"]["location"].as_str().unwrap_or_default().to_owned();
    assert!(bank.page(&location).await?.contains("approve"));
    assert_eq!(bank.poll(&token, &access, &sync).await?["status"], "AWAIT_AUTH");
    let response = bank.http.get(format!("{location}/approve")).send().await?;
    assert_eq!(response.status(), 303);
    let back = response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(back.starts_with("kontor://sync?"), "{back}");
    assert_eq!(query(&back).get("state").map(String::as_str), Some("r-9"));
    assert_eq!(bank.poll(&token, &access, &sync).await?["status"], "RUNNING");
    assert_eq!(bank.poll(&token, &access, &sync).await?["status"], "COMPLETED");
    let (_, accesses) = bank.get(&token, "/rest/accesses").await?;
    assert_eq!(accesses[0]["save_credentials"], false);

    // Wrong credentials fail the sync; then the daily limit.
    let wrong = json!({"credentials": {"login_id": "demo", "password": "nope"}, "psu_ip_address": "192.0.2.7",
                       "redirect_uri": "kontor://sync"});
    let (_, sync) = bank.start_sync(&token, &access, &wrong).await?;
    bank.poll(&token, &access, &sync).await?;
    let failed = bank.poll(&token, &access, &sync).await?;
    assert_eq!(
        (failed["status"].as_str(), failed["error"]["code"].as_u64()),
        (Some("FAILED"), Some(10000)),
        "{failed}"
    );
    let (_, sync) = bank.start_sync(&token, &access, &body).await?;
    bank.poll(&token, &access, &sync).await?;
    let polled = bank.poll(&token, &access, &sync).await?;
    let location = polled["challenge"]["location"].as_str().unwrap_or_default().to_owned();
    let response = bank.http.get(format!("{location}/cancel")).send().await?;
    let back = response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert_eq!(query(&back).get("error").map(String::as_str), Some("access_denied"));
    bank.poll(&token, &access, &sync).await?;
    let failed = bank.poll(&token, &access, &sync).await?;
    assert_eq!(failed["error"]["code"], 20006, "{failed}");
    let (status, error) = bank.start_sync(&token, &access, &body).await?;
    assert_eq!((status, error["error"]["code"].as_u64()), (429, Some(1020)));

    // The SMS-TAN bank: an embedded TEXT challenge at once.
    let (token, _, access) = bank.ongoing("text", TEXT_PROVIDER, "demo", true).await?;
    let (_, sync) = bank.start_sync(&token, &access, &json!({"scope": ["ACCOUNTS"]})).await?;
    bank.poll(&token, &access, &sync).await?;
    let polled = bank.poll(&token, &access, &sync).await?;
    assert_eq!(
        (polled["challenge"]["type"].as_str(), polled["challenge"]["format"].as_str()),
        (Some("EMBEDDED"), Some("TEXT"))
    );
    Ok(())
}

#[tokio::test]
async fn expired_consent_fails_the_sync() -> TestResult {
    let finx = FinxConfig { consent_lifetime: Duration::from_millis(100), ..FinxConfig::for_tests() };
    let bank = Bank::start(config(finx)).await?;
    let (token, _, access) = bank.ongoing("old", DECOUPLED_PROVIDER, "demo_no_sca", true).await?;
    tokio::time::sleep(Duration::from_millis(150)).await;
    let (_, sync) = bank.start_sync(&token, &access, &json!({})).await?;
    let failed = bank.poll(&token, &access, &sync).await?;
    assert_eq!(
        (failed["status"].as_str(), failed["error"]["code"].as_u64()),
        (Some("FAILED"), Some(10005)),
        "{failed}"
    );
    Ok(())
}

#[tokio::test]
async fn income_report_from_the_seeded_bookings() -> TestResult {
    let bank = Bank::fast().await?;
    let accounts = ibans(TEXT_PROVIDER, "demo_no_sca");
    let (location, id) = bank
        .link(
            "/onetime/income-report",
            &json!({"redirect_uri": CALLBACK, "state": "inc", "reporting_period": 6,
                    "accounts": [{"id": accounts[0]}], "allow_multi_selection": false}),
        )
        .await?;
    let html = bank.page(&location).await?;
    assert!(html.contains("login_id"), "the IBAN pre-selected the bank");
    let callback = bank.widget(&location, None, "demo_no_sca", &accounts[..1]).await?;
    let params = query(&callback);
    assert_eq!(params.get("flow_id"), Some(&id));
    let (status, tokens) = bank.exchange(params.get("code").map(String::as_str).unwrap_or_default(), CALLBACK).await?;
    assert_eq!(status, 200);
    let token = tokens["access_token"].as_str().unwrap_or_default();
    let (status, report) = bank.get(token, &format!("/rest/income-reports/{id}")).await?;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["period"], 6);
    assert_eq!(report["months"].as_array().map(Vec::len), Some(5), "{report}");
    assert!(report["income"]["summary"]["total"].as_f64().unwrap_or_default() > 10_000.0, "{report}");
    assert_eq!(report["income"]["primary"]["category"]["id"], "income.salary");
    let regular = report["regular_expenses"].as_array().cloned().unwrap_or_default();
    assert!(regular.iter().any(|e| e["category"]["id"] == "expense.housing"), "{report}");
    assert!(!report["variable_expenses"].as_array().cloned().unwrap_or_default().is_empty());
    let ratio = report["disposable_income"]["ratio"].as_f64().unwrap_or_default();
    assert!(ratio > 0.0 && ratio < 1.0, "{report}");
    assert_eq!(bank.get(token, "/rest/income-reports/other").await?.0, 404);
    Ok(())
}

#[tokio::test]
async fn faults_use_the_finx_envelope() -> TestResult {
    let bank = Bank::fast().await?;
    let (token, _, access) = bank.ongoing("faulty", TEXT_PROVIDER, "demo_no_sca", true).await?;
    bank.faults.fail_next(1, 503);
    let (status, error) = bank.get(&token, "/rest/accounts").await?;
    assert_eq!((status, error["error"]["code"].as_u64()), (503, Some(30006)));
    bank.faults.rate_limit_next(1, Duration::from_secs(2));
    let response = bank.http.get(format!("{}/rest/accounts", bank.base)).bearer_auth(&token).send().await?;
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("2"));
    bank.faults.truncate_next(1);
    let text = bank.http.get(format!("{}/rest/accounts", bank.base)).bearer_auth(&token).send().await?.text().await?;
    assert!(serde_json::from_str::<Value>(&text).is_err());
    bank.faults.lock_next_updates(1);
    let (status, error) = bank.start_sync(&token, &access, &json!({})).await?;
    assert_eq!((status, error["error"]["code"].as_u64()), (423, Some(1008)));
    assert_eq!(bank.get(&token, "/rest/accounts").await?.0, 200);
    // The widget pages are not subject to faults.
    bank.faults.fail_next(1, 500);
    let (location, _) = {
        bank.faults.clear();
        bank.link("/onetime/access", &json!({"redirect_uri": CALLBACK})).await?
    };
    bank.faults.fail_next(1, 500);
    assert!(bank.page(&location).await?.contains("Bank wählen"));
    Ok(())
}

/// The finX face is kept in the state file the finAPI face uses: an ongoing access, its tokens, a finished
/// sync and the id counters survive a restart; a file without the finX part (an older one) still loads.
#[tokio::test]
async fn finx_state_survives_a_restart() -> TestResult {
    let dir = std::env::temp_dir().join(format!(
        "kontor-finx-state-{}-{}",
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_nanos()
    ));
    let file = dir.join("state.json");
    let with_file = || DemoBankConfig { state_file: Some(file.clone()), ..config(FinxConfig::for_tests()) };

    let bank = Bank::start(with_file()).await?;
    let (token, refresh, access) = bank.ongoing("kept@app", TEXT_PROVIDER, "demo_no_sca", true).await?;
    let (status, sync) = bank.start_sync(&token, &access, &json!({"scope": ["TRANSACTIONS"]})).await?;
    assert_eq!(status, 201, "{sync}");
    let mut polled = bank.poll(&token, &access, &sync).await?;
    for _ in 0..10 {
        if polled["status"] == "COMPLETED" {
            break;
        }
        polled = bank.poll(&token, &access, &sync).await?;
    }
    assert_eq!(polled["status"], "COMPLETED", "{polled}");
    let (_, accounts) = bank.get(&token, "/rest/accounts").await?;
    let (_, transactions) = bank.get(&token, "/rest/transactions").await?;
    assert!(transactions["transactions"].as_array().is_some_and(|t| !t.is_empty()), "no rows");
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&file)?)?;
    assert!(saved["finx"]["accesses"].as_array().is_some_and(|a| a.len() == 1), "no finX part written");
    bank._bank.shutdown().await;

    // Started again with the same file: the refresh token still works (and rotates), the data reads the same.
    let bank = Bank::start(with_file()).await?;
    let (status, tokens) = bank.refresh(&refresh).await?;
    assert_eq!(status, 200, "{tokens}");
    let fresh = tokens["access_token"].as_str().unwrap_or_default().to_owned();
    let (status, accesses) = bank.get(&fresh, "/rest/accesses").await?;
    assert_eq!(status, 200);
    assert_eq!(accesses.as_array().and_then(|a| a.first()).and_then(|a| a["id"].as_str()), Some(access.as_str()));
    assert_eq!(bank.get(&fresh, "/rest/accounts").await?.1, accounts);
    assert_eq!(bank.get(&fresh, "/rest/transactions").await?.1, transactions);
    assert_eq!(bank.poll(&fresh, &access, &sync).await?["status"], "COMPLETED");
    // The old access token stays valid until it expires; the spent refresh token does not.
    assert_eq!(bank.get(&token, "/rest/accounts").await?.0, 200);
    assert_eq!(bank.refresh(&refresh).await?.0, 400);
    // New ids do not collide with the kept ones, and a new sync starts.
    let (status, again) = bank.start_sync(&fresh, &access, &json!({})).await?;
    assert_eq!(status, 201, "{again}");
    assert_ne!(again["id"], sync["id"]);
    bank._bank.shutdown().await;

    // A file without the finX part (written before it was kept): the finAPI part loads, finX starts empty.
    let mut older: Value = serde_json::from_str(&std::fs::read_to_string(&file)?)?;
    older.as_object_mut().map(|o| o.remove("finx"));
    std::fs::write(&file, older.to_string())?;
    let bank = Bank::start(with_file()).await?;
    let (status, error) = bank.refresh(tokens["refresh_token"].as_str().unwrap_or_default()).await?;
    assert_eq!((status, error["error"]["name"].as_str()), (400, Some("invalid_grant")), "{error}");
    assert!(!dir.join("state.json.corrupt").exists(), "an older file was taken for damaged");
    let (token, _, _) = bank.ongoing("new@app", TEXT_PROVIDER, "demo_no_sca", false).await?;
    assert_eq!(bank.get(&token, "/rest/accesses").await?.1.as_array().map(Vec::len), Some(1));
    bank._bank.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// A one-time token can cover several banks: "agree and add another bank" links the bank and goes back to
/// the bank choice; the code issued at the end sees every access of the flow.
#[tokio::test]
async fn onetime_token_over_three_banks() -> TestResult {
    let bank = Bank::fast().await?;
    let (location, _) = bank.link("/onetime/access", &json!({"redirect_uri": CALLBACK, "state": "multi"})).await?;
    let token = query(&location).remove("token").unwrap_or_default();
    let providers = [TEXT_PROVIDER, DECOUPLED_PROVIDER, SELECTION_PROVIDER];
    let mut callback = String::new();
    for (n, provider) in providers.iter().enumerate() {
        let html = bank.page(&format!("{}/finx/widget?token={token}", bank.base)).await?;
        assert!(html.contains("Bank wählen"), "bank {n}: {html}");
        bank.submit("/finx/widget/bank", &[("token", &token), ("provider_id", provider)]).await?;
        bank.submit(
            "/finx/widget/login",
            &[("token", &token), ("login_id", "demo_no_sca"), ("password", "demo_no_sca")],
        )
        .await?;
        let accounts = ibans(provider, "demo_no_sca");
        let mut fields = vec![("token", token.as_str())];
        fields.extend(accounts.iter().map(|iban| ("account", iban.as_str())));
        if n + 1 < providers.len() {
            fields.push(("another", "1"));
        }
        callback = bank.submit("/finx/widget/consent", &fields).await?;
    }
    let params = query(&callback);
    assert_eq!(params.get("success").map(String::as_str), Some("true"), "{callback}");
    let (status, tokens) = bank.exchange(params.get("code").map(String::as_str).unwrap_or_default(), CALLBACK).await?;
    assert_eq!(status, 200, "{tokens}");
    let access_token = tokens["access_token"].as_str().unwrap_or_default();
    let (_, accesses) = bank.get(access_token, "/rest/accesses").await?;
    let linked: Vec<&str> =
        accesses.as_array().into_iter().flatten().filter_map(|a| a["provider_id"].as_str()).collect();
    assert_eq!(linked.len(), 3, "{accesses}");
    assert!(providers.iter().all(|p| linked.contains(p)), "{accesses}");
    let (_, accounts) = bank.get(access_token, "/rest/accounts").await?;
    let expected: usize = providers.iter().map(|p| ibans(p, "demo_no_sca").len()).sum();
    assert_eq!(accounts["accounts"].as_array().map(Vec::len), Some(expected));
    Ok(())
}

/// `access_created_at` pins the accesses' timestamps (ties, as finX's whole seconds produce).
#[tokio::test]
async fn access_timestamps_can_tie() -> TestResult {
    let at = chrono::DateTime::parse_from_rfc3339("2025-06-15T10:00:00Z")?.with_timezone(&chrono::Utc);
    let bank = Bank::start(config(FinxConfig { access_created_at: Some(at), ..FinxConfig::for_tests() })).await?;
    let (token, _, _) = bank.ongoing("tie", TEXT_PROVIDER, "demo_no_sca", true).await?;
    bank.ongoing("tie", DECOUPLED_PROVIDER, "demo_no_sca", true).await?;
    let (_, accesses) = bank.get(&token, "/rest/accesses").await?;
    let times: Vec<&Value> = accesses.as_array().into_iter().flatten().map(|a| &a["created_at"]).collect();
    assert_eq!(times.len(), 2, "{accesses}");
    assert_eq!(times[0], times[1]);
    Ok(())
}

/// The PSU IP of a sync names the end user: a loopback address is refused (400, 1000), like a malformed one.
#[tokio::test]
async fn loopback_psu_ip_is_refused() -> TestResult {
    let bank = Bank::fast().await?;
    let (token, _, access) = bank.ongoing("psu", TEXT_PROVIDER, "demo_no_sca", true).await?;
    for ip in ["127.0.0.1", "::1", "0.0.0.0"] {
        let (status, error) = bank.start_sync(&token, &access, &json!({"psu_ip_address": ip})).await?;
        assert_eq!((status, error["error"]["code"].as_u64()), (400, Some(1000)), "{ip}: {error}");
        assert!(
            error["error"]["data"]["psu_ip_address"].is_array() || error["error"]["data"]["psu_ip_address"].is_string()
        );
    }
    let (status, sync) = bank.start_sync(&token, &access, &json!({"psu_ip_address": "203.0.113.9"})).await?;
    assert_eq!(status, 201, "{sync}");
    Ok(())
}
