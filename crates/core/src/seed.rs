//! A vault of any size for tests and benchmarks: realistic German bookings, written through the
//! real sync path ([`crate::sync::apply_delivery`], in batches, as a sync delivers them), so every
//! index, trigger and the search index are maintained as in use.
//!
//! The data is a pure function of [`SeedSpec`]: the same spec gives the same rows in the same order
//! (a SplitMix64 generator, no dependency on `rand`'s algorithms). Bookings spread over several
//! accounts of one connection with very different sizes (a busy current account, a rarely used
//! one), over `years` years up to `until`; 2 % are pending. Each carries a finAPI-shaped raw JSON of
//! realistic size.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::json;

use crate::api::Kontor;
use crate::domain::{
    Account, AccountId, AccountType, BookingStatus, Connection, ConnectionId, ConnectionStatus, Counterparty, Currency,
    ProviderConfig, ProviderConfigId, ProviderKind,
};
use crate::error::{KontorError, Result};
use crate::provider::{FetchedAccount, FetchedTransaction};
use crate::store::Store;
use crate::sync::{self, Delivery};

/// The provider configuration every seeded connection belongs to.
pub const SEED_PROVIDER: &str = "seed";

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedSpec {
    pub transactions: u64,
    pub seed: u64,
    /// 1 to 6 accounts.
    pub accounts: usize,
    pub years: u32,
    /// The newest booking date.
    pub until: NaiveDate,
    /// Rows per sync batch.
    pub batch: usize,
}

impl SeedSpec {
    pub fn new(transactions: u64, seed: u64, until: NaiveDate) -> Self {
        Self { transactions, seed, accounts: 6, years: 5, until, batch: 2000 }
    }
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedReport {
    pub connection_id: ConnectionId,
    pub accounts: Vec<AccountId>,
    pub transactions: u64,
}

/// SplitMix64: small, fast and stable across versions.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// Cents between `low` and `high` (inclusive).
    fn cents(&mut self, low: i64, high: i64) -> i64 {
        low + self.below(u64::try_from(high - low + 1).unwrap_or(1)) as i64
    }
}

/// (name, type, share of the bookings in per mille)
const ACCOUNTS: [(&str, AccountType, u64); 6] = [
    ("Girokonto", AccountType::Checking, 560),
    ("Kreditkarte", AccountType::CreditCard, 250),
    ("Gemeinschaftskonto", AccountType::Checking, 140),
    ("Tagesgeld", AccountType::Savings, 35),
    ("Depot-Verrechnungskonto", AccountType::Checking, 13),
    ("Bausparvertrag", AccountType::Savings, 2),
];

