//! The facade's transactions: lists with filters and keyset paging, one booking in full, totals,
//! monthly income and spending, an account's balance over time, and export.
//!
//! A [`TransactionQuery`] arrives as text (amounts as decimal strings, dates `YYYY-MM-DD`) and is
//! checked here into a [`TransactionFilter`]; a malformed field is `InvalidInput` naming it. The
//! cursor (`next` / `after`) is the last row's booking date and id, `YYYY-MM-DD_ID`: it stays valid
//! while rows are added, and pages never repeat or skip a row that existed when paging began (see
//! [`crate::store::transactions`]). Each page takes the store lock once; an export takes it per page.
//!
//! A query that names no account covers the accounts the overview counts (issue 11's meaning of
//! hidden: out of the overview and its total): hidden accounts, and an account whose IBAN another
//! counted account holds (an unsettled duplicate), are left out of the list, its count and sum, the
//! monthly sums and the export, so that no booking is listed or summed twice. Naming an account
//! (`accounts`) reaches it whatever the user chose about it.

use std::collections::BTreeMap;
use std::io::Write;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::dto::{
    BalancePoint, MonthlyFlow, TransactionDetail, TransactionPage, TransactionQuery, TransactionRow, TransactionTotal,
};
use super::{Kontor, connections};
use crate::domain::{Account, AccountId, BookingStatus, TransactionId};
use crate::error::{ErrorCode, KontorError, Result};
use crate::store::transactions::{CurrencySum, Keyset, TransactionFilter};

/// Rows per page when the query does not say.
pub const DEFAULT_PAGE: u32 = 100;
/// The most rows one page may ask for.
pub const MAX_PAGE: u32 = 1000;

/// What `export_transactions` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Csv,
    Json,
}

/// The CSV dialect: `de` is `;`-separated with a decimal comma, `en` `,`-separated with a point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ExportLocale {
    De,
    En,
}

fn invalid(field: &str, value: &str, expected: &str) -> KontorError {
    KontorError::invalid_input(format!("'{value}' is not a valid {field}: expected {expected}."))
}

