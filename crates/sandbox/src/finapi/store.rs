//! The Demo Bank's finAPI-side memory: tokens, users, bank connections with their accounts and bookings, and
//! pending multi-step authentications.
//!
//! Everything lives in one [`Store`] behind one mutex (held only for synchronous work, never across an
//! `.await`). Ids are sequential per server, so two runs with the same seed and the same calls produce the same
//! ids. Transaction ids encode their account: `account_id * 10_000_000 + n`, with `n` in `1..9_000_000` for
//! booked rows (bulk rows first, then the history, then rows added by updates) and `9_000_000 + n` for pending
//! ones, so [`Store::find_transaction`] needs no index and pages over bulk rows need not generate the others.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use super::ApiVersion;
use super::banks::{BankingInterface, Procedure};
use super::msa::Flows;
use crate::data::{self, AccountKind, Booking, GeneratedAccount};

/// Booked-row numbers stay below this; pending rows use the range above it.
pub const PENDING_ID_OFFSET: u64 = 9_000_000;
/// Rows per account id range.
pub const IDS_PER_ACCOUNT: u64 = 10_000_000;
/// The most bulk rows an account can have.
pub const MAX_BULK_ROWS: u64 = 8_000_000;

/// Who a token speaks for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Subject {
    Client,
    /// The lower-cased user id.
    User(String),
}

/// A valid access token.
#[derive(Debug, Clone)]
pub struct AccessGrant {
    pub client_id: String,
    pub subject: Subject,
    pub expires_at: Instant,
}

#[derive(Debug, Clone)]
struct RefreshGrant {
    client_id: String,
    user_key: String,
    expires_at: Instant,
}

/// A finAPI user.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct UserRecord {
    pub id: String,
    pub password: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub is_auto_update_enabled: bool,
}

/// The result of the last manual update (or of the import).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct UpdateOutcome {
    pub timestamp: DateTime<Utc>,
}

/// One stored row: a booking with its finAPI id and import time.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct StoredBooking {
    pub id: u64,
    pub booking: Booking,
    pub imported_at: DateTime<Utc>,
}

/// A transaction as listed: id, account and content (bulk rows are generated on demand).
#[derive(Debug, Clone)]
pub struct Row {
    pub id: u64,
    pub account_id: u64,
    pub booking: Booking,
    pub imported_at: DateTime<Utc>,
    pub is_new: bool,
}

/// One imported account.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct AccountRecord {
    pub id: u64,
    pub connection_id: u64,
    /// Which of the login's generated accounts this is (0 main, 1 household, 2 savings).
    pub slot: usize,
    pub kind: AccountKind,
    pub name: String,
    pub iban: String,
    pub account_number: String,
    pub holder_name: String,
    pub opening_balance: Decimal,
    pub overdraft_limit: Option<Decimal>,
    pub bulk_seed: u64,
    pub bulk_count: u64,
    pub bulk_income: Decimal,
    pub bulk_spending: Decimal,
    pub booked: Vec<StoredBooking>,
    pub pending: Vec<StoredBooking>,
    next_booked: u64,
    next_pending: u64,
    pub created_at: DateTime<Utc>,
    pub last_successful_update: DateTime<Utc>,
    pub is_new: bool,
}

impl AccountRecord {
    fn from_generated(
        id: u64,
        connection_id: u64,
        slot: usize,
        generated: GeneratedAccount,
        bulk_count: u64,
        now: DateTime<Utc>,
    ) -> Self {
        let bulk_count = bulk_count.min(MAX_BULK_ROWS);
        let (mut bulk_income, mut bulk_spending) = (Decimal::ZERO, Decimal::ZERO);
        for index in 0..bulk_count {
            let amount = data::bulk_amount(generated.bulk_seed, index);
            if amount.is_sign_negative() {
                bulk_spending += amount;
            } else {
                bulk_income += amount;
            }
        }
        let mut account = Self {
            id,
            connection_id,
            slot,
            kind: generated.kind,
            name: generated.name,
            iban: generated.iban,
            account_number: generated.account_number,
            holder_name: generated.holder_name,
            opening_balance: generated.opening_balance,
            overdraft_limit: generated.overdraft_limit,
            bulk_seed: generated.bulk_seed,
            bulk_count,
            bulk_income,
            bulk_spending,
            booked: Vec::new(),
            pending: Vec::new(),
            next_booked: bulk_count + 1,
            next_pending: PENDING_ID_OFFSET + 1,
            created_at: now,
            last_successful_update: now,
            is_new: true,
        };
        for booking in generated.bookings {
            account.book(booking, now);
        }
        for booking in generated.pending {
            account.add_pending(booking, now);
        }
        account
    }

