use std::fs;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use super::files;
use super::key::VaultKey;
use super::keyring::{SecretStore, SecretStoreError};
use super::meta::{Argon2Params, KeySource, VaultMeta};
use crate::error::{ErrorCode, KontorError, Result};
use crate::secret::SecretString;
use crate::store::Store;

const STAGING_DB_SUFFIX: &str = ".creating";
const STAGING_META_SUFFIX: &str = ".pending";
/// Staging files this old belong to no first start still running; younger ones may.
const STALE_STAGING: Duration = Duration::from_secs(60);

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

    /// Whether a vault is here: its key file, or a database with something in it. A lone empty
    /// database is what an interrupted first start of an older Kontor left ([`finish_interrupted_start`]).
    pub fn exists(&self) -> bool {
        self.meta().exists() || fs::metadata(self.database()).is_ok_and(|m| m.len() > 0)
    }

    fn staging_database(&self, vault_id: &str) -> PathBuf {
        self.dir.join(format!("kontor.db.{vault_id}{STAGING_DB_SUFFIX}"))
    }

    fn staging_meta(&self, vault_id: &str) -> PathBuf {
        self.dir.join(format!("vault.json.{vault_id}{STAGING_META_SUFFIX}"))
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

/// Opens the database after the key was matched against vault.json's check value. A key that
/// matches but does not open the file means the file is damaged.
fn open_checked(paths: &VaultPaths, meta: &VaultMeta, key: &VaultKey) -> Result<Store> {
    if key.check_value() != meta.key_check {
        return Err(wrong_key());
    }
    let database = paths.database();
    let damage = match fs::metadata(&database) {
        Ok(found) if found.len() > 0 => None,
        Ok(_) => Some("is empty"),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Some("is missing"),
        Err(err) => return Err(err.into()),
    };
    if let Some(damage) = damage {
        return Err(crate::store::corrupt(
            &database,
            &format!(
                "The vault {} {damage}, though its key file {} is there; Kontor does not replace it with an empty vault.",
                database.display(),
                paths.meta().display()
            ),
        ));
    }
    files::restrict_file(&database)?;
    Store::open_encrypted(&database, key, false)
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

/// Builds the vault under staging names and publishes it in two steps, each atomic: the finished,
/// closed database is hard-linked to `kontor.db` (which fails if one exists, so of two processes
/// starting at the same moment only one publishes), then its `vault.json` is renamed into place.
/// The keyring entry is written before either. A crash before the link leaves only staging files;
/// a crash between the two steps is finished by the next start ([`finish_interrupted_start`]).
fn create(paths: &VaultPaths, key: &VaultKey, meta: &VaultMeta, keyring: Option<&dyn SecretStore>) -> Result<Store> {
    files::prepare_dir(&paths.dir)?;
    finish_interrupted_start(paths, keyring)?;
    if paths.exists() {
        return Err(KontorError::invalid_input("A vault already exists here."));
    }
    let staging_db = paths.staging_database(&meta.vault_id);
    let staging_meta = paths.staging_meta(&meta.vault_id);
    let published = (|| {
        if let Some(keyring) = keyring {
            keyring.set(&meta.keyring_entry_name(), &key.to_hex()).map_err(|e| keyring_unavailable(&e))?;
        }
        drop(files::create_private_file(&staging_db)?);
        Store::open_encrypted(&staging_db, key, true)?.close()?;
        meta.write_new(&staging_meta)?;
        match fs::hard_link(&staging_db, paths.database()) {
            Ok(()) => Ok(()),
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Err(KontorError::new(
                ErrorCode::VaultBusy,
                "Another Kontor process is creating the vault right now. Wait a moment and try again.",
            )),
            Err(err) => Err(err.into()),
        }
    })();
    if let Err(err) = published {
        remove_staging(paths, &meta.vault_id, keyring);
        return Err(err);
    }
    files::sync_dir(&paths.dir);
    fs::rename(&staging_meta, paths.meta())?;
    files::sync_dir(&paths.dir);
    let _ = fs::remove_file(&staging_db);
    open_checked(paths, meta, key)
}

fn remove_staging(paths: &VaultPaths, vault_id: &str, keyring: Option<&dyn SecretStore>) {
    let staging_db = paths.staging_database(vault_id);
    for suffix in ["", "-wal", "-shm"] {
        let _ = fs::remove_file(format!("{}{suffix}", staging_db.display()));
    }
    let _ = fs::remove_file(paths.staging_meta(vault_id));
    if let Some(keyring) = keyring {
        let _ = keyring.delete(&VaultMeta::keyring_entry_name_of(vault_id));
    }
}

/// Vault ids of the staging files in the data directory, each with its newest modification time.
fn staged_ids(paths: &VaultPaths) -> Vec<(String, Option<SystemTime>)> {
    let Ok(entries) = fs::read_dir(&paths.dir) else { return Vec::new() };
    let mut staged: Vec<(String, Option<SystemTime>)> = Vec::new();
    for entry in entries.flatten() {
        let Ok(name) = entry.file_name().into_string() else { continue };
        let id =
            name.strip_prefix("vault.json.").and_then(|rest| rest.strip_suffix(STAGING_META_SUFFIX)).or_else(|| {
                let rest = name.strip_prefix("kontor.db.")?;
                ["", "-wal", "-shm"]
                    .iter()
                    .find_map(|suffix| rest.strip_suffix(&format!("{STAGING_DB_SUFFIX}{suffix}")))
            });
        let Some(id) = id else { continue };
        let modified = entry.metadata().and_then(|m| m.modified()).ok();
        match staged.iter_mut().find(|(known, _)| known == id) {
            Some((_, newest)) => *newest = (*newest).max(modified),
            None => staged.push((id.to_owned(), modified)),
        }
    }
    staged
}

/// Finishes or removes what an interrupted first start left, so that it is never mistaken for a
/// damaged vault:
///
/// - `kontor.db` without `vault.json`, where `kontor.db` is a hard link of a staging database whose
///   staging key file is there: this version was killed between its two publishing steps. The
///   database is complete, so the key file is renamed into place.
/// - an empty `kontor.db` (and no `-wal` with content) without `vault.json`: an older Kontor was
///   killed during its first start. It holds no data and is removed.
/// - staging files older than a minute (a start killed before publishing), when no vault uses them:
///   removed with their keyring entry.
///
/// A non-empty `kontor.db` without `vault.json` that matches no staging file is left alone:
/// opening it reports the missing key file.
///
/// Also refuses a data directory other users could change ([`files::prepare_dir`]).
pub fn finish_interrupted_start(paths: &VaultPaths, keyring: Option<&dyn SecretStore>) -> Result<()> {
    if !paths.dir.exists() {
        return Ok(());
    }
    files::prepare_dir(&paths.dir)?;
    let database = paths.database();
    let meta_exists = paths.meta().exists();
    let staged = staged_ids(paths);
    if !meta_exists && database.exists() {
        for (id, _) in &staged {
            let staging_db = paths.staging_database(id);
            if files::same_file(&staging_db, &database).unwrap_or(false) {
                match fs::rename(paths.staging_meta(id), paths.meta()) {
                    Ok(()) => files::sync_dir(&paths.dir),
                    // Another process finished it first.
                    Err(err) if err.kind() == std::io::ErrorKind::NotFound && paths.meta().exists() => {}
                    Err(err) => return Err(err.into()),
                }
                let _ = fs::remove_file(&staging_db);
                return Ok(());
            }
        }
        let empty = |path: PathBuf| fs::metadata(path).map_or(true, |m| m.len() == 0);
        let wal = PathBuf::from(format!("{}-wal", database.display()));
        if empty(database.clone()) && empty(wal) {
            tracing::info!("removing the empty database an interrupted first start left at {}", database.display());
            for suffix in ["", "-wal", "-shm"] {
                match fs::remove_file(format!("{}{suffix}", database.display())) {
                    Err(err) if err.kind() != std::io::ErrorKind::NotFound => return Err(err.into()),
                    _ => {}
                }
            }
        }
        return Ok(());
    }
    let now = SystemTime::now();
    for (id, modified) in staged {
        let stale = modified.and_then(|m| now.duration_since(m).ok()).is_some_and(|age| age >= STALE_STAGING);
        let published = database.exists() && files::same_file(&paths.staging_database(&id), &database).unwrap_or(false);
        if stale && !published {
            remove_staging(paths, &id, keyring);
        }
    }
    if meta_exists {
        // A link left by a start killed after publishing: just a second name of the vault.
        for entry in fs::read_dir(&paths.dir)?.flatten() {
            let name = entry.file_name();
            let is_staging_db =
                name.to_str().is_some_and(|n| n.starts_with("kontor.db.") && n.ends_with(STAGING_DB_SUFFIX));
            if is_staging_db && files::same_file(&entry.path(), &database).unwrap_or(false) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
    Ok(())
}

fn validate_passphrase(passphrase: &SecretString) -> Result<()> {
    if passphrase.expose().chars().count() < 8 {
        return Err(KontorError::invalid_input("Choose a passphrase of at least 8 characters."));
    }
    Ok(())
}

/// Opens an existing keyring-protected vault.
pub fn open_with_keyring(paths: &VaultPaths, keyring: &dyn SecretStore) -> Result<Store> {
    finish_interrupted_start(paths, Some(keyring))?;
    let meta = require_meta(paths)?;
    let key = keyring_key(&meta, keyring)?;
    open_checked(paths, &meta, &key)
}

/// The key a keyring vault is opened with, from the keyring (for tools that open the database file
/// themselves, such as the read benchmark's `ATTACH … KEY`); the errors of [`open_with_keyring`].
pub fn key_from_keyring(paths: &VaultPaths, keyring: &dyn SecretStore) -> Result<VaultKey> {
    keyring_key(&require_meta(paths)?, keyring)
}

fn keyring_key(meta: &VaultMeta, keyring: &dyn SecretStore) -> Result<VaultKey> {
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
    VaultKey::from_hex(&stored).ok_or_else(wrong_key)
}

/// Opens an existing passphrase-protected vault.
pub fn unlock_with_passphrase(paths: &VaultPaths, passphrase: &SecretString) -> Result<Store> {
    finish_interrupted_start(paths, None)?;
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
