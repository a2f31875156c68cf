//! Every vector of `shared/fixtures/flicker-vectors.json` (tan.md §8), read at test time.

use std::path::PathBuf;

use kontor_core::tan::{
    DataEncoding, FlickerCode, HhdVersion, TanError, decode_matrix_container, decode_optical_data, decode_photo_base64,
    decode_rendered, flicker_from_challenge, render,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

const EXPECTED_VECTOR_COUNT: usize = 16;

fn vectors_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/flicker-vectors.json")
}

fn load_vectors() -> Vec<Value> {
    let path = vectors_path();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("the flicker vectors must exist at {}: {err}", path.display()));
    match serde_json::from_str(&text) {
        Ok(Value::Array(vectors)) => vectors,
        other => panic!("{} is not a JSON array: {other:?}", path.display()),
    }
}

fn text<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

fn version_of(text: &str) -> HhdVersion {
    match text {
        "1.3" => HhdVersion::Hhd13,
        "1.4" => HhdVersion::Hhd14,
        other => panic!("unknown version {other} in the vectors"),
    }
}

fn encoding_of(text: &str) -> DataEncoding {
    match text {
        "ASCII" => DataEncoding::Ascii,
        "BCD" => DataEncoding::Bcd,
        other => panic!("unknown encoding {other} in the vectors"),
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Compares the parsed fields a vector states; missing keys are not checked.
fn check_flicker_fields(code: &FlickerCode, fields: &Value) -> Result<(), String> {
    let mut problems = Vec::new();
    if let Some(version) = text(fields, "version")
        && code.version != version_of(version)
    {
        problems.push(format!("version {} != {version}", code.version));
    }
    if let Some(start_code) = text(fields, "startcode")
        && code.start_code.value != start_code
    {
        problems.push(format!("start code {} != {start_code}", code.start_code.value));
    }
    for (index, key) in ["de1", "de2", "de3"].iter().enumerate() {
        let actual = code.data_elements.get(index).map(|element| element.value.as_str());
        match fields.get(*key) {
            None => {}
            Some(Value::Null) if actual.is_some() => problems.push(format!("{key} should be absent, is {actual:?}")),
            Some(Value::Null) => {}
            Some(Value::String(expected)) if actual != Some(expected.as_str()) => {
                problems.push(format!("{key} {actual:?} != {expected}"));
            }
            Some(Value::String(_)) => {}
            Some(described @ Value::Object(_)) => {
                let (expected, encoding) = if let Some(bcd) = text(described, "bcd") {
                    (bcd.to_owned(), DataEncoding::Bcd)
                } else if let Some(ascii) = text(described, "ascii") {
                    (ascii.to_owned(), DataEncoding::Ascii)
                } else {
                    panic!("{key} object has neither bcd nor ascii");
                };
                let element = code.data_elements.get(index);
                if element.map(|e| (e.value.as_str(), e.encoding)) != Some((expected.as_str(), encoding)) {
                    problems.push(format!("{key} {element:?} != {expected} {encoding:?}"));
                }
            }
            Some(other) => panic!("unexpected {key} {other}"),
        }
    }
    if let Some(encodings) = fields.get("de_encodings").and_then(Value::as_array) {
        let expected: Vec<DataEncoding> = encodings.iter().filter_map(Value::as_str).map(encoding_of).collect();
        let actual: Vec<DataEncoding> = code.data_elements.iter().map(|element| element.encoding).collect();
        if expected != actual {
            problems.push(format!("encodings {actual:?} != {expected:?}"));
        }
    }
    if let Some(control_bytes) = fields.get("control_bytes").and_then(Value::as_array) {
        let expected: Vec<String> = control_bytes.iter().filter_map(Value::as_str).map(str::to_uppercase).collect();
        let actual: Vec<String> = code.control_bytes.iter().map(|byte| format!("{byte:02X}")).collect();
        if expected != actual {
            problems.push(format!("control bytes {actual:?} != {expected:?}"));
        }
    }
    if let Some(ls) = text(fields, "ls") {
        let digits = code.start_code.value.len();
        let flag = if code.control_bytes.is_empty() { 0 } else { 0x80 };
        if format!("{:02X}", digits | flag) != ls.to_uppercase() {
            problems.push(format!("LS of {digits} digits does not give {ls}"));
        }
    }
    for (key, actual) in [("luhn", &code.luhn), ("xor", &code.xor)] {
        if let Some(expected) = text(fields, key)
            && !actual.eq_ignore_ascii_case(expected)
        {
            problems.push(format!("{key} {actual} != {expected}"));
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(problems.join("; ")) }
}

fn check_vector(vector: &Value) -> Result<(), String> {
    let input = text(vector, "input").ok_or("no input")?;
    let fields = vector.get("expected_fields").ok_or("no expected_fields")?;
    let format = text(fields, "format").ok_or("no format")?;
    let valid = vector.get("valid").and_then(Value::as_bool).ok_or("no valid flag")?;
    let expected_hex = text(vector, "expected_render_hex");

    match format {
        "hhd13_challenge" | "hhd14_challenge" => {
            let code = flicker_from_challenge(input, None).map_err(|err| format!("rejected: {err}"))?;
            let expected_hex = expected_hex.ok_or("challenge vector without expected_render_hex")?;
            if !code.render_hex.eq_ignore_ascii_case(expected_hex) {
                return Err(format!("rendered {} != {expected_hex}", code.render_hex));
            }
            check_flicker_fields(&code, fields)?;
            let via_optical_data = decode_optical_data(input, None).map_err(|err| format!("optical data: {err}"))?;
            if via_optical_data != code {
                return Err("decode_optical_data disagrees with flicker_from_challenge".into());
            }
            let read_back = decode_rendered(expected_hex).map_err(|err| format!("rendered hex unreadable: {err}"))?;
            if read_back.render_hex != code.render_hex || read_back.version != code.version {
                return Err("the rendered code does not read back to itself".into());
            }
        }
        "rendered_flicker" => {
            let code = decode_rendered(input).map_err(|err| format!("rejected: {err}"))?;
            let expected_hex = expected_hex.ok_or("rendered vector without expected_render_hex")?;
            if !code.render_hex.eq_ignore_ascii_case(expected_hex) {
                return Err(format!("decoded {} != {expected_hex}", code.render_hex));
            }
            if let Some(lc_bytes) = fields.get("lc_bytes").and_then(Value::as_u64)
                && code.render_hex.len() as u64 / 2 - 1 != lc_bytes
            {
                return Err(format!("LC is not {lc_bytes} bytes"));
            }
            check_flicker_fields(&code, fields)?;
            let rendered_again = render(&code.challenge()).map_err(|err| format!("re-render: {err}"))?;
            if rendered_again.render_hex != code.render_hex {
                return Err(format!("re-rendered {} != {}", rendered_again.render_hex, code.render_hex));
            }
            if decode_optical_data(input, None).as_ref() != Ok(&code) {
                return Err("decode_optical_data does not take the rendered code as it is".into());
            }
        }
        "rendered_flicker_passed_as_challenge" => {
            match flicker_from_challenge(input, None) {
                Err(TanError::AlreadyRendered) => {}
                other => return Err(format!("expected AlreadyRendered, got {other:?}")),
            }
            if let Ok(code) = decode_optical_data(input, None) {
                return Err(format!("decode_optical_data accepted it as {}", code.render_hex));
            }
        }
        "plain_text" => {
            if let Ok(code) = flicker_from_challenge(input, None) {
                return Err(format!("rendered plain text as {}", code.render_hex));
            }
            match decode_optical_data(input, None) {
                Err(TanError::NotFlickerData { .. }) => {}
                other => return Err(format!("expected NotFlickerData, got {other:?}")),
            }
        }
        "matrix_container_base64" => {
            use base64::Engine as _;
            let container = base64::engine::general_purpose::STANDARD
                .decode(input)
                .map_err(|err| format!("fixture is not base64: {err}"))?;
            if Some(container.len() as u64) != fields.get("container_length").and_then(Value::as_u64) {
                return Err(format!("container length {}", container.len()));
            }
            let photo = decode_matrix_container(&container).map_err(|err| format!("rejected: {err}"))?;
            if decode_photo_base64(input, None).as_ref() != Ok(&photo) {
                return Err("decode_photo_base64 disagrees with decode_matrix_container".into());
            }
            if Some(photo.mime_type.as_str()) != text(fields, "mime_type") {
                return Err(format!("mime type {}", photo.mime_type));
            }
            if Some(photo.image.len() as u64) != fields.get("image_length").and_then(Value::as_u64) {
                return Err(format!("image length {}", photo.image.len()));
            }
            let first_bytes = text(fields, "image_first_bytes_hex").ok_or("no image_first_bytes_hex")?;
            if !hex::encode(&photo.image).starts_with(first_bytes) {
                return Err("image does not start with the expected bytes".into());
            }
            if Some(sha256_hex(&photo.image).as_str()) != text(fields, "image_sha256") {
                return Err("image sha256 differs".into());
            }
        }
        "finapi_phototan_base64" => {
            let declared = text(fields, "photoTanMimeType").ok_or("no photoTanMimeType")?;
            let photo = decode_photo_base64(input, Some(declared)).map_err(|err| format!("rejected: {err}"))?;
            let sniffed = decode_photo_base64(input, None).map_err(|err| format!("rejected without MIME: {err}"))?;
            if sniffed != photo || photo.mime_type != declared {
                return Err(format!("mime type {} / {}", photo.mime_type, sniffed.mime_type));
            }
            if Some(photo.image.len() as u64) != fields.get("decoded_length").and_then(Value::as_u64) {
                return Err(format!("image length {}", photo.image.len()));
            }
            let prefix = text(fields, "decoded_starts_with").ok_or("no decoded_starts_with")?;
            if !photo.image.starts_with(prefix.as_bytes()) {
                return Err("image does not start with the expected text".into());
            }
            if Some(sha256_hex(&photo.image).as_str()) != text(fields, "decoded_sha256") {
                return Err("image sha256 differs".into());
            }
            if !photo.data_uri().starts_with("data:image/svg+xml;base64,PD94bWwg") {
                return Err("data URI is not built from the MIME type and base64".into());
            }
        }
        other => return Err(format!("unknown vector format {other}: extend this test")),
    }
    let expected_valid = !matches!(format, "rendered_flicker_passed_as_challenge" | "plain_text");
    if valid != expected_valid {
        return Err(format!("vector says valid={valid} but format {format} implies {expected_valid}"));
    }
    Ok(())
}

#[test]
fn tan_vectors_all_pass() {
    let vectors = load_vectors();
    assert_eq!(vectors.len(), EXPECTED_VECTOR_COUNT, "the fixture changed size; review the new vectors");
    let mut failures = Vec::new();
    for (index, vector) in vectors.iter().enumerate() {
        if let Err(problem) = check_vector(vector) {
            failures.push(format!("vector {index} ({}): {problem}", text(vector, "input").unwrap_or("?")));
        }
    }
    let passed = vectors.len() - failures.len();
    println!("flicker vectors passed: {passed} of {}", vectors.len());
    assert!(failures.is_empty(), "{} vectors failed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn tan_vectors_hbci4java_spec_example_renders() {
    let code = flicker_from_challenge("0248A0120452019980812345678", None).map_err(|e| e.to_string());
    assert_eq!(code.map(|c| c.render_hex), Ok("0D85012045201998041234567855".to_owned()));
}