    /// Adds a booked row with the next id.
    pub fn book(&mut self, booking: Booking, now: DateTime<Utc>) {
        let id = self.id * IDS_PER_ACCOUNT + self.next_booked;
        self.next_booked += 1;
        self.booked.push(StoredBooking { id, booking, imported_at: now });
    }

    fn add_pending(&mut self, booking: Booking, now: DateTime<Utc>) {
        let id = self.id * IDS_PER_ACCOUNT + self.next_pending;
        self.next_pending += 1;
        self.pending.push(StoredBooking { id, booking, imported_at: now });
    }

    /// Opening balance plus every booked amount.
    pub fn balance(&self) -> Decimal {
        self.opening_balance
            + self.bulk_income
            + self.bulk_spending
            + self.booked.iter().map(|row| row.booking.amount).sum::<Decimal>()
    }

    /// Booked rows, bulk ones included.
    pub fn row_count(&self) -> u64 {
        self.bulk_count + u64::try_from(self.booked.len()).unwrap_or(0)
    }

    /// Booked row `index` (`0..row_count()`), in id order.
    pub fn row(&self, index: u64, today: NaiveDate) -> Option<Row> {
        if index < self.bulk_count {
            return Some(Row {
                id: self.id * IDS_PER_ACCOUNT + index + 1,
                account_id: self.id,
                booking: data::bulk_booking(self.bulk_seed, index, self.bulk_count, today),
                imported_at: self.created_at,
                is_new: self.is_new,
            });
        }
        let stored = self.booked.get(usize::try_from(index - self.bulk_count).ok()?)?;
        Some(Row {
            id: stored.id,
            account_id: self.id,
            booking: stored.booking.clone(),
            imported_at: stored.imported_at,
            is_new: self.is_new || stored.imported_at > self.created_at,
        })
    }

    /// Sum of booked incomes and of booked spendings.
    pub fn income_and_spending(&self) -> (Decimal, Decimal) {
        let mut income = self.bulk_income;
        let mut spending = self.bulk_spending;
        for row in &self.booked {
            if row.booking.amount.is_sign_negative() {
                spending += row.booking.amount;
            } else {
                income += row.booking.amount;
            }
        }
        (income, spending)
    }
}

/// One bank connection.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ConnectionRecord {
    pub id: u64,
    pub user_key: String,
    pub bank_id: u64,
    pub interface: BankingInterface,
    pub name: Option<String>,
    /// The `Onlinebanking-ID` used; it selects the generated data.
    pub login: String,
    /// `(label, value)`; the value is `None` when not stored.
    pub credentials: Vec<(String, Option<String>)>,
    pub accounts: Vec<AccountRecord>,
    pub procedures: Vec<Procedure>,
    pub default_procedure: Option<Procedure>,
    pub update_count: u64,
    /// Reads of the connection left that still report `IN_PROGRESS`.
    pub in_progress_reads_left: u32,
    /// When the running download ends at the latest. Like finAPI's, it runs on the bank's side and ends
    /// whether or not a client reads the connection: a client killed mid-sync must not leave it locked for
    /// good. Not kept across restarts (a restarted bank has no running download).
    #[serde(skip)]
    pub busy_until: Option<std::time::Instant>,
    pub last_manual_update: UpdateOutcome,
    pub consent_expires_at: DateTime<Utc>,
    /// An update after the consent's end was refused with `INVALID_CONSENT`; the next update asks the
    /// user for a new consent (login and SCA) instead (finapi.md §3.3: "retrying requests a new one").
    #[serde(default)]
    pub consent_renewal_requested: bool,
    pub max_days_for_download: u32,
    /// The client ended the consent (`DELETE …/aisConsent`): `aisConsent.status` is `NOT_PRESENT` and the
    /// next update needs SCA, which brings a new consent.
    #[serde(default)]
    pub consent_revoked: bool,
}

