//! Opening vaults concurrently: several threads of one process, and several connections to one file
//! (the app and the CLI, a quick restart, an open during another's write or migration).
//!
//! No keyring is needed: the stores are opened with [`Store::open_encrypted`] and a generated key.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use kontor_core::store::{Store, migrations};
use kontor_core::vault::VaultKey;
use kontor_core::{ErrorCode, KontorError};
use kontor_testkit::output_within;

const CHILD_ENV: &str = "KONTOR_VAULT_CONCURRENCY_CHILD";

fn must<T>(result: Result<T, KontorError>) -> T {
    result.unwrap_or_else(|e| panic!("{:?}: {}", e.code, e.message))
}

fn db_in(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("kontor.db")
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"))
}

fn raw_conn(path: &Path, key: &VaultKey) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).unwrap_or_else(|e| panic!("{e}"));
    conn.pragma_update(None, "key", format!("x'{}'", key.to_hex().expose())).unwrap_or_else(|e| panic!("{e}"));
    conn.busy_timeout(Duration::from_secs(5)).unwrap_or_else(|e| panic!("{e}"));
    conn
}

/// The first vaults a process opens, opened by several threads at once. SQLCipher finishes its
/// process-wide initialisation only after SQLite already reports itself initialised; a thread
/// keying a connection in that window used to fail with "An error occurred with PRAGMA key or
/// rekey" (seen as a flaky `finapi_link` test whose two test threads both create a vault first
/// thing). Each round needs a fresh process, so this test runs itself as a child several times.
#[test]
fn first_opens_in_a_fresh_process_all_succeed() {
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("{e}"));
    let rounds = 12;
    let mut failures = Vec::new();
    for round in 0..rounds {
        let out = output_within(
            Command::new(&exe)
                .args(["--exact", "child_first_opens", "--ignored", "--nocapture", "--test-threads", "1"])
                .env(CHILD_ENV, "1"),
            Duration::from_secs(120),
        )
        .unwrap_or_else(|e| panic!("child round {round}: {e}"));
        if !out.status.success() {
            failures.push(format!(
                "round {round}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    assert!(failures.is_empty(), "{} of {rounds} fresh processes failed:\n{}", failures.len(), failures.join("\n"));
}

/// The child half of [`first_opens_in_a_fresh_process_all_succeed`].
#[test]
#[ignore = "runs only as the child of first_opens_in_a_fresh_process_all_succeed"]
fn child_first_opens() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let threads = 8;
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let barrier = barrier.clone();
            thread::spawn(move || {
                let dir = tempdir();
                let key = VaultKey::generate();
                barrier.wait();
                Store::open_encrypted(&db_in(&dir), &key, true)
                    .map(|_| ())
                    .map_err(|e| format!("{:?}: {}", e.code, e.message))
            })
        })
        .collect();
    let errors: Vec<String> =
        handles.into_iter().filter_map(|h| h.join().unwrap_or_else(|_| Err("thread panicked".into())).err()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

/// A vault at schema 1, as an older Kontor left it.
fn old_vault(path: &Path, key: &VaultKey) {
    let conn = raw_conn(path, key);
    conn.execute_batch(migrations::MIGRATIONS[0]).unwrap_or_else(|e| panic!("{e}"));
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA user_version = 1;").unwrap_or_else(|e| panic!("{e}"));
}

/// The app and the CLI open a vault an older Kontor wrote, at the same moment: one of them migrates
/// it while the other is opening. The other used to read schema 1, then run migration 2 again once
/// it got the write lock: "table income_reports already exists" (`Internal`).
#[test]
fn open_during_another_process_migration_succeeds() {
    let dir = tempdir();
    let path = db_in(&dir);
    let key = VaultKey::generate();
    old_vault(&path, &key);

    let other = raw_conn(&path, &key);
    other.execute_batch("BEGIN IMMEDIATE").unwrap_or_else(|e| panic!("{e}"));
    other.execute_batch(migrations::MIGRATIONS[1]).unwrap_or_else(|e| panic!("{e}"));
    other.pragma_update(None, "user_version", 2).unwrap_or_else(|e| panic!("{e}"));

    let opener = {
        let (path, key) = (path.clone(), key.clone());
        thread::spawn(move || Store::open_encrypted(&path, &key, false).and_then(|s| s.schema_version()))
    };
    thread::sleep(Duration::from_millis(300));
    other.execute_batch("COMMIT").unwrap_or_else(|e| panic!("{e}"));
    let version = opener.join().unwrap_or_else(|_| panic!("opener panicked"));
    assert_eq!(must(version), migrations::LATEST);
}

/// Both open the old vault at once; whichever migrates, both end up open at the latest schema.
#[test]
fn concurrent_migrations_of_one_vault_both_succeed() {
    for _ in 0..10 {
        let dir = tempdir();
        let path = db_in(&dir);
        let key = VaultKey::generate();
        old_vault(&path, &key);
        let barrier = Arc::new(Barrier::new(2));
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let (path, key, barrier) = (path.clone(), key.clone(), barrier.clone());
                thread::spawn(move || {
                    barrier.wait();
                    Store::open_encrypted(&path, &key, false).and_then(|s| s.schema_version())
                })
            })
            .collect();
        for handle in handles {
            assert_eq!(must(handle.join().unwrap_or_else(|_| panic!("panicked"))), migrations::LATEST);
        }
    }
}

