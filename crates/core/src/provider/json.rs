//! JSON reading shared by the providers: amounts never pass through a float.
//!
//! [`parse_body`] first rewrites every non-integer JSON number into a JSON string with exactly the
//! same digits ([`quote_decimals`]); DTOs then read decimals from strings or integers ([`decimal`]).
//! Lists accept `null` as empty ([`null_vec`]). A body that cannot be read, truncated or of an
//! unexpected shape, is [`ErrorCode::ProviderResponseInvalid`] naming the provider and what was read.

use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};

use crate::error::{ErrorCode, KontorError};

/// Rewrites non-integer numbers (and integers too long for an `i64`) into strings, outside of string
/// literals, so that `serde_json` never turns an amount into an `f64`. Everything else is copied
/// byte for byte; malformed input stays malformed and fails in the parser afterwards.
pub fn quote_decimals(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len() + 16);
    let mut i = 0;
    let mut copied_to = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() {
                    match bytes[i] {
                        b'\\' => i += 2,
                        b'"' => {
                            i += 1;
                            break;
                        }
                        _ => i += 1,
                    }
                }
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < bytes.len() && matches!(bytes[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') {
                    i += 1;
                }
                let number = &text[start..i];
                let digits = number.bytes().filter(u8::is_ascii_digit).count();
                if number.contains(['.', 'e', 'E']) || digits > 18 {
                    out.push_str(&text[copied_to..start]);
                    out.push('"');
                    out.push_str(number);
                    out.push('"');
                    copied_to = i;
                }
            }
            _ => i += 1,
        }
    }
    out.push_str(&text[copied_to.min(text.len())..]);
    out
}

/// Parses a response body from `provider` (its name as users know it); `what` names what was read.
pub fn parse_body<T: DeserializeOwned>(body: &str, provider: &str, what: &str) -> Result<T, KontorError> {
    serde_json::from_str(&quote_decimals(body)).map_err(|e| {
        let why = if e.is_eof() { "the answer was cut off".to_owned() } else { e.to_string() };
        KontorError::new(
            ErrorCode::ProviderResponseInvalid,
            format!("{provider} sent an answer Kontor cannot read ({what}: {why}). Try again later."),
        )
    })
}

/// `null` or absent → empty list.
pub fn null_vec<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// An exact decimal from a JSON string or integer (see [`quote_decimals`]); `null` → `None`.
pub mod decimal {
    use super::*;

    struct DecimalVisitor;

    impl<'de> Visitor<'de> for DecimalVisitor {
        type Value = Option<Decimal>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a decimal number")
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(Decimal::from(v)))
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(Decimal::from(v)))
        }

        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Err(E::custom("a float amount reached the parser; amounts must be read exactly"))
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            let v = v.trim();
            exact(v).map(Some).ok_or_else(|| E::custom(format!("'{v}' is not a decimal amount")))
        }
    }

    /// A plain decimal (`-12.50`, `+3`, `1.5e3`, `1E-2`) read exactly, or `None`. `Decimal`'s own parsers
    /// round a number with more than 28 significant digits and skip `_` between digits; an amount must be
    /// what the provider sent, so both are refused.
    fn exact(text: &str) -> Option<Decimal> {
        let (base, exponent) = match text.split_once(['e', 'E']) {
            Some((base, exponent)) => (base, Some(exponent)),
            None => (text, None),
        };
        let unsigned = base.strip_prefix(['-', '+']).unwrap_or(base);
        let plain = unsigned.bytes().any(|b| b.is_ascii_digit())
            && unsigned.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            && unsigned.bytes().filter(|&b| b == b'.').count() <= 1;
        if !plain {
            return None;
        }
        let value = Decimal::from_str_exact(base).ok()?;
        match exponent {
            None => Some(value),
            Some(exponent) => {
                let digits = exponent.strip_prefix(['-', '+']).unwrap_or(exponent);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                // The base is exact, so this only scales it; a scale or value out of range is an error.
                Decimal::from_scientific(text).ok()
            }
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        d.deserialize_option(DecimalVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Row {
        #[serde(deserialize_with = "decimal::deserialize")]
        amount: Option<Decimal>,
    }

    fn amount(body: &str) -> Option<String> {
        parse_body::<Row>(body, "test", "row").ok().and_then(|row| row.amount).map(|a| a.to_string())
    }

    #[test]
    fn amounts_are_exact_or_refused() {
        assert_eq!(amount(r#"{"amount":-1234.56}"#).as_deref(), Some("-1234.56"));
        assert_eq!(amount(r#"{"amount":"0.10"}"#).as_deref(), Some("0.10"));
        assert_eq!(amount(r#"{"amount":1.5e3}"#).as_deref(), Some("1500"));
        assert_eq!(amount(r#"{"amount":"+2E-2"}"#).as_deref(), Some("0.02"));
        assert_eq!(amount(r#"{"amount":12}"#).as_deref(), Some("12"));
        // found by the fuzz target `provider`: 29 and more significant digits were rounded
        assert_eq!(amount(r#"{"amount":0.30000000000111111111111111111}"#), None);
        assert_eq!(amount(r#"{"amount":"1.00000000000000000000000000001e2"}"#), None);
        assert_eq!(amount(r#"{"amount":"1_000"}"#), None);
        assert_eq!(amount(r#"{"amount":"1.2.3"}"#), None);
        assert_eq!(amount(r#"{"amount":"1e"}"#), None);
    }
}
