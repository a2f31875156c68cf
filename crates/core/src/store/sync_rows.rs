//! The rows a sync reads and the one write that applies it.
//!
//! Concepts and invariants:
//!
//! - **Reads seek, never scan.** A sync reads only what its plan needs, each through an index: an
//!   account's rows in a date range (`transactions_by_account_date`), single rows by provider id
//!   (the `(account_id, provider_id)` unique index) and an account's pending rows (the partial index
//!   `transactions_pending`). No statement has `? IS NULL OR …` terms; [`Store::sync_read_plans`]
//!   lists their query plans for the test that checks it.
//! - **One write.** [`Store::write_sync`] writes the connection, its accounts, the inserts, updates
//!   and removals of transactions and the journal row inside the caller's transaction
//!   ([`Store::immediate`]); the search index and the monthly sums follow through their triggers in
//!   the same transaction. Statements are prepared once per connection (`prepare_cached`). A large
//!   batch of inserts has its raw JSON deflated on a second thread while this one inserts (in order;
//!   the database is only ever touched by the caller's thread).
//! - The store knows nothing of how a sync decides: these types are plain records that `sync`
//!   builds.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::params;

use super::Store;
use super::rows::{transaction_from_row, ts};
use super::transactions::{compress_raw, minor_units};
use crate::domain::{Account, AccountId, Connection, PendingMatch, SyncWarning, Transaction, TransactionId};
use crate::error::{KontorError, Result};

/// An existing row changed by a sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowUpdate {
    pub id: TransactionId,
    pub transaction: Transaction,
    /// Set when this update turns a pending row into its booked successor; `None` keeps what the
    /// row recorded before.
    pub pending_match: Option<PendingMatch>,
}

/// The `sync_journal` row of a sync that succeeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalRecord {
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub added: u32,
    pub updated: u32,
    pub removed: u32,
    pub warnings: Vec<SyncWarning>,
}

/// Everything one sync writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncWrite<'a> {
    pub connection: &'a Connection,
    pub accounts: &'a [Account],
    pub inserts: &'a [Transaction],
    pub updates: &'a [RowUpdate],
    pub removals: &'a [TransactionId],
    pub journal: &'a JournalRecord,
}

/// An account's rows in a date range whose provider ids are among those delivered (`?4`, a JSON
/// array): the range is one seek on `transactions_by_account_date`; a row in it that was not
/// delivered is skipped after a look at its provider id, without being read out. The unary `+`
/// keeps the id list from steering SQLite to the provider-id index instead of the range.
const RANGE_SQL: &str = "SELECT t.id, t.account_id, t.provider_id, t.booking_date, t.value_date, t.amount, t.currency, \
     t.counterparty_name, t.counterparty_iban, t.counterparty_bic, t.purpose, t.kind, t.status, NULL \
     FROM transactions t WHERE t.account_id = ?1 AND t.booking_date >= ?2 AND t.booking_date <= ?3 \
     AND +t.provider_id IN (SELECT d.value FROM json_each(?4) AS d)";

const BY_PROVIDER_ID_SQL: &str = "SELECT t.id, t.account_id, t.provider_id, t.booking_date, t.value_date, t.amount, \
     t.currency, t.counterparty_name, t.counterparty_iban, t.counterparty_bic, t.purpose, t.kind, t.status, NULL \
     FROM transactions t WHERE t.account_id = ?1 AND t.provider_id = ?2";

/// Many provider ids of one account in one statement: SQLite walks the JSON array and seeks the unique
/// index once per id (`CROSS JOIN` keeps that order).
const BY_PROVIDER_IDS_SQL: &str = "SELECT t.id, t.account_id, t.provider_id, t.booking_date, t.value_date, t.amount, \
     t.currency, t.counterparty_name, t.counterparty_iban, t.counterparty_bic, t.purpose, t.kind, t.status, NULL \
     FROM json_each(?2) AS j CROSS JOIN transactions t WHERE t.account_id = ?1 AND t.provider_id = j.value";

/// Ids per [`BY_PROVIDER_IDS_SQL`] statement.
const PROVIDER_IDS_PER_QUERY: usize = 1000;

const PENDING_SQL: &str = "SELECT t.id, t.account_id, t.provider_id, t.booking_date, t.value_date, t.amount, \
     t.currency, t.counterparty_name, t.counterparty_iban, t.counterparty_bic, t.purpose, t.kind, t.status, NULL \
     FROM transactions t INDEXED BY transactions_pending WHERE t.account_id = ?1 AND t.status = 'pending'";

const INSERT_SQL: &str = "INSERT INTO transactions (account_id, provider_id, booking_date, value_date, amount, \
     currency, counterparty_name, counterparty_iban, counterparty_bic, purpose, kind, status, raw_z, first_seen_at, \
     updated_at, amount_minor) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14, ?15)";

const UPDATE_SQL: &str = "UPDATE transactions SET provider_id = ?2, booking_date = ?3, value_date = ?4, amount = ?5, \
     currency = ?6, counterparty_name = ?7, counterparty_iban = ?8, counterparty_bic = ?9, purpose = ?10, kind = ?11, \
     status = ?12, raw_z = coalesce(?13, raw_z), raw = CASE WHEN ?13 IS NULL THEN raw END, updated_at = ?14, \
     amount_minor = ?15, pending_match = coalesce(?16, pending_match) WHERE id = ?1";

