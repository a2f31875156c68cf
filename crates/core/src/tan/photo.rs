//! photoTAN images (tan.md §5, §7): the FinTS matrix container, finAPI's base64 image, finX's `data:` URI and
//! the Sparkasse chipTAN-QR PNG framed by `CHLGUC…CHLGTEXT`.
//!
//! Matrix container: 2-byte big-endian MIME length, the MIME type, 2-byte big-endian image length, the image.
//! When the declared image length exceeds the data, the rest of the buffer is taken (lenient, like python-fints
//! and hbci4java), because a real sample declares 3714 bytes and carries a complete 664-byte PNG; the magic-byte
//! check against the MIME type then guards against garbage. Only [`ALLOWED_IMAGE_TYPES`] are accepted, since the
//! image ends up in an `<img>` source.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::{Serialize, Serializer};
use ts_rs::TS;

use super::error::TanError;
use super::hhd::split_chlguc;
use super::truncate_for_message;

pub const ALLOWED_IMAGE_TYPES: &[&str] = &["image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml"];

const LENIENT_PADDING: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT_PADDING);
const URL_SAFE_LENIENT: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, LENIENT_PADDING);

/// A photoTAN (or QR) image with its MIME type. Serialized with the image as standard base64.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, TS)]
pub struct PhotoTan {
    pub mime_type: String,
    #[serde(serialize_with = "serialize_base64")]
    #[ts(type = "string")]
    pub image: Vec<u8>,
}

impl PhotoTan {
    /// An RFC 2397 `data:` URI for an `<img>` source.
    pub fn data_uri(&self) -> String {
        format!("data:{};base64,{}", self.mime_type, base64::engine::general_purpose::STANDARD.encode(&self.image))
    }
}

fn serialize_base64<S: Serializer>(image: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&base64::engine::general_purpose::STANDARD.encode(image))
}

/// Base64 (standard or URL-safe alphabet, padding optional, whitespace ignored) to bytes.
pub(super) fn decode_base64(text: &str) -> Result<Vec<u8>, TanError> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD_LENIENT
        .decode(&compact)
        .or_else(|_| URL_SAFE_LENIENT.decode(&compact))
        .map_err(|_| TanError::InvalidBase64)
}

/// Unpacks a FinTS matrix container (Challenge HHD_UC of photoTAN and HHD 1.4 QR methods).
pub fn decode_matrix_container(container: &[u8]) -> Result<PhotoTan, TanError> {
    let too_short = |needed: usize| TanError::MatrixTooShort { needed, available: container.len() };
    let (mime_length, rest) = split_length(container).ok_or_else(|| too_short(2))?;
    if mime_length == 0 {
        return Err(TanError::InvalidMimeType { mime_type: String::new() });
    }
    let (mime_bytes, rest) = rest.split_at_checked(mime_length).ok_or_else(|| too_short(2 + mime_length + 2))?;
    let (image_length, rest) = split_length(rest).ok_or_else(|| too_short(2 + mime_length + 2))?;
    let image = rest.get(..image_length).unwrap_or(rest);
    let mime_type: String = mime_bytes.iter().map(|&byte| char::from(byte)).collect();
    checked_photo(normalize_mime_type(&mime_type)?, image)
}

/// Decodes a base64 photoTAN: a FinTS matrix container, or the image itself as finAPI's `photoTanData`.
/// For a bare image the MIME type is `declared_mime_type` (finAPI's `photoTanMimeType`) when given, which must
/// match the image's magic bytes, or else recognised from those bytes.
pub fn decode_photo_base64(data: &str, declared_mime_type: Option<&str>) -> Result<PhotoTan, TanError> {
    let bytes = decode_base64(data)?;
    if bytes.is_empty() {
        return Err(TanError::EmptyImage);
    }
    if let Ok(photo) = decode_matrix_container(&bytes) {
        return Ok(photo);
    }
    match declared_mime_type {
        Some(declared) => checked_photo(normalize_mime_type(declared)?, &bytes),
        None => {
            let mime_type = sniff_image_type(&bytes).ok_or(TanError::UnknownImageFormat)?;
            Ok(PhotoTan { mime_type: mime_type.to_owned(), image: bytes })
        }
    }
}

