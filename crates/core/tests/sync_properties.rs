//! The sync engine against a model bank, on a real SQLCipher vault: for random sequences of bank
//! states (bookings added, pending → booked under the same or a reissued id, pending dropped,
//! bookings withdrawn, time passing) and syncs in between, every sync leaves exactly the bank's
//! bookings in the vault (no duplicate, no loss), a second sync in a row changes nothing, and the
//! balance check never complains about a bank whose balance adds up.

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use kontor_core::KontorError;
use kontor_core::domain::{
    AccountId, AccountType, BookingStatus, Connection, ConnectionId, ConnectionStatus, Counterparty, Currency,
    ProviderConfig, ProviderConfigId, ProviderKind, SyncWarning,
};
use kontor_core::provider::{FetchedAccount, FetchedTransaction};
use kontor_core::store::Store;
use kontor_core::sync::{Delivery, RESYNC_OVERLAP_DAYS, apply_delivery};
use kontor_core::vault::VaultKey;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use rust_decimal::Decimal;

fn must<T>(result: Result<T, KontorError>) -> T {
    result.unwrap_or_else(|e| panic!("{:?}: {}", e.code, e.message))
}

/// A booking as the model bank holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Booking {
    account: usize,
    id: String,
    status: BookingStatus,
    date: NaiveDate,
    amount: Decimal,
    name: Option<String>,
    purpose: String,
}

/// What happens at the bank between syncs.
#[derive(Debug, Clone)]
enum Step {
    /// A new booking (pending or booked) `back` days before today, of one of few shops and amounts, so
    /// identical card payments on nearby days are common.
    Add {
        account: usize,
        pending: bool,
        shop: usize,
        amount: usize,
        back: i64,
    },
    /// The `which`-th pending booking is booked `shift` days after its pending date, under a new id or
    /// its own (the old id then listed as deleted, as finX does, or not), with a longer purpose or the
    /// same.
    Book {
        which: usize,
        reissue: bool,
        announce: bool,
        shift: i64,
        longer_purpose: bool,
    },
    /// The `which`-th pending booking disappears (cancelled reservation).
    DropPending {
        which: usize,
    },
    /// The `which`-th booked booking is withdrawn (reported in the next sync's `deleted` list).
    Withdraw {
        which: usize,
    },
    Days(i64),
    Sync,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0..2usize, any::<bool>(), 0..3usize, 0..3usize, 0..4i64)
            .prop_map(|(account, pending, shop, amount, back)| Step::Add { account, pending, shop, amount, back }),
        3 => (any::<usize>(), any::<bool>(), any::<bool>(), -2..=7i64, any::<bool>()).prop_map(
            |(which, reissue, announce, shift, longer_purpose)| Step::Book { which, reissue, announce, shift, longer_purpose }
        ),
        1 => any::<usize>().prop_map(|which| Step::DropPending { which }),
        1 => any::<usize>().prop_map(|which| Step::Withdraw { which }),
        1 => (1..4i64).prop_map(Step::Days),
        3 => Just(Step::Sync),
    ]
}

const SHOPS: [Option<&str>; 3] = [Some("REWE Markt GmbH"), Some("dm-drogerie markt"), None];
const AMOUNTS: [i64; 3] = [-550, -1999, 250_000];

struct Bank {
    today: NaiveDate,
    bookings: Vec<Booking>,
    deleted: Vec<String>,
    next_id: u64,
    opening: [i64; 2],
}

/// Bookings in a fixed order, to compare sets.
fn sorted(mut bookings: Vec<Booking>) -> Vec<Booking> {
    bookings.sort_by(|a, b| (a.account, &a.id, a.status.as_str()).cmp(&(b.account, &b.id, b.status.as_str())));
    bookings
}

impl Bank {
    fn id(&mut self) -> String {
        self.next_id += 1;
        format!("tx-{}", self.next_id)
    }

    fn balance(&self, account: usize) -> Decimal {
        let booked: Decimal = self
            .bookings
            .iter()
            .filter(|b| b.account == account && b.status == BookingStatus::Booked)
            .map(|b| b.amount)
            .sum();
        Decimal::new(self.opening[account], 2) + booked
    }

