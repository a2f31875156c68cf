//! Everything the finX face remembers (in memory; [`FinxSnapshot`] is what the state file keeps): widget flows, codes, tokens, users, accesses with their
//! accounts and transactions, syncs.
//!
//! Invariants:
//! - an account's `balance` is its generated opening balance plus every booked amount of its generated history
//!   plus the booked rows syncs added (pending rows never count);
//! - every transaction row has a unique id `T<n>.1` and a store-wide, increasing `seq` (creation order) and
//!   `modified_seq`; a deleted row leaves a [`Deleted`] entry with its own `seq`;
//! - a pending row that gets booked is *deleted* and a new booked row (new id) appears, as banks do it.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;

use super::providers::{self, AuthMethod, Provider};
use crate::data::{self, AccountKind, Booking};

/// Which widget link started a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowKind {
    Onetime,
    Ongoing,
    IncomeReport,
}

/// Where a widget flow stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WidgetStep {
    Bank,
    Login,
    Tan,
    Consent,
    Done,
}

/// One widget flow, from the link to the callback.
#[derive(Debug, Clone)]
pub struct Flow {
    pub id: String,
    pub kind: FlowKind,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub language: String,
    /// IBANs (or account numbers) from `accounts`.
    pub preselected: Vec<String>,
    /// finX account type names from `account_types`.
    pub account_types: Vec<String>,
    pub allow_multi_selection: bool,
    pub sync_period: u32,
    /// Months (income reports).
    pub reporting_period: u32,
    pub user_id: Option<String>,
    pub save_secrets: bool,
    pub step: WidgetStep,
    pub provider: Option<&'static Provider>,
    pub login: Option<String>,
    pub failures: u32,
    pub error: Option<String>,
    /// The finX user the accesses of this flow were linked to, once the first bank was added ("add another
    /// bank"): the code issued at the end covers all of them.
    pub linked_user: Option<u64>,
}

/// An authorization code from a callback.
#[derive(Debug, Clone)]
pub struct AuthCode {
    pub user: u64,
    pub redirect_uri: String,
    pub scope: String,
    pub expires_at: DateTime<Utc>,
    pub used: bool,
    /// Tokens issued for it (revoked when the code is replayed).
    pub issued: Vec<String>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct AccessToken {
    pub user: u64,
    pub scope: String,
    pub expires_at: DateTime<Utc>,
    pub revoked: bool,
    /// The refresh token issued with it, if any (for `/auth/revoke` with `cascade`).
    pub refresh: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RefreshToken {
    pub user: u64,
    pub scope: String,
    pub expires_at: DateTime<Utc>,
    /// Used once (rotated) or revoked: never valid again.
    pub spent: bool,
    /// Valid only while equal to the user's `refresh_generation` (a new code exchange bumps it).
    pub generation: u64,
}

/// A finX user: an ongoing `user_id`, or the anonymous owner of a one-time flow.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct User {
    pub external_id: Option<String>,
    pub refresh_generation: u64,
    /// The income report of this (one-time) user: flow id and period in months.
    pub report: Option<(String, u32)>,
}

/// A transaction row.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Tx {
    pub id: String,
    pub seq: u64,
    pub modified_seq: u64,
    pub booking: Booking,
    pub booked: bool,
    pub created_at: DateTime<Utc>,
    pub modified_at: DateTime<Utc>,
    pub sync_id: Option<String>,
}

/// A row the bank removed (a pending item that got booked).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Deleted {
    pub id: String,
    pub seq: u64,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Account {
    pub id: String,
    /// Index among the login's generated accounts (0 main, 1 household, 2 savings).
    pub index: usize,
    pub kind: AccountKind,
    pub name: String,
    pub iban: String,
    pub account_number: String,
    pub owner: String,
    pub credit_line: Option<Decimal>,
    pub balance: Decimal,
    /// The whole generated (booked) history; rows older than the access's `loaded_from` are not loaded yet.
    pub history: Vec<Booking>,
    pub txs: Vec<Tx>,
    pub deleted: Vec<Deleted>,
}

impl Account {
    /// The finX `type`.
    pub fn finx_type(&self) -> &'static str {
        match self.kind {
            AccountKind::Checking => "Giro account",
            AccountKind::Savings => "Savings account",
        }
    }
}

/// Sync bookkeeping shown in `status` objects.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct SyncStatus {
    pub synced_at: Option<DateTime<Utc>>,
    pub succeeded_at: Option<DateTime<Utc>>,
    pub message: Option<String>,
}

