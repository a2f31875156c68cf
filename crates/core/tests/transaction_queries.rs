//! Transactions in a real SQLCipher vault: keyset paging, every filter against a brute-force
//! computation over the same rows, search maintained through the sync apply path, the migration of
//! a schema-2 vault, and the query plans of every filter combination.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{NaiveDate, TimeZone, Utc};
use kontor_core::api::Kontor;
use kontor_core::api::dto::TransactionQuery;
use kontor_core::clock::ManualClock;
use kontor_core::domain::{
    Account, AccountId, BookingStatus, Connection, ConnectionId, ConnectionStatus, Counterparty, Direction, Money,
    Transaction, TransactionId,
};
use kontor_core::secret::SecretString;
use kontor_core::seed::{self, SeedSpec};
use kontor_core::store::sync_rows::{JournalRecord, RowUpdate, SyncWrite};
use kontor_core::store::transactions::{Keyset, TransactionFilter, fts_query, minor_units};
use kontor_core::store::{Store, migrations};
use kontor_core::vault::{SecretStore, SecretStoreError, VaultKey};
use kontor_core::{ErrorCode, KontorError};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use rust_decimal::Decimal;

fn must<T>(result: Result<T, KontorError>) -> T {
    result.unwrap_or_else(|e| panic!("{:?}: {}", e.code, e.message))
}

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).single().unwrap_or_default()
}

struct Vault {
    _dir: tempfile::TempDir,
    store: Store,
}

fn new_vault() -> Vault {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let store = must(Store::open_encrypted(&dir.path().join("kontor.db"), &VaultKey::generate(), true));
    Vault { _dir: dir, store }
}

/// A seeded vault with a few hand-made rows that test the edges: umlauts and their transcriptions,
/// an amount with sub-cent digits, a zero amount, FTS syntax in a purpose.
fn seeded(rows: u64, accounts: usize) -> (Vault, Vec<AccountId>) {
    let vault = new_vault();
    let mut spec = SeedSpec::new(rows, 7, day("2026-11-30"));
    spec.accounts = accounts;
    spec.years = 2;
    spec.batch = 500;
    let report = must(seed::fill_store(&vault.store, &spec, now()));
    let extra = [
        ("Müller Drogeriemarkt", "Einkauf \"AND (", "-19.99", BookingStatus::Booked, "2026-01-15"),
        ("Mueller Getränke", "Kasten Wasser", "-7.49", BookingStatus::Pending, "2026-01-15"),
        ("Bäckerei Körner", "Brötchen", "-0.125", BookingStatus::Booked, "2025-12-31"),
        ("Straßenbahn", "Monatskarte", "0", BookingStatus::Booked, "2025-06-01"),
        ("Erika Mustermann", "Rückzahlung", "1234567.89", BookingStatus::Booked, "2026-11-30"),
    ];
    for (i, (name, purpose, amount, status, date)) in extra.iter().enumerate() {
        let t = Transaction {
            account_id: report.accounts[i % report.accounts.len()].clone(),
            provider_id: format!("extra-{i}"),
            booking_date: day(date),
            value_date: None,
            amount: must(Money::parse(amount, "EUR")),
            counterparty: Counterparty { name: Some((*name).into()), iban: None, bic: None },
            purpose: Some((*purpose).into()),
            kind: Some("SEPA-Überweisung".into()),
            status: *status,
            raw: Some(format!("{{\"n\":{i}}}")),
        };
        must(vault.store.upsert_transaction(&t, now()));
    }
    (vault, report.accounts)
}

/// Every row, newest first, read through the store's own pages (no filter).
fn all_rows(store: &Store) -> Vec<(TransactionId, Transaction)> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = must(store.transactions(&TransactionFilter::default(), after, 1000));
        let Some((id, t)) = page.last() else { break };
        after = Some(Keyset { booking_date: t.booking_date, id: *id });
        out.extend(page);
    }
    out
}

/// What unicode61 with `remove_diacritics 2` makes of German text, closely enough for the test data.
fn fold(text: &str) -> String {
    text.to_lowercase()
        .chars()
        .map(|c| match c {
            'ä' => 'a',
            'ö' => 'o',
            'ü' => 'u',
            'é' | 'è' => 'e',
            other => other,
        })
        .collect()
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(fold).collect()
}

/// The search rule in plain Rust: every word of the query is a prefix of some word of the row, in
/// one of its spellings (as written, umlauts transcribed, transcriptions as umlauts).
fn text_matches(query: &str, t: &Transaction) -> bool {
    let fields = [&t.counterparty.name, &t.counterparty.iban, &t.purpose, &t.kind];
    let row: Vec<String> = fields.iter().filter_map(|f| f.as_deref()).flat_map(words).collect();
    query.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).all(|word| {
        let word = word.to_lowercase();
        let spellings = [
            word.clone(),
            word.replace('ä', "ae").replace('ö', "oe").replace('ü', "ue").replace('ß', "ss"),
            word.replace("ae", "ä").replace("oe", "ö").replace("ue", "ü").replace("ss", "ß"),
        ];
        spellings.iter().any(|s| {
            let s = fold(s);
            row.iter().any(|w| w.starts_with(&s))
        })
    })
}

fn cents(amount: Decimal) -> Option<Decimal> {
    let scaled = amount * Decimal::ONE_HUNDRED;
    scaled.fract().is_zero().then_some(amount)
}

