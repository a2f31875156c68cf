//! Append-only schema migrations. Never edit a published migration; add a new one.
//!
//! A migration is its SQL ([`MIGRATIONS`]) and, where SQL cannot compute a value exactly, a Rust step
//! ([`fill`]) that runs right after the SQL in the same transaction.

use rusqlite::{Connection, TransactionBehavior, params};

use super::transactions::{compress_raw, minor_units};

/// Each entry takes the schema from version `index` to `index + 1`.
pub const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_initial.sql"),
    include_str!("migrations/0002_income_reports.sql"),
    include_str!("migrations/0003_transaction_search.sql"),
    include_str!("migrations/0004_sync_engine.sql"),
    include_str!("migrations/0005_account_preferences.sql"),
    include_str!("migrations/0006_transaction_days.sql"),
];

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
        fill(&tx, current + 1)?;
        tx.pragma_update(None, "user_version", current + 1)?;
        tx.commit()?;
    }
    Ok(())
}

/// The Rust step of the migration to `version`, if it has one.
fn fill(conn: &Connection, version: i64) -> rusqlite::Result<()> {
    match version {
        3 => fill_v3(conn),
        _ => Ok(()),
    }
}

/// Schema 3: exact minor units from the decimal text, and the raw JSON moved into `raw_z`, deflated.
/// An amount with more than two decimal places keeps `amount_minor` NULL (aggregates add it from the
/// text); an amount that is not a decimal at all is left as it is.
fn fill_v3(conn: &Connection) -> rusqlite::Result<()> {
    const BATCH: i64 = 1000;
    let mut read = conn.prepare("SELECT id, amount, raw FROM transactions WHERE id > ?1 ORDER BY id LIMIT ?2")?;
    let mut write = conn.prepare("UPDATE transactions SET amount_minor = ?2, raw_z = ?3, raw = NULL WHERE id = ?1")?;
    let mut last = i64::MIN;
    loop {
        let batch = read
            .query_map(params![last, BATCH], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?, row.get::<_, Option<String>>(2)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let Some((end, _, _)) = batch.last() else { return Ok(()) };
        last = *end;
        for (id, amount, raw) in &batch {
            let minor = amount.trim().parse().ok().and_then(minor_units);
            write.execute(params![id, minor, raw.as_deref().map(compress_raw)])?;
        }
    }
}