impl ConnectionRecord {
    /// Whether a download still runs: it has reads left to report `IN_PROGRESS` and has not run out of time.
    pub fn is_busy(&self) -> bool {
        self.in_progress_reads_left > 0 && self.busy_until.is_some_and(|until| std::time::Instant::now() < until)
    }

    /// Starts a download that reports `IN_PROGRESS` for `reads` reads, and ends after `lasts` at the latest.
    pub fn start_download(&mut self, reads: u32, lasts: std::time::Duration) {
        self.in_progress_reads_left = reads;
        self.busy_until = Some(std::time::Instant::now() + lasts);
    }
}

/// Everything the Demo Bank remembers.
#[derive(Debug, Default)]
pub struct Store {
    tokens: HashMap<String, AccessGrant>,
    refresh_tokens: HashMap<String, RefreshGrant>,
    pub users: BTreeMap<String, UserRecord>,
    pub connections: BTreeMap<u64, ConnectionRecord>,
    pub flows: Flows,
    next_connection_id: u64,
    next_account_id: u64,
}

/// What [`Store::create_connection`] needs.
#[derive(Debug, Clone)]
pub struct NewConnection {
    pub user_key: String,
    pub bank_id: u64,
    pub interface: BankingInterface,
    pub name: Option<String>,
    pub login: String,
    pub credentials: Vec<(String, Option<String>)>,
    pub accounts: Vec<(usize, GeneratedAccount)>,
    pub procedures: Vec<Procedure>,
    pub default_procedure: Option<Procedure>,
    pub bulk_count: u64,
    pub in_progress_reads: u32,
    pub download_lasts: std::time::Duration,
    pub max_days_for_download: u32,
    /// How long the consent given at the import lasts.
    pub consent_lifetime: std::time::Duration,
}

fn random_token() -> String {
    let bytes: [u8; 24] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Store {
    /// An access token for `subject`; a still valid one is handed out again (finAPI's token reuse).
    /// Returns the token and its remaining lifetime.
    pub fn issue_access(&mut self, client_id: &str, subject: Subject, lifetime: Duration) -> (String, Duration) {
        let now = Instant::now();
        self.tokens.retain(|_, grant| grant.expires_at > now);
        if let Some((token, grant)) =
            self.tokens.iter().find(|(_, grant)| grant.client_id == client_id && grant.subject == subject)
        {
            return (token.clone(), grant.expires_at.saturating_duration_since(now));
        }
        let token = random_token();
        self.tokens.insert(
            token.clone(),
            AccessGrant { client_id: client_id.to_owned(), subject, expires_at: now + lifetime },
        );
        (token, lifetime)
    }

    pub fn issue_refresh(&mut self, client_id: &str, user_key: &str, lifetime: Duration) -> String {
        let now = Instant::now();
        self.refresh_tokens.retain(|_, grant| grant.expires_at > now);
        let token = random_token();
        self.refresh_tokens.insert(
            token.clone(),
            RefreshGrant { client_id: client_id.to_owned(), user_key: user_key.to_owned(), expires_at: now + lifetime },
        );
        token
    }

    /// The user a refresh token belongs to, if it is valid for `client_id`.
    pub fn refresh_user(&self, client_id: &str, token: &str) -> Option<String> {
        self.refresh_tokens
            .get(token)
            .filter(|grant| grant.client_id == client_id && grant.expires_at > Instant::now())
            .map(|grant| grant.user_key.clone())
    }

    /// The grant behind a valid access token.
    pub fn access(&self, token: &str) -> Option<AccessGrant> {
        self.tokens.get(token).filter(|grant| grant.expires_at > Instant::now()).cloned()
    }

    /// Forgets an access or refresh token.
    pub fn revoke(&mut self, token: &str) {
        self.tokens.remove(token);
        self.refresh_tokens.remove(token);
    }

    /// Removes a user, their tokens and their connections.
    pub fn delete_user(&mut self, user_key: &str) {
        self.users.remove(user_key);
        self.tokens.retain(|_, grant| grant.subject != Subject::User(user_key.to_owned()));
        self.refresh_tokens.retain(|_, grant| grant.user_key != user_key);
        self.connections.retain(|_, connection| connection.user_key != user_key);
    }

    pub fn create_connection(&mut self, new: NewConnection, now: DateTime<Utc>) -> u64 {
        self.next_connection_id += 1;
        let id = self.next_connection_id;
        let mut accounts = Vec::new();
        for (slot, generated) in new.accounts {
            self.next_account_id += 1;
            accounts.push(AccountRecord::from_generated(
                self.next_account_id,
                id,
                slot,
                generated,
                new.bulk_count,
                now,
            ));
        }
        self.connections.insert(
            id,
            ConnectionRecord {
                id,
                user_key: new.user_key,
                bank_id: new.bank_id,
                interface: new.interface,
                name: new.name,
                login: new.login,
                credentials: new.credentials,
                accounts,
                procedures: new.procedures,
                default_procedure: new.default_procedure,
                update_count: 0,
                in_progress_reads_left: new.in_progress_reads,
                busy_until: Some(std::time::Instant::now() + new.download_lasts),
                last_manual_update: UpdateOutcome { timestamp: now },
                consent_expires_at: now
                    + chrono::Duration::from_std(new.consent_lifetime).unwrap_or(chrono::Duration::days(90)),
                consent_renewal_requested: false,
                max_days_for_download: new.max_days_for_download,
                consent_revoked: false,
            },
        );
        id
    }

    /// The user's connection `id`.
    pub fn connection_of(&mut self, user_key: &str, id: u64) -> Option<&mut ConnectionRecord> {
        self.connections.get_mut(&id).filter(|connection| connection.user_key == user_key)
    }

    /// The user's accounts, in id order.
    pub fn accounts_of<'a>(
        &'a self,
        user_key: &'a str,
    ) -> impl Iterator<Item = (&'a ConnectionRecord, &'a AccountRecord)> {
        self.connections
            .values()
            .filter(move |connection| connection.user_key == user_key)
            .flat_map(|connection| connection.accounts.iter().map(move |account| (connection, account)))
    }

    /// A booked transaction of the user by id.
    pub fn find_transaction(&self, user_key: &str, id: u64, today: NaiveDate) -> Option<Row> {
        let account_id = id / IDS_PER_ACCOUNT;
        let number = id % IDS_PER_ACCOUNT;
        let (_, account) = self.accounts_of(user_key).find(|(_, account)| account.id == account_id)?;
        if number == 0 || number >= PENDING_ID_OFFSET {
            return None;
        }
        if number <= account.bulk_count {
            return account.row(number - 1, today);
        }
        let stored = account.booked.iter().find(|row| row.id == id)?;
        Some(Row {
            id,
            account_id,
            booking: stored.booking.clone(),
            imported_at: stored.imported_at,
            is_new: account.is_new,
        })
    }
}

