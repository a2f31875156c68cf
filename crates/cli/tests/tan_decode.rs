//! `kontor tan decode` run as a process: one JSON object on stdout, or exit status 2 and a message on stderr.

use std::process::{Command, Output};
use std::time::Duration;

use kontor_testkit::output_within;

use serde_json::{Value, json};

const MATRIX_CONTAINER: &str = "AAlpbWFnZS9wbmcAX4lQTkcNChoKAAAADUlIRFIAAAABAAAAAQEDAAAAJdtWygAAAANQTFRF/00AXDU4fwAAAAF0Uk5TAEDm2GYAAAAKSURBVHicY2IAAAAGAAM2N3yoAAAAAElFTkSuQmCC";

fn kontor(args: &[&str]) -> Output {
    output_within(Command::new(env!("CARGO_BIN_EXE_kontor")).args(args), Duration::from_secs(60))
        .unwrap_or_else(|err| panic!("kontor {args:?}: {err}"))
}

fn single_json_object(output: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "expected exactly one line on stdout, got {stdout:?}");
    let value: Value = serde_json::from_str(lines.first().copied().unwrap_or_default())
        .unwrap_or_else(|err| panic!("stdout is not JSON ({err}): {stdout}"));
    assert!(value.is_object(), "{value}");
    value
}

#[test]
fn tan_decode_prints_a_flicker_code() {
    let output = kontor(&["tan", "decode", "0248A0120452019980812345678"]);
    assert!(output.status.success(), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(
        single_json_object(&output),
        json!({
            "kind": "flicker",
            "version": "1.4",
            "start_code": "2045201998",
            "data_elements": ["12345678"],
            "render_hex": "0D85012045201998041234567855",
            "luhn": "5",
            "xor": "5",
        })
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.starts_with(r#"{"kind":"flicker","version":"1.4","start_code":"#), "{stdout}");
}

#[test]
fn tan_decode_with_hhd13_hint() {
    let output = kontor(&["tan", "decode", "--hhd", "1.3", "2908881904551000000039990515,00"]);
    assert!(output.status.success(), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    let value = single_json_object(&output);
    assert_eq!(value.get("version"), Some(&json!("1.3")));
    assert_eq!(value.get("data_elements"), Some(&json!(["0000003999", "15,00"])));
    assert_eq!(value.get("render_hex"), Some(&json!("1204881904550500000039991531352C30308A")));
}

#[test]
fn tan_decode_prints_a_photo() {
    let output = kontor(&["tan", "decode", "--photo", MATRIX_CONTAINER]);
    assert!(output.status.success(), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(
        single_json_object(&output),
        json!({
            "kind": "photo",
            "mime_type": "image/png",
            "image_length": 95,
            "image_sha256": "cafbd551d674da240212f6c44988757a728b9dc8cbc2a6c8dcf53c0d9159c323",
        })
    );
}

#[test]
fn tan_decode_rejects_invalid_input_with_status_2_and_a_json_error_line() {
    for args in [
        vec!["tan", "decode", "Bitte geben Sie die TAN ein"],
        vec!["tan", "decode", "0D85012045201998041234567865X"],
        vec!["tan", "decode", "--photo", "aGVsbG8gd29ybGQ="],
        vec!["tan", "decode", "--hhd", "1.5", "0248A0120452019980812345678"],
    ] {
        let output = kontor(&args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let line = single_json_object(&output);
        assert_eq!(line["type"], "error", "{args:?}: {line}");
        assert_eq!(line["code"], "InvalidInput", "{args:?}: {line}");
    }
    let line = single_json_object(&kontor(&["tan", "decode", "Bitte geben Sie die TAN ein"]));
    assert!(line["message"].as_str().unwrap_or_default().contains("not flicker data"), "{line}");
}
