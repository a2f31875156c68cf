//! Reading transactions: keyset pages, full-text search, exact totals and monthly sums.
//!
//! Concepts and invariants:
//!
//! - **Order and cursor.** Lists run newest first by `(booking_date, id)`, a total order (ids are
//!   unique). A page continues strictly below the last row of the previous one ([`Keyset`]), so rows
//!   inserted between two fetches cause no duplicates and hide no row that existed before.
//! - **Seeks, not scans.** The WHERE clause is built per query from the filters that are set: no
//!   `? IS NULL OR …` terms, which stop SQLite from using an index. Account and dates seek on
//!   `transactions_by_account_date` or `transactions_by_date` (schema 3); status, amount and in/out
//!   are checked on those indexes' trailing columns. Several accounts are paged one seek per account
//!   and merged here. A search with few matches drives the query from the FTS index and reads the
//!   matches by id; one with many (a short prefix as the user starts typing) walks the date index
//!   in order and keeps the ids in the FTS match set, so a page stops after its rows.
//!   `tests/transaction_queries.rs` checks the plans of every combination with `EXPLAIN QUERY PLAN`.
//! - **Exact money.** `amount_minor` holds the amount in hundredths of the currency unit as an
//!   integer, for every currency; SQL sums integers and the result is turned back into a
//!   `Decimal`. An amount with more than two decimal places has no minor units (`NULL`): aggregates
//!   add such rows from the decimal text in Rust, and amount-range filters do not match them.
//! - **Search.** `transactions_fts` (FTS5, `unicode61 remove_diacritics 2`) indexes counterparty name
//!   and IBAN, purpose and kind inside the encrypted file; triggers keep it in step with every write.
//!   User text never reaches FTS syntax: it is split into words of letters and digits, each quoted
//!   and matched as a prefix; a word with an umlaut or its transcription (ü / ue, ß / ss) also
//!   matches the other spelling. Results are ordered like every list: newest first.
//! - **Monthly summary.** `transaction_months` holds count, credits and debits per account, month,
//!   currency and status, kept by triggers; totals and monthly sums of filters it can answer exactly
//!   (no search, no amount range, dates on month boundaries) read it instead of the transactions.
//! - **Raw data.** The provider's JSON is stored deflated in `raw_z`, primed with a dictionary of
//!   typical provider JSON ([`compress_raw`]; rows from before schema 3 were converted by the
//!   migration), and only read for a single transaction.

use std::cell::RefCell;
use std::cmp::Reverse;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use flate2::{Compress, Compression, FlushCompress, Status};
use miniz_oxide::inflate::TINFLStatus;
use miniz_oxide::inflate::core::{DecompressorOxide, decompress, inflate_flags};
use rusqlite::types::{Value, ValueRef};
use rusqlite::{OptionalExtension, params_from_iter};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::Store;
use super::rows::{LIST_COLUMNS, TRANSACTION_COLUMNS, parse_ts, transaction_from_row};
use crate::domain::{AccountId, BookingStatus, Currency, Direction, PendingMatch, Transaction, TransactionId};
use crate::error::{KontorError, Result};

/// The largest raw JSON Kontor inflates (a guard against a damaged blob).
const RAW_LIMIT: usize = 16 * 1024 * 1024;

/// Which transactions a list, a total or a chart covers. Unset fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransactionFilter {
    /// Only these accounts; empty means all.
    pub accounts: Vec<AccountId>,
    /// Booked on or after this day.
    pub from: Option<NaiveDate>,
    /// Booked on or before this day.
    pub to: Option<NaiveDate>,
    /// Amount at least this (signed: `-50` includes `-20`).
    pub min_amount: Option<Decimal>,
    /// Amount at most this.
    pub max_amount: Option<Decimal>,
    pub direction: Option<Direction>,
    pub status: Option<BookingStatus>,
    /// Words the counterparty, IBAN, purpose or kind must contain (as word prefixes).
    pub text: Option<String>,
    /// `min_amount`/`max_amount` bound the amount's size, whatever its sign ("between 50 and 100" finds
    /// −80 and +80), as a person means it; `direction` then picks the sign.
    pub amounts_as_magnitudes: bool,
    /// Pages run oldest first (the keyset continues upward); totals and charts do not depend on it.
    pub oldest_first: bool,
}

