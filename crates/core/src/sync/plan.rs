//! The pure part of a sync: what a [`Delivery`] changes in the rows the vault already has.
//!
//! Rules, in order (each known row is taken by at most one of them):
//!
//! 1. **Accounts** match on the provider's account id (never on IBAN or number, which can change); an
//!    unknown one gets a new id.
//! 2. **Withdrawn**: a known booked row whose provider id is in the delivery's `deleted` list (and
//!    which is not delivered again) is removed. A pending row in that list (finX lists a pending row
//!    there once it is booked under a new id) is only "no longer listed": rules 4 and 5 decide, unless
//!    the delivery's pending rows are not complete, when it is removed at once.
//! 3. **Provider id**: a delivered row whose `(account, provider id)` is known updates that row (or
//!    leaves it alone when nothing but the raw JSON differs). A pending row delivered as booked under
//!    its own id records [`MatchRule::ProviderId`].
//! 4. **Pending → booked by rule** ([`fits`]), only for accounts whose pending rows the delivery lists
//!    in full: a new booked row takes over a known pending row the bank no longer delivers when the
//!    two fit, the booked row fits no other such pending row and the pending row fits no other new
//!    booked row. An ambiguous case (two identical card payments at the same shop on nearby days)
//!    matches nothing: the pending rows go (rule 5) and every booked row is inserted, so nothing is
//!    merged and nothing lost. A match records [`MatchRule::SameBooking`] and the fields compared.
//! 5. **Dropped pending**: a known pending row of such an account that is neither delivered nor
//!    taken over is removed: the bank no longer has it.
//! 6. Everything else delivered is inserted.
//!
//! Cost: hash maps over the delivery and the known rows, so O(delivery + known rows); the known rows
//! are what [`super::load_known`] read through indexes, never the whole table.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::Delivery;
use crate::domain::{
    Account, AccountId, BookingStatus, ConnectionId, MatchField, MatchRule, Money, PendingMatch, Transaction,
    TransactionId,
};
use crate::provider::FetchedTransaction;
use crate::store::sync_rows::RowUpdate;

/// How many days before the pending date a booked successor may be booked.
pub const BOOKED_BEFORE_PENDING_DAYS: i64 = 2;
/// How many days after the pending date a booked successor may be booked.
pub const BOOKED_AFTER_PENDING_DAYS: i64 = 7;

/// What a sync will write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Every delivered account, with its vault id (new or existing) and the reported balances.
    pub accounts: Vec<Account>,
    pub inserts: Vec<Transaction>,
    pub updates: Vec<RowUpdate>,
    pub removals: Vec<TransactionId>,
    pub unchanged: usize,
    /// Delivered rows of accounts the delivery did not list.
    pub orphans: usize,
    /// Accounts whose last download failed at the provider.
    pub failed_accounts: Vec<Account>,
    /// Of the removals: bookings the bank withdrew (its `deleted` list).
    pub withdrawn: usize,
    /// Of the removals: pending rows the bank no longer delivers and nothing took over.
    pub dropped_pending: usize,
    /// Per account: the sum of the booked amounts this plan adds, changes and removes (in the
    /// account's currency), for the balance check.
    pub booked_change: HashMap<AccountId, Decimal>,
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

    fn count_booked(&mut self, t: &Transaction, sign: Decimal, currency_of: &HashMap<AccountId, Money>) {
        if t.status != BookingStatus::Booked {
            return;
        }
        if currency_of.get(&t.account_id).is_some_and(|m| m.currency == t.amount.currency) {
            *self.booked_change.entry(t.account_id.clone()).or_default() += sign * t.amount.amount;
        }
    }
}

fn same_content(a: &Transaction, b: &Transaction) -> bool {
    a.provider_id == b.provider_id
        && a.booking_date == b.booking_date
        && a.value_date == b.value_date
        && a.amount == b.amount
        && a.counterparty == b.counterparty
        && a.purpose == b.purpose
        && a.kind == b.kind
        && a.status == b.status
        && a.account_id == b.account_id
}

