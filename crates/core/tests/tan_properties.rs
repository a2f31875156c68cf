//! Property tests: no input makes a TAN parser panic, and rendering is stable under decoding.

use kontor_core::tan::{
    Challenge, DataElement, HhdVersion, bqr_payload, decode_chlguc_image, decode_data_uri, decode_matrix_container,
    decode_optical_data, decode_photo_base64, decode_rendered, flicker_frames, flicker_from_challenge, parse_challenge,
    render, split_chlguc,
};
use proptest::prelude::*;

fn exercise_text_parsers(input: &str) {
    for hint in [None, Some(HhdVersion::Hhd13), Some(HhdVersion::Hhd14)] {
        let _ = parse_challenge(input, hint);
        if let Ok(code) = flicker_from_challenge(input, hint) {
            assert!(decode_rendered(&code.render_hex).is_ok(), "rendered {} does not decode", code.render_hex);
        }
        if let Ok(code) = decode_optical_data(input, hint) {
            assert!(decode_rendered(&code.render_hex).is_ok(), "optical {} does not decode", code.render_hex);
        }
    }
    let _ = decode_rendered(input);
    let _ = flicker_frames(input);
    let _ = bqr_payload(input);
    let _ = split_chlguc(input);
    let _ = decode_photo_base64(input, None);
    let _ = decode_photo_base64(input, Some("image/png"));
    let _ = decode_data_uri(input);
    let _ = decode_chlguc_image(input);
    let _ = HhdVersion::from_hint(input);
    let _ = decode_matrix_container(input.as_bytes());
}

/// Strings shaped like raw challenges: decimal LC, hex LS and control byte, digits, LDEs and text.
fn near_valid_challenge() -> impl Strategy<Value = String> {
    prop::string::string_regex(
        "(CHLGUC ?[0-9]{4})?[0-9]{2,3} ?[0-9A-F8]{2} ?(0[0-9A-F]|8[0-9A-F]){0,3} ?[0-9]{0,14}( ?[0-9]{2,3} ?[0-9A-Z,.]{0,40}){0,4}(CHLGTEXT[0-9]{0,4}.{0,10})?",
    )
    .unwrap_or_else(|err| panic!("regex: {err}"))
}

fn near_valid_rendered() -> impl Strategy<Value = String> {
    prop::string::string_regex("[0-9A-Fa-f]{2}(8[0-9A-F]01|0[0-9A-F])[0-9A-F]{0,80}")
        .unwrap_or_else(|err| panic!("regex: {err}"))
}

fn element(max_digits: usize, max_text: usize) -> impl Strategy<Value = DataElement> {
    prop_oneof![
        prop::string::string_regex(&format!("[0-9]{{0,{max_digits}}}"))
            .unwrap_or_else(|err| panic!("regex: {err}"))
            .prop_map(|digits| DataElement::by_content(digits, false)),
        (prop::collection::vec(0x20u8..=0xFF, 0..=max_text), any::<bool>()).prop_map(|(bytes, force_ascii)| {
            DataElement::by_content(bytes.into_iter().map(char::from).collect::<String>(), force_ascii)
        }),
    ]
}

fn challenge() -> impl Strategy<Value = Challenge> {
    (any::<bool>(), prop::collection::vec(element(30, 20), 0..=3), "[0-9]{0,12}").prop_map(
        |(hhd14, data_elements, start_code)| Challenge {
            control_bytes: if hhd14 { vec![0x01] } else { Vec::new() },
            start_code: DataElement::by_content(start_code, false),
            data_elements,
        },
    )
}

/// The raw challenge a bank would send for `challenge`: 3-digit LC and 2-digit LDEs for HHD 1.4, 2-digit LC
/// for HHD 1.3; `None` where the raw format cannot express it.
fn raw_challenge(challenge: &Challenge) -> Option<String> {
    let version = challenge.version();
    let field = |element: &DataElement, width: usize| {
        let ascii_flag = if element.encoding == kontor_core::tan::DataEncoding::Ascii { 0x40 } else { 0 };
        (element.value.chars().count() | ascii_flag, width)
    };
    let (start_length, _) = field(&challenge.start_code, 2);
    let mut rest = format!("{:02X}", start_length | if challenge.control_bytes.is_empty() { 0 } else { 0x80 });
    for byte in &challenge.control_bytes {
        rest.push_str(&format!("{byte:02X}"));
    }
    rest.push_str(&challenge.start_code.value);
    for element in &challenge.data_elements {
        let (length, _) = field(element, 2);
        if element.value.chars().count() > 63 || element.value.chars().any(char::is_whitespace) {
            return None;
        }
        rest.push_str(&format!("{length:02}"));
        rest.push_str(&element.value);
    }
    let rest_length = rest.chars().count();
    match version {
        HhdVersion::Hhd14 if rest_length <= 999 => Some(format!("{rest_length:03}{rest}")),
        HhdVersion::Hhd13 if rest_length <= 99 => Some(format!("{rest_length:02}{rest}")),
        _ => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn tan_no_panic_on_arbitrary_strings(input in any::<String>()) {
        exercise_text_parsers(&input);
    }

    #[test]
    fn tan_no_panic_on_near_valid_challenges(input in near_valid_challenge()) {
        exercise_text_parsers(&input);
    }

    #[test]
    fn tan_no_panic_on_near_valid_rendered_codes(input in near_valid_rendered()) {
        exercise_text_parsers(&input);
    }

    #[test]
    fn tan_no_panic_on_arbitrary_containers(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = decode_matrix_container(&bytes);
        let mut container = vec![0, 9];
        container.extend_from_slice(b"image/png");
        container.extend_from_slice(&bytes);
        let _ = decode_matrix_container(&container);
    }

    #[test]
    fn tan_decoding_a_rendered_code_and_rendering_again_is_identity(challenge in challenge()) {
        if let Ok(code) = render(&challenge) {
            let decoded = decode_rendered(&code.render_hex);
            prop_assert_eq!(decoded.as_ref(), Ok(&code));
            let again = decoded.and_then(|decoded| render(&decoded.challenge())).map(|c| c.render_hex);
            prop_assert_eq!(again, Ok(code.render_hex.clone()));
            let frames = flicker_frames(&code.render_hex).map(|frames| frames.len());
            prop_assert_eq!(frames, Ok(2 * (code.render_hex.len() + 4)));
        }
    }

    #[test]
    fn tan_raw_challenge_parses_back_to_its_fields(challenge in challenge()) {
        if let Some(raw) = raw_challenge(&challenge) {
            let hint = Some(challenge.version());
            let trimmed = Challenge {
                data_elements: {
                    let mut elements = challenge.data_elements.clone();
                    while elements.last().is_some_and(|e| e.value.is_empty()) {
                        elements.pop();
                    }
                    elements
                },
                ..challenge.clone()
            };
            prop_assert_eq!(parse_challenge(&raw, hint), Ok(trimmed));
        }
    }
}
