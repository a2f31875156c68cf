//! TAN challenges: chipTAN flicker (HHD 1.3 / 1.4), photoTAN and chipTAN-QR.
//!
//! The rules follow `shared/docs/tan.md`; section numbers below refer to it.
//!
//! # Flicker codes
//!
//! A bank sends a *raw challenge* ("Challenge HHDuc", §2): an ASCII string whose lengths are decimal digits
//! (LC, LDE) or hex digits (LS, control bytes), with the data as plain characters. The TAN generator needs the
//! *rendered* code (§3): a hex string in which every length is a byte count, numbers are BCD, text is ASCII, and
//! a Luhn and an XOR check digit close it. The flicker animation (§4) shows that rendered code nibble by nibble.
//!
//! - [`parse_challenge`] reads a raw challenge into a [`Challenge`] (§2.5): spaces are removed, a
//!   `CHLGUC…CHLGTEXT` frame is cut out, and the readings "3-digit LC, 2-digit LDE", "3-digit LC, 3-digit LDE"
//!   (Sparda) and "2-digit LC, 2-digit LDE" (HHD 1.3) are tried in that order unless an [`HhdVersion`] hint
//!   narrows them. A reading fails when LC is larger than the rest, a field runs past the end, a hex field is not
//!   hex, or characters are left over; LC does *not* have to equal the rest (the spec's own examples do not).
//!   The version comes from the LS control-byte flag alone, whatever the width of LC.
//! - [`render`] turns a [`Challenge`] into a [`FlickerCode`] with the rendered hex, Luhn and XOR.
//! - [`decode_rendered`] checks an already rendered code (LC, Luhn, XOR) and reads its fields back.
//! - [`decode_optical_data`] is the entry point for data of unknown shape, such as finAPI's `opticalData`
//!   (§6): rendered code first, then raw challenge, then base64 of either.
//! - [`flicker_frames`] gives the animation frames; [`bqr_payload`] the chipTAN-QR fallback payload (§7) and
//!   [`chiptan_qr_image`] that payload drawn as a QR code PNG.
//!
//! Invariants of a [`FlickerCode`] produced here: `render_hex` is upper-case hex of even length, its first byte
//! is the number of bytes after it, and its last two characters are `luhn` and `xor`.
//!
//! ## Choices where implementations differ
//!
//! - **Empty data element in the middle** (followed by a non-empty one): rendered as length byte `00`, the rule
//!   fints4k quotes from the specification, which aqbanking follows and tan.md recommends. hbci4java sends `40`
//!   (an empty ASCII element) and phpFinTS drops the element, which shifts the later ones. Empty elements at the
//!   end of a raw challenge are dropped, because the specification leaves unused trailing elements out entirely.
//!   [`decode_rendered`] accepts `00`, `40` (HHD 1.4) and `10` (HHD 1.3) as an empty element.
//! - **Encoding**: an element made only of digits is BCD, anything else ASCII; the bank's ASCII bit (bit 6 of
//!   LS/LDE) also forces ASCII. Characters above U+00FF cannot be rendered and are rejected.
//! - **Length masks**: 6 bits (0x3F) for raw LS/LDE, as hbci4java and aqbanking; raw LDE values of 128 or more
//!   fail the reading. Rendered HHD 1.3 lengths are 4 bits with 0x10 as the ASCII flag, so an HHD 1.3 element
//!   holds at most 15 bytes; HHD 1.4 allows 63.
//! - **Already rendered codes passed as raw challenges** are rejected with [`TanError::AlreadyRendered`] instead
//!   of being rendered a second time into garbage.
//!
//! # photoTAN
//!
//! [`decode_matrix_container`] unpacks the FinTS container (§5); [`decode_photo_base64`] handles finAPI's
//! base64 image or a base64 container; [`decode_data_uri`] handles finX's `data:` URIs; [`decode_chlguc_image`]
//! the Sparkasse chipTAN-QR PNG framed by `CHLGUC…CHLGTEXT`. Every image must be of an allowed MIME type and
//! start with that type's magic bytes.
//!
//! Nothing in this module panics on any input; every failure is a [`TanError`].

mod error;
mod frames;
mod hhd;
mod photo;
mod qr;
mod render;

pub use error::{ChallengeFault, Field, Reading, ReadingFailure, RenderedFault, TanError};
pub use frames::{FlickerFrame, SYNC_PREFIX, flicker_frames};
pub use hhd::{Challenge, ChlgucParts, parse_challenge, split_chlguc};
pub use photo::{
    ALLOWED_IMAGE_TYPES, PhotoTan, decode_chlguc_image, decode_data_uri, decode_matrix_container, decode_photo_base64,
};
pub use qr::{bqr_payload, chiptan_qr_image, crc16_arc};
pub use render::{decode_optical_data, decode_rendered, flicker_from_challenge, render};

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use ts_rs::TS;

