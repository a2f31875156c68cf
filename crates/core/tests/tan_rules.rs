//! Tests built from the rules of tan.md for what the vector file does not cover. Expected values were worked
//! out by hand from §3.1 (Luhn and XOR sums are spelled out where they matter).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use kontor_core::tan::{
    ChallengeFault, DataEncoding, FlickerFrame, HhdVersion, Reading, TanError, bqr_payload, crc16_arc,
    decode_chlguc_image, decode_data_uri, decode_matrix_container, decode_optical_data, decode_photo_base64,
    decode_rendered, flicker_frames, flicker_from_challenge, parse_challenge, split_chlguc,
};

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

fn render_hex(raw: &str, hint: Option<HhdVersion>) -> Result<String, String> {
    flicker_from_challenge(raw, hint).map(|code| code.render_hex).map_err(|err| err.to_string())
}

// --- HHD 1.3 without a BPD hint (§2.5 step 4) ---

/// tan.md's example that hbci4java misreads as HHD 1.4 (`290` → `88`). LC 290 > 28 rejects the 3-digit
/// readings. Luhn over 88 19 04 55 00 00 00 39 99 31 35 2C 30 30 = 92 → 8; XOR of all nibbles → A.
#[test]
fn tan_hhd13_without_hint_rejects_lc_larger_than_rest() {
    let raw = "2908881904551000000039990515,00";
    assert_eq!(render_hex(raw, None), Ok("1204881904550500000039991531352C30308A".to_owned()));
    let code = flicker_from_challenge(raw, None).map_err(|e| e.to_string());
    let code = code.as_ref().map(|c| (c.version, c.start_code.value.as_str(), c.data_elements.len()));
    assert_eq!(code, Ok((HhdVersion::Hhd13, "88190455", 2)));
}

#[test]
fn tan_hhd13_hint_matches_unhinted_reading() {
    let raw = "2908881904551000000039990515,00";
    assert_eq!(render_hex(raw, Some(HhdVersion::Hhd13)), render_hex(raw, None));
}

#[test]
fn tan_hhd14_hint_refuses_hhd13_code_and_says_why() {
    let Err(err) = parse_challenge("2908881904551000000039990515,00", Some(HhdVersion::Hhd14)) else {
        panic!("an HHD 1.3 code was read as HHD 1.4");
    };
    let TanError::NotAChallenge { failures } = &err else { panic!("expected NotAChallenge, got {err:?}") };
    assert_eq!(failures.len(), 2);
    assert!(failures.iter().all(|f| f.fault == ChallengeFault::LcExceedsRest { lc: 290, rest: 28 }));
    assert_eq!(failures.first().map(|f| f.reading), Some(Reading::Lc3Lde2));
    let message = err.to_string();
    assert!(message.contains("LC 290 is larger than the 28 characters that follow"), "{message}");
}

#[test]
fn tan_hhd13_hint_refuses_hhd14_code() {
    assert!(parse_challenge("0248A0120452019980812345678", Some(HhdVersion::Hhd13)).is_err());
    assert_eq!(
        render_hex("0248A0120452019980812345678", Some(HhdVersion::Hhd14)).as_deref(),
        Ok("0D85012045201998041234567855")
    );
}

#[test]
fn tan_version_hint_from_tan_method_names() {
    assert_eq!(HhdVersion::from_hint("HHD1.3.2OPT"), Some(HhdVersion::Hhd13));
    assert_eq!(HhdVersion::from_hint("HHD1.4"), Some(HhdVersion::Hhd14));
    assert_eq!(HhdVersion::from_hint("hhd14"), Some(HhdVersion::Hhd14));
    assert_eq!(HhdVersion::from_hint("1.3.2"), Some(HhdVersion::Hhd13));
    assert_eq!(HhdVersion::from_hint("photoTAN"), None);
    assert_eq!("1.4".parse::<HhdVersion>(), Ok(HhdVersion::Hhd14));
    assert!(matches!("1.5".parse::<HhdVersion>(), Err(TanError::UnknownHhdVersion { .. })));
}

// --- Sparda 3-digit LDEs (§2.3) ---

