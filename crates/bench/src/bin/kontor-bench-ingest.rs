//! Ingest through Kontor's sync path beside a plain-SQLite and a SQLCipher floor, and a re-sync of
//! 90 known days (issue 13).
//!
//! Run by hand, never as part of the tests:
//!
//! ```sh
//! cargo run --release -p kontor-bench --bin kontor-bench-ingest                       # 10k, 100k, 1M
//! cargo run --release -p kontor-bench --bin kontor-bench-ingest -- 10000 100000      # chosen sizes
//! cargo run --release -p kontor-bench --bin kontor-bench-ingest -- --quick           # 10k only
//! KONTOR_BENCH_VERBOSE=1 cargo run --release -p kontor-bench --bin kontor-bench-ingest -- 10000   # + phases on stderr
//! ```
//!
//! For each size N, in one run and on the same rows ([`kontor_core::seed::Generator`], realistic
//! German bookings over 6 accounts and 5 years, 2 % pending, each with a finAPI-shaped raw JSON):
//!
//! - **Kontor**: a fresh vault filled through the real sync path, [`kontor_core::sync::apply_delivery`]
//!   in batches of 2,000 rows as a sync delivers them (load → plan → balance check → apply with the
//!   search index and monthly sums, one transaction per batch).
//! - **floors**: the same rows into the same schema (Kontor's migrations: the same indexes, search
//!   index and monthly-sum triggers), written as final values — the raw JSON deflated beforehand,
//!   untimed — with one prepared plain `INSERT`, one transaction per batch: once into plain SQLite,
//!   once into SQLCipher opened like the vault (same key, page cache, WAL, `synchronous`); each
//!   batch is made and deflated once and written into one floor, then the other. The
//!   ratio therefore measures what Kontor's sync path adds (reading what it needs, planning,
//!   deflating, the balance check, the journal) over the cheapest way to write those rows.
//! - **re-sync**: the bookings of the last 90 days delivered again to the filled vault (nothing
//!   changes), timed end to end. The delivery is not marked as the complete list of pending rows:
//!   the seed's old pending rows are never booked, so a complete list would drop them.
//! - **CPU time** beside the wall time: Kontor's whole process (the deflating thread included)
//!   minus making the rows, the floor's thread during its timed part. On a machine shared with
//!   other work the wall-time ratio swings with the load; the CPU-time ratio much less (it is not
//!   immune: a busy machine also slows each CPU second through shared caches).
//!
//! Output, one JSON object per line (`make bench` parses exactly these):
//!
//! ```text
//! {"bench":"ingest","rows":N,"kontor_tx_per_s":..,"sqlcipher_floor_tx_per_s":..,"sqlite_floor_tx_per_s":..,
//!  "ratio_to_sqlcipher":..,"load_ms_first_sync":..,"load_ms_last_sync":..,"bytes_per_tx":..,
//!  "kontor_cpu_s":..,"sqlcipher_floor_cpu_s":..,"cpu_ratio_to_sqlcipher":..}
//! {"bench":"resync","rows":N,"days":90,"resync_rows":..,"ms":..}
//! ```

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{Duration as Days, NaiveDate, TimeZone, Utc};
use kontor_core::provider::FetchedTransaction;
use kontor_core::seed::{self, Generator, SeedSpec};
use kontor_core::store::transactions::{compress_raw, minor_units};
use kontor_core::store::{Store, migrations};
use kontor_core::sync::{self, Delivery};
use kontor_core::vault::VaultKey;
use rusqlite::{Connection, params};
use serde_json::json;

const BATCH: usize = 2000;
const RESYNC_DAYS: i64 = 90;
/// `first_seen_at` and `updated_at` of every floor row.
const FLOOR_NOW: &str = "2026-11-30T12:00:00.000Z";

fn fail<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> String + '_ {
    move |e| format!("{what}: {e}")
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 100.0).round() / 100.0
}