/// A provider access (bank connection).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Access {
    pub id: String,
    pub user: u64,
    #[serde(with = "provider_ref")]
    pub provider: &'static Provider,
    pub login: String,
    pub ongoing: bool,
    pub save_secrets: bool,
    pub created_at: DateTime<Utc>,
    pub consent_expires_at: DateTime<Utc>,
    pub consent_period: u32,
    #[serde(with = "method_ref")]
    pub last_method: Option<&'static AuthMethod>,
    pub update_number: u64,
    pub loaded_from: NaiveDate,
    pub accounts: Vec<Account>,
    pub status: SyncStatus,
    /// (UTC day, syncs started that day).
    pub syncs_today: (NaiveDate, u32),
    /// The sync that is not finished yet.
    pub busy_sync: Option<String>,
}

#[derive(Debug, Default)]
pub struct FinxStore {
    next_number: u64,
    seq: u64,
    pub flows: HashMap<String, Flow>,
    /// Widget token → flow id.
    pub widget_tokens: HashMap<String, String>,
    pub codes: HashMap<String, AuthCode>,
    pub access_tokens: HashMap<String, AccessToken>,
    pub refresh_tokens: HashMap<String, RefreshToken>,
    pub users: BTreeMap<u64, User>,
    /// Ongoing `user_id` → user.
    pub user_ids: HashMap<String, u64>,
    pub accesses: BTreeMap<String, Access>,
    pub syncs: HashMap<String, super::syncs::Sync>,
    /// Redirect page id → sync id.
    pub redirects: HashMap<String, String>,
}

/// The finX part of the Demo Bank's state file ([`crate::DemoBankConfig::state_file`]): users, accesses with
/// their accounts and rows, tokens, finished syncs and the id counters. Widget flows, authorization codes and
/// unfinished syncs are not kept: a client starts them again after a restart.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct FinxSnapshot {
    pub next_number: u64,
    pub seq: u64,
    pub users: Vec<(u64, User)>,
    pub user_ids: BTreeMap<String, u64>,
    pub access_tokens: BTreeMap<String, AccessToken>,
    pub refresh_tokens: BTreeMap<String, RefreshToken>,
    pub accesses: Vec<Access>,
    pub syncs: Vec<super::syncs::SavedSync>,
}

/// `&'static Provider` as its id.
mod provider_ref {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    use super::Provider;

    pub fn serialize<S: Serializer>(provider: &&'static Provider, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(provider.id)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<&'static Provider, D::Error> {
        let id = String::deserialize(deserializer)?;
        super::all_providers()
            .iter()
            .find(|provider| provider.id == id)
            .ok_or_else(|| D::Error::custom(format!("unknown finX provider {id}")))
    }
}

/// `Option<&'static AuthMethod>` as the method's id.
mod method_ref {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::AuthMethod;

    pub fn serialize<S: Serializer>(method: &Option<&'static AuthMethod>, serializer: S) -> Result<S::Ok, S::Error> {
        match method {
            Some(method) => serializer.serialize_some(method.id),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<&'static AuthMethod>, D::Error> {
        // A method the providers no longer offer is forgotten (the next sync asks again).
        let id = Option::<String>::deserialize(deserializer)?;
        Ok(id.and_then(|id| super::all_providers().iter().find_map(|provider| provider.method(&id))))
    }
}

/// What loading data needs.
#[derive(Debug, Clone, Copy)]
pub struct DataContext {
    pub seed: u64,
    pub today: NaiveDate,
}

impl FinxStore {
    /// What the state file keeps (see [`FinxSnapshot`]).
    pub fn snapshot(&self) -> FinxSnapshot {
        FinxSnapshot {
            next_number: self.next_number,
            seq: self.seq,
            users: self.users.iter().map(|(id, user)| (*id, user.clone())).collect(),
            user_ids: self.user_ids.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            access_tokens: self.access_tokens.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            refresh_tokens: self.refresh_tokens.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            accesses: self.accesses.values().cloned().collect(),
            syncs: {
                let mut syncs: Vec<_> = self.syncs.values().filter_map(super::syncs::Sync::saved).collect();
                syncs.sort_by(|a, b| a.id.cmp(&b.id));
                syncs
            },
        }
    }

    /// The store saved in a state file. Only finished syncs were kept, so no access is busy.
    pub fn from_snapshot(snapshot: FinxSnapshot) -> Self {
        let syncs: HashMap<String, super::syncs::Sync> =
            snapshot.syncs.into_iter().map(|saved| (saved.id.clone(), super::syncs::Sync::restore(saved))).collect();
        let accesses = snapshot
            .accesses
            .into_iter()
            .map(|mut access| {
                access.busy_sync = None;
                (access.id.clone(), access)
            })
            .collect();
        Self {
            next_number: snapshot.next_number,
            seq: snapshot.seq,
            users: snapshot.users.into_iter().collect(),
            user_ids: snapshot.user_ids.into_iter().collect(),
            access_tokens: snapshot.access_tokens.into_iter().collect(),
            refresh_tokens: snapshot.refresh_tokens.into_iter().collect(),
            accesses,
            syncs,
            ..Self::default()
        }
    }

