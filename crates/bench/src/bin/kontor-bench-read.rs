//! Reading transactions at 10k, 100k and 1M rows: Kontor's vault beside a plain-SQLite floor.
//!
//! Run by hand (`make bench` runs it for BENCHMARKS.md), never as part of the tests:
//!
//! ```sh
//! cargo run --release -p kontor-bench --bin kontor-bench-read                      # 10k, 100k, 1M
//! cargo run --release -p kontor-bench --bin kontor-bench-read -- 10000 100000      # chosen sizes
//! cargo run --release -p kontor-bench --bin kontor-bench-read -- 1000000 --seeded DIR
//! ```
//!
//! For each size a vault is filled through the real sync path ([`kontor_core::seed`]) and a plain,
//! unencrypted SQLite file with the same schema gets the same rows (copied through `ATTACH … KEY`).
//! With `--seeded DIR`, the largest size uses the vault that `kontor --data-dir DIR dev seed` filled
//! (the same generator and sync path; its key is read from the keyring) instead of filling another
//! one: `make bench` seeds one vault of 1M rows for this, the vault-open and the app figures.
//! Each line of issue 9's table is measured on both in the same run: the vault through the store's
//! own methods (a page with the running balance after each row, as the facade sends it), the floor
//! by running the very same SQL statement (`Store::page_statement` and friends)
//! with the same page cache size. Parameters are random per repetition (seeded, so runs compare);
//! p50 and p95 are reported, warm (every query runs once before timing). Output: a markdown table, and
//! with `--json` one JSON object per line instead (`make bench` reads those), e.g.
//! `{"bench":"read","rows":N,"id":"newest_all","what":..,"kontor_p50_ms":..,"kontor_p95_ms":..,"floor_p50_ms":..,
//! "floor_p95_ms":..}` per query and `{"bench":"read_size","rows":N,"ingest_tx_per_s":..,"vault_bytes_per_tx":..,
//! "floor_bytes_per_tx":..}` per size (`ingest_tx_per_s` is null for a seeded vault).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeZone, Utc};
use kontor_core::domain::{AccountId, TransactionId};
use kontor_core::seed::{self, SeedSpec};
use kontor_core::store::transactions::{Keyset, Statement, TransactionFilter};
use kontor_core::store::{Store, migrations};
use kontor_core::vault::{self, OsKeyring, VaultKey, VaultPaths};
use rusqlite::{Connection, params_from_iter};

const PAGE: u32 = 50;

fn fail<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> String + '_ {
    move |e| format!("{what}: {e}")
}

/// SplitMix64, for the random query parameters.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n.max(1)
    }
}

/// Runs `run` repeatedly (at least 5 times, up to `max` times or about two seconds) after one
/// warm-up call; returns p50 and p95.
fn measure(max: usize, mut run: impl FnMut(usize) -> Result<(), String>) -> Result<(Duration, Duration), String> {
    run(usize::MAX)?;
    let mut times = Vec::new();
    let started = Instant::now();
    for i in 0..max {
        let t = Instant::now();
        run(i)?;
        times.push(t.elapsed());
        if i >= 4 && started.elapsed() > Duration::from_secs(2) {
            break;
        }
    }
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    Ok((at(0.5), at(0.95)))
}

fn run_floor(conn: &Connection, (sql, params): &Statement) -> Result<(), String> {
    let mut stmt = conn.prepare_cached(sql).map_err(fail("floor prepare"))?;
    let mut rows = stmt.query(params_from_iter(params.iter())).map_err(fail("floor query"))?;
    while rows.next().map_err(fail("floor row"))?.is_some() {}
    Ok(())
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

struct Line {
    /// A stable name for machines (`make bench` attaches issue 9's goals by it).
    id: &'static str,
    what: String,
    kontor: (Duration, Duration),
    floor: (Duration, Duration),
}

struct Size {
    /// None for a seeded vault (`make bench` times its seeding itself).
    ingest_tx_per_s: Option<f64>,
    vault_bytes_per_tx: u64,
    floor_bytes_per_tx: u64,
}

/// A vault of `rows` transactions filled here through the sync path: its file, its key and the fill's speed.
fn fill(rows: u64, dir: &Path, until: NaiveDate) -> Result<(PathBuf, VaultKey, Option<f64>), String> {
    let key = VaultKey::generate();
    let vault_path = dir.join(format!("vault-{rows}.db"));
    let store = Store::open_encrypted(&vault_path, &key, true).map_err(fail("open vault"))?;
    let now = Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).single().unwrap_or_default();
    let started = Instant::now();
    seed::fill_store(&store, &SeedSpec::new(rows, 1, until), now).map_err(fail("seed"))?;
    let ingest = started.elapsed();
    store.close().map_err(fail("close"))?;
    Ok((vault_path, key, Some(rows as f64 / ingest.as_secs_f64())))
}

