//! Row ↔ domain mapping shared by the store's queries: column lists, row readers, statement
//! parameters and the text forms of timestamps and dates.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Params, Row, ToSql};

use super::Store;
use super::open::classify;
use super::transactions::{compress_raw, minor_units, raw_from_value};
use crate::domain::{
    Account, AccountId, AccountType, BookingStatus, Connection, ConnectionId, ConnectionStatus, Counterparty, Currency,
    Money, ProviderConfigId, Transaction, TransactionId,
};
use crate::error::KontorError;

/// `connections` columns, in the order [`connection_from_row`] reads them.
pub(super) const CONNECTION_COLUMNS: &str = "id, provider_config_id, provider_connection_id, bank_id, bank_name, \
     bank_bic, interface, status, consent_expires_at, last_synced_at, created_at";

/// `accounts` columns (table alias `a`), in the order [`account_from_row`] reads them.
pub(super) const ACCOUNT_COLUMNS: &str = "a.id, a.connection_id, a.provider_account_id, a.iban, a.name, a.holder, \
     a.account_type, a.currency, a.balance_booked, a.balance_booked_date, a.balance_available, a.balance_available_date";

/// `transactions` columns (table alias `t`), in the order [`transaction_from_row`] reads them; the
/// last one is the raw JSON, deflated (`raw_z`) or, in rows from before schema 3, text (`raw`).
pub(super) const TRANSACTION_COLUMNS: &str = "t.id, t.account_id, t.provider_id, t.booking_date, t.value_date, \
     t.amount, t.currency, t.counterparty_name, t.counterparty_iban, t.counterparty_bic, t.purpose, t.kind, \
     t.status, coalesce(t.raw_z, t.raw)";

/// [`TRANSACTION_COLUMNS`] without the raw JSON (read as `None`), for lists.
pub(super) const LIST_COLUMNS: &str = "t.id, t.account_id, t.provider_id, t.booking_date, t.value_date, \
     t.amount, t.currency, t.counterparty_name, t.counterparty_iban, t.counterparty_bic, t.purpose, t.kind, \
     t.status, NULL";

pub(super) fn ts(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub(super) fn parse_ts(text: Option<String>) -> Option<DateTime<Utc>> {
    text.and_then(|t| DateTime::parse_from_rfc3339(&t).ok()).map(|t| t.with_timezone(&Utc))
}

pub(super) fn parse_date(text: Option<String>) -> Option<NaiveDate> {
    text.and_then(|t| NaiveDate::parse_from_str(&t, "%Y-%m-%d").ok())
}

fn money(amount: Option<String>, currency: &str) -> Option<Money> {
    amount.and_then(|a| Money::parse(&a, currency).ok())
}

pub(super) fn connection_from_row(r: &Row<'_>) -> rusqlite::Result<Connection> {
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
}

pub(super) fn account_from_row(r: &Row<'_>) -> rusqlite::Result<Account> {
    let currency = Currency::parse(&r.get::<_, String>(7)?).unwrap_or(Currency::EUR);
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
}

pub(super) fn transaction_from_row(r: &Row<'_>) -> rusqlite::Result<(TransactionId, Transaction)> {
    let amount: String = r.get(5)?;
    let currency: String = r.get(6)?;
    let booking: String = r.get(3)?;
    Ok((
        TransactionId(r.get(0)?),
        Transaction {
            account_id: AccountId(r.get(1)?),
            provider_id: r.get(2)?,
            booking_date: parse_date(Some(booking)).unwrap_or_default(),
            value_date: parse_date(r.get(4)?),
            amount: Money::parse(&amount, &currency).unwrap_or(Money::new(rust_decimal::Decimal::ZERO, Currency::EUR)),
            counterparty: Counterparty { name: r.get(7)?, iban: r.get(8)?, bic: r.get(9)? },
            purpose: r.get(10)?,
            kind: r.get(11)?,
            status: BookingStatus::parse(&r.get::<_, String>(12)?),
            raw: raw_from_value(r.get_ref(13)?),
        },
    ))
}

/// The 15 parameters of a transaction write: `?1` is `key` (the account id for an insert, the row
/// id for an update), `?2`–`?13` the transaction's fields in column order (`?13` the raw JSON
/// deflated, for `raw_z`), `?14` the time written, `?15` the amount in minor units (`amount_minor`).
pub(super) fn transaction_params<'a>(
    key: impl ToSql + 'a,
    t: &'a Transaction,
    now: DateTime<Utc>,
) -> [Box<dyn ToSql + 'a>; 15] {
    [
        Box::new(key),
        Box::new(&t.provider_id),
        Box::new(t.booking_date.to_string()),
        Box::new(t.value_date.map(|d| d.to_string())),
        Box::new(t.amount.amount.to_string()),
        Box::new(t.amount.currency.as_str()),
        Box::new(&t.counterparty.name),
        Box::new(&t.counterparty.iban),
        Box::new(&t.counterparty.bic),
        Box::new(&t.purpose),
        Box::new(&t.kind),
        Box::new(t.status.as_str()),
        Box::new(t.raw.as_deref().map(compress_raw)),
        Box::new(ts(now)),
        Box::new(minor_units(t.amount.amount)),
    ]
}

impl Store {
    /// A SQLite error as Kontor's error, classified against this vault.
    pub(super) fn err(&self, e: rusqlite::Error) -> KontorError {
        classify(&e, self.path())
    }

    /// Runs one statement that returns no rows (prepared once per connection: every caller passes
    /// fixed SQL, and a sync runs several of them per batch).
    pub(super) fn exec(&self, sql: &str, params: impl Params) -> crate::error::Result<()> {
        let mut stmt = self.conn().prepare_cached(sql).map_err(|e| self.err(e))?;
        stmt.execute(params).map(|_| ()).map_err(|e| self.err(e))
    }

    /// Runs one query and maps every row with `f`.
    pub(super) fn query_all<T>(
        &self,
        sql: &str,
        params: impl Params,
        f: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> crate::error::Result<Vec<T>> {
        let mut stmt = self.conn().prepare_cached(sql).map_err(|e| self.err(e))?;
        let rows = stmt.query_map(params, f).map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// Runs `f` inside `BEGIN IMMEDIATE`: commits when it succeeds, rolls back when it or the
    /// commit fails.
    pub(super) fn in_transaction(&self, f: impl FnOnce() -> crate::error::Result<()>) -> crate::error::Result<()> {
        self.conn().execute_batch("BEGIN IMMEDIATE").map_err(|e| self.err(e))?;
        match f() {
            Ok(()) => self.conn().execute_batch("COMMIT").map_err(|e| {
                let _ = self.conn().execute_batch("ROLLBACK");
                self.err(e)
            }),
            Err(e) => {
                let _ = self.conn().execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }
}