fn brute_force_matches(filter: &TransactionFilter, t: &Transaction) -> bool {
    let amount = t.amount.amount;
    let size = |a| cents(a).map(|c| if filter.amounts_as_magnitudes { c.abs() } else { c });
    (filter.accounts.is_empty() || filter.accounts.contains(&t.account_id))
        && filter.from.is_none_or(|from| t.booking_date >= from)
        && filter.to.is_none_or(|to| t.booking_date <= to)
        && filter.status.is_none_or(|s| t.status == s)
        && filter.min_amount.is_none_or(|min| size(amount).is_some_and(|a| a >= min))
        && filter.max_amount.is_none_or(|max| size(amount).is_some_and(|a| a <= max))
        && match filter.direction {
            Some(Direction::Incoming) => cents(amount).is_some_and(|a| a > Decimal::ZERO),
            Some(Direction::Outgoing) => cents(amount).is_some_and(|a| a < Decimal::ZERO),
            None => true,
        }
        && filter.text.as_deref().is_none_or(|q| fts_query(q).is_none() || text_matches(q, t))
}

fn month_start(months: u32) -> Option<NaiveDate> {
    day("2024-11-01").checked_add_months(chrono::Months::new(months))
}

fn filter_strategy(accounts: Vec<AccountId>) -> impl Strategy<Value = TransactionFilter> {
    // Random days, and month boundaries (which totals and monthly sums answer from the monthly summary).
    let dates = prop_oneof![
        Just(None),
        (0i64..800).prop_map(|d| Some(day("2024-11-01") + chrono::Duration::days(d))),
        (0u32..26).prop_map(month_start),
        (1u32..27).prop_map(|m| month_start(m).and_then(|d| d.pred_opt())),
    ];
    let amounts = prop_oneof![
        3 => Just(None),
        1 => (-200_000i64..200_000).prop_map(|c| Some(Decimal::new(c, 2))),
        1 => (-2000i64..2000).prop_map(|c| Some(Decimal::new(c, 3))),
    ];
    let texts = prop_oneof![
        4 => Just(None),
        1 => proptest::sample::select(vec![
            "rewe", "müller", "Muller", "mueller", "MÜLL", "bäck", "backerei", "körner", "strasse", "straßenbahn",
            "lastschrift", "gehalt 03", "miete whg", "DE1", "xyzzy", "\"", "AND (", "einkauf and", "ü", "*", "NEAR(",
            "kartenzahlung girocard",
        ])
        .prop_map(|s| Some(s.to_owned())),
    ];
    (
        proptest::sample::subsequence(accounts.clone(), 0..=accounts.len().min(3)),
        dates.clone(),
        dates,
        amounts.clone(),
        amounts,
        prop_oneof![Just(None), Just(Some(Direction::Incoming)), Just(Some(Direction::Outgoing))],
        prop_oneof![Just(None), Just(Some(BookingStatus::Booked)), Just(Some(BookingStatus::Pending))],
        texts,
        proptest::bool::ANY,
        proptest::bool::ANY,
    )
        .prop_map(
            |(
                accounts,
                from,
                to,
                min_amount,
                max_amount,
                direction,
                status,
                text,
                oldest_first,
                amounts_as_magnitudes,
            )| {
                TransactionFilter {
                    accounts,
                    from,
                    to,
                    min_amount,
                    max_amount,
                    direction,
                    status,
                    text,
                    oldest_first,
                    amounts_as_magnitudes,
                }
            },
        )
}

#[test]
fn every_filter_pages_counts_and_sums_like_a_brute_force_over_the_same_rows() {
    let (vault, accounts) = seeded(3000, 6);
    let store = &vault.store;
    let rows = all_rows(store);
    assert_eq!(rows.len(), 3005);
    let mut runner = TestRunner::new(Config { cases: 200, failure_persistence: None, ..Config::default() });
    let strategy = (filter_strategy(accounts), 1u32..120);
    let outcome = runner.run(&strategy, |(filter, limit)| {
        let mut expected: Vec<TransactionId> =
            rows.iter().filter(|(_, t)| brute_force_matches(&filter, t)).map(|(id, _)| *id).collect();
        if filter.oldest_first {
            expected.reverse();
        }
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = must(store.transactions(&filter, after, limit));
            prop_assert!(page.len() <= limit as usize);
            let Some((id, t)) = page.last() else { break };
            after = Some(Keyset { booking_date: t.booking_date, id: *id });
            let short = page.len() < limit as usize;
            seen.extend(page.iter().map(|(id, _)| *id));
            if short {
                break;
            }
        }
        prop_assert_eq!(&seen, &expected, "filter {:?}", filter);

        let mut sums: BTreeMap<String, (u64, Decimal)> = BTreeMap::new();
        for (_, t) in rows.iter().filter(|(_, t)| brute_force_matches(&filter, t)) {
            let entry = sums.entry(t.amount.currency.to_string()).or_default();
            entry.0 += 1;
            entry.1 += t.amount.amount;
        }
        let totals: BTreeMap<String, (u64, Decimal)> = must(store.transaction_totals(&filter))
            .into_iter()
            .map(|s| (s.currency.to_string(), (s.count, s.sum)))
            .collect();
        prop_assert_eq!(totals, sums, "filter {:?}", filter);

        let mut months: BTreeMap<(String, String), (u64, Decimal, Decimal)> = BTreeMap::new();
        for (_, t) in rows.iter().filter(|(_, t)| brute_force_matches(&filter, t)) {
            let entry =
                months.entry((t.account_id.to_string(), t.booking_date.format("%Y-%m").to_string())).or_default();
            entry.0 += 1;
            if t.amount.amount > Decimal::ZERO {
                entry.1 += t.amount.amount;
            } else {
                entry.2 += t.amount.amount;
            }
        }
        let monthly: BTreeMap<(String, String), (u64, Decimal, Decimal)> = must(store.monthly_sums(&filter))
            .into_iter()
            .map(|m| ((m.account_id.to_string(), m.month), (m.count, m.income, m.spending)))
            .collect();
        prop_assert_eq!(monthly, months, "filter {:?}", filter);
        Ok(())
    });
    if let Err(err) = outcome {
        panic!("{err}");
    }
}

