//! chipTAN-QR ("banking QR", BQR) payload built from a rendered flicker code (tan.md §7), the fallback for
//! generators that read QR codes instead of flicker.
//!
//! Payload = `DK` + (plain XOR the repeating key `D`,`K`), where plain = `N` + the rendered code's bytes + the
//! CRC-16/ARC (high byte first) of `DK` + `N` + those bytes. [`chiptan_qr_image`] draws it as a QR code PNG
//! the way Hibiscus does (byte mode, ECI 1, error correction L), with the standard 4-module quiet zone.

use qrcode::bits::Bits;
use qrcode::{Color, EcLevel, QrCode, Version};

use super::error::TanError;
use super::photo::PhotoTan;
use super::render::{decode_rendered, hex_to_bytes};

/// Pixels per QR module in [`chiptan_qr_image`].
const MODULE_PIXELS: usize = 5;
/// Light modules around the symbol (the QR specification asks for 4).
const QUIET_ZONE_MODULES: usize = 4;
/// ECI designator 1: ISO-8859-1 in the legacy ECI numbering, as Hibiscus writes it (tan.md §7).
const ECI_ISO_8859_1: u32 = 1;
/// The largest QR version (177 modules); a BQR payload (at most 261 bytes) fits far below it.
const MAX_QR_VERSION: i16 = 40;

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

/// The chipTAN-QR fallback for a rendered flicker code: [`bqr_payload`] drawn as a QR code PNG (8-bit greyscale,
/// byte mode with ECI 1, error correction L, smallest version that fits, 4-module quiet zone, 5 pixels a module).
pub fn chiptan_qr_image(render_hex: &str) -> Result<PhotoTan, TanError> {
    let code = chiptan_qr_code(&bqr_payload(render_hex)?)?;
    Ok(PhotoTan { mime_type: "image/png".to_owned(), image: qr_png(&code)? })
}

/// The QR symbol for a BQR payload: the smallest version whose byte-mode segment (after ECI 1) fits at level L.
fn chiptan_qr_code(payload: &[u8]) -> Result<QrCode, TanError> {
    let fits = |version: i16| -> Option<Bits> {
        let mut bits = Bits::new(Version::Normal(version));
        bits.push_eci_designator(ECI_ISO_8859_1).ok()?;
        bits.push_byte_data(payload).ok()?;
        bits.push_terminator(EcLevel::L).ok()?;
        Some(bits)
    };
    let bits = (1..=MAX_QR_VERSION)
        .find_map(fits)
        .ok_or_else(|| TanError::QrImage { reason: format!("{} bytes do not fit in a QR code", payload.len()) })?;
    QrCode::with_bits(bits, EcLevel::L).map_err(|err| TanError::QrImage { reason: err.to_string() })
}

