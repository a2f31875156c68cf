use std::fs;
use std::path::{Path, PathBuf};

use super::key::VaultKey;
use super::keyring::{SecretStore, SecretStoreError};
use super::meta::{Argon2Params, KeySource, VaultMeta};
use crate::error::{ErrorCode, KontorError, Result};
use crate::secret::SecretString;
use crate::store::Store;

/// The files of one vault inside a data directory.
#[derive(Debug, Clone)]
pub struct VaultPaths {
    pub dir: PathBuf,
}

impl VaultPaths {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn database(&self) -> PathBuf {
        self.dir.join("kontor.db")
    }

    pub fn meta(&self) -> PathBuf {
        self.dir.join("vault.json")
    }

    pub fn exists(&self) -> bool {
        self.database().exists() || self.meta().exists()
    }

    pub fn read_meta(&self) -> Result<Option<VaultMeta>> {
        VaultMeta::read(&self.meta())
    }
}

fn keyring_unavailable(err: &SecretStoreError) -> KontorError {
    KontorError::new(
        ErrorCode::KeyringUnavailable,
        format!(
            "Kontor could not reach your system keyring ({err}). You can protect the vault with a passphrase instead, or start a keyring service (for example GNOME Keyring or KWallet) and try again."
        ),
    )
}

fn wrong_key() -> KontorError {
    KontorError::new(
        ErrorCode::VaultWrongKey,
        "This key does not open the vault. If you use a passphrase, check it and try again; the vault was not changed.",
    )
}

fn prepare_dir(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Opens the database after the key was matched against vault.json's check value. A key that
/// matches but does not open the file means the file is damaged.
fn open_checked(paths: &VaultPaths, meta: &VaultMeta, key: &VaultKey) -> Result<Store> {
    if key.check_value() != meta.key_check {
        return Err(wrong_key());
    }
    Store::open_encrypted(&paths.database(), key, false)
}

fn require_meta(paths: &VaultPaths) -> Result<VaultMeta> {
    paths.read_meta()?.ok_or_else(|| {
        KontorError::new(
            ErrorCode::VaultCorrupt,
            format!(
                "The vault's key file {} is missing, so Kontor cannot tell how to unlock the vault. Restore it from a backup or reset Kontor.",
                paths.meta().display()
            ),
        )
    })
}

/// Creates a new vault whose key is 32 random bytes in the OS keyring.
pub fn create_with_keyring(paths: &VaultPaths, keyring: &dyn SecretStore) -> Result<Store> {
    if paths.exists() {
        return Err(KontorError::invalid_input("A vault already exists here."));
    }
    let key = VaultKey::generate();
    let meta = VaultMeta {
        format: 1,
        vault_id: uuid::Uuid::new_v4().simple().to_string(),
        key_source: KeySource::Keyring,
        argon2: None,
        key_check: key.check_value(),
    };
    create(paths, &key, &meta, Some(keyring))
}

/// Creates a new vault whose key is derived from a passphrase (for systems without a keyring).
pub fn create_with_passphrase(paths: &VaultPaths, passphrase: &SecretString) -> Result<Store> {
    if paths.exists() {
        return Err(KontorError::invalid_input("A vault already exists here."));
    }
    validate_passphrase(passphrase)?;
    let params = Argon2Params::recommended();
    let key = VaultKey::derive(passphrase, &params)?;
    let meta = VaultMeta {
        format: 1,
        vault_id: uuid::Uuid::new_v4().simple().to_string(),
        key_source: KeySource::Passphrase,
        argon2: Some(params),
        key_check: key.check_value(),
    };
    create(paths, &key, &meta, None)
}

/// Creates the database file exclusively, so two processes starting for the first time at the same
/// moment cannot each create a vault under their own key; on any failure removes what it created, so
/// a failed first start leaves nothing that a later start would mistake for a damaged vault.
fn create(paths: &VaultPaths, key: &VaultKey, meta: &VaultMeta, keyring: Option<&dyn SecretStore>) -> Result<Store> {
    prepare_dir(&paths.dir)?;
    let database = paths.database();
    match fs::OpenOptions::new().write(true).create_new(true).open(&database) {
        Ok(_) => {}
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(KontorError::new(
                ErrorCode::VaultBusy,
                "Another Kontor process is creating the vault right now. Wait a moment and try again.",
            ));
        }
        Err(err) => return Err(err.into()),
    }
    let created = (|| {
        if let Some(keyring) = keyring {
            keyring.set(&meta.keyring_entry_name(), &key.to_hex()).map_err(|e| keyring_unavailable(&e))?;
        }
        let store = Store::open_encrypted(&database, key, true)?;
        meta.write(&paths.meta())?;
        Ok(store)
    })();
    if created.is_err() {
        for suffix in ["", "-wal", "-shm"] {
            let _ = fs::remove_file(format!("{}{suffix}", database.display()));
        }
        if let Some(keyring) = keyring {
            let _ = keyring.delete(&meta.keyring_entry_name());
        }
    }
    created
}