#[test]
fn search_folds_umlauts_and_transcriptions_and_never_parses_user_syntax() {
    let (vault, _) = seeded(200, 2);
    let search = |text: &str| {
        let filter = TransactionFilter { text: Some(text.into()), ..TransactionFilter::default() };
        must(vault.store.transactions(&filter, None, 1000))
            .into_iter()
            .filter_map(|(_, t)| t.counterparty.name)
            .collect::<HashSet<_>>()
    };
    assert!(search("Muller").contains("Müller Drogeriemarkt"));
    for query in ["müller", "Mueller", "MÜLL"] {
        let names = search(query);
        assert!(names.contains("Müller Drogeriemarkt"), "{query}: {names:?}");
        assert!(names.contains("Mueller Getränke"), "{query}: {names:?}");
    }
    assert!(search("strasse").contains("Straßenbahn"));
    assert!(search("backerei korner").contains("Bäckerei Körner"));
    assert!(search("xyzzy").is_empty());
    for hostile in ["\"", "AND (", "NEAR(", "*", "col:rewe", "\"a\" OR", "'; DROP TABLE transactions; --"] {
        let filter = TransactionFilter { text: Some(hostile.into()), ..TransactionFilter::default() };
        must(vault.store.transactions(&filter, None, 10));
        must(vault.store.transaction_totals(&filter));
    }
    assert!(search("einkauf and").contains("Müller Drogeriemarkt"));
}

#[test]
fn pages_have_no_gaps_and_no_duplicates_while_rows_are_inserted_between_fetches() {
    let (vault, accounts) = seeded(1500, 3);
    let store = &vault.store;
    let before: HashSet<TransactionId> = all_rows(store).into_iter().map(|(id, _)| id).collect();
    let mut inserted = 0u32;
    for filter in [
        TransactionFilter::default(),
        TransactionFilter { accounts: vec![accounts[0].clone()], ..TransactionFilter::default() },
        TransactionFilter { accounts: accounts[..2].to_vec(), ..TransactionFilter::default() },
    ] {
        let mut seen: Vec<TransactionId> = Vec::new();
        let mut after = None;
        let inserted_before = inserted;
        loop {
            let page = must(store.transactions(&filter, after, 64));
            let Some((id, t)) = page.last() else { break };
            after = Some(Keyset { booking_date: t.booking_date, id: *id });
            seen.extend(page.iter().map(|(id, _)| *id));
            if page.len() < 64 {
                break;
            }
            // New rows on the cursor's own date (larger ids, so above it), and on older and newer dates.
            for offset in [0i64, -40, 3] {
                inserted += 1;
                let mut row = page[0].1.clone();
                row.provider_id = format!("late-{inserted}");
                row.booking_date = t.booking_date + chrono::Duration::days(offset);
                must(store.upsert_transaction(&row, now()));
            }
        }
        let unique: HashSet<TransactionId> = seen.iter().copied().collect();
        assert_eq!(unique.len(), seen.len(), "a row was listed twice");
        let expected: HashSet<TransactionId> = before
            .iter()
            .copied()
            .filter(|id| {
                let t = must(store.transaction(*id)).unwrap_or_else(|| panic!("row {id:?} vanished"));
                filter.accounts.is_empty() || filter.accounts.contains(&t.transaction.account_id)
            })
            .collect();
        let missing: Vec<_> = expected.difference(&unique).collect();
        assert!(missing.is_empty(), "{} rows that existed before paging were skipped", missing.len());
        assert!(inserted - inserted_before > 10);
    }
}

fn connection() -> Connection {
    Connection {
        id: ConnectionId::from("seed-7"),
        provider_config_id: "seed".into(),
        provider_connection_id: "seed-7".into(),
        bank_id: None,
        bank_name: "Seeded Bank".into(),
        bank_bic: None,
        interface: None,
        status: ConnectionStatus::Active,
        consent_expires_at: None,
        last_synced_at: Some(now()),
        created_at: now(),
    }
}

/// The monthly summary (which answers unfiltered totals and charts) agrees with the rows.
fn summary_is_consistent(store: &Store) {
    let rows = all_rows(store);
    let sum: Decimal = rows.iter().map(|(_, t)| t.amount.amount).sum();
    let totals = must(store.transaction_totals(&TransactionFilter::default()));
    let count: u64 = totals.iter().map(|t| t.count).sum();
    assert_eq!((count, totals.iter().map(|t| t.sum).sum::<Decimal>()), (rows.len() as u64, sum));
    let mut months: BTreeMap<(String, String), u64> = BTreeMap::new();
    for (_, t) in &rows {
        *months.entry((t.account_id.to_string(), t.booking_date.format("%Y-%m").to_string())).or_default() += 1;
    }
    let stored: BTreeMap<(String, String), u64> = must(store.monthly_sums(&TransactionFilter::default()))
        .into_iter()
        .map(|m| ((m.account_id.to_string(), m.month), m.count))
        .collect();
    assert_eq!(stored, months);

    // The daily net of the booked rows (behind the running balances), zero days left out on both sides.
    let mut days: BTreeMap<(String, String, String), i64> = BTreeMap::new();
    for (_, t) in rows.iter().filter(|(_, t)| t.status == BookingStatus::Booked) {
        let key = (t.account_id.to_string(), t.booking_date.to_string(), t.amount.currency.to_string());
        *days.entry(key).or_default() += minor_units(t.amount.amount).unwrap_or_default();
    }
    days.retain(|_, net| *net != 0);
    let mut statement = store
        .conn()
        .prepare("SELECT account_id, day, currency, net_minor FROM transaction_days WHERE net_minor <> 0")
        .unwrap_or_else(|e| panic!("{e}"));
    let stored: BTreeMap<(String, String, String), i64> = statement
        .query_map([], |r| Ok(((r.get(0)?, r.get(1)?, r.get(2)?), r.get(3)?)))
        .and_then(|rows| rows.collect())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stored, days);
}

