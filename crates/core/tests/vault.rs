//! The vault against real components: SQLCipher and the real Secret Service.
//!
//! Run under a session bus with an unlocked keyring (`make test` does this with
//! `dbus-run-session` + `gnome-keyring-daemon`). Each test uses its own keyring service name and
//! data directory, so tests run in parallel and leave nothing behind in the user's keyring.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, TimeZone, Utc};
use kontor_core::api::Kontor;
use kontor_core::api::dto::{KeyringCause, VaultState};
use kontor_core::clock::ManualClock;
use kontor_core::domain::{
    Account, AccountId, AccountType, BookingStatus, Connection, ConnectionId, ConnectionStatus, Counterparty, Currency,
    Money, ProviderConfig, ProviderConfigId, ProviderKind, Transaction,
};
use kontor_core::secret::SecretString;
use kontor_core::store::{Store, migrations};
use kontor_core::vault::{self, OsKeyring, SecretStore, VaultKey, VaultPaths};
use kontor_core::{ErrorCode, KontorError};
use kontor_testkit::output_within;
use sha2::{Digest, Sha256};

struct Fixture {
    _dir: tempfile::TempDir,
    paths: VaultPaths,
    keyring: OsKeyring,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let paths = VaultPaths::new(dir.path().join("data"));
        let keyring = OsKeyring::new(format!("dev.kontor.Kontor.test-{}", uuid_like()));
        Self { _dir: dir, paths, keyring }
    }

    fn entry_name(&self) -> String {
        self.paths.read_meta().ok().flatten().map(|m| m.keyring_entry_name()).unwrap_or_default()
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let name = self.entry_name();
        if !name.is_empty() {
            let _ = self.keyring.delete(&name);
        }
    }
}

fn uuid_like() -> String {
    VaultKey::generate().check_value()[..16].to_owned()
}

fn digest(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    hex::encode(Sha256::digest(bytes))
}

fn expect_code<T: std::fmt::Debug>(result: Result<T, KontorError>, code: ErrorCode) -> KontorError {
    match result {
        Ok(value) => panic!("expected {code:?}, got Ok({value:?})"),
        Err(err) => {
            assert_eq!(err.code, code, "unexpected error: {err}");
            assert!(!err.message.is_empty());
            err
        }
    }
}

fn seed_transaction(store: &Store, purpose: &str) {
    let now = Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).single().unwrap_or_default();
    let config = ProviderConfig {
        id: ProviderConfigId::from("demo"),
        kind: ProviderKind::Finapi,
        label: "Demo Bank".into(),
        base_url: "http://127.0.0.1:1".into(),
        client_id: "kontor-demo".into(),
        api_version: "v2".into(),
        is_demo: true,
        created_at: now,
    };
    let connection = Connection {
        id: ConnectionId::from("c1"),
        provider_config_id: config.id.clone(),
        provider_connection_id: "4711".into(),
        bank_id: Some("280001".into()),
        bank_name: "finAPI Test Bank".into(),
        bank_bic: None,
        interface: Some("XS2A".into()),
        status: ConnectionStatus::Active,
        consent_expires_at: None,
        last_synced_at: Some(now),
        created_at: now,
    };
    let account = Account {
        id: AccountId::from("a1"),
        connection_id: connection.id.clone(),
        provider_account_id: "1".into(),
        iban: Some("DE89370400440532013000".into()),
        name: "Girokonto".into(),
        holder: Some("Erika Mustermann".into()),
        account_type: AccountType::Checking,
        currency: Currency::EUR,
        balance_booked: Some(Money::parse("1234.56", "EUR").unwrap_or_else(|e| panic!("{e}"))),
        balance_booked_date: NaiveDate::from_ymd_opt(2026, 11, 1),
        balance_available: None,
        balance_available_date: None,
    };
    let transaction = Transaction {
        account_id: account.id.clone(),
        provider_id: "t1".into(),
        booking_date: NaiveDate::from_ymd_opt(2026, 10, 30).unwrap_or_default(),
        value_date: None,
        amount: Money::parse("-42.10", "EUR").unwrap_or_else(|e| panic!("{e}")),
        counterparty: Counterparty { name: Some("REWE Markt".into()), iban: None, bic: None },
        purpose: Some(purpose.into()),
        kind: Some("Kartenzahlung".into()),
        status: BookingStatus::Booked,
        raw: Some(format!("{{\"purpose\":\"{purpose}\"}}")),
    };
    store.upsert_provider_config(&config).unwrap_or_else(|e| panic!("{e}"));
    store.upsert_connection(&connection).unwrap_or_else(|e| panic!("{e}"));
    store.upsert_account(&account).unwrap_or_else(|e| panic!("{e}"));
    store.upsert_transaction(&transaction, now).unwrap_or_else(|e| panic!("{e}"));
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn sidecar_files(db: &Path) -> Vec<PathBuf> {
    let name = db.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    vec![db.to_owned(), db.with_file_name(format!("{name}-wal")), db.with_file_name(format!("{name}-shm"))]
}