/// Which HHD (Hand-Held Device) specification a flicker code follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, TS)]
pub enum HhdVersion {
    #[serde(rename = "1.3")]
    Hhd13,
    #[serde(rename = "1.4")]
    Hhd14,
}

impl HhdVersion {
    /// Reads a version from a TAN method's technical id or a `zkamethod_version`, for example `HHD1.3.2OPT`,
    /// `HHD1.4`, `hhd14` or `1.3.2`. Returns `None` when the text names neither 1.3 nor 1.4.
    pub fn from_hint(text: &str) -> Option<Self> {
        let normalized: String = text.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
        let dotted = [("1.3", Self::Hhd13), ("1.4", Self::Hhd14)];
        let earliest = dotted.iter().filter_map(|(needle, version)| normalized.find(needle).map(|at| (at, *version)));
        if let Some((_, version)) = earliest.min_by_key(|(at, _)| *at) {
            return Some(version);
        }
        if normalized.contains("HHD13") {
            Some(Self::Hhd13)
        } else if normalized.contains("HHD14") {
            Some(Self::Hhd14)
        } else {
            None
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hhd13 => "1.3",
            Self::Hhd14 => "1.4",
        }
    }
}

impl fmt::Display for HhdVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for HhdVersion {
    type Err = TanError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::from_hint(text).ok_or_else(|| TanError::UnknownHhdVersion { text: truncate_for_message(text) })
    }
}

/// How a value travels in the rendered code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, TS)]
pub enum DataEncoding {
    /// Decimal digits packed two per byte, padded with an `F` nibble when the count is odd.
    #[serde(rename = "BCD")]
    Bcd,
    /// One byte per character (ISO-8859-1).
    #[serde(rename = "ASCII")]
    Ascii,
}

/// One value of a flicker code: the start code or one of the data elements DE1–DE3.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, TS)]
pub struct DataElement {
    pub value: String,
    pub encoding: DataEncoding,
}

impl DataElement {
    /// An element encoded by content: BCD if it is non-empty and only digits, ASCII otherwise or when
    /// `force_ascii` (the bank's ASCII bit) is set. An empty element is BCD, so it renders as `00`.
    pub fn by_content(value: impl Into<String>, force_ascii: bool) -> Self {
        let value = value.into();
        let digits_only = value.chars().all(|c| c.is_ascii_digit());
        let encoding =
            if value.is_empty() || (digits_only && !force_ascii) { DataEncoding::Bcd } else { DataEncoding::Ascii };
        Self { value, encoding }
    }
}

/// A flicker code ready to be shown: the parsed fields and the rendered hex string (§3).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, TS)]
pub struct FlickerCode {
    pub version: HhdVersion,
    pub start_code: DataElement,
    /// Control bytes (HHD 1.4 only; in practice always `[1]`).
    pub control_bytes: Vec<u8>,
    /// DE1–DE3 as present; an empty element in the middle has an empty value.
    pub data_elements: Vec<DataElement>,
    /// Upper-case hex without the `0FFF` sync prefix, ending in `luhn` and `xor`.
    pub render_hex: String,
    /// The Luhn check digit, one character `0`–`9`.
    pub luhn: String,
    /// The XOR check nibble, one hex character.
    pub xor: String,
}

impl FlickerCode {
    /// The parsed challenge behind this code, for rendering it again.
    pub fn challenge(&self) -> Challenge {
        Challenge {
            control_bytes: self.control_bytes.clone(),
            start_code: self.start_code.clone(),
            data_elements: self.data_elements.clone(),
        }
    }

    /// The animation frames for one loop (§4).
    pub fn frames(&self) -> Result<Vec<FlickerFrame>, TanError> {
        flicker_frames(&self.render_hex)
    }
}

impl From<TanError> for crate::KontorError {
    fn from(err: TanError) -> Self {
        crate::KontorError::invalid_input(err.to_string())
    }
}

const MESSAGE_EXCERPT_CHARS: usize = 40;

/// Keeps error messages short when they quote input.
fn truncate_for_message(text: &str) -> String {
    let mut excerpt: String = text.chars().take(MESSAGE_EXCERPT_CHARS).collect();
    if text.chars().nth(MESSAGE_EXCERPT_CHARS).is_some() {
        excerpt.push('…');
    }
    excerpt
}