/// (counterparty, kind, purpose pattern, smallest and largest amount in cents)
const MERCHANTS: [(&str, &str, &str, i64, i64); 22] = [
    ("REWE Markt GmbH", "Kartenzahlung", "REWE SAGT DANKE {ref}", -12000, -350),
    ("EDEKA Center Schäfer", "Kartenzahlung", "Kartenzahlung girocard {date}", -9000, -420),
    ("ALDI SÜD", "Kartenzahlung", "ALDI SUED SAGT DANKE {ref}", -8000, -199),
    ("Lidl Dienstleistung GmbH", "Kartenzahlung", "LIDL SAGT DANKE Filiale {ref}", -7000, -150),
    ("dm-drogerie markt", "Kartenzahlung", "dm fil. {ref} Kartenzahlung", -4500, -95),
    ("Müller Drogeriemarkt", "Kartenzahlung", "Müller Filiale {ref}", -3800, -120),
    ("Bäckerei Körner", "Kartenzahlung", "Bäckerei Körner Brötchen {date}", -1500, -180),
    ("Deutsche Bahn AG", "SEPA-Lastschrift", "DB Fahrkarte Auftrag {ref}", -18900, -590),
    ("Aral Tankstelle", "Kartenzahlung", "ARAL Station {ref} Kraftstoff", -9500, -2000),
    ("Amazon EU S.a r.l.", "SEPA-Lastschrift", "Amazon.de Bestellung {ref}", -25000, -499),
    ("PayPal Europe S.a.r.l. et Cie S.C.A", "SEPA-Lastschrift", "PP.{ref}.PP . Ihr Einkauf bei", -15000, -300),
    ("Vodafone GmbH", "SEPA-Lastschrift", "Kundennummer {ref} Mobilfunk Rechnung", -6999, -2999),
    ("Telekom Deutschland GmbH", "SEPA-Lastschrift", "Festnetz/Internet Rechnung {ref}", -5995, -3995),
    ("Stadtwerke München GmbH", "SEPA-Lastschrift", "Abschlag Strom/Gas Vertrag {ref}", -16000, -6000),
    ("Allianz Versicherungs-AG", "SEPA-Lastschrift", "Beitrag Haftpflicht Vers.-Nr. {ref}", -9000, -1500),
    ("Rundfunk ARD, ZDF, DRadio", "SEPA-Lastschrift", "Rundfunkbeitrag Beitragsnr. {ref}", -5508, -5508),
    ("Spotify AB", "SEPA-Lastschrift", "Spotify Premium {ref}", -1099, -1099),
    ("Netflix International B.V.", "SEPA-Lastschrift", "Netflix Abo {ref}", -1799, -1299),
    ("Hausverwaltung Köhler & Söhne", "Dauerauftrag", "Miete inkl. Nebenkosten Whg. {ref}", -145000, -98000),
    ("Apotheke am Marienplatz", "Kartenzahlung", "Apotheke Zuzahlung {date}", -3500, -500),
    ("Finanzamt München", "SEPA-Überweisung", "Steuererstattung {ref}", 5000, 180000),
    ("Erika Mustermann", "SEPA-Überweisung", "Anteil Einkauf {date}", 500, 9000),
];

const EMPLOYER: &str = "Musterfirma Software GmbH";

fn iban(rng: &mut Rng) -> String {
    format!("DE{:02}{:018}", 10 + rng.below(89), rng.below(1_000_000_000_000_000_000))
}

