//! Synchronisation: plan (pure, with reconciliation) → apply (one database transaction) → journal.
//!
//! [`plan`] compares what a provider sent ([`FetchedAccount`], [`FetchedTransaction`]) with what the
//! vault holds for one connection and decides, without I/O:
//!
//! - accounts: matched on the provider's account id (never on IBAN or number, which can change); an
//!   unknown one gets a new [`AccountId`];
//! - transactions: matched on the provider's id first; failing that, a *pending* row of the same
//!   account with the same amount and counterparty, booked at most [`PENDING_MATCH_DAYS`] apart, is
//!   taken over by the booked row (pending → booked); otherwise the row is new. Rows whose content
//!   did not change are left alone and not counted.
//!
//! [`crate::store::Store::apply_sync`] writes a [`Plan`] in one transaction together with the
//! connection's new state and a `sync_journal` row: a crash leaves the old or the new state, never
//! half of it.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;

use crate::domain::{Account, AccountId, ConnectionId, Money, Transaction, TransactionId};
use crate::provider::{FetchedAccount, FetchedTransaction};

/// How far apart a pending row and its booked successor may be.
pub const PENDING_MATCH_DAYS: i64 = 7;

/// What a sync will write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Every fetched account, with its vault id (new or existing).
    pub accounts: Vec<Account>,
    pub inserts: Vec<Transaction>,
    /// Existing rows (by row id) with their new content.
    pub updates: Vec<(TransactionId, Transaction)>,
    pub unchanged: usize,
    /// Fetched rows of accounts the provider did not list.
    pub orphans: usize,
    /// Accounts whose last download failed at the provider.
    pub failed_accounts: Vec<String>,
    /// Existing rows (by row id) the provider says are gone (finX's `deleted` list): deleted locally.
    pub removals: Vec<TransactionId>,
}

impl Plan {
    pub fn added(&self) -> u32 {
        u32::try_from(self.inserts.len()).unwrap_or(u32::MAX)
    }

    pub fn updated(&self) -> u32 {
        u32::try_from(self.updates.len()).unwrap_or(u32::MAX)
    }

    pub fn removed(&self) -> u32 {
        u32::try_from(self.removals.len()).unwrap_or(u32::MAX)
    }
}

/// Splits a connection's rows into those the provider reported deleted (by provider id, e.g. finX's
/// `deleted` list) and the rest. Pure; plan with the rest, then put the removed row ids into
/// [`Plan::removals`], so a deleted pending row is never taken over by its booked successor.
pub fn split_deleted(
    existing: Vec<(TransactionId, Transaction)>,
    deleted_provider_ids: &[String],
) -> (Vec<(TransactionId, Transaction)>, Vec<TransactionId>) {
    if deleted_provider_ids.is_empty() {
        return (existing, Vec::new());
    }
    let deleted: HashSet<&str> = deleted_provider_ids.iter().map(String::as_str).collect();
    let (gone, kept): (Vec<_>, Vec<_>) =
        existing.into_iter().partition(|(_, t)| deleted.contains(t.provider_id.as_str()));
    (kept, gone.into_iter().map(|(id, _)| id).collect())
}

fn same_content(a: &Transaction, b: &Transaction) -> bool {
    Transaction { raw: None, ..a.clone() } == Transaction { raw: None, ..b.clone() }
}