/// Draws a QR symbol as an 8-bit greyscale PNG: black modules on white, with the quiet zone.
fn qr_png(code: &QrCode) -> Result<Vec<u8>, TanError> {
    let modules = code.width();
    let side = (modules + 2 * QUIET_ZONE_MODULES) * MODULE_PIXELS;
    let mut pixels = vec![u8::MAX; side * side];
    for (index, color) in code.to_colors().into_iter().enumerate() {
        if color != Color::Dark {
            continue;
        }
        let (x, y) = (index % modules + QUIET_ZONE_MODULES, index / modules + QUIET_ZONE_MODULES);
        for row in y * MODULE_PIXELS..(y + 1) * MODULE_PIXELS {
            let from = row * side + x * MODULE_PIXELS;
            if let Some(span) = pixels.get_mut(from..from + MODULE_PIXELS) {
                span.fill(0);
            }
        }
    }
    let png_error = |err: png::EncodingError| TanError::QrImage { reason: err.to_string() };
    let side = u32::try_from(side).map_err(|_| TanError::QrImage { reason: "the image is too large".to_owned() })?;
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(png_error)?;
    writer.write_image_data(&pixels).map_err(png_error)?;
    writer.finish().map_err(png_error)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The spec example of tan.md §7 (HHD 1.4, start code 1204520, DE1 12345678).
    const SPEC_CODE: &str = "0D85012045201998041234567855";

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    /// Decodes a greyscale PNG into (width, height, pixels).
    fn decode_png(bytes: &[u8]) -> Result<(usize, usize, Vec<u8>), Box<dyn std::error::Error>> {
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes)).read_info()?;
        let mut pixels = vec![0; reader.output_buffer_size().ok_or("no output buffer size")?];
        let info = reader.next_frame(&mut pixels)?;
        assert_eq!((info.color_type, info.bit_depth), (png::ColorType::Grayscale, png::BitDepth::Eight));
        pixels.truncate(info.buffer_size());
        Ok((usize::try_from(info.width)?, usize::try_from(info.height)?, pixels))
    }

    #[test]
    fn qr_image_is_a_png_of_the_payload_symbol() -> TestResult {
        let photo = chiptan_qr_image(SPEC_CODE)?;
        assert_eq!(photo.mime_type, "image/png");
        let code = chiptan_qr_code(&bqr_payload(SPEC_CODE)?)?;
        assert_eq!(code.error_correction_level(), EcLevel::L);
        let modules = code.width();
        let (width, height, pixels) = decode_png(&photo.image)?;
        assert_eq!((width, height), ((modules + 2 * QUIET_ZONE_MODULES) * MODULE_PIXELS, width));
        assert_eq!(pixels.len(), width * height);

        // Every pixel of each module (and of the quiet zone) has the module's colour.
        let colors = code.to_colors();
        for y in 0..height {
            for x in 0..width {
                let (mx, my) = (x / MODULE_PIXELS, y / MODULE_PIXELS);
                let inside = (QUIET_ZONE_MODULES..QUIET_ZONE_MODULES + modules).contains(&mx)
                    && (QUIET_ZONE_MODULES..QUIET_ZONE_MODULES + modules).contains(&my);
                let dark = inside
                    && colors.get((my - QUIET_ZONE_MODULES) * modules + mx - QUIET_ZONE_MODULES) == Some(&Color::Dark);
                assert_eq!(pixels.get(y * width + x), Some(&if dark { 0 } else { u8::MAX }), "pixel ({x}, {y})");
            }
        }
        Ok(())
    }

    #[test]
    fn qr_symbol_carries_the_payload_in_byte_mode_after_eci_1() -> TestResult {
        let payload = bqr_payload(SPEC_CODE)?;
        let code = chiptan_qr_code(&payload)?;
        // ECI mode 0111 + designator 00000001, then byte mode 0100 + 8-bit length, then the payload bytes.
        let segments = |version: Version| -> Result<Bits, qrcode::types::QrError> {
            let mut bits = Bits::new(version);
            bits.push_eci_designator(1)?;
            bits.push_byte_data(&payload)?;
            bits.push_terminator(EcLevel::L)?;
            Ok(bits)
        };
        let length = u8::try_from(payload.len())?;
        let data = segments(code.version())?.into_bytes();
        assert_eq!(data.get(..3), Some(&[0x70, 0x14, length][..]));
        assert_eq!(data.get(3..3 + payload.len()), Some(&payload[..]));
        // Those segments give the matrix drawn.
        assert_eq!(QrCode::with_bits(segments(code.version())?, EcLevel::L)?.to_colors(), code.to_colors());
        // No smaller version would have held them.
        let Version::Normal(number) = code.version() else { return Err("not a normal QR version".into()) };
        assert!(number == 1 || segments(Version::Normal(number - 1)).is_err());
        Ok(())
    }

    #[test]
    fn qr_image_rejects_codes_that_are_not_rendered() {
        assert!(chiptan_qr_image("0D85012045201998041234567856").is_err());
        assert!(chiptan_qr_image("").is_err());
    }

    #[test]
    fn qr_image_of_the_longest_code_fits() -> TestResult {
        // LC FF: 255 bytes after it, which is the most a rendered code can hold.
        let payload = vec![0xA5; 261];
        let code = chiptan_qr_code(&payload)?;
        assert!(code.width() <= 177);
        decode_png(&qr_png(&code)?)?;
        Ok(())
    }
}
