//! `kontor connections`, `accounts`, `transactions`, `flows`: what is in the vault. These commands never
//! talk to a bank.

use clap::Args;
use kontor_core::api::dto::{AccountSummary, ConnectionSummary};
use kontor_core::api::link_dto::{PendingFlow, StoredIncomeReport};
use kontor_core::domain::{AccountId, BookingStatus};
use kontor_core::provider::finx::{ReportFigures, ReportGroup};
use serde::Serialize;

use super::{CommandFailure, print_result, print_text};
use crate::session::{Globals, Session};

#[derive(Debug, Args)]
pub struct TransactionsArgs {
    /// Only this account (an id from `kontor accounts`).
    #[arg(long, value_name = "ID")]
    account: Option<String>,
    /// At most this many, newest first.
    #[arg(long, value_name = "N", default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    limit: u32,
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

/// One booking as the CLI prints it. Amounts are decimal strings, dates `YYYY-MM-DD`.
#[derive(Debug, Serialize)]
pub struct TransactionLine {
    pub id: i64,
    pub account_id: String,
    pub booking_date: String,
    pub value_date: Option<String>,
    pub amount: String,
    pub currency: String,
    pub status: BookingStatus,
    pub counterparty_name: Option<String>,
    pub counterparty_iban: Option<String>,
    pub purpose: Option<String>,
    pub kind: Option<String>,
}

#[derive(Debug, Serialize)]
struct Transactions<'a> {
    transactions: &'a [TransactionLine],
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
    let account = args.account.as_deref().map(AccountId::from);
    let rows = session.kontor.with_store(|s| s.transactions_page(account.as_ref(), None, args.limit))?;
    let _ = session.kontor.close();
    let lines: Vec<TransactionLine> = rows
        .into_iter()
        .map(|(id, t)| TransactionLine {
            id: id.0,
            account_id: t.account_id.to_string(),
            booking_date: t.booking_date.to_string(),
            value_date: t.value_date.map(|d| d.to_string()),
            amount: t.amount.amount.to_string(),
            currency: t.amount.currency.to_string(),
            status: t.status,
            counterparty_name: t.counterparty.name,
            counterparty_iban: t.counterparty.iban,
            purpose: t.purpose,
            kind: t.kind,
        })
        .collect();
    if globals.json {
        return print_result("transactions", &Transactions { transactions: &lines });
    }
    if lines.is_empty() {
        return print_text("No transactions.");
    }
    for t in &lines {
        let pending = if t.status == BookingStatus::Pending { " (pending)" } else { "" };
        print_text(&format!(
            "{}  {:>10} {}  {}  {}{}",
            t.booking_date,
            t.amount,
            t.currency,
            t.counterparty_name.as_deref().unwrap_or("-"),
            t.purpose.as_deref().unwrap_or(""),
            pending
        ))?;
    }
    Ok(())
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
