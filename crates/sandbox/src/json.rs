//! JSON output with money as numbers with exactly two decimals.
//!
//! finAPI sends amounts and balances as JSON numbers. The Demo Bank builds its answers as
//! [`serde_json::Value`]s and writes them with [`MoneyFormatter`], which prints every float with two decimals
//! (`-1150.00`, `12.30`). Invariant: **every float in a Demo Bank answer is money**; ids, counts and
//! percentages are integers. [`money`] is the only way amounts enter a `Value`.

use std::io;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;
use serde_json::Value;

/// A JSON number for an amount. Two-decimal amounts up to 10^13 survive the `f64` round trip exactly.
pub fn money(amount: Decimal) -> Value {
    Value::from(amount.round_dp(2).to_f64().unwrap_or(0.0))
}

/// Like [`money`], for optional amounts (`null` when absent).
pub fn money_opt(amount: Option<Decimal>) -> Value {
    amount.map(money).unwrap_or(Value::Null)
}

/// Writes floats with exactly two decimals; everything else as `serde_json` does.
#[derive(Debug, Clone, Copy, Default)]
pub struct MoneyFormatter;

impl serde_json::ser::Formatter for MoneyFormatter {
    fn write_f64<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        // -0.00 would be odd for a zero amount.
        let value = if value == 0.0 { 0.0 } else { value };
        write!(writer, "{value:.2}")
    }

    fn write_f32<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f32) -> io::Result<()> {
        self.write_f64(writer, f64::from(value))
    }
}

/// Serializes `value` with [`MoneyFormatter`].
pub fn to_bytes(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, MoneyFormatter);
    // Writing a `Value` into a `Vec` cannot fail.
    if value.serialize(&mut serializer).is_err() {
        out.clear();
        out.extend_from_slice(b"null");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn amounts_have_two_decimals() {
        let value = json!({"a": money(Decimal::new(-115000, 2)), "b": money(Decimal::new(123, 1)), "id": 7});
        let text = String::from_utf8(to_bytes(&value)).unwrap_or_default();
        assert_eq!(text, r#"{"a":-1150.00,"b":12.30,"id":7}"#);
    }
}