fn validate_passphrase(passphrase: &SecretString) -> Result<()> {
    if passphrase.expose().chars().count() < 8 {
        return Err(KontorError::invalid_input("Choose a passphrase of at least 8 characters."));
    }
    Ok(())
}

/// Opens an existing keyring-protected vault.
pub fn open_with_keyring(paths: &VaultPaths, keyring: &dyn SecretStore) -> Result<Store> {
    let meta = require_meta(paths)?;
    if meta.key_source == KeySource::Passphrase {
        return Err(KontorError::new(ErrorCode::PassphraseRequired, "Enter your passphrase to unlock Kontor."));
    }
    let stored = keyring.get(&meta.keyring_entry_name()).map_err(|e| keyring_unavailable(&e))?;
    let Some(stored) = stored else {
        return Err(KontorError::new(
            ErrorCode::VaultKeyMissing,
            "The key for this vault is missing from your system keyring. Restore the keyring from a backup, or reset Kontor to start over; the vault was not changed.",
        ));
    };
    let key = VaultKey::from_hex(&stored).ok_or_else(wrong_key)?;
    open_checked(paths, &meta, &key)
}

/// Opens an existing passphrase-protected vault.
pub fn unlock_with_passphrase(paths: &VaultPaths, passphrase: &SecretString) -> Result<Store> {
    let meta = require_meta(paths)?;
    let Some(params) = meta.argon2.as_ref().filter(|_| meta.key_source == KeySource::Passphrase) else {
        return Err(KontorError::invalid_input("This vault is protected by the system keyring, not a passphrase."));
    };
    let key = VaultKey::derive(passphrase, params)?;
    open_checked(paths, &meta, &key)
}

/// Moves an open vault to another key source: re-encrypts under a fresh key, then records it.
///
/// Order for crash safety: the new key is stored (keyring) or derivable (passphrase) before the
/// database is rekeyed, and vault.json is replaced atomically right after; the old keyring entry is
/// only deleted at the end.
pub fn rekey(
    paths: &VaultPaths,
    store: &Store,
    keyring: &dyn SecretStore,
    target: KeySource,
    passphrase: Option<&SecretString>,
) -> Result<()> {
    let old = require_meta(paths)?;
    let new_id = uuid::Uuid::new_v4().simple().to_string();
    let (key, argon2) = match target {
        KeySource::Keyring => (VaultKey::generate(), None),
        KeySource::Passphrase => {
            let passphrase =
                passphrase.ok_or_else(|| KontorError::invalid_input("A passphrase is needed to protect the vault."))?;
            validate_passphrase(passphrase)?;
            let params = Argon2Params::recommended();
            (VaultKey::derive(passphrase, &params)?, Some(params))
        }
    };
    let meta = VaultMeta { format: 1, vault_id: new_id, key_source: target, argon2, key_check: key.check_value() };
    if target == KeySource::Keyring {
        keyring.set(&meta.keyring_entry_name(), &key.to_hex()).map_err(|e| keyring_unavailable(&e))?;
    }
    store.rekey(&key)?;
    meta.write(&paths.meta())?;
    if old.key_source == KeySource::Keyring {
        // Best effort: a leftover entry opens nothing any more.
        let _ = keyring.delete(&old.keyring_entry_name());
    }
    Ok(())
}
