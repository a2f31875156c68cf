//! `kontor connections`, `accounts`, `transactions`, `export`, `flows`: what is in the vault. These commands
//! never talk to a bank.

use clap::Args;
use std::path::PathBuf;

use kontor_core::api::dto::{AccountSummary, ConnectionSummary, TransactionQuery, TransactionRow, TransactionTotal};
use kontor_core::api::link_dto::{PendingFlow, StoredIncomeReport};
use kontor_core::api::transactions::{ExportFormat, ExportLocale};
use kontor_core::domain::{BookingStatus, Direction};
use kontor_core::provider::finx::{ReportFigures, ReportGroup};
use kontor_core::{ErrorCode, KontorError};
use serde::Serialize;

use super::{CommandFailure, print_result, print_text};
use crate::session::{Globals, Session};

/// The filters `transactions` and `export` share.
#[derive(Debug, Args)]
pub struct FilterArgs {
    /// Only this account (an id from `kontor accounts`); repeat for several.
    #[arg(long, value_name = "ID")]
    account: Vec<String>,
    /// Booked on or after this day (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    from: Option<String>,
    /// Booked on or before this day (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    to: Option<String>,
    /// Amount at least this (signed: `--min -50` keeps debits up to 50).
    #[arg(long, value_name = "AMOUNT", allow_hyphen_values = true)]
    min: Option<String>,
    /// Amount at most this.
    #[arg(long, value_name = "AMOUNT", allow_hyphen_values = true)]
    max: Option<String>,
    /// Only credits (`in`) or debits (`out`).
    #[arg(long, value_enum)]
    direction: Option<DirectionArg>,
    /// Only booked or only pending transactions.
    #[arg(long, value_enum)]
    status: Option<StatusArg>,
    /// Words to find in counterparty, IBAN, purpose or kind (word prefixes, umlauts folded).
    #[arg(long, value_name = "TEXT")]
    search: Option<String>,
    /// List the oldest bookings first (the cursor then continues toward newer ones).
    #[arg(long)]
    oldest_first: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum DirectionArg {
    In,
    Out,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum StatusArg {
    Booked,
    Pending,
}

impl FilterArgs {
    fn query(&self) -> TransactionQuery {
        TransactionQuery {
            accounts: (!self.account.is_empty()).then(|| self.account.clone()),
            from: self.from.clone(),
            to: self.to.clone(),
            min_amount: self.min.clone(),
            max_amount: self.max.clone(),
            direction: self.direction.map(|d| match d {
                DirectionArg::In => Direction::Incoming,
                DirectionArg::Out => Direction::Outgoing,
            }),
            status: self.status.map(|s| match s {
                StatusArg::Booked => BookingStatus::Booked,
                StatusArg::Pending => BookingStatus::Pending,
            }),
            text: self.search.clone(),
            after: None,
            oldest_first: self.oldest_first.then_some(true),
            amounts_as_magnitudes: None,
            limit: None,
        }
    }
}

#[derive(Debug, Args)]
pub struct TransactionsArgs {
    #[command(flatten)]
    filter: FilterArgs,
    /// Continue after this cursor (the `next` value a previous page printed).
    #[arg(long, value_name = "CURSOR")]
    after: Option<String>,
    /// At most this many, newest first.
    #[arg(long, value_name = "N", default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1000))]
    limit: u32,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    filter: FilterArgs,
    #[arg(long, value_enum)]
    format: FormatArg,
    /// CSV dialect: `de` (`;`, decimal comma) or `en` (`,`, decimal point).
    #[arg(long, value_enum, default_value = "en")]
    locale: LocaleArg,
    /// Write to this file instead of stdout (required with --json).
    #[arg(long, value_name = "PATH")]
    output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum FormatArg {
    Csv,
    Json,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LocaleArg {
    De,
    En,
}

#[derive(Debug, Serialize)]
struct Connections<'a> {
    connections: &'a [ConnectionSummary],
}

#[derive(Debug, Serialize)]
struct Accounts<'a> {
    accounts: &'a [AccountSummary],
}

#[derive(Debug, Serialize)]
struct Flows<'a> {
    flows: &'a [PendingFlow],
}

#[derive(Debug, Serialize)]
struct Transactions<'a> {
    transactions: &'a [TransactionRow],
    /// The cursor for the next page, if there is one.
    next: Option<&'a str>,
    /// How many transactions the filters match in all (not only this page).
    count: u64,
    /// Count and sum of the filtered set per currency.
    totals: &'a [TransactionTotal],
}

#[derive(Debug, Serialize)]
struct Exported<'a> {
    format: &'a str,
    path: String,
    count: u64,
}

