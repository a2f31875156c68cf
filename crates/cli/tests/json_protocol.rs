//! Plays the user through `kontor --json` over stdin/stdout against a Demo Bank started in this test process:
//! the embedded (TAN), redirect and decoupled approaches, then `accounts` and `sync --all`, and the failures.
//!
//! The vault is passphrase-protected (`KONTOR_PASSPHRASE`) in a temporary directory, so the tests run with or
//! without an OS keyring (`tests/support/desktop-session.sh` gives them a private one). `KONTOR_DEMO_BANK_URL`
//! points the CLI's Demo Bank provider at the test's bank. With `KONTOR_TRANSCRIPT_DIR` set, each test writes its
//! conversation there (`>` = sent to kontor, `<` = printed by kontor); `docs/cli.md` quotes them.

mod support;

use std::io::Write as _;
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

use kontor_sandbox::{DemoBank, DemoBankConfig, RunningDemoBank};
use kontor_testkit::{ChildGuard, output_within};
use serde_json::{Value, json};
use support::player::{Player, parse};

const PASSPHRASE: &str = "correct horse battery";

/// A Demo Bank on a runtime of its own, and a vault directory.
struct Fixture {
    runtime: tokio::runtime::Runtime,
    bank: Option<RunningDemoBank>,
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap_or_else(|err| panic!("runtime: {err}"));
        let bank = runtime
            .block_on(DemoBank::start(DemoBankConfig::for_tests()))
            .unwrap_or_else(|err| panic!("Demo Bank: {err}"));
        let dir = tempfile::tempdir().unwrap_or_else(|err| panic!("tempdir: {err}"));
        Self { runtime, bank: Some(bank), dir }
    }

    fn bank_url(&self) -> String {
        self.bank.as_ref().map(RunningDemoBank::base_url).unwrap_or_default()
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_kontor"));
        command
            .arg("--json")
            .args(args)
            .env("KONTOR_DATA_DIR", self.dir.path())
            .env("KONTOR_PASSPHRASE", PASSPHRASE)
            .env("KONTOR_DEMO_BANK_URL", self.bank_url())
            .env("KONTOR_POLL_INTERVAL_MS", "0")
            .env_remove("KONTOR_LOG");
        command
    }

    /// Runs a command to the end with nothing on stdin; returns its status and JSON lines.
    fn run(&self, args: &[&str]) -> (ExitStatus, Vec<Value>) {
        let output = output_within(&mut self.command(args), Duration::from_secs(120))
            .unwrap_or_else(|err| panic!("kontor {args:?}: {err}"));
        let stdout = String::from_utf8_lossy(&output.stdout);
        let lines = stdout.lines().map(|l| parse(l, &stdout)).collect();
        (output.status, lines)
    }

    fn play(&self, args: &[&str]) -> Player {
        Player::spawn(self.command(args), args)
    }

    /// The bank's approve link, as the user's browser would follow it: returns the `Location` it redirects to.
    fn approve(&self, page: &str, action: &str) -> String {
        self.runtime.block_on(async {
            let client = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_else(|err| panic!("client: {err}"));
            let response = client
                .get(format!("{page}/{action}"))
                .send()
                .await
                .unwrap_or_else(|err| panic!("GET {page}/{action}: {err}"));
            assert!(response.status().is_redirection(), "{}", response.status());
            response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .unwrap_or_else(|| panic!("no Location"))
        })
    }

    /// Follows a URL like a browser (for the loopback listener).
    fn browse(&self, url: &str) -> u16 {
        self.runtime.block_on(async {
            reqwest::get(url).await.map(|r| r.status().as_u16()).unwrap_or_else(|err| panic!("GET {url}: {err}"))
        })
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if let Some(bank) = self.bank.take() {
            self.runtime.block_on(bank.shutdown());
        }
    }
}

fn result_of<'a>(line: &'a Value, kind: &str) -> &'a Value {
    assert_eq!(line["type"], "result", "{line}");
    assert_eq!(line["kind"], kind, "{line}");
    line
}