/// hbci4java test9. The 2-digit-LDE reading hits `E1`; the 3-digit one fits. Luhn: 29 (01 + start code)
/// + 152 (IBAN) + 19 (`1,00`) = 200 → 0; XOR → 5.
#[test]
fn tan_sparda_three_digit_lde() {
    let raw = "044 88 01 20932160 022 DE12500105170648489890 004 1,00";
    let code = flicker_from_challenge(raw, None).map_err(|e| e.to_string());
    let summary = code
        .as_ref()
        .map(|c| (c.version, c.data_elements.iter().map(|e| (e.value.as_str(), e.encoding)).collect::<Vec<_>>()));
    assert_eq!(
        summary,
        Ok((HhdVersion::Hhd14, vec![("DE12500105170648489890", DataEncoding::Ascii), ("1,00", DataEncoding::Ascii)]))
    );
    assert_eq!(
        code.map(|c| c.render_hex),
        Ok("23840120932160564445313235303031303531373036343834383938393044312C303005".to_owned())
    );
}

// --- CHLGUC framing (§2.4) ---

#[test]
fn tan_chlguc_embedded_hhd13_renders_like_the_bare_challenge() {
    let text = "CHLGUC  00312908881696281098765432100532,00CHLGTEXT0025Bitte Auftrag bestätigen";
    let expected = "1204881696280598765432101533322C30303A";
    assert_eq!(render_hex(text, None).as_deref(), Ok(expected));
    assert_eq!(render_hex(text, Some(HhdVersion::Hhd13)).as_deref(), Ok(expected));
    let parts = split_chlguc(text).map_err(|e| e.to_string());
    let parts = parts.as_ref().map(|p| p.as_ref().map(|p| (p.payload.as_str(), p.user_text.as_str())));
    assert_eq!(parts, Ok(Some(("2908881696281098765432100532,00", "Bitte Auftrag bestätigen"))));
}

#[test]
fn tan_chlguc_malformed_frames_are_rejected() {
    assert!(matches!(
        parse_challenge("CHLGUC 2908881696281098765432100532,00", None),
        Err(TanError::MalformedChlguc { .. })
    ));
    assert!(matches!(parse_challenge("CHLGUC 12CHLGTEXT0003abc", None), Err(TanError::MalformedChlguc { .. })));
    assert_eq!(split_chlguc("0248A0120452019980812345678"), Ok(None));
}

// --- rendering rules (§3) ---

/// Empty DE1 followed by DE2: length `00` (the specification rule fints4k quotes). Luhn 59 → 1; XOR → 4.
#[test]
fn tan_empty_middle_data_element_renders_as_00() {
    assert_eq!(render_hex("02088011234567800041,00", None).as_deref(), Ok("0D8401123456780044312C303014"));
}

#[test]
fn tan_empty_trailing_data_element_is_dropped() {
    let with_empty_tail = flicker_from_challenge("020880112345678041,0000", None);
    let without = flicker_from_challenge("018880112345678041,00", None);
    assert_eq!(with_empty_tail.map(|c| c.render_hex), without.map(|c| c.render_hex));
}

#[test]
fn tan_bank_ascii_bit_forces_ascii_for_digits() {
    let code = flicker_from_challenge("018880112345678681234", None).map_err(|e| e.to_string());
    let element = code.as_ref().map(|c| c.data_elements.first().map(|e| (e.value.clone(), e.encoding)));
    assert_eq!(element, Ok(Some(("1234".to_owned(), DataEncoding::Ascii))));
    let hex = code.map(|c| c.render_hex).unwrap_or_default();
    assert!(hex.starts_with("0C84011234567844") && hex.contains("4431323334"), "{hex}");
    assert!(decode_rendered(&hex).is_ok());
}

#[test]
fn tan_hhd13_element_over_15_bytes_is_refused() {
    let result = flicker_from_challenge("2404123416ABCDEFGHIJKLMNOP", None);
    assert!(
        matches!(result, Err(TanError::ElementTooLong { bytes: 16, max: 15, version: HhdVersion::Hhd13, .. })),
        "{result:?}"
    );
}

#[test]
fn tan_characters_outside_latin1_are_refused() {
    let result = flicker_from_challenge("12041234041,0€", None);
    assert!(matches!(result, Err(TanError::UnencodableCharacter { character: '€', .. })), "{result:?}");
}

#[test]
fn tan_leftover_characters_fail_every_reading() {
    let result = parse_challenge("0248A0120452019980812345678X", None);
    assert!(matches!(result, Err(TanError::NotAChallenge { .. })), "{result:?}");
}