#[test]
fn a_marker_in_a_purpose_is_in_no_file_and_the_file_needs_the_key() {
    let fx = Fixture::new();
    let marker = "KONTOR-PLAINTEXT-MARKER-7f3a9c";
    let store = vault::create_with_keyring(&fx.paths, &fx.keyring).unwrap_or_else(|e| panic!("{e}"));
    seed_transaction(&store, marker);
    // While open, the WAL holds the new pages: they must be encrypted too.
    for file in sidecar_files(store.path()) {
        if let Ok(bytes) = std::fs::read(&file) {
            assert!(!contains(&bytes, marker.as_bytes()), "marker found in {} while open", file.display());
        }
    }
    let db = store.path().to_owned();
    store.close().unwrap_or_else(|e| panic!("{e}"));
    let mut checked = 0;
    for file in sidecar_files(&db) {
        if let Ok(bytes) = std::fs::read(&file) {
            checked += 1;
            assert!(!contains(&bytes, marker.as_bytes()), "marker found in {}", file.display());
            assert!(!contains(&bytes, b"SQLite format 3"), "plaintext header in {}", file.display());
        }
    }
    assert!(checked >= 1);

    // Without the key SQLite cannot even read the schema.
    let plain = rusqlite::Connection::open(&db).unwrap_or_else(|e| panic!("{e}"));
    let err = plain.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0));
    assert!(err.is_err(), "a keyless open read the schema");
    drop(plain);
    // Nor with another key.
    expect_code(Store::open_encrypted(&db, &VaultKey::generate(), false), ErrorCode::VaultCorrupt);

    // With the key from the keyring it reads back.
    let store = vault::open_with_keyring(&fx.paths, &fx.keyring).unwrap_or_else(|e| panic!("{e}"));
    let rows = store.transactions(&Default::default(), None, 10).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].1.purpose.as_deref(), Some(marker));
    assert_eq!(rows[0].1.amount.amount.to_string(), "-42.10");
}

#[test]
fn the_key_is_stored_in_the_secret_service() {
    let fx = Fixture::new();
    let store = vault::create_with_keyring(&fx.paths, &fx.keyring).unwrap_or_else(|e| panic!("{e}"));
    drop(store);
    let stored = fx.keyring.get(&fx.entry_name()).unwrap_or_else(|e| panic!("{e}"));
    let stored = stored.unwrap_or_else(|| panic!("no keyring entry"));
    let key = VaultKey::from_hex(&stored).unwrap_or_else(|| panic!("keyring entry is not a 32-byte hex key"));
    let meta = fx.paths.read_meta().ok().flatten().unwrap_or_else(|| panic!("no vault.json"));
    assert_eq!(key.check_value(), meta.key_check);
    let json = std::fs::read_to_string(fx.paths.meta()).unwrap_or_default();
    assert!(!json.contains(stored.expose().as_str()), "vault.json contains the key");
}

