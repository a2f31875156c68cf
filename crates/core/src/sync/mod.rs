//! Synchronisation: one path from a provider's [`Delivery`] to the vault, for both providers, the app,
//! the CLI and the seed.
//!
//! [`apply_delivery`] runs, inside one `BEGIN IMMEDIATE` transaction of the store:
//!
//! 1. **load** ([`load_known`]): only the rows the plan needs, each through an index — per delivered
//!    account the delivered provider ids found in the delivered date range (one range seek; the
//!    other rows of the range are passed over, not read out), the delivered or withdrawn
//!    provider ids not found there (unique-index lookups), and, when the delivery lists the pending
//!    rows in full, the account's pending rows (partial index). Never the whole table.
//! 2. **plan** ([`plan::plan`], pure, O(delivery + loaded rows) with hash maps): accounts, provider-id
//!    matches, pending → booked by a stated rule that prefers no match to an ambiguous one, dropped
//!    pending rows, withdrawn bookings. See [`plan`] for the rules.
//! 3. **check** ([`balance::balance_warnings`]): per account the previous balance plus the booked
//!    changes against the balance the bank reports; a difference becomes a
//!    [`SyncWarning::BalanceMismatch`].
//! 4. **apply** ([`Store::write_sync`]): connection, accounts, transactions (search index and monthly
//!    sums through their triggers) and a `sync_journal` row with the warnings, all in the same
//!    transaction: a crash leaves the old or the new state, never half.
//!
//! Invariant: syncing the same delivery twice changes nothing the second time (every row is then
//! matched by its provider id and unchanged).

pub mod balance;
pub mod plan;

use std::collections::{HashMap, HashSet};
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::domain::{Account, AccountId, Connection, SyncWarning, Transaction, TransactionId};
use crate::error::Result;
use crate::provider::{FetchedAccount, FetchedTransaction};
use crate::store::Store;
use crate::store::sync_rows::{JournalRecord, SyncWrite};
pub use plan::{Plan, fits};

/// How far before its last sync a connection's next download starts, so bookings the bank adds late
/// (or books days after their pending date) are delivered again.
pub const RESYNC_OVERLAP_DAYS: i64 = 30;

/// What a provider delivered for one connection in one sync, in provider-neutral types.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivery {
    /// Every account of the connection, with the balances the bank reports.
    pub accounts: Vec<FetchedAccount>,
    /// Booked and pending rows (their `status` says which).
    pub transactions: Vec<FetchedTransaction>,
    /// Provider ids of bookings the bank withdrew (finX's `deleted` list).
    pub deleted: Vec<String>,
    /// The pending rows are every pending booking the bank has for the delivered accounts (what both
    /// providers' downloads deliver). Only then may a pending row the bank no longer lists be taken
    /// over by a booked one or removed. `false` for a delivery in parts (the seed's batches).
    pub pending_complete: bool,
}

/// Where the next download of a connection should start: [`RESYNC_OVERLAP_DAYS`] before its last
/// sync; everything when it never synced.
pub fn download_since(connection: Option<&Connection>) -> Option<NaiveDate> {
    connection.and_then(|c| c.last_synced_at).map(|t| t.date_naive() - Duration::days(RESYNC_OVERLAP_DAYS))
}

/// How long each phase of a sync took (diagnostics and benchmarks only).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PhaseTimes {
    pub load: StdDuration,
    pub plan: StdDuration,
    pub write: StdDuration,
    /// Taking the write lock and committing.
    pub commit: StdDuration,
}

/// What a sync did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncOutcome {
    /// The connection's delivered accounts as now stored.
    pub accounts: Vec<Account>,
    pub added: u32,
    pub updated: u32,
    pub removed: u32,
    pub unchanged: usize,
    /// Rows the plan read from the vault.
    pub loaded: usize,
    pub warnings: Vec<SyncWarning>,
    pub times: PhaseTimes,
}