fn seconds(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

fn per_second(rows: u64, d: Duration) -> f64 {
    (rows as f64 / d.as_secs_f64().max(1e-9)).round()
}

/// The floor's schema and the rows a sync would have written before the first transaction.
fn prepare_floor(conn: &mut Connection, generator: &Generator) -> Result<(), String> {
    migrations::apply(conn).map_err(fail("floor schema"))?;
    conn.execute_batch(&format!(
        "INSERT INTO provider_configs (id, kind, label, base_url, client_id, api_version, created_at)
             VALUES ('seed', 'finapi', 'floor', 'http://127.0.0.1:9', 'floor', 'v2', '{FLOOR_NOW}');
         INSERT INTO connections (id, provider_config_id, provider_connection_id, bank_name, status, created_at)
             VALUES ('seed-1', 'seed', 'seed-1', 'Seeded Bank', 'active', '{FLOOR_NOW}');"
    ))
    .map_err(fail("floor connection"))?;
    for account in generator.accounts() {
        conn.execute(
            "INSERT INTO accounts (id, connection_id, provider_account_id, name, account_type, currency)
             VALUES (?1, 'seed-1', ?2, ?3, 'checking', 'EUR')",
            params![format!("seed-1-{}", account.provider_account_id), account.provider_account_id, account.name],
        )
        .map_err(fail("floor account"))?;
    }
    Ok(())
}

/// What writing into one floor took: wall time, of it the commits, and the thread's CPU time.
#[derive(Default)]
struct FloorTime {
    spent: Duration,
    commit: Duration,
    cpu: Duration,
}

/// Writes one batch of final values (`stored`: the raw JSON already deflated) into a floor, in one
/// transaction, and adds what it took to `time`.
fn write_floor_batch(
    conn: &mut Connection,
    batch: &[FetchedTransaction],
    stored: &[Option<Vec<u8>>],
    time: &mut FloorTime,
) -> Result<(), String> {
    let now = FLOOR_NOW;
    let started = Instant::now();
    let cpu_started = thread_cpu_time();
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
        for (t, raw_z) in batch.iter().zip(stored) {
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
                    raw_z,
                    now,
                    minor_units(t.amount),
                ])
                .map_err(fail("floor insert"))?;
        }
    }
    let committing = Instant::now();
    tx.commit().map_err(fail("floor commit"))?;
    time.commit += committing.elapsed();
    time.spent += started.elapsed();
    time.cpu += thread_cpu_time().saturating_sub(cpu_started);
    Ok(())
}

/// Fills both floors with every row of `generator`, batch by batch (each batch made and deflated once,
/// untimed, then written into one floor and the other); returns what each took.
fn fill_floors(
    cipher: &mut Connection,
    plain: &mut Connection,
    generator: &Generator,
    rows: u64,
) -> Result<(FloorTime, FloorTime), String> {
    prepare_floor(cipher, generator)?;
    prepare_floor(plain, generator)?;
    let (mut cipher_time, mut plain_time) = (FloorTime::default(), FloorTime::default());
    let mut from = 0;
    while from < rows {
        let to = (from + BATCH as u64).min(rows);
        let batch = generator.rows(from, to);
        let stored: Vec<Option<Vec<u8>>> = batch.iter().map(|t| t.raw.as_deref().map(compress_raw)).collect();
        write_floor_batch(cipher, &batch, &stored, &mut cipher_time)?;
        write_floor_batch(plain, &batch, &stored, &mut plain_time)?;
        from = to;
    }
    if std::env::var_os("KONTOR_BENCH_VERBOSE").is_some() {
        for (name, t) in [("SQLCipher", &cipher_time), ("SQLite", &plain_time)] {
            explain(&format!(
                "{rows} rows into the {name} floor: {:?} (of it commit {:?}), CPU {:?}",
                t.spent, t.commit, t.cpu
            ));
        }
    }
    Ok((cipher_time, plain_time))
}

