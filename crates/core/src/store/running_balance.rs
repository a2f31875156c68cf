//! An account's balance after each booking, for the rows of a page, without reading the account's
//! history.
//!
//! Concepts and invariants:
//!
//! - **Anchor.** The bank reports the booked balance `B` on a day `on` (the sync's day). Bookings
//!   are ordered by `(booking_date, id)`, the list order. With `tail(k)` the sum of the account's
//!   booked amounts ordered after key `k`, the balance after booking `r` is
//!   `B + tail(end of on) − tail(r)`: the anchor, less what was booked after `r` up to `on` (plus
//!   what was booked after `on` up to `r`, when a row is dated after the balance).
//! - **Cost that does not grow with the account.** `tail(k)` is the sum of whole months after `k`'s
//!   month from `transaction_months`, of the later days of `k`'s month from `transaction_days` (a
//!   few dozen summary rows in all), and of the rows of `k`'s own day after `k`, a range of
//!   `transactions_by_account_date`. Rows of one account and day that follow each other in a page
//!   reuse the previous row's tail and only add the rows between them.
//! - **Only where it is exact.** Pending rows have no balance after them (they are not booked).
//!   An account without a reported balance, with booked rows in another currency than its balance,
//!   or with an amount that has no exact minor units gets none: a wrong balance is worse than none.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;

use chrono::{Datelike, NaiveDate};
use rusqlite::types::Value;
use rust_decimal::Decimal;

use super::Store;
use super::transactions::{from_minor_units, minor_units};
use crate::domain::{Account, AccountId, BookingStatus, Transaction, TransactionId};
use crate::error::Result;

/// The booked amounts of one account and currency between two keys: a range of
/// `transactions_by_account_date`, whose trailing columns answer the rest without the table.
const BOOKED_BETWEEN: &str = "SELECT coalesce(sum(amount_minor), 0), count(*) - count(amount_minor) FROM transactions
     WHERE account_id = ?1 AND (booking_date, id) > (?2, ?3) AND (booking_date, id) <= (?4, ?5)
       AND status = 'booked' AND currency = ?6";

/// The net booked amount of one account and currency on the days after `?3` up to `?4`.
const DAYS_BETWEEN: &str = "SELECT coalesce(sum(net_minor), 0), coalesce(sum(inexact), 0) FROM transaction_days
     WHERE account_id = ?1 AND currency = ?2 AND day > ?3 AND day <= ?4";

/// A position in the list order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    date: NaiveDate,
    id: i64,
}

impl Key {
    fn of(id: TransactionId, t: &Transaction) -> Self {
        Self { date: t.booking_date, id: id.0 }
    }

    /// After every booking of `date`'s month.
    fn end_of_month(date: NaiveDate) -> Self {
        let next = if date.month() == 12 {
            NaiveDate::from_ymd_opt(date.year() + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(date.year(), date.month() + 1, 1)
        };
        let last = next.and_then(|d| d.pred_opt()).unwrap_or(date);
        Self { date: last, id: i64::MAX }
    }

    /// After every booking of `date`.
    fn end_of_day(date: NaiveDate) -> Self {
        Self { date, id: i64::MAX }
    }

    fn month(self) -> String {
        format!("{:04}-{:02}", self.date.year(), self.date.month())
    }
}

/// What one account's balances are computed from.
struct Anchor {
    account: AccountId,
    currency: String,
    /// `B + tail(end of on)`, in minor units.
    base: i64,
    /// Net booked amount per month (`YYYY-MM`), in minor units.
    months: BTreeMap<String, i64>,
}

impl Store {
    /// The balance after each of `rows` (in any order), `None` where it is not known exactly
    /// (see the module docs). `accounts` are the vault's accounts, for their reported balances.
    /// `contiguous`: `rows` hold every booked row of each account between that account's first and
    /// last row in `rows` (a page of a filter on nothing but accounts, dates and status); each
    /// balance then follows from the one before without reading anything.
    pub fn running_balances(
        &self,
        accounts: &[Account],
        rows: &[(TransactionId, Transaction)],
        contiguous: bool,
    ) -> Result<Vec<Option<Decimal>>> {
        let mut balances = vec![None; rows.len()];
        let mut by_account: HashMap<&AccountId, Vec<usize>> = HashMap::new();
        for (i, (_, t)) in rows.iter().enumerate() {
            if t.status == BookingStatus::Booked {
                by_account.entry(&t.account_id).or_default().push(i);
            }
        }
        for (account_id, mut indexes) in by_account {
            let Some(account) = accounts.iter().find(|a| &a.id == account_id) else { continue };
            let Some(anchor) = self.anchor(account)? else { continue };
            indexes.sort_by_key(|&i| std::cmp::Reverse(Key::of(rows[i].0, &rows[i].1)));
            let mut previous: Option<(Key, i64, Option<i64>)> = None;
            for i in indexes {
                let (id, t) = &rows[i];
                if t.amount.currency.as_str() != anchor.currency {
                    continue;
                }
                let key = Key::of(*id, t);
                let tail = match previous {
                    Some((_, newer_tail, Some(newer_amount))) if contiguous => Some(newer_tail + newer_amount),
                    Some((newer, newer_tail, _)) if newer.date == key.date => {
                        self.booked_between(&anchor, key, newer)?.map(|between| newer_tail + between)
                    }
                    _ => self.tail(&anchor, key)?,
                };
                let Some(tail) = tail else { break };
                balances[i] = Some(from_minor_units(anchor.base - tail));
                previous = Some((key, tail, minor_units(t.amount.amount)));
            }
        }
        Ok(balances)
    }

