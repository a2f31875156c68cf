use std::fmt;

use crate::secret::SecretString;

/// Why the OS keyring could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretStoreError {
    /// No keyring service answered (no Secret Service on the session bus, a locked collection, …).
    Unavailable(String),
}

impl fmt::Display for SecretStoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unavailable(why) => write!(f, "the OS keyring is not available: {why}"),
        }
    }
}

/// Named secrets in a platform keyring. Kontor keeps the vault key and provider client secrets here.
pub trait SecretStore: Send + Sync + fmt::Debug {
    fn get(&self, name: &str) -> Result<Option<SecretString>, SecretStoreError>;
    fn set(&self, name: &str, value: &SecretString) -> Result<(), SecretStoreError>;
    /// Deleting a name that does not exist is not an error.
    fn delete(&self, name: &str) -> Result<(), SecretStoreError>;
}

/// The platform keyring through the `keyring` crate: Secret Service on Linux, Keychain on macOS,
/// Credential Manager on Windows. Entries are (service, name).
#[derive(Debug, Clone)]
pub struct OsKeyring {
    service: String,
}

impl OsKeyring {
    pub const DEFAULT_SERVICE: &'static str = "dev.kontor.Kontor";

    pub fn new(service: impl Into<String>) -> Self {
        Self { service: service.into() }
    }

    fn entry(&self, name: &str) -> Result<keyring::Entry, SecretStoreError> {
        keyring::Entry::new(&self.service, name).map_err(|err| SecretStoreError::Unavailable(describe(&err)))
    }
}

impl Default for OsKeyring {
    fn default() -> Self {
        Self::new(Self::DEFAULT_SERVICE)
    }
}

/// Describes a keyring error without echoing any secret (the crate's errors carry none, but
/// `BadEncoding` carries bytes, which are not printed).
fn describe(err: &keyring::Error) -> String {
    match err {
        keyring::Error::PlatformFailure(inner) | keyring::Error::NoStorageAccess(inner) => inner.to_string(),
        keyring::Error::BadEncoding(_) => "the stored value is not text".to_owned(),
        other => other.to_string(),
    }
}

impl SecretStore for OsKeyring {
    fn get(&self, name: &str) -> Result<Option<SecretString>, SecretStoreError> {
        match self.entry(name)?.get_password() {
            Ok(value) => Ok(Some(SecretString::new(value))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(err) => Err(SecretStoreError::Unavailable(describe(&err))),
        }
    }

    fn set(&self, name: &str, value: &SecretString) -> Result<(), SecretStoreError> {
        self.entry(name)?.set_password(value.expose()).map_err(|err| SecretStoreError::Unavailable(describe(&err)))
    }

    fn delete(&self, name: &str) -> Result<(), SecretStoreError> {
        match self.entry(name)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(err) => Err(SecretStoreError::Unavailable(describe(&err))),
        }
    }
}
