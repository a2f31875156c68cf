//! chipTAN-QR: the "banking QR" payload of a rendered flicker code (tan.md §7), drawn as a PNG.

use qrcode::{Color, EcLevel, QrCode};

/// Pixels per QR module.
const SCALE: usize = 4;
/// Light modules around the code (the QR specification asks for 4).
const QUIET_ZONE: usize = 4;

/// Why a QR image could not be made.
#[derive(Debug, thiserror::Error)]
pub enum QrImageError {
    #[error("the payload does not fit in a QR code: {0}")]
    Encode(#[from] qrcode::types::QrError),
    #[error("PNG encoding failed: {0}")]
    Png(#[from] png::EncodingError),
    #[error("the rendered flicker code is not hex")]
    NotHex,
}

/// CRC-16/ARC (reflected polynomial 0x8005, init 0, no final XOR).
pub fn crc16_arc(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for byte in bytes {
        crc ^= u16::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xA001 } else { crc >> 1 };
        }
    }
    crc
}

/// `DK` + (`N` + HHDuc bytes + CRC big-endian) XOR the repeating key `DK`.
pub fn bqr_payload(render_hex: &str) -> Result<Vec<u8>, QrImageError> {
    let hhduc = hex_bytes(render_hex).ok_or(QrImageError::NotHex)?;
    let mut crc_input = b"DKN".to_vec();
    crc_input.extend_from_slice(&hhduc);
    let crc = crc16_arc(&crc_input);
    let mut plain = vec![b'N'];
    plain.extend_from_slice(&hhduc);
    plain.extend_from_slice(&crc.to_be_bytes());
    let key = [b'D', b'K'];
    let mut payload = b"DK".to_vec();
    payload.extend(plain.iter().enumerate().map(|(i, b)| b ^ key[i % 2]));
    Ok(payload)
}

/// A PNG (8-bit greyscale) of a QR code holding `payload` in byte mode, error correction L.
pub fn qr_png(payload: &[u8]) -> Result<Vec<u8>, QrImageError> {
    let code = QrCode::with_error_correction_level(payload, EcLevel::L)?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET_ZONE) * SCALE;
    let mut pixels = vec![255u8; side * side];
    for y in 0..modules {
        for x in 0..modules {
            if colors.get(y * modules + x) == Some(&Color::Dark) {
                for dy in 0..SCALE {
                    let row = (y + QUIET_ZONE) * SCALE + dy;
                    let from = row * side + (x + QUIET_ZONE) * SCALE;
                    if let Some(span) = pixels.get_mut(from..from + SCALE) {
                        span.fill(0);
                    }
                }
            }
        }
    }
    let side_u32 = u32::try_from(side).unwrap_or(u32::MAX);
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, side_u32, side_u32);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&pixels)?;
        writer.finish()?;
    }
    Ok(out)
}

fn hex_bytes(hex: &str) -> Option<Vec<u8>> {
    if hex.len() % 2 != 0 {
        return None;
    }
    (0..hex.len()).step_by(2).map(|i| hex.get(i..i + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_check_value() {
        assert_eq!(crc16_arc(b"123456789"), 0xBB3D);
    }

    #[test]
    fn spec_payload() -> Result<(), QrImageError> {
        let payload = bqr_payload("0D85012045201998041234567855")?;
        let hex: String = payload.iter().map(|b| format!("{b:02X}")).collect();
        assert_eq!(hex, "444B0A46C14A640E6452DC4F567F12331195C0");
        let png = qr_png(&payload)?;
        assert_eq!(png.get(..8), Some(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A][..]));
        Ok(())
    }
}