    fn nth(&self, status: BookingStatus, which: usize) -> Option<usize> {
        let all: Vec<usize> = (0..self.bookings.len()).filter(|&i| self.bookings[i].status == status).collect();
        (!all.is_empty()).then(|| all[which % all.len()])
    }

    fn apply(&mut self, step: &Step) {
        match *step {
            Step::Add { account, pending, shop, amount, back } => {
                let id = self.id();
                let status = if pending { BookingStatus::Pending } else { BookingStatus::Booked };
                self.bookings.push(Booking {
                    account,
                    id,
                    status,
                    date: self.today - Duration::days(back),
                    amount: Decimal::new(AMOUNTS[amount], 2),
                    name: SHOPS[shop].map(str::to_owned),
                    purpose: format!("Kartenzahlung {shop}"),
                });
            }
            Step::Book { which, reissue, announce, shift, longer_purpose } => {
                let Some(i) = self.nth(BookingStatus::Pending, which) else { return };
                let id = if reissue { self.id() } else { self.bookings[i].id.clone() };
                if reissue && announce {
                    self.deleted.push(self.bookings[i].id.clone());
                }
                let booking = &mut self.bookings[i];
                booking.id = id;
                booking.status = BookingStatus::Booked;
                // Never before the window a sync downloads (the model bank books within days).
                booking.date = (booking.date + Duration::days(shift)).max(self.today - Duration::days(3));
                if longer_purpose {
                    booking.purpose.push_str(" girocard 12.06.");
                }
            }
            Step::DropPending { which } => {
                if let Some(i) = self.nth(BookingStatus::Pending, which) {
                    self.bookings.remove(i);
                }
            }
            Step::Withdraw { which } => {
                if let Some(i) = self.nth(BookingStatus::Booked, which) {
                    let gone = self.bookings.remove(i);
                    self.deleted.push(gone.id);
                }
            }
            Step::Days(n) => self.today += Duration::days(n),
            Step::Sync => {}
        }
    }

    /// What the bank delivers for a download from `since` on: booked rows from then, every pending
    /// row, and the ids withdrawn since the last delivery.
    fn deliver(&mut self, since: Option<NaiveDate>) -> Delivery {
        let accounts = (0..2)
            .map(|account| FetchedAccount {
                provider_account_id: format!("acc-{account}"),
                iban: None,
                name: format!("Konto {account}"),
                holder: None,
                account_type: AccountType::Checking,
                currency: Currency::EUR,
                balance: Some(self.balance(account)),
                available: None,
                download_failed: false,
            })
            .collect();
        let transactions = self
            .bookings
            .iter()
            .filter(|b| b.status == BookingStatus::Pending || since.is_none_or(|s| b.date >= s))
            .map(|b| FetchedTransaction {
                provider_account_id: format!("acc-{}", b.account),
                provider_id: b.id.clone(),
                booking_date: b.date,
                value_date: None,
                amount: b.amount,
                currency: None,
                counterparty: Counterparty { name: b.name.clone(), iban: None, bic: None },
                purpose: Some(b.purpose.clone()),
                kind: None,
                status: b.status,
                raw: Some(format!("{{\"id\":\"{}\"}}", b.id)),
            })
            .collect();
        Delivery { accounts, transactions, deleted: std::mem::take(&mut self.deleted), pending_complete: true }
    }
}

fn vault_rows(store: &Store, connection: &ConnectionId, accounts: &[(AccountId, usize)]) -> Vec<Booking> {
    let rows: Vec<Booking> = must(store.connection_transactions(connection, None))
        .into_iter()
        .map(|(_, t)| Booking {
            account: accounts.iter().find(|(id, _)| *id == t.account_id).map(|(_, n)| *n).unwrap_or(usize::MAX),
            id: t.provider_id,
            status: t.status,
            date: t.booking_date,
            amount: t.amount.amount,
            name: t.counterparty.name,
            purpose: t.purpose.unwrap_or_default(),
        })
        .collect();
    sorted(rows)
}