/// Reads the rows the plan of `delivered` needs (see the module docs). `accounts` are the planned
/// accounts with their "download failed" flag; rows are only read for accounts the vault already has.
pub fn load_known(
    store: &Store,
    existing_accounts: &[Account],
    accounts: &[(Account, bool)],
    delivered: &[Transaction],
    delivery: &Delivery,
) -> Result<Vec<(TransactionId, Transaction)>> {
    let existing: HashSet<&AccountId> = existing_accounts.iter().map(|a| &a.id).collect();
    let mut ranges: HashMap<&AccountId, (NaiveDate, NaiveDate, Vec<&str>)> = HashMap::new();
    for row in delivered {
        let range = ranges.entry(&row.account_id).or_insert((row.booking_date, row.booking_date, Vec::new()));
        range.0 = range.0.min(row.booking_date);
        range.1 = range.1.max(row.booking_date);
        range.2.push(row.provider_id.as_str());
    }
    let mut known: Vec<(TransactionId, Transaction)> = Vec::new();
    let mut seen: HashSet<TransactionId> = HashSet::new();
    let mut keep = |rows: Vec<(TransactionId, Transaction)>, known: &mut Vec<(TransactionId, Transaction)>| {
        for row in rows {
            if seen.insert(row.0) {
                known.push(row);
            }
        }
    };
    for (account, failed) in accounts {
        if !existing.contains(&account.id) {
            continue;
        }
        if let Some((from, to, provider_ids)) = ranges.get(&account.id) {
            keep(store.rows_in_range(&account.id, *from, *to, provider_ids)?, &mut known);
        }
        if delivery.pending_complete && !failed {
            keep(store.pending_rows(&account.id)?, &mut known);
        }
    }
    let found: HashSet<(&AccountId, &str)> =
        known.iter().map(|(_, t)| (&t.account_id, t.provider_id.as_str())).collect();
    // Per account in one statement per thousand ids, in index order, so consecutive seeks share the
    // pages they read.
    let mut missing: HashMap<&AccountId, Vec<&str>> = HashMap::new();
    for row in delivered {
        if existing.contains(&row.account_id) && !found.contains(&(&row.account_id, row.provider_id.as_str())) {
            missing.entry(&row.account_id).or_default().push(row.provider_id.as_str());
        }
    }
    let mut lookups: Vec<(TransactionId, Transaction)> = Vec::new();
    for (account, mut provider_ids) in missing {
        provider_ids.sort_unstable();
        lookups.extend(store.rows_by_provider_ids(account, &provider_ids)?);
    }
    if !delivery.deleted.is_empty() {
        let mut deleted: Vec<&str> = delivery.deleted.iter().map(String::as_str).collect();
        deleted.sort_unstable();
        for (account, _) in accounts.iter().filter(|(a, _)| existing.contains(&a.id)) {
            lookups.extend(store.rows_by_provider_ids(&account.id, &deleted)?);
        }
    }
    keep(lookups, &mut known);
    Ok(known)
}

/// Applies `delivery` to `connection` in one transaction (see the module docs) and records it in the
/// sync journal. `new_account_id` makes the ids of accounts seen for the first time.
pub fn apply_delivery(
    store: &Store,
    connection: &Connection,
    mut delivery: Delivery,
    started_at: DateTime<Utc>,
    now: DateTime<Utc>,
    new_account_id: impl FnMut() -> AccountId,
) -> Result<SyncOutcome> {
    let entered = Instant::now();
    let mut outcome = store.immediate(|s| {
        let begin = Instant::now();
        let existing_accounts = s.connection_accounts(&connection.id)?;
        let accounts =
            plan::plan_accounts(&connection.id, &existing_accounts, &delivery, now.date_naive(), new_account_id);
        // The rows move into the plan (no copy of their raw JSON); what follows reads the rest.
        let (delivered, orphans) = plan::delivered_rows(&accounts, std::mem::take(&mut delivery.transactions));
        let known = load_known(s, &existing_accounts, &accounts, &delivered, &delivery)?;
        let loaded = Instant::now();
        let plan = plan::plan(&existing_accounts, accounts, delivered, orphans, &known, &delivery);
        let mut warnings: Vec<SyncWarning> = plan
            .failed_accounts
            .iter()
            .map(|a| SyncWarning::AccountNotDelivered { account_name: a.name.clone() })
            .collect();
        if plan.withdrawn > 0 {
            warnings.push(SyncWarning::WithdrawnRemoved { count: u32::try_from(plan.withdrawn).unwrap_or(u32::MAX) });
        }
        if plan.orphans > 0 {
            warnings
                .push(SyncWarning::UnknownAccountSkipped { count: u32::try_from(plan.orphans).unwrap_or(u32::MAX) });
        }
        warnings.extend(balance::balance_warnings(&existing_accounts, &plan));
        let planned = Instant::now();
        let journal = JournalRecord {
            started_at,
            finished_at: now,
            added: plan.added(),
            updated: plan.updated(),
            removed: plan.removed(),
            warnings,
        };
        s.write_sync(&SyncWrite {
            connection,
            accounts: &plan.accounts,
            inserts: &plan.inserts,
            updates: &plan.updates,
            removals: &plan.removals,
            journal: &journal,
        })?;
        let times = PhaseTimes {
            load: loaded - begin,
            plan: planned - loaded,
            write: planned.elapsed(),
            commit: StdDuration::ZERO,
        };
        tracing::debug!(
            added = journal.added,
            updated = journal.updated,
            removed = journal.removed,
            loaded = known.len(),
            ?times,
            "sync applied"
        );
        Ok(SyncOutcome {
            accounts: plan.accounts,
            added: journal.added,
            updated: journal.updated,
            removed: journal.removed,
            unchanged: plan.unchanged,
            loaded: known.len(),
            warnings: journal.warnings,
            times,
        })
    })?;
    let times = &mut outcome.times;
    times.commit = entered.elapsed().saturating_sub(times.load + times.plan + times.write);
    Ok(outcome)
}
