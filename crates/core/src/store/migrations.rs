//! Append-only schema migrations. Never edit a published migration; add a new one.

use rusqlite::{Connection, TransactionBehavior};

/// Each entry takes the schema from version `index` to `index + 1`.
pub const MIGRATIONS: &[&str] =
    &[include_str!("migrations/0001_initial.sql"), include_str!("migrations/0002_income_reports.sql")];

pub const LATEST: i64 = MIGRATIONS.len() as i64;

fn version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
}

/// Applies the missing migrations, each in its own transaction together with its version bump.
///
/// Another process (the app and the CLI) may migrate the same file at the same time. Each step
/// therefore takes the write lock first (`BEGIN IMMEDIATE`, which waits through the busy timeout;
/// a deferred transaction that later needs to write fails at once with `SQLITE_BUSY`) and re-reads
/// the version under that lock, skipping what the other process applied meanwhile.
pub fn apply(conn: &mut Connection) -> rusqlite::Result<()> {
    while version(conn)? < LATEST {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current = version(&tx)?;
        let Some(sql) = usize::try_from(current).ok().and_then(|index| MIGRATIONS.get(index)) else {
            break; // applied up to LATEST (or beyond) by another process meanwhile
        };
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", current + 1)?;
        tx.commit()?;
    }
    Ok(())
}