impl TransactionFilter {
    /// Whether a page of this filter holds every booked row of each account between its first and
    /// last row of that account (nothing but accounts, dates and status filter it).
    pub fn keeps_runs_of_bookings(&self) -> bool {
        self.text.is_none() && self.min_amount.is_none() && self.max_amount.is_none() && self.direction.is_none()
    }
}

/// The position after which a page continues: the last row's booking date and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Keyset {
    pub booking_date: NaiveDate,
    pub id: TransactionId,
}

/// Count and exact sum of a filtered set in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrencySum {
    pub currency: Currency,
    pub count: u64,
    pub sum: Decimal,
}

/// Money in and out of one account in one calendar month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthlySum {
    pub account_id: AccountId,
    /// `YYYY-MM`.
    pub month: String,
    pub currency: Currency,
    pub count: u64,
    /// The sum of the credits (≥ 0).
    pub income: Decimal,
    /// The sum of the debits (≤ 0).
    pub spending: Decimal,
}

/// One transaction with everything stored about it, the raw provider JSON included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTransaction {
    pub id: TransactionId,
    pub transaction: Transaction,
    pub first_seen_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    /// Why this booked row took over a pending one, if a sync matched them.
    pub pending_match: Option<PendingMatch>,
}

/// `amount` in hundredths, if that is an exact `i64`.
pub fn minor_units(amount: Decimal) -> Option<i64> {
    let scaled = amount.checked_mul(Decimal::ONE_HUNDRED)?;
    if !scaled.fract().is_zero() {
        return None;
    }
    scaled.to_i64()
}

/// Hundredths back to a decimal with two places.
pub fn from_minor_units(minor: i64) -> Decimal {
    Decimal::new(minor, 2)
}

/// The first byte of a stored raw JSON: how the rest is compressed.
const RAW_DEFLATE: u8 = 0;
/// Raw deflate primed with [`RAW_DICTIONARY`] (version 1; never change its text, add a version).
const RAW_DEFLATE_DICTIONARY_1: u8 = 1;

/// Typical finX and finAPI transaction JSON (keys sorted, as the providers' rows are stored): deflate
/// refers back into it, so a row's field names and common values cost a few bits instead of being
/// spelled out once per row (about 630 → 190 bytes for a finAPI-shaped row).
const RAW_DICTIONARY: &[u8] = include_bytes!("raw_dictionary.txt");

thread_local! {
    /// A raw-deflate compressor per thread, reset for each row (reset allocates nothing).
    static COMPRESSOR: RefCell<Compress> = RefCell::new(Compress::new(Compression::new(1), false));
}

/// Deflates `data` as raw deflate whose window starts with `dictionary` (a preset dictionary): what it
/// writes refers back into the dictionary as if it had been sent first, so it inflates exactly like the
/// continuation of a stream that began with the dictionary ([`inflate_after`]).
fn deflate_after(dictionary: &[u8], data: &[u8]) -> Option<Vec<u8>> {
    COMPRESSOR.with(|cell| {
        let mut compressor = cell.try_borrow_mut().ok()?;
        compressor.reset();
        compressor.set_dictionary(dictionary).ok()?;
        let mut out = Vec::with_capacity(data.len() + data.len() / 8 + 64);
        loop {
            let consumed = usize::try_from(compressor.total_in()).ok()?;
            match compressor.compress_vec(data.get(consumed..)?, &mut out, FlushCompress::Finish).ok()? {
                Status::StreamEnd => {
                    return (usize::try_from(compressor.total_in()).ok()? == data.len()).then_some(out);
                }
                Status::Ok | Status::BufError => out.reserve(out.capacity().max(64)),
            }
        }
    })
}

/// Inflates what [`deflate_after`] kept, with `dictionary` as the history it refers back into.
fn inflate_after(dictionary: &[u8], compressed: &[u8]) -> Option<Vec<u8>> {
    let mut decompressor = DecompressorOxide::new();
    let mut out = vec![0; dictionary.len() + compressed.len() * 4 + 256];
    out[..dictionary.len()].copy_from_slice(dictionary);
    let (mut read, mut written) = (0, dictionary.len());
    loop {
        let (status, used, produced) = decompress(
            &mut decompressor,
            &compressed[read..],
            &mut out,
            written,
            inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF,
        );
        read += used;
        written += produced;
        match status {
            TINFLStatus::Done => break,
            TINFLStatus::HasMoreOutput if out.len() < RAW_LIMIT => out.resize(out.len() * 2, 0),
            _ => return None,
        }
    }
    out.truncate(written);
    Some(out.split_off(dictionary.len()))
}