/// Applies the bank's activity since the last sync (see [`data::update_activity`]) to a connection.
pub fn apply_update(connection: &mut ConnectionRecord, seed: u64, today: NaiveDate, now: DateTime<Utc>) {
    connection.update_count += 1;
    let activity = data::update_activity(seed, connection.bank_id, &connection.login, connection.update_count, today);
    for account in connection.accounts.iter_mut().filter(|account| account.slot == 0) {
        for _ in 0..activity.pending_to_book {
            if account.pending.is_empty() {
                break;
            }
            let mut booking = account.pending.remove(0).booking;
            booking.booking_date = today;
            account.book(booking, now);
        }
    }
    for (slot, booking) in activity.new_bookings {
        if let Some(account) = connection.accounts.iter_mut().find(|account| account.slot == slot) {
            account.book(booking, now);
        }
    }
    for (slot, booking) in activity.new_pending {
        if let Some(account) = connection.accounts.iter_mut().find(|account| account.slot == slot) {
            account.add_pending(booking, now);
        }
    }
    for account in &mut connection.accounts {
        account.last_successful_update = now;
    }
    connection.last_manual_update = UpdateOutcome { timestamp: now };
}

/// The client a `client_id` names and the API version it is bound to (`None`: both). `None` overall if the
/// id or secret is wrong.
pub fn client_binding(
    configured_id: &str,
    configured_secret: &str,
    configured_version: Option<ApiVersion>,
    client_id: &str,
    client_secret: &str,
) -> Option<Option<ApiVersion>> {
    if client_secret != configured_secret {
        return None;
    }
    if client_id == configured_id {
        Some(configured_version)
    } else if client_id == format!("{configured_id}-v1") {
        Some(Some(ApiVersion::V1))
    } else if client_id == format!("{configured_id}-v2") {
        Some(Some(ApiVersion::V2))
    } else {
        None
    }
}

