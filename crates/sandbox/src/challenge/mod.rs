//! The TAN challenges the Demo Bank shows: a rendered chipTAN flicker code and a chipTAN-QR PNG.
//!
//! A real bank sends what a real TAN generator can read, so these are *valid* codes, not placeholders:
//!
//! - [`flicker`] renders an HHD 1.4 datagram (tan.md §3): LC, LS with the control-byte flag, control byte `01`,
//!   BCD start code, data elements, Luhn and XOR check digits. finAPI passes exactly this rendered hex string
//!   in `opticalData` (finapi.md §8), so that is what the Demo Bank sends.
//! - [`qr_png`] turns the same rendered code into the "banking QR" payload (tan.md §7: `DK` magic, CRC-16/ARC,
//!   XOR with `DK`) and draws it as a QR code in a PNG, which finAPI passes base64-encoded in `photoTanData`.
//!
//! This is an independent implementation of the rules (the client decodes with `kontor_core::tan`), so the
//! tests cross-check the two.

pub mod flicker;
pub mod qr_png;
