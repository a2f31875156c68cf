//! `kontor renew`, `history`, `account` and `remove` over the JSON protocol against a Demo Bank started in this
//! test process, with a passphrase-protected vault in a temporary directory.

mod support;

use std::process::{Command, ExitStatus};
use std::time::Duration;

use kontor_sandbox::{DemoBank, DemoBankConfig, RunningDemoBank};
use kontor_testkit::output_within;
use serde_json::{Value, json};
use support::player::{Player, parse};

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

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_kontor"));
        command
            .arg("--json")
            .args(args)
            .env("KONTOR_DATA_DIR", self.dir.path())
            .env("KONTOR_PASSPHRASE", "correct horse battery")
            .env("KONTOR_DEMO_BANK_URL", self.bank.as_ref().map(RunningDemoBank::base_url).unwrap_or_default())
            .env("KONTOR_POLL_INTERVAL_MS", "0")
            .env_remove("KONTOR_LOG");
        command
    }

    fn run(&self, args: &[&str]) -> (ExitStatus, Vec<Value>) {
        let output = output_within(&mut self.command(args), Duration::from_secs(120))
            .unwrap_or_else(|err| panic!("kontor {args:?}: {err}"));
        let stdout = String::from_utf8_lossy(&output.stdout);
        (output.status, stdout.lines().map(|l| parse(l, &stdout)).collect())
    }

    fn play(&self, args: &[&str]) -> Player {
        Player::spawn(self.command(args), args)
    }

    /// Answers the bank (procedure, TAN) until a result line comes.
    fn answer_until_result(kontor: &mut Player) -> Value {
        for _ in 0..6 {
            let line = kontor.next();
            match (line["type"].as_str(), line["request"]["kind"].as_str()) {
                (Some("request"), Some("choose_procedure")) => {
                    kontor.send(json!({"kind":"procedure","id":"DEMO-TSP-01"}));
                }
                (Some("request"), Some("enter_tan")) => kontor.send(json!({"kind":"tan","tan":"123456"})),
                (Some("request"), Some("enter_credentials")) => kontor.credentials("demo", "demo"),
                _ => return line,
            }
        }
        panic!("no result after six answers")
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if let Some(bank) = self.bank.take() {
            self.runtime.block_on(bank.shutdown());
        }
    }
}

fn result<'a>(line: &'a Value, kind: &str) -> &'a Value {
    assert_eq!((line["type"].as_str(), line["kind"].as_str()), (Some("result"), Some(kind)), "{line}");
    line
}

#[test]
fn renew_history_names_and_remove_from_the_command_line() {
    let fixture = Fixture::new();
    let mut kontor = fixture.play(&["link", "--bank", "280001"]);
    let login = kontor.request("enter_credentials");
    assert_eq!(login["request"]["bank_name"], "finAPI Test Bank", "{login}");
    kontor.credentials("demo", "demo");
    let linked = Fixture::answer_until_result(&mut kontor);
    let connection = result(&linked, "linked")["connection"]["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(kontor.finish("connections-link").0.code(), Some(0));

    let mut kontor = fixture.play(&["renew", &connection]);
    let renewed = Fixture::answer_until_result(&mut kontor);
    assert_eq!(result(&renewed, "renewed")["connection"]["id"], connection.as_str());
    assert_eq!(kontor.finish("connections-renew").0.code(), Some(0));

    let (status, lines) = fixture.run(&["history", "--connection", &connection]);
    assert!(status.success(), "{lines:?}");
    let syncs = result(&lines[0], "history")["syncs"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        syncs.iter().map(|s| s["outcome"].clone()).collect::<Vec<_>>(),
        [json!("succeeded"), json!("succeeded")]
    );

    let (_, lines) = fixture.run(&["accounts"]);
    let accounts = result(&lines[0], "accounts")["accounts"].as_array().cloned().unwrap_or_default();
    let first = accounts[0]["id"].as_str().unwrap_or_default().to_owned();
    let second = accounts[1]["id"].as_str().unwrap_or_default().to_owned();
    let (status, lines) = fixture.run(&["account", "rename", &first, "Haushalt"]);
    assert!(status.success(), "{lines:?}");
    let (status, _) = fixture.run(&["account", "hide", &second]);
    assert!(status.success());
    let (_, lines) = fixture.run(&["accounts"]);
    let accounts = result(&lines[0], "accounts")["accounts"].as_array().cloned().unwrap_or_default();
    assert_eq!(accounts.len(), 2);
    assert_eq!(accounts[0]["name"], "Haushalt");

    let (status, lines) = fixture.run(&["remove", &connection]);
    assert_eq!(status.code(), Some(2), "without --yes nothing is removed: {lines:?}");
    assert!(lines[0]["message"].as_str().is_some_and(|m| m.contains("3 accounts")), "{lines:?}");
    let (status, lines) = fixture.run(&["remove", &connection, "--yes"]);
    assert!(status.success(), "{lines:?}");
    assert_eq!(result(&lines[0], "removed")["accounts"], 3);
    let (_, lines) = fixture.run(&["connections"]);
    assert_eq!(result(&lines[0], "connections")["connections"], json!([]));
}