    /// A fresh number for ids.
    pub fn number(&mut self) -> u64 {
        self.next_number += 1;
        self.next_number
    }

    /// The next change sequence number.
    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// The user behind an ongoing `user_id` (created on first use), or a fresh anonymous one.
    pub fn user_for(&mut self, external_id: Option<&str>) -> u64 {
        if let Some(id) = external_id.and_then(|external| self.user_ids.get(external)) {
            return *id;
        }
        let number = self.number();
        self.users
            .insert(number, User { external_id: external_id.map(str::to_owned), refresh_generation: 0, report: None });
        if let Some(external) = external_id {
            self.user_ids.insert(external.to_owned(), number);
        }
        number
    }

    /// Creates (or, for the same user, provider and login, renews) an access holding the accounts with the
    /// given IBANs, with history from `today - sync_period` loaded. Returns the access id.
    #[allow(clippy::too_many_arguments)]
    pub fn link_access(
        &mut self,
        ctx: DataContext,
        user: u64,
        provider: &'static Provider,
        login: &str,
        ibans: &[String],
        sync_period: u32,
        ongoing: bool,
        save_secrets: bool,
        consent_lifetime: Duration,
        created_at: Option<DateTime<Utc>>,
    ) -> String {
        let now = Utc::now();
        let existing = self
            .accesses
            .values()
            .find(|access| {
                access.user == user && access.provider.id == provider.id && access.login == login && access.ongoing
            })
            .map(|access| access.id.clone());
        if let Some(id) = existing.filter(|_| ongoing) {
            let added = self.add_accounts(ctx, &id, ibans, now);
            if let Some(access) = self.accesses.get_mut(&id) {
                access.consent_expires_at = now + consent_lifetime;
                access.consent_period = sync_period;
                access.save_secrets = save_secrets;
                access.accounts.extend(added);
            }
            return id;
        }
        let number = self.number();
        let id = format!("X{number}.1");
        let loaded_from = ctx.today - Duration::days(i64::from(sync_period));
        let access = Access {
            id: id.clone(),
            user,
            provider,
            login: login.to_owned(),
            ongoing,
            save_secrets,
            created_at: created_at.unwrap_or(now),
            consent_expires_at: now + consent_lifetime,
            consent_period: sync_period,
            last_method: None,
            update_number: 0,
            loaded_from,
            accounts: Vec::new(),
            status: SyncStatus { synced_at: Some(now), succeeded_at: Some(now), message: None },
            syncs_today: (now.date_naive(), 0),
            busy_sync: None,
        };
        self.accesses.insert(id.clone(), access);
        let added = self.add_accounts(ctx, &id, ibans, now);
        if let Some(access) = self.accesses.get_mut(&id) {
            access.accounts.extend(added);
        }
        id
    }

    /// Generates the accounts of the access's login whose IBANs are in `ibans` and are not there yet.
    fn add_accounts(
        &mut self,
        ctx: DataContext,
        access_id: &str,
        ibans: &[String],
        now: DateTime<Utc>,
    ) -> Vec<Account> {
        let Some((provider, login, loaded_from, present)) = self.accesses.get(access_id).map(|access| {
            let present: Vec<String> = access.accounts.iter().map(|account| account.iban.clone()).collect();
            (access.provider, access.login.clone(), access.loaded_from, present)
        }) else {
            return Vec::new();
        };
        let generated = data::generate_login(ctx.seed, &provider.identity(), &login, ctx.today);
        let mut added = Vec::new();
        for (index, account) in generated.into_iter().enumerate() {
            if !ibans.contains(&account.iban) || present.contains(&account.iban) {
                continue;
            }
            let number = self.number();
            let balance = account.opening_balance + account.bookings.iter().map(|b| b.amount).sum::<Decimal>();
            let mut new = Account {
                id: format!("A{number}.1"),
                index,
                kind: account.kind,
                name: account.name,
                iban: account.iban,
                account_number: account.account_number,
                owner: account.holder_name,
                credit_line: account.overdraft_limit,
                balance,
                history: account.bookings,
                txs: Vec::new(),
                deleted: Vec::new(),
            };
            let initial: Vec<Booking> =
                new.history.iter().filter(|booking| booking.booking_date >= loaded_from).cloned().collect();
            for booking in initial {
                let tx = self.new_tx(number, booking, true, now, None);
                new.txs.push(tx);
            }
            for booking in account.pending {
                let tx = self.new_tx(number, booking, false, now, None);
                new.txs.push(tx);
            }
            added.push(new);
        }
        added
    }