/// Lower case, inner whitespace collapsed.
fn normalized(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

fn present(text: &Option<String>) -> Option<&str> {
    text.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

/// Whether `booked` may be the booked successor of `pending`, and on which fields: same account and
/// amount; counterparty name equal when both have one (case and spacing aside); counterparty IBAN
/// equal when both have one (spacing aside); purpose compatible (one contains the other, case and
/// spacing aside, or one is missing); booked from [`BOOKED_BEFORE_PENDING_DAYS`] before to
/// [`BOOKED_AFTER_PENDING_DAYS`] after the pending date.
pub fn fits(pending: &Transaction, booked: &Transaction) -> Option<Vec<MatchField>> {
    if pending.account_id != booked.account_id || pending.amount != booked.amount {
        return None;
    }
    let days = (booked.booking_date - pending.booking_date).num_days();
    if !(-BOOKED_BEFORE_PENDING_DAYS..=BOOKED_AFTER_PENDING_DAYS).contains(&days) {
        return None;
    }
    let mut fields = vec![MatchField::Amount];
    if let (Some(a), Some(b)) = (present(&pending.counterparty.name), present(&booked.counterparty.name)) {
        if normalized(a) != normalized(b) {
            return None;
        }
        fields.push(MatchField::CounterpartyName);
    }
    if let (Some(a), Some(b)) = (present(&pending.counterparty.iban), present(&booked.counterparty.iban)) {
        let compact = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_uppercase();
        if compact(a) != compact(b) {
            return None;
        }
        fields.push(MatchField::CounterpartyIban);
    }
    if let (Some(a), Some(b)) = (present(&pending.purpose), present(&booked.purpose)) {
        let (a, b) = (normalized(a), normalized(b));
        if !a.contains(&b) && !b.contains(&a) {
            return None;
        }
        fields.push(MatchField::Purpose);
    }
    Some(fields)
}

fn to_transaction(fetched: FetchedTransaction, account: &Account) -> Transaction {
    Transaction {
        account_id: account.id.clone(),
        amount: Money::new(fetched.amount, fetched.currency.unwrap_or(account.currency)),
        provider_id: fetched.provider_id,
        booking_date: fetched.booking_date,
        value_date: fetched.value_date,
        counterparty: fetched.counterparty,
        purpose: fetched.purpose,
        kind: fetched.kind,
        status: fetched.status,
        raw: fetched.raw,
    }
}

/// The vault's accounts for a delivery's accounts: existing ids kept, new ones from `new_id`.
pub fn plan_accounts(
    connection_id: &ConnectionId,
    existing_accounts: &[Account],
    delivery: &Delivery,
    today: NaiveDate,
    mut new_id: impl FnMut() -> AccountId,
) -> Vec<(Account, bool)> {
    delivery
        .accounts
        .iter()
        .map(|fetched| {
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
            (account, fetched.download_failed)
        })
        .collect()
}

/// The delivered rows (a delivery's `transactions`, taken over: their text and raw JSON move, nothing
/// is copied) as the vault's transactions of `accounts`, one per `(account, provider id)` (a row
/// delivered twice counts once, in the place of the first, with the content of the later one), and
/// the number of rows of unknown accounts.
pub fn delivered_rows(
    accounts: &[(Account, bool)],
    transactions: Vec<FetchedTransaction>,
) -> (Vec<Transaction>, usize) {
    let by_provider: HashMap<&str, &Account> =
        accounts.iter().map(|(a, _)| (a.provider_account_id.as_str(), a)).collect();
    // Which delivered row fills each place of the result, and for which account. Keyed by the
    // provider's account id, which names the vault account one to one.
    let mut places: Vec<(usize, &Account)> = Vec::with_capacity(transactions.len());
    let mut orphans = 0;
    {
        let mut place_of: HashMap<(&str, &str), usize> = HashMap::with_capacity(transactions.len());
        for (index, fetched) in transactions.iter().enumerate() {
            let Some(account) = by_provider.get(fetched.provider_account_id.as_str()) else {
                orphans += 1;
                continue;
            };
            match place_of.entry((fetched.provider_account_id.as_str(), fetched.provider_id.as_str())) {
                std::collections::hash_map::Entry::Occupied(at) => places[*at.get()] = (index, account),
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(places.len());
                    places.push((index, account));
                }
            }
        }
    }
    let mut fetched: Vec<Option<FetchedTransaction>> = transactions.into_iter().map(Some).collect();
    let rows = places
        .into_iter()
        .filter_map(|(index, account)| {
            fetched.get_mut(index).and_then(Option::take).map(|f| to_transaction(f, account))
        })
        .collect();
    (rows, orphans)
}

/// Plans a sync of one connection (see the module docs). `accounts` are [`plan_accounts`]' result,
/// `delivered` and `orphans` [`delivered_rows`]', `known` the rows [`super::load_known`] read.
pub fn plan(
    existing_accounts: &[Account],
    accounts: Vec<(Account, bool)>,
    delivered: Vec<Transaction>,
    orphans: usize,
    known: &[(TransactionId, Transaction)],
    delivery: &Delivery,
) -> Plan {
    let mut plan = Plan { orphans, ..Plan::default() };
    let currency_of: HashMap<AccountId, Money> = accounts
        .iter()
        .map(|(a, _)| (a.id.clone(), Money::new(Decimal::ZERO, a.currency)))
        .chain(existing_accounts.iter().map(|a| (a.id.clone(), Money::new(Decimal::ZERO, a.currency))))
        .collect();
    let complete: HashSet<AccountId> = if delivery.pending_complete {
        accounts.iter().filter(|(_, failed)| !failed).map(|(a, _)| a.id.clone()).collect()
    } else {
        HashSet::new()
    };
    for (account, failed) in accounts {
        if failed {
            plan.failed_accounts.push(account.clone());
        }
        plan.accounts.push(account);
    }

    let delivered_keys: HashSet<(&AccountId, &str)> =
        delivered.iter().map(|t| (&t.account_id, t.provider_id.as_str())).collect();
    let deleted: HashSet<&str> = delivery.deleted.iter().map(String::as_str).collect();
    let mut taken: HashSet<TransactionId> = HashSet::new();

    // 2. withdrawn (a pending row in the list is only "no longer listed": rules 4 and 5 decide)
    for (id, row) in known {
        if !deleted.contains(row.provider_id.as_str())
            || delivered_keys.contains(&(&row.account_id, row.provider_id.as_str()))
            || (row.status == BookingStatus::Pending && complete.contains(&row.account_id))
            || !taken.insert(*id)
        {
            continue;
        }
        plan.removals.push(*id);
        if row.status == BookingStatus::Booked {
            plan.withdrawn += 1;
        } else {
            plan.dropped_pending += 1;
        }
        plan.count_booked(row, Decimal::NEGATIVE_ONE, &currency_of);
    }

    // 3. provider id
    let by_key: HashMap<(&AccountId, &str), (TransactionId, &Transaction)> =
        known.iter().map(|(id, t)| ((&t.account_id, t.provider_id.as_str()), (*id, t))).collect();
    let mut unmatched: Vec<Transaction> = Vec::new();
    for row in delivered {
        let Some(&(id, existing)) = by_key.get(&(&row.account_id, row.provider_id.as_str())) else {
            unmatched.push(row);
            continue;
        };
        if !taken.insert(id) {
            unmatched.push(row);
            continue;
        }
        if same_content(existing, &row) {
            plan.unchanged += 1;
            continue;
        }
        let pending_match =
            (existing.status == BookingStatus::Pending && row.status == BookingStatus::Booked).then(|| PendingMatch {
                rule: MatchRule::ProviderId,
                pending_provider_id: existing.provider_id.clone(),
                pending_date: existing.booking_date.to_string(),
                days_apart: (row.booking_date - existing.booking_date).num_days(),
                fields: Vec::new(),
            });
        plan.count_booked(existing, Decimal::NEGATIVE_ONE, &currency_of);
        plan.count_booked(&row, Decimal::ONE, &currency_of);
        plan.updates.push(RowUpdate { id, transaction: row, pending_match });
    }

    // 4. pending → booked by rule
    let mut pool: HashMap<(&AccountId, &Money), Vec<(TransactionId, &Transaction)>> = HashMap::new();
    for (id, row) in known {
        if row.status == BookingStatus::Pending && complete.contains(&row.account_id) && !taken.contains(id) {
            pool.entry((&row.account_id, &row.amount)).or_default().push((*id, row));
        }
    }
    let mut candidates: Vec<Vec<(TransactionId, Vec<MatchField>)>> = Vec::with_capacity(unmatched.len());
    let mut claimants: HashMap<TransactionId, usize> = HashMap::new();
    for row in &unmatched {
        let mut found = Vec::new();
        if row.status == BookingStatus::Booked && complete.contains(&row.account_id) {
            for (id, pending) in pool.get(&(&row.account_id, &row.amount)).into_iter().flatten() {
                if let Some(fields) = fits(pending, row) {
                    *claimants.entry(*id).or_default() += 1;
                    found.push((*id, fields));
                }
            }
        }
        candidates.push(found);
    }
    let pending_rows: HashMap<TransactionId, &Transaction> = pool.values().flatten().copied().collect();
    for (row, found) in unmatched.into_iter().zip(candidates) {
        let unique = match found.as_slice() {
            [(id, _)] if claimants.get(id) == Some(&1) => found.into_iter().next(),
            _ => None,
        };
        match unique.and_then(|(id, fields)| pending_rows.get(&id).map(|p| (id, *p, fields))) {
            Some((id, pending, fields)) => {
                taken.insert(id);
                plan.count_booked(&row, Decimal::ONE, &currency_of);
                let pending_match = PendingMatch {
                    rule: MatchRule::SameBooking,
                    pending_provider_id: pending.provider_id.clone(),
                    pending_date: pending.booking_date.to_string(),
                    days_apart: (row.booking_date - pending.booking_date).num_days(),
                    fields,
                };
                plan.updates.push(RowUpdate { id, transaction: row, pending_match: Some(pending_match) });
            }
            None => {
                plan.count_booked(&row, Decimal::ONE, &currency_of);
                plan.inserts.push(row);
            }
        }
    }

    // 5. dropped pending
    let mut dropped: Vec<TransactionId> = pending_rows.keys().filter(|id| !taken.contains(id)).copied().collect();
    dropped.sort_unstable();
    plan.dropped_pending += dropped.len();
    plan.removals.extend(dropped);
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AccountType, Counterparty, Currency};
    use crate::provider::FetchedAccount;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 6, d).unwrap_or_default()
    }

    fn account() -> Account {
        Account {
            id: AccountId::from("acc"),
            connection_id: ConnectionId::from("c"),
            provider_account_id: "1".into(),
            iban: None,
            name: "Giro".into(),
            holder: None,
            account_type: AccountType::Checking,
            currency: Currency::EUR,
            balance_booked: Some(Money::new(Decimal::new(10_000, 2), Currency::EUR)),
            balance_booked_date: None,
            balance_available: None,
            balance_available_date: None,
        }
    }

    fn fetched_account(balance: i64) -> FetchedAccount {
        FetchedAccount {
            provider_account_id: "1".into(),
            iban: None,
            name: "Giro".into(),
            holder: None,
            account_type: AccountType::Checking,
            currency: Currency::EUR,
            balance: Some(Decimal::new(balance, 2)),
            available: None,
            download_failed: false,
        }
    }

    fn fetched(id: &str, d: u32, cents: i64, status: BookingStatus) -> FetchedTransaction {
        FetchedTransaction {
            provider_account_id: "1".into(),
            provider_id: id.into(),
            booking_date: day(d),
            value_date: None,
            amount: Decimal::new(cents, 2),
            currency: None,
            counterparty: Counterparty { name: Some("REWE".into()), ..Default::default() },
            purpose: Some("REWE SAGT DANKE 123".into()),
            kind: None,
            status,
            raw: None,
        }
    }

    fn known(id: i64, f: &FetchedTransaction) -> (TransactionId, Transaction) {
        (TransactionId(id), to_transaction(f.clone(), &account()))
    }

    fn run(known: &[(TransactionId, Transaction)], delivery: &Delivery) -> Plan {
        let existing = [account()];
        let accounts = plan_accounts(&ConnectionId::from("c"), &existing, delivery, day(30), || AccountId::from("new"));
        let (delivered, orphans) = delivered_rows(&accounts, delivery.transactions.clone());
        plan(&existing, accounts, delivered, orphans, known, delivery)
    }

    fn delivery(rows: Vec<FetchedTransaction>) -> Delivery {
        Delivery {
            accounts: vec![fetched_account(10_000)],
            transactions: rows,
            deleted: Vec::new(),
            pending_complete: true,
        }
    }

    use BookingStatus::{Booked, Pending};

    #[test]
    fn provider_id_first_then_unchanged_updated_and_new() {
        let a = fetched("a", 1, -100, Booked);
        let mut b = fetched("b", 2, -200, Booked);
        let existing = [known(1, &a), known(2, &b)];
        b.purpose = Some("changed".into());
        let p = run(&existing, &delivery(vec![a, b, fetched("c", 3, -300, Booked)]));
        assert_eq!(p.unchanged, 1);
        assert_eq!(p.updates.len(), 1);
        assert_eq!(p.updates[0].id, TransactionId(2));
        assert_eq!(p.updates[0].pending_match, None);
        assert_eq!(p.inserts.len(), 1);
        assert_eq!(p.inserts[0].provider_id, "c");
        assert!(p.removals.is_empty());
    }

    #[test]
    fn a_pending_row_booked_under_a_new_id_is_taken_over_and_says_why() {
        let pending = fetched("p-1", 3, -550, Pending);
        let mut booked = fetched("b-1", 5, -550, Booked);
        booked.purpose = Some("REWE SAGT DANKE 123 Kartenzahlung".into());
        let p = run(&[known(7, &pending)], &delivery(vec![booked]));
        assert_eq!(p.inserts.len(), 0);
        assert_eq!(p.removals.len(), 0);
        assert_eq!(p.updates.len(), 1);
        let update = &p.updates[0];
        assert_eq!(update.id, TransactionId(7));
        assert_eq!(update.transaction.provider_id, "b-1");
        assert_eq!(update.transaction.status, Booked);
        let reason = update.pending_match.clone().unwrap_or_else(|| panic!("no reason recorded"));
        assert_eq!(reason.rule, MatchRule::SameBooking);
        assert_eq!(reason.pending_provider_id, "p-1");
        assert_eq!(reason.days_apart, 2);
        assert_eq!(reason.fields, vec![MatchField::Amount, MatchField::CounterpartyName, MatchField::Purpose]);
        assert_eq!(p.booked_change.get(&AccountId::from("acc")), Some(&Decimal::new(-550, 2)));
    }

    #[test]
    fn a_pending_row_booked_under_its_own_id_records_the_provider_id_rule() {
        let pending = fetched("x", 3, -550, Pending);
        let p = run(&[known(7, &pending)], &delivery(vec![fetched("x", 4, -550, Booked)]));
        assert_eq!(p.updates.len(), 1);
        assert_eq!(p.updates[0].pending_match.as_ref().map(|m| m.rule), Some(MatchRule::ProviderId));
    }

    #[test]
    fn two_identical_card_payments_on_nearby_days_stay_two() {
        let existing = [known(1, &fetched("p-1", 3, -550, Pending)), known(2, &fetched("p-2", 4, -550, Pending))];
        let p = run(&existing, &delivery(vec![fetched("b-1", 5, -550, Booked), fetched("b-2", 5, -550, Booked)]));
        assert_eq!(p.inserts.len(), 2, "ambiguous: both booked rows are new");
        assert_eq!(p.removals, vec![TransactionId(1), TransactionId(2)], "the pending rows the bank dropped go");
        assert!(p.updates.is_empty());
    }

    #[test]
    fn a_pending_row_the_bank_still_delivers_is_never_taken_and_one_it_dropped_goes() {
        let still = fetched("p-1", 3, -550, Pending);
        let dropped = fetched("p-2", 3, -990, Pending);
        let existing = [known(1, &still), known(2, &dropped)];
        let p = run(&existing, &delivery(vec![still.clone(), fetched("b-1", 4, -550, Booked)]));
        assert_eq!(p.unchanged, 1);
        assert_eq!(p.inserts.len(), 1, "a new booking that looks like a pending row still pending is new");
        assert_eq!(p.removals, vec![TransactionId(2)]);
        assert_eq!(p.dropped_pending, 1);
    }

    #[test]
    fn the_rule_needs_every_field_and_the_date_window() {
        let pending = fetched("p", 10, -550, Pending);
        let ok = |f: &FetchedTransaction| {
            fits(&to_transaction(pending.clone(), &account()), &to_transaction(f.clone(), &account()))
        };
        assert!(ok(&fetched("b", 8, -550, Booked)).is_some(), "2 days before");
        assert!(ok(&fetched("b", 17, -550, Booked)).is_some(), "7 days after");
        assert!(ok(&fetched("b", 7, -550, Booked)).is_none(), "3 days before");
        assert!(ok(&fetched("b", 18, -550, Booked)).is_none(), "8 days after");
        assert!(ok(&fetched("b", 11, -551, Booked)).is_none(), "amount");
        let mut other_name = fetched("b", 11, -550, Booked);
        other_name.counterparty.name = Some("EDEKA".into());
        assert!(ok(&other_name).is_none());
        let mut no_name = fetched("b", 11, -550, Booked);
        no_name.counterparty.name = None;
        assert_eq!(ok(&no_name), Some(vec![MatchField::Amount, MatchField::Purpose]));
        let mut other_purpose = fetched("b", 11, -550, Booked);
        other_purpose.purpose = Some("Miete".into());
        assert!(ok(&other_purpose).is_none());
        let mut iban = fetched("b", 11, -550, Booked);
        iban.counterparty.iban = Some("DE02 1203 0000 0000 2020 51".into());
        assert!(ok(&iban).is_some(), "an IBAN on one side only is no contradiction");
    }

    #[test]
    fn a_withdrawn_booking_goes_and_a_listed_pending_row_may_still_be_booked() {
        let pending = fetched("p-1", 3, -550, Pending);
        let booked = fetched("old", 1, -100, Booked);
        let mut d = delivery(vec![fetched("b-1", 4, -550, Booked)]);
        d.deleted = vec!["p-1".into(), "old".into()];
        let p = run(&[known(1, &pending), known(2, &booked)], &d);
        assert_eq!(p.withdrawn, 1);
        assert_eq!(p.removals, vec![TransactionId(2)]);
        assert!(p.inserts.is_empty());
        assert_eq!(p.updates.len(), 1, "finX lists the pending row as deleted when it books it under a new id");
        assert_eq!(p.updates[0].id, TransactionId(1));
        assert_eq!(p.booked_change.get(&AccountId::from("acc")), Some(&Decimal::new(-550 + 100, 2)));

        d.pending_complete = false;
        let p = run(&[known(1, &pending), known(2, &booked)], &d);
        assert_eq!((p.withdrawn, p.dropped_pending, p.inserts.len()), (1, 1, 1), "without a complete list: gone");
    }

    #[test]
    fn a_delivery_in_parts_neither_matches_by_rule_nor_drops_pending_rows() {
        let pending = fetched("p-1", 3, -550, Pending);
        let mut d = delivery(vec![fetched("b-1", 4, -550, Booked)]);
        d.pending_complete = false;
        let p = run(&[known(1, &pending)], &d);
        assert_eq!((p.inserts.len(), p.updates.len(), p.removals.len()), (1, 0, 0));
    }

    #[test]
    fn the_balance_check_compares_previous_plus_booked_changes_with_the_bank() {
        let existing = [account()];
        let mut d = delivery(vec![fetched("a", 1, -250, Booked), fetched("p", 1, -999, Pending)]);
        let check = |d: &Delivery| {
            let accounts = plan_accounts(&ConnectionId::from("c"), &existing, d, day(30), || AccountId::from("n"));
            let (delivered, orphans) = delivered_rows(&accounts, d.transactions.clone());
            super::super::balance::balance_warnings(&existing, &plan(&existing, accounts, delivered, orphans, &[], d))
        };
        d.accounts = vec![fetched_account(9_750)];
        assert_eq!(check(&d), Vec::new());
        d.accounts = vec![fetched_account(9_700)];
        assert_eq!(
            check(&d),
            vec![crate::domain::SyncWarning::BalanceMismatch {
                account_id: "acc".into(),
                account_name: "Giro".into(),
                expected: "97.50".into(),
                reported: "97.00".into(),
                currency: "EUR".into(),
            }]
        );
    }
}