#[test]
fn tan_rendered_code_checks_lc_luhn_and_xor() {
    let good = "0D85012045201998041234567855";
    assert!(decode_rendered(good).is_ok());
    assert!(decode_rendered(&good.to_lowercase()).is_ok());
    assert!(matches!(
        decode_rendered("0D85012045201998041234567865"),
        Err(TanError::NotRendered(kontor_core::tan::RenderedFault::LuhnMismatch { .. }))
    ));
    assert!(matches!(
        decode_rendered("0D85012045201998041234567856"),
        Err(TanError::NotRendered(kontor_core::tan::RenderedFault::XorMismatch { .. }))
    ));
    assert!(matches!(
        decode_rendered("0E85012045201998041234567855"),
        Err(TanError::NotRendered(kontor_core::tan::RenderedFault::LcMismatch { .. }))
    ));
}

#[test]
fn tan_optical_data_tries_base64_last() {
    let encoded = STANDARD.encode("070A2082901998");
    assert_eq!(decode_optical_data(&encoded, None).map(|c| c.render_hex), Ok("070520829019981A".to_owned()));
    let rendered_in_base64 = STANDARD.encode("11048813833205002812775114302C30315D");
    assert_eq!(
        decode_optical_data(&rendered_in_base64, None).map(|c| c.render_hex),
        Ok("11048813833205002812775114302C30315D".to_owned())
    );
}

// --- frames (§4.1) ---

fn frame_strings(hex: &str) -> Vec<String> {
    flicker_frames(hex).unwrap_or_default().iter().map(FlickerFrame::to_string).collect()
}

/// `058201100F40` behind `0FFF`, low nibble first, each nibble with clock white then black.
#[test]
fn tan_frames_for_short_code_are_exact() {
    let expected = [
        "11111", "01111", "10000", "00000", // 0F: F, 0
        "11111", "01111", "11111", "01111", // FF: F, F
        "11010", "01010", "10000", "00000", // 05: 5, 0
        "10100", "00100", "10001", "00001", // 82: 2, 8
        "11000", "01000", "10000", "00000", // 01: 1, 0
        "10000", "00000", "11000", "01000", // 10: 0, 1
        "11111", "01111", "10000", "00000", // 0F: F, 0
        "10000", "00000", "10010", "00010", // 40: 0, 4
    ];
    assert_eq!(frame_strings("058201100F40"), expected);
}

#[test]
fn tan_frames_count_and_clock_alternate() {
    let frames = flicker_frames("0D85012045201998041234567855").unwrap_or_default();
    assert_eq!(frames.len(), 64);
    assert!(frames.iter().enumerate().all(|(index, frame)| frame.clock() == (index % 2 == 0)));
    assert!(frames.chunks(2).all(|pair| pair.first().map(|f| f.nibble()) == pair.get(1).map(|f| f.nibble())));
    assert!(matches!(flicker_frames("0G"), Err(TanError::NotRendered(_))));
    assert!(matches!(flicker_frames("123"), Err(TanError::NotRendered(_))));
}

// --- chipTAN-QR (§7) ---

#[test]
fn tan_crc16_arc_check_value() {
    assert_eq!(crc16_arc(b"123456789"), 0xBB3D);
}

#[test]
fn tan_bqr_payload_for_spec_example() {
    let payload = bqr_payload("0D85012045201998041234567855").map(hex::encode_upper);
    assert_eq!(payload, Ok("444B0A46C14A640E6452DC4F567F12331195C0".to_owned()));
    let mut crc_input = b"DKN".to_vec();
    crc_input.extend(hex::decode("0D85012045201998041234567855").unwrap_or_default());
    assert_eq!(crc16_arc(&crc_input), 0xDE84);
    assert!(bqr_payload("0D85012045201998041234567856").is_err());
}

// --- photoTAN (§5) ---

fn container(mime: &[u8], declared_image_length: u16, image: &[u8]) -> Vec<u8> {
    let mut bytes = (mime.len() as u16).to_be_bytes().to_vec();
    bytes.extend_from_slice(mime);
    bytes.extend_from_slice(&declared_image_length.to_be_bytes());
    bytes.extend_from_slice(image);
    bytes
}

#[test]
fn tan_matrix_container_unpacks_mime_and_image() {
    let image = [PNG_SIGNATURE, b"rest"].concat();
    let photo = decode_matrix_container(&container(b"image/png", image.len() as u16, &image));
    assert_eq!(photo.as_ref().map(|p| (p.mime_type.as_str(), p.image.as_slice())), Ok(("image/png", image.as_slice())));
    let padded = decode_matrix_container(&container(b"image/png   ", image.len() as u16, &image));
    assert_eq!(padded.map(|p| p.mime_type), Ok("image/png".to_owned()));
}