fn fts_is_consistent(store: &Store) {
    store
        .conn()
        .execute("INSERT INTO transactions_fts (transactions_fts, rank) VALUES ('integrity-check', 1)", [])
        .unwrap_or_else(|e| panic!("the search index disagrees with the table: {e}"));
}

/// One sync's write, through the store's real write path.
fn write(
    store: &Store,
    accounts: &[Account],
    inserts: &[Transaction],
    updates: &[RowUpdate],
    removals: &[TransactionId],
) {
    let journal =
        JournalRecord { started_at: now(), finished_at: now(), added: 0, updated: 0, removed: 0, warnings: Vec::new() };
    let connection = connection();
    let write = SyncWrite { connection: &connection, accounts, inserts, updates, removals, journal: &journal };
    must(store.immediate(|s| s.write_sync(&write)));
}

#[test]
fn search_follows_sync_inserts_updates_removals_and_cascades() {
    let (vault, accounts) = seeded(100, 2);
    let store = &vault.store;
    let search = |text: &str| {
        let filter = TransactionFilter { text: Some(text.into()), ..TransactionFilter::default() };
        must(store.transactions(&filter, None, 100)).into_iter().map(|(id, _)| id).collect::<Vec<_>>()
    };
    let accounts_now = must(store.connection_accounts(&connection().id));
    let mut row = Transaction {
        account_id: accounts[0].clone(),
        provider_id: "fts-1".into(),
        booking_date: day("2026-11-29"),
        value_date: None,
        amount: must(Money::parse("-3.20", "EUR")),
        counterparty: Counterparty { name: Some("Konditorei Zuckerbäcker".into()), iban: None, bic: None },
        purpose: Some("Quarkbällchen".into()),
        kind: Some("Kartenzahlung".into()),
        status: BookingStatus::Pending,
        raw: None,
    };
    write(store, &accounts_now, &[row.clone()], &[], &[]);
    let found = search("zuckerbacker");
    assert_eq!(found.len(), 1);
    let id = found[0];
    assert_eq!(search("quarkbäll"), vec![id]);

    row.counterparty.name = Some("Metzgerei Hübner".into());
    row.status = BookingStatus::Booked;
    write(store, &accounts_now, &[], &[RowUpdate { id, transaction: row.clone(), pending_match: None }], &[]);
    assert!(search("zuckerbacker").is_empty());
    assert_eq!(search("huebner"), vec![id]);
    fts_is_consistent(store);
    summary_is_consistent(store);

    write(store, &accounts_now, &[], &[], &[id]);
    assert!(search("hubner").is_empty());
    assert!(search("quarkballchen").is_empty());
    fts_is_consistent(store);
    summary_is_consistent(store);

    // Deleting the connection cascades to its accounts and transactions, and out of the index.
    assert!(!search("rewe").is_empty());
    store.conn().execute("DELETE FROM connections", []).unwrap_or_else(|e| panic!("{e}"));
    assert!(search("rewe").is_empty());
    assert!(all_rows(store).is_empty());
    fts_is_consistent(store);
    summary_is_consistent(store);
}

fn raw_conn(path: &Path, key: &VaultKey) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).unwrap_or_else(|e| panic!("{e}"));
    conn.pragma_update(None, "key", format!("x'{}'", key.to_hex().expose())).unwrap_or_else(|e| panic!("{e}"));
    conn.busy_timeout(Duration::from_secs(5)).unwrap_or_else(|e| panic!("{e}"));
    conn
}