/// Plans a sync of one connection. `new_id` makes ids for accounts seen for the first time.
pub fn plan(
    connection_id: &ConnectionId,
    existing_accounts: &[Account],
    existing_transactions: &[(TransactionId, Transaction)],
    fetched_accounts: &[FetchedAccount],
    fetched_transactions: &[FetchedTransaction],
    today: NaiveDate,
    mut new_id: impl FnMut() -> AccountId,
) -> Plan {
    let mut plan = Plan::default();
    let mut account_by_provider: HashMap<&str, Account> = HashMap::new();
    for fetched in fetched_accounts {
        let existing = existing_accounts.iter().find(|a| a.provider_account_id == fetched.provider_account_id);
        let account = Account {
            id: existing.map(|a| a.id.clone()).unwrap_or_else(&mut new_id),
            connection_id: connection_id.clone(),
            provider_account_id: fetched.provider_account_id.clone(),
            iban: fetched.iban.clone(),
            name: fetched.name.clone(),
            holder: fetched.holder.clone(),
            account_type: fetched.account_type,
            currency: fetched.currency,
            balance_booked: fetched.balance.map(|b| Money::new(b, fetched.currency)),
            balance_booked_date: fetched.balance.map(|_| today),
            balance_available: fetched.available.map(|b| Money::new(b, fetched.currency)),
            balance_available_date: fetched.available.map(|_| today),
        };
        if fetched.download_failed {
            plan.failed_accounts.push(account.name.clone());
        }
        account_by_provider.insert(fetched.provider_account_id.as_str(), account.clone());
        plan.accounts.push(account);
    }

    let by_key: HashMap<(&AccountId, &str), &(TransactionId, Transaction)> =
        existing_transactions.iter().map(|row| ((&row.1.account_id, row.1.provider_id.as_str()), row)).collect();
    let fetched_ids: HashSet<(&str, &str)> =
        fetched_transactions.iter().map(|t| (t.provider_account_id.as_str(), t.provider_id.as_str())).collect();
    let mut taken: HashSet<TransactionId> = HashSet::new();

    for fetched in fetched_transactions {
        let Some(account) = account_by_provider.get(fetched.provider_account_id.as_str()) else {
            plan.orphans += 1;
            continue;
        };
        let candidate = Transaction {
            account_id: account.id.clone(),
            provider_id: fetched.provider_id.clone(),
            booking_date: fetched.booking_date,
            value_date: fetched.value_date,
            amount: Money::new(fetched.amount, fetched.currency.unwrap_or(account.currency)),
            counterparty: fetched.counterparty.clone(),
            purpose: fetched.purpose.clone(),
            kind: fetched.kind.clone(),
            status: fetched.status,
            raw: fetched.raw.clone(),
        };
        if let Some((row_id, existing)) = by_key.get(&(&account.id, fetched.provider_id.as_str())) {
            taken.insert(*row_id);
            if same_content(existing, &candidate) {
                plan.unchanged += 1;
            } else {
                plan.updates.push((*row_id, candidate));
            }
            continue;
        }
        let pending = existing_transactions.iter().find(|(row_id, t)| {
            t.account_id == account.id
                && t.status == crate::domain::BookingStatus::Pending
                && candidate.status == crate::domain::BookingStatus::Booked
                && !taken.contains(row_id)
                && !fetched_ids.contains(&(fetched.provider_account_id.as_str(), t.provider_id.as_str()))
                && t.amount == candidate.amount
                && t.counterparty.name == candidate.counterparty.name
                && (t.booking_date - candidate.booking_date).num_days().abs() <= PENDING_MATCH_DAYS
        });
        if let Some((row_id, _)) = pending {
            taken.insert(*row_id);
            plan.updates.push((*row_id, candidate));
        } else {
            plan.inserts.push(candidate);
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AccountType, BookingStatus, Counterparty, Currency};

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 6, d).unwrap_or_default()
    }

    fn fetched_account() -> FetchedAccount {
        FetchedAccount {
            provider_account_id: "1".into(),
            iban: None,
            name: "Giro".into(),
            holder: None,
            account_type: AccountType::Checking,
            currency: Currency::EUR,
            balance: Some("10.50".parse().unwrap_or_default()),
            available: None,
            download_failed: false,
        }
    }

    fn fetched(id: &str, d: u32, amount: &str) -> FetchedTransaction {
        FetchedTransaction {
            provider_account_id: "1".into(),
            provider_id: id.into(),
            booking_date: day(d),
            value_date: None,
            amount: amount.parse().unwrap_or_default(),
            currency: None,
            counterparty: Counterparty { name: Some("REWE".into()), ..Default::default() },
            purpose: None,
            kind: None,
            status: BookingStatus::Booked,
            raw: None,
        }
    }

    #[test]
    fn provider_id_first_then_pending_to_booked_then_new() {
        let conn = ConnectionId::from("c");
        let first = plan(&conn, &[], &[], &[fetched_account()], &[fetched("a", 1, "-1.00")], day(15), || {
            AccountId::from("acc")
        });
        assert_eq!((first.added(), first.updated()), (1, 0));
        let account = first.accounts[0].clone();
        let mut existing: Vec<(TransactionId, Transaction)> = vec![(TransactionId(1), first.inserts[0].clone())];
        let mut pending = first.inserts[0].clone();
        pending.provider_id = "p-9".into();
        pending.status = BookingStatus::Pending;
        pending.amount = Money::new("-5.00".parse().unwrap_or_default(), Currency::EUR);
        pending.booking_date = day(3);
        existing.push((TransactionId(2), pending));

        let rows = [fetched("a", 1, "-1.00"), fetched("b", 5, "-5.00"), fetched("c", 6, "-7.00")];
        let second =
            plan(&conn, &[account], &existing, &[fetched_account()], &rows, day(15), || AccountId::from("new"));
        assert_eq!(second.accounts[0].id, AccountId::from("acc"));
        assert_eq!(second.unchanged, 1);
        assert_eq!(second.updates.len(), 1);
        assert_eq!(second.updates[0].0, TransactionId(2));
        assert_eq!(second.updates[0].1.provider_id, "b");
        assert_eq!(second.inserts.len(), 1);
        assert_eq!(second.inserts[0].provider_id, "c");
        assert_eq!(second.accounts[0].balance_booked_date, Some(day(15)));
    }

    #[test]
    fn rows_of_unknown_accounts_are_counted_not_written() {
        let mut row = fetched("x", 1, "1");
        row.provider_account_id = "99".into();
        let p =
            plan(&ConnectionId::from("c"), &[], &[], &[fetched_account()], &[row], day(15), || AccountId::from("a"));
        assert_eq!((p.orphans, p.inserts.len()), (1, 0));
    }
}
