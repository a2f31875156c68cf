//! Reading the bank's raw challenge ("Challenge HHDuc", tan.md §2) into a [`Challenge`].
//!
//! Lengths in the raw challenge count characters: LC and LDE are decimal, LS and control bytes are hex bytes.
//! The same string can often be read with several digit widths; [`parse_challenge`] tries them in the order of
//! §2.5 and keeps the first reading that uses every character without running past the end.

use super::error::{ChallengeFault, Field, Reading, ReadingFailure, TanError};
use super::render::decode_rendered;
use super::{DataElement, HhdVersion};

/// hbci4java reads at most ten control bytes; real challenges carry exactly one.
pub(super) const MAX_CONTROL_BYTES: usize = 10;
pub(super) const MAX_DATA_ELEMENTS: usize = 3;

const CONTROL_FLAG: u8 = 0x80;
const ASCII_FLAG: u8 = 0x40;
const LENGTH_MASK: u8 = 0x3F;
/// A raw LDE above this sets bits that mean nothing.
const MAX_RAW_LDE: usize = 0x7F;

const CHLGUC: &str = "CHLGUC";
const CHLGTEXT: &str = "CHLGTEXT";
const CHLGUC_LENGTH_DIGITS: usize = 4;

/// A raw challenge after parsing: what the bank asked the TAN generator to show.
///
/// Control bytes present means HHD 1.4, none means HHD 1.3; there is no separate version field to disagree with.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Challenge {
    pub control_bytes: Vec<u8>,
    pub start_code: DataElement,
    /// DE1–DE3; unused trailing elements are absent, an empty one in the middle has an empty value.
    pub data_elements: Vec<DataElement>,
}

impl Challenge {
    pub fn version(&self) -> HhdVersion {
        if self.control_bytes.is_empty() { HhdVersion::Hhd13 } else { HhdVersion::Hhd14 }
    }
}

/// The two parts of a challenge text framed as `CHLGUC nnnn <payload> CHLGTEXT nnnn <text>` (§2.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChlgucParts {
    /// The machine-readable part with all whitespace removed: an HHD 1.3 challenge or a base64 image.
    pub payload: String,
    /// The text meant for the user.
    pub user_text: String,
}

/// Splits a `CHLGUC…CHLGTEXT` challenge text. `Ok(None)` when the text has no `CHLGUC` marker.
///
/// The 4-digit length after `CHLGUC` must be present but is not enforced, as in hbci4java: the payload is
/// everything up to `CHLGTEXT`.
pub fn split_chlguc(text: &str) -> Result<Option<ChlgucParts>, TanError> {
    let Some(marker_at) = text.find(CHLGUC) else {
        return Ok(None);
    };
    let after_marker = text.get(marker_at + CHLGUC.len()..).unwrap_or_default();
    let Some(text_marker_at) = after_marker.find(CHLGTEXT) else {
        return Err(TanError::MalformedChlguc { reason: "CHLGUC without a following CHLGTEXT" });
    };
    let framed = after_marker.get(..text_marker_at).unwrap_or_default();
    let compact: String = framed.chars().filter(|c| !c.is_whitespace()).collect();
    let length_digits = compact.get(..CHLGUC_LENGTH_DIGITS).unwrap_or_default();
    if length_digits.len() != CHLGUC_LENGTH_DIGITS || !length_digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TanError::MalformedChlguc { reason: "CHLGUC is not followed by a 4-digit length" });
    }
    let payload = compact.get(CHLGUC_LENGTH_DIGITS..).unwrap_or_default().to_owned();
    if payload.is_empty() {
        return Err(TanError::MalformedChlguc { reason: "nothing between CHLGUC and CHLGTEXT" });
    }
    let after_text_marker = after_marker.get(text_marker_at + CHLGTEXT.len()..).unwrap_or_default().trim_start();
    let user_text = match after_text_marker.get(..CHLGUC_LENGTH_DIGITS) {
        Some(digits) if digits.bytes().all(|b| b.is_ascii_digit()) => {
            after_text_marker.get(CHLGUC_LENGTH_DIGITS..).unwrap_or_default()
        }
        _ => after_text_marker,
    };
    Ok(Some(ChlgucParts { payload, user_text: user_text.trim().to_owned() }))
}