#[test]
fn a_schema_2_vault_gets_minor_units_search_and_compact_raw_data_unchanged() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let path = dir.path().join("kontor.db");
    let key = VaultKey::generate();
    let old_rows = [
        (
            "t1",
            "2026-10-01",
            "-12.3",
            "Müller Drogeriemarkt",
            "booked",
            Some("{\"id\":\"t1\",\"purpose\":\"Zahnpasta\"}"),
        ),
        ("t2", "2026-10-02", "2500", "Musterfirma Software GmbH", "booked", Some("{\"id\":\"t2\",\"gehalt\":true}")),
        ("t3", "2026-10-03", "-0.125", "Stadtwerke", "pending", None),
        ("t4", "2026-10-03", "-45.67", "REWE Markt", "booked", Some("{}")),
    ];
    {
        let conn = raw_conn(&path, &key);
        conn.execute_batch(migrations::MIGRATIONS[0]).unwrap_or_else(|e| panic!("{e}"));
        conn.execute_batch(migrations::MIGRATIONS[1]).unwrap_or_else(|e| panic!("{e}"));
        conn.execute_batch(
            "PRAGMA user_version = 2;
             INSERT INTO provider_configs VALUES ('p', 'finapi', 'Demo', 'http://x', 'c', 'v2', 1, '2026-01-01T00:00:00Z');
             INSERT INTO connections (id, provider_config_id, provider_connection_id, bank_name, status, created_at)
                 VALUES ('c', 'p', '1', 'Bank', 'active', '2026-01-01T00:00:00Z');
             INSERT INTO accounts (id, connection_id, provider_account_id, name, account_type, currency)
                 VALUES ('a', 'c', '1', 'Giro', 'checking', 'EUR');",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        for (provider_id, date, amount, name, status, raw) in old_rows {
            conn.execute(
                "INSERT INTO transactions (account_id, provider_id, booking_date, amount, currency, counterparty_name,
                     purpose, kind, status, raw, first_seen_at, updated_at)
                 VALUES ('a', ?1, ?2, ?3, 'EUR', ?4, 'Verwendungszweck', 'Lastschrift', ?5, ?6,
                     '2026-10-04T00:00:00Z', '2026-10-04T00:00:00Z')",
                rusqlite::params![provider_id, date, amount, name, status, raw],
            )
            .unwrap_or_else(|e| panic!("{e}"));
        }
    }
    let store = must(Store::open_encrypted(&path, &key, false));
    assert_eq!(must(store.schema_version()), migrations::LATEST);
    type Stored = (String, String, Option<i64>, Option<String>, bool);
    let stored: Vec<Stored> = store
        .conn()
        .prepare("SELECT provider_id, amount, amount_minor, raw, raw_z IS NOT NULL FROM transactions ORDER BY id")
        .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?.collect())
        .unwrap_or_else(|e| panic!("{e}"));
    let minors: Vec<Option<i64>> = stored.iter().map(|s| s.2).collect();
    assert_eq!(minors, vec![Some(-1230), Some(250_000), None, Some(-4567)]);
    let amounts: Vec<&str> = stored.iter().map(|s| s.1.as_str()).collect();
    assert_eq!(amounts, vec!["-12.3", "2500", "-0.125", "-45.67"], "the decimal text is unchanged");
    assert!(stored.iter().all(|s| s.3.is_none()), "the text column was emptied");
    assert_eq!(stored.iter().map(|s| s.4).collect::<Vec<_>>(), vec![true, true, false, true]);

    summary_is_consistent(&store);
    let rows = all_rows(&store);
    assert_eq!(rows.len(), 4);
    for (id, _) in &rows {
        let detail = must(store.transaction(*id)).unwrap_or_else(|| panic!("row {id:?}"));
        let original = old_rows.iter().find(|r| r.0 == detail.transaction.provider_id).map(|r| r.5);
        assert_eq!(detail.transaction.raw.as_deref(), original.flatten(), "raw JSON of {id:?}");
    }
    let filter = TransactionFilter { text: Some("Muller".into()), ..TransactionFilter::default() };
    let found = must(store.transactions(&filter, None, 10));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].1.provider_id, "t1");
    let totals = must(store.transaction_totals(&TransactionFilter::default()));
    assert_eq!(totals.len(), 1);
    assert_eq!((totals[0].count, totals[0].sum), (4, "2441.905".parse().unwrap_or_default()));
    fts_is_consistent(&store);
}

/// What a plan step says about the transactions table.
fn scans_table(line: &str) -> bool {
    line == "SCAN t"
}

#[test]
fn every_filter_combination_seeks_instead_of_scanning_the_table() {
    let (vault, accounts) = seeded(400, 3);
    let store = &vault.store;
    let cursor = Keyset { booking_date: day("2025-06-30"), id: TransactionId(200) };
    let mut checked = 0;
    for account_count in [0usize, 1, 2] {
        for dates in 0..4 {
            for after in [None, Some(cursor)] {
                for status in [None, Some(BookingStatus::Pending)] {
                    for amounts in 0..4 {
                        for direction in [None, Some(Direction::Outgoing)] {
                            for (text, oldest_first) in [None, Some("rewe danke"), Some("kartenzahlung")]
                                .into_iter()
                                .flat_map(|text| [(text, false), (text, true)])
                            {
                                let filter = TransactionFilter {
                                    accounts: accounts[..account_count].to_vec(),
                                    from: (dates & 1 == 1).then(|| day("2025-01-01")),
                                    to: (dates & 2 == 2).then(|| day("2026-03-31")),
                                    min_amount: (amounts & 1 == 1).then(|| Decimal::new(-5000, 2)),
                                    max_amount: (amounts & 2 == 2).then(|| Decimal::new(-100, 2)),
                                    direction,
                                    status,
                                    text: text.map(str::to_owned),
                                    oldest_first,
                                    amounts_as_magnitudes: amounts == 3,
                                };
                                let plan = must(store.transaction_query_plans(&filter, after));
                                check_plan(&filter, after.is_some(), &plan);
                                checked += 1;
                            }
                        }
                    }
                }
            }
        }
    }
    assert_eq!(checked, 3 * 4 * 2 * 2 * 4 * 2 * 3 * 2);
}

fn check_plan(filter: &TransactionFilter, keyset: bool, plan: &[String]) {
    let context = format!("filter {filter:?}, keyset {keyset}:\n{}", plan.join("\n"));
    let mut sections: Vec<(&str, Vec<&str>)> = Vec::new();
    for line in plan {
        match line.strip_prefix("-- ") {
            Some(name) => sections.push((name, Vec::new())),
            None => {
                if let Some((_, lines)) = sections.last_mut() {
                    lines.push(line.as_str());
                }
            }
        }
    }
    let names: Vec<&str> = sections.iter().map(|(name, _)| *name).collect();
    assert!(names.contains(&"page") && names.contains(&"totals") && names.contains(&"monthly"), "{context}");
    for (name, lines) in &sections {
        assert!(!lines.iter().any(|l| scans_table(l)), "{name} scans the transactions table: {context}");
        if lines.iter().any(|l| l.starts_with("SCAN m") || l.starts_with("SEARCH m")) {
            // Answered from the monthly summary: a few rows per account and month.
            assert_ne!(*name, "page", "{context}");
            if !filter.accounts.is_empty() {
                assert!(lines.iter().any(|l| l.starts_with("SEARCH m USING PRIMARY KEY (account_id=")), "{context}");
            }
            continue;
        }
        if let Some(text) = &filter.text {
            let fts = |l: &&str| l.starts_with("SCAN f VIRTUAL") || l.starts_with("SCAN transactions_fts VIRTUAL");
            assert!(lines.iter().any(fts), "{name}: {context}");
            let drives = lines.iter().any(|l| l.starts_with("SEARCH t USING INTEGER PRIMARY KEY"));
            // A rare combination drives from the index; a common word filters a walk in date order.
            assert_eq!(drives, text == "rewe danke", "{name}: {context}");
            if !drives {
                assert!(lines.iter().any(|l| l.contains("INDEX transactions_by_")), "{name}: {context}");
                if *name == "page" {
                    assert!(!lines.iter().any(|l| l.contains("TEMP B-TREE FOR ORDER BY")), "{name}: {context}");
                }
            }
            continue;
        }
        let on_index = |index: &str| lines.iter().any(|l| l.starts_with("SEARCH t USING") && l.contains(index));
        // Pending rows have a small index of their own (schema 4), which is the better seek for them.
        let pending = filter.status == Some(BookingStatus::Pending);
        if !filter.accounts.is_empty() {
            assert!(
                on_index("transactions_by_account_date (account_id=")
                    || (pending && on_index("transactions_pending (account_id=")),
                "{name} does not seek the account: {context}"
            );
        } else if filter.from.is_some() || filter.to.is_some() || (keyset && *name == "page") {
            assert!(
                on_index("transactions_by_date (booking_date")
                    || (pending && lines.iter().any(|l| l.contains("INDEX transactions_pending"))),
                "{name} does not seek the date: {context}"
            );
        }
        if *name == "page" {
            assert!(
                !lines.iter().any(|l| l.contains("TEMP B-TREE")),
                "the page sorts instead of reading in order: {context}"
            );
        } else {
            assert!(lines.iter().all(|l| !l.starts_with("SCAN t") || l.contains("COVERING INDEX")), "{context}");
        }
    }
}

