use std::fmt;

use argon2::{Algorithm, Argon2, Params, Version};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::meta::Argon2Params;
use crate::error::{ErrorCode, KontorError};
use crate::secret::SecretString;

const KEY_CHECK_LABEL: &[u8] = b"kontor vault key check v1";

/// The 32-byte SQLCipher key. Zeroized on drop; never printed, never serialized.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct VaultKey([u8; 32]);

impl VaultKey {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// Argon2id over the passphrase with the vault's salt and cost parameters.
    pub fn derive(passphrase: &SecretString, params: &Argon2Params) -> Result<Self, KontorError> {
        let salt = hex::decode(&params.salt_hex)
            .map_err(|_| KontorError::new(ErrorCode::VaultCorrupt, "The vault's passphrase salt is damaged."))?;
        let argon_params = Params::new(params.memory_kib, params.iterations, params.parallelism, Some(32))
            .map_err(|_| KontorError::new(ErrorCode::VaultCorrupt, "The vault's passphrase parameters are invalid."))?;
        let mut bytes = [0u8; 32];
        Argon2::new(Algorithm::Argon2id, Version::V0x13, argon_params)
            .hash_password_into(passphrase.expose().as_bytes(), &salt, &mut bytes)
            .map_err(|_| KontorError::new(ErrorCode::VaultCorrupt, "The vault's passphrase parameters are invalid."))?;
        Ok(Self(bytes))
    }

    /// Reads a key stored as 64 hex characters (the keyring format).
    pub fn from_hex(text: &SecretString) -> Option<Self> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text.expose().trim(), &mut bytes).ok()?;
        Some(Self(bytes))
    }

    pub fn to_hex(&self) -> SecretString {
        SecretString::new(hex::encode(self.0))
    }

    /// The value for `PRAGMA key`: SQLCipher's raw-key syntax, which skips its own PBKDF2.
    pub(crate) fn sqlcipher_pragma(&self) -> SecretString {
        SecretString::new(format!("x'{}'", hex::encode(self.0)))
    }

    /// HMAC-SHA256(key, label): recorded in vault.json to recognise the right key.
    pub fn check_value(&self) -> String {
        match <Hmac<Sha256> as Mac>::new_from_slice(&self.0) {
            Ok(mut mac) => {
                mac.update(KEY_CHECK_LABEL);
                hex::encode(mac.finalize().into_bytes())
            }
            // HMAC accepts keys of any length; this arm is unreachable for a 32-byte key.
            Err(_) => String::new(),
        }
    }
}

impl fmt::Debug for VaultKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VaultKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_differ_and_never_print() {
        let a = VaultKey::generate();
        let b = VaultKey::generate();
        assert_ne!(a.check_value(), b.check_value());
        let printed = format!("{a:?}");
        assert!(!printed.contains(&a.to_hex().expose()[..8]));
    }

    #[test]
    fn hex_round_trip() {
        let a = VaultKey::generate();
        let b = VaultKey::from_hex(&a.to_hex());
        assert_eq!(b.map(|k| k.check_value()), Some(a.check_value()));
        assert!(VaultKey::from_hex(&SecretString::new("zz".into())).is_none());
    }

    #[test]
    fn derivation_is_deterministic_per_salt() {
        let params = Argon2Params::for_tests("00112233445566778899aabbccddeeff");
        let pass = SecretString::new("correct horse".into());
        let a = VaultKey::derive(&pass, &params).map(|k| k.check_value()).unwrap_or_default();
        let b = VaultKey::derive(&pass, &params).map(|k| k.check_value()).unwrap_or_default();
        let other =
            VaultKey::derive(&SecretString::new("wrong".into()), &params).map(|k| k.check_value()).unwrap_or_default();
        assert!(!a.is_empty());
        assert_eq!(a, b);
        assert_ne!(a, other);
    }
}
