use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use rusqlite::config::DbConfig;
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

/// Prepared statements a connection keeps (rusqlite's default is 16): every fixed statement of the
/// store (a sync alone uses about a dozen per batch) plus the list queries built per filter, so that a
/// sync after browsing does not prepare its statements again.
const STATEMENT_CACHE: usize = 64;

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
                let probe = Connection::open_in_memory().and_then(|conn| {
                    conn.pragma_update(None, "key", "kontor-probe")?;
                    quiet_sqlcipher(&conn);
                    Ok(())
                });
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

/// The name that marks a migration backup of `kontor.db`: `kontor.db.before-migration-<…>`.
const BACKUP_INFIX: &str = ".before-migration-";

/// Keeps an encrypted copy of the database before it is migrated: `sqlcipher_export` into a new
/// private file next to it, under the same key, from one consistent snapshot (also while another
/// process writes). The name holds the old schema version, the time and a random part, so two
/// processes migrating at once each keep their own. A migration never runs without its backup.
fn back_up(conn: &Connection, path: &Path, key: &VaultKey, version: i64) -> Result<Option<PathBuf>, KontorError> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let unique = uuid::Uuid::new_v4().simple().to_string();
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(format!("{BACKUP_INFIX}v{version}-{stamp}-{}", &unique[..8]));
    let backup = path.with_file_name(name);
    let failed = |err: &dyn std::fmt::Display| {
        KontorError::new(
            ErrorCode::Io,
            format!(
                "Kontor keeps a copy of the vault before updating it, and could not write {} ({err}). The vault was not changed.",
                backup.display()
            ),
        )
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    drop(options.open(&backup).map_err(|e| failed(&e))?);
    // Under the write lock, so that no other process migrates while the copy is made; if one did
    // just before, there is nothing left to back up.
    let exported = (|| {
        let target = backup.to_str().ok_or_else(|| rusqlite::Error::InvalidPath(backup.clone()))?;
        conn.execute("ATTACH DATABASE ?1 AS kontor_backup KEY ?2", (target, key.sqlcipher_pragma().expose()))?;
        let copied = (|| {
            conn.execute_batch("BEGIN IMMEDIATE")?;
            let copied = (|| {
                let current: i64 = conn.pragma_query_value(Some("main"), "user_version", |row| row.get(0))?;
                if current != version {
                    return Ok(false);
                }
                conn.query_row("SELECT sqlcipher_export('kontor_backup')", [], |_| Ok(()))?;
                conn.execute_batch(&format!("PRAGMA kontor_backup.user_version = {version}"))?;
                Ok(true)
            })();
            let ended = conn.execute_batch(if copied.is_ok() { "COMMIT" } else { "ROLLBACK" });
            copied.and_then(|copied| ended.map(|()| copied))
        })();
        let detached = conn.execute_batch("DETACH DATABASE kontor_backup");
        copied.and_then(|copied| detached.map(|()| copied))
    })();
    match exported {
        Ok(true) => {
            tracing::info!("kept a copy of the vault at schema {version} before migrating: {}", backup.display());
            Ok(Some(backup))
        }
        Ok(false) => {
            let _ = std::fs::remove_file(&backup);
            Ok(None)
        }
        Err(err) => {
            let _ = std::fs::remove_file(&backup);
            Err(match err.sqlite_error_code() {
                Some(SqliteCode::DatabaseBusy | SqliteCode::DatabaseLocked) => classify(&err, path),
                _ => failed(&err),
            })
        }
    }
}

/// The newest migration backup next to `path`, with when it was made.
pub(crate) fn newest_backup(path: &Path) -> Option<(PathBuf, chrono::DateTime<chrono::Utc>)> {
    let prefix = format!("{}{BACKUP_INFIX}", path.file_name()?.to_str()?);
    std::fs::read_dir(path.parent()?)
        .ok()?
        .flatten()
        .filter(|entry| entry.file_name().to_str().is_some_and(|n| n.starts_with(&prefix)))
        .filter_map(|entry| {
            let modified = entry.metadata().and_then(|m| m.modified()).ok()?;
            Some((entry.path(), chrono::DateTime::<chrono::Utc>::from(modified)))
        })
        .max_by_key(|(_, at)| *at)
}

