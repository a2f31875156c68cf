use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::KontorError;

/// An ISO 4217 currency code: three upper-case ASCII letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    pub const EUR: Currency = Currency(*b"EUR");

    pub fn parse(code: &str) -> Result<Self, KontorError> {
        let code = code.trim();
        let bytes = code.as_bytes();
        match bytes {
            [a, b, c] if bytes.iter().all(u8::is_ascii_alphabetic) => {
                Ok(Self([a.to_ascii_uppercase(), b.to_ascii_uppercase(), c.to_ascii_uppercase()]))
            }
            _ => Err(KontorError::invalid_input(format!("'{code}' is not a three-letter currency code."))),
        }
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for Currency {
    type Error = KontorError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Currency> for String {
    fn from(value: Currency) -> Self {
        value.as_str().to_owned()
    }
}

/// An exact amount in a currency. Negative amounts are debits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    pub currency: Currency,
}

impl Money {
    pub fn new(amount: Decimal, currency: Currency) -> Self {
        Self { amount, currency }
    }

    /// Parses a decimal string such as `-1234.56`; never goes through a float.
    pub fn parse(amount: &str, currency: &str) -> Result<Self, KontorError> {
        let value: Decimal = amount
            .trim()
            .parse()
            .map_err(|_| KontorError::invalid_input(format!("'{amount}' is not a decimal amount.")))?;
        Ok(Self::new(value, Currency::parse(currency)?))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exactly() {
        let m = Money::parse("-0.10", "eur").unwrap_or(Money::new(Decimal::ZERO, Currency::EUR));
        assert_eq!(m.amount.to_string(), "-0.10");
        assert_eq!(m.currency, Currency::EUR);
        let sum = (0..10).fold(Decimal::ZERO, |acc, _| acc + m.amount);
        assert_eq!(sum.to_string(), "-1.00");
    }

    #[test]
    fn rejects_bad_currency_and_amount() {
        assert!(Currency::parse("EURO").is_err());
        assert!(Currency::parse("E1R").is_err());
        assert!(Money::parse("abc", "EUR").is_err());
    }
}