/// Decodes an RFC 2397 `data:<mime>;base64,<data>` URI, the form finX uses for `PHOTO` challenges.
pub fn decode_data_uri(uri: &str) -> Result<PhotoTan, TanError> {
    let uri = uri.trim();
    let scheme = uri.get(..5).filter(|scheme| scheme.eq_ignore_ascii_case("data:"));
    let Some(after_scheme) = scheme.and_then(|_| uri.get(5..)) else {
        return Err(TanError::InvalidDataUri { reason: "it does not start with data:" });
    };
    let Some((metadata, data)) = after_scheme.split_once(',') else {
        return Err(TanError::InvalidDataUri { reason: "no comma separates the metadata from the data" });
    };
    let mut parameters = metadata.split(';');
    let mime_type = parameters.next().unwrap_or_default();
    if !parameters.any(|parameter| parameter.trim().eq_ignore_ascii_case("base64")) {
        return Err(TanError::InvalidDataUri { reason: "only base64 data is supported" });
    }
    if mime_type.trim().is_empty() {
        return Err(TanError::InvalidDataUri { reason: "no MIME type" });
    }
    decode_photo_base64(data, Some(mime_type))
}

/// The PNG of a Sparkasse chipTAN-QR challenge (`HHD1.3.xQR`): base64 between `CHLGUC nnnn` and `CHLGTEXT`.
pub fn decode_chlguc_image(challenge_text: &str) -> Result<PhotoTan, TanError> {
    let parts = split_chlguc(challenge_text)?
        .ok_or(TanError::MalformedChlguc { reason: "no CHLGUC…CHLGTEXT frame in the challenge text" })?;
    decode_photo_base64(&parts.payload, None)
}

fn split_length(bytes: &[u8]) -> Option<(usize, &[u8])> {
    let (length, rest) = bytes.split_first_chunk::<2>()?;
    Some((usize::from(u16::from_be_bytes(*length)), rest))
}

/// Lower case, trailing spaces and NULs removed (aqbanking pads), and checked against the allow-list.
fn normalize_mime_type(mime_type: &str) -> Result<&'static str, TanError> {
    let trimmed = mime_type.trim_end_matches([' ', '\0']).trim();
    let well_formed = trimmed.split_once('/').is_some_and(|(kind, subtype)| {
        let token =
            |part: &str| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || "!#$&^_.+-".contains(c));
        token(kind) && token(subtype)
    });
    if !well_formed {
        return Err(TanError::InvalidMimeType { mime_type: truncate_for_message(mime_type) });
    }
    let lower = trimmed.to_ascii_lowercase();
    ALLOWED_IMAGE_TYPES
        .iter()
        .copied()
        .find(|allowed| *allowed == lower)
        .ok_or(TanError::UnsupportedMimeType { mime_type: truncate_for_message(&lower) })
}

fn checked_photo(mime_type: &'static str, image: &[u8]) -> Result<PhotoTan, TanError> {
    if image.is_empty() {
        return Err(TanError::EmptyImage);
    }
    if !image_matches(mime_type, image) {
        return Err(TanError::ImageDoesNotMatchMimeType { mime_type: mime_type.to_owned() });
    }
    Ok(PhotoTan { mime_type: mime_type.to_owned(), image: image.to_vec() })
}

fn sniff_image_type(image: &[u8]) -> Option<&'static str> {
    ALLOWED_IMAGE_TYPES.iter().copied().find(|mime_type| image_matches(mime_type, image))
}

fn image_matches(mime_type: &str, image: &[u8]) -> bool {
    match mime_type {
        "image/png" => image.starts_with(b"\x89PNG\r\n\x1a\n"),
        "image/jpeg" => image.starts_with(&[0xFF, 0xD8, 0xFF]),
        "image/gif" => image.starts_with(b"GIF87a") || image.starts_with(b"GIF89a"),
        "image/webp" => image.starts_with(b"RIFF") && image.get(8..12) == Some(b"WEBP".as_slice()),
        "image/svg+xml" => looks_like_svg(image),
        _ => false,
    }
}

fn looks_like_svg(image: &[u8]) -> bool {
    let without_bom = image.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(image);
    let first_markup = without_bom.iter().position(|byte| !byte.is_ascii_whitespace());
    let starts_with_markup = first_markup.and_then(|at| without_bom.get(at)) == Some(&b'<');
    starts_with_markup && without_bom.windows(4).any(|window| window == b"<svg")
}
