use std::fs;
use std::path::Path;

use rand::RngCore;
use serde::{Deserialize, Serialize};

use super::files::write_private_file;
use crate::error::{ErrorCode, KontorError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeySource {
    Keyring,
    Passphrase,
}

/// Argon2id cost parameters, stored so that later versions can raise them for new vaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Argon2Params {
    pub salt_hex: String,
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Argon2Params {
    /// OWASP's first recommended Argon2id setting: 19 MiB, 2 passes. ~0.1 s on a laptop.
    pub fn recommended() -> Self {
        let mut salt = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut salt);
        Self { salt_hex: hex::encode(salt), memory_kib: 19 * 1024, iterations: 2, parallelism: 1 }
    }

    /// Cheap parameters for unit tests of the derivation itself.
    pub fn for_tests(salt_hex: &str) -> Self {
        Self { salt_hex: salt_hex.to_owned(), memory_kib: 1024, iterations: 1, parallelism: 1 }
    }
}

/// The sidecar `vault.json`: everything needed to find or derive the key, and nothing secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VaultMeta {
    pub format: u32,
    /// Names this vault's keyring entry, so several data directories never share a key.
    pub vault_id: String,
    pub key_source: KeySource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub argon2: Option<Argon2Params>,
    /// HMAC-SHA256 of a fixed label under the key.
    pub key_check: String,
}

impl VaultMeta {
    pub fn keyring_entry_name(&self) -> String {
        Self::keyring_entry_name_of(&self.vault_id)
    }

    pub(super) fn keyring_entry_name_of(vault_id: &str) -> String {
        format!("vault-key-{vault_id}")
    }

    pub fn read(path: &Path) -> Result<Option<Self>, KontorError> {
        let bytes = match fs::read(path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => {
                return Err(KontorError::new(
                    ErrorCode::Io,
                    format!("Kontor cannot read the vault's key file {}: {err}", path.display()),
                ));
            }
        };
        serde_json::from_slice(&bytes).map(Some).map_err(|_| {
            KontorError::new(
                ErrorCode::VaultCorrupt,
                format!(
                    "The vault's key file {} is damaged. Restore it from a backup or reset Kontor.",
                    path.display()
                ),
            )
        })
    }

    /// Writes atomically: a temporary private file, fsync, rename.
    pub fn write(&self, path: &Path) -> Result<(), KontorError> {
        let tmp = path.with_extension("json.tmp");
        match fs::remove_file(&tmp) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => return Err(err.into()),
            _ => {}
        }
        self.write_new(&tmp)?;
        fs::rename(&tmp, path)?;
        Ok(())
    }

    /// Writes to a file that must not exist yet (0600), flushed to disk.
    pub(super) fn write_new(&self, path: &Path) -> Result<(), KontorError> {
        let text = serde_json::to_string_pretty(self)
            .map_err(|err| KontorError::internal(format!("Could not encode vault.json: {err}")))?;
        write_private_file(path, text.as_bytes())
    }
}
