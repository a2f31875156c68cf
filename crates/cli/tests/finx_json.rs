//! `kontor --json` with a finX provider against a Demo Bank started in this test process: `provider add --kind
//! finx`, `link --flow ongoing` (the test plays the browser through the widget and the loopback listener),
//! `sync` through a TAN challenge, and `link --flow income-report` with `income-report`.
//!
//! Needs an OS keyring for the finX client secret: run inside `tests/support/desktop-session.sh` (as `make
//! test` does). With `KONTOR_TRANSCRIPT_DIR` set, the conversations are written there; `docs/cli.md` quotes them.

mod support;

use std::process::Command;
use std::time::Duration;

use kontor_sandbox::finx::TEXT_PROVIDER;
use kontor_sandbox::{DemoBank, DemoBankConfig, RunningDemoBank};
use kontor_testkit::output_within;
use serde_json::{Value, json};
use support::player::Player;

const PASSPHRASE: &str = "correct horse battery";

struct Fixture {
    runtime: tokio::runtime::Runtime,
    bank: Option<RunningDemoBank>,
    dir: tempfile::TempDir,
    http: reqwest::Client,
}

impl Fixture {
    fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap_or_else(|err| panic!("runtime: {err}"));
        let config =
            DemoBankConfig { finx: kontor_sandbox::finx::FinxConfig::for_tests(), ..DemoBankConfig::for_tests() };
        let bank = runtime.block_on(DemoBank::start(config)).unwrap_or_else(|err| panic!("Demo Bank: {err}"));
        let dir = tempfile::tempdir().unwrap_or_else(|err| panic!("tempdir: {err}"));
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_else(|err| panic!("client: {err}"));
        Self { runtime, bank: Some(bank), dir, http }
    }

    fn base(&self) -> String {
        self.bank.as_ref().map(RunningDemoBank::base_url).unwrap_or_default()
    }

    fn play(&self, args: &[&str]) -> Player {
        Player::spawn(self.command(args), args)
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_kontor"));
        command
            .arg("--json")
            .args(args)
            .env("KONTOR_DATA_DIR", self.dir.path())
            .env("KONTOR_PASSPHRASE", PASSPHRASE)
            .env("KONTOR_POLL_INTERVAL_MS", "0")
            .env("KONTOR_CLIENT_SECRET", "kontor-demo-secret")
            .env_remove("KONTOR_DEMO_BANK_URL")
            .env_remove("KONTOR_LOG");
        command
    }

    fn run(&self, args: &[&str]) -> Vec<Value> {
        let output = output_within(&mut self.command(args), Duration::from_secs(120))
            .unwrap_or_else(|err| panic!("kontor {args:?}: {err}"));
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "kontor {args:?}: {stdout}");
        stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
    }

    fn page(&self, url: &str) -> String {
        self.runtime.block_on(async {
            let response = self.http.get(url).send().await.unwrap_or_else(|e| panic!("GET {url}: {e}"));
            assert_eq!(response.status(), 200, "GET {url}");
            response.text().await.unwrap_or_default()
        })
    }

    fn submit(&self, path: &str, fields: &[(&str, &str)]) -> String {
        self.runtime.block_on(async {
            let url = format!("{}{path}", self.base());
            let response = self.http.post(&url).form(fields).send().await.unwrap_or_else(|e| panic!("POST: {e}"));
            assert_eq!(response.status(), 303, "POST {path}");
            response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
        })
    }

    /// Clicks through the widget (bank, login `demo_no_sca`, all accounts) and follows the redirect back to
    /// the CLI's loopback listener, as the browser would.
    fn widget(&self, location: &str) {
        let token =
            location.split("token=").nth(1).unwrap_or_default().split('&').next().unwrap_or_default().to_owned();
        let mut html = self.page(location);
        if html.contains("/finx/widget/bank") {
            let next = self.submit("/finx/widget/bank", &[("token", &token), ("provider_id", TEXT_PROVIDER)]);
            html = self.page(&next);
        }
        assert!(html.contains("login_id"), "{html}");
        let next = self.submit("/finx/widget/login", &[("token", &token), ("login_id", "demo"), ("password", "demo")]);
        html = self.page(&next);
        if html.contains("name=\"tan\"") {
            let next = self.submit("/finx/widget/tan", &[("token", &token), ("tan", "123456")]);
            html = self.page(&next);
        }
        let mut fields = vec![("token", token.clone())];
        for part in html.split("name=\"account\" value=\"").skip(1) {
            fields.push(("account", part.split('"').next().unwrap_or_default().to_owned()));
        }
        let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let callback = self.submit("/finx/widget/consent", &borrowed);
        assert!(callback.starts_with("http://127.0.0.1:"), "{callback}");
        self.runtime.block_on(async {
            let status = reqwest::get(&callback).await.map(|r| r.status().as_u16()).unwrap_or_default();
            assert_eq!(status, 200, "the loopback listener did not answer");
        });
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if let Some(bank) = self.bank.take() {
            self.runtime.block_on(bank.shutdown());
        }
    }
}

