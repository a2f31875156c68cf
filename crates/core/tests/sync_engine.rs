//! The sync path on a real SQLCipher vault: its reads seek (no scan of the transactions), a
//! pending → booked match is recorded with its reason and readable through the facade, the balance
//! check lands in the journal, and a re-sync of known rows changes nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{NaiveDate, TimeZone, Utc};
use kontor_core::KontorError;
use kontor_core::api::Kontor;
use kontor_core::clock::ManualClock;
use kontor_core::domain::{
    AccountId, AccountType, BookingStatus, Connection, ConnectionId, ConnectionStatus, Counterparty, Currency,
    MatchField, MatchRule, ProviderConfig, ProviderConfigId, ProviderKind, SyncWarning, TransactionId,
};
use kontor_core::provider::{FetchedAccount, FetchedTransaction};
use kontor_core::secret::SecretString;
use kontor_core::seed::{self, SeedSpec};
use kontor_core::store::Store;
use kontor_core::sync::{Delivery, apply_delivery};
use kontor_core::vault::{SecretStore, SecretStoreError};
use rust_decimal::Decimal;

fn must<T>(result: Result<T, KontorError>) -> T {
    result.unwrap_or_else(|e| panic!("{:?}: {}", e.code, e.message))
}

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).single().unwrap_or_default()
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d).unwrap_or_default()
}

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
fn the_syncs_reads_seek_and_never_scan_the_transactions() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let kontor = Kontor::new(dir.path(), Arc::new(MemoryKeyring::default()), Arc::new(ManualClock::new(now())));
    kontor.start();
    must(seed::fill(&kontor, &SeedSpec::new(3000, 3, day(30))));
    must(kontor.with_store(|s| {
        s.conn().execute_batch("ANALYZE").map_err(|e| KontorError::internal(e.to_string()))?;
        let plans = s.sync_read_plans()?;
        let text = plans.join("\n");
        assert!(plans.iter().filter(|l| l.starts_with("-- ")).count() == 4, "{text}");
        for line in plans.iter().filter(|l| !l.starts_with("-- ")) {
            if line.starts_with("SCAN j VIRTUAL TABLE")
                || line.starts_with("SCAN d VIRTUAL TABLE")
                || line.starts_with("LIST SUBQUERY")
                || line == "CREATE BLOOM FILTER"
            {
                continue; // the list of provider ids asked for
            }
            assert!(!line.starts_with("SCAN"), "a sync read scans: {line}\n{text}");
            assert!(line.starts_with("SEARCH t USING"), "{line}\n{text}");
        }
        assert!(
            text.contains("transactions_by_account_date (account_id=? AND booking_date>? AND booking_date<?)"),
            "{text}"
        );
        let by_id = "SEARCH t USING INDEX sqlite_autoindex_transactions_1 (account_id=? AND provider_id=?)";
        assert_eq!(plans.iter().filter(|l| l.as_str() == by_id).count(), 2, "one id and many ids: {text}");
        assert!(text.contains("transactions_pending (account_id=?)"), "{text}");
        Ok(())
    }));
}

fn account(balance: &str) -> FetchedAccount {
    FetchedAccount {
        provider_account_id: "giro".into(),
        iban: Some("DE02120300000000202051".into()),
        name: "Girokonto".into(),
        holder: None,
        account_type: AccountType::Checking,
        currency: Currency::EUR,
        balance: Some(balance.parse().unwrap_or_default()),
        available: None,
        download_failed: false,
    }
}

fn row(id: &str, d: u32, amount: &str, status: BookingStatus, purpose: &str) -> FetchedTransaction {
    FetchedTransaction {
        provider_account_id: "giro".into(),
        provider_id: id.into(),
        booking_date: day(d),
        value_date: None,
        amount: amount.parse().unwrap_or_default(),
        currency: None,
        counterparty: Counterparty { name: Some("dm-drogerie markt".into()), iban: None, bic: None },
        purpose: Some(purpose.into()),
        kind: Some("Kartenzahlung".into()),
        status,
        raw: Some(format!("{{\"id\":\"{id}\"}}")),
    }
}

fn connection() -> Connection {
    Connection {
        id: ConnectionId::from("c1"),
        provider_config_id: ProviderConfigId::from("p1"),
        provider_connection_id: "remote-1".into(),
        bank_id: None,
        bank_name: "Testbank".into(),
        bank_bic: None,
        interface: None,
        status: ConnectionStatus::Active,
        consent_expires_at: None,
        last_synced_at: Some(now()),
        created_at: now(),
    }
}