/// The VaultCorrupt error for `path`, offering the newest migration backup where there is one.
pub(crate) fn corrupt(path: &Path, what: &str) -> KontorError {
    let restore = match newest_backup(path) {
        Some((backup, at)) => format!(
            "restore the backup from {} ({}: rename it to {}) or reset Kontor",
            at.format("%Y-%m-%d %H:%M UTC"),
            backup.display(),
            path.file_name().and_then(|n| n.to_str()).unwrap_or("kontor.db")
        ),
        None => "restore it from a backup or reset Kontor".to_owned(),
    };
    KontorError::new(ErrorCode::VaultCorrupt, format!("{what} Your file was left as it is; {restore}."))
}

/// SQLCipher writes its own log ("hmac check failed" for every page a wrong key or damage makes
/// unreadable) to stderr, where the CLI's output belongs to the user. Kontor reports those cases
/// with its own error codes, so SQLCipher's log stays off unless `KONTOR_LOG` asks for logs. The
/// level is process-wide.
fn quiet_sqlcipher(conn: &Connection) {
    if std::env::var_os("KONTOR_LOG").is_some_and(|f| !f.is_empty()) {
        return;
    }
    if let Err(err) = conn.pragma_update(None, "cipher_log_level", "NONE") {
        tracing::debug!("SQLCipher's log level could not be set: {err}");
    }
}

/// An open, unlocked, migrated vault database.
///
/// Until every page of an existing file has been read once ([`PageCheck`], [`Store::check_pages`]),
/// the store is *guarded*: its writes stay in the WAL (no automatic checkpoint, none on close), so
/// a file that turns out damaged is left byte for byte as it was.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
    check: Arc<CheckState>,
    /// The page check's own connection, until [`Store::take_page_check`] hands it out.
    checker: Option<Connection>,
    guarded: bool,
}

