//! German IBANs with valid ISO 13616 check digits.
//!
//! A German IBAN is `DE` + two check digits + the 8-digit bank code (BLZ) + the 10-digit account number.
//! The check digits make `mod 97` of the rearranged number (BBAN + `DE00` as digits) equal 1.

/// Builds `DEkk` + `blz` + `account_number` (zero-padded to 10 digits) with correct check digits.
/// `blz` must be 8 ASCII digits; other input still gives a string, just not a valid IBAN.
pub fn german_iban(blz: &str, account_number: u64) -> String {
    let bban = format!("{blz}{account_number:010}");
    let check = 98 - mod97(&format!("{bban}131400"));
    format!("DE{check:02}{bban}")
}

/// `iban` with its check digits (positions 3–4) recomputed, for any country; used for counterpart IBANs
/// written down with placeholder check digits. Input that is too short or not alphanumeric is returned as is.
pub fn with_check_digits(iban: &str) -> String {
    let compact: String = iban.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
    let (Some(country), Some(bban)) = (compact.get(..2), compact.get(4..)) else {
        return compact;
    };
    let mut digits = String::new();
    for c in bban.chars().chain(country.chars()) {
        match c {
            '0'..='9' => digits.push(c),
            'A'..='Z' => digits.push_str(&(u32::from(c) - u32::from('A') + 10).to_string()),
            _ => return compact,
        }
    }
    digits.push_str("00");
    format!("{country}{:02}{bban}", 98 - mod97(&digits))
}

/// True if `iban` (spaces allowed) has valid check digits.
pub fn is_valid_iban(iban: &str) -> bool {
    let compact: String = iban.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
    if compact.len() < 5 || !compact.is_ascii() {
        return false;
    }
    let (head, tail) = compact.split_at(4);
    let mut digits = String::with_capacity(compact.len() * 2);
    for c in tail.chars().chain(head.chars()) {
        match c {
            '0'..='9' => digits.push(c),
            'A'..='Z' => digits.push_str(&(u32::from(c) - u32::from('A') + 10).to_string()),
            _ => return false,
        }
    }
    mod97(&digits) == 1
}

/// `digits mod 97`, computed digit by digit so any length works. Non-digits are skipped.
fn mod97(digits: &str) -> u64 {
    digits.chars().filter_map(|c| c.to_digit(10)).fold(0u64, |acc, d| (acc * 10 + u64::from(d)) % 97)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_iban_round_trips() {
        assert_eq!(german_iban("37040044", 532013000), "DE89370400440532013000");
        assert!(is_valid_iban("DE89 3704 0044 0532 0130 00"));
        assert!(!is_valid_iban("DE88370400440532013000"));
        assert_eq!(with_check_digits("DE02370400440532013000"), "DE89370400440532013000");
        assert!(is_valid_iban(&with_check_digits("NL02ABNA0123456789")));
    }
}