pub fn connections(globals: &Globals) -> Result<(), CommandFailure> {
    let session = Session::open(globals)?;
    let overview = session.kontor.overview()?;
    let _ = session.kontor.close();
    if globals.json {
        return print_result("connections", &Connections { connections: &overview.connections });
    }
    if overview.connections.is_empty() {
        return print_text("No bank is linked yet; try `kontor link --bank 280001` (the Demo Bank).");
    }
    for c in &overview.connections {
        print_text(&format!(
            "{}  {}  {:?}  last synced {}  consent until {}",
            c.id,
            c.bank_name,
            c.status,
            c.last_synced_at.as_deref().unwrap_or("never"),
            c.consent_expires_at.as_deref().unwrap_or("-")
        ))?;
    }
    Ok(())
}

pub fn accounts(globals: &Globals) -> Result<(), CommandFailure> {
    let session = Session::open(globals)?;
    let overview = session.kontor.overview()?;
    let _ = session.kontor.close();
    if globals.json {
        return print_result("accounts", &Accounts { accounts: &overview.accounts });
    }
    if overview.accounts.is_empty() {
        return print_text("No accounts yet.");
    }
    for a in &overview.accounts {
        print_text(&format!(
            "{}  {:<16} {:<24} {:>12} {}  {}",
            a.id,
            a.bank_name,
            a.name,
            a.balance_booked.as_deref().unwrap_or("-"),
            a.currency,
            a.iban.as_deref().unwrap_or("")
        ))?;
    }
    for total in &overview.totals {
        print_text(&format!("total {} {}", total.amount, total.currency))?;
    }
    Ok(())
}

pub fn transactions(args: TransactionsArgs, globals: &Globals) -> Result<(), CommandFailure> {
    let session = Session::open(globals)?;
    let query = TransactionQuery { after: args.after.clone(), limit: Some(args.limit), ..args.filter.query() };
    let outcome = session.kontor.transactions(&query).and_then(|page| match page.totals.clone() {
        Some(totals) => Ok((page, totals)),
        None => session.kontor.transaction_totals(&query).map(|totals| (page, totals)),
    });
    let _ = session.kontor.close();
    let (page, totals) = outcome?;
    let count = totals.iter().map(|t| t.count).sum();
    if globals.json {
        return print_result(
            "transactions",
            &Transactions { transactions: &page.transactions, next: page.next.as_deref(), count, totals: &totals },
        );
    }
    if page.transactions.is_empty() {
        print_text("No transactions.")?;
    }
    for t in &page.transactions {
        let pending = if t.status == BookingStatus::Pending { " (pending)" } else { "" };
        let balance = t.running_balance.as_deref().map(|b| format!("  [balance {b}]")).unwrap_or_default();
        print_text(&format!(
            "{}  {:>10} {}  {}  {}{}{}",
            t.booking_date,
            t.amount,
            t.currency,
            t.counterparty_name.as_deref().unwrap_or("-"),
            t.purpose.as_deref().unwrap_or(""),
            pending,
            balance
        ))?;
    }
    let sums: Vec<String> = totals.iter().map(|t| format!("{} {}", t.sum, t.currency)).collect();
    let sums = if sums.is_empty() { "0".to_owned() } else { sums.join(", ") };
    print_text(&format!("{count} transactions match, sum {sums}"))?;
    if let Some(next) = &page.next {
        print_text(&format!("more: add --after {next}"))?;
    }
    Ok(())
}

/// `kontor export`: every transaction the filters match, as CSV or JSON, to a file or stdout.
pub fn export(args: ExportArgs, globals: &Globals) -> Result<(), CommandFailure> {
    if globals.json && args.output.is_none() {
        return Err(CommandFailure::InvalidInput(
            "With --json, stdout carries only JSON lines: give the export a file with --output.".into(),
        ));
    }
    let format = match args.format {
        FormatArg::Csv => ExportFormat::Csv,
        FormatArg::Json => ExportFormat::Json,
    };
    let locale = match args.locale {
        LocaleArg::De => ExportLocale::De,
        LocaleArg::En => ExportLocale::En,
    };
    let session = Session::open(globals)?;
    let query = args.filter.query();
    let outcome = match &args.output {
        Some(path) => std::fs::File::create(path)
            .map_err(|e| KontorError::new(ErrorCode::Io, format!("Cannot create {}: {e}", path.display())))
            .and_then(|file| {
                let mut out = std::io::BufWriter::new(file);
                session.kontor.export_transactions(&query, format, locale, &mut out)
            }),
        None => session.kontor.export_transactions(&query, format, locale, &mut std::io::stdout().lock()),
    };
    let _ = session.kontor.close();
    let count = outcome?;
    let Some(path) = &args.output else { return Ok(()) };
    let format = match format {
        ExportFormat::Csv => "csv",
        ExportFormat::Json => "json",
    };
    if globals.json {
        return print_result("exported", &Exported { format, path: path.display().to_string(), count });
    }
    print_text(&format!("Wrote {count} transactions to {}.", path.display()))
}

