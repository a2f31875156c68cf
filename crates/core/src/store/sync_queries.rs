//! Queries for linking and syncing: SCA flow records, provider sessions, income reports and the sync
//! journal. The rows a sync reads and writes are in [`super::sync_rows`].

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{OptionalExtension, params};

use super::Store;
use super::rows::{ACCOUNT_COLUMNS, LIST_COLUMNS, account_from_row, transaction_from_row, ts};
use crate::domain::{
    Account, Connection, ConnectionId, FlowId, ProviderConfig, ProviderConfigId, SyncWarning, Transaction,
    TransactionId,
};
use crate::error::{KontorError, Result};

/// One row of `sync_journal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalEntry {
    pub connection_id: Option<ConnectionId>,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub outcome: String,
    pub added: i64,
    pub updated: i64,
    pub removed: i64,
    pub error_code: Option<String>,
    /// What a successful sync recorded for the user (empty for older rows and failures).
    pub warnings: Vec<SyncWarning>,
}

/// An SCA flow as the store keeps it: the columns it is found by, and its state as JSON that only
/// `sca` reads (see `sca::FlowStore`). Never contains a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowRecord {
    pub id: FlowId,
    pub provider_config_id: ProviderConfigId,
    /// `link`, `update`, …
    pub purpose: String,
    pub state: String,
    /// What a redirect must bring back, while the flow waits for one.
    pub callback_state: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl Store {
    pub fn provider_config(&self, id: &ProviderConfigId) -> Result<Option<ProviderConfig>> {
        Ok(self.provider_configs()?.into_iter().find(|c| &c.id == id))
    }

    pub fn connection(&self, id: &ConnectionId) -> Result<Option<Connection>> {
        Ok(self.connections()?.into_iter().find(|c| &c.id == id))
    }

    pub fn provider_session(&self, config: &ProviderConfigId, scope: &str) -> Result<Option<String>> {
        self.conn()
            .query_row(
                "SELECT payload FROM provider_sessions WHERE provider_config_id = ?1 AND scope = ?2",
                params![config.as_str(), scope],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    pub fn set_provider_session(
        &self,
        config: &ProviderConfigId,
        scope: &str,
        payload: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.exec(
            "INSERT INTO provider_sessions (provider_config_id, scope, payload, updated_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (provider_config_id, scope) DO UPDATE SET payload = excluded.payload, updated_at = excluded.updated_at",
                params![config.as_str(), scope, payload, ts(now)])
    }

    /// Replaces a provider session's payload only if it still is `expected` (`None`: there was none),
    /// in one transaction: for rotating tokens, where the new one must replace exactly the one spent.
    /// Returns `false` (and changes nothing) when the stored payload is no longer `expected`.
    pub fn replace_provider_session(
        &self,
        config: &ProviderConfigId,
        scope: &str,
        expected: Option<&str>,
        payload: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        self.conn().execute_batch("BEGIN IMMEDIATE").map_err(|e| self.err(e))?;
        let outcome = (|| {
            let current = self.provider_session(config, scope)?;
            if current.as_deref() != expected {
                return Ok(false);
            }
            self.set_provider_session(config, scope, payload, now)?;
            Ok(true)
        })();
        match outcome {
            Ok(true) => self.conn().execute_batch("COMMIT").map(|()| true).map_err(|e| {
                let _ = self.conn().execute_batch("ROLLBACK");
                self.err(e)
            }),
            other => {
                let _ = self.conn().execute_batch("ROLLBACK");
                other
            }
        }
    }

    /// Deletes a provider session (e.g. a finX grant that can no longer be used).
    pub fn delete_provider_session(&self, config: &ProviderConfigId, scope: &str) -> Result<()> {
        self.exec(
            "DELETE FROM provider_sessions WHERE provider_config_id = ?1 AND scope = ?2",
            params![config.as_str(), scope],
        )
    }

    /// Stores (or replaces) a finX income report's JSON.
    pub fn save_income_report(
        &self,
        id: &str,
        config: &ProviderConfigId,
        payload: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.exec(
            "INSERT INTO income_reports (id, provider_config_id, created_at, payload) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (id) DO UPDATE SET payload = excluded.payload, created_at = excluded.created_at",
            params![id, config.as_str(), ts(now), payload],
        )
    }

    /// Stored income reports, newest first: `(id, created_at, payload)`.
    pub fn income_reports(&self) -> Result<Vec<(String, String, String)>> {
        self.query_all("SELECT id, created_at, payload FROM income_reports ORDER BY created_at DESC, id", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
    }

    /// Saves a flow's record (inserted, or its state and deadline replaced).
    pub fn save_flow_record(&self, flow: &FlowRecord, now: DateTime<Utc>) -> Result<()> {
        self.exec(
            "INSERT INTO sca_flows (id, provider_config_id, purpose, state, callback_state, created_at, expires_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (id) DO UPDATE SET state = excluded.state, callback_state = excluded.callback_state,
                   expires_at = excluded.expires_at, updated_at = excluded.updated_at",
            params![
                flow.id.as_str(),
                flow.provider_config_id.as_str(),
                flow.purpose,
                flow.state,
                flow.callback_state,
                ts(flow.created_at),
                ts(flow.expires_at),
                ts(now)
            ],
        )
    }

    pub fn forget_flow(&self, id: &FlowId) -> Result<()> {
        self.exec("DELETE FROM sca_flows WHERE id = ?1", [id.as_str()])
    }

    /// The stored state (JSON) of a flow.
    pub fn flow_state(&self, id: &FlowId) -> Result<Option<String>> {
        self.conn()
            .query_row("SELECT state FROM sca_flows WHERE id = ?1", [id.as_str()], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }

    /// The stored state (JSON) of the flow a callback's `state` belongs to.
    pub fn flow_state_by_callback(&self, callback_state: &str) -> Result<Option<String>> {
        self.conn()
            .query_row("SELECT state FROM sca_flows WHERE callback_state = ?1", [callback_state], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }

    /// The stored states (JSON) of every flow, oldest first.
    pub fn flow_states(&self) -> Result<Vec<String>> {
        self.query_all("SELECT state FROM sca_flows ORDER BY created_at, id", [], |r| r.get(0))
    }

    /// A connection's accounts, hidden ones included.
    pub fn connection_accounts(&self, id: &ConnectionId) -> Result<Vec<Account>> {
        self.query_all(
            &format!("SELECT {ACCOUNT_COLUMNS} FROM accounts a WHERE a.connection_id = ?1 ORDER BY a.id"),
            [id.as_str()],
            account_from_row,
        )
    }

    /// A connection's transactions booked on or after `since` (all when `None`), without their raw
    /// JSON: for tests and diagnostics (a sync reads through [`super::sync_rows`]).
    pub fn connection_transactions(
        &self,
        id: &ConnectionId,
        since: Option<NaiveDate>,
    ) -> Result<Vec<(TransactionId, Transaction)>> {
        let all = format!(
            "SELECT {LIST_COLUMNS} FROM transactions t JOIN accounts a ON a.id = t.account_id WHERE a.connection_id = ?1"
        );
        match since {
            Some(since) => self.query_all(
                &format!("{all} AND t.booking_date >= ?2"),
                params![id.as_str(), since.to_string()],
                transaction_from_row,
            ),
            None => self.query_all(&all, [id.as_str()], transaction_from_row),
        }
    }

    /// Keeps a connection whose data did not arrive (the provider accepted the link, the download
    /// failed) in one transaction: the connection row as given (no accounts, no transactions) and a
    /// `failed` journal row with `error`'s code. All or nothing.
    pub fn keep_failed_connection(
        &self,
        connection: &Connection,
        started_at: DateTime<Utc>,
        now: DateTime<Utc>,
        error: &KontorError,
    ) -> Result<()> {
        self.in_transaction(|| {
            self.upsert_connection(connection)?;
            self.journal_failure(Some(&connection.id), started_at, now, false, error)
        })
    }

    /// Records a sync that did not get to apply anything.
    pub fn journal_failure(
        &self,
        connection: Option<&ConnectionId>,
        started_at: DateTime<Utc>,
        now: DateTime<Utc>,
        outcome_cancelled: bool,
        error: &KontorError,
    ) -> Result<()> {
        let outcome = if outcome_cancelled { "cancelled" } else { "failed" };
        self.exec(
            "INSERT INTO sync_journal (connection_id, started_at, finished_at, outcome, error_code, error_message)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                connection.map(ConnectionId::as_str),
                ts(started_at),
                ts(now),
                outcome,
                format!("{:?}", error.code),
                error.message
            ],
        )
    }

    /// The newest journal rows first.
    pub fn sync_journal(&self, limit: u32) -> Result<Vec<JournalEntry>> {
        self.query_all(
            "SELECT connection_id, started_at, finished_at, outcome, added, updated, removed, error_code, warnings
                 FROM sync_journal ORDER BY id DESC LIMIT ?1",
            [limit],
            |r| {
                Ok(JournalEntry {
                    connection_id: r.get::<_, Option<String>>(0)?.map(ConnectionId),
                    started_at: r.get(1)?,
                    finished_at: r.get(2)?,
                    outcome: r.get(3)?,
                    added: r.get(4)?,
                    updated: r.get(5)?,
                    removed: r.get(6)?,
                    error_code: r.get(7)?,
                    warnings: r
                        .get::<_, Option<String>>(8)?
                        .and_then(|json| serde_json::from_str(&json).ok())
                        .unwrap_or_default(),
                })
            },
        )
    }
}