/// From how many inserts on a sync deflates raw JSON on a second thread (see [`Store::write_sync`]).
const PIPELINE_MIN_ROWS: usize = 256;
/// Rows the second thread deflates before it hands them over.
const PIPELINE_CHUNK: usize = 64;
/// How many deflated chunks the second thread may be ahead.
const PIPELINE_DEPTH: usize = 8;

impl Store {
    /// Runs `f` inside `BEGIN IMMEDIATE` (the write lock first, so what `f` reads is still true when
    /// it writes): commits when it succeeds, rolls back when it or the commit fails.
    pub fn immediate<T>(&self, f: impl FnOnce(&Store) -> Result<T>) -> Result<T> {
        let mut out = None;
        self.in_transaction(|| {
            out = Some(f(self)?);
            Ok(())
        })?;
        out.ok_or_else(|| KontorError::internal("A transaction ended without its result."))
    }

    /// An account's rows booked from `from` to `to` (both included) with one of `provider_ids`,
    /// without raw JSON.
    pub fn rows_in_range(
        &self,
        account: &AccountId,
        from: NaiveDate,
        to: NaiveDate,
        provider_ids: &[&str],
    ) -> Result<Vec<(TransactionId, Transaction)>> {
        let ids = serde_json::to_string(provider_ids)
            .map_err(|e| KontorError::internal(format!("Cannot list provider ids: {e}")))?;
        self.query_all(
            RANGE_SQL,
            params![account.as_str(), from.to_string(), to.to_string(), ids],
            transaction_from_row,
        )
    }

    /// An account's row with this provider id, without raw JSON.
    pub fn row_by_provider_id(
        &self,
        account: &AccountId,
        provider_id: &str,
    ) -> Result<Option<(TransactionId, Transaction)>> {
        let mut stmt = self.conn().prepare_cached(BY_PROVIDER_ID_SQL).map_err(|e| self.err(e))?;
        let mut rows = stmt.query(params![account.as_str(), provider_id]).map_err(|e| self.err(e))?;
        match rows.next().map_err(|e| self.err(e))? {
            Some(row) => transaction_from_row(row).map(Some).map_err(|e| self.err(e)),
            None => Ok(None),
        }
    }

    /// An account's rows with these provider ids (those it has), without raw JSON.
    pub fn rows_by_provider_ids(
        &self,
        account: &AccountId,
        provider_ids: &[&str],
    ) -> Result<Vec<(TransactionId, Transaction)>> {
        let mut rows = Vec::new();
        for chunk in provider_ids.chunks(PROVIDER_IDS_PER_QUERY) {
            let ids = serde_json::to_string(chunk)
                .map_err(|e| KontorError::internal(format!("Cannot list provider ids: {e}")))?;
            rows.extend(self.query_all(BY_PROVIDER_IDS_SQL, params![account.as_str(), ids], transaction_from_row)?);
        }
        Ok(rows)
    }

    /// Every pending row of an account, without raw JSON.
    pub fn pending_rows(&self, account: &AccountId) -> Result<Vec<(TransactionId, Transaction)>> {
        self.query_all(PENDING_SQL, [account.as_str()], transaction_from_row)
    }

    /// `EXPLAIN QUERY PLAN` of each read above, one line per plan step after a `-- range` /
    /// `-- provider id` / `-- provider ids` / `-- pending` header. For the test that proves they seek.
    pub fn sync_read_plans(&self) -> Result<Vec<String>> {
        let mut lines = Vec::new();
        for (name, sql, args) in [
            ("range", RANGE_SQL, vec!["a", "2020-01-01", "2020-12-31", "[\"p\",\"q\"]"]),
            ("provider id", BY_PROVIDER_ID_SQL, vec!["a", "p"]),
            ("provider ids", BY_PROVIDER_IDS_SQL, vec!["a", "[\"p\",\"q\"]"]),
            ("pending", PENDING_SQL, vec!["a"]),
        ] {
            lines.push(format!("-- {name}"));
            lines.extend(self.query_all(
                &format!("EXPLAIN QUERY PLAN {sql}"),
                rusqlite::params_from_iter(args),
                |r| r.get::<_, String>(3),
            )?);
        }
        Ok(lines)
    }

