//! Journeys of connections the user controls, through the `Kontor` facade against the real Demo Bank
//! (127.0.0.1:0, real HTTP), a real SQLCipher vault and the real OS keyring (a throwaway service per
//! test; run inside `tests/support/desktop-session.sh`):
//!
//! - renewing a consent 10 days from its end asks the bank for SCA, brings a new 90-day consent and
//!   keeps the connection, its account ids, the user's names and every transaction;
//! - renaming, hiding and reordering accounts, and the total following;
//! - an IBAN held by two connections counts once, and the user keeps one;
//! - the sync history after a failed and a successful sync;
//! - removing a connection deletes it at the bank and every row in the vault (the search index too).
//!
//! Kontor's clock is a manual clock on the real time, because the Demo Bank dates consents by its own
//! clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration as StdDuration;

use kontor_core::ErrorCode;
use kontor_core::api::Kontor;
use kontor_core::api::connections::{ConnectionDetail, SyncOutcome};
use kontor_core::api::dto::DeadlineWarning;
use kontor_core::api::link::{DEMO_CLIENT_SECRET, LinkOptions};
use kontor_core::api::link_dto::{FlowUpdate, NewProviderConfig, StartLink};
use kontor_core::clock::{ManualClock, SharedClock};
use kontor_core::domain::{Account, AccountId, Connection, ConnectionId, ConnectionStatus, Money, ProviderKind};
use kontor_core::provider::LoginValue;
use kontor_core::provider::finapi::RetryPolicy;
use kontor_core::sca::{UserAnswer, UserRequest};
use kontor_core::secret::SecretString;
use kontor_core::vault::{OsKeyring, SecretStore};
use kontor_sandbox::{DemoBank, DemoBankConfig, RunningDemoBank};
use rust_decimal::Decimal;

type TestResult = Result<(), String>;

fn fail<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> String + '_ {
    move |e| format!("{what}: {e}")
}