pub fn flows(globals: &Globals) -> Result<(), CommandFailure> {
    let session = Session::open(globals)?;
    let flows = session.kontor.pending_flows()?;
    let _ = session.kontor.close();
    if globals.json {
        return print_result("flows", &Flows { flows: &flows });
    }
    if flows.is_empty() {
        return print_text("No bank authentication is waiting.");
    }
    for f in &flows {
        let waiting = f.request.as_ref().map(describe_request).unwrap_or("working");
        print_text(&format!(
            "{}  {} {}  waiting for: {}  expires {}",
            f.flow_id, f.purpose, f.bank_name, waiting, f.expires_at
        ))?;
    }
    Ok(())
}

fn describe_request(request: &kontor_core::sca::UserRequest) -> &'static str {
    use kontor_core::sca::UserRequest as R;
    match request {
        R::EnterCredentials { .. } => "login",
        R::SelectAccounts { .. } => "accounts",
        R::ChooseProcedure { .. } => "TAN method",
        R::EnterTan { .. } => "TAN",
        R::OpenBrowser { .. } => "bank redirect (`kontor callback URL`)",
        R::ApproveInApp { .. } => "approval in the banking app",
    }
}

#[derive(Debug, Serialize)]
struct IncomeReports<'a> {
    reports: &'a [StoredIncomeReport],
}

#[derive(Debug, Serialize)]
struct OneReport<'a> {
    report: &'a StoredIncomeReport,
}

/// `kontor income-report [ID]`: the stored finX income reports, or one of them in full.
pub fn income_report(id: Option<&str>, globals: &Globals) -> Result<(), CommandFailure> {
    let session = Session::open(globals)?;
    let outcome = match id {
        Some(id) => session.kontor.income_report(id).map(|r| vec![r]),
        None => session.kontor.income_reports(),
    };
    let _ = session.kontor.close();
    let reports = outcome?;
    match (id, globals.json) {
        (Some(_), true) => match reports.first() {
            Some(report) => print_result("income_report", &OneReport { report }),
            None => Ok(()),
        },
        (None, true) => print_result("income_reports", &IncomeReports { reports: &reports }),
        (Some(_), false) => reports.first().map_or(Ok(()), print_income_report),
        (None, false) => {
            if reports.is_empty() {
                return print_text("No income report yet; make one with `kontor link --flow income-report`.");
            }
            for r in &reports {
                let disposable = r.report.disposable_income.as_ref().and_then(|f| f.average.or(f.total));
                print_text(&format!(
                    "{}  {}  {} months  disposable {}",
                    r.id,
                    r.created_at,
                    r.report.period_months.map_or("?".to_owned(), |m| m.to_string()),
                    disposable.map_or("-".to_owned(), |d| d.to_string())
                ))?;
            }
            Ok(())
        }
    }
}

fn figures(f: Option<&ReportFigures>) -> String {
    let Some(f) = f else { return "-".to_owned() };
    let show = |d: Option<rust_decimal::Decimal>| d.map_or("-".to_owned(), |d| d.to_string());
    format!("total {}, average {}", show(f.total), show(f.average))
}

fn groups(title: &str, list: &[ReportGroup]) -> Result<(), CommandFailure> {
    print_text(title)?;
    if list.is_empty() {
        print_text("  (none)")?;
    }
    for g in list {
        print_text(&format!("  {}: {}", g.category.as_deref().unwrap_or("other"), figures(g.summary.as_ref())))?;
    }
    Ok(())
}

/// A report for people.
pub fn print_income_report(r: &StoredIncomeReport) -> Result<(), CommandFailure> {
    let report = &r.report;
    let currency = report.currency.as_deref().unwrap_or("EUR");
    print_text(&format!(
        "Income report {} ({} months, {currency}, fetched {})",
        r.id,
        report.period_months.map_or("?".to_owned(), |m| m.to_string()),
        r.created_at
    ))?;
    print_text(&format!("Income: {}", figures(report.income.summary.as_ref())))?;
    for s in &report.income.streams {
        print_text(&format!(
            "  {} from {}: {}",
            s.category.as_deref().unwrap_or("income"),
            s.payment_partner.as_deref().unwrap_or("?"),
            figures(s.summary.as_ref())
        ))?;
    }
    groups("Regular expenses:", &report.regular_expenses)?;
    groups("Variable expenses:", &report.variable_expenses)?;
    print_text(&format!("Disposable income: {}", figures(report.disposable_income.as_ref())))
}