    /// Writes one sync (see the module docs). Call it inside [`Store::immediate`].
    pub fn write_sync(&self, write: &SyncWrite<'_>) -> Result<()> {
        self.upsert_connection(write.connection)?;
        for account in write.accounts {
            self.upsert_account(account)?;
        }
        let now = ts(write.journal.finished_at);
        if write.inserts.len() >= PIPELINE_MIN_ROWS && std::thread::available_parallelism().is_ok_and(|n| n.get() > 1) {
            // Deflating the raw JSON costs about a fifth of SQLite's part of an insert (about 9 of
            // 45 µs per row; most of it is resetting the compressor and loading the dictionary): a
            // second thread deflates the rows in order, a chunk at a time, while this one inserts
            // them. Chunks, not rows, cross the channel: a hand-over per row (a futex wake-up each)
            // cost more CPU than the deflating it moved. On a busy machine the second thread is no
            // gain, but the chunks keep it from being a loss.
            std::thread::scope(|scope| {
                let (blobs, deflated) = std::sync::mpsc::sync_channel::<Vec<Option<Vec<u8>>>>(PIPELINE_DEPTH);
                scope.spawn(move || {
                    for chunk in write.inserts.chunks(PIPELINE_CHUNK) {
                        let chunk = chunk.iter().map(|t| t.raw.as_deref().map(compress_raw)).collect();
                        if blobs.send(chunk).is_err() {
                            break; // the inserting side stopped (an error): nothing more to do
                        }
                    }
                });
                let mut insert = self.conn().prepare_cached(INSERT_SQL).map_err(|e| self.err(e))?;
                for rows in write.inserts.chunks(PIPELINE_CHUNK) {
                    let blobs = deflated
                        .recv()
                        .map_err(|_| KontorError::internal("The thread deflating raw JSON stopped early."))?;
                    if blobs.len() != rows.len() {
                        return Err(KontorError::internal("The thread deflating raw JSON lost rows."));
                    }
                    for (t, raw_z) in rows.iter().zip(blobs) {
                        self.insert_row(&mut insert, t, raw_z, &now)?;
                    }
                }
                Ok::<(), KontorError>(())
            })?;
        } else if !write.inserts.is_empty() {
            let mut insert = self.conn().prepare_cached(INSERT_SQL).map_err(|e| self.err(e))?;
            for t in write.inserts {
                self.insert_row(&mut insert, t, t.raw.as_deref().map(compress_raw), &now)?;
            }
        }
        if !write.updates.is_empty() {
            let mut update = self.conn().prepare_cached(UPDATE_SQL).map_err(|e| self.err(e))?;
            for u in write.updates {
                let t = &u.transaction;
                let pending_match =
                    match &u.pending_match {
                        Some(m) => Some(serde_json::to_string(m).map_err(|e| {
                            KontorError::internal(format!("Cannot record why two bookings matched: {e}"))
                        })?),
                        None => None,
                    };
                update
                    .execute(params![
                        u.id.0,
                        t.provider_id,
                        t.booking_date.to_string(),
                        t.value_date.map(|d| d.to_string()),
                        t.amount.amount.to_string(),
                        t.amount.currency.as_str(),
                        t.counterparty.name,
                        t.counterparty.iban,
                        t.counterparty.bic,
                        t.purpose,
                        t.kind,
                        t.status.as_str(),
                        t.raw.as_deref().map(compress_raw),
                        now,
                        minor_units(t.amount.amount),
                        pending_match,
                    ])
                    .map_err(|e| self.err(e))?;
            }
        }
        if !write.removals.is_empty() {
            let mut delete =
                self.conn().prepare_cached("DELETE FROM transactions WHERE id = ?1").map_err(|e| self.err(e))?;
            for id in write.removals {
                delete.execute([id.0]).map_err(|e| self.err(e))?;
            }
        }
        let journal = write.journal;
        let warnings = if journal.warnings.is_empty() {
            None
        } else {
            Some(
                serde_json::to_string(&journal.warnings)
                    .map_err(|e| KontorError::internal(format!("Cannot record a sync's warnings: {e}")))?,
            )
        };
        self.exec(
            "INSERT INTO sync_journal (connection_id, started_at, finished_at, outcome, added, updated, removed, warnings)
                 VALUES (?1, ?2, ?3, 'succeeded', ?4, ?5, ?6, ?7)",
            params![
                write.connection.id.as_str(),
                ts(journal.started_at),
                now,
                journal.added,
                journal.updated,
                journal.removed,
                warnings
            ],
        )
    }

    fn insert_row(
        &self,
        insert: &mut rusqlite::CachedStatement<'_>,
        t: &Transaction,
        raw_z: Option<Vec<u8>>,
        now: &str,
    ) -> Result<()> {
        insert
            .execute(params![
                t.account_id.as_str(),
                t.provider_id,
                t.booking_date.to_string(),
                t.value_date.map(|d| d.to_string()),
                t.amount.amount.to_string(),
                t.amount.currency.as_str(),
                t.counterparty.name,
                t.counterparty.iban,
                t.counterparty.bic,
                t.purpose,
                t.kind,
                t.status.as_str(),
                raw_z,
                now,
                minor_units(t.amount.amount),
            ])
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Why a row took over a pending one, if it did.
    pub fn pending_match(&self, id: TransactionId) -> Result<Option<PendingMatch>> {
        let json: Option<Option<String>> = self
            .conn()
            .query_row("SELECT pending_match FROM transactions WHERE id = ?1", [id.0], |r| r.get(0))
            .map(Some)
            .or_else(|e| if e == rusqlite::Error::QueryReturnedNoRows { Ok(None) } else { Err(e) })
            .map_err(|e| self.err(e))?;
        Ok(json.flatten().and_then(|j| serde_json::from_str(&j).ok()))
    }
}