/// A keyring in memory, for the facade test (the vault code under test is the real one).
#[derive(Debug, Default)]
struct MemoryKeyring(Mutex<HashMap<String, String>>);

impl SecretStore for MemoryKeyring {
    fn get(&self, name: &str) -> Result<Option<SecretString>, SecretStoreError> {
        Ok(self.0.lock().unwrap_or_else(|e| e.into_inner()).get(name).cloned().map(SecretString::new))
    }
    fn set(&self, name: &str, value: &SecretString) -> Result<(), SecretStoreError> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).insert(name.into(), value.expose().clone());
        Ok(())
    }
    fn delete(&self, name: &str) -> Result<(), SecretStoreError> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(name);
        Ok(())
    }
}

#[test]
fn the_facade_pages_with_cursors_totals_details_charts_and_refuses_bad_input() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let kontor = Kontor::new(dir.path(), Arc::new(MemoryKeyring::default()), Arc::new(ManualClock::new(now())));
    kontor.start();
    let mut spec = SeedSpec::new(900, 11, day("2026-11-30"));
    spec.accounts = 3;
    let report = must(seed::fill(&kontor, &spec));

    let query = TransactionQuery {
        accounts: Some(vec![report.accounts[0].to_string()]),
        limit: Some(50),
        ..Default::default()
    };
    let first = must(kontor.transactions(&query));
    let totals = first.totals.clone().unwrap_or_else(|| panic!("the first page has totals"));
    let count = totals.iter().map(|t| t.count).sum::<u64>();
    assert!(count > 100, "{count}");
    let mut listed = first.transactions.len() as u64;
    let mut sum: Decimal = first.transactions.iter().map(|t| t.amount.parse::<Decimal>().unwrap_or_default()).sum();
    let mut next = first.next.clone();
    while let Some(after) = next {
        let page = must(kontor.transactions(&TransactionQuery { after: Some(after), ..query.clone() }));
        assert!(page.totals.is_none());
        listed += page.transactions.len() as u64;
        sum += page.transactions.iter().map(|t| t.amount.parse::<Decimal>().unwrap_or_default()).sum::<Decimal>();
        next = page.next;
    }
    assert_eq!(listed, count);
    assert_eq!(sum.to_string(), Decimal::from_str_exact(&totals[0].sum).unwrap_or_default().to_string());

    let detail = must(kontor.transaction(first.transactions[0].id));
    assert_eq!(detail.account_name.as_deref(), Some("Girokonto"));
    assert_eq!(detail.bank_name.as_deref(), Some("Seeded Bank"));
    let raw: serde_json::Value =
        serde_json::from_str(detail.raw.as_deref().unwrap_or_default()).unwrap_or_else(|e| panic!("raw JSON: {e}"));
    assert_eq!(raw["id"].as_str(), Some(detail.provider_id.as_str()));
    assert_eq!(kontor.transaction(-1).map_err(|e| e.code).err(), Some(ErrorCode::NotFound));

    let flows = must(kontor.monthly_flows(&query));
    let flow_count: u64 = flows.iter().map(|f| f.count).sum();
    assert_eq!(flow_count, count);

    let history = must(kontor.balance_history(report.accounts[0].as_str()));
    let overview = must(kontor.overview());
    let account = overview.accounts.iter().find(|a| a.id == report.accounts[0].as_str());
    let balance = account.and_then(|a| a.balance_booked.clone()).unwrap_or_default();
    assert_eq!(history.last().map(|p| p.balance.as_str()), Some(balance.as_str()));
    // The newest booked row shows the balance after it, the reported one; its detail the same.
    let newest = first.transactions.iter().find(|t| t.status == BookingStatus::Booked);
    let newest = newest.unwrap_or_else(|| panic!("a booked row"));
    assert_eq!(newest.running_balance.as_deref(), Some(balance.as_str()));
    assert_eq!(must(kontor.transaction(newest.id)).running_balance, newest.running_balance);
    assert!(history.len() > 12, "{}", history.len());
    // The first point is the balance before the first booking: the last one less every booked row.
    let booked =
        must(kontor.transaction_totals(&TransactionQuery { status: Some(BookingStatus::Booked), ..query.clone() }));
    let opening = balance.parse::<Decimal>().unwrap_or_default() - booked[0].sum.parse::<Decimal>().unwrap_or_default();
    assert_eq!(history[0].balance.parse::<Decimal>().unwrap_or_default(), opening);

    for bad in [
        TransactionQuery { from: Some("31.12.2025".into()), ..Default::default() },
        TransactionQuery { min_amount: Some("zehn".into()), ..Default::default() },
        TransactionQuery { after: Some("nonsense".into()), ..Default::default() },
        TransactionQuery { limit: Some(0), ..Default::default() },
        TransactionQuery { limit: Some(5000), ..Default::default() },
    ] {
        assert_eq!(kontor.transactions(&bad).map(|_| ()).map_err(|e| e.code), Err(ErrorCode::InvalidInput), "{bad:?}");
    }
    must(kontor.close());
}