#[test]
fn wrong_key_leaves_the_file_untouched() {
    let fx = Fixture::new();
    vault::create_with_keyring(&fx.paths, &fx.keyring).unwrap_or_else(|e| panic!("{e}")).close().ok();
    let before = digest(&fx.paths.database());
    fx.keyring.set(&fx.entry_name(), &VaultKey::generate().to_hex()).unwrap_or_else(|e| panic!("{e}"));
    expect_code(vault::open_with_keyring(&fx.paths, &fx.keyring), ErrorCode::VaultWrongKey);
    assert_eq!(digest(&fx.paths.database()), before);
}

#[test]
fn missing_keyring_entry_leaves_the_file_untouched() {
    let fx = Fixture::new();
    vault::create_with_keyring(&fx.paths, &fx.keyring).unwrap_or_else(|e| panic!("{e}")).close().ok();
    let before = digest(&fx.paths.database());
    fx.keyring.delete(&fx.entry_name()).unwrap_or_else(|e| panic!("{e}"));
    expect_code(vault::open_with_keyring(&fx.paths, &fx.keyring), ErrorCode::VaultKeyMissing);
    assert_eq!(digest(&fx.paths.database()), before);
    // The facade reports it and does not create a new vault over the old one.
    let kontor = Kontor::new(&fx.paths.dir, Arc::new(fx.keyring.clone()), Arc::new(ManualClock::new(Utc::now())));
    match kontor.start().vault {
        VaultState::Failed { error } => assert_eq!(error.code, ErrorCode::VaultKeyMissing),
        other => panic!("unexpected state {other:?}"),
    }
    assert_eq!(digest(&fx.paths.database()), before);
}

#[test]
fn corrupt_file_is_reported_and_left_untouched() {
    let fx = Fixture::new();
    let store = vault::create_with_keyring(&fx.paths, &fx.keyring).unwrap_or_else(|e| panic!("{e}"));
    seed_transaction(&store, "x");
    store.close().unwrap_or_else(|e| panic!("{e}"));
    let db = fx.paths.database();
    let mut bytes = std::fs::read(&db).unwrap_or_default();
    assert!(bytes.len() > 4096);
    for byte in &mut bytes[64..1024] {
        *byte ^= 0x5a;
    }
    std::fs::write(&db, &bytes).unwrap_or_else(|e| panic!("{e}"));
    let before = digest(&db);
    expect_code(vault::open_with_keyring(&fx.paths, &fx.keyring), ErrorCode::VaultCorrupt);
    assert_eq!(digest(&db), before);

    // A file that is not a database at all.
    std::fs::write(&db, b"this is not a database, just some text that happens to sit here").unwrap_or_default();
    let before = digest(&db);
    expect_code(vault::open_with_keyring(&fx.paths, &fx.keyring), ErrorCode::VaultCorrupt);
    assert_eq!(digest(&db), before);
}

#[test]
fn newer_schema_is_refused_and_left_untouched() {
    let fx = Fixture::new();
    let store = vault::create_with_keyring(&fx.paths, &fx.keyring).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(store.schema_version().unwrap_or_default(), migrations::LATEST);
    store.conn().pragma_update(None, "user_version", migrations::LATEST + 1).unwrap_or_else(|e| panic!("{e}"));
    store.close().unwrap_or_else(|e| panic!("{e}"));
    let before = digest(&fx.paths.database());
    let err = expect_code(vault::open_with_keyring(&fx.paths, &fx.keyring), ErrorCode::VaultNewerSchema);
    assert!(err.message.contains("newer"));
    assert_eq!(digest(&fx.paths.database()), before);
}