fn date(field: &str, value: Option<&str>) -> Result<Option<NaiveDate>> {
    value
        .map(|v| NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").map_err(|_| invalid(field, v, "a date YYYY-MM-DD")))
        .transpose()
}

fn amount(field: &str, value: Option<&str>) -> Result<Option<Decimal>> {
    value
        .map(|v| v.trim().replace(',', ".").parse::<Decimal>().map_err(|_| invalid(field, v, "a decimal amount")))
        .transpose()
}

/// The cursor of the row after which the next page starts.
pub fn cursor(booking_date: NaiveDate, id: TransactionId) -> String {
    format!("{booking_date}_{}", id.0)
}

fn parse_cursor(value: &str) -> Result<Keyset> {
    let parsed = value.split_once('_').and_then(|(d, id)| {
        Some(Keyset {
            booking_date: NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()?,
            id: TransactionId(id.parse().ok()?),
        })
    });
    parsed.ok_or_else(|| invalid("cursor", value, "the `next` value of a previous page"))
}

/// The filter a query describes (paging fields aside).
pub fn filter_of(query: &TransactionQuery) -> Result<TransactionFilter> {
    let filter = TransactionFilter {
        accounts: query.accounts.iter().flatten().map(|a| AccountId::from(a.as_str())).collect(),
        from: date("from date", query.from.as_deref())?,
        to: date("to date", query.to.as_deref())?,
        min_amount: amount("minimum amount", query.min_amount.as_deref())?,
        max_amount: amount("maximum amount", query.max_amount.as_deref())?,
        direction: query.direction,
        status: query.status,
        text: query.text.clone().filter(|t| !t.trim().is_empty()),
        oldest_first: query.oldest_first.unwrap_or(false),
        amounts_as_magnitudes: query.amounts_as_magnitudes.unwrap_or(false),
    };
    Ok(filter)
}

fn totals_dto(sums: Vec<CurrencySum>) -> Vec<TransactionTotal> {
    sums.into_iter()
        .map(|s| TransactionTotal { currency: s.currency.to_string(), count: s.count, sum: s.sum.to_string() })
        .collect()
}

impl Kontor {
    /// The query's filter; when it names no account, narrowed to the accounts the overview counts
    /// (see the module docs). `None` when that leaves no account: the user hid every one.
    fn scoped_filter(&self, query: &TransactionQuery) -> Result<Option<TransactionFilter>> {
        let mut filter = filter_of(query)?;
        if !filter.accounts.is_empty() {
            return Ok(Some(filter));
        }
        let (accounts, counted) = self.with_store(|store| {
            let connections = store.connections()?;
            let all = store.accounts_with_choices()?;
            let accounts = all.len();
            let counted: Vec<AccountId> = connections::visible_accounts(all, &connections)
                .into_iter()
                .filter(|(_, duplicate_of)| duplicate_of.is_none())
                .map(|(choices, _)| choices.account.id)
                .collect();
            Ok((accounts, counted))
        })?;
        if counted.is_empty() && accounts > 0 {
            return Ok(None);
        }
        // Every account counts: no account condition, so the list keeps its plain date-index plan.
        if counted.len() < accounts {
            filter.accounts = counted;
        }
        Ok(Some(filter))
    }

    /// A page of transactions, newest first, with the count and sum of the whole filtered set on the
    /// first page.
    pub fn transactions(&self, query: &TransactionQuery) -> Result<TransactionPage> {
        let filter = self.scoped_filter(query)?;
        let after = query.after.as_deref().map(parse_cursor).transpose()?;
        let limit = query.limit.unwrap_or(DEFAULT_PAGE);
        if limit == 0 || limit > MAX_PAGE {
            return Err(invalid("page size", &limit.to_string(), &format!("1 to {MAX_PAGE}")));
        }
        let Some(filter) = filter else {
            return Ok(TransactionPage {
                transactions: Vec::new(),
                next: None,
                totals: after.is_none().then(Vec::new),
            });
        };
        self.with_store(|store| {
            let mut rows = store.transactions(&filter, after, limit + 1)?;
            let more = rows.len() > limit as usize;
            rows.truncate(limit as usize);
            let next = more.then(|| rows.last().map(|(id, t)| cursor(t.booking_date, *id))).flatten();
            let balances = store.running_balances(&store.accounts()?, &rows, filter.keeps_runs_of_bookings())?;
            let totals = match after {
                None => Some(totals_dto(store.transaction_totals(&filter)?)),
                Some(_) => None,
            };
            Ok(TransactionPage {
                transactions: rows
                    .iter()
                    .zip(balances)
                    .map(|((id, t), balance)| TransactionRow::from_domain(*id, t, balance))
                    .collect(),
                next,
                totals,
            })
        })
    }

    /// Count and exact sum per currency of every transaction the query matches (paging ignored).
    pub fn transaction_totals(&self, query: &TransactionQuery) -> Result<Vec<TransactionTotal>> {
        let Some(filter) = self.scoped_filter(query)? else { return Ok(Vec::new()) };
        self.with_store(|store| store.transaction_totals(&filter)).map(totals_dto)
    }

    /// One booking with every field and the provider's raw JSON.
    pub fn transaction(&self, id: i64) -> Result<TransactionDetail> {
        self.with_store(|store| {
            let stored = store.transaction(TransactionId(id))?.ok_or_else(|| {
                KontorError::new(ErrorCode::NotFound, format!("There is no transaction {id} in the vault."))
            })?;
            let t = &stored.transaction;
            let accounts = store.accounts()?;
            let running_balance = store
                .running_balances(&accounts, std::slice::from_ref(&(stored.id, t.clone())), false)?
                .pop()
                .flatten()
                .map(|b| b.to_string());
            let account = accounts.into_iter().find(|a| a.id == t.account_id);
            let bank_name = match &account {
                Some(a) => store.connection(&a.connection_id)?.map(|c| c.bank_name),
                None => None,
            };
            Ok(TransactionDetail {
                id: stored.id.0,
                account_id: t.account_id.to_string(),
                account_name: account.map(|a| a.name),
                bank_name,
                provider_id: t.provider_id.clone(),
                booking_date: t.booking_date.to_string(),
                value_date: t.value_date.map(|d| d.to_string()),
                amount: t.amount.amount.to_string(),
                currency: t.amount.currency.to_string(),
                status: t.status,
                counterparty_name: t.counterparty.name.clone(),
                counterparty_iban: t.counterparty.iban.clone(),
                counterparty_bic: t.counterparty.bic.clone(),
                purpose: t.purpose.clone(),
                kind: t.kind.clone(),
                running_balance,
                raw: t.raw.clone(),
                first_seen_at: stored.first_seen_at.map(|at| at.to_rfc3339()),
                updated_at: stored.updated_at.map(|at| at.to_rfc3339()),
                pending_match: stored.pending_match.clone(),
            })
        })
    }

    /// Income and spending per account and month of the transactions the query matches, oldest
    /// month first (for the account page's bars).
    pub fn monthly_flows(&self, query: &TransactionQuery) -> Result<Vec<MonthlyFlow>> {
        let Some(filter) = self.scoped_filter(query)? else { return Ok(Vec::new()) };
        let sums = self.with_store(|store| store.monthly_sums(&filter))?;
        Ok(sums
            .into_iter()
            .map(|m| MonthlyFlow {
                account_id: m.account_id.to_string(),
                month: m.month,
                currency: m.currency.to_string(),
                count: m.count,
                income: m.income.to_string(),
                spending: m.spending.to_string(),
            })
            .collect())
    }

    /// An account's booked balance at the end of each month, from its first booking to the date of
    /// its last known balance, oldest first: the known balance, less the booked transactions after
    /// each month's end. Empty when the bank reported no balance.
    pub fn balance_history(&self, account_id: &str) -> Result<Vec<BalancePoint>> {
        let id = AccountId::from(account_id);
        let (balance, sums) = self.with_store(|store| {
            let account = store.accounts()?.into_iter().find(|a| a.id == id).ok_or_else(|| {
                KontorError::new(ErrorCode::NotFound, format!("There is no account {account_id} in the vault."))
            })?;
            let Some((balance, on)) = account.balance_booked.zip(account.balance_booked_date) else {
                return Ok((None, Vec::new()));
            };
            let filter = TransactionFilter {
                accounts: vec![id.clone()],
                to: Some(on),
                status: Some(BookingStatus::Booked),
                ..TransactionFilter::default()
            };
            Ok((Some((balance.amount, on)), store.monthly_sums(&filter)?))
        })?;
        let Some((mut balance, on)) = balance else { return Ok(Vec::new()) };
        let mut net: BTreeMap<String, Decimal> = BTreeMap::new();
        for m in sums {
            *net.entry(m.month).or_default() += m.income + m.spending;
        }
        let mut points = vec![BalancePoint { date: on.to_string(), balance: balance.to_string() }];
        let first = net.keys().next().and_then(|m| NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d").ok());
        let Some(first) = first else { return Ok(points) };
        let mut month_start = on.with_day(1).unwrap_or(on);
        while month_start >= first {
            let key = format!("{:04}-{:02}", month_start.year(), month_start.month());
            balance -= net.get(&key).copied().unwrap_or_default();
            let Some(end_before) = month_start.pred_opt() else { break };
            points.push(BalancePoint { date: end_before.to_string(), balance: balance.to_string() });
            month_start = end_before.with_day(1).unwrap_or(end_before);
        }
        points.reverse();
        Ok(points)
    }

    /// Writes every transaction the query matches (paging ignored) in the list's order (newest first
    /// unless `oldest_first`), as CSV (the format `docs/cli.md` describes) or a JSON array; returns how
    /// many were written.
    pub fn export_transactions(
        &self,
        query: &TransactionQuery,
        format: ExportFormat,
        locale: ExportLocale,
        out: &mut dyn Write,
    ) -> Result<u64> {
        let filter = self.scoped_filter(query)?;
        let choices = self.with_store(|store| store.accounts_with_choices())?;
        let names: BTreeMap<String, String> =
            choices.iter().map(|a| (a.account.id.to_string(), a.shown_name().to_owned())).collect();
        let accounts: Vec<Account> = choices.into_iter().map(|a| a.account).collect();
        let io = |e: std::io::Error| KontorError::new(ErrorCode::Io, format!("Could not write the export: {e}"));
        let mut written = 0u64;
        let mut after = None;
        match format {
            ExportFormat::Csv => out.write_all(format!("{CSV_BOM}{}", csv_header(locale)).as_bytes()).map_err(io)?,
            ExportFormat::Json => out.write_all(b"[").map_err(io)?,
        }
        while let Some(filter) = &filter {
            let (rows, balances) = self.with_store(|store| {
                let rows = store.transactions(filter, after, MAX_PAGE)?;
                let balances = store.running_balances(&accounts, &rows, filter.keeps_runs_of_bookings())?;
                Ok((rows, balances))
            })?;
            let Some((last_id, last)) = rows.last() else { break };
            after = Some(Keyset { booking_date: last.booking_date, id: *last_id });
            for ((id, t), balance) in rows.iter().zip(balances) {
                let row = TransactionRow::from_domain(*id, t, balance);
                let line = match format {
                    ExportFormat::Csv => csv_line(&row, names.get(&row.account_id).map(String::as_str), locale),
                    ExportFormat::Json => {
                        let json = serde_json::to_string(&row)
                            .map_err(|e| KontorError::internal(format!("Cannot write a transaction as JSON: {e}")))?;
                        format!("{}\n{json}", if written == 0 { "" } else { "," })
                    }
                };
                out.write_all(line.as_bytes()).map_err(io)?;
                written += 1;
            }
            if rows.len() < MAX_PAGE as usize {
                break;
            }
        }
        if format == ExportFormat::Json {
            out.write_all(b"\n]\n").map_err(io)?;
        }
        out.flush().map_err(io)?;
        Ok(written)
    }
}

fn separator(locale: ExportLocale) -> char {
    match locale {
        ExportLocale::De => ';',
        ExportLocale::En => ',',
    }
}

/// The export's columns, each with its header in English and in German, in file order.
const CSV_COLUMNS: [(&str, &str); 13] = [
    ("Booking date", "Buchungstag"),
    ("Value date", "Wertstellung"),
    ("Account", "Konto"),
    ("Account ID", "Konto-ID"),
    ("Amount", "Betrag"),
    ("Currency", "Währung"),
    ("Balance after", "Saldo danach"),
    ("Status", "Status"),
    ("Counterparty", "Zahlungsbeteiligter"),
    ("Counterparty IBAN", "IBAN Zahlungsbeteiligter"),
    ("Purpose", "Verwendungszweck"),
    ("Kind", "Buchungsart"),
    ("ID", "ID"),
];

/// Starts the file, so spreadsheet programs read it as UTF-8 (umlauts) without asking.
const CSV_BOM: &str = "\u{feff}";

fn csv_header(locale: ExportLocale) -> String {
    let sep = separator(locale);
    let names = CSV_COLUMNS.iter().map(|(en, de)| match locale {
        ExportLocale::De => csv_field(de, sep),
        ExportLocale::En => csv_field(en, sep),
    });
    let mut line = names.collect::<Vec<_>>().join(&sep.to_string());
    line.push_str("\r\n");
    line
}

/// A CSV field: quoted (with `"` doubled) when it holds the separator, a quote or a line break.
fn csv_field(value: &str, sep: char) -> String {
    if value.contains([sep, '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

/// An amount with at least two decimal places (never fewer than stored: no rounding), in the locale's
/// decimal mark and without grouping.
fn csv_amount(amount: &str, locale: ExportLocale) -> String {
    let text = match amount.parse::<Decimal>() {
        Ok(mut value) => {
            if value.scale() < 2 {
                value.rescale(2);
            }
            value.to_string()
        }
        Err(_) => amount.to_owned(),
    };
    match locale {
        ExportLocale::De => text.replace('.', ","),
        ExportLocale::En => text,
    }
}

fn csv_line(row: &TransactionRow, account_name: Option<&str>, locale: ExportLocale) -> String {
    let sep = separator(locale);
    let status = match (row.status, locale) {
        (BookingStatus::Booked, ExportLocale::De) => "gebucht",
        (BookingStatus::Pending, ExportLocale::De) => "vorgemerkt",
        (status, ExportLocale::En) => status.as_str(),
    };
    let fields = [
        row.booking_date.clone(),
        row.value_date.clone().unwrap_or_default(),
        account_name.unwrap_or_default().to_owned(),
        row.account_id.clone(),
        csv_amount(&row.amount, locale),
        row.currency.clone(),
        row.running_balance.as_deref().map(|b| csv_amount(b, locale)).unwrap_or_default(),
        status.to_owned(),
        row.counterparty_name.clone().unwrap_or_default(),
        row.counterparty_iban.clone().unwrap_or_default(),
        row.purpose.clone().unwrap_or_default(),
        row.kind.clone().unwrap_or_default(),
        row.id.to_string(),
    ];
    let mut line = fields.iter().map(|f| csv_field(f, sep)).collect::<Vec<_>>().join(&sep.to_string());
    line.push_str("\r\n");
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rows of the shared export fixture, which the UI's Vitest test (lib/transactions/csv.test.ts)
    /// writes with the same expected files.
    #[derive(Deserialize)]
    struct ExportFixture {
        account_names: BTreeMap<String, String>,
        rows: Vec<TransactionRow>,
    }

    fn fixture_csv(locale: ExportLocale) -> String {
        let fixture: ExportFixture =
            serde_json::from_str(include_str!("../../../../ui/src/lib/transactions/export-fixture/rows.json"))
                .unwrap_or_else(|e| panic!("rows.json: {e}"));
        let mut csv = format!("{CSV_BOM}{}", csv_header(locale));
        for row in &fixture.rows {
            csv.push_str(&csv_line(row, fixture.account_names.get(&row.account_id).map(String::as_str), locale));
        }
        csv
    }

    #[test]
    fn csv_matches_the_shared_fixture_in_german_and_english() {
        assert_eq!(
            fixture_csv(ExportLocale::De),
            include_str!("../../../../ui/src/lib/transactions/export-fixture/de.csv")
        );
        assert_eq!(
            fixture_csv(ExportLocale::En),
            include_str!("../../../../ui/src/lib/transactions/export-fixture/en.csv")
        );
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let day = NaiveDate::from_ymd_opt(2026, 1, 31).unwrap_or_default();
        let keyset = parse_cursor(&cursor(day, TransactionId(42))).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(keyset, Keyset { booking_date: day, id: TransactionId(42) });
        for bad in ["", "2026-01-31", "2026-13-01_4", "2026-01-31_x", "_1"] {
            assert_eq!(parse_cursor(bad).map_err(|e| e.code), Err(ErrorCode::InvalidInput), "{bad}");
        }
    }
}