fn assert_three_accounts(fixture: &Fixture) {
    let (status, lines) = fixture.run(&["accounts"]);
    assert!(status.success());
    let accounts = result_of(&lines[0], "accounts")["accounts"].as_array().cloned().unwrap_or_default();
    assert_eq!(accounts.len(), 3, "{:?}", lines);
    assert!(accounts.iter().all(|a| a["iban"].as_str().is_some_and(|i| i.starts_with("DE"))));
}

#[test]
fn embedded_link_with_a_tan_then_accounts_and_sync() {
    let fixture = Fixture::new();
    let mut kontor = fixture.play(&["link", "--bank", "280001"]);
    let login = kontor.request("enter_credentials");
    let flow_id = login["flow_id"].as_str().unwrap_or_default().to_owned();
    assert!(!flow_id.is_empty());
    assert_eq!(login["request"]["fields"][1]["secret"], true);
    kontor.credentials("demo", "demo");
    let methods = kontor.request("choose_procedure");
    assert!(methods["request"]["procedures"].as_array().is_some_and(|p| p.iter().any(|p| p["id"] == "DEMO-TSP-01")));
    kontor.send(json!({"kind":"procedure","id":"DEMO-TSP-01"}));
    let tan = kontor.request("enter_tan");
    assert_eq!(tan["request"]["challenge"]["kind"], "text");
    assert_eq!(tan["flow_id"], flow_id.as_str());
    kontor.send(json!({"kind":"tan","tan":"123456"}));
    let done = kontor.next();
    assert!(result_of(&done, "linked")["added"].as_u64().is_some_and(|n| n > 100), "{done}");
    assert_eq!(kontor.finish("embedded").0.code(), Some(0));

    assert_three_accounts(&fixture);

    let (status, lines) = fixture.run(&["sync", "--all"]);
    assert!(status.success(), "{lines:?}");
    let results: Vec<&Value> = lines.iter().filter(|l| l["type"] == "result").collect();
    assert_eq!(results.len(), 1, "{lines:?}");
    assert_eq!(result_of(results[0], "synced")["connection"]["status"], "active");
    assert!(lines.iter().any(|l| l["type"] == "progress" && l["step"] == "downloading"));

    let (status, lines) = fixture.run(&["transactions", "--limit", "5"]);
    assert!(status.success());
    assert_eq!(result_of(&lines[0], "transactions")["transactions"].as_array().map(Vec::len), Some(5));

    let (status, lines) = fixture.run(&["connections"]);
    assert!(status.success());
    assert_eq!(result_of(&lines[0], "connections")["connections"][0]["bank_name"], "finAPI Test Bank");
}

#[test]
fn an_answer_that_is_not_utf8_is_refused_and_the_request_stands() {
    let fixture = Fixture::new();
    let mut kontor = fixture.play(&["link", "--bank", "280001"]);
    kontor.request("enter_credentials");
    kontor.send_raw(b"{\"kind\":\"credentials\",\"values\":[{\"label\":\"PIN\",\"value\":\"\xff\xfe\"}]}\n");
    let again = kontor.request("enter_credentials");
    assert_eq!(again["error"]["code"], "InvalidInput", "{again}");
    kontor.send(json!({"kind":"cancel"}));
    let error = kontor.next();
    assert_eq!(error["code"], "ScaCancelled", "{error}");
}