fn sync(store: &Store, delivery: &Delivery) -> kontor_core::sync::SyncOutcome {
    must(apply_delivery(store, &connection(), delivery.clone(), now(), now(), AccountId::generate))
}

#[test]
fn pending_to_booked_is_recorded_with_its_reason_and_the_balance_check_is_journaled() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let kontor = Kontor::new(dir.path(), Arc::new(MemoryKeyring::default()), Arc::new(ManualClock::new(now())));
    kontor.start();
    must(kontor.with_store(|s| {
        s.upsert_provider_config(&ProviderConfig {
            id: ProviderConfigId::from("p1"),
            kind: ProviderKind::Finapi,
            label: "Test".into(),
            base_url: "http://127.0.0.1:9".into(),
            client_id: "test".into(),
            api_version: "v2".into(),
            is_demo: true,
            created_at: now(),
        })?;
        let first = Delivery {
            accounts: vec![account("100.00")],
            transactions: vec![
                row("b-1", 20, "-10.00", BookingStatus::Booked, "Drogerie"),
                row("p-1", 27, "-23.99", BookingStatus::Pending, "dm fil. 1234"),
                row("p-2", 27, "-5.00", BookingStatus::Pending, "dm fil. 1234"),
            ],
            deleted: Vec::new(),
            pending_complete: true,
        };
        let outcome = sync(s, &first);
        assert_eq!((outcome.added, outcome.updated, outcome.removed), (3, 0, 0));
        assert!(outcome.warnings.is_empty(), "{:?}", outcome.warnings);
        let again = sync(s, &first);
        assert_eq!((again.added, again.updated, again.removed, again.unchanged), (0, 0, 0, 3));

        // The bank books p-1 as b-2 two days later, drops p-2, and reports a balance 1 cent off.
        let second = Delivery {
            accounts: vec![account("76.00")],
            transactions: vec![
                row("b-1", 20, "-10.00", BookingStatus::Booked, "Drogerie"),
                row("b-2", 29, "-23.99", BookingStatus::Booked, "dm fil. 1234 Kartenzahlung girocard"),
            ],
            deleted: Vec::new(),
            pending_complete: true,
        };
        let outcome = sync(s, &second);
        assert_eq!((outcome.added, outcome.updated, outcome.removed), (0, 1, 1));
        let expected = SyncWarning::BalanceMismatch {
            account_id: outcome.accounts[0].id.to_string(),
            account_name: "Girokonto".into(),
            expected: "76.01".into(),
            reported: "76.00".into(),
            currency: "EUR".into(),
        };
        assert_eq!(outcome.warnings, vec![expected.clone()]);
        let journal = s.sync_journal(1)?;
        assert_eq!(journal[0].warnings, vec![expected]);
        assert_eq!((journal[0].added, journal[0].updated, journal[0].removed), (0, 1, 1));

        let rows = s.connection_transactions(&ConnectionId::from("c1"), None)?;
        let mut ids: Vec<&str> = rows.iter().map(|(_, t)| t.provider_id.as_str()).collect();
        ids.sort_unstable();
        assert_eq!(ids, vec!["b-1", "b-2"], "booked without a duplicate; the dropped pending row is gone");
        Ok(())
    }));

    let booked = must(kontor.with_store(|s| {
        let rows = s.connection_transactions(&ConnectionId::from("c1"), None)?;
        Ok(rows.into_iter().find(|(_, t)| t.provider_id == "b-2").map(|(id, _)| id).unwrap_or(TransactionId(0)))
    }));
    let detail = must(kontor.transaction(booked.0));
    let reason = detail.pending_match.unwrap_or_else(|| panic!("the match has no recorded reason"));
    assert_eq!(reason.rule, MatchRule::SameBooking);
    assert_eq!(reason.pending_provider_id, "p-1");
    assert_eq!(reason.pending_date, "2026-11-27");
    assert_eq!(reason.days_apart, 2);
    assert_eq!(reason.fields, vec![MatchField::Amount, MatchField::CounterpartyName, MatchField::Purpose]);
    assert_eq!(detail.status, BookingStatus::Booked);
    assert_eq!(detail.amount, Decimal::new(-2399, 2).to_string());
    let unmatched = must(kontor.with_store(|s| {
        let rows = s.connection_transactions(&ConnectionId::from("c1"), None)?;
        Ok(rows.into_iter().find(|(_, t)| t.provider_id == "b-1").map(|(id, _)| id).unwrap_or(TransactionId(0)))
    }));
    assert_eq!(must(kontor.transaction(unmatched.0)).pending_match, None);
}