fn unique_service() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("dev.kontor.Kontor.conn-{}-{}-{nanos}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

struct Env {
    bank: RunningDemoBank,
    kontor: Kontor,
    keyring: Arc<OsKeyring>,
    config_id: String,
    _dir: tempfile::TempDir,
}

impl Drop for Env {
    fn drop(&mut self) {
        for name in [format!("provider-secret:{}", self.config_id), format!("provider-user:{}", self.config_id)] {
            let _ = self.keyring.delete(&name);
        }
    }
}

async fn env(consent_days: i64) -> Result<Env, String> {
    let config = DemoBankConfig { import_consent_days: Some(consent_days), ..DemoBankConfig::for_tests() };
    let bank = DemoBank::start(config).await.map_err(fail("start the Demo Bank"))?;
    let dir = tempfile::tempdir().map_err(fail("tempdir"))?;
    let keyring = Arc::new(OsKeyring::new(unique_service()));
    let clock: SharedClock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let kontor = Kontor::new(dir.path(), keyring.clone(), clock);
    kontor.create_with_passphrase(&SecretString::new("journey passphrase".into())).map_err(fail("create vault"))?;
    kontor.set_link_options(LinkOptions {
        poll_interval_ms: 0,
        download_poll_interval: StdDuration::from_millis(10),
        download_max_polls: 20,
        retry: RetryPolicy {
            max_attempts: 2,
            base_delay: StdDuration::from_millis(10),
            max_wait: StdDuration::from_secs(1),
        },
        ..LinkOptions::default()
    });
    let config = kontor
        .add_provider_config(NewProviderConfig {
            kind: ProviderKind::Finapi,
            label: "Demo Bank".into(),
            base_url: bank.base_url(),
            client_id: "kontor-demo-v2".into(),
            client_secret: SecretString::new(DEMO_CLIENT_SECRET.into()),
            api_version: Some("v2".into()),
            is_demo: false,
        })
        .map_err(fail("add the provider (is the Secret Service running? use tests/support/desktop-session.sh)"))?;
    Ok(Env { bank, kontor, keyring, config_id: config.id, _dir: dir })
}

impl Env {
    /// Answers the bank like a user with `login` (PIN = login, the first procedure, the demo TAN).
    async fn drive(&self, mut update: FlowUpdate, login: &str) -> Result<FlowUpdate, String> {
        for _ in 0..20 {
            let FlowUpdate::NeedsInput { flow_id, request, error } = &update else { return Ok(update) };
            // A renewal logs in at the bank again: "the bank needs your login" comes with the login form.
            if let Some(error) = error.as_ref().filter(|e| e.code != ErrorCode::CredentialsRequired) {
                return Err(format!("unexpected refusal: {error}"));
            }
            let answer = match request {
                UserRequest::EnterCredentials { fields, .. } => UserAnswer::Credentials {
                    values: fields
                        .iter()
                        .map(|f| LoginValue { label: f.label.clone(), value: SecretString::new(login.to_owned()) })
                        .collect(),
                    store_secrets: false,
                },
                UserRequest::ChooseProcedure { procedures, .. } => {
                    UserAnswer::Procedure { id: procedures.first().map(|p| p.id.clone()).ok_or("no procedures")? }
                }
                UserRequest::EnterTan { .. } => {
                    UserAnswer::Tan { tan: SecretString::new(kontor_sandbox::DEMO_TAN.into()) }
                }
                UserRequest::ApproveInApp { .. } => UserAnswer::Continue,
                other => return Err(format!("unexpected request {other:?}")),
            };
            update = self.kontor.answer(flow_id, answer).await.map_err(fail("answer"))?;
        }
        Err("the flow did not end".into())
    }

    async fn link(&self, login: &str) -> Result<String, String> {
        let start = StartLink {
            provider_config_id: self.config_id.clone(),
            bank_id: "280001".into(),
            interface: None,
            callback_url: None,
        };
        let first = self.kontor.start_link(start).await.map_err(fail("start_link"))?;
        match self.drive(first, login).await? {
            FlowUpdate::Done { connection, .. } => Ok(connection.id),
            other => Err(format!("link ended with {other:?}")),
        }
    }

    fn detail(&self, id: &str) -> Result<ConnectionDetail, String> {
        self.kontor
            .connections()
            .map_err(fail("connections"))?
            .into_iter()
            .find(|c| c.connection.id == id)
            .ok_or_else(|| format!("connection {id} is not listed"))
    }

    fn total(&self) -> Result<Decimal, String> {
        let overview = self.kontor.overview().map_err(fail("overview"))?;
        let eur = overview.totals.iter().find(|t| t.currency == "EUR").ok_or("no EUR total")?;
        eur.amount.parse().map_err(fail("total"))
    }

    fn count(&self, sql: &str) -> Result<i64, String> {
        self.kontor
            .with_store(|s| {
                s.conn().query_row(sql, [], |r| r.get(0)).map_err(|e| kontor_core::KontorError::internal(e.to_string()))
            })
            .map_err(fail(sql))
    }
}

#[tokio::test]
async fn renewing_a_consent_ten_days_from_its_end_keeps_the_mapping_and_every_transaction() -> TestResult {
    let env = env(10).await?;
    let id = env.link("demo").await?;
    let before = env.detail(&id)?;
    let left = match before.connection.deadline_warnings.as_slice() {
        [DeadlineWarning::ConsentEnds { days_left }] => *days_left,
        other => return Err(format!("expected one ConsentEnds warning, got {other:?}")),
    };
    assert!((9..=10).contains(&left), "{left} days left");
    assert!(before.can_renew && before.needs_attention);
    let first = before.accounts.first().ok_or("no accounts")?.id.clone();
    env.kontor.rename_account(&first, Some("Haushalt")).map_err(fail("rename"))?;
    assert!(before.transaction_count > 100, "{}", before.transaction_count);

    let update = env.kontor.renew_consent(&id).await.map_err(fail("renew"))?;
    assert!(matches!(update, FlowUpdate::NeedsInput { .. }), "a renewal asks for SCA: {update:?}");
    let done = env.drive(update, "demo").await?;
    let FlowUpdate::Done { connection, .. } = done else { return Err(format!("renewal ended with {done:?}")) };
    assert_eq!(connection.id, id, "the same connection");

    let after = env.detail(&id)?;
    let ids = |d: &ConnectionDetail| d.accounts.iter().map(|a| a.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&after), ids(&before), "the account mapping is kept");
    assert!(
        after.transaction_count >= before.transaction_count,
        "{} < {}",
        after.transaction_count,
        before.transaction_count
    );
    assert_eq!(after.accounts.iter().find(|a| a.id == first).map(|a| a.name.as_str()), Some("Haushalt"));
    assert!(after.connection.deadline_warnings.is_empty(), "{:?}", after.connection.deadline_warnings);
    assert!(after.connection.consent_days_left.is_some_and(|d| d >= 89), "{:?}", after.connection.consent_days_left);
    assert_eq!(after.connection.status, ConnectionStatus::Active);
    let history = env.kontor.sync_history(Some(&id)).map_err(fail("history"))?;
    assert_eq!(history.iter().filter(|h| h.outcome == SyncOutcome::Succeeded).count(), 2, "{history:?}");
    assert_eq!(env.count("SELECT count(*) FROM connections")?, 1);
    Ok(())
}