/// Two `sync --all` at once on one data directory, each with a Demo Bank of its own (started in-process, as
/// without `KONTOR_DEMO_BANK_URL`): neither is sent to the other's bank, and the second writer waits for the
/// first (or reports a busy vault or connection); nothing else fails.
#[test]
fn two_syncs_at_once_on_one_vault_wait_for_each_other() {
    let fixture = Fixture::new();
    let mut command = fixture.command(&["link", "--bank", "280001"]);
    command.env_remove("KONTOR_DEMO_BANK_URL");
    let mut kontor = Player::spawn(command, &["link", "--bank", "280001"]);
    kontor.request("enter_credentials");
    kontor.credentials("demo_no_msa", "demo_no_msa");
    result_of(&kontor.next(), "linked");
    assert_eq!(kontor.finish("no-msa").0.code(), Some(0));

    for round in 0..4 {
        let pair: Vec<ChildGuard> = (0..2)
            .map(|_| {
                ChildGuard::spawn(
                    fixture
                        .command(&["sync", "--all"])
                        .env_remove("KONTOR_DEMO_BANK_URL")
                        .stdin(Stdio::null())
                        .stdout(Stdio::piped())
                        .stderr(Stdio::piped()),
                )
                .unwrap_or_else(|err| panic!("could not start kontor: {err}"))
            })
            .collect();
        for child in pair {
            let output =
                child.output_within(Duration::from_secs(120)).unwrap_or_else(|err| panic!("round {round}: {err}"));
            let stdout = String::from_utf8_lossy(&output.stdout);
            let lines: Vec<Value> = stdout.lines().map(|l| parse(l, &stdout)).collect();
            let busy = lines
                .iter()
                .any(|l| l["type"] == "error" && matches!(l["code"].as_str(), Some("VaultBusy" | "ResourceBusy")));
            let synced = lines.iter().any(|l| l["type"] == "result" && l["kind"] == "synced");
            assert!(
                (output.status.success() && synced) || busy,
                "round {round}: {}\n{stdout}{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
}

#[test]
fn sync_all_without_connections_says_so_in_one_line() {
    let fixture = Fixture::new();
    let (status, lines) = fixture.run(&["sync", "--all"]);
    assert!(status.success(), "{lines:?}");
    assert_eq!(lines.len(), 1, "{lines:?}");
    result_of(&lines[0], "nothing_to_sync");
}

/// SQLCipher's own log ("hmac check failed" for each unreadable page) stays off stderr unless KONTOR_LOG asks
/// for logs; the error line says what happened. Opening checks only the file's shape, so the damaged page is
/// found by `vault check`, which reads every page.
#[test]
fn a_damaged_vault_is_reported_without_sqlcipher_noise() {
    let fixture = Fixture::new();
    let (status, _) = fixture.run(&["accounts"]);
    assert!(status.success());
    let db = fixture.dir.path().join("kontor.db");
    let mut bytes = std::fs::read(&db).unwrap_or_else(|err| panic!("{err}"));
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&db, &bytes).unwrap_or_else(|err| panic!("{err}"));
    let output =
        fixture.command(&["vault", "check"]).stdin(Stdio::null()).output().unwrap_or_else(|err| panic!("{err}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("VaultCorrupt"), "{stdout}");
    assert_eq!(std::fs::read(&db).ok(), Some(bytes), "the damaged file is left as it was");
    assert!(stderr.trim().is_empty(), "stderr: {stderr}");
}

#[test]
fn redirect_link_with_the_callback_as_an_answer() {
    let fixture = Fixture::new();
    let mut kontor = fixture.play(&["link", "--bank", "280002"]);
    kontor.request("enter_credentials");
    kontor.credentials("demo", "demo");
    let redirect = kontor.request("open_browser");
    let page = redirect["request"]["url"].as_str().unwrap_or_default().to_owned();
    let location = fixture.approve(&page, "approve");
    assert!(location.contains("state="), "{location}");
    kontor.send(json!({"kind":"callback","url":location}));
    let done = kontor.next();
    result_of(&done, "linked");
    assert_eq!(kontor.finish("redirect").0.code(), Some(0));
    assert_three_accounts(&fixture);
}

#[test]
fn redirect_link_through_the_loopback_listener() {
    let fixture = Fixture::new();
    let mut kontor = fixture.play(&["link", "--bank", "280002"]);
    kontor.request("enter_credentials");
    kontor.credentials("demo", "demo");
    let redirect = kontor.request("open_browser");
    let page = redirect["request"]["url"].as_str().unwrap_or_default().to_owned();
    let location = fixture.approve(&page, "approve");
    assert!(location.starts_with("http://127.0.0.1:") && location.contains("/callback?"), "{location}");
    // The browser follows the redirect to kontor's own listener; no answer on stdin is needed.
    assert_eq!(fixture.browse(&location), 200);
    result_of(&kontor.next(), "linked");
    assert_eq!(kontor.finish("redirect-loopback").0.code(), Some(0));
}

#[test]
fn redirect_cancelled_at_the_bank_exits_3() {
    let fixture = Fixture::new();
    let mut kontor = fixture.play(&["link", "--bank", "280002"]);
    kontor.request("enter_credentials");
    kontor.credentials("demo", "demo");
    let redirect = kontor.request("open_browser");
    let page = redirect["request"]["url"].as_str().unwrap_or_default().to_owned();
    let location = fixture.approve(&page, "cancel");
    kontor.send(json!({"kind":"callback","url":location}));
    let error = kontor.next();
    assert_eq!(error["type"], "error", "{error}");
    assert_eq!(error["code"], "ScaCancelled", "{error}");
    assert!(error["bank_message"].as_str().is_some(), "{error}");
    assert_eq!(kontor.finish("redirect-cancelled-at-bank").0.code(), Some(3));
}

#[test]
fn decoupled_link_approved_in_the_app() {
    let fixture = Fixture::new();
    let mut kontor = fixture.play(&["link", "--bank", "280004"]);
    kontor.request("enter_credentials");
    kontor.credentials("demo", "demo");
    let mut line = kontor.next();
    if line["request"]["kind"] == "choose_procedure" {
        let id = line["request"]["procedures"][0]["id"].clone();
        kontor.send(json!({"kind":"procedure","id":id}));
        line = kontor.next();
    }
    assert_eq!(line["request"]["kind"], "approve_in_app", "{line}");
    kontor.send(json!({"kind":"continue"}));
    result_of(&kontor.next(), "linked");
    assert_eq!(kontor.finish("decoupled").0.code(), Some(0));
    assert_three_accounts(&fixture);
}

#[test]
fn a_wrong_pin_is_asked_again_and_three_wrong_tans_fail_with_status_1() {
    let fixture = Fixture::new();
    let mut kontor = fixture.play(&["link", "--bank", "280001"]);
    kontor.request("enter_credentials");
    kontor.credentials("demo", "wrong-pin");
    let again = kontor.request("enter_credentials");
    assert_eq!(again["error"]["code"], "CredentialsRejected", "{again}");
    kontor.credentials("demo", "demo");
    kontor.request("choose_procedure");
    kontor.send(json!({"kind":"procedure","id":"DEMO-TSP-01"}));
    kontor.request("enter_tan");
    let mut last = Value::Null;
    for _ in 0..3 {
        kontor.send(json!({"kind":"tan","tan":"000000"}));
        last = kontor.next();
        if last["type"] == "error" {
            break;
        }
        // finAPI's 422 ended the flow: a new round asks for the procedure again, with the refusal.
        assert_eq!(last["request"]["kind"], "choose_procedure", "{last}");
        assert_eq!(last["error"]["code"], "TanRejected", "{last}");
        kontor.send(json!({"kind":"procedure","id":"DEMO-TSP-01"}));
        kontor.request("enter_tan");
    }
    assert_eq!(last["type"], "error", "{last}");
    assert!(last["code"].as_str().is_some_and(|c| c == "TanRejected" || c == "CredentialsRejected"), "{last}");
    assert!(last["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(!kontor.transcript.iter().any(|l| l.starts_with("< ") && l.contains("wrong-pin")), "the PIN was echoed");
    let (status, rest) = kontor.finish("wrong-pin-wrong-tan");
    assert!(rest.is_empty(), "{rest:?}");
    assert_eq!(status.code(), Some(1));
}

#[test]
fn a_wrong_tan_starts_a_new_round_and_cancel_exits_3() {
    let fixture = Fixture::new();
    let mut kontor = fixture.play(&["link", "--bank", "280001"]);
    kontor.request("enter_credentials");
    kontor.credentials("demo", "demo");
    kontor.request("choose_procedure");
    kontor.send(json!({"kind":"procedure","id":"DEMO-TSP-01"}));
    kontor.request("enter_tan");
    kontor.send(json!({"kind":"tan","tan":"000000"}));
    let again = kontor.next();
    if again["type"] == "request" {
        assert_eq!(again["request"]["kind"], "choose_procedure", "{again}");
        assert_eq!(again["error"]["code"], "TanRejected", "{again}");
        kontor.send(json!({"kind":"cancel"}));
        let error = kontor.next();
        assert_eq!(error["code"], "ScaCancelled", "{error}");
        assert_eq!(kontor.finish("wrong-tan-cancel").0.code(), Some(3));
    } else {
        assert_eq!(again["type"], "error", "{again}");
        assert_eq!(again["code"], "TanRejected", "{again}");
        assert_eq!(kontor.finish("wrong-tan-cancel").0.code(), Some(1));
    }
}

#[test]
fn a_bad_answer_repeats_the_request_with_an_error() {
    let fixture = Fixture::new();
    let mut kontor = fixture.play(&["link", "--bank", "280001"]);
    kontor.request("enter_credentials");
    kontor.send(json!({"kind":"sms"}));
    let again = kontor.request("enter_credentials");
    assert_eq!(again["error"]["code"], "InvalidInput", "{again}");
    // The end of input cancels the flow.
    let (status, rest) = kontor.finish("bad-answer");
    assert_eq!(rest.first().map(|l| l["code"].clone()), Some(json!("ScaCancelled")), "{rest:?}");
    assert_eq!(status.code(), Some(3));
}

#[test]
fn invalid_input_exits_2_with_an_error_line() {
    let fixture = Fixture::new();
    let mut add = fixture.command(&[
        "provider",
        "add",
        "--kind",
        "finapi",
        "--base-url",
        "ftp://example.com",
        "--client-id",
        "id",
        "--client-secret-stdin",
    ]);
    let mut child = ChildGuard::spawn(add.stdin(Stdio::piped()).stdout(Stdio::piped()))
        .unwrap_or_else(|err| panic!("could not start kontor: {err}"));
    if let Some(mut stdin) = child.stdin.take() {
        let _ = writeln!(stdin, "s3cret-value");
    }
    let mut stdout = String::new();
    if let Some(mut pipe) = child.stdout.take() {
        let _ = std::io::Read::read_to_string(&mut pipe, &mut stdout);
    }
    let status = child.wait_within(Duration::from_secs(60)).unwrap_or_else(|err| panic!("wait: {err}"));
    assert_eq!(status.and_then(|s| s.code()), Some(2), "{stdout}");
    let line = parse(stdout.trim(), &stdout);
    assert_eq!(line["type"], "error");
    assert_eq!(line["code"], "InvalidInput");
    assert!(!stdout.contains("s3cret-value"));

    let (status, lines) = fixture.run(&["link"]);
    assert_eq!(status.code(), Some(2));
    assert_eq!(lines[0]["code"], "InvalidInput");

    let (status, lines) = fixture.run(&["accounts"]);
    assert!(status.success());
    assert_eq!(result_of(&lines[0], "accounts")["accounts"], json!([]));

    let (status, lines) = fixture.run(&["provider", "list"]);
    assert!(status.success());
    assert_eq!(result_of(&lines[0], "providers")["providers"], json!([]));
}

#[test]
fn embedded_link_with_a_chiptan_flicker_code() {
    let fixture = Fixture::new();
    let mut kontor = fixture.play(&["link", "--bank", "280001"]);
    kontor.request("enter_credentials");
    kontor.credentials("demo", "demo");
    kontor.request("choose_procedure");
    kontor.send(json!({"kind":"procedure","id":"DEMO-TSP-03"}));
    let tan = kontor.request("enter_tan");
    let challenge = &tan["request"]["challenge"];
    assert_eq!(challenge["kind"], "flicker", "{tan}");
    assert!(challenge["optical_data"].as_str().is_some_and(|d| !d.is_empty()), "{tan}");
    kontor.send(json!({"kind":"tan","tan":"123456"}));
    result_of(&kontor.next(), "linked");
    assert_eq!(kontor.finish("embedded-flicker").0.code(), Some(0));
}
