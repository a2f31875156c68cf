//! The flicker datagram (tan.md §3): rendering a [`Challenge`], reading a rendered code back, and the
//! finAPI entry point that accepts either.
//!
//! Rendered layout: `LC' LS' [control bytes] start code (LDE' DE)* checksum`, every length a byte count.
//! LC' counts every byte after itself, the checksum byte included. The checksum byte's high nibble is the Luhn
//! digit over control bytes, start code and DE data (not the length bytes); its low nibble is the XOR of every
//! nibble before it.

use super::error::{Field, RenderedFault, TanError};
use super::hhd::{Challenge, MAX_CONTROL_BYTES, MAX_DATA_ELEMENTS, parse_challenge};
use super::photo::decode_base64;
use super::{DataElement, DataEncoding, FlickerCode, HhdVersion};

const CONTROL_FLAG: u8 = 0x80;

/// Length-byte layout of one HHD version in the rendered code.
#[derive(Clone, Copy)]
struct LengthLayout {
    ascii_flag: u8,
    length_mask: u8,
}

impl LengthLayout {
    fn of(version: HhdVersion) -> Self {
        match version {
            HhdVersion::Hhd14 => Self { ascii_flag: 0x40, length_mask: 0x3F },
            HhdVersion::Hhd13 => Self { ascii_flag: 0x10, length_mask: 0x0F },
        }
    }

    fn max_bytes(self) -> usize {
        usize::from(self.length_mask)
    }

    fn defined_bits(self) -> u8 {
        self.ascii_flag | self.length_mask
    }
}

/// Parses a raw challenge and renders it: [`parse_challenge`] followed by [`render`].
pub fn flicker_from_challenge(raw: &str, hint: Option<HhdVersion>) -> Result<FlickerCode, TanError> {
    render(&parse_challenge(raw, hint)?)
}

/// Renders a challenge into the flicker datagram (§3.1).
pub fn render(challenge: &Challenge) -> Result<FlickerCode, TanError> {
    let version = challenge.version();
    check_control_bytes(&challenge.control_bytes)?;
    if challenge.data_elements.len() > MAX_DATA_ELEMENTS {
        return Err(TanError::TooManyDataElements { count: challenge.data_elements.len() });
    }

    let mut body = Vec::new();
    let mut luhn_bytes = Vec::new();

    let (start_length, start_data) = encode_element(Field::StartCode, &challenge.start_code, version)?;
    let control_flag = if challenge.control_bytes.is_empty() { 0 } else { CONTROL_FLAG };
    body.push(start_length | control_flag);
    body.extend_from_slice(&challenge.control_bytes);
    luhn_bytes.extend_from_slice(&challenge.control_bytes);
    body.extend_from_slice(&start_data);
    luhn_bytes.extend_from_slice(&start_data);

    for (index, element) in challenge.data_elements.iter().enumerate() {
        let (length, data) = encode_element(Field::De(index + 1), element, version)?;
        body.push(length);
        body.extend_from_slice(&data);
        luhn_bytes.extend_from_slice(&data);
    }

    let lc = u8::try_from(body.len() + 1).map_err(|_| TanError::CodeTooLong { bytes: body.len() + 2 })?;
    let mut bytes = Vec::with_capacity(body.len() + 2);
    bytes.push(lc);
    bytes.extend_from_slice(&body);
    let luhn = luhn_digit(&luhn_bytes);
    let xor = xor_nibble(&bytes);
    bytes.push((luhn << 4) | xor);

    Ok(FlickerCode {
        version,
        start_code: challenge.start_code.clone(),
        control_bytes: challenge.control_bytes.clone(),
        data_elements: challenge.data_elements.clone(),
        render_hex: upper_hex(&bytes),
        luhn: nibble_char(luhn).to_string(),
        xor: nibble_char(xor).to_string(),
    })
}

/// Every control byte but the last announces another one with bit 7, the last one does not.
fn check_control_bytes(control_bytes: &[u8]) -> Result<(), TanError> {
    if control_bytes.len() > MAX_CONTROL_BYTES {
        return Err(TanError::TooManyControlBytes { count: control_bytes.len(), max: MAX_CONTROL_BYTES });
    }
    let last = control_bytes.len().saturating_sub(1);
    let chained = control_bytes.iter().enumerate().all(|(index, byte)| (byte & CONTROL_FLAG != 0) == (index < last));
    if chained { Ok(()) } else { Err(TanError::BrokenControlByteChain) }
}

/// Returns the rendered length byte (without the control flag) and the encoded bytes.
fn encode_element(field: Field, element: &DataElement, version: HhdVersion) -> Result<(u8, Vec<u8>), TanError> {
    let layout = LengthLayout::of(version);
    if element.value.is_empty() {
        return Ok((0, Vec::new()));
    }
    let (data, flag) = match element.encoding {
        DataEncoding::Bcd => (encode_bcd(field, &element.value)?, 0),
        DataEncoding::Ascii => (encode_latin1(field, &element.value)?, layout.ascii_flag),
    };
    let length = u8::try_from(data.len())
        .ok()
        .filter(|&length| usize::from(length) <= layout.max_bytes())
        .ok_or(TanError::ElementTooLong { field, bytes: data.len(), max: layout.max_bytes(), version })?;
    Ok((length | flag, data))
}

