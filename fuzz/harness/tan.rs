//! TAN parsers: arbitrary bytes through every entry point of `kontor_core::tan` (what `kontor tan decode`,
//! finAPI's `opticalData`/`photoTanData` and finX's `data:` URIs reach). Shared by the fuzz target
//! `fuzz/fuzz_targets/tan.rs` and the corpus replay in `crates/core/tests/fuzz_corpus.rs`.
//!
//! Input: the first byte picks the HHD hint (none, 1.3, 1.4) and the declared photoTAN MIME type; the rest is
//! the text (lossily UTF-8) and, for the matrix container, the bytes.
//!
//! Properties: no panic; every flicker code that any parser accepts is well formed (upper-case hex, LC, Luhn and
//! XOR as documented), reads back with `decode_rendered` to the same fields, renders again to the same hex
//! (parse → render → parse), animates, and gives a BQR payload whose CRC checks; every photoTAN is of an
//! allowed type, non-empty, and survives its own `data:` URI unchanged.

use kontor_core::tan::{
    self, ALLOWED_IMAGE_TYPES, DataEncoding, FlickerCode, HhdVersion, PhotoTan, crc16_arc, decode_chlguc_image,
    decode_data_uri, decode_matrix_container, decode_optical_data, decode_photo_base64, decode_rendered,
    flicker_frames, flicker_from_challenge, parse_challenge,
};

pub fn check(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let hint = [None, Some(HhdVersion::Hhd13), Some(HhdVersion::Hhd14)][usize::from(selector % 3)];
    let declared = ALLOWED_IMAGE_TYPES.get(usize::from(selector / 3) % (ALLOWED_IMAGE_TYPES.len() + 1)).copied();
    let text = String::from_utf8_lossy(rest);

    if let Ok(challenge) = parse_challenge(&text, hint) {
        if let Ok(code) = tan::render(&challenge) {
            assert_eq!(code.challenge(), challenge, "render changed the challenge of {text:?}");
            check_flicker(&code, &text);
        }
    }
    for code in [flicker_from_challenge(&text, hint), decode_optical_data(&text, hint), decode_rendered(&text)]
        .into_iter()
        .flatten()
    {
        check_flicker(&code, &text);
    }
    if let Ok(frames) = flicker_frames(&text) {
        assert_eq!(frames.len() % 4, 0, "frames of {text:?}");
    }
    if let Ok(payload) = tan::bqr_payload(&text) {
        let code = decode_rendered(&text);
        assert!(code.is_ok(), "a BQR payload for {text:?}, which is no valid rendered code");
        if let Ok(code) = code {
            check_bqr(&payload, &code);
        }
    }

    for photo in [
        decode_photo_base64(&text, None),
        decode_photo_base64(&text, declared),
        decode_data_uri(&text),
        decode_chlguc_image(&text),
        decode_matrix_container(rest),
    ]
    .into_iter()
    .flatten()
    {
        check_photo(&photo, &text);
    }
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len() / 2)
        .filter_map(|at| hex.get(2 * at..2 * at + 2))
        .filter_map(|pair| u8::from_str_radix(pair, 16).ok())
        .collect()
}

fn check_flicker(code: &FlickerCode, input: &str) {
    let hex = &code.render_hex;
    assert!(
        !hex.is_empty() && hex.len() % 2 == 0 && hex.chars().all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c)),
        "{input:?} gave render_hex {hex:?}, not upper-case hex of even length"
    );
    let bytes = hex_bytes(hex);
    assert_eq!(bytes.len() * 2, hex.len());
    assert_eq!(bytes.first().map(|&lc| usize::from(lc)), Some(bytes.len() - 1), "LC of {hex:?} from {input:?}");
    assert_eq!(format!("{}{}", code.luhn, code.xor), hex[hex.len() - 2..], "checksum of {hex:?} from {input:?}");
    let version = if code.control_bytes.is_empty() { HhdVersion::Hhd13 } else { HhdVersion::Hhd14 };
    assert_eq!(code.version, version, "version of {hex:?} from {input:?}");

    // parse → render → parse
    let again = decode_rendered(hex);
    assert!(again.is_ok(), "{input:?} gave {hex:?}, which does not read back: {again:?}");
    let Ok(again) = again else { return };
    assert_eq!(again.render_hex, *hex);
    assert_eq!(again.version, code.version);
    assert_eq!(again.control_bytes, code.control_bytes);
    let elements = |c: &FlickerCode| {
        std::iter::once(c.start_code.clone()).chain(c.data_elements.iter().cloned()).collect::<Vec<_>>()
    };
    let (before, after) = (elements(code), elements(&again));
    assert_eq!(before.len(), after.len(), "{hex:?} from {input:?} read back with other elements");
    for (one, other) in before.iter().zip(&after) {
        assert_eq!(one.value, other.value, "{hex:?} from {input:?} read back with other values");
        if !one.value.is_empty() {
            assert_eq!(one.encoding, other.encoding, "{hex:?} from {input:?} read back with another encoding");
        }
    }
    // An empty element flagged ASCII (`40`/`10`) is valid input but renders as `00`; otherwise rendering the
    // read-back code gives the same hex.
    if !after.iter().any(|e| e.value.is_empty() && e.encoding == DataEncoding::Ascii) {
        let rendered = tan::render(&again.challenge());
        assert!(
            matches!(&rendered, Ok(r) if r.render_hex == *hex),
            "{hex:?} (from {input:?}) renders again as {rendered:?}"
        );
    }

    let frames = code.frames();
    assert!(matches!(&frames, Ok(f) if f.len() == (bytes.len() + 2) * 4), "frames of {hex:?}: {frames:?}");
    let payload = tan::bqr_payload(hex);
    assert!(payload.is_ok(), "no BQR payload for {hex:?}: {payload:?}");
    if let Ok(payload) = payload {
        check_bqr(&payload, code);
    }
}

/// `DK` + (`N` + code bytes + CRC-16/ARC of `DK N code`) XOR the repeating key `DK`.
fn check_bqr(payload: &[u8], code: &FlickerCode) {
    let bytes = hex_bytes(&code.render_hex);
    assert_eq!(payload.get(..2), Some(b"DK".as_slice()));
    let plain: Vec<u8> = payload.iter().skip(2).zip(b"DK".iter().cycle()).map(|(byte, key)| byte ^ key).collect();
    assert_eq!(plain.len(), bytes.len() + 3, "BQR payload length for {}", code.render_hex);
    assert_eq!(plain.first(), Some(&b'N'));
    assert_eq!(plain.get(1..=bytes.len()), Some(bytes.as_slice()));
    let checked: Vec<u8> = b"DKN".iter().chain(&bytes).copied().collect();
    assert_eq!(plain.get(bytes.len() + 1..), Some(crc16_arc(&checked).to_be_bytes().as_slice()));
}

fn check_photo(photo: &PhotoTan, input: &str) {
    assert!(ALLOWED_IMAGE_TYPES.contains(&photo.mime_type.as_str()), "{input:?} gave MIME type {}", photo.mime_type);
    assert!(!photo.image.is_empty(), "{input:?} gave an empty image");
    let again = decode_data_uri(&photo.data_uri());
    assert!(matches!(&again, Ok(p) if p == photo), "{input:?}: the photo's own data: URI reads as {again:?}");
}
