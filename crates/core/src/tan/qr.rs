//! chipTAN-QR ("banking QR", BQR) payload built from a rendered flicker code (tan.md §7), the fallback for
//! generators that read QR codes instead of flicker.
//!
//! Payload = `DK` + (plain XOR the repeating key `D`,`K`), where plain = `N` + the rendered code's bytes + the
//! CRC-16/ARC (high byte first) of `DK` + `N` + those bytes. Drawing the QR symbol itself (byte mode, ECI 1,
//! error correction L) is left to the front end.

use super::error::TanError;
use super::render::{decode_rendered, hex_to_bytes};

const MAGIC: &[u8; 2] = b"DK";
const AMS_FLAG: u8 = b'N';

/// CRC-16/ARC: reflected polynomial 0x8005, initial value 0, no final XOR.
pub fn crc16_arc(bytes: &[u8]) -> u16 {
    bytes.iter().fold(0u16, |crc, &byte| {
        (0..8).fold(crc ^ u16::from(byte), |crc, _| if crc & 1 != 0 { (crc >> 1) ^ 0xA001 } else { crc >> 1 })
    })
}

/// The BQR payload for a rendered flicker code (as in [`super::FlickerCode::render_hex`], without `0FFF`).
/// The code must be a valid rendered code, checksums included.
pub fn bqr_payload(render_hex: &str) -> Result<Vec<u8>, TanError> {
    let code = decode_rendered(render_hex)?;
    let hhduc = hex_to_bytes(&code.render_hex)?;
    let checked: Vec<u8> = MAGIC.iter().copied().chain([AMS_FLAG]).chain(hhduc.iter().copied()).collect();
    let crc = crc16_arc(&checked).to_be_bytes();
    let plain = [AMS_FLAG].into_iter().chain(hhduc).chain(crc);
    Ok(MAGIC.iter().copied().chain(plain.zip(MAGIC.iter().cycle()).map(|(byte, key)| byte ^ key)).collect())
}
