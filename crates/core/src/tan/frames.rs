//! The flicker animation's frames (tan.md §4.1).
//!
//! The rendered code is prefixed with the sync pattern [`SYNC_PREFIX`] and sent byte by byte, low nibble first.
//! Each nibble is shown twice: once with the clock bar white, then with it black, the data bars unchanged, so the
//! data is stable at the white→black step where the generator samples. The sequence loops forever; one loop of a
//! code with n hex characters has 2·(n+4) frames.

use std::fmt;

use serde::Serialize;
use ts_rs::TS;

use super::error::TanError;
use super::render::hex_to_bytes;

/// Sent before every loop of the code; goes out as the nibbles F, 0, F, F.
pub const SYNC_PREFIX: &str = "0FFF";

/// One frame: five bars, `true` meaning white (bright) on the black background.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, TS)]
pub struct FlickerFrame {
    /// `bars[0]` is the clock; `bars[1]`..`bars[4]` carry bits 0 (value 1) to 3 (value 8) of the nibble.
    pub bars: [bool; 5],
}

impl FlickerFrame {
    fn new(clock: bool, nibble: u8) -> Self {
        let bit = |index: u8| nibble & (1 << index) != 0;
        Self { bars: [clock, bit(0), bit(1), bit(2), bit(3)] }
    }

    pub fn clock(self) -> bool {
        self.bars[0]
    }

    /// The nibble the data bars carry.
    pub fn nibble(self) -> u8 {
        self.bars.iter().skip(1).enumerate().fold(0, |nibble, (index, &on)| nibble | (u8::from(on) << index))
    }
}

/// Bars as `1` (white) and `0` (black), clock first, e.g. `10111` for clock white and nibble 0xF.
impl fmt::Display for FlickerFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.bars.iter().try_for_each(|&on| f.write_str(if on { "1" } else { "0" }))
    }
}

/// The frames of one loop for a rendered code (without the sync prefix, which this adds).
pub fn flicker_frames(render_hex: &str) -> Result<Vec<FlickerFrame>, TanError> {
    let code = hex_to_bytes(render_hex.trim())?;
    let mut frames = Vec::with_capacity((code.len() + 2) * 4);
    for byte in [0x0F, 0xFF].iter().chain(code.iter()) {
        for nibble in [byte & 0x0F, byte >> 4] {
            frames.push(FlickerFrame::new(true, nibble));
            frames.push(FlickerFrame::new(false, nibble));
        }
    }
    Ok(frames)
}