#[tokio::test]
async fn accounts_are_renamed_hidden_and_reordered_and_the_total_follows() -> TestResult {
    let env = env(90).await?;
    let id = env.link("demo_no_msa").await?;
    let detail = env.detail(&id)?;
    assert_eq!(detail.accounts.len(), 3);
    let total = env.total()?;
    let hidden = detail.accounts.get(1).ok_or("no second account")?;
    let balance: Decimal = hidden.balance_booked.as_deref().ok_or("no balance")?.parse().map_err(fail("balance"))?;

    env.kontor.set_account_hidden(&hidden.id, true).map_err(fail("hide"))?;
    assert_eq!(env.total()?, total - balance);
    let overview = env.kontor.overview().map_err(fail("overview"))?;
    assert_eq!(overview.accounts.len(), 2);
    assert!(overview.accounts.iter().all(|a| a.id != hidden.id));
    assert!(env.detail(&id)?.accounts.iter().any(|a| a.id == hidden.id && a.hidden), "still listed as hidden");
    env.kontor.set_account_hidden(&hidden.id, false).map_err(fail("show"))?;
    assert_eq!(env.total()?, total);

    let first = detail.accounts.first().ok_or("no account")?;
    env.kontor.rename_account(&first.id, Some("  Gemeinsames Konto ")).map_err(fail("rename"))?;
    let overview = env.kontor.overview().map_err(fail("overview"))?;
    let shown = overview.accounts.iter().find(|a| a.id == first.id).ok_or("renamed account missing")?;
    assert_eq!(shown.name, "Gemeinsames Konto");
    assert_eq!(shown.bank_account_name.as_deref(), Some(first.bank_account_name.as_str()));
    let too_long = "x".repeat(81);
    let refused = env.kontor.rename_account(&first.id, Some(&too_long)).err().map(|e| e.code);
    assert_eq!(refused, Some(ErrorCode::InvalidInput));
    env.kontor.rename_account(&first.id, None).map_err(fail("reset the name"))?;
    assert_eq!(env.detail(&id)?.accounts.first().map(|a| a.name.clone()), Some(first.bank_account_name.clone()));

    let mut reversed: Vec<String> = detail.accounts.iter().map(|a| a.id.clone()).collect();
    reversed.reverse();
    env.kontor.reorder_accounts(&id, &reversed).map_err(fail("reorder"))?;
    let order: Vec<String> =
        env.kontor.overview().map_err(fail("overview"))?.accounts.into_iter().map(|a| a.id).collect();
    assert_eq!(order, reversed);
    let partial = env.kontor.reorder_accounts(&id, &reversed[..2]).err().map(|e| e.code);
    assert_eq!(partial, Some(ErrorCode::InvalidInput));

    // A sync keeps the user's choices.
    let synced = env.kontor.sync_connection(&id).await.map_err(fail("sync"))?;
    assert!(matches!(synced, FlowUpdate::Done { .. }), "{synced:?}");
    let order: Vec<String> =
        env.kontor.overview().map_err(fail("overview"))?.accounts.into_iter().map(|a| a.id).collect();
    assert_eq!(order, reversed);
    Ok(())
}

