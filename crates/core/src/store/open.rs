use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use rusqlite::{Connection, ErrorCode as SqliteCode, OpenFlags};

use super::migrations;
use crate::error::{ErrorCode, KontorError};
use crate::vault::VaultKey;

/// How long an open waits for another connection's lock (a write, a checkpoint, WAL recovery)
/// before it gives up with [`ErrorCode::VaultBusy`].
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The page cache of a vault connection, in KiB (SQLite's default is 2 MB): lists, searches and
/// totals over a large vault read the same pages again, and each page read from the file is
/// decrypted. The cache grows only as pages are read, so a small vault uses little of it.
const CACHE_KIB: i64 = 64 * 1024;

/// How long the first open of a process waits for SQLCipher to finish initialising.
const CIPHER_READY_TIMEOUT: Duration = Duration::from_secs(5);

/// Waits, once per process, until SQLCipher can key a connection.
///
/// SQLite marks itself initialised before it runs SQLCipher's own initialisation
/// (`SQLITE_EXTRA_INIT`, which sets up the crypto provider), and other threads' `sqlite3_initialize`
/// return at once from then on. A thread that keyed a connection in that window got
/// "An error occurred with PRAGMA key or rekey" although nothing was wrong with the key or the file
/// (two threads creating their first vaults at the same moment; seen as a flaky test under load).
/// Here one thread keys a throw-away in-memory connection while all other openers wait on the
/// `OnceLock`; it normally succeeds at once, since that thread runs the whole initialisation
/// itself. Only if something outside this module is initialising SQLite at the same moment does it
/// see the window, and then it polls until SQLCipher reports ready. Nothing touches a file here.
fn sqlcipher_ready() -> Result<(), KontorError> {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    READY
        .get_or_init(|| {
            let started = Instant::now();
            loop {
                let probe =
                    Connection::open_in_memory().and_then(|conn| conn.pragma_update(None, "key", "kontor-probe"));
                match probe {
                    Ok(()) => return Ok(()),
                    Err(err) if started.elapsed() >= CIPHER_READY_TIMEOUT => return Err(err.to_string()),
                    Err(_) => thread::sleep(Duration::from_millis(1)),
                }
            }
        })
        .clone()
        .map_err(|err| {
            KontorError::internal(format!("The encryption library (SQLCipher) could not be initialised: {err}"))
        })
}

/// An open, unlocked, migrated vault database.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

/// Maps an SQLite failure while opening or reading to the vault's error codes.
pub(crate) fn classify(err: &rusqlite::Error, path: &Path) -> KontorError {
    let code = err.sqlite_error_code();
    match code {
        Some(SqliteCode::NotADatabase) | Some(SqliteCode::DatabaseCorrupt) => KontorError::new(
            ErrorCode::VaultCorrupt,
            format!(
                "The vault {} is damaged and cannot be read. Your file was left as it is; restore it from a backup or reset Kontor.",
                path.display()
            ),
        ),
        Some(SqliteCode::DatabaseBusy) | Some(SqliteCode::DatabaseLocked) => KontorError::new(
            ErrorCode::VaultBusy,
            "The vault is in use by another Kontor process. Close it, or wait a moment and try again.",
        ),
        Some(SqliteCode::CannotOpen) | Some(SqliteCode::PermissionDenied) | Some(SqliteCode::ReadOnly) => {
            KontorError::new(ErrorCode::Io, format!("Kontor cannot open {}: {err}", path.display()))
        }
        _ => KontorError::internal(format!("Database error: {err}")),
    }
}

/// `PRAGMA key` reads nothing and takes no lock; it fails only if SQLCipher itself is not usable
/// (its generic message names the pragma and misleadingly talks about empty keys).
fn key_failed(err: &rusqlite::Error, path: &Path) -> KontorError {
    match err.sqlite_error_code() {
        Some(SqliteCode::DatabaseBusy | SqliteCode::DatabaseLocked) => classify(err, path),
        _ => KontorError::internal(format!("The encryption library (SQLCipher) could not set the vault's key: {err}")),
    }
}

impl Store {
    /// Opens (creating if `create`) the database at `path` with `key`, verifies the key, checks the
    /// schema version and migrates. See the module docs for the order and what it guarantees.
    pub fn open_encrypted(path: &Path, key: &VaultKey, create: bool) -> Result<Self, KontorError> {
        let mut flags =
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        if create {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        } else if !path.exists() {
            return Err(KontorError::new(ErrorCode::NotFound, format!("No vault exists at {}.", path.display())));
        }
        sqlcipher_ready()?;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| classify(&e, path))?;
        // A connection setting that touches no file: set first, so that every step below that
        // needs a lock waits for other connections instead of failing at once.
        conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| classify(&e, path))?;
        conn.pragma_update(None, "key", key.sqlcipher_pragma().expose()).map_err(|e| key_failed(&e, path))?;
        conn.pragma_update(None, "temp_store", "MEMORY").map_err(|e| classify(&e, path))?;
        conn.pragma_update(None, "cache_size", -CACHE_KIB).map_err(|e| classify(&e, path))?;
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |row| row.get::<_, i64>(0))
            .map_err(|e| classify(&e, path))?;
        let version: i64 =
            conn.pragma_query_value(None, "user_version", |row| row.get(0)).map_err(|e| classify(&e, path))?;
        if version > migrations::LATEST {
            return Err(KontorError::new(
                ErrorCode::VaultNewerSchema,
                format!(
                    "This vault was written by a newer version of Kontor (schema {version}, this version knows up to {}). Update Kontor to open it; the file was not changed.",
                    migrations::LATEST
                ),
            ));
        }
        conn.pragma_update(None, "journal_mode", "WAL").map_err(|e| classify(&e, path))?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(|e| classify(&e, path))?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(|e| classify(&e, path))?;
        let mut store = Self { conn, path: path.to_owned() };
        migrations::apply(&mut store.conn).map_err(|e| classify(&e, path))?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    pub fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// Re-encrypts the database under a new key (`PRAGMA rekey`).
    pub fn rekey(&self, key: &VaultKey) -> Result<(), KontorError> {
        self.conn.pragma_update(None, "rekey", key.sqlcipher_pragma().expose()).map_err(|e| classify(&e, &self.path))
    }

    pub fn schema_version(&self) -> Result<i64, KontorError> {
        self.conn.pragma_query_value(None, "user_version", |row| row.get(0)).map_err(|e| classify(&e, &self.path))
    }

    /// Checkpoints the WAL into the main file and closes, so no `-wal`/`-shm` remain.
    pub fn close(self) -> Result<(), KontorError> {
        let path = self.path.clone();
        let _ = self.conn.pragma_update(None, "wal_checkpoint", "TRUNCATE");
        self.conn.close().map_err(|(_, e)| classify(&e, &path))
    }
}