fn encode_bcd(field: Field, digits: &str) -> Result<Vec<u8>, TanError> {
    let nibbles: Vec<u8> = digits
        .chars()
        .map(|c| c.to_digit(10).map(|digit| digit as u8).ok_or(TanError::NotDigits { field }))
        .collect::<Result<_, _>>()?;
    Ok(nibbles
        .chunks(2)
        .map(|pair| match pair {
            [high, low] => (high << 4) | low,
            [high] => (high << 4) | 0x0F,
            _ => 0xFF,
        })
        .collect())
}

fn encode_latin1(field: Field, text: &str) -> Result<Vec<u8>, TanError> {
    text.chars()
        .map(|character| {
            u8::try_from(u32::from(character)).map_err(|_| TanError::UnencodableCharacter { field, character })
        })
        .collect()
}

/// Luhn check digit (§3.1 step 6): per byte, the high nibble plus the digit sum of twice the low nibble.
fn luhn_digit(bytes: &[u8]) -> u8 {
    let sum: u32 = bytes
        .iter()
        .map(|byte| {
            let doubled = u32::from(byte & 0x0F) * 2;
            u32::from(byte >> 4) + doubled / 10 + doubled % 10
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

fn xor_nibble(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |acc, byte| acc ^ (byte >> 4) ^ (byte & 0x0F))
}

fn nibble_char(nibble: u8) -> char {
    char::from_digit(u32::from(nibble & 0x0F), 16).map_or('0', |c| c.to_ascii_uppercase())
}

pub(super) fn upper_hex(bytes: &[u8]) -> String {
    let mut hex = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        hex.push(nibble_char(byte >> 4));
        hex.push(nibble_char(*byte));
    }
    hex
}

/// Hex digits to bytes; the string must be non-empty, all hex and of even length.
pub(super) fn hex_to_bytes(hex: &str) -> Result<Vec<u8>, RenderedFault> {
    if hex.is_empty() {
        return Err(RenderedFault::Empty);
    }
    let nibbles: Vec<u8> = hex
        .chars()
        .enumerate()
        .map(|(position, c)| c.to_digit(16).map(|nibble| nibble as u8).ok_or(RenderedFault::NotHex { position }))
        .collect::<Result<_, _>>()?;
    if nibbles.len() % 2 != 0 {
        return Err(RenderedFault::OddLength { length: nibbles.len() });
    }
    Ok(nibbles.chunks_exact(2).map(|pair| pair.iter().fold(0u8, |byte, nibble| (byte << 4) | nibble)).collect())
}

/// Reads an already rendered flicker code (§6 step 1): hex, LC equal to the bytes that follow, fields that
/// fit exactly, valid BCD, and matching Luhn and XOR. Letter case does not matter; `render_hex` is upper case.
pub fn decode_rendered(hex: &str) -> Result<FlickerCode, TanError> {
    let hex = hex.trim();
    let bytes = hex_to_bytes(hex)?;
    let (Some((&lc, after_lc)), Some((&checksum, _))) = (bytes.split_first(), bytes.split_last()) else {
        return Err(RenderedFault::TooShort { bytes: bytes.len() }.into());
    };
    if bytes.len() < 3 {
        return Err(RenderedFault::TooShort { bytes: bytes.len() }.into());
    }
    if usize::from(lc) != after_lc.len() {
        return Err(RenderedFault::LcMismatch { declared: usize::from(lc), actual: after_lc.len() }.into());
    }
    let body = after_lc.get(..after_lc.len() - 1).unwrap_or_default();
    let mut cursor = ByteCursor { bytes: body, position: 0, luhn_bytes: Vec::new() };

    let ls = cursor.next(Field::Ls)?;
    let mut control_bytes = Vec::new();
    let mut another_control_byte = ls & CONTROL_FLAG != 0;
    while another_control_byte {
        if control_bytes.len() == MAX_CONTROL_BYTES {
            return Err(RenderedFault::TooManyControlBytes { max: MAX_CONTROL_BYTES }.into());
        }
        let control_byte = cursor.next(Field::ControlByte(control_bytes.len() + 1))?;
        control_bytes.push(control_byte);
        another_control_byte = control_byte & CONTROL_FLAG != 0;
    }
    cursor.luhn_bytes.extend_from_slice(&control_bytes);
    let version = if control_bytes.is_empty() { HhdVersion::Hhd13 } else { HhdVersion::Hhd14 };
    let layout = LengthLayout::of(version);

    let start_code = cursor.element(Field::StartCode, ls & !CONTROL_FLAG, layout)?;
    let mut data_elements = Vec::new();
    while cursor.remaining() > 0 {
        if data_elements.len() == MAX_DATA_ELEMENTS {
            return Err(RenderedFault::TooManyDataElements.into());
        }
        let field = Field::De(data_elements.len() + 1);
        let length_byte = cursor.next(field)?;
        data_elements.push(cursor.element(field, length_byte, layout)?);
    }

    let luhn = luhn_digit(&cursor.luhn_bytes);
    let xor = xor_nibble(bytes.get(..bytes.len() - 1).unwrap_or_default());
    let (found_luhn, found_xor) = (checksum >> 4, checksum & 0x0F);
    if found_luhn != luhn {
        return Err(RenderedFault::LuhnMismatch { expected: nibble_char(luhn), found: nibble_char(found_luhn) }.into());
    }
    if found_xor != xor {
        return Err(RenderedFault::XorMismatch { expected: nibble_char(xor), found: nibble_char(found_xor) }.into());
    }

    Ok(FlickerCode {
        version,
        start_code,
        control_bytes,
        data_elements,
        render_hex: hex.to_ascii_uppercase(),
        luhn: nibble_char(luhn).to_string(),
        xor: nibble_char(xor).to_string(),
    })
}

struct ByteCursor<'a> {
    bytes: &'a [u8],
    position: usize,
    /// Control bytes, start code and DE data, in order: what the Luhn digit covers.
    luhn_bytes: Vec<u8>,
}

