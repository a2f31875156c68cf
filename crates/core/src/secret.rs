//! A wrapper for values that must never reach a log, a panic message or a serialized payload.
//!
//! PINs, TANs, tokens, client secrets and the database key travel as [`Sensitive<T>`]. Its `Debug`
//! prints `<redacted>`, it implements neither `Display` nor `Serialize`, and its contents are
//! zeroized on drop. Reading the value needs an explicit [`Sensitive::expose`], which is easy to
//! find in review.

use std::fmt;

use serde::{Deserialize, Deserializer};
use zeroize::{Zeroize, ZeroizeOnDrop};

#[derive(Clone, Default, PartialEq, Eq)]
pub struct Sensitive<T: Zeroize>(T);

impl<T: Zeroize> Sensitive<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The wrapped value. Every call site is a place where the secret leaves its box.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T: Zeroize> Drop for Sensitive<T> {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl<T: Zeroize> ZeroizeOnDrop for Sensitive<T> {}

impl<T: Zeroize> fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<T: Zeroize> From<T> for Sensitive<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

/// Secrets may arrive from the UI or the CLI; they are never sent back out.
impl<'de, T: Zeroize + Deserialize<'de>> Deserialize<'de> for Sensitive<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Self)
    }
}

pub type SecretString = Sensitive<String>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let pin = SecretString::new("12345".to_owned());
        let printed = format!("{pin:?} {:?}", Some(&pin));
        assert!(!printed.contains("12345"), "{printed}");
        assert_eq!(pin.expose(), "12345");
    }

    #[test]
    fn deserializes_from_a_plain_string() {
        let tan: SecretString = serde_json::from_str("\"123456\"").unwrap_or_default();
        assert_eq!(tan.expose(), "123456");
    }
}