#[tokio::test]
async fn an_iban_held_by_two_connections_counts_once_and_the_user_keeps_one() -> TestResult {
    let env = env(90).await?;
    let id = env.link("demo_no_msa").await?;
    let total = env.total()?;
    let original = env.detail(&id)?.accounts.into_iter().next().ok_or("no account")?;
    let balance: Decimal = original.balance_booked.as_deref().ok_or("no balance")?.parse().map_err(fail("balance"))?;

    // A one-time finX import of the same bank, as it lands in the vault.
    let now = chrono::Utc::now();
    let once = Connection {
        id: ConnectionId::from("once"),
        provider_config_id: kontor_core::domain::ProviderConfigId::from(env.config_id.as_str()),
        provider_connection_id: "once-1".into(),
        bank_id: None,
        bank_name: "Demo Bank".into(),
        bank_bic: None,
        interface: Some(kontor_core::api::finx::ONETIME_INTERFACE.into()),
        status: ConnectionStatus::Active,
        consent_expires_at: None,
        last_synced_at: Some(now),
        created_at: now,
    };
    let copy = Account {
        id: AccountId::from("copy"),
        connection_id: once.id.clone(),
        provider_account_id: "A1".into(),
        iban: original.iban.as_deref().map(|i| format!(" {} ", i.to_lowercase())),
        name: original.name.clone(),
        holder: None,
        account_type: original.account_type,
        currency: kontor_core::domain::Currency::EUR,
        balance_booked: Some(Money::new(balance, kontor_core::domain::Currency::EUR)),
        balance_booked_date: None,
        balance_available: None,
        balance_available_date: None,
    };
    env.kontor
        .with_store(|s| {
            s.upsert_connection(&once)?;
            s.upsert_account(&copy)
        })
        .map_err(fail("store the one-time import"))?;

    assert_eq!(env.total()?, total, "the copy is not counted");
    let overview = env.kontor.overview().map_err(fail("overview"))?;
    let listed = overview.accounts.iter().find(|a| a.id == "copy").ok_or("the copy is listed")?;
    assert_eq!(listed.duplicate_of.as_deref(), Some(original.id.as_str()));
    assert_eq!(env.detail("once")?.accounts.first().and_then(|a| a.duplicate_of.clone()), Some(original.id.clone()));

    // The user keeps the one-time copy: the ongoing one is hidden, the total still counts it once.
    env.kontor.keep_account("copy").map_err(fail("keep"))?;
    let overview = env.kontor.overview().map_err(fail("overview"))?;
    assert!(overview.accounts.iter().all(|a| a.id != original.id));
    assert!(overview.accounts.iter().all(|a| a.duplicate_of.is_none()));
    assert_eq!(env.total()?, total);
    Ok(())
}