#[test]
fn finx_ongoing_link_sync_with_tan_and_income_report() {
    let fixture = Fixture::new();
    let base = fixture.base();
    let added = fixture.run(&["provider", "add", "--kind", "finx", "--base-url", &base, "--client-id", "kontor-demo"]);
    assert_eq!(added[0]["kind"], "provider", "{added:?}");
    assert_eq!(added[0]["provider"]["kind"], "finx", "{added:?}");

    // Ongoing access: the widget opens in the "browser", comes back to the loopback listener.
    let mut kontor = fixture.play(&["link", "--flow", "ongoing", "--bank", TEXT_PROVIDER]);
    let open = kontor.request("open_browser");
    let url = open["request"]["url"].as_str().unwrap_or_default().to_owned();
    fixture.widget(&url);
    let linked = kontor.next();
    assert_eq!(linked["kind"], "linked", "{linked}");
    assert!(linked["added"].as_u64().is_some_and(|n| n > 10), "{linked}");
    assert_eq!(linked["connection"]["access_kind"], "finx_ongoing", "{linked}");
    assert_eq!(kontor.finish("finx-link-ongoing").0.code(), Some(0));
    let connection = linked["connection"]["id"].as_str().unwrap_or_default().to_owned();

    // A provider synchronisation: finX kept no login, so Kontor asks for it, then the bank's TAN.
    let mut kontor = fixture.play(&["sync", &connection]);
    let login = kontor.request("enter_credentials");
    assert_eq!(login["request"]["fields"][1]["secret"], true, "{login}");
    kontor.send(json!({"kind":"credentials","values":[
        {"label":"Online banking ID","value":"demo"},{"label":"PIN","value":"demo"}]}));
    let tan = kontor.request("enter_tan");
    assert_eq!(tan["request"]["challenge"]["kind"], "text", "{tan}");
    kontor.send(json!({"kind":"tan","tan":"123456"}));
    let synced = kontor.next();
    assert_eq!(synced["kind"], "synced", "{synced}");
    assert_eq!(kontor.finish("finx-sync-tan").0.code(), Some(0));

    // An income report, stored and listed.
    let mut kontor = fixture.play(&["link", "--flow", "income-report"]);
    let open = kontor.request("open_browser");
    fixture.widget(open["request"]["url"].as_str().unwrap_or_default());
    let report = kontor.next();
    assert_eq!(report["kind"], "income_report", "{report}");
    assert!(report["report"]["report"]["income"]["streams"].as_array().is_some_and(|s| !s.is_empty()), "{report}");
    assert_eq!(kontor.finish("finx-income-report").0.code(), Some(0));
    let listed = fixture.run(&["income-report"]);
    assert_eq!(listed[0]["reports"].as_array().map(Vec::len), Some(1), "{listed:?}");
}