    /// `EXPLAIN QUERY PLAN` of the two range sums behind every balance, for tests and diagnostics.
    pub fn running_balance_plan(&self) -> Result<Vec<String>> {
        let day = Value::Text("2026-01-01".to_owned());
        let params = vec![
            Value::Text("account".to_owned()),
            day.clone(),
            Value::Integer(0),
            day,
            Value::Integer(i64::MAX),
            Value::Text("EUR".to_owned()),
        ];
        let mut plan = self.explain(BOOKED_BETWEEN, params)?;
        let days = ["account", "EUR", "2026-01-01", "2026-01-31"].map(|v| Value::Text(v.to_owned())).to_vec();
        plan.extend(self.explain(DAYS_BETWEEN, days)?);
        Ok(plan)
    }

    /// The account's anchor, or `None` when its balances cannot be exact.
    fn anchor(&self, account: &Account) -> Result<Option<Anchor>> {
        let (Some(balance), Some(on)) = (account.balance_booked, account.balance_booked_date) else {
            return Ok(None);
        };
        let Some(balance_minor) = minor_units(balance.amount) else { return Ok(None) };
        let currency = balance.currency.as_str().to_owned();
        let groups = self.query_all(
            "SELECT month, currency, income_minor + spending_minor, inexact FROM transaction_months
             WHERE account_id = ?1 AND status = 'booked' AND count > 0",
            [account.id.as_str()],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?, r.get::<_, i64>(3)?)),
        )?;
        if groups.iter().any(|(_, c, _, inexact)| *c != currency || *inexact > 0) {
            return Ok(None);
        }
        let months = groups.into_iter().map(|(month, _, net, _)| (month, net)).collect();
        let mut anchor = Anchor { account: account.id.clone(), currency, base: 0, months };
        let Some(after_balance) = self.tail(&anchor, Key::end_of_day(on))? else { return Ok(None) };
        anchor.base = balance_minor + after_balance;
        Ok(Some(anchor))
    }

    /// The sum of the booked amounts after `key`: the later months and the later days of its month
    /// from the summaries, and the rest of its own day.
    fn tail(&self, anchor: &Anchor, key: Key) -> Result<Option<i64>> {
        let month = key.month();
        let later_months: i64 = anchor
            .months
            .range::<str, _>((Bound::Excluded(month.as_str()), Bound::Unbounded))
            .map(|(_, net)| net)
            .sum();
        let later_days = self.query_all(
            DAYS_BETWEEN,
            rusqlite::params![
                anchor.account.as_str(),
                anchor.currency,
                key.date.to_string(),
                Key::end_of_month(key.date).date.to_string()
            ],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
        )?;
        let later_days = match later_days.first() {
            Some((sum, 0)) => *sum,
            Some(_) => return Ok(None),
            None => 0,
        };
        let rest_of_day = self.booked_between(anchor, key, Key::end_of_day(key.date))?;
        Ok(rest_of_day.map(|rest| later_months + later_days + rest))
    }

    /// The sum of the booked amounts ordered after `from` up to and including `to`; `None` if one
    /// has no exact minor units.
    fn booked_between(&self, anchor: &Anchor, from: Key, to: Key) -> Result<Option<i64>> {
        let sums = self.query_all(
            BOOKED_BETWEEN,
            rusqlite::params![
                anchor.account.as_str(),
                from.date.to_string(),
                from.id,
                to.date.to_string(),
                to.id,
                anchor.currency
            ],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
        )?;
        Ok(match sums.first() {
            Some((sum, 0)) => Some(*sum),
            Some(_) => None,
            None => Some(0),
        })
    }
}
