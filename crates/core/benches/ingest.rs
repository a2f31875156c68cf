//! Ingest through Kontor's sync path beside a plain-SQLite and a SQLCipher floor, and a re-sync of
//! 90 known days (issue 13).
//!
//! Run by hand, never as part of the tests:
//!
//! ```sh
//! cargo bench -p kontor-core --bench ingest                       # 10k, 100k, 1M
//! cargo bench -p kontor-core --bench ingest -- 10000 100000      # chosen sizes
//! cargo bench -p kontor-core --bench ingest -- --quick           # 10k only
//! ```
//!
//! For each size N, in one run and on the same rows ([`kontor_core::seed::Generator`], realistic
//! German bookings over 6 accounts and 5 years, 2 % pending, each with a finAPI-shaped raw JSON):
//!
//! - **Kontor**: a fresh vault filled through the real sync path, [`kontor_core::sync::apply_delivery`]
//!   in batches of 2,000 rows as a sync delivers them (load → plan → balance check → apply with the
//!   search index and monthly sums, one transaction per batch).
//! - **floors**: the same stored values (the raw JSON deflated by the same function, which is timed)
//!   inserted with one prepared statement into a table with the same columns, its primary key and
//!   the `(account_id, provider_id)` unique key, one transaction per batch: once into plain SQLite,
//!   once into SQLCipher opened like the vault (same key handling, page cache, WAL).
//! - **re-sync**: the bookings of the last 90 days delivered again to the filled vault (nothing
//!   changes), timed end to end.
//!
//! Output, one JSON object per line (`make bench` parses exactly these):
//!
//! ```text
//! {"bench":"ingest","rows":N,"kontor_tx_per_s":..,"sqlcipher_floor_tx_per_s":..,"sqlite_floor_tx_per_s":..,
//!  "ratio_to_sqlcipher":..,"load_ms_first_sync":..,"load_ms_last_sync":..,"bytes_per_tx":..}
//! {"bench":"resync","rows":N,"days":90,"resync_rows":..,"ms":..}
//! ```

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{Duration as Days, NaiveDate, TimeZone, Utc};
use kontor_core::provider::FetchedTransaction;
use kontor_core::seed::{self, Generator, SeedSpec};
use kontor_core::store::Store;
use kontor_core::store::transactions::{compress_raw, minor_units};
use kontor_core::sync::{self, Delivery};
use kontor_core::vault::VaultKey;
use rusqlite::{Connection, params};
use serde_json::json;

const BATCH: usize = 2000;
const RESYNC_DAYS: i64 = 90;

fn fail<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> String + '_ {
    move |e| format!("{what}: {e}")
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 100.0).round() / 100.0
}

fn per_second(rows: u64, d: Duration) -> f64 {
    (rows as f64 / d.as_secs_f64().max(1e-9)).round()
}

const FLOOR_SCHEMA: &str = "CREATE TABLE transactions (
    id INTEGER PRIMARY KEY, account_id TEXT NOT NULL, provider_id TEXT NOT NULL, booking_date TEXT NOT NULL,
    value_date TEXT, amount TEXT NOT NULL, currency TEXT NOT NULL, counterparty_name TEXT, counterparty_iban TEXT,
    counterparty_bic TEXT, purpose TEXT, kind TEXT, status TEXT NOT NULL, raw_z BLOB, first_seen_at TEXT NOT NULL,
    updated_at TEXT NOT NULL, amount_minor INTEGER, UNIQUE (account_id, provider_id)) STRICT";

