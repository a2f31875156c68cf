//! Typed reads and writes on the vault. Each function is one statement or one transaction.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{OptionalExtension, params};

use super::Store;
use super::open::classify;
use crate::domain::{
    Account, AccountId, AccountType, BookingStatus, Connection, ConnectionId, ConnectionStatus, Currency, Money,
    ProviderConfig, ProviderConfigId, ProviderKind, Transaction, TransactionId,
};
use crate::error::{KontorError, Result};

fn ts(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn parse_ts(text: Option<String>) -> Option<DateTime<Utc>> {
    text.and_then(|t| DateTime::parse_from_rfc3339(&t).ok()).map(|t| t.with_timezone(&Utc))
}

fn parse_date(text: Option<String>) -> Option<NaiveDate> {
    text.and_then(|t| NaiveDate::parse_from_str(&t, "%Y-%m-%d").ok())
}

fn money(amount: Option<String>, currency: &str) -> Option<Money> {
    amount.and_then(|a| Money::parse(&a, currency).ok())
}

impl Store {
    fn err(&self, e: rusqlite::Error) -> KontorError {
        classify(&e, self.path())
    }

    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        self.conn()
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }

    pub fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        self.conn()
            .execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    pub fn upsert_provider_config(&self, config: &ProviderConfig) -> Result<()> {
        self.conn()
            .execute(
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
            .map(|_| ())
            .map_err(|e| self.err(e))
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
        self.conn()
            .execute(
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
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    pub fn connections(&self) -> Result<Vec<Connection>> {
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT id, provider_config_id, provider_connection_id, bank_id, bank_name, bank_bic, interface, status,
                        consent_expires_at, last_synced_at, created_at
                 FROM connections ORDER BY created_at, id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(Connection {
                    id: ConnectionId(r.get(0)?),
                    provider_config_id: ProviderConfigId(r.get(1)?),
                    provider_connection_id: r.get(2)?,
                    bank_id: r.get(3)?,
                    bank_name: r.get(4)?,
                    bank_bic: r.get(5)?,
                    interface: r.get(6)?,
                    status: ConnectionStatus::parse(&r.get::<_, String>(7)?).unwrap_or(ConnectionStatus::Failed),
                    consent_expires_at: parse_ts(r.get(8)?),
                    last_synced_at: parse_ts(r.get(9)?),
                    created_at: parse_ts(r.get(10)?).unwrap_or_default(),
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    pub fn upsert_account(&self, a: &Account) -> Result<()> {
        self.conn()
            .execute(
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
                ],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    pub fn accounts(&self) -> Result<Vec<Account>> {
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT a.id, a.connection_id, a.provider_account_id, a.iban, a.name, a.holder, a.account_type, a.currency,
                        a.balance_booked, a.balance_booked_date, a.balance_available, a.balance_available_date
                 FROM accounts a JOIN connections c ON c.id = a.connection_id
                 WHERE a.hidden = 0 ORDER BY c.created_at, c.id, a.account_type, a.name",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                let currency_text: String = r.get(7)?;
                let currency = Currency::parse(&currency_text).unwrap_or(Currency::EUR);
                Ok(Account {
                    id: AccountId(r.get(0)?),
                    connection_id: ConnectionId(r.get(1)?),
                    provider_account_id: r.get(2)?,
                    iban: r.get(3)?,
                    name: r.get(4)?,
                    holder: r.get(5)?,
                    account_type: AccountType::parse(&r.get::<_, String>(6)?),
                    currency,
                    balance_booked: money(r.get(8)?, currency.as_str()),
                    balance_booked_date: parse_date(r.get(9)?),
                    balance_available: money(r.get(10)?, currency.as_str()),
                    balance_available_date: parse_date(r.get(11)?),
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// Inserts or updates by (account, provider id); returns the row id.
    pub fn upsert_transaction(&self, t: &Transaction, now: DateTime<Utc>) -> Result<TransactionId> {
        self.conn()
            .query_row(
                "INSERT INTO transactions (account_id, provider_id, booking_date, value_date, amount, currency,
                   counterparty_name, counterparty_iban, counterparty_bic, purpose, kind, status, raw, first_seen_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14)
                 ON CONFLICT (account_id, provider_id) DO UPDATE SET booking_date = excluded.booking_date,
                   value_date = excluded.value_date, amount = excluded.amount, currency = excluded.currency,
                   counterparty_name = excluded.counterparty_name, counterparty_iban = excluded.counterparty_iban,
                   counterparty_bic = excluded.counterparty_bic, purpose = excluded.purpose, kind = excluded.kind,
                   status = excluded.status, raw = excluded.raw, updated_at = excluded.updated_at
                 RETURNING id",
                params![
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
                    t.raw,
                    ts(now)
                ],
                |r| r.get(0),
            )
            .map(TransactionId)
            .map_err(|e| self.err(e))
    }

    /// Newest first, keyset-paged: pass the last row's (booking_date, id) to continue.
    pub fn transactions_page(
        &self,
        account: Option<&AccountId>,
        after: Option<(NaiveDate, TransactionId)>,
        limit: u32,
    ) -> Result<Vec<(TransactionId, Transaction)>> {
        let (after_date, after_id) = after.map_or((None, None), |(d, id)| (Some(d.to_string()), Some(id.0)));
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT id, account_id, provider_id, booking_date, value_date, amount, currency, counterparty_name,
                        counterparty_iban, counterparty_bic, purpose, kind, status, raw
                 FROM transactions
                 WHERE (?1 IS NULL OR account_id = ?1)
                   AND (?2 IS NULL OR booking_date < ?2 OR (booking_date = ?2 AND id < ?3))
                 ORDER BY booking_date DESC, id DESC LIMIT ?4",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![account.map(AccountId::as_str), after_date, after_id, limit], |r| {
                let currency: String = r.get(6)?;
                let amount: String = r.get(5)?;
                Ok((
                    TransactionId(r.get(0)?),
                    Transaction {
                        account_id: AccountId(r.get(1)?),
                        provider_id: r.get(2)?,
                        booking_date: parse_date(r.get(3)?).unwrap_or_default(),
                        value_date: parse_date(r.get(4)?),
                        amount: Money::parse(&amount, &currency)
                            .unwrap_or(Money::new(rust_decimal::Decimal::ZERO, Currency::EUR)),
                        counterparty: crate::domain::Counterparty { name: r.get(7)?, iban: r.get(8)?, bic: r.get(9)? },
                        purpose: r.get(10)?,
                        kind: r.get(11)?,
                        status: BookingStatus::parse(&r.get::<_, String>(12)?),
                        raw: r.get(13)?,
                    },
                ))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }
}