impl<'a> ByteCursor<'a> {
    fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.position)
    }

    fn take(&mut self, field: Field, count: usize) -> Result<&'a [u8], RenderedFault> {
        let past_end = || RenderedFault::FieldPastEnd { field, needed: count, available: self.remaining() };
        let end = self.position.checked_add(count).ok_or_else(past_end)?;
        let taken = self.bytes.get(self.position..end).ok_or_else(past_end)?;
        self.position = end;
        Ok(taken)
    }

    fn next(&mut self, field: Field) -> Result<u8, RenderedFault> {
        match self.take(field, 1)? {
            [byte] => Ok(*byte),
            _ => Err(RenderedFault::FieldPastEnd { field, needed: 1, available: 0 }),
        }
    }

    fn element(&mut self, field: Field, length_byte: u8, layout: LengthLayout) -> Result<DataElement, RenderedFault> {
        if length_byte & !layout.defined_bits() != 0 {
            return Err(RenderedFault::InvalidLength { field, byte: length_byte });
        }
        let ascii = length_byte & layout.ascii_flag != 0;
        let data = self.take(field, usize::from(length_byte & layout.length_mask))?;
        let value = if ascii { data.iter().map(|&byte| char::from(byte)).collect() } else { decode_bcd(field, data)? };
        self.luhn_bytes.extend_from_slice(data);
        let encoding = if ascii { DataEncoding::Ascii } else { DataEncoding::Bcd };
        Ok(DataElement { value, encoding })
    }
}

/// BCD digits; an `F` nibble is allowed only as the very last one, as padding.
fn decode_bcd(field: Field, data: &[u8]) -> Result<String, RenderedFault> {
    let last_nibble = data.len() * 2;
    let mut digits = String::with_capacity(last_nibble);
    for (index, nibble) in data.iter().flat_map(|byte| [byte >> 4, byte & 0x0F]).enumerate() {
        match nibble {
            0..=9 => digits.push(char::from(b'0' + nibble)),
            0x0F if index + 1 == last_nibble => {}
            _ => return Err(RenderedFault::InvalidBcd { field }),
        }
    }
    Ok(digits)
}

/// Decodes data of unknown shape, such as finAPI's `opticalData` (§6): first as an already rendered code
/// (pure hex, checksums valid), then as a raw challenge, then as base64 of either. Base64 comes last because
/// many raw challenges are valid base64 too.
pub fn decode_optical_data(data: &str, hint: Option<HhdVersion>) -> Result<FlickerCode, TanError> {
    let data = data.trim();
    if data.is_empty() {
        return Err(TanError::Empty);
    }
    let as_rendered = match decode_rendered(data) {
        Ok(code) => return Ok(code),
        Err(TanError::NotRendered(fault)) => fault,
        Err(other) => return Err(other),
    };
    let as_challenge = match flicker_from_challenge(data, hint) {
        Ok(code) => return Ok(code),
        Err(err) => err,
    };
    let decoded_text = decode_base64(data)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .filter(|text| !text.is_empty() && text.chars().all(|c| c.is_ascii_graphic() || c == ' '));
    if let Some(text) = decoded_text {
        if let Ok(code) = decode_rendered(&text) {
            return Ok(code);
        }
        if let Ok(code) = flicker_from_challenge(&text, hint) {
            return Ok(code);
        }
    }
    Err(TanError::NotFlickerData { as_rendered, as_challenge: Box::new(as_challenge) })
}
