//! The vault: the encrypted database and the key that opens it.
//!
//! Concepts and invariants:
//!
//! - The database key is 32 random bytes ([`VaultKey`]), handed to SQLCipher as a raw key. It is
//!   zeroized on drop, has no `Debug` content and no `Serialize`.
//! - The key lives in one of two places, recorded in the sidecar `vault.json` ([`VaultMeta`]):
//!   the OS keyring ([`KeySource::Keyring`]: Secret Service, Keychain, Credential Manager), or
//!   nowhere at all: it is derived from a passphrase with Argon2id whose salt and parameters are in
//!   `vault.json` ([`KeySource::Passphrase`]). The user can move between the two ([`rekey`]).
//! - `vault.json` also holds a key check value, HMAC-SHA256(key, a fixed label). It tells a wrong key
//!   from a damaged file without touching the database, and reveals nothing about the key.
//! - Opening never writes to a database it cannot fully accept: a wrong key, a missing keyring entry,
//!   an unreachable keyring, a damaged file or a newer schema each end in their own
//!   [`crate::ErrorCode`] with the file left byte-identical.
//! - A keyring entry is never replaced while a database exists that the old key opens.
//! - `vault.json` present means `kontor.db` is complete: a first start publishes the finished
//!   database before its key file, so an interrupted one is finished or removed by the next start,
//!   and a missing or empty `kontor.db` next to a `vault.json` is damage (`VaultCorrupt`), never
//!   replaced by an empty vault.
//! - Files are private to the user ([`files`]).

mod files;
mod key;
mod keyring;
mod meta;
mod open;

pub use key::VaultKey;
pub use keyring::{OsKeyring, SecretStore, SecretStoreError};
pub use meta::{Argon2Params, KeySource, VaultMeta};
pub use open::{
    VaultPaths, create_with_keyring, create_with_passphrase, finish_interrupted_start, key_from_keyring,
    open_with_keyring, rekey, unlock_with_passphrase,
};