/// The balance after `row` by definition: the reported balance, less the booked rows after `row` up to
/// the balance's day, plus the booked rows after that day up to `row`.
fn brute_force_balance(
    account: &Account,
    rows: &[(TransactionId, Transaction)],
    row: (TransactionId, &Transaction),
) -> Decimal {
    let (balance, on) = match (account.balance_booked, account.balance_booked_date) {
        (Some(b), Some(on)) => (b.amount, on),
        _ => panic!("account {} has no balance", account.id),
    };
    let key = (row.1.booking_date, row.0);
    rows.iter().filter(|(_, t)| t.account_id == account.id && t.status == BookingStatus::Booked).fold(
        balance,
        |sum, (id, t)| {
            let later = (t.booking_date, *id) > key;
            match (later, t.booking_date <= on) {
                (true, true) => sum - t.amount.amount,
                (false, false) => sum + t.amount.amount,
                _ => sum,
            }
        },
    )
}

#[test]
fn running_balances_follow_the_reported_balance_on_every_page_order_and_filter() {
    let (vault, ids) = seeded(2400, 3);
    let store = &vault.store;
    // A booking dated after the balance's day, which the balance does not contain yet.
    let mut late = all_rows(store)
        .into_iter()
        .find(|(_, t)| t.account_id == ids[1])
        .map(|(_, t)| t)
        .unwrap_or_else(|| panic!("a row"));
    late.provider_id = "after-the-balance".into();
    late.booking_date = day("2026-12-02");
    late.status = BookingStatus::Booked;
    must(store.upsert_transaction(&late, now()));

    let accounts = must(store.accounts());
    let rows = all_rows(store);
    // `seeded` gives the first account an amount with sub-cent digits: no exact balance there.
    let inexact = &ids[2 % ids.len()];
    let mut checked = 0;
    for filter in [
        TransactionFilter::default(),
        TransactionFilter { oldest_first: true, ..TransactionFilter::default() },
        TransactionFilter { accounts: vec![ids[1].clone()], ..TransactionFilter::default() },
        TransactionFilter { text: Some("rewe".into()), ..TransactionFilter::default() },
        TransactionFilter {
            min_amount: Some(Decimal::new(-2000, 2)),
            direction: Some(Direction::Outgoing),
            ..TransactionFilter::default()
        },
    ] {
        let mut after = None;
        loop {
            let page = must(store.transactions(&filter, after, 97));
            let Some((id, t)) = page.last() else { break };
            after = Some(Keyset { booking_date: t.booking_date, id: *id });
            let balances = must(store.running_balances(&accounts, &page, filter.keeps_runs_of_bookings()));
            let read_each = must(store.running_balances(&accounts, &page, false));
            assert_eq!(balances, read_each, "{filter:?}: following from each other or read, the same");
            for ((id, t), balance) in page.iter().zip(&balances) {
                let account = accounts.iter().find(|a| a.id == t.account_id).unwrap_or_else(|| panic!("account"));
                if t.status == BookingStatus::Pending || &t.account_id == inexact {
                    assert_eq!(*balance, None, "{filter:?}: row {id:?} ({:?}, account {})", t.status, t.account_id);
                    continue;
                }
                assert_eq!(*balance, Some(brute_force_balance(account, &rows, (*id, t))), "{filter:?}: row {id:?}");
                checked += 1;
            }
            if page.len() < 97 {
                break;
            }
        }
    }
    assert!(checked > 3000, "{checked}");
    // The newest booked row of an account at the balance's day shows the reported balance.
    let account = accounts.iter().find(|a| a.id == ids[0]).unwrap_or_else(|| panic!("account"));
    let newest = rows
        .iter()
        .find(|(_, t)| t.account_id == ids[0] && t.status == BookingStatus::Booked)
        .unwrap_or_else(|| panic!("a row"));
    let shown = must(store.running_balances(&accounts, std::slice::from_ref(newest), false));
    assert_eq!(shown, vec![account.balance_booked.map(|b| b.amount)]);
    // No balance without a reported one.
    let unreported: Vec<Account> = accounts.iter().cloned().map(|a| Account { balance_booked: None, ..a }).collect();
    assert!(must(store.running_balances(&unreported, &rows[..200], true)).iter().all(Option::is_none));

    let plan = must(store.running_balance_plan());
    assert!(
        plan.iter().any(|l| l.contains("USING COVERING INDEX transactions_by_account_date"))
            && plan.iter().any(|l| l.contains("transaction_days USING PRIMARY KEY"))
            && !plan.iter().any(|l| scans_table(l) || l.starts_with("SCAN")),
        "{plan:?}"
    );
}