#[tokio::test]
async fn the_history_shows_a_failed_and_a_successful_sync() -> TestResult {
    let env = env(90).await?;
    let id = env.link("demo_no_msa").await?;
    env.bank.faults().fail_next(20, 503);
    let failed = env.kontor.sync_connection(&id).await;
    env.bank.faults().clear();
    assert!(!matches!(failed, Ok(FlowUpdate::Done { .. })), "{failed:?}");
    let synced = env.kontor.sync_connection(&id).await.map_err(fail("sync"))?;
    assert!(matches!(synced, FlowUpdate::Done { .. }), "{synced:?}");

    let history = env.kontor.sync_history(Some(&id)).map_err(fail("history"))?;
    let outcomes: Vec<SyncOutcome> = history.iter().map(|h| h.outcome).collect();
    assert_eq!(outcomes, [SyncOutcome::Succeeded, SyncOutcome::Failed, SyncOutcome::Succeeded], "{history:?}");
    let failure = history.get(1).and_then(|h| h.error.clone()).ok_or("the failure has no error")?;
    assert_eq!(failure.code, ErrorCode::ProviderUnavailable, "{failure:?}");
    assert!(history.iter().all(|h| h.bank_name.as_deref().is_some_and(|b| !b.is_empty())));
    assert!(history.first().is_some_and(|h| h.finished_at.is_some()));
    let all = env.kontor.sync_history(None).map_err(fail("history"))?;
    assert_eq!(all, history, "one connection: the overall history is the same");
    let last = env.detail(&id)?.last_sync.ok_or("no last sync")?;
    assert_eq!(last.outcome, SyncOutcome::Succeeded);
    Ok(())
}

#[tokio::test]
async fn removing_a_connection_deletes_it_at_the_bank_and_every_row_in_the_vault() -> TestResult {
    let env = env(90).await?;
    let id = env.link("demo_no_msa").await?;
    let detail = env.detail(&id)?;
    assert!(env.count("SELECT count(*) FROM transactions_fts")? > 0);

    let removed = env.kontor.remove_connection(&id).await.map_err(fail("remove"))?;
    assert_eq!(removed.accounts, 3);
    assert_eq!(removed.transactions, detail.transaction_count);
    assert!(removed.deleted_at_provider);
    assert!(removed.secrets_removed, "the provider's last connection takes its user along");
    let user_secret = format!("provider-user:{}", env.config_id);
    assert!(matches!(env.keyring.get(&user_secret), Ok(None)), "the finAPI user's password left the keyring");
    for table in ["connections", "accounts", "transactions", "transactions_fts", "balances", "sync_journal"] {
        assert_eq!(env.count(&format!("SELECT count(*) FROM {table}"))?, 0, "{table}");
    }
    assert!(env.kontor.connections().map_err(fail("connections"))?.is_empty());
    let again = env.kontor.remove_connection(&id).await.err().map(|e| e.code);
    assert_eq!(again, Some(ErrorCode::NotFound));

    // The bank forgot it too: the same login links again (with a new finAPI user) instead of ENTITY_EXISTS.
    let relinked = env.link("demo_no_msa").await?;
    assert_ne!(relinked, id);
    assert!(matches!(env.keyring.get(&user_secret), Ok(Some(_))), "a new user for the new link");
    Ok(())
}