/// A SQLCipher file opened as the vault opens its own (key, memory temp store, page cache, WAL).
fn open_sqlcipher_floor(path: &Path, key: &VaultKey) -> Result<Connection, String> {
    let conn = Connection::open(path).map_err(fail("open sqlcipher floor"))?;
    conn.pragma_update(None, "key", format!("x'{}'", key.to_hex().expose())).map_err(fail("key"))?;
    conn.execute_batch(
        "PRAGMA temp_store = MEMORY; PRAGMA cache_size = -65536; PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
    )
    .map_err(fail("sqlcipher floor pragmas"))?;
    Ok(conn)
}

fn open_sqlite_floor(path: &Path) -> Result<Connection, String> {
    let conn = Connection::open(path).map_err(fail("open sqlite floor"))?;
    conn.execute_batch(
        "PRAGMA temp_store = MEMORY; PRAGMA cache_size = -65536; PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
    )
    .map_err(fail("sqlite floor pragmas"))?;
    Ok(conn)
}

/// CPU time of this process (all its threads, also ended ones; user and system) from
/// `/proc/self/stat`, in clock ticks of 10 ms; zero where that file is missing (not Linux).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or_default();
    let fields: Vec<u64> = after.split_whitespace().skip(11).take(2).filter_map(|f| f.parse().ok()).collect();
    Duration::from_millis(fields.iter().sum::<u64>() * 10)
}