/// The stored form of a transaction's raw JSON: a format byte, then the deflated JSON.
pub fn compress_raw(raw: &str) -> Vec<u8> {
    let (format, body) = match deflate_after(RAW_DICTIONARY, raw.as_bytes()) {
        Some(body) => (RAW_DEFLATE_DICTIONARY_1, body),
        None => (RAW_DEFLATE, miniz_oxide::deflate::compress_to_vec(raw.as_bytes(), 6)),
    };
    let mut stored = Vec::with_capacity(body.len() + 1);
    stored.push(format);
    stored.extend(body);
    stored
}

/// The raw JSON back from its stored form; `None` if the blob is damaged.
pub fn inflate_raw(blob: &[u8]) -> Option<String> {
    let bytes = match blob.split_first()? {
        (&RAW_DEFLATE, body) => miniz_oxide::inflate::decompress_to_vec_with_limit(body, RAW_LIMIT).ok()?,
        (&RAW_DEFLATE_DICTIONARY_1, body) => inflate_after(RAW_DICTIONARY, body)?,
        _ => return None,
    };
    String::from_utf8(bytes).ok()
}

/// Reads the stored raw JSON: deflated (`raw_z`) or, before schema 3, text.
pub(super) fn raw_from_value(value: ValueRef<'_>) -> Option<String> {
    match value {
        ValueRef::Blob(blob) => inflate_raw(blob),
        ValueRef::Text(text) => String::from_utf8(text.to_vec()).ok(),
        _ => None,
    }
}

/// User text as an FTS5 query: each word quoted and matched as a prefix, all words required;
/// `None` when the text has no word.
pub fn fts_query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|word| {
            let word = word.to_lowercase();
            let mut spellings = vec![word.clone()];
            let transcribed = word.replace('ä', "ae").replace('ö', "oe").replace('ü', "ue").replace('ß', "ss");
            let umlauts = word.replace("ae", "ä").replace("oe", "ö").replace("ue", "ü").replace("ss", "ß");
            for other in [transcribed, umlauts] {
                if !spellings.contains(&other) {
                    spellings.push(other);
                }
            }
            let quoted: Vec<String> = spellings.iter().map(|s| format!("\"{}\"*", s.replace('"', "\"\""))).collect();
            if quoted.len() == 1 { quoted.concat() } else { format!("({})", quoted.join(" OR ")) }
        })
        .collect();
    (!words.is_empty()).then(|| words.join(" AND "))
}

/// A query's FROM clause, conditions and parameters.
struct Sql {
    from: &'static str,
    conditions: Vec<String>,
    params: Vec<Value>,
}

impl Sql {
    fn condition(&mut self, sql: &str, values: impl IntoIterator<Item = Value>) {
        self.conditions.push(sql.to_owned());
        self.params.extend(values);
    }

    fn where_clause(&self) -> String {
        if self.conditions.is_empty() { String::new() } else { format!("WHERE {}", self.conditions.join(" AND ")) }
    }
}

fn text(value: impl ToString) -> Value {
    Value::Text(value.to_string())
}

/// Hundredths for an amount bound: `ceil` for a lower bound, `floor` for an upper one, so the
/// integer comparison is the exact decimal one.
fn bound(amount: Decimal, lower: bool) -> Result<i64> {
    let scaled = amount
        .checked_mul(Decimal::ONE_HUNDRED)
        .map(|d| if lower { d.ceil() } else { d.floor() })
        .and_then(|d| d.to_i64());
    scaled.ok_or_else(|| KontorError::invalid_input(format!("The amount {amount} is too large.")))
}

/// How a search takes part in a query (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Search {
    None,
    /// Few matches: the FTS index drives, each match is read by id, then sorted.
    Drive(String),
    /// Many matches: an index walks the transactions in date order and keeps those whose id is in
    /// the set of matches, so a page stops after its rows and totals read only the index.
    Filter(String),
}

