//! The encrypted SQLite database (SQLCipher).
//!
//! Invariants:
//!
//! - It is opened through one function, [`Store::open_encrypted`]: the busy timeout first (a
//!   connection setting; every later step that needs a lock waits for other connections and ends in
//!   `VaultBusy` after it), then `PRAGMA key`, `temp_store = MEMORY` (no plaintext temp files), the
//!   key verified by reading `sqlite_master`, the schema version checked, the file's shape checked
//!   (whole pages, a header that fits the file: constant cost), and only then WAL, `foreign_keys`
//!   and migrations. Until the version check passes nothing is written. The page
//!   cache (`cache_size`, a connection setting that touches no file) is sized right after
//!   `temp_store`: every page SQLCipher keeps decrypted in it is one it does not decrypt again.
//! - Damage inside the file is found by reading every page once (`PRAGMA quick_check`, linear in
//!   the file's size), which therefore does not run on open: the desktop app runs it in the
//!   background ([`PageCheck`]), a migration runs it before copying the file, and closing runs it
//!   when something was written. Until it passed, an existing file is *guarded*: writes stay in
//!   the WAL (no checkpoint, automatic or on close), so a damaged file is never written over.
//! - The first open of a process waits until SQLCipher has finished its own initialisation, which
//!   SQLite runs after it already reports itself initialised to other threads.
//! - Another process may open or migrate the same file at the same time: migrations take the write
//!   lock first and re-read the version under it.
//! - Migrations are append-only ([`migrations::MIGRATIONS`]); `PRAGMA user_version` is the number
//!   applied. A database with a higher number was written by a newer Kontor and is not touched.
//! - Money is stored as decimal text, never as REAL, and beside it as exact integer hundredths
//!   (`amount_minor`) for sums and ranges in SQL ([`transactions`]).
//! - Full-text search (`transactions_fts`) lives in the same encrypted file and is maintained by
//!   triggers, in the transaction of every write.
//! - Secrets (client secrets, PINs) are never stored here; they live in the OS keyring.

pub mod connection_control;
pub mod migrations;
mod open;
pub mod queries;
mod rows;
mod running_balance;
pub mod sync_queries;
pub mod sync_rows;
pub mod transactions;

pub(crate) use open::corrupt;
pub use open::{PageCheck, Store};
