//! Rendering chipTAN flicker codes (HHD 1.4, tan.md §3).
//!
//! Output invariants: upper-case hex of even length, first byte = number of bytes after it, last two characters
//! the Luhn digit and the XOR nibble. No `0FFF` sync prefix (the client's animation adds it).

use std::fmt::Write as _;

/// An HHD 1.4 challenge to render: control bytes, start code and up to three data elements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlickerChallenge {
    pub control_bytes: Vec<u8>,
    /// Digits only.
    pub start_code: String,
    /// Digits-only values are BCD, anything else ASCII (one byte per character, ASCII range only).
    pub data_elements: Vec<String>,
}

/// The rendered hex string of `challenge`.
pub fn render(challenge: &FlickerChallenge) -> String {
    let start = encode(&challenge.start_code);
    let controls: String = challenge.control_bytes.iter().map(|b| format!("{b:02X}")).collect();
    let mut ls = start.bytes;
    if !challenge.control_bytes.is_empty() {
        ls |= 0x80;
    }
    let mut body = format!("{ls:02X}{controls}{}", start.hex);
    let mut luhn_input = format!("{controls}{}", start.hex);
    for element in &challenge.data_elements {
        let encoded = encode(element);
        let length = if encoded.ascii { encoded.bytes + 0x40 } else { encoded.bytes };
        let _ = write!(body, "{length:02X}{}", encoded.hex);
        luhn_input.push_str(&encoded.hex);
    }
    let lc = (body.len() + 2) / 2;
    let mut rendered = format!("{lc:02X}{body}");
    let luhn = luhn_digit(&luhn_input);
    let xor = rendered.chars().filter_map(|c| c.to_digit(16)).fold(0u32, |acc, d| acc ^ d);
    let _ = write!(rendered, "{luhn:X}{xor:X}");
    rendered
}

struct Encoded {
    hex: String,
    bytes: u8,
    ascii: bool,
}

fn encode(value: &str) -> Encoded {
    if !value.is_empty() && value.chars().all(|c| c.is_ascii_digit()) {
        let mut hex = value.to_owned();
        if hex.len() % 2 == 1 {
            hex.push('F');
        }
        let bytes = u8::try_from(hex.len() / 2).unwrap_or(u8::MAX);
        Encoded { hex, bytes, ascii: false }
    } else {
        let hex: String = value.bytes().map(|b| format!("{b:02X}")).collect();
        Encoded { hex, bytes: u8::try_from(value.len()).unwrap_or(u8::MAX), ascii: true }
    }
}

/// Per byte: high nibble + digit sum of twice the low nibble; the check digit completes the sum to a multiple of 10.
fn luhn_digit(hex: &str) -> u32 {
    let nibbles: Vec<u32> = hex.chars().filter_map(|c| c.to_digit(16)).collect();
    let sum: u32 = nibbles
        .chunks(2)
        .map(|pair| {
            let high = pair.first().copied().unwrap_or(0);
            let doubled = pair.get(1).copied().unwrap_or(0) * 2;
            high + doubled / 10 + doubled % 10
        })
        .sum();
    (10 - sum % 10) % 10
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_example_renders() {
        let challenge = FlickerChallenge {
            control_bytes: vec![1],
            start_code: "2045201998".to_owned(),
            data_elements: vec!["12345678".to_owned()],
        };
        assert_eq!(render(&challenge), "0D85012045201998041234567855");
    }

    #[test]
    fn ascii_elements_use_the_hhd14_flag() {
        let challenge = FlickerChallenge {
            control_bytes: vec![1],
            start_code: "87654321".to_owned(),
            data_elements: vec!["1,00".to_owned()],
        };
        let hex = render(&challenge);
        assert!(hex.contains("44312C3030"), "{hex}");
        assert_eq!(usize::from_str_radix(&hex[..2], 16).unwrap_or(0), hex.len() / 2 - 1);
    }
}