/// What a query reads of the rows a search selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reading {
    /// A page: an ordered walk stops after its rows.
    Page,
    /// A total or chart: every match, or in filter mode the whole covering index.
    Aggregate,
}

/// Whether a search with `matches` in a vault of `rows` drives the query. A page driven by the FTS
/// index reads every match by id and sorts them, where a walk in date order stops after about
/// `limit × rows / matches` index entries: the search drives up to a sixteenth of the vault and at
/// most 4,096 matches. An aggregate reads every match either way, by id (random pages) or in a scan
/// of the covering index: it drives up to a quarter of the vault and at most 8,192 matches (at a
/// million rows, about where the two cost the same).
fn drives(matches: i64, rows: i64, reading: Reading) -> bool {
    match reading {
        Reading::Page => matches <= (rows / 16).min(4096),
        Reading::Aggregate => matches <= (rows / 4).min(8192),
    }
}

/// The conditions of `filter` for `accounts` (a subset of the filter's accounts, or all when empty).
fn build(filter: &TransactionFilter, accounts: &[AccountId], after: Option<Keyset>, search: &Search) -> Result<Sql> {
    let mut sql = Sql { from: "transactions t", conditions: Vec::new(), params: Vec::new() };
    match search {
        Search::None => {}
        Search::Drive(query) => {
            sql.from = "transactions_fts f CROSS JOIN transactions t ON t.id = f.rowid";
            sql.condition("transactions_fts MATCH ?", [Value::Text(query.clone())]);
        }
        Search::Filter(query) => {
            sql.from = if accounts.is_empty() {
                "transactions t INDEXED BY transactions_by_date"
            } else {
                "transactions t INDEXED BY transactions_by_account_date"
            };
            sql.condition(
                "t.id IN (SELECT rowid FROM transactions_fts WHERE transactions_fts MATCH ?)",
                [Value::Text(query.clone())],
            );
        }
    }
    match accounts {
        [] => {}
        [one] => sql.condition("t.account_id = ?", [text(one)]),
        many => {
            let marks = vec!["?"; many.len()].join(", ");
            sql.condition(&format!("t.account_id IN ({marks})"), many.iter().map(text));
        }
    }
    if let Some(from) = filter.from {
        sql.condition("t.booking_date >= ?", [text(from)]);
    }
    if let Some(to) = filter.to {
        sql.condition("t.booking_date <= ?", [text(to)]);
    }
    if let Some(after) = after {
        let beyond = if filter.oldest_first { ">" } else { "<" };
        sql.condition(
            &format!("(t.booking_date, t.id) {beyond} (?, ?)"),
            [text(after.booking_date), Value::Integer(after.id.0)],
        );
    }
    if let Some(status) = filter.status {
        sql.condition("t.status = ?", [text(status.as_str())]);
    }
    let amount = if filter.amounts_as_magnitudes { "abs(t.amount_minor)" } else { "t.amount_minor" };
    if let Some(min) = filter.min_amount {
        sql.condition(&format!("{amount} >= ?"), [Value::Integer(bound(min, true)?)]);
    }
    if let Some(max) = filter.max_amount {
        sql.condition(&format!("{amount} <= ?"), [Value::Integer(bound(max, false)?)]);
    }
    match filter.direction {
        Some(Direction::Incoming) => sql.condition("t.amount_minor > 0", []),
        Some(Direction::Outgoing) => sql.condition("t.amount_minor < 0", []),
        None => {}
    }
    Ok(sql)
}

/// Whether a page over several accounts is read as one seek per account (see the module docs).
fn per_account(filter: &TransactionFilter, search: &Search) -> bool {
    filter.accounts.len() > 1 && !matches!(search, Search::Drive(_))
}

fn page_sql(sql: &Sql, oldest_first: bool) -> String {
    let order = if oldest_first { "ASC" } else { "DESC" };
    format!(
        "SELECT {LIST_COLUMNS} FROM {} {} ORDER BY t.booking_date {order}, t.id {order} LIMIT ?",
        sql.from,
        sql.where_clause()
    )
}

fn totals_sql(sql: &Sql) -> String {
    format!(
        "SELECT t.currency, count(*), sum(t.amount_minor), count(*) - count(t.amount_minor)
         FROM {} {} GROUP BY t.currency ORDER BY t.currency",
        sql.from,
        sql.where_clause()
    )
}

