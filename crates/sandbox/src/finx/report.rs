//! The income report (finx.md §7.1): `GET /rest/income-reports/{flow_id}` with the token of the income-report
//! flow's code.
//!
//! Computed from the booked rows of the flow's accounts over the **complete calendar months** of the reporting
//! period that the loaded history covers (the generated history is ~6 months, so a 12-month report covers 5).
//! Transfers between the login's own accounts are ignored. Income streams: salary, interest, other credits;
//! regular expenses: direct debits and standing orders, grouped (housing, energy, insurance, media, other);
//! variable expenses: everything else (groceries & drugstores, other). Summaries are per month: `total` over the
//! months, `low`/`high` the smallest/largest month, `average` = total / months, `count` bookings. Expense
//! amounts are positive. `disposable_income` = income − regular expenses; `discretionary_income` = disposable −
//! variable expenses; `ratio` = their total / income total.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::FinxShared;
use super::errors::{FinxError, FinxResult, json_response};
use super::store::{Access, FinxStore};
use super::tokens::authenticate;
use crate::data::BookingKind;
use crate::json::money;

type Month = (i32, u32);

/// One booking that counts for the report.
struct Item {
    month: Month,
    date: NaiveDate,
    amount: Decimal,
    partner: String,
    partner_iban: Option<String>,
}

#[derive(Default)]
struct Group {
    items: Vec<Item>,
}

fn summary(items: &[&Item], months: &[Month]) -> Value {
    let mut per_month: BTreeMap<Month, Decimal> = months.iter().map(|m| (*m, Decimal::ZERO)).collect();
    for item in items {
        *per_month.entry(item.month).or_default() += item.amount.abs();
    }
    let total: Decimal = per_month.values().copied().sum();
    let count = Decimal::from(months.len().max(1));
    json!({
        "total": money(total),
        "low": money(per_month.values().copied().min().unwrap_or_default()),
        "high": money(per_month.values().copied().max().unwrap_or_default()),
        "average": money(total / count),
        "count": items.len(),
    })
}

fn category_id(name: &str) -> String {
    name.to_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect()
}

fn stream(category: (&str, &str), items: &[&Item], months: &[Month]) -> Value {
    let first = items.iter().map(|i| i.date).min();
    let last = items.iter().map(|i| i.date).max();
    let mut partners: BTreeMap<&str, usize> = BTreeMap::new();
    for item in items {
        *partners.entry(item.partner.as_str()).or_default() += 1;
    }
    let partner = partners.iter().max_by_key(|(_, n)| **n).map(|(name, _)| *name).unwrap_or_default();
    let iban = items.iter().find(|i| i.partner == partner).and_then(|i| i.partner_iban.clone());
    json!({
        "category": {"id": category.0, "name": category.1},
        "first_booked_on": first.map(|d| d.format("%Y-%m-%d").to_string()),
        "last_booked_on": last.map(|d| d.format("%Y-%m-%d").to_string()),
        "payment_partner": {"name": partner, "iban": iban},
        "summary": summary(items, months),
    })
}

fn groups_json(groups: &BTreeMap<(String, String), Group>, months: &[Month]) -> Vec<Value> {
    groups
        .iter()
        .map(|((id, name), group)| {
            let items: Vec<&Item> = group.items.iter().collect();
            json!({
                "category": {"id": id, "name": name},
                "summary": summary(&items, months),
                "streams": [stream((id, name), &items, months)],
            })
        })
        .collect()
}

fn per_month(items: &[&Item], months: &[Month]) -> BTreeMap<Month, Decimal> {
    let mut map: BTreeMap<Month, Decimal> = months.iter().map(|m| (*m, Decimal::ZERO)).collect();
    for item in items {
        *map.entry(item.month).or_default() += item.amount.abs();
    }
    map
}

fn remainder_json(values: &BTreeMap<Month, Decimal>, income_total: Decimal) -> Value {
    let total: Decimal = values.values().copied().sum();
    let ratio = if income_total.is_zero() { Decimal::ZERO } else { (total / income_total).round_dp(2) };
    json!({
        "total": money(total),
        "low": money(values.values().copied().min().unwrap_or_default()),
        "high": money(values.values().copied().max().unwrap_or_default()),
        "average": money(total / Decimal::from(values.len().max(1))),
        "ratio": money(ratio),
    })
}

fn all(groups: &BTreeMap<(String, String), Group>) -> Vec<&Item> {
    groups.values().flat_map(|g| g.items.iter()).collect()
}