/// CPU time of the calling thread from `/proc/thread-self/schedstat` (nanoseconds); zero where that
/// file is missing.
fn thread_cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    Duration::from_nanos(stat.split_whitespace().next().and_then(|f| f.parse().ok()).unwrap_or_default())
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
    let mut loaded_rows = 0usize;
    let mut sync_time = Duration::ZERO;
    let mut phases = (Duration::ZERO, Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let started = Instant::now();
    let cpu_started = cpu_time();
    seed::fill_store_with(&store, &spec, now, |outcome| {
        loads.push(outcome.times.load);
        loaded_rows += outcome.loaded;
        phases.0 += outcome.times.load;
        phases.1 += outcome.times.plan;
        phases.2 += outcome.times.write;
        phases.3 += outcome.times.commit;
        sync_time += outcome.times.load + outcome.times.plan + outcome.times.write + outcome.times.commit;
    })
    .map_err(fail("fill vault"))?;
    let whole = started.elapsed();
    let whole_cpu = cpu_time().saturating_sub(cpu_started);
    let generating_cpu_started = thread_cpu_time();
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
    let generating_cpu = thread_cpu_time().saturating_sub(generating_cpu_started);
    // The time the sync path took: everything but generating rows (the commit is outside the
    // phase timers, so the whole run minus generation is the honest figure).
    let kontor = whole.saturating_sub(generating).max(sync_time);
    let kontor_cpu = whole_cpu.saturating_sub(generating_cpu);
    if std::env::var_os("KONTOR_BENCH_VERBOSE").is_some() {
        let all = generator.rows(0, rows);
        let t = Instant::now();
        for row in &all {
            std::hint::black_box(row.raw.as_deref().map(compress_raw));
        }
        let deflate = t.elapsed();
        explain(&format!(
            "{rows} rows: whole {whole:?}, making rows {generating:?}; in the sync path (CPU {kontor_cpu:?}): \
             load {:?} ({loaded_rows} known rows read), plan {:?}, write {:?} (of it deflating raw JSON about \
             {deflate:?}), lock and commit {:?}",
            phases.0, phases.1, phases.2, phases.3
        ));
    }
    store.close().map_err(fail("close vault"))?;
    let vault_bytes = file_bytes(&vault_path);

    let cipher_path = dir.join(format!("floor-cipher-{rows}.db"));
    let mut cipher = open_sqlcipher_floor(&cipher_path, &key)?;
    let plain_path = dir.join(format!("floor-plain-{rows}.db"));
    let mut plain = open_sqlite_floor(&plain_path)?;
    let (cipher_floor, plain_floor) = fill_floors(&mut cipher, &mut plain, &generator, rows)?;
    drop(cipher);
    drop(plain);
    let (cipher_time, cipher_cpu, plain_time) = (cipher_floor.spent, cipher_floor.cpu, plain_floor.spent);

    let kontor_rate = per_second(rows, kontor);
    let cipher_rate = per_second(rows, cipher_time);
    // Keys in the documented order (serde_json's maps would sort them).
    println!(
        "{{\"bench\":\"ingest\",\"rows\":{rows},\"kontor_tx_per_s\":{},\"sqlcipher_floor_tx_per_s\":{},\
         \"sqlite_floor_tx_per_s\":{},\"ratio_to_sqlcipher\":{},\"load_ms_first_sync\":{},\
         \"load_ms_last_sync\":{},\"bytes_per_tx\":{},\"kontor_cpu_s\":{},\"sqlcipher_floor_cpu_s\":{},\
         \"cpu_ratio_to_sqlcipher\":{}}}",
        json!(kontor_rate),
        json!(cipher_rate),
        json!(per_second(rows, plain_time)),
        json!(((kontor_rate / cipher_rate.max(1.0)) * 1000.0).round() / 1000.0),
        json!(loads.first().copied().map(ms).unwrap_or_default()),
        json!(loads.last().copied().map(ms).unwrap_or_default()),
        vault_bytes / rows.max(1),
        json!(seconds(kontor_cpu)),
        json!(seconds(cipher_cpu)),
        json!(((cipher_cpu.as_secs_f64() / kontor_cpu.as_secs_f64().max(1e-9)) * 1000.0).round() / 1000.0),
    );

    // Re-sync: the bookings of the last 90 days delivered again.
    let store = Store::open_encrypted(&vault_path, &key, false).map_err(fail("reopen vault"))?;
    let since = until - Days::days(RESYNC_DAYS);
    let days_total = i64::from(spec.years) * 365;
    let first = rows.saturating_sub(rows * (RESYNC_DAYS as u64 + 10) / days_total as u64);
    let recent: Vec<FetchedTransaction> =
        generator.rows(first, rows).into_iter().filter(|t| t.booking_date >= since).collect();
    let connection = seed::seed_connection(&spec, now);
    // The bank reports the balances the last batch reported (nothing was booked since): the stored ones.
    let stored = store.connection_accounts(&connection.id).map_err(fail("stored accounts"))?;
    let mut accounts = generator.accounts().to_vec();
    for account in &mut accounts {
        account.balance = stored
            .iter()
            .find(|a| a.provider_account_id == account.provider_account_id)
            .and_then(|a| a.balance_booked)
            .map(|m| m.amount);
    }
    let resync_rows = recent.len();
    let delivery = Delivery { accounts, transactions: recent, deleted: Vec::new(), pending_complete: false };
    let started = Instant::now();
    let outcome =
        sync::apply_delivery(&store, &connection, delivery, now, now, kontor_core::domain::AccountId::generate)
            .map_err(fail("re-sync"))?;
    let resync = started.elapsed();
    if outcome.added + outcome.updated + outcome.removed != 0 || !outcome.warnings.is_empty() {
        return Err(format!("the re-sync changed something: {outcome:?}"));
    }
    println!(
        "{{\"bench\":\"resync\",\"rows\":{rows},\"days\":{RESYNC_DAYS},\"resync_rows\":{resync_rows},\"ms\":{}}}",
        json!(ms(resync))
    );
    store.close().map_err(fail("close vault"))?;
    for path in [&vault_path, &cipher_path, &plain_path] {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
    Ok(())
}

/// A diagnostic line on stderr (only with `KONTOR_BENCH_VERBOSE`; stdout carries the JSON lines).
#[allow(clippy::print_stderr)]
fn explain(text: &str) {
    eprintln!("{text}");
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