/// Maps an SQLite failure while opening or reading to the vault's error codes.
pub(crate) fn classify(err: &rusqlite::Error, path: &Path) -> KontorError {
    let code = err.sqlite_error_code();
    match code {
        Some(SqliteCode::NotADatabase) | Some(SqliteCode::DatabaseCorrupt) => {
            corrupt(path, &format!("The vault {} is damaged and cannot be read.", path.display()))
        }
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

/// The page cache of the connection that reads the whole file once ([`PageCheck`]): it reads each
/// page once, so a large cache would only hold memory.
const PAGE_CHECK_CACHE_KIB: i64 = 2 * 1024;

/// A file up to this size is checked page by page on open (tens of milliseconds at most): the
/// cost stays bounded, and a new or small vault is never guarded (its WAL never waits for a
/// background check, e.g. while `kontor dev seed` fills it).
const CHECK_ON_OPEN_BYTES: u64 = 16 * 1024 * 1024;

/// `PRAGMA wal_autocheckpoint` once the file passed its page check (SQLite's default).
const WAL_AUTOCHECKPOINT_PAGES: i64 = 1000;

/// Reads every page in use through SQLCipher on `conn` and reports damage as `VaultCorrupt`.
///
/// `PRAGMA quick_check` runs in a read transaction (a consistent snapshot, also while another
/// process writes), and each page it reads is decrypted and its HMAC checked; a bad HMAC or a page
/// cut short fails the read. Unlike `cipher_integrity_check`, which reads the file without a lock
/// and could see another process's checkpoint half-written, it never reports damage that is not
/// there. Pages on the freelist hold no data and are not read. Cost: one read and decryption of
/// the file, linear in its size (`vault_open_cost` in `tests/vault_files.rs` prints it), which is
/// why it does not run on open ([`Store::open_encrypted`]).
fn read_every_page(conn: &Connection, path: &Path) -> Result<(), KontorError> {
    let mut statement = conn.prepare("PRAGMA quick_check").map_err(|e| classify(&e, path))?;
    let findings = statement
        .query_map([], |row| row.get::<_, String>(0))
        .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
        .map_err(|e| classify(&e, path))?;
    if findings.iter().all(|f| f == "ok") {
        return Ok(());
    }
    tracing::warn!(findings = ?findings, "the vault failed its integrity check");
    Err(corrupt(path, &format!("The vault {} is damaged and cannot be read.", path.display())))
}

/// The checks of every open, at a cost that does not grow with the file: the key opened page 1
/// (`sqlite_master` was read before this), the file holds whole pages only (a cut-off end is
/// refused), and the page count in the header fits the file (SQLite refuses a header that promises
/// more pages than the file and its WAL hold).
/// Returns the file's length.
fn check_shape(conn: &Connection, path: &Path) -> Result<u64, KontorError> {
    let read = |pragma: &str| {
        // SQLCipher answers `page_size` itself, as text.
        conn.pragma_query_value(None, pragma, |row| {
            Ok(match row.get_ref(0)? {
                rusqlite::types::ValueRef::Integer(n) => u64::try_from(n).unwrap_or_default(),
                rusqlite::types::ValueRef::Text(text) => {
                    std::str::from_utf8(text).ok().and_then(|t| t.trim().parse().ok()).unwrap_or_default()
                }
                _ => 0,
            })
        })
        .map_err(|e| classify(&e, path))
    };
    let page_size = read("page_size")?;
    let pages = read("page_count")?;
    let length = std::fs::metadata(path)
        .map_err(|e| KontorError::new(ErrorCode::Io, format!("Kontor cannot read {}: {e}", path.display())))?
        .len();
    if page_size == 0 || length == 0 || length % page_size != 0 || pages == 0 {
        tracing::warn!(length, page_size, pages, "the vault's file does not hold whole pages");
        return Err(corrupt(
            path,
            &format!("The vault {} is damaged (its end is cut off) and cannot be read.", path.display()),
        ));
    }
    Ok(length)
}

/// Where the full page check of an open store stands (shared with a [`PageCheck`] on another thread).
#[derive(Debug)]
struct CheckState(AtomicU8);

impl Default for CheckState {
    fn default() -> Self {
        Self(AtomicU8::new(Self::PENDING))
    }
}

impl CheckState {
    const PENDING: u8 = 0;
    const PASSED: u8 = 1;
    const FAILED: u8 = 2;

    fn get(&self) -> u8 {
        self.0.load(Ordering::Acquire)
    }

    fn set(&self, state: u8) {
        self.0.store(state, Ordering::Release);
    }
}

/// The full page check of an open vault on its own read connection, to run on another thread
/// (the desktop app runs it in the background after start). Its outcome reaches the store:
/// [`Store::settle`] then lets checkpoints write into the file, or reports `VaultCorrupt`.
#[derive(Debug)]
pub struct PageCheck {
    conn: Connection,
    path: PathBuf,
    state: Arc<CheckState>,
}

impl PageCheck {
    /// Reads every page (linear in the file's size; seconds for a vault of a million transactions).
    /// On Linux the calling thread first lowers its own scheduling priority (nice 19), so the
    /// seconds of decryption yield to the UI and other work.
    pub fn run(self) -> Result<(), KontorError> {
        // Linux applies PRIO_PROCESS with pid 0 to the calling thread only (each thread is a task);
        // elsewhere it would lower the whole process, so it is left alone there.
        #[cfg(target_os = "linux")]
        if let Err(err) = rustix::process::setpriority_process(None, 19) {
            tracing::debug!("the page check runs at normal priority: {err}");
        }
        let outcome = read_every_page(&self.conn, &self.path);
        // A failure to read at all (busy for longer than the timeout) leaves the check pending: the
        // store stays guarded, and closing it checks again.
        match &outcome {
            Ok(()) => self.state.set(CheckState::PASSED),
            Err(err) if err.code == ErrorCode::VaultCorrupt => self.state.set(CheckState::FAILED),
            Err(_) => {}
        }
        outcome
    }
}

/// Turns the guard of an unchecked file on (no checkpoint writes into it: none automatic, none
/// when the last connection closes) or off again.
fn guard(conn: &Connection, path: &Path, on: bool) -> Result<(), KontorError> {
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, on).map_err(|e| classify(&e, path))?;
    conn.pragma_update(None, "wal_autocheckpoint", if on { 0 } else { WAL_AUTOCHECKPOINT_PAGES })
        .map_err(|e| classify(&e, path))
}

/// The page check's connection: keyed like the store's, reading only, with a small cache.
fn open_checker(path: &Path, key: &VaultKey) -> Result<Connection, KontorError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| classify(&e, path))?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| classify(&e, path))?;
    conn.pragma_update(None, "key", key.sqlcipher_pragma().expose()).map_err(|e| key_failed(&e, path))?;
    conn.pragma_update(None, "temp_store", "MEMORY").map_err(|e| classify(&e, path))?;
    conn.pragma_update(None, "cache_size", -PAGE_CHECK_CACHE_KIB).map_err(|e| classify(&e, path))?;
    conn.pragma_update(None, "query_only", true).map_err(|e| classify(&e, path))?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true).map_err(|e| classify(&e, path))?;
    Ok(conn)
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
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
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
        let length = if create { 0 } else { check_shape(&conn, path)? };
        let check = Arc::new(CheckState::default());
        if create || length <= CHECK_ON_OPEN_BYTES || (1..migrations::LATEST).contains(&version) {
            // A new file has nothing to check; a small one, or one about to be migrated (and
            // copied), is checked now.
            if !create {
                read_every_page(&conn, path)?;
            }
            check.set(CheckState::PASSED);
        } else {
            guard(&conn, path, true)?;
        }
        conn.pragma_update(None, "journal_mode", "WAL").map_err(|e| classify(&e, path))?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(|e| classify(&e, path))?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(|e| classify(&e, path))?;
        if !create && (1..migrations::LATEST).contains(&version) {
            back_up(&conn, path, key, version)?;
        }
        let guarded = check.get() != CheckState::PASSED;
        let checker = if guarded { Some(open_checker(path, key)?) } else { None };
        let mut store = Self { conn, path: path.to_owned(), check, checker, guarded };
        migrations::apply(&mut store.conn).map_err(|e| classify(&e, path))?;
        Ok(store)
    }

    /// The full page check for another thread, once (None if it was handed out or is not needed).
    pub fn take_page_check(&mut self) -> Option<PageCheck> {
        let conn = self.checker.take()?;
        Some(PageCheck { conn, path: self.path.clone(), state: self.check.clone() })
    }

    /// Reads every page now, on this connection, unless that already passed.
    pub fn check_pages(&mut self) -> Result<(), KontorError> {
        match self.check.get() {
            CheckState::PASSED => {}
            CheckState::FAILED => return Err(self.damaged()),
            _ => match read_every_page(&self.conn, &self.path) {
                Ok(()) => self.check.set(CheckState::PASSED),
                Err(err) => {
                    if err.code == ErrorCode::VaultCorrupt {
                        self.check.set(CheckState::FAILED);
                    }
                    return Err(err);
                }
            },
        }
        self.settle()
    }

    /// Takes in the outcome of a page check that ran elsewhere: once it passed, checkpoints may
    /// write into the file again; if it found damage, `VaultCorrupt` (and the file stays as it was).
    pub fn settle(&mut self) -> Result<(), KontorError> {
        match self.check.get() {
            CheckState::FAILED => Err(self.damaged()),
            CheckState::PASSED if self.guarded => {
                guard(&self.conn, &self.path, false)?;
                self.guarded = false;
                self.checker = None;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn damaged(&self) -> KontorError {
        corrupt(&self.path, &format!("The vault {} is damaged and cannot be read.", self.path.display()))
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

    /// Checkpoints the WAL into the main file and closes, so no `-wal`/`-shm` remain. A guarded
    /// store with writes in its WAL reads every page first; if that finds damage, the WAL is kept
    /// beside the untouched file and the error is `VaultCorrupt`.
    pub fn close(mut self) -> Result<(), KontorError> {
        if self.guarded {
            let mut wal = self.path.as_os_str().to_owned();
            wal.push("-wal");
            if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
                self.check_pages()?;
            } else {
                self.check.set(CheckState::PASSED);
                self.settle()?;
            }
        }
        let path = self.path.clone();
        drop(self.checker.take());
        let _ = self.conn.pragma_update(None, "wal_checkpoint", "TRUNCATE");
        self.conn.close().map_err(|(_, e)| classify(&e, &path))
    }
}