/// Row `index` of `spec` (the same row whatever the batching).
fn transaction(spec: &SeedSpec, index: u64, counterparties: &[(String, String)]) -> FetchedTransaction {
    let mut rng = Rng(spec.seed ^ index.wrapping_mul(0xA076_1D64_78BD_642F));
    let days = i64::from(spec.years) * 365;
    let total = spec.transactions.max(1);
    let step = i64::try_from(index).unwrap_or_default() * days / i64::try_from(total).unwrap_or(1);
    let jitter = rng.below(5) as i64 - 2;
    let booking = (spec.until - Duration::days(days - step + jitter)).min(spec.until);
    let shares: Vec<u64> = ACCOUNTS.iter().take(spec.accounts.clamp(1, 6)).map(|a| a.2).collect();
    let mut roll = rng.below(shares.iter().sum());
    let mut account = 0;
    for (i, share) in shares.iter().enumerate() {
        if roll < *share {
            account = i;
            break;
        }
        roll -= share;
    }
    let salary = rng.below(40) == 0;
    let (name, kind, purpose, cents) = if salary {
        let cents = rng.cents(320_000, 410_000);
        (EMPLOYER.to_owned(), "Gehalt/Rente", format!("Gehalt {}", booking.format("%m/%Y")), cents)
    } else {
        let (name, kind, pattern, low, high) = *rng.pick(&MERCHANTS);
        let reference = format!("{:08}", rng.below(100_000_000));
        let purpose = pattern.replace("{ref}", &reference).replace("{date}", &booking.format("%d.%m.%Y").to_string());
        (name.to_owned(), kind, purpose, rng.cents(low, high))
    };
    let (_, counterparty_iban) = &counterparties[(index % counterparties.len() as u64) as usize];
    let amount = Decimal::new(cents, 2);
    let status = if rng.below(50) == 0 { BookingStatus::Pending } else { BookingStatus::Booked };
    let provider_id = format!("seed-{}-{index}", spec.seed);
    let value_date = booking + Duration::days(rng.below(3) as i64);
    let raw = json!({
        "id": provider_id,
        "accountId": account + 1,
        "parentId": null,
        "amount": amount.to_string(),
        "currency": "EUR",
        "bankBookingDate": booking.to_string(),
        "valueDate": value_date.to_string(),
        "finapiBookingDate": format!("{booking} 00:00:00.000"),
        "purpose": purpose,
        "counterpartName": name,
        "counterpartAccountNumber": null,
        "counterpartIban": counterparty_iban,
        "counterpartBlz": null,
        "counterpartBic": "COBADEFFXXX",
        "counterpartBankName": "Commerzbank",
        "counterpartMandateReference": format!("M-{:010}", rng.below(10_000_000_000)),
        "counterpartCustomerReference": format!("KREF{:012}", rng.below(1_000_000_000_000)),
        "counterpartCreditorId": format!("DE{:02}ZZZ{:011}", rng.below(100), rng.below(100_000_000_000)),
        "counterpartDebitorId": null,
        "type": kind,
        "typeCodeZka": "106",
        "typeCodeSwift": "NMSC",
        "sepaPurposeCode": null,
        "bankTransactionCode": "PMNT-CCRD-POSD",
        "bankTransactionCodeDescription": "Card Transactions / Point-of-Sale",
        "primanota": format!("{:04}", rng.below(10_000)),
        "category": {"id": 1 + rng.below(300), "name": "Lebensmittel", "parentId": 2, "parentName": "Haushalt", "isCustom": false},
        "labels": [],
        "isPotentialDuplicate": false,
        "isAdjustingEntry": false,
        "isNew": false,
        "importDate": format!("{booking} 06:{:02}:{:02}.000", rng.below(60), rng.below(60)),
        "children": [],
        "paypalData": null,
        "endToEndReference": format!("E2E{:016}", rng.below(10_000_000_000_000_000)),
        "compensationAmount": null,
        "originalAmount": null,
        "originalCurrency": null,
        "differentDebitor": null,
        "differentCreditor": null,
    });
    FetchedTransaction {
        provider_account_id: (account + 1).to_string(),
        provider_id,
        booking_date: booking,
        value_date: Some(value_date),
        amount,
        currency: None,
        counterparty: Counterparty { name: Some(name), iban: Some(counterparty_iban.clone()), bic: None },
        purpose: Some(purpose),
        kind: Some(kind.to_owned()),
        status,
        raw: Some(raw.to_string()),
    }
}

/// The rows of a [`SeedSpec`], one at a time: the accounts as a provider would deliver them, and row
/// `index` (the same row whatever the batching). Benchmarks use it to feed the very same rows to
/// other databases.
#[derive(Debug, Clone)]
pub struct Generator {
    spec: SeedSpec,
    counterparties: Vec<(String, String)>,
    accounts: Vec<FetchedAccount>,
}

impl Generator {
    pub fn new(spec: &SeedSpec) -> Self {
        let mut rng = Rng(spec.seed);
        let counterparties: Vec<(String, String)> = (0..512).map(|i| (i.to_string(), iban(&mut rng))).collect();
        let accounts = ACCOUNTS
            .iter()
            .take(spec.accounts.clamp(1, 6))
            .enumerate()
            .map(|(i, (name, account_type, _))| FetchedAccount {
                provider_account_id: (i + 1).to_string(),
                iban: Some(iban(&mut rng)),
                name: (*name).to_owned(),
                holder: Some("Max Mustermann".into()),
                account_type: *account_type,
                currency: Currency::EUR,
                balance: Some(Decimal::new(rng.cents(0, 500_000), 2)),
                available: None,
                download_failed: false,
            })
            .collect();
        Self { spec: spec.clone(), counterparties, accounts }
    }

    /// The accounts with their opening balances.
    pub fn accounts(&self) -> &[FetchedAccount] {
        &self.accounts
    }