    fn new_tx(
        &mut self,
        _account_number: u64,
        booking: Booking,
        booked: bool,
        now: DateTime<Utc>,
        sync_id: Option<&str>,
    ) -> Tx {
        let number = self.number();
        let seq = self.next_seq();
        Tx {
            id: format!("T{number}.1"),
            seq,
            modified_seq: seq,
            booking,
            booked,
            created_at: now,
            modified_at: now,
            sync_id: sync_id.map(str::to_owned),
        }
    }

    /// What a successful sync of `access_id` fetched: with `transactions`, older history if `sync_period` reaches
    /// further back, then the bank's activity since the last sync ([`data::update_activity`]).
    pub fn apply_sync(
        &mut self,
        ctx: DataContext,
        access_id: &str,
        sync_id: &str,
        transactions: bool,
        sync_period: Option<u32>,
    ) {
        let now = Utc::now();
        let Some(mut access) = self.accesses.remove(access_id) else { return };
        if transactions {
            if let Some(period) = sync_period {
                let from = ctx.today - Duration::days(i64::from(period));
                if from < access.loaded_from {
                    for account in &mut access.accounts {
                        let older: Vec<Booking> = account
                            .history
                            .iter()
                            .filter(|b| b.booking_date >= from && b.booking_date < access.loaded_from)
                            .cloned()
                            .collect();
                        for booking in older {
                            let tx = self.new_tx(0, booking, true, now, Some(sync_id));
                            account.txs.push(tx);
                        }
                    }
                    access.loaded_from = from;
                }
            }
            access.update_number += 1;
            let activity = data::update_activity(
                ctx.seed,
                access.provider.bank_id,
                &access.login,
                access.update_number,
                ctx.today,
            );
            for _ in 0..activity.pending_to_book {
                if let Some(account) = access.accounts.iter_mut().find(|account| account.index == 0) {
                    let oldest = account
                        .txs
                        .iter()
                        .enumerate()
                        .filter(|(_, tx)| !tx.booked)
                        .min_by_key(|(_, tx)| (tx.booking.booking_date, tx.seq))
                        .map(|(position, _)| position);
                    if let Some(position) = oldest {
                        let pending = account.txs.remove(position);
                        let seq = self.next_seq();
                        account.deleted.push(Deleted { id: pending.id, seq, at: now });
                        let mut booking = pending.booking;
                        booking.booking_date = ctx.today;
                        booking.value_date = ctx.today;
                        account.balance += booking.amount;
                        let tx = self.new_tx(0, booking, true, now, Some(sync_id));
                        account.txs.push(tx);
                    }
                }
            }
            for (index, booking) in activity.new_bookings {
                if let Some(account) = access.accounts.iter_mut().find(|account| account.index == index) {
                    account.balance += booking.amount;
                    let tx = self.new_tx(0, booking, true, now, Some(sync_id));
                    account.txs.push(tx);
                }
            }
            for (index, booking) in activity.new_pending {
                if let Some(account) = access.accounts.iter_mut().find(|account| account.index == index) {
                    let tx = self.new_tx(0, booking, false, now, Some(sync_id));
                    account.txs.push(tx);
                }
            }
        }
        access.status = SyncStatus { synced_at: Some(now), succeeded_at: Some(now), message: None };
        self.accesses.insert(access_id.to_owned(), access);
    }

    /// The accesses of `user`, in id order.
    pub fn accesses_of(&self, user: u64) -> impl Iterator<Item = &Access> {
        self.accesses.values().filter(move |access| access.user == user)
    }

    /// The account `account_id` of `user`, with its access.
    pub fn account_of(&self, user: u64, account_id: &str) -> Option<(&Access, &Account)> {
        self.accesses_of(user)
            .find_map(|access| access.accounts.iter().find(|a| a.id == account_id).map(|account| (access, account)))
    }

    /// The IBANs of all accounts of the login behind `access` (own accounts, for spotting internal transfers).
    pub fn own_ibans(seed: u64, access: &Access) -> Vec<String> {
        data::generate_login_ibans(seed, &access.provider.identity(), &access.login)
    }
}

/// The provider list for the widget.
pub fn all_providers() -> &'static [Provider] {
    providers::providers()
}
