//! What the user controls about connections and accounts, and the sync journal read as history.
//!
//! - An account's own name (`custom_name`) sits beside the bank's (`name`, which every sync
//!   overwrites); `hidden` keeps it out of the overview and the total; `position` orders it within its
//!   connection. A sync never touches these three columns.
//! - Removing a connection deletes its transactions (the full-text index follows through its
//!   triggers), balances, accounts, journal rows and the connection itself in one transaction.
//! - The journal's `warnings` column arrives with the sync engine's schema; rows are read by column
//!   name so that a vault without it reads as "no warnings".

use std::collections::HashMap;

use rusqlite::{OptionalExtension, params};

use super::Store;
use super::rows::{ACCOUNT_COLUMNS, account_from_row};
use crate::domain::{Account, AccountId, ConnectionId, SyncWarning};
use crate::error::{KontorError, Result};

/// An account with what the user decided about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountChoices {
    pub account: Account,
    pub custom_name: Option<String>,
    pub hidden: bool,
    pub position: Option<i64>,
}

impl AccountChoices {
    /// The name to show: the user's, else the bank's.
    pub fn shown_name(&self) -> &str {
        self.custom_name.as_deref().unwrap_or(&self.account.name)
    }
}

/// One sync as the journal recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncRecord {
    pub id: i64,
    pub connection_id: Option<ConnectionId>,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub outcome: String,
    pub added: i64,
    pub updated: i64,
    pub removed: i64,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub warnings: Vec<SyncWarning>,
}

/// What removing a connection deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Removed {
    pub accounts: u64,
    pub transactions: u64,
}

fn record_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SyncRecord> {
    let warnings: Option<String> = r.get("warnings").unwrap_or(None);
    Ok(SyncRecord {
        id: r.get("id")?,
        connection_id: r.get::<_, Option<String>>("connection_id")?.map(ConnectionId),
        started_at: r.get("started_at")?,
        finished_at: r.get("finished_at")?,
        outcome: r.get("outcome")?,
        added: r.get("added")?,
        updated: r.get("updated")?,
        removed: r.get("removed")?,
        error_code: r.get("error_code")?,
        error_message: r.get("error_message")?,
        warnings: warnings.and_then(|json| serde_json::from_str(&json).ok()).unwrap_or_default(),
    })
}

impl Store {
    /// Every account, hidden ones included, in the order the user sees them: by connection, then
    /// the user's position, then type and name.
    pub fn accounts_with_choices(&self) -> Result<Vec<AccountChoices>> {
        self.query_all(
            &format!(
                "SELECT {ACCOUNT_COLUMNS}, a.custom_name, a.hidden, a.position
                 FROM accounts a JOIN connections c ON c.id = a.connection_id
                 ORDER BY c.created_at, c.id, a.position IS NULL, a.position, a.account_type, a.name, a.id"
            ),
            [],
            |r| {
                Ok(AccountChoices {
                    account: account_from_row(r)?,
                    custom_name: r.get(12)?,
                    hidden: r.get(13)?,
                    position: r.get(14)?,
                })
            },
        )
    }

    /// How many transactions each account holds.
    pub fn transaction_counts(&self) -> Result<HashMap<AccountId, u64>> {
        let rows = self.query_all("SELECT account_id, count(*) FROM transactions GROUP BY account_id", [], |r| {
            Ok((AccountId(r.get(0)?), r.get::<_, i64>(1)?))
        })?;
        Ok(rows.into_iter().map(|(id, n)| (id, u64::try_from(n).unwrap_or(0))).collect())
    }

    /// Sets (or with `None` clears) the user's name of an account; `false` if there is no such account.
    pub fn set_account_custom_name(&self, id: &AccountId, name: Option<&str>) -> Result<bool> {
        let changed = self
            .conn()
            .execute("UPDATE accounts SET custom_name = ?2 WHERE id = ?1", params![id.as_str(), name])
            .map_err(|e| self.err(e))?;
        Ok(changed > 0)
    }