fn monthly_sql(sql: &Sql) -> String {
    format!(
        "SELECT t.account_id, substr(t.booking_date, 1, 7), t.currency, count(*),
                sum(CASE WHEN t.amount_minor > 0 THEN t.amount_minor END),
                sum(CASE WHEN t.amount_minor < 0 THEN t.amount_minor END),
                count(*) - count(t.amount_minor)
         FROM {} {} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
        sql.from,
        sql.where_clause()
    )
}

/// The rows of an aggregate that have no minor units, with their decimal text (see the module
/// docs): `(account, month, currency, amount)`. Run only when an aggregate counted such rows; the
/// partial index `transactions_inexact` finds them without reading the others.
fn inexact_sql(sql: &Sql) -> String {
    format!(
        "SELECT t.account_id, substr(t.booking_date, 1, 7), t.currency, t.amount FROM {} {} {} t.amount_minor IS NULL",
        sql.from,
        sql.where_clause(),
        if sql.conditions.is_empty() { "WHERE" } else { "AND" }
    )
}

/// Which columns of `transaction_months` a summary reads for a direction: count, sum of credits,
/// sum of debits, rows without minor units.
fn summary_columns(direction: Option<Direction>) -> [&'static str; 4] {
    match direction {
        None => ["count", "income_minor", "spending_minor", "inexact"],
        Some(Direction::Incoming) => ["count_in", "income_minor", "0", "0"],
        Some(Direction::Outgoing) => ["count_out", "0", "spending_minor", "0"],
    }
}

/// The conditions on `transaction_months` equivalent to `filter`, if it has any: no search, no
/// amount range, and dates on month boundaries (from a 1st, to a month's last day).
fn summary(filter: &TransactionFilter) -> Option<Sql> {
    let searching = filter.text.as_deref().and_then(fts_query).is_some();
    if searching || filter.min_amount.is_some() || filter.max_amount.is_some() {
        return None;
    }
    let month = |d: NaiveDate| format!("{:04}-{:02}", d.year(), d.month());
    let mut sql = Sql { from: "transaction_months m", conditions: Vec::new(), params: Vec::new() };
    match filter.accounts.as_slice() {
        [] => {}
        [one] => sql.condition("m.account_id = ?", [text(one)]),
        many => {
            let marks = vec!["?"; many.len()].join(", ");
            sql.condition(&format!("m.account_id IN ({marks})"), many.iter().map(text));
        }
    }
    if let Some(status) = filter.status {
        sql.condition("m.status = ?", [text(status.as_str())]);
    }
    if let Some(from) = filter.from {
        if from.day() != 1 {
            return None;
        }
        sql.condition("m.month >= ?", [text(month(from))]);
    }
    if let Some(to) = filter.to {
        if to.succ_opt().is_some_and(|next| next.day() != 1) {
            return None;
        }
        sql.condition("m.month <= ?", [text(month(to))]);
    }
    Some(sql)
}

/// A statement as the store runs it: SQL text and parameters.
pub type Statement = (String, Vec<Value>);