    /// Row `index`.
    pub fn row(&self, index: u64) -> FetchedTransaction {
        transaction(&self.spec, index, &self.counterparties)
    }

    /// Rows `from..to`.
    pub fn rows(&self, from: u64, to: u64) -> Vec<FetchedTransaction> {
        (from..to).map(|i| self.row(i)).collect()
    }
}

/// The connection every seeded row of `spec` belongs to.
pub fn seed_connection(spec: &SeedSpec, now: DateTime<Utc>) -> Connection {
    Connection {
        id: ConnectionId(format!("seed-{}", spec.seed)),
        provider_config_id: ProviderConfigId::from(SEED_PROVIDER),
        provider_connection_id: format!("seed-{}", spec.seed),
        bank_id: Some("280001".into()),
        bank_name: "Seeded Bank".into(),
        bank_bic: Some("SEEDDEFFXXX".into()),
        interface: Some("XS2A".into()),
        status: ConnectionStatus::Active,
        consent_expires_at: None,
        last_synced_at: Some(now),
        created_at: now,
    }
}

/// Fills the open vault of `kontor` (see the module docs).
pub fn fill(kontor: &Kontor, spec: &SeedSpec) -> Result<SeedReport> {
    let now = kontor.clock().now();
    kontor.with_store(|store| fill_store(store, spec, now))
}

/// Fills `store`: one connection under the [`SEED_PROVIDER`] configuration, its accounts, and
/// `spec.transactions` rows, each batch applied like a sync ([`sync::apply_delivery`]).
pub fn fill_store(store: &Store, spec: &SeedSpec, now: DateTime<Utc>) -> Result<SeedReport> {
    fill_store_with(store, spec, now, |_| {})
}

/// [`fill_store`], calling `on_batch` with the outcome of each batch's sync (for benchmarks).
pub fn fill_store_with(
    store: &Store,
    spec: &SeedSpec,
    now: DateTime<Utc>,
    mut on_batch: impl FnMut(&sync::SyncOutcome),
) -> Result<SeedReport> {
    if spec.batch == 0 {
        return Err(KontorError::invalid_input("The batch size must be at least 1."));
    }
    let config = ProviderConfig {
        id: ProviderConfigId::from(SEED_PROVIDER),
        kind: ProviderKind::Finapi,
        label: "Seeded test data".into(),
        base_url: "http://127.0.0.1:9".into(),
        client_id: "kontor-seed".into(),
        api_version: "v2".into(),
        is_demo: true,
        created_at: now,
    };
    store.upsert_provider_config(&config)?;
    let connection = seed_connection(spec, now);
    let generator = Generator::new(spec);
    let mut fetched_accounts = generator.accounts().to_vec();
    let mut accounts: Vec<Account> = store.connection_accounts(&connection.id)?;
    let mut index = 0u64;
    let mut seq = 0u32;
    while index < spec.transactions || accounts.is_empty() {
        let end = (index + spec.batch as u64).min(spec.transactions);
        let batch = generator.rows(index, end);
        for t in batch.iter().filter(|t| t.status == BookingStatus::Booked) {
            if let Some(account) = fetched_accounts.iter_mut().find(|a| a.provider_account_id == t.provider_account_id)
            {
                account.balance = account.balance.map(|b| b + t.amount);
            }
        }
        let delivery = Delivery {
            accounts: fetched_accounts.clone(),
            transactions: batch,
            deleted: Vec::new(),
            pending_complete: false,
        };
        let outcome = sync::apply_delivery(store, &connection, delivery, now, now, || {
            seq += 1;
            AccountId(format!("seed-{}-{seq}", spec.seed))
        })?;
        on_batch(&outcome);
        accounts = outcome.accounts;
        index = end;
    }
    Ok(SeedReport {
        connection_id: connection.id,
        accounts: accounts.into_iter().map(|a| a.id).collect(),
        transactions: spec.transactions,
    })
}