#[test]
fn moving_between_keyring_and_passphrase_keeps_the_data() {
    let fx = Fixture::new();
    let store = vault::create_with_keyring(&fx.paths, &fx.keyring).unwrap_or_else(|e| panic!("{e}"));
    seed_transaction(&store, "survives rekeying");
    let old_entry = fx.entry_name();
    let pass = SecretString::new("a long enough passphrase".into());
    vault::rekey(&fx.paths, &store, &fx.keyring, vault::KeySource::Passphrase, Some(&pass))
        .unwrap_or_else(|e| panic!("{e}"));
    store.close().unwrap_or_else(|e| panic!("{e}"));
    assert!(fx.keyring.get(&old_entry).unwrap_or_else(|e| panic!("{e}")).is_none(), "old key left in keyring");
    expect_code(vault::open_with_keyring(&fx.paths, &fx.keyring), ErrorCode::PassphraseRequired);
    let store = vault::unlock_with_passphrase(&fx.paths, &pass).unwrap_or_else(|e| panic!("{e}"));
    vault::rekey(&fx.paths, &store, &fx.keyring, vault::KeySource::Keyring, None).unwrap_or_else(|e| panic!("{e}"));
    store.close().unwrap_or_else(|e| panic!("{e}"));
    let store = vault::open_with_keyring(&fx.paths, &fx.keyring).unwrap_or_else(|e| panic!("{e}"));
    let rows = store.transactions(&Default::default(), None, 10).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rows[0].1.purpose.as_deref(), Some("survives rekeying"));
}

/// The unreachable-keyring tests run in a child process whose session bus address points nowhere,
/// so the real keyring client fails exactly as it does on a desktop without a Secret Service.
const CHILD_ENV: &str = "KONTOR_TEST_KEYRING_CHILD";