/// Inserts every row of `generator` into the floor `conn`, a transaction per batch; returns the time
/// spent writing (row generation excluded, deflating the raw JSON included).
fn fill_floor(conn: &mut Connection, generator: &Generator, rows: u64) -> Result<Duration, String> {
    conn.execute_batch(FLOOR_SCHEMA).map_err(fail("floor schema"))?;
    let mut spent = Duration::ZERO;
    let now = "2026-11-30T12:00:00.000Z";
    let mut from = 0;
    while from < rows {
        let to = (from + BATCH as u64).min(rows);
        let batch = generator.rows(from, to);
        let started = Instant::now();
        let tx = conn.transaction().map_err(fail("floor begin"))?;
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO transactions (account_id, provider_id, booking_date, value_date, amount, currency,
                       counterparty_name, counterparty_iban, counterparty_bic, purpose, kind, status, raw_z,
                       first_seen_at, updated_at, amount_minor)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14, ?15)",
                )
                .map_err(fail("floor prepare"))?;
            for t in &batch {
                insert
                    .execute(params![
                        format!("seed-1-{}", t.provider_account_id),
                        t.provider_id,
                        t.booking_date.to_string(),
                        t.value_date.map(|d| d.to_string()),
                        t.amount.to_string(),
                        "EUR",
                        t.counterparty.name,
                        t.counterparty.iban,
                        t.counterparty.bic,
                        t.purpose,
                        t.kind,
                        t.status.as_str(),
                        t.raw.as_deref().map(compress_raw),
                        now,
                        minor_units(t.amount),
                    ])
                    .map_err(fail("floor insert"))?;
            }
        }
        tx.commit().map_err(fail("floor commit"))?;
        spent += started.elapsed();
        from = to;
    }
    Ok(spent)
}

/// A SQLCipher file opened as the vault opens its own (key, memory temp store, page cache, WAL).
fn open_sqlcipher_floor(path: &Path, key: &VaultKey) -> Result<Connection, String> {
    let conn = Connection::open(path).map_err(fail("open sqlcipher floor"))?;
    conn.pragma_update(None, "key", format!("x'{}'", key.to_hex().expose())).map_err(fail("key"))?;
    conn.execute_batch(
        "PRAGMA temp_store = MEMORY; PRAGMA cache_size = -65536; PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;",
    )
    .map_err(fail("sqlcipher floor pragmas"))?;
    Ok(conn)
}

fn open_sqlite_floor(path: &Path) -> Result<Connection, String> {
    let conn = Connection::open(path).map_err(fail("open sqlite floor"))?;
    conn.execute_batch(
        "PRAGMA temp_store = MEMORY; PRAGMA cache_size = -65536; PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;",
    )
    .map_err(fail("sqlite floor pragmas"))?;
    Ok(conn)
}

fn file_bytes(path: &Path) -> u64 {
    let wal = path.with_extension("db-wal");
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) + std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0)
}

