//! Append-only schema migrations. Never edit a published migration; add a new one.

use rusqlite::Connection;

/// Each entry takes the schema from version `index` to `index + 1`.
pub const MIGRATIONS: &[&str] =
    &[include_str!("migrations/0001_initial.sql"), include_str!("migrations/0002_income_reports.sql")];

pub const LATEST: i64 = MIGRATIONS.len() as i64;

/// Applies the missing migrations, each in its own transaction together with its version bump.
pub fn apply(conn: &mut Connection) -> rusqlite::Result<()> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(usize::try_from(current).unwrap_or(usize::MAX)) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}
