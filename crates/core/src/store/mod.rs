//! The encrypted SQLite database (SQLCipher).
//!
//! Invariants:
//!
//! - It is opened through one function, [`Store::open_encrypted`]: `PRAGMA key` first,
//!   `temp_store = MEMORY` (no plaintext temp files), the key verified by reading `sqlite_master`,
//!   the schema version checked, and only then WAL, `foreign_keys` and migrations. Until the version
//!   check passes nothing is written.
//! - Migrations are append-only ([`migrations::MIGRATIONS`]); `PRAGMA user_version` is the number
//!   applied. A database with a higher number was written by a newer Kontor and is not touched.
//! - Money is stored as decimal text, never as REAL.
//! - Secrets (client secrets, PINs) are never stored here; they live in the OS keyring.

pub mod migrations;
mod open;
pub mod queries;
pub mod sync_queries;

pub use open::Store;