/// The report of `accesses` for `period` months ending before `today`'s month.
pub fn build(seed: u64, store: &FinxStore, accesses: &[&Access], id: &str, period: u32, today: NaiveDate) -> Value {
    let _ = store;
    let mut months: Vec<Month> = Vec::new();
    let (mut year, mut month) = (today.year(), today.month());
    let loaded_from = accesses.iter().map(|a| a.loaded_from).min().unwrap_or(today);
    for _ in 0..period {
        if month == 1 {
            year -= 1;
            month = 12;
        } else {
            month -= 1;
        }
        let Some(start) = NaiveDate::from_ymd_opt(year, month, 1) else { break };
        if start < loaded_from {
            break;
        }
        months.push((year, month));
    }
    months.reverse();
    let mut income: BTreeMap<(String, String), Group> = BTreeMap::new();
    let mut regular: BTreeMap<(String, String), Group> = BTreeMap::new();
    let mut variable: BTreeMap<(String, String), Group> = BTreeMap::new();
    for access in accesses {
        let own = FinxStore::own_ibans(seed, access);
        for account in &access.accounts {
            for tx in account.txs.iter().filter(|tx| tx.booked) {
                let booking = &tx.booking;
                let month = (booking.booking_date.year(), booking.booking_date.month());
                if !months.contains(&month) {
                    continue;
                }
                let partner_iban = booking.counterpart.as_ref().and_then(|c| c.iban.clone());
                if partner_iban.as_ref().is_some_and(|iban| own.contains(iban)) {
                    continue;
                }
                let partner = booking.counterpart.as_ref().map(|c| c.name.clone()).unwrap_or_default();
                let purpose = booking.purpose.to_lowercase();
                let key = |id: &str, name: &str| (id.to_owned(), name.to_owned());
                let (target, category) = if booking.amount.is_sign_positive() {
                    let category = match booking.kind {
                        BookingKind::Salary => key("income.salary", "Gehalt und Lohn"),
                        BookingKind::Interest => key("income.interest", "Zinsen"),
                        _ => key("income.other", "Sonstige Einnahmen"),
                    };
                    (&mut income, category)
                } else if matches!(booking.kind, BookingKind::DirectDebit | BookingKind::StandingOrder) {
                    let lower = partner.to_lowercase();
                    let category = if purpose.contains("miete") {
                        key("expense.housing", "Wohnen")
                    } else if purpose.contains("strom") || lower.contains("stadtwerke") {
                        key("expense.energy", "Energie")
                    } else if purpose.contains("versicherung") {
                        key("expense.insurance", "Versicherungen")
                    } else if ["telekom", "netflix", "rundfunk", "beitragsservice"]
                        .iter()
                        .any(|word| lower.contains(word) || purpose.contains(word))
                    {
                        key("expense.media", "Telekommunikation und Medien")
                    } else {
                        key(&format!("expense.{}", category_id(&partner)), &partner)
                    };
                    (&mut regular, category)
                } else {
                    let lower = partner.to_lowercase();
                    let grocer = ["rewe", "edeka", "aldi", "lidl", "netto", "dm-drogerie", "rossmann"]
                        .iter()
                        .any(|word| lower.contains(word));
                    let category = if grocer {
                        key("expense.groceries", "Lebensmittel und Drogerie")
                    } else {
                        key("expense.other", "Freizeit und Sonstiges")
                    };
                    (&mut variable, category)
                };
                target.entry(category).or_default().items.push(Item {
                    month,
                    date: booking.booking_date,
                    amount: booking.amount,
                    partner,
                    partner_iban,
                });
            }
        }
    }
    let income_items = all(&income);
    let income_months = per_month(&income_items, &months);
    let regular_months = per_month(&all(&regular), &months);
    let variable_months = per_month(&all(&variable), &months);
    let income_total: Decimal = income_months.values().copied().sum();
    let disposable: BTreeMap<Month, Decimal> = months
        .iter()
        .map(|m| {
            let value =
                income_months.get(m).copied().unwrap_or_default() - regular_months.get(m).copied().unwrap_or_default();
            (*m, value)
        })
        .collect();
    let discretionary: BTreeMap<Month, Decimal> = months
        .iter()
        .map(|m| {
            (*m, disposable.get(m).copied().unwrap_or_default() - variable_months.get(m).copied().unwrap_or_default())
        })
        .collect();
    let streams: Vec<Value> = income
        .iter()
        .map(|((id, name), group)| stream((id, name), &group.items.iter().collect::<Vec<_>>(), &months))
        .collect();
    let primary = income.iter().max_by_key(|(_, group)| group.items.iter().map(|i| i.amount).sum::<Decimal>()).map(
        |((id, name), group)| {
            let items: Vec<&Item> = group.items.iter().collect();
            let mut value = stream((id, name), &items, &months);
            if let Some(object) = value.as_object_mut() {
                object.remove("summary");
            }
            value
        },
    );
    let month_text = |m: &Month| format!("{:04}-{:02}", m.0, m.1);
    json!({
        "id": id,
        "period": period,
        "months": months.iter().map(month_text).collect::<Vec<_>>(),
        "currency": "EUR",
        "income": {
            "summary": summary(&income_items, &months),
            "streams": streams,
            "primary": primary,
        },
        "regular_expenses": groups_json(&regular, &months),
        "variable_expenses": groups_json(&variable, &months),
        "disposable_income": remainder_json(&disposable, income_total),
        "discretionary_income": remainder_json(&discretionary, income_total),
    })
}

/// `GET /rest/income-reports/{report_id}`.
pub async fn get_report(
    State(state): State<FinxShared>,
    Path(report_id): Path<String>,
    headers: HeaderMap,
) -> FinxResult {
    let store = state.store();
    let user = authenticate(&store, &headers)?;
    let period = store
        .users
        .get(&user)
        .and_then(|u| u.report.as_ref())
        .filter(|(id, _)| *id == report_id)
        .map(|(_, period)| *period)
        .ok_or_else(|| FinxError::not_found("Income report"))?;
    let accesses: Vec<&Access> = store.accesses_of(user).collect();
    let body = build(state.seed, &store, &accesses, &report_id, period, state.today);
    Ok(json_response(StatusCode::OK, &body))
}