/// Parses a raw challenge (§2.5). `hint` is the HHD version the bank's TAN method names, if known
/// (see [`HhdVersion::from_hint`]): 1.3 allows only the 2-digit LC reading, 1.4 only the 3-digit ones.
pub fn parse_challenge(raw: &str, hint: Option<HhdVersion>) -> Result<Challenge, TanError> {
    let (body, readings): (Vec<char>, &[Reading]) = match split_chlguc(raw)? {
        Some(parts) if hint == Some(HhdVersion::Hhd13) => (parts.payload.chars().collect(), &[Reading::Lc2Lde2]),
        Some(parts) => (std::iter::once('0').chain(parts.payload.chars()).collect(), readings_for(hint)),
        None => (raw.chars().filter(|c| !c.is_whitespace()).collect(), readings_for(hint)),
    };
    if body.is_empty() {
        return Err(TanError::Empty);
    }
    let mut failures = Vec::with_capacity(readings.len());
    for &reading in readings {
        match read_challenge(&body, reading) {
            Ok(challenge) => return Ok(challenge),
            Err(fault) => failures.push(ReadingFailure { reading, fault }),
        }
    }
    let compact: String = body.iter().collect();
    if decode_rendered(&compact).is_ok() {
        return Err(TanError::AlreadyRendered);
    }
    Err(TanError::NotAChallenge { failures })
}

fn readings_for(hint: Option<HhdVersion>) -> &'static [Reading] {
    match hint {
        Some(HhdVersion::Hhd13) => &[Reading::Lc2Lde2],
        Some(HhdVersion::Hhd14) => &[Reading::Lc3Lde2, Reading::Lc3Lde3],
        None => &[Reading::Lc3Lde2, Reading::Lc3Lde3, Reading::Lc2Lde2],
    }
}

fn read_challenge(chars: &[char], reading: Reading) -> Result<Challenge, ChallengeFault> {
    let mut cursor = CharCursor { chars, position: 0 };
    let lc = cursor.decimal(Field::Lc, reading.lc_digits())?;
    let rest = cursor.remaining();
    if lc > rest {
        return Err(ChallengeFault::LcExceedsRest { lc, rest });
    }

    let ls = cursor.hex_byte(Field::Ls)?;
    let mut control_bytes = Vec::new();
    let mut another_control_byte = ls & CONTROL_FLAG != 0;
    while another_control_byte {
        if control_bytes.len() == MAX_CONTROL_BYTES {
            return Err(ChallengeFault::TooManyControlBytes { max: MAX_CONTROL_BYTES });
        }
        let control_byte = cursor.hex_byte(Field::ControlByte(control_bytes.len() + 1))?;
        control_bytes.push(control_byte);
        another_control_byte = control_byte & CONTROL_FLAG != 0;
    }
    let start_code = cursor.text(Field::StartCode, usize::from(ls & LENGTH_MASK))?;
    let start_code = DataElement::by_content(start_code, ls & ASCII_FLAG != 0);

    let mut data_elements = Vec::new();
    while cursor.remaining() > 0 {
        if data_elements.len() == MAX_DATA_ELEMENTS {
            return Err(ChallengeFault::LeftoverCharacters { count: cursor.remaining() });
        }
        let number = data_elements.len() + 1;
        let lde = cursor.decimal(Field::Lde(number), reading.lde_digits())?;
        let lde = u8::try_from(lde)
            .ok()
            .filter(|&byte| usize::from(byte) <= MAX_RAW_LDE)
            .ok_or(ChallengeFault::LengthOutOfRange { field: Field::Lde(number), value: lde })?;
        let value = cursor.text(Field::De(number), usize::from(lde & LENGTH_MASK))?;
        data_elements.push(DataElement::by_content(value, lde & ASCII_FLAG != 0));
    }
    while data_elements.last().is_some_and(|element| element.value.is_empty()) {
        data_elements.pop();
    }
    Ok(Challenge { control_bytes, start_code, data_elements })
}

struct CharCursor<'a> {
    chars: &'a [char],
    position: usize,
}

impl<'a> CharCursor<'a> {
    fn remaining(&self) -> usize {
        self.chars.len().saturating_sub(self.position)
    }

    fn take(&mut self, field: Field, count: usize) -> Result<&'a [char], ChallengeFault> {
        let past_end = || ChallengeFault::FieldPastEnd { field, needed: count, available: self.remaining() };
        let end = self.position.checked_add(count).ok_or_else(past_end)?;
        let taken = self.chars.get(self.position..end).ok_or_else(past_end)?;
        self.position = end;
        Ok(taken)
    }

    fn decimal(&mut self, field: Field, digits: usize) -> Result<usize, ChallengeFault> {
        self.take(field, digits)?.iter().try_fold(0usize, |value, c| {
            let digit = c.to_digit(10).ok_or(ChallengeFault::NotDecimal { field })?;
            Ok(value * 10 + digit as usize)
        })
    }

    fn hex_byte(&mut self, field: Field) -> Result<u8, ChallengeFault> {
        let pair = self.take(field, 2)?;
        let mut byte = 0u8;
        for c in pair {
            let nibble = c.to_digit(16).ok_or(ChallengeFault::NotHex { field })?;
            byte = (byte << 4) | (nibble as u8);
        }
        Ok(byte)
    }

    fn text(&mut self, field: Field, count: usize) -> Result<String, ChallengeFault> {
        Ok(self.take(field, count)?.iter().collect())
    }
}