/// Holds another connection's exclusive lock on the file for `hold`, then releases it.
fn hold_exclusive(path: &Path, key: &VaultKey, hold: Duration) -> thread::JoinHandle<()> {
    let conn = raw_conn(path, key);
    conn.pragma_update(None, "locking_mode", "EXCLUSIVE").unwrap_or_else(|e| panic!("{e}"));
    conn.execute_batch("BEGIN IMMEDIATE; INSERT INTO settings (key, value) VALUES ('held', '1'); COMMIT;")
        .unwrap_or_else(|e| panic!("{e}"));
    thread::spawn(move || {
        thread::sleep(hold);
        conn.pragma_update(None, "locking_mode", "NORMAL").unwrap_or_else(|e| panic!("{e}"));
        conn.query_row("SELECT count(*) FROM settings", [], |r| r.get::<_, i64>(0)).unwrap_or_else(|e| panic!("{e}"));
        drop(conn);
    })
}

/// Another connection holds the file's exclusive lock for 300 ms: the open waits and succeeds.
#[test]
fn open_waits_for_a_lock_held_briefly() {
    let dir = tempdir();
    let path = db_in(&dir);
    let key = VaultKey::generate();
    must(must(Store::open_encrypted(&path, &key, true)).close());
    let holder = hold_exclusive(&path, &key, Duration::from_millis(300));
    let started = Instant::now();
    let store = must(Store::open_encrypted(&path, &key, false));
    assert!(started.elapsed() >= Duration::from_millis(200), "did not wait: {:?}", started.elapsed());
    assert_eq!(must(store.schema_version()), migrations::LATEST);
    holder.join().unwrap_or_else(|_| panic!("holder panicked"));
}

/// A lock held past the busy timeout ends in `VaultBusy`, never in "wrong key" or "damaged".
#[test]
fn open_against_a_lock_held_too_long_is_vault_busy() {
    let dir = tempdir();
    let path = db_in(&dir);
    let key = VaultKey::generate();
    must(must(Store::open_encrypted(&path, &key, true)).close());
    let holder = hold_exclusive(&path, &key, Duration::from_secs(7));
    match Store::open_encrypted(&path, &key, false) {
        Ok(_) => panic!("opened a vault another connection holds exclusively"),
        Err(err) => assert_eq!(err.code, ErrorCode::VaultBusy, "{}", err.message),
    }
    holder.join().unwrap_or_else(|_| panic!("holder panicked"));
    must(Store::open_encrypted(&path, &key, false));
}

/// A quick restart: close (checkpoint, remove the WAL) and open again at once, many times, while a
/// second connection (the CLI) keeps opening, writing and closing the same vault.
#[test]
fn reopen_right_after_close_and_alongside_another_connection() {
    let dir = tempdir();
    let path = db_in(&dir);
    let key = VaultKey::generate();
    must(must(Store::open_encrypted(&path, &key, true)).close());
    let handles: Vec<_> = (0..3)
        .map(|t| {
            let (path, key) = (path.clone(), key.clone());
            thread::spawn(move || {
                for i in 0..25 {
                    let store = must(Store::open_encrypted(&path, &key, false));
                    store
                        .conn()
                        .execute(
                            "INSERT OR REPLACE INTO settings (key, value) VALUES (?1, ?2)",
                            (format!("t{t}"), i.to_string()),
                        )
                        .unwrap_or_else(|e| panic!("{e}"));
                    must(store.close());
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap_or_else(|_| panic!("a thread failed"));
    }
    let store = must(Store::open_encrypted(&path, &key, false));
    let n: i64 = store
        .conn()
        .query_row("SELECT count(*) FROM settings WHERE key LIKE 't%'", [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(n, 3);
}

/// A vault whose last writer crashed leaves a WAL behind; the next two openers find it together
/// (one of them recovers it while the other waits).
#[test]
fn two_opens_during_wal_recovery_both_succeed() {
    for _ in 0..5 {
        let dir = tempdir();
        let path = db_in(&dir);
        let key = VaultKey::generate();
        let store = must(Store::open_encrypted(&path, &key, true));
        store
            .conn()
            .execute_batch("INSERT INTO settings (key, value) VALUES ('k', 'v')")
            .unwrap_or_else(|e| panic!("{e}"));
        // Simulate a crash: copy the files while the WAL is live.
        let crashed = dir.path().join("crashed");
        std::fs::create_dir(&crashed).unwrap_or_else(|e| panic!("{e}"));
        for suffix in ["", "-wal"] {
            let from = PathBuf::from(format!("{}{suffix}", path.display()));
            std::fs::copy(&from, crashed.join(format!("kontor.db{suffix}"))).unwrap_or_else(|e| panic!("{e}"));
        }
        drop(store);
        let crashed_db = crashed.join("kontor.db");
        let barrier = Arc::new(Barrier::new(2));
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let (path, key, barrier) = (crashed_db.clone(), key.clone(), barrier.clone());
                thread::spawn(move || {
                    barrier.wait();
                    let store = Store::open_encrypted(&path, &key, false)?;
                    store.setting("k")
                })
            })
            .collect();
        for handle in handles {
            assert_eq!(must(handle.join().unwrap_or_else(|_| panic!("panicked"))), Some("v".to_owned()));
        }
    }
}