fn run(steps: &[Step]) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
    let store = must(Store::open_encrypted(&dir.path().join("kontor.db"), &VaultKey::generate(), true));
    let start = Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).single().unwrap_or_default();
    must(store.upsert_provider_config(&ProviderConfig {
        id: ProviderConfigId::from("model"),
        kind: ProviderKind::Finx,
        label: "Model bank".into(),
        base_url: "http://127.0.0.1:9".into(),
        client_id: "model".into(),
        api_version: "v1".into(),
        is_demo: true,
        created_at: start,
    }));
    let mut connection = Connection {
        id: ConnectionId::from("model-connection"),
        provider_config_id: ProviderConfigId::from("model"),
        provider_connection_id: "access-1".into(),
        bank_id: None,
        bank_name: "Model Bank".into(),
        bank_bic: None,
        interface: None,
        status: ConnectionStatus::Active,
        consent_expires_at: None,
        last_synced_at: None,
        created_at: start,
    };
    let mut bank =
        Bank { today: start.date_naive(), bookings: Vec::new(), deleted: Vec::new(), next_id: 0, opening: [10_000, 0] };
    let mut seq = 0;
    let mut sync = |bank: &mut Bank, connection: &mut Connection| {
        let now = bank.today.and_hms_opt(12, 0, 0).map(|t| Utc.from_utc_datetime(&t)).unwrap_or_default();
        let since = connection.last_synced_at.map(|t| t.date_naive() - Duration::days(RESYNC_OVERLAP_DAYS));
        let delivery = bank.deliver(since);
        connection.last_synced_at = Some(now);
        must(apply_delivery(&store, connection, delivery, now, now, || {
            seq += 1;
            AccountId(format!("account-{seq}"))
        }))
    };
    let all_steps = steps.iter().chain([Step::Sync].iter());
    for step in all_steps {
        bank.apply(step);
        if !matches!(step, Step::Sync) {
            continue;
        }
        let first = sync(&mut bank, &mut connection);
        let mismatches: Vec<&SyncWarning> =
            first.warnings.iter().filter(|w| matches!(w, SyncWarning::BalanceMismatch { .. })).collect();
        prop_assert!(mismatches.is_empty(), "balance check: {mismatches:?}");
        let accounts: Vec<(AccountId, usize)> = first
            .accounts
            .iter()
            .map(|a| (a.id.clone(), a.provider_account_id.trim_start_matches("acc-").parse().unwrap_or(usize::MAX)))
            .collect();
        let expected = sorted(bank.bookings.clone());
        let after_first = vault_rows(&store, &connection.id, &accounts);
        prop_assert_eq!(&after_first, &expected, "the vault holds exactly the bank's bookings");

        let second = sync(&mut bank, &mut connection);
        prop_assert_eq!((second.added, second.updated, second.removed), (0, 0, 0), "a second sync changes nothing");
        prop_assert!(second.warnings.is_empty(), "second sync warned: {:?}", second.warnings);
        prop_assert_eq!(vault_rows(&store, &connection.id, &accounts), after_first);
    }
    Ok(())
}

#[test]
fn syncing_leaves_exactly_the_banks_bookings_and_twice_changes_nothing() {
    let mut runner = TestRunner::new(Config { cases: 96, failure_persistence: None, ..Config::default() });
    let outcome = runner.run(&proptest::collection::vec(step(), 1..45), |steps| run(&steps));
    if let Err(e) = outcome {
        panic!("{e}");
    }
}

/// The case from issue 10: two identical card payments at the same shop on nearby days, both pending,
/// then both booked under new ids: two rows before, two after, none merged into the other.
#[test]
fn two_identical_card_payments_stay_two_through_pending_and_booked() {
    let steps = [
        Step::Add { account: 0, pending: true, shop: 0, amount: 0, back: 1 },
        Step::Add { account: 0, pending: true, shop: 0, amount: 0, back: 0 },
        Step::Sync,
        Step::Days(2),
        Step::Book { which: 0, reissue: true, announce: true, shift: 2, longer_purpose: false },
        Step::Book { which: 0, reissue: true, announce: false, shift: 1, longer_purpose: false },
        Step::Sync,
    ];
    if let Err(e) = run(&steps) {
        panic!("{e}");
    }
}