fn bench_size(rows: u64, dir: &Path) -> Result<(), String> {
    let until = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap_or_default();
    let now = Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).single().unwrap_or_default();
    let spec = SeedSpec { batch: BATCH, ..SeedSpec::new(rows, 1, until) };
    let generator = Generator::new(&spec);

    // Kontor, through the real sync path. Row generation happens inside the seed's loop; it is
    // measured separately below and subtracted.
    let key = VaultKey::generate();
    let vault_path = dir.join(format!("vault-{rows}.db"));
    let store = Store::open_encrypted(&vault_path, &key, true).map_err(fail("open vault"))?;
    let mut loads: Vec<Duration> = Vec::new();
    let mut sync_time = Duration::ZERO;
    let started = Instant::now();
    seed::fill_store_with(&store, &spec, now, |outcome| {
        loads.push(outcome.times.load);
        sync_time += outcome.times.load + outcome.times.plan + outcome.times.write;
    })
    .map_err(fail("fill vault"))?;
    let whole = started.elapsed();
    let generating = {
        let t = Instant::now();
        let mut from = 0;
        while from < rows {
            let to = (from + BATCH as u64).min(rows);
            std::hint::black_box(generator.rows(from, to));
            from = to;
        }
        t.elapsed()
    };
    // The time the sync path took: everything but generating rows (the commit is outside the
    // phase timers, so the whole run minus generation is the honest figure).
    let kontor = whole.saturating_sub(generating).max(sync_time);
    store.close().map_err(fail("close vault"))?;
    let vault_bytes = file_bytes(&vault_path);

    let cipher_path = dir.join(format!("floor-cipher-{rows}.db"));
    let mut cipher = open_sqlcipher_floor(&cipher_path, &key)?;
    let cipher_time = fill_floor(&mut cipher, &generator, rows)?;
    drop(cipher);
    let plain_path = dir.join(format!("floor-plain-{rows}.db"));
    let mut plain = open_sqlite_floor(&plain_path)?;
    let plain_time = fill_floor(&mut plain, &generator, rows)?;
    drop(plain);

    let kontor_rate = per_second(rows, kontor);
    let cipher_rate = per_second(rows, cipher_time);
    println!(
        "{}",
        json!({
            "bench": "ingest",
            "rows": rows,
            "kontor_tx_per_s": kontor_rate,
            "sqlcipher_floor_tx_per_s": cipher_rate,
            "sqlite_floor_tx_per_s": per_second(rows, plain_time),
            "ratio_to_sqlcipher": ((kontor_rate / cipher_rate.max(1.0)) * 1000.0).round() / 1000.0,
            "load_ms_first_sync": loads.first().copied().map(ms).unwrap_or_default(),
            "load_ms_last_sync": loads.last().copied().map(ms).unwrap_or_default(),
            "bytes_per_tx": vault_bytes / rows.max(1),
        })
    );

    // Re-sync: the bookings of the last 90 days delivered again.
    let store = Store::open_encrypted(&vault_path, &key, false).map_err(fail("reopen vault"))?;
    let since = until - Days::days(RESYNC_DAYS);
    let days_total = i64::from(spec.years) * 365;
    let first = rows.saturating_sub(rows * (RESYNC_DAYS as u64 + 10) / days_total as u64);
    let recent: Vec<FetchedTransaction> =
        generator.rows(first, rows).into_iter().filter(|t| t.booking_date >= since).collect();
    let mut accounts = generator.accounts().to_vec();
    for t in generator.rows(0, rows).iter().filter(|t| t.status == kontor_core::domain::BookingStatus::Booked) {
        if let Some(account) = accounts.iter_mut().find(|a| a.provider_account_id == t.provider_account_id) {
            account.balance = account.balance.map(|b| b + t.amount);
        }
    }
    let resync_rows = recent.len();
    let delivery = Delivery { accounts, transactions: recent, deleted: Vec::new(), pending_complete: false };
    let connection = seed::seed_connection(&spec, now);
    let started = Instant::now();
    let outcome =
        sync::apply_delivery(&store, &connection, &delivery, now, now, kontor_core::domain::AccountId::generate)
            .map_err(fail("re-sync"))?;
    let resync = started.elapsed();
    if outcome.added + outcome.updated + outcome.removed != 0 || !outcome.warnings.is_empty() {
        return Err(format!("the re-sync changed something: {outcome:?}"));
    }
    println!(
        "{}",
        json!({"bench": "resync", "rows": rows, "days": RESYNC_DAYS, "resync_rows": resync_rows, "ms": ms(resync)})
    );
    store.close().map_err(fail("close vault"))?;
    for path in [&vault_path, &cipher_path, &plain_path] {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let quick = args.iter().any(|a| a == "--quick");
    let mut sizes: Vec<u64> = args.iter().filter_map(|a| a.replace('_', "").parse().ok()).collect();
    if sizes.is_empty() {
        sizes = if quick { vec![10_000] } else { vec![10_000, 100_000, 1_000_000] };
    }
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("ingest bench: no temporary directory: {e}"));
    for rows in sizes {
        bench_size(rows, dir.path()).unwrap_or_else(|e| panic!("ingest bench at {rows} rows: {e}"));
    }
}