    /// Hides an account from the overview and the total, or shows it again; `false` if there is no such account.
    pub fn set_account_hidden(&self, id: &AccountId, hidden: bool) -> Result<bool> {
        let changed = self
            .conn()
            .execute("UPDATE accounts SET hidden = ?2 WHERE id = ?1", params![id.as_str(), hidden])
            .map_err(|e| self.err(e))?;
        Ok(changed > 0)
    }

    /// Gives the accounts `ordered` the positions 0, 1, 2, … in one transaction.
    pub fn set_account_positions(&self, ordered: &[AccountId]) -> Result<()> {
        self.in_transaction(|| {
            for (position, id) in ordered.iter().enumerate() {
                let position = i64::try_from(position).unwrap_or(i64::MAX);
                self.exec("UPDATE accounts SET position = ?2 WHERE id = ?1", params![id.as_str(), position])?;
            }
            Ok(())
        })
    }

    /// Deletes a connection with everything Kontor holds of it, in one transaction.
    pub fn remove_connection(&self, id: &ConnectionId) -> Result<Removed> {
        let mut removed = Removed::default();
        self.in_transaction(|| {
            let count = |sql: &str| -> Result<u64> {
                let n: i64 = self.conn().query_row(sql, [id.as_str()], |r| r.get(0)).map_err(|e| self.err(e))?;
                Ok(u64::try_from(n).unwrap_or(0))
            };
            removed.accounts = count("SELECT count(*) FROM accounts WHERE connection_id = ?1")?;
            removed.transactions = count(
                "SELECT count(*) FROM transactions WHERE account_id IN (SELECT id FROM accounts WHERE connection_id = ?1)",
            )?;
            self.exec(
                "DELETE FROM transactions WHERE account_id IN (SELECT id FROM accounts WHERE connection_id = ?1)",
                [id.as_str()],
            )?;
            self.exec(
                "DELETE FROM balances WHERE account_id IN (SELECT id FROM accounts WHERE connection_id = ?1)",
                [id.as_str()],
            )?;
            self.exec("DELETE FROM accounts WHERE connection_id = ?1", [id.as_str()])?;
            self.exec("DELETE FROM sync_journal WHERE connection_id = ?1", [id.as_str()])?;
            self.exec("DELETE FROM connections WHERE id = ?1", [id.as_str()])
        })?;
        Ok(removed)
    }

    /// The journal, newest first: one connection's syncs, or all.
    pub fn sync_history(&self, connection: Option<&ConnectionId>, limit: u32) -> Result<Vec<SyncRecord>> {
        self.query_all(
            "SELECT * FROM sync_journal WHERE ?1 IS NULL OR connection_id = ?1 ORDER BY id DESC LIMIT ?2",
            params![connection.map(ConnectionId::as_str), limit],
            record_from_row,
        )
    }

    /// The newest finished journal row of each connection.
    pub fn last_syncs(&self) -> Result<HashMap<ConnectionId, SyncRecord>> {
        let rows = self.query_all(
            "SELECT * FROM sync_journal WHERE id IN
                 (SELECT max(id) FROM sync_journal WHERE connection_id IS NOT NULL AND outcome <> 'running'
                  GROUP BY connection_id)",
            [],
            record_from_row,
        )?;
        Ok(rows.into_iter().filter_map(|r| r.connection_id.clone().map(|id| (id, r))).collect())
    }

    /// The connection an account belongs to.
    pub fn account_connection(&self, id: &AccountId) -> Result<Option<ConnectionId>> {
        self.conn()
            .query_row("SELECT connection_id FROM accounts WHERE id = ?1", [id.as_str()], |r| r.get(0))
            .optional()
            .map(|c| c.map(ConnectionId))
            .map_err(|e: rusqlite::Error| -> KontorError { self.err(e) })
    }
}