/// The vault `kontor --data-dir <data_dir> dev seed` filled: its file and its key from the keyring.
fn seeded(data_dir: &Path) -> Result<(PathBuf, VaultKey), String> {
    let paths = VaultPaths::new(data_dir);
    let key = vault::key_from_keyring(&paths, &OsKeyring::default()).map_err(fail("seeded vault"))?;
    Ok((paths.database(), key))
}

fn bench_size(rows: u64, dir: &Path, seeded_dir: Option<&Path>) -> Result<(Vec<Line>, Size), String> {
    let until = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap_or_default();
    let (vault_path, key, ingest_tx_per_s) = match seeded_dir {
        Some(data_dir) => {
            let (path, key) = seeded(data_dir)?;
            (path, key, None)
        }
        None => fill(rows, dir, until)?,
    };
    let vault_bytes = std::fs::metadata(&vault_path).map_err(fail("size"))?.len();
    let floor_path = dir.join(format!("floor-{rows}.db"));

    let mut floor = Connection::open(&floor_path).map_err(fail("open floor"))?;
    migrations::apply(&mut floor).map_err(fail("floor schema"))?;
    floor
        .execute_batch(&format!(
            "PRAGMA journal_mode = WAL; PRAGMA cache_size = -65536;
             ATTACH DATABASE '{}' AS vault KEY \"x'{}'\";
             BEGIN;
             INSERT INTO provider_configs SELECT * FROM vault.provider_configs;
             INSERT INTO connections SELECT * FROM vault.connections;
             INSERT INTO accounts SELECT * FROM vault.accounts;
             INSERT INTO transactions SELECT * FROM vault.transactions ORDER BY id;
             COMMIT;
             DETACH DATABASE vault;
             PRAGMA wal_checkpoint(TRUNCATE);",
            vault_path.display(),
            key.to_hex().expose()
        ))
        .map_err(fail("copy to floor"))?;
    let floor_bytes = std::fs::metadata(&floor_path).map_err(fail("size"))?.len();

    let store = Store::open_encrypted(&vault_path, &key, false).map_err(fail("reopen vault"))?;
    let mut rng = Rng(rows);
    let all = TransactionFilter::default();
    let e = |e: kontor_core::KontorError| e.message;
    let in_vault: u64 = store.transaction_totals(&all).map_err(e)?.iter().map(|t| t.count).sum();
    if in_vault != rows {
        return Err(format!("the vault holds {in_vault} transactions, not {rows}"));
    }
    let counts: Vec<(AccountId, u64)> = store
        .accounts()
        .map_err(e)?
        .into_iter()
        .map(|a| {
            let filter = TransactionFilter { accounts: vec![a.id.clone()], ..TransactionFilter::default() };
            let count = store.transaction_totals(&filter).map(|t| t.iter().map(|s| s.count).sum()).unwrap_or(0);
            (a.id, count)
        })
        .collect();
    let largest = counts.iter().max_by_key(|(_, c)| *c).map(|(a, _)| a.clone()).ok_or("no accounts")?;
    let (small, small_rows) = counts.iter().min_by_key(|(_, c)| *c).cloned().ok_or("no accounts")?;
    let small_filter = TransactionFilter { accounts: vec![small], ..TransactionFilter::default() };

    // Random positions and rare words (a booking's 8-digit reference), drawn once, used by both sides.
    let mut keysets = Vec::new();
    let mut rare_words = Vec::new();
    for _ in 0..200 {
        let id = 1 + rng.below(rows.max(1)) as i64;
        if let Some(found) = store.transaction(TransactionId(id)).map_err(fail("sample"))? {
            keysets.push(Keyset { booking_date: found.transaction.booking_date, id: found.id });
            if let Some(word) = found
                .transaction
                .purpose
                .as_deref()
                .and_then(|p| p.split(' ').find(|w| w.len() == 8 && w.bytes().all(|b| b.is_ascii_digit())))
            {
                rare_words.push(word.to_owned());
            }
        }
    }
    if keysets.is_empty() || rare_words.is_empty() {
        return Err("no samples".into());
    }
    let pick = |i: usize, n: usize| if i == usize::MAX { 0 } else { i % n };
    let search = |word: &str| TransactionFilter { text: Some(word.to_owned()), ..TransactionFilter::default() };
    let common = search("rewe");

    let mut lines = Vec::new();
    let mut line = |id: &'static str,
                    what: String,
                    kontor: &mut dyn FnMut(usize) -> Result<(), String>,
                    floor_statement: &dyn Fn(usize) -> Result<Statement, String>,
                    max: usize|
     -> Result<(), String> {
        let kontor = measure(max, kontor)?;
        let floor = measure(max, |i| run_floor(&floor, &floor_statement(i)?))?;
        lines.push(Line { id, what, kontor, floor });
        Ok(())
    };
    // A page as `Kontor::transactions` builds it: the rows, then each account's balance after each row.
    let page = |filter: &TransactionFilter, after: Option<Keyset>| -> Result<(), String> {
        let rows = store.transactions(filter, after, PAGE).map_err(e)?;
        store
            .running_balances(&store.accounts().map_err(e)?, &rows, filter.keeps_runs_of_bookings())
            .map(drop)
            .map_err(e)
    };

    line(
        "newest_all",
        "newest 50, all accounts".into(),
        &mut |_| page(&all, None),
        &|_| store.page_statement(&all, None, PAGE).map_err(e),
        500,
    )?;
    line(
        "newest_small_account",
        format!("newest 50 of the smallest account ({small_rows} rows)"),
        &mut |_| page(&small_filter, None),
        &|_| store.page_statement(&small_filter, None, PAGE).map_err(e),
        500,
    )?;
    line(
        "page_random_depth",
        "a page at a random depth".into(),
        &mut |i| page(&all, Some(keysets[pick(i, keysets.len())])),
        &|i| store.page_statement(&all, Some(keysets[pick(i, keysets.len())]), PAGE).map_err(e),
        500,
    )?;
    line(
        "search_rare",
        "search a rare word (first page)".into(),
        &mut |i| page(&search(&rare_words[pick(i, rare_words.len())]), None),
        &|i| store.page_statement(&search(&rare_words[pick(i, rare_words.len())]), None, PAGE).map_err(e),
        500,
    )?;
    line(
        "count_rare",
        "count and sum of a rare word's matches".into(),
        &mut |i| store.transaction_totals(&search(&rare_words[pick(i, rare_words.len())])).map(drop).map_err(e),
        &|i| store.totals_statement(&search(&rare_words[pick(i, rare_words.len())])).map_err(e),
        500,
    )?;
    line(
        "search_common",
        "search a common word (\"rewe\", first page)".into(),
        &mut |_| page(&common, None),
        &|_| store.page_statement(&common, None, PAGE).map_err(e),
        50,
    )?;
    line(
        "count_common",
        "count and sum of a common word's matches".into(),
        &mut |_| store.transaction_totals(&common).map(drop).map_err(e),
        &|_| store.totals_statement(&common).map_err(e),
        50,
    )?;
    line(
        "count_all",
        "count and sum of everything".into(),
        &mut |_| store.transaction_totals(&all).map(drop).map_err(e),
        &|_| store.totals_statement(&all).map_err(e),
        50,
    )?;
    let ranges: Vec<TransactionFilter> = (0..50)
        .map(|_| {
            let from = until - chrono::Duration::days(90 + rng.below(5 * 365 - 90) as i64);
            TransactionFilter {
                accounts: vec![largest.clone()],
                from: Some(from),
                to: Some(from + chrono::Duration::days(89)),
                min_amount: Some(rust_decimal::Decimal::new(-10_000, 2)),
                ..TransactionFilter::default()
            }
        })
        .collect();
    line(
        "count_range",
        "count and sum: largest account, random 90 days, amount ≥ -100".into(),
        &mut |i| store.transaction_totals(&ranges[pick(i, ranges.len())]).map(drop).map_err(e),
        &|i| store.totals_statement(&ranges[pick(i, ranges.len())]).map_err(e),
        200,
    )?;
    line(
        "monthly_sums",
        "monthly sums per account, all years".into(),
        &mut |_| store.monthly_sums(&all).map(drop).map_err(e),
        &|_| store.monthly_statement(&all).map_err(e),
        50,
    )?;
    let size = Size {
        ingest_tx_per_s,
        vault_bytes_per_tx: vault_bytes / rows.max(1),
        floor_bytes_per_tx: floor_bytes / rows.max(1),
    };
    store.close().map_err(fail("close"))?;
    Ok((lines, size))
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn print_json(rows: u64, lines: &[Line], size: &Size) {
    for l in lines {
        let line = serde_json::json!({
            "bench": "read", "rows": rows, "id": l.id, "what": l.what,
            "kontor_p50_ms": millis(l.kontor.0), "kontor_p95_ms": millis(l.kontor.1),
            "floor_p50_ms": millis(l.floor.0), "floor_p95_ms": millis(l.floor.1),
        });
        println!("{line}");
    }
    let line = serde_json::json!({
        "bench": "read_size", "rows": rows, "ingest_tx_per_s": size.ingest_tx_per_s,
        "vault_bytes_per_tx": size.vault_bytes_per_tx, "floor_bytes_per_tx": size.floor_bytes_per_tx,
    });
    println!("{line}");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json = args.iter().any(|a| a == "--json");
    let seeded_dir = args.iter().position(|a| a == "--seeded").map(|i| match args.get(i + 1) {
        Some(dir) => PathBuf::from(dir),
        None => panic!("--seeded needs the data directory of a vault `kontor dev seed` filled"),
    });
    let numbers: Vec<u64> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let sizes = if numbers.is_empty() { vec![10_000, 100_000, 1_000_000] } else { numbers };
    let largest = sizes.iter().copied().max().unwrap_or_default();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    if !json {
        println!("| rows | what | Kontor p50 | Kontor p95 | floor p50 | floor p95 | p95 ratio |");
        println!("|---|---|---|---|---|---|---|");
    }
    let mut notes = Vec::new();
    for rows in sizes {
        let seeded = seeded_dir.as_deref().filter(|_| rows == largest);
        let (lines, size) = bench_size(rows, dir.path(), seeded).unwrap_or_else(|e| panic!("{rows} rows: {e}"));
        if json {
            print_json(rows, &lines, &size);
            continue;
        }
        for l in lines {
            println!(
                "| {rows} | {} | {} | {} | {} | {} | {:.2} |",
                l.what,
                ms(l.kontor.0),
                ms(l.kontor.1),
                ms(l.floor.0),
                ms(l.floor.1),
                l.kontor.1.as_secs_f64() / l.floor.1.as_secs_f64().max(1e-9)
            );
        }
        let ingest = size.ingest_tx_per_s.map_or_else(
            || "a vault seeded by the CLI".to_owned(),
            |speed| format!("ingest through the sync path: {speed:.0} tx/s"),
        );
        notes.push(format!(
            "- {rows} rows: {ingest}; size per transaction: vault {} B, floor {} B",
            size.vault_bytes_per_tx, size.floor_bytes_per_tx
        ));
    }
    if json {
        return;
    }
    println!();
    for note in notes {
        println!("{note}");
    }
}