impl Store {
    /// How `filter`'s search takes part in its queries: the number of matches (counted in the FTS
    /// index alone) against the number of transactions (from the monthly summary).
    fn search(&self, filter: &TransactionFilter, reading: Reading) -> Result<Search> {
        let Some(query) = filter.text.as_deref().and_then(fts_query) else { return Ok(Search::None) };
        let matches: i64 = self
            .conn()
            .query_row("SELECT count(*) FROM transactions_fts WHERE transactions_fts MATCH ?1", [&query], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        let rows: i64 = self
            .conn()
            .query_row("SELECT coalesce(sum(count), 0) FROM transaction_months", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        Ok(if drives(matches, rows, reading) { Search::Drive(query) } else { Search::Filter(query) })
    }

    /// The page query [`Store::transactions`] runs for `filter` (one statement; a filter on several
    /// accounts that the search does not drive runs it once per account), so a benchmark can run
    /// the very same statement against another database.
    pub fn page_statement(&self, filter: &TransactionFilter, after: Option<Keyset>, limit: u32) -> Result<Statement> {
        let mut sql = build(filter, &filter.accounts, after, &self.search(filter, Reading::Page)?)?;
        sql.params.push(Value::Integer(i64::from(limit)));
        Ok((page_sql(&sql, filter.oldest_first), sql.params))
    }

    /// The totals query of [`Store::transaction_totals`] (see [`Store::page_statement`]): on
    /// `transaction_months` when it can answer the filter, else on the transactions. Either way the
    /// columns are currency, count, sum in minor units, rows without minor units.
    pub fn totals_statement(&self, filter: &TransactionFilter) -> Result<Statement> {
        if let Some(months) = summary(filter) {
            let [count, income, spending, inexact] = summary_columns(filter.direction);
            let query = format!(
                "SELECT m.currency, sum({count}), sum({income}) + sum({spending}), sum({inexact})
                 FROM {} {} GROUP BY m.currency HAVING sum({count}) > 0 ORDER BY m.currency",
                months.from,
                months.where_clause()
            );
            return Ok((query, months.params));
        }
        let sql = build(filter, &filter.accounts, None, &self.search(filter, Reading::Aggregate)?)?;
        Ok((totals_sql(&sql), sql.params))
    }

    /// The query of [`Store::monthly_sums`] (see [`Store::totals_statement`]): account, month,
    /// currency, count, credits, debits, rows without minor units.
    pub fn monthly_statement(&self, filter: &TransactionFilter) -> Result<Statement> {
        if let Some(months) = summary(filter) {
            let [count, income, spending, inexact] = summary_columns(filter.direction);
            let query = format!(
                "SELECT m.account_id, m.month, m.currency, sum({count}), sum({income}), sum({spending}),
                        sum({inexact})
                 FROM {} {} GROUP BY 1, 2, 3 HAVING sum({count}) > 0 ORDER BY 1, 2, 3",
                months.from,
                months.where_clause()
            );
            return Ok((query, months.params));
        }
        let mut sql = build(filter, &filter.accounts, None, &self.search(filter, Reading::Aggregate)?)?;
        if sql.from == "transactions t" && filter.accounts.is_empty() && (filter.from.is_some() || filter.to.is_some())
        {
            // Grouping by account would lead SQLite to walk the account index in full; the date
            // range is the seek.
            sql.from = "transactions t INDEXED BY transactions_by_date";
        }
        Ok((monthly_sql(&sql), sql.params))
    }

    /// A page of `filter`'s transactions, newest first (oldest first if the filter says so), after `after`
    /// (from the start when `None`).
    /// The rows carry no raw JSON; [`Store::transaction`] has it.
    pub fn transactions(
        &self,
        filter: &TransactionFilter,
        after: Option<Keyset>,
        limit: u32,
    ) -> Result<Vec<(TransactionId, Transaction)>> {
        let search = self.search(filter, Reading::Page)?;
        let mut rows = Vec::new();
        if per_account(filter, &search) {
            for account in &filter.accounts {
                rows.extend(self.page(filter, std::slice::from_ref(account), after, limit, &search)?);
            }
            if filter.oldest_first {
                rows.sort_by_key(|(id, t)| (t.booking_date, *id));
            } else {
                rows.sort_by_key(|(id, t)| Reverse((t.booking_date, *id)));
            }
            rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        } else {
            rows = self.page(filter, &filter.accounts, after, limit, &search)?;
        }
        Ok(rows)
    }

    fn page(
        &self,
        filter: &TransactionFilter,
        accounts: &[AccountId],
        after: Option<Keyset>,
        limit: u32,
        search: &Search,
    ) -> Result<Vec<(TransactionId, Transaction)>> {
        let mut sql = build(filter, accounts, after, search)?;
        sql.params.push(Value::Integer(i64::from(limit)));
        self.query_all(&page_sql(&sql, filter.oldest_first), params_from_iter(sql.params), transaction_from_row)
    }

    /// Count and exact sum of every transaction `filter` matches, per currency. Month-aligned
    /// filters without search or amounts read `transaction_months`; others the transactions.
    pub fn transaction_totals(&self, filter: &TransactionFilter) -> Result<Vec<CurrencySum>> {
        let mut inexact_rows = 0;
        let read = |r: &rusqlite::Row<'_>, inexact_rows: &mut i64| {
            *inexact_rows += r.get::<_, i64>(3)?;
            Ok(CurrencySum {
                currency: Currency::parse(&r.get::<_, String>(0)?).unwrap_or(Currency::EUR),
                count: u64::try_from(r.get::<_, i64>(1)?).unwrap_or_default(),
                sum: from_minor_units(r.get::<_, Option<i64>>(2)?.unwrap_or_default()),
            })
        };
        let (query, params) = self.totals_statement(filter)?;
        let mut sums = self.query_all(&query, params_from_iter(params), |r| read(r, &mut inexact_rows))?;
        if inexact_rows > 0 {
            for (_, _, currency, amount) in self.inexact(filter)? {
                if let Some(sum) = sums.iter_mut().find(|s| s.currency == currency) {
                    sum.sum += amount;
                }
            }
        }
        Ok(sums)
    }

    /// Credits and debits per account and calendar month of `filter`'s transactions, oldest first
    /// (from `transaction_months` where the filter allows, see [`Store::transaction_totals`]).
    pub fn monthly_sums(&self, filter: &TransactionFilter) -> Result<Vec<MonthlySum>> {
        let mut inexact_rows = 0;
        let read = |r: &rusqlite::Row<'_>, inexact_rows: &mut i64| {
            *inexact_rows += r.get::<_, i64>(6)?;
            Ok(MonthlySum {
                account_id: AccountId(r.get(0)?),
                month: r.get(1)?,
                currency: Currency::parse(&r.get::<_, String>(2)?).unwrap_or(Currency::EUR),
                count: u64::try_from(r.get::<_, i64>(3)?).unwrap_or_default(),
                income: from_minor_units(r.get::<_, Option<i64>>(4)?.unwrap_or_default()),
                spending: from_minor_units(r.get::<_, Option<i64>>(5)?.unwrap_or_default()),
            })
        };
        let (query, params) = self.monthly_statement(filter)?;
        let mut sums = self.query_all(&query, params_from_iter(params), |r| read(r, &mut inexact_rows))?;
        if inexact_rows > 0 {
            for (account, month, currency, amount) in self.inexact(filter)? {
                let group =
                    sums.iter_mut().find(|m| m.account_id == account && m.month == month && m.currency == currency);
                if let Some(group) = group {
                    if amount.is_sign_positive() { group.income += amount } else { group.spending += amount }
                }
            }
        }
        Ok(sums)
    }