fn run_child(test: &str, data_dir: &Path) {
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("{e}"));
    let output = output_within(
        Command::new(exe)
            .args(["--exact", test, "--include-ignored", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, data_dir)
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/kontor-test-bus")
            .env_remove("DISPLAY"),
        Duration::from_secs(120),
    )
    .unwrap_or_else(|e| panic!("child {test}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn unreachable_keyring_falls_back_to_a_passphrase() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    run_child("child_unreachable_keyring_passphrase_path", dir.path());
    // Back in a normal process: the passphrase vault opens with the passphrase only.
    let paths = VaultPaths::new(dir.path());
    let store = vault::unlock_with_passphrase(&paths, &SecretString::new("correct horse battery".into()))
        .unwrap_or_else(|e| panic!("{e}"));
    let rows = store.transactions(&Default::default(), None, 10).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rows.len(), 1);
}

#[test]
#[ignore = "runs only as the child of unreachable_keyring_falls_back_to_a_passphrase"]
fn child_unreachable_keyring_passphrase_path() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else {
        panic!("{CHILD_ENV} is not set: this test runs only as a child of another test")
    };
    let paths = VaultPaths::new(PathBuf::from(dir));
    let keyring = OsKeyring::new("dev.kontor.Kontor.test-unreachable");
    // Nothing exists yet: the keyring path fails with its own code, and nothing is created.
    expect_code(vault::create_with_keyring(&paths, &keyring), ErrorCode::KeyringUnavailable);
    assert!(!paths.database().exists());
    let kontor = Kontor::new(&paths.dir, Arc::new(keyring.clone()), Arc::new(ManualClock::new(Utc::now())));
    match kontor.start().vault {
        VaultState::KeyringUnavailable { error, cause } => {
            assert_eq!(error.code, ErrorCode::KeyringUnavailable);
            // the child has a bus address, one that leads nowhere: the service failed, the bus was not missing
            assert_eq!(cause, KeyringCause::ServiceFailed);
        }
        other => panic!("unexpected state {other:?}"),
    }
    expect_code(kontor.create_with_passphrase(&SecretString::new("short".into())), ErrorCode::InvalidInput);
    let status = kontor
        .create_with_passphrase(&SecretString::new("correct horse battery".into()))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(status.vault, VaultState::Ready);
    kontor
        .with_store(|s| {
            seed_transaction(s, "passphrase vault");
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    kontor.close().unwrap_or_else(|e| panic!("{e}"));

    // Restart: the app asks for the passphrase; a wrong one changes nothing.
    let before = digest(&paths.database());
    let kontor = Kontor::new(&paths.dir, Arc::new(keyring), Arc::new(ManualClock::new(Utc::now())));
    assert_eq!(kontor.start().vault, VaultState::NeedsPassphrase);
    expect_code(
        kontor.unlock_with_passphrase(&SecretString::new("wrong horse battery".into())),
        ErrorCode::VaultWrongKey,
    );
    assert_eq!(digest(&paths.database()), before);
    let status = kontor
        .unlock_with_passphrase(&SecretString::new("correct horse battery".into()))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(status.vault, VaultState::Ready);
    kontor.close().unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn keyring_vault_with_unreachable_keyring_is_reported_and_untouched() {
    let fx = Fixture::new();
    vault::create_with_keyring(&fx.paths, &fx.keyring).unwrap_or_else(|e| panic!("{e}")).close().ok();
    let before = digest(&fx.paths.database());
    run_child("child_keyring_vault_unreachable", &fx.paths.dir);
    assert_eq!(digest(&fx.paths.database()), before);
}

#[test]
#[ignore = "runs only as the child of keyring_vault_with_unreachable_keyring_is_reported_and_untouched"]
fn child_keyring_vault_unreachable() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else {
        panic!("{CHILD_ENV} is not set: this test runs only as a child of another test")
    };
    let paths = VaultPaths::new(PathBuf::from(dir));
    let keyring = OsKeyring::new("dev.kontor.Kontor.test-unreachable");
    expect_code(vault::open_with_keyring(&paths, &keyring), ErrorCode::KeyringUnavailable);
    let kontor = Kontor::new(&paths.dir, Arc::new(keyring), Arc::new(ManualClock::new(Utc::now())));
    match kontor.start().vault {
        VaultState::Failed { error } => assert_eq!(error.code, ErrorCode::KeyringUnavailable),
        other => panic!("unexpected state {other:?}"),
    }
}

#[test]
fn keyring_cause_tells_a_missing_session_bus_from_a_failed_service() {
    use std::ffi::OsStr;
    let runtime = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    // xvfb-run without dbus-run-session: no address, no bus socket at the default place
    assert_eq!(KeyringCause::from_environment(None, Some(runtime.path())), KeyringCause::NoSessionBus);
    assert_eq!(KeyringCause::from_environment(Some(OsStr::new("")), None), KeyringCause::NoSessionBus);
    // a desktop session: an address, or the default bus socket in the runtime directory
    assert_eq!(
        KeyringCause::from_environment(Some(OsStr::new("unix:path=/run/user/1000/bus")), None),
        KeyringCause::ServiceFailed
    );
    std::fs::write(runtime.path().join("bus"), b"").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(KeyringCause::from_environment(None, Some(runtime.path())), KeyringCause::ServiceFailed);
}

#[test]
fn preferences_live_in_the_vault_and_survive_a_restart() {
    use kontor_core::api::preferences::{LanguagePreference, Preferences, ThemePreference};
    let fx = Fixture::new();
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let kontor = Kontor::new(&fx.paths.dir, Arc::new(fx.keyring.clone()), clock.clone());
    assert_eq!(kontor.start().vault, VaultState::Ready);
    assert_eq!(kontor.preferences().unwrap_or_else(|e| panic!("{e}")), Preferences::default());
    let chosen = Preferences { language: LanguagePreference::De, theme: ThemePreference::Dark };
    assert_eq!(kontor.set_preferences(chosen).unwrap_or_else(|e| panic!("{e}")), chosen);
    kontor.close().unwrap_or_else(|e| panic!("{e}"));

    let again = Kontor::new(&fx.paths.dir, Arc::new(fx.keyring.clone()), clock);
    assert_eq!(again.start().vault, VaultState::Ready);
    assert_eq!(again.preferences().unwrap_or_else(|e| panic!("{e}")), chosen);
    again.close().unwrap_or_else(|e| panic!("{e}"));
}