#[test]
fn tan_matrix_container_length_rules() {
    let image = [PNG_SIGNATURE, b"0123456789"].concat();
    let shorter = decode_matrix_container(&container(b"image/png", 9, &image)).map(|p| p.image.len());
    assert_eq!(shorter, Ok(9));
    let longer = decode_matrix_container(&container(b"image/png", 3714, &image)).map(|p| p.image.len());
    assert_eq!(longer, Ok(image.len()));
    assert!(matches!(decode_matrix_container(&[0]), Err(TanError::MatrixTooShort { .. })));
    assert!(matches!(decode_matrix_container(&[0, 9, b'i']), Err(TanError::MatrixTooShort { .. })));
    assert!(matches!(decode_matrix_container(&[0, 0, 0, 0]), Err(TanError::InvalidMimeType { .. })));
}

#[test]
fn tan_matrix_container_checks_type_and_magic() {
    let png = PNG_SIGNATURE.to_vec();
    let jpeg_claim = decode_matrix_container(&container(b"image/jpeg", 8, &png));
    assert!(matches!(jpeg_claim, Err(TanError::ImageDoesNotMatchMimeType { .. })), "{jpeg_claim:?}");
    let html = decode_matrix_container(&container(b"text/html", 8, &png));
    assert!(matches!(html, Err(TanError::UnsupportedMimeType { .. })), "{html:?}");
    let empty = decode_matrix_container(&container(b"image/png", 0, &[]));
    assert!(matches!(empty, Err(TanError::EmptyImage)), "{empty:?}");
}

#[test]
fn tan_photo_base64_and_data_uri() {
    let png = STANDARD.encode([PNG_SIGNATURE, b"data"].concat());
    assert_eq!(decode_photo_base64(&png, None).map(|p| p.mime_type), Ok("image/png".to_owned()));
    assert!(matches!(decode_photo_base64(&png, Some("image/gif")), Err(TanError::ImageDoesNotMatchMimeType { .. })));
    assert!(matches!(decode_photo_base64("not base64!", None), Err(TanError::InvalidBase64)));
    assert!(matches!(decode_photo_base64(&STANDARD.encode("hello"), None), Err(TanError::UnknownImageFormat)));
    let uri = format!("data:image/png;base64,{png}");
    let photo = decode_data_uri(&uri);
    assert_eq!(photo.as_ref().map(|p| p.data_uri()), Ok(uri.clone()));
    assert!(matches!(decode_data_uri("data:text/plain,hello"), Err(TanError::InvalidDataUri { .. })));
    assert!(matches!(decode_data_uri("https://example.invalid/x.png"), Err(TanError::InvalidDataUri { .. })));
}

#[test]
fn tan_chlguc_qr_png_is_decoded() {
    let photo = decode_chlguc_image("CHLGUC 0012iVBORw0KGgo=CHLGTEXT0005Hallo");
    assert_eq!(photo.map(|p| (p.mime_type, p.image)), Ok(("image/png".to_owned(), PNG_SIGNATURE.to_vec())));
    assert!(decode_chlguc_image("Bitte TAN eingeben").is_err());
}

#[test]
fn tan_errors_convert_to_invalid_input() {
    let err = kontor_core::KontorError::from(TanError::Empty);
    assert_eq!(err.code, kontor_core::ErrorCode::InvalidInput);
    assert_eq!(err.message, "the TAN challenge is empty");
}

#[test]
fn tan_ipc_types_declare_typescript() {
    use ts_rs::{Config, TS};
    let cfg = Config::default();
    let version = HhdVersion::decl(&cfg);
    assert!(version.contains(r#""1.3" | "1.4""#), "{version}");
    let code = kontor_core::tan::FlickerCode::decl(&cfg);
    for field in
        ["version: HhdVersion", "start_code: DataElement", "data_elements: Array<DataElement>", "render_hex: string"]
    {
        assert!(code.contains(field), "{field} missing in {code}");
    }
    let photo = kontor_core::tan::PhotoTan::decl(&cfg);
    assert!(photo.contains("image: string"), "{photo}");
    let serialized = serde_json::to_value(flicker_from_challenge("0078301100", None).map_err(|e| e.to_string()));
    let serialized = serialized.map_err(|e| e.to_string());
    assert_eq!(
        serialized.ok().and_then(|v| v.get("Ok").cloned()),
        Some(serde_json::json!({
            "version": "1.4",
            "start_code": { "value": "100", "encoding": "BCD" },
            "control_bytes": [1],
            "data_elements": [],
            "render_hex": "058201100F40",
            "luhn": "4",
            "xor": "0",
        }))
    );
}