/// A persisted access or refresh token, with its wall-clock expiry.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SavedToken {
    pub token: String,
    pub client_id: String,
    pub subject: Subject,
    pub expires_at: DateTime<Utc>,
}

/// What survives a restart of the Demo Bank (see [`crate::DemoBankConfig::state_file`]): users, connections
/// with their accounts, bookings and update counters, the id counters, and tokens. Pending multi-step
/// authentications are not kept: a client restarts an unfinished 510 loop.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Snapshot {
    /// The seed the data was generated from (informational; the stored rows are used as they are).
    pub seed: u64,
    pub users: Vec<UserRecord>,
    pub connections: Vec<ConnectionRecord>,
    pub next_connection_id: u64,
    pub next_account_id: u64,
    pub tokens: Vec<SavedToken>,
    pub refresh_tokens: Vec<SavedToken>,
}

fn wall_clock(at: Instant, now: Instant, wall_now: DateTime<Utc>) -> DateTime<Utc> {
    let left = at.saturating_duration_since(now);
    wall_now + chrono::Duration::from_std(left).unwrap_or(chrono::Duration::zero())
}

fn monotonic(at: DateTime<Utc>, now: Instant, wall_now: DateTime<Utc>) -> Option<Instant> {
    let left = (at - wall_now).to_std().ok()?;
    now.checked_add(left)
}

impl Store {
    /// The persistent part of the store.
    pub fn snapshot(&self, seed: u64) -> Snapshot {
        let now = Instant::now();
        let wall_now = Utc::now();
        let mut tokens: Vec<SavedToken> = self
            .tokens
            .iter()
            .filter(|(_, grant)| grant.expires_at > now)
            .map(|(token, grant)| SavedToken {
                token: token.clone(),
                client_id: grant.client_id.clone(),
                subject: grant.subject.clone(),
                expires_at: wall_clock(grant.expires_at, now, wall_now),
            })
            .collect();
        tokens.sort_by(|a, b| a.token.cmp(&b.token));
        let mut refresh_tokens: Vec<SavedToken> = self
            .refresh_tokens
            .iter()
            .filter(|(_, grant)| grant.expires_at > now)
            .map(|(token, grant)| SavedToken {
                token: token.clone(),
                client_id: grant.client_id.clone(),
                subject: Subject::User(grant.user_key.clone()),
                expires_at: wall_clock(grant.expires_at, now, wall_now),
            })
            .collect();
        refresh_tokens.sort_by(|a, b| a.token.cmp(&b.token));
        Snapshot {
            seed,
            users: self.users.values().cloned().collect(),
            connections: self.connections.values().cloned().collect(),
            next_connection_id: self.next_connection_id,
            next_account_id: self.next_account_id,
            tokens,
            refresh_tokens,
        }
    }

    /// A store holding what `snapshot` saved (expired tokens are dropped).
    pub fn from_snapshot(snapshot: Snapshot) -> Self {
        let now = Instant::now();
        let wall_now = Utc::now();
        let mut store = Self {
            users: snapshot.users.into_iter().map(|u| (u.id.to_lowercase(), u)).collect(),
            connections: snapshot.connections.into_iter().map(|c| (c.id, c)).collect(),
            next_connection_id: snapshot.next_connection_id,
            next_account_id: snapshot.next_account_id,
            ..Self::default()
        };
        // Never hand out an id twice, whatever the counters in the file say.
        let max_connection = store.connections.keys().copied().max().unwrap_or(0);
        let max_account = store.connections.values().flat_map(|c| c.accounts.iter().map(|a| a.id)).max().unwrap_or(0);
        store.next_connection_id = store.next_connection_id.max(max_connection);
        store.next_account_id = store.next_account_id.max(max_account);
        for saved in snapshot.tokens {
            if let Some(expires_at) = monotonic(saved.expires_at, now, wall_now) {
                store.tokens.insert(
                    saved.token,
                    AccessGrant { client_id: saved.client_id, subject: saved.subject, expires_at },
                );
            }
        }
        for saved in snapshot.refresh_tokens {
            let (Subject::User(user_key), Some(expires_at)) =
                (saved.subject, monotonic(saved.expires_at, now, wall_now))
            else {
                continue;
            };
            store.refresh_tokens.insert(saved.token, RefreshGrant { client_id: saved.client_id, user_key, expires_at });
        }
        store
    }
}