    /// `filter`'s rows without minor units (see [`inexact_sql`]).
    fn inexact(&self, filter: &TransactionFilter) -> Result<Vec<(AccountId, String, Currency, Decimal)>> {
        let sql = build(filter, &filter.accounts, None, &self.search(filter, Reading::Aggregate)?)?;
        let rows = self.query_all(&inexact_sql(&sql), params_from_iter(sql.params.clone()), |r| {
            Ok((AccountId(r.get(0)?), r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?))
        })?;
        Ok(rows
            .into_iter()
            .filter_map(|(account, month, currency, amount)| {
                Some((account, month, Currency::parse(&currency).ok()?, amount.trim().parse().ok()?))
            })
            .collect())
    }

    /// One transaction with its raw JSON and timestamps.
    pub fn transaction(&self, id: TransactionId) -> Result<Option<StoredTransaction>> {
        self.conn()
            .query_row(
                &format!(
                    "SELECT {TRANSACTION_COLUMNS}, t.first_seen_at, t.updated_at, t.pending_match
                     FROM transactions t WHERE t.id = ?1"
                ),
                [id.0],
                |r| {
                    let (id, transaction) = transaction_from_row(r)?;
                    Ok(StoredTransaction {
                        id,
                        transaction,
                        first_seen_at: parse_ts(r.get(14)?),
                        updated_at: parse_ts(r.get(15)?),
                        pending_match: r
                            .get::<_, Option<String>>(16)?
                            .and_then(|json| serde_json::from_str(&json).ok()),
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// `EXPLAIN QUERY PLAN` of the page, totals and monthly queries for `filter`: one line per plan
    /// step, each query's lines after a `-- page` / `-- totals` / `-- monthly` header. For tests and
    /// diagnostics.
    pub fn transaction_query_plans(&self, filter: &TransactionFilter, after: Option<Keyset>) -> Result<Vec<String>> {
        let mut lines = Vec::new();
        let search = self.search(filter, Reading::Page)?;
        let page_accounts: Vec<&[AccountId]> = if per_account(filter, &search) {
            filter.accounts.iter().map(std::slice::from_ref).collect()
        } else {
            vec![&filter.accounts]
        };
        for accounts in page_accounts {
            let mut sql = build(filter, accounts, after, &search)?;
            sql.params.push(Value::Integer(50));
            lines.push("-- page".to_owned());
            lines.extend(self.explain(&page_sql(&sql, filter.oldest_first), sql.params)?);
        }
        for (name, (query, params)) in
            [("totals", self.totals_statement(filter)?), ("monthly", self.monthly_statement(filter)?)]
        {
            lines.push(format!("-- {name}"));
            lines.extend(self.explain(&query, params)?);
        }
        Ok(lines)
    }

    pub(super) fn explain(&self, sql: &str, params: Vec<Value>) -> Result<Vec<String>> {
        self.query_all(&format!("EXPLAIN QUERY PLAN {sql}"), params_from_iter(params), |r| r.get::<_, String>(3))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_json_round_trips_small_large_odd_and_damaged() {
        let large: String = (0..20_000).map(|i| format!("{{\"n\":{i},\"t\":\"Überweisung\"}}")).collect();
        for raw in ["", "{}", "{\"amount\":\"-1.00\",\"purpose\":\"Miete Müller\"}", large.as_str()] {
            let stored = compress_raw(raw);
            assert_eq!(stored[0], RAW_DEFLATE_DICTIONARY_1);
            assert_eq!(inflate_raw(&stored).as_deref(), Some(raw));
        }
        let plain = [vec![RAW_DEFLATE], miniz_oxide::deflate::compress_to_vec(b"{\"a\":1}", 6)].concat();
        assert_eq!(inflate_raw(&plain).as_deref(), Some("{\"a\":1}"));
        assert_eq!(inflate_raw(&[]), None);
        assert_eq!(inflate_raw(&[9, 1, 2, 3]), None);
        assert_eq!(inflate_raw(&[RAW_DEFLATE_DICTIONARY_1, 0xff, 0xff, 0xff]), None);
    }

    #[test]
    fn a_dictionary_row_is_much_smaller_than_a_plain_one() {
        let row = r#"{"accountId":7,"amount":"-23.99","bankBookingDate":"2026-03-02","counterpartIban":"DE02120300000000202051","counterpartName":"dm-drogerie markt","currency":"EUR","purpose":"dm fil. 1234 Kartenzahlung","type":"Kartenzahlung","valueDate":"2026-03-02"}"#;
        let plain = miniz_oxide::deflate::compress_to_vec(row.as_bytes(), 6).len();
        assert!(compress_raw(row).len() * 3 < plain * 2, "{} vs {plain}", compress_raw(row).len());
    }

    #[test]
    fn minor_units_are_exact_or_absent() {
        let d = |s: &str| s.parse::<Decimal>().unwrap_or_default();
        assert_eq!(minor_units(d("-12.3")), Some(-1230));
        assert_eq!(minor_units(d("0.01")), Some(1));
        assert_eq!(minor_units(d("1234567.89")), Some(123_456_789));
        assert_eq!(minor_units(d("-0.125")), None);
        assert_eq!(minor_units(d("79228162514264337593543950335")), None);
        assert_eq!(from_minor_units(-1230).to_string(), "-12.30");
        assert_eq!(bound(d("-0.125"), true).ok(), Some(-12));
        assert_eq!(bound(d("-0.125"), false).ok(), Some(-13));
    }

    #[test]
    fn user_text_becomes_quoted_prefix_terms() {
        assert_eq!(fts_query("  "), None);
        assert_eq!(fts_query("\" ( * :"), None);
        assert_eq!(fts_query("\" AND ("), Some("\"and\"*".to_owned()));
        assert_eq!(fts_query("rewe"), Some("\"rewe\"*".to_owned()));
        assert_eq!(fts_query("Müller 12"), Some("(\"müller\"* OR \"mueller\"*) AND \"12\"*".to_owned()));
        assert_eq!(fts_query("strasse"), Some("(\"strasse\"* OR \"straße\"*)".to_owned()));
    }
}