#[tokio::test]
async fn a_connection_the_bank_already_forgot_is_still_removed_from_the_vault() -> TestResult {
    let env = env(90).await?;
    let id = env.link("demo_no_msa").await?;
    let provider_connection = env
        .kontor
        .with_store(|s| s.connection(&ConnectionId::from(id.as_str())))
        .map_err(fail("connection"))?
        .ok_or("no connection")?
        .provider_connection_id;

    // Behind Kontor's back: Kontor's finAPI user deletes the connection at the bank.
    let config = kontor_core::domain::ProviderConfigId::from(env.config_id.as_str());
    let user: serde_json::Value = env
        .kontor
        .with_store(|s| s.provider_session(&config, "finapi-user"))
        .map_err(fail("user"))?
        .and_then(|json| serde_json::from_str(&json).ok())
        .ok_or("no finAPI user")?;
    let password =
        env.keyring.get(&format!("provider-user:{}", env.config_id)).map_err(fail("keyring"))?.ok_or("no password")?;
    let http = reqwest::Client::new();
    let base = env.bank.base_url();
    let token: serde_json::Value = http
        .post(format!("{base}/api/v2/oauth/token"))
        .form(&[
            ("grant_type", "password"),
            ("client_id", "kontor-demo-v2"),
            ("client_secret", DEMO_CLIENT_SECRET),
            ("username", user["id"].as_str().unwrap_or_default()),
            ("password", password.expose().as_str()),
        ])
        .send()
        .await
        .map_err(fail("token"))?
        .json()
        .await
        .map_err(fail("token json"))?;
    let deleted = http
        .delete(format!("{base}/api/v2/bankConnections/{provider_connection}"))
        .bearer_auth(token["access_token"].as_str().unwrap_or_default())
        .send()
        .await
        .map_err(fail("delete at the bank"))?;
    assert!(deleted.status().is_success(), "{}", deleted.status());

    let removed = env.kontor.remove_connection(&id).await.map_err(fail("remove"))?;
    assert!(!removed.deleted_at_provider, "the bank no longer knew it: {removed:?}");
    assert_eq!(removed.accounts, 3);
    assert_eq!(env.count("SELECT count(*) FROM transactions")?, 0);
    Ok(())
}

#[tokio::test]
async fn a_refused_iban_asks_for_the_ibans_again_with_the_banks_words() -> TestResult {
    let env = env(90).await?;
    let catalog = kontor_sandbox::finapi::banks::catalog(DemoBankConfig::for_tests().seed);
    let ibans_of = |bank: u64| {
        catalog
            .get(bank)
            .map(|b| kontor_sandbox::data::generate_login_ibans(1, &b.identity(), "demo"))
            .unwrap_or_default()
    };
    let foreign = ibans_of(280001).into_iter().next().ok_or("no IBAN at the test bank")?;
    let start = StartLink {
        provider_config_id: env.config_id.clone(),
        bank_id: "280003".into(),
        interface: None,
        callback_url: None,
    };
    let mut update = env.kontor.start_link(start).await.map_err(fail("start_link"))?;
    let mut refused = false;
    let mut asked_again = false;
    for _ in 0..10 {
        let FlowUpdate::NeedsInput { flow_id, request, error } = update.clone() else { break };
        let answer = match (request, refused) {
            (UserRequest::EnterCredentials { .. }, true) => {
                return Err("a refused IBAN went back to the login instead of the IBAN step".into());
            }
            (UserRequest::EnterCredentials { fields, .. }, false) => UserAnswer::Credentials {
                values: fields
                    .iter()
                    .map(|f| LoginValue { label: f.label.clone(), value: SecretString::new("demo".into()) })
                    .collect(),
                store_secrets: false,
            },
            (UserRequest::SelectAccounts { .. }, false) => {
                refused = true;
                UserAnswer::Accounts { ibans: vec![foreign.clone()] }
            }
            (UserRequest::SelectAccounts { .. }, true) => {
                let error = error.ok_or("the IBAN step came back without the bank's words")?;
                assert_eq!(error.code, ErrorCode::InvalidInput);
                assert!(error.bank_message.as_deref().is_some_and(|m| m.contains(&foreign)), "{error:?}");
                asked_again = true;
                UserAnswer::Accounts { ibans: ibans_of(280003) }
            }
            _ => break,
        };
        update = env.kontor.answer(&flow_id, answer).await.map_err(fail("answer"))?;
        if asked_again {
            break;
        }
    }
    assert!(asked_again, "the IBAN step was not asked again: {update:?}");
    assert!(refused, "the bank never asked for IBANs");
    let done = env.drive(update, "demo").await?;
    assert!(matches!(done, FlowUpdate::Done { .. }), "{done:?}");
    Ok(())
}
