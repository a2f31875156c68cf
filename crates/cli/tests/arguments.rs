//! What the real `kontor` binary does with arguments it cannot use: bytes that are not UTF-8, a remote
//! provider over plain http, a data directory other users can write to. Each is a clear error with exit
//! status 2, never a panic, and changes nothing.
//!
//! The vaults are passphrase-protected (`KONTOR_PASSPHRASE`); `provider add` keeps the client secret in the
//! OS keyring, so run inside `tests/support/desktop-session.sh`.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use kontor_testkit::output_within;
use serde_json::Value;

fn kontor(data_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kontor"));
    command
        .env("KONTOR_DATA_DIR", data_dir)
        .env("KONTOR_PASSPHRASE", "correct horse battery")
        .env_remove("KONTOR_LOG")
        .stdin(Stdio::null());
    command
}

fn output(command: &mut Command) -> Output {
    output_within(command, Duration::from_secs(60)).unwrap_or_else(|err| panic!("kontor: {err}"))
}

/// The single JSON line on stdout; fails on anything else, and on a panic.
fn json_line(output: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "kontor panicked: {stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "expected one JSON line, got: {stdout}{stderr}");
    serde_json::from_str(lines[0]).unwrap_or_else(|err| panic!("not JSON ({err}): {stdout}"))
}

fn assert_invalid_input(output: &Output) -> Value {
    let line = json_line(output);
    assert_eq!(output.status.code(), Some(2), "{line}");
    assert_eq!(line["type"], "error", "{line}");
    assert_eq!(line["code"], "InvalidInput", "{line}");
    line
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|err| panic!("tempdir: {err}"))
}

#[test]
fn text_arguments_that_are_not_utf8_are_refused_with_exit_2() {
    let dir = tempdir();
    let data = dir.path().join("data");
    let bad = OsStr::from_bytes(b"\xff\xfe");
    assert_invalid_input(&output(kontor(&data).args(["tan", "decode"]).arg(bad)));
    let url = OsStr::from_bytes(b"kontor://sca-callback?state=\xff");
    let line = assert_invalid_input(&output(kontor(&data).args(["--json", "callback"]).arg(url)));
    assert!(line["message"].as_str().unwrap_or_default().contains("UTF-8"), "{line}");
    assert!(!data.exists(), "a refused command created the data directory");
}

#[test]
fn a_data_directory_that_is_not_utf8_is_used_as_it_is() {
    let dir = tempdir();
    let data = dir.path().join(OsStr::from_bytes(b"kontor-\xff"));
    let out = output(kontor(dir.path()).arg("--json").arg("--data-dir").arg(&data).arg("connections"));
    let line = json_line(&out);
    assert!(out.status.success(), "{line}");
    assert_eq!(line["kind"], "connections", "{line}");
    assert!(data.join("vault.json").exists());
}

#[test]
fn tan_decode_reports_errors_as_json() {
    let dir = tempdir();
    let out = output(kontor(dir.path()).args(["tan", "decode", "not a challenge"]));
    assert_invalid_input(&out);
    let out = output(kontor(dir.path()).args(["tan", "decode", "--hhd", "2.0", "0388A01239230520422"]));
    assert_invalid_input(&out);
}

#[test]
fn a_remote_provider_over_plain_http_is_refused() {
    let dir = tempdir();
    let add = |url: &str| {
        output(
            kontor(dir.path())
                .args(["--json", "provider", "add", "--base-url", url, "--client-id", "kontor-test"])
                .env("KONTOR_CLIENT_SECRET", "a secret that must not travel in the clear"),
        )
    };
    let line = assert_invalid_input(&add("http://bank.example.com"));
    assert!(line["message"].as_str().unwrap_or_default().contains("https://"), "{line}");
    let listed = output(kontor(dir.path()).args(["--json", "provider", "list"]));
    assert!(!String::from_utf8_lossy(&listed.stdout).contains("bank.example.com"), "the refused provider was kept");

    let out = add("http://127.0.0.1:9");
    let line = json_line(&out);
    assert!(out.status.success(), "a loopback provider over http was refused: {line}");
}

#[test]
fn a_data_directory_others_can_write_to_is_refused_and_left_as_it_is() {
    let dir = tempdir();
    let shared = dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap_or_else(|err| panic!("{err}"));
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap_or_else(|err| panic!("{err}"));
    let out = output(kontor(dir.path()).arg("--json").arg("--data-dir").arg(&shared).arg("connections"));
    let line = assert_invalid_input(&out);
    assert!(line["message"].as_str().unwrap_or_default().contains("other users"), "{line}");
    let mode = std::fs::metadata(&shared).map(|m| m.permissions().mode() & 0o7777).unwrap_or_default();
    assert_eq!(mode, 0o1777);
    assert_eq!(std::fs::read_dir(&shared).map(Iterator::count).ok(), Some(0));
}

#[test]
fn a_limit_out_of_range_names_the_range() {
    let dir = tempdir();
    for limit in ["0", "100001"] {
        let line = assert_invalid_input(&output(kontor(dir.path()).args(["--json", "transactions", "--limit", limit])));
        let message = line["message"].as_str().unwrap_or_default();
        assert!(message.contains("1..=1000"), "--limit {limit}: {line}");
    }
}