/// Count and sum (all currencies) of what the facade lists for `query`, walking every page.
fn listed(kontor: &Kontor, query: &TransactionQuery) -> (u64, Decimal, HashSet<String>) {
    let mut query = TransactionQuery { limit: Some(1000), ..query.clone() };
    let (mut count, mut sum, mut accounts) = (0u64, Decimal::ZERO, HashSet::new());
    loop {
        let page = must(kontor.transactions(&query));
        for row in &page.transactions {
            count += 1;
            sum += row.amount.parse::<Decimal>().unwrap_or_else(|e| panic!("{}: {e}", row.amount));
            accounts.insert(row.account_id.clone());
        }
        let Some(next) = page.next else { break };
        query.after = Some(next);
    }
    (count, sum, accounts)
}

fn totals(kontor: &Kontor, query: &TransactionQuery) -> (u64, Decimal) {
    let totals = must(kontor.transaction_totals(query));
    (totals.iter().map(|t| t.count).sum(), totals.iter().map(|t| t.sum.parse::<Decimal>().unwrap_or_default()).sum())
}

fn exported_lines(kontor: &Kontor, query: &TransactionQuery) -> u64 {
    use kontor_core::api::transactions::{ExportFormat, ExportLocale};
    let mut csv = Vec::new();
    must(kontor.export_transactions(query, ExportFormat::Csv, ExportLocale::En, &mut csv))
}

#[test]
fn the_list_without_an_account_filter_covers_the_accounts_the_overview_counts() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let kontor = Kontor::new(dir.path(), Arc::new(MemoryKeyring::default()), Arc::new(ManualClock::new(now())));
    kontor.start();
    let mut spec = SeedSpec::new(600, 11, day("2026-11-30"));
    spec.accounts = 3;
    let first = must(seed::fill(&kontor, &spec));
    let mut second = SeedSpec::new(200, 12, day("2026-11-30"));
    second.accounts = 1;
    let other = must(seed::fill(&kontor, &second));
    let all = TransactionQuery::default();
    let only = |ids: &[&AccountId]| TransactionQuery {
        accounts: Some(ids.iter().map(|id| id.to_string()).collect()),
        ..Default::default()
    };
    let everything = listed(&kontor, &all);
    assert_eq!(everything.0, 800);
    assert_eq!(everything.2.len(), 4);
    let per_account: HashMap<&AccountId, (u64, Decimal)> = first
        .accounts
        .iter()
        .chain(&other.accounts)
        .map(|id| {
            let (count, sum, _) = listed(&kontor, &only(&[id]));
            (id, (count, sum))
        })
        .collect();
    assert!(per_account.values().all(|(count, _)| *count > 0), "{per_account:?}");

    // Hidden: out of the list, its count and sum, the monthly sums and the export; reachable by name.
    let hidden = &first.accounts[1];
    must(kontor.set_account_hidden(hidden.as_str(), true));
    let (count, sum, accounts) = listed(&kontor, &all);
    assert!(!accounts.contains(hidden.as_str()), "a hidden account's bookings are listed");
    assert_eq!((count, sum), (everything.0 - per_account[hidden].0, everything.1 - per_account[hidden].1));
    assert_eq!(totals(&kontor, &all), (count, sum));
    let flows: u64 = must(kontor.monthly_flows(&all)).iter().map(|f| f.count).sum();
    assert_eq!(flows, count);
    assert_eq!(exported_lines(&kontor, &all), count);
    assert_eq!(listed(&kontor, &only(&[hidden])).0, per_account[hidden].0, "named, a hidden account is listed");
    must(kontor.set_account_hidden(hidden.as_str(), false));
    assert_eq!(listed(&kontor, &all).0, everything.0);

    // A second account with an IBAN already held (a duplicate): counted once, as in the overview's total.
    let iban = must(kontor.overview())
        .accounts
        .iter()
        .find(|a| a.id == first.accounts[0].as_str())
        .and_then(|a| a.iban.clone());
    must(kontor.with_store(|s| {
        let mut copy =
            s.accounts()?.into_iter().find(|a| a.id == other.accounts[0]).unwrap_or_else(|| panic!("seeded"));
        copy.iban = iban.clone();
        s.upsert_account(&copy)
    }));
    let overview = must(kontor.overview());
    let duplicate =
        overview.accounts.iter().find(|a| a.duplicate_of.is_some()).unwrap_or_else(|| panic!("a duplicate"));
    let duplicate = first
        .accounts
        .iter()
        .chain(&other.accounts)
        .find(|id| id.as_str() == duplicate.id)
        .unwrap_or_else(|| panic!("known"));
    let (count, sum, accounts) = listed(&kontor, &all);
    assert!(!accounts.contains(duplicate.as_str()));
    assert_eq!((count, sum), (everything.0 - per_account[duplicate].0, everything.1 - per_account[duplicate].1));
    assert_eq!(totals(&kontor, &all), (count, sum));

    // The user keeps the duplicate: the other account with that IBAN is hidden and leaves the list instead.
    must(kontor.keep_account(duplicate.as_str()));
    let kept_out = [&first.accounts[0], &other.accounts[0]]
        .into_iter()
        .find(|id| *id != duplicate)
        .unwrap_or_else(|| panic!("two"));
    let (count, _, accounts) = listed(&kontor, &all);
    assert!(accounts.contains(duplicate.as_str()) && !accounts.contains(kept_out.as_str()), "{accounts:?}");
    assert_eq!(count, everything.0 - per_account[kept_out].0);

    // Every account hidden: nothing is listed, counted or exported.
    for id in first.accounts.iter().chain(&other.accounts) {
        must(kontor.set_account_hidden(id.as_str(), true));
    }
    let page = must(kontor.transactions(&all));
    assert!(page.transactions.is_empty() && page.next.is_none());
    assert_eq!(page.totals.map(|t| t.len()), Some(0));
    assert_eq!(exported_lines(&kontor, &all), 0);
    assert_eq!(listed(&kontor, &only(&[hidden])).0, per_account[hidden].0);
    must(kontor.close());
}
