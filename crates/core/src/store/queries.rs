//! Typed reads and writes on the vault. Each function is one statement or one transaction.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::Store;
use super::rows::{
    ACCOUNT_COLUMNS, CONNECTION_COLUMNS, account_from_row, connection_from_row, parse_ts, transaction_params, ts,
};
use crate::domain::{Account, Connection, ProviderConfig, ProviderConfigId, ProviderKind, Transaction, TransactionId};
use crate::error::Result;

impl Store {
    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        self.conn()
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }

    pub fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        self.exec(
            "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )
    }

    pub fn upsert_provider_config(&self, config: &ProviderConfig) -> Result<()> {
        self.exec(
            "INSERT INTO provider_configs (id, kind, label, base_url, client_id, api_version, is_demo, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (id) DO UPDATE SET label = excluded.label, base_url = excluded.base_url,
                   client_id = excluded.client_id, api_version = excluded.api_version",
            params![
                config.id.as_str(),
                config.kind.as_str(),
                config.label,
                config.base_url,
                config.client_id,
                config.api_version,
                config.is_demo,
                ts(config.created_at)
            ],
        )
    }

    pub fn provider_configs(&self) -> Result<Vec<ProviderConfig>> {
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT id, kind, label, base_url, client_id, api_version, is_demo, created_at FROM provider_configs ORDER BY created_at",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, bool>(6)?,
                    r.get::<_, String>(7)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, kind, label, base_url, client_id, api_version, is_demo, created_at) =
                row.map_err(|e| self.err(e))?;
            let Some(kind) = ProviderKind::parse(&kind) else { continue };
            out.push(ProviderConfig {
                id: ProviderConfigId(id),
                kind,
                label,
                base_url,
                client_id,
                api_version,
                is_demo,
                created_at: parse_ts(Some(created_at)).unwrap_or_default(),
            });
        }
        Ok(out)
    }

    pub fn upsert_connection(&self, c: &Connection) -> Result<()> {
        self.exec(
            "INSERT INTO connections (id, provider_config_id, provider_connection_id, bank_id, bank_name, bank_bic,
                   interface, status, consent_expires_at, last_synced_at, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                 ON CONFLICT (id) DO UPDATE SET bank_name = excluded.bank_name, bank_bic = excluded.bank_bic,
                   interface = excluded.interface, status = excluded.status,
                   consent_expires_at = excluded.consent_expires_at, last_synced_at = excluded.last_synced_at",
            params![
                c.id.as_str(),
                c.provider_config_id.as_str(),
                c.provider_connection_id,
                c.bank_id,
                c.bank_name,
                c.bank_bic,
                c.interface,
                c.status.as_str(),
                c.consent_expires_at.map(ts),
                c.last_synced_at.map(ts),
                ts(c.created_at)
            ],
        )
    }

    pub fn connections(&self) -> Result<Vec<Connection>> {
        self.query_all(
            &format!("SELECT {CONNECTION_COLUMNS} FROM connections ORDER BY created_at, id"),
            [],
            connection_from_row,
        )
    }

    pub fn upsert_account(&self, a: &Account) -> Result<()> {
        self.exec(
            "INSERT INTO accounts (id, connection_id, provider_account_id, iban, name, holder, account_type, currency,
                   balance_booked, balance_booked_date, balance_available, balance_available_date)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
                 ON CONFLICT (id) DO UPDATE SET iban = excluded.iban, name = excluded.name, holder = excluded.holder,
                   account_type = excluded.account_type, currency = excluded.currency,
                   balance_booked = excluded.balance_booked, balance_booked_date = excluded.balance_booked_date,
                   balance_available = excluded.balance_available, balance_available_date = excluded.balance_available_date",
                params![
                    a.id.as_str(),
                    a.connection_id.as_str(),
                    a.provider_account_id,
                    a.iban,
                    a.name,
                    a.holder,
                    a.account_type.as_str(),
                    a.currency.as_str(),
                    a.balance_booked.map(|m| m.amount.to_string()),
                    a.balance_booked_date.map(|d| d.to_string()),
                    a.balance_available.map(|m| m.amount.to_string()),
                    a.balance_available_date.map(|d| d.to_string())
                ])
    }

    pub fn accounts(&self) -> Result<Vec<Account>> {
        self.query_all(
            &format!(
                "SELECT {ACCOUNT_COLUMNS}
                 FROM accounts a JOIN connections c ON c.id = a.connection_id
                 WHERE a.hidden = 0 ORDER BY c.created_at, c.id, a.account_type, a.name"
            ),
            [],
            account_from_row,
        )
    }

    /// Inserts or updates by (account, provider id); returns the row id.
    pub fn upsert_transaction(&self, t: &Transaction, now: DateTime<Utc>) -> Result<TransactionId> {
        self.conn()
            .query_row(
                "INSERT INTO transactions (account_id, provider_id, booking_date, value_date, amount, currency,
                   counterparty_name, counterparty_iban, counterparty_bic, purpose, kind, status, raw_z, first_seen_at,
                   updated_at, amount_minor)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14, ?15)
                 ON CONFLICT (account_id, provider_id) DO UPDATE SET booking_date = excluded.booking_date,
                   value_date = excluded.value_date, amount = excluded.amount, currency = excluded.currency,
                   counterparty_name = excluded.counterparty_name, counterparty_iban = excluded.counterparty_iban,
                   counterparty_bic = excluded.counterparty_bic, purpose = excluded.purpose, kind = excluded.kind,
                   status = excluded.status, raw_z = excluded.raw_z, raw = NULL, updated_at = excluded.updated_at,
                   amount_minor = excluded.amount_minor
                 RETURNING id",
                rusqlite::params_from_iter(transaction_params(t.account_id.as_str(), t, now)),
                |r| r.get(0),
            )
            .map(TransactionId)
            .map_err(|e| self.err(e))
    }
}
