//! The facade: the one API the desktop shell, the CLI and the journeys call.
//!
//! [`Kontor`] owns the vault's lifecycle (create, unlock, status) and hands out transport DTOs
//! ([`dto`]) that cross IPC unchanged; their TypeScript twins in `ui/src/bindings.ts` are generated
//! from them ([`bindings`]). Errors cross as [`crate::KontorError`]. Store access is serialised by a
//! mutex that is never held across an `.await`.

pub mod bindings;
pub mod connections;
pub mod dto;
pub mod finx;
pub mod link;
pub mod link_dto;
pub mod preferences;
pub mod transactions;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rust_decimal::Decimal;

use crate::clock::SharedClock;
use crate::domain::Currency;
use crate::error::{ErrorCode, KontorError, Result};
use crate::secret::SecretString;
use crate::store::Store;
use crate::vault::{self, KeySource, SecretStore, VaultPaths};
use dto::{AccountSummary, AppStatus, ConnectionSummary, CurrencyTotal, Overview, VaultState};

const ONBOARDING_DONE: &str = "onboarding_done";

#[derive(Debug)]
pub struct Kontor {
    paths: VaultPaths,
    keyring: Arc<dyn SecretStore>,
    clock: SharedClock,
    store: Mutex<Option<Store>>,
    last_open_error: Mutex<Option<KontorError>>,
    /// Provider clients, running flows' secrets and link options (memory only).
    link: link::LinkRuntime,
}

impl Kontor {
    pub fn new(data_dir: impl Into<PathBuf>, keyring: Arc<dyn SecretStore>, clock: SharedClock) -> Self {
        Self {
            paths: VaultPaths::new(data_dir),
            keyring,
            clock,
            store: Mutex::new(None),
            last_open_error: Mutex::new(None),
            link: link::LinkRuntime::default(),
        }
    }

    pub fn data_dir(&self) -> &Path {
        &self.paths.dir
    }

    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    pub fn keyring(&self) -> &Arc<dyn SecretStore> {
        &self.keyring
    }

    /// The open store, after taking in the outcome of a page check that ran meanwhile: a store
    /// whose file turned out damaged is closed without writing to it, and its error is remembered.
    fn lock_store(&self) -> MutexGuard<'_, Option<Store>> {
        let mut guard = self.store.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(Err(err)) = guard.as_mut().map(Store::settle) {
            tracing::warn!(code = ?err.code, "the vault was closed: {}", err.message);
            *guard = None;
            drop(guard);
            *self.last_open_error.lock().unwrap_or_else(PoisonError::into_inner) = Some(err);
            guard = self.store.lock().unwrap_or_else(PoisonError::into_inner);
        }
        guard
    }

    fn remember(&self, outcome: Result<Store>) -> Result<()> {
        match outcome {
            Ok(store) => {
                *self.lock_store() = Some(store);
                *self.last_open_error.lock().unwrap_or_else(PoisonError::into_inner) = None;
                Ok(())
            }
            Err(err) => {
                *self.last_open_error.lock().unwrap_or_else(PoisonError::into_inner) = Some(err.clone());
                Err(err)
            }
        }
    }

    /// The full page check of the vault just opened, to run on another thread (the desktop app
    /// runs it in the background after start); None if there is nothing to check. Until it passed,
    /// nothing is written into the vault's file (see [`Store`]).
    pub fn take_page_check(&self) -> Option<crate::store::PageCheck> {
        self.lock_store().as_mut().and_then(Store::take_page_check)
    }

    /// Reads every page of the open vault now (`kontor vault check`, tests).
    pub fn check_pages(&self) -> Result<()> {
        let outcome = self.with_store(Store::check_pages);
        if outcome.as_ref().is_err_and(|err| err.code == ErrorCode::VaultCorrupt) {
            drop(self.lock_store());
        }
        outcome
    }

    /// Opens the vault the way it was set up, or creates one in the OS keyring on first start.
    /// Failures are remembered and reported by [`Kontor::status`].
    pub fn start(&self) -> AppStatus {
        if self.lock_store().is_none() {
            let settled = vault::finish_interrupted_start(&self.paths, Some(self.keyring.as_ref()));
            let outcome = match settled.and_then(|()| self.paths.read_meta()) {
                Ok(Some(meta)) if meta.key_source == KeySource::Passphrase => {
                    Err(KontorError::new(ErrorCode::PassphraseRequired, "Enter your passphrase to unlock Kontor."))
                }
                Ok(Some(_)) => vault::open_with_keyring(&self.paths, self.keyring.as_ref()),
                Ok(None) if self.paths.exists() => vault::open_with_keyring(&self.paths, self.keyring.as_ref()),
                Ok(None) => vault::create_with_keyring(&self.paths, self.keyring.as_ref()),
                Err(err) => Err(err),
            };
            if let Err(err) = self.remember(outcome) {
                tracing::warn!(code = ?err.code, "vault not opened: {}", err.message);
            }
        }
        self.status()
    }

    pub fn status(&self) -> AppStatus {
        let ready = self.lock_store().is_some();
        let vault = if ready {
            VaultState::Ready
        } else {
            match self.last_open_error.lock().unwrap_or_else(PoisonError::into_inner).clone() {
                Some(err) if err.code == ErrorCode::PassphraseRequired => VaultState::NeedsPassphrase,
                Some(err) if err.code == ErrorCode::KeyringUnavailable && !self.paths.exists() => {
                    let bus = std::env::var_os("DBUS_SESSION_BUS_ADDRESS");
                    let runtime = std::env::var_os("XDG_RUNTIME_DIR").map(std::path::PathBuf::from);
                    let cause = dto::KeyringCause::from_environment(bus.as_deref(), runtime.as_deref());
                    VaultState::KeyringUnavailable { error: err, cause }
                }
                Some(err) => VaultState::Failed { error: err },
                None => VaultState::Failed {
                    error: KontorError::new(ErrorCode::VaultLocked, "The vault has not been opened yet."),
                },
            }
        };
        let first_run = ready && self.with_store(|s| s.setting(ONBOARDING_DONE)).ok().flatten().is_none();
        let key_source = self.paths.read_meta().ok().flatten().map(|m| match m.key_source {
            KeySource::Keyring => dto::KeySourceDto::Keyring,
            KeySource::Passphrase => dto::KeySourceDto::Passphrase,
        });
        AppStatus { vault, first_run, data_dir: self.paths.dir.display().to_string(), key_source }
    }

    /// Where no keyring answers: creates the vault with a passphrase instead.
    pub fn create_with_passphrase(&self, passphrase: &SecretString) -> Result<AppStatus> {
        self.remember(vault::create_with_passphrase(&self.paths, passphrase))?;
        Ok(self.status())
    }

    pub fn unlock_with_passphrase(&self, passphrase: &SecretString) -> Result<AppStatus> {
        let outcome = vault::unlock_with_passphrase(&self.paths, passphrase);
        if let Err(err) = &outcome {
            if err.code == ErrorCode::VaultWrongKey {
                return Err(KontorError::new(ErrorCode::VaultWrongKey, "That passphrase does not unlock this vault."));
            }
        }
        self.remember(outcome)?;
        Ok(self.status())
    }

    /// Moves the vault's key to the OS keyring or to a passphrase.
    pub fn change_key_source(&self, target: KeySource, passphrase: Option<&SecretString>) -> Result<AppStatus> {
        {
            let guard = self.lock_store();
            let store = guard.as_ref().ok_or_else(locked)?;
            vault::rekey(&self.paths, store, self.keyring.as_ref(), target, passphrase)?;
        }
        Ok(self.status())
    }

    pub fn complete_onboarding(&self) -> Result<AppStatus> {
        self.with_store(|s| s.set_setting(ONBOARDING_DONE, "1"))?;
        Ok(self.status())
    }

    /// Runs `f` on the open store. Keep `f` short and synchronous.
    pub fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
        let mut guard = self.lock_store();
        let Some(store) = guard.as_mut() else {
            drop(guard);
            return Err(self.why_closed());
        };
        f(store)
    }

    /// Closes the vault (checkpointing the WAL), e.g. before exit.
    pub fn close(&self) -> Result<()> {
        match self.lock_store().take() {
            Some(store) => store.close(),
            None => Ok(()),
        }
    }

    /// Balances of the accounts the user did not hide, grouped by connection (see [`connections`]
    /// for names, order and duplicates); the total counts an account held by two connections once.
    pub fn overview(&self) -> Result<Overview> {
        let now = self.clock.now();
        self.with_store(|store| {
            let connections = store.connections()?;
            let accounts = connections::visible_accounts(store.accounts_with_choices()?, &connections);
            let mut totals: BTreeMap<Currency, Decimal> = BTreeMap::new();
            let bank_of = |id: &crate::domain::ConnectionId| {
                connections.iter().find(|c| &c.id == id).map(|c| c.bank_name.clone()).unwrap_or_default()
            };
            let mut summaries = Vec::with_capacity(accounts.len());
            for (choices, duplicate_of) in &accounts {
                let account = &choices.account;
                if let (Some(balance), None) = (account.balance_booked, duplicate_of) {
                    *totals.entry(balance.currency).or_default() += balance.amount;
                }
                let mut summary = AccountSummary::from_domain(account, bank_of(&account.connection_id));
                if let Some(name) = &choices.custom_name {
                    summary.bank_account_name = Some(std::mem::replace(&mut summary.name, name.clone()));
                }
                summary.duplicate_of = duplicate_of.as_ref().map(ToString::to_string);
                summaries.push(summary);
            }
            Ok(Overview {
                accounts: summaries,
                totals: totals
                    .into_iter()
                    .map(|(currency, amount)| CurrencyTotal {
                        currency: currency.to_string(),
                        amount: amount.to_string(),
                    })
                    .collect(),
                connections: connections
                    .iter()
                    .map(|c| {
                        let expiry = (c.interface.as_deref() == Some(finx::ONGOING_INTERFACE))
                            .then(|| finx::access_expiry(store, &c.provider_config_id))
                            .flatten();
                        ConnectionSummary::from_domain(c).with_deadlines(c, now, expiry)
                    })
                    .collect(),
            })
        })
    }
}

impl Kontor {
    /// Why there is no open store: a damaged file found by its page check, or simply locked.
    fn why_closed(&self) -> KontorError {
        match self.last_open_error.lock().unwrap_or_else(PoisonError::into_inner).as_ref() {
            Some(err) if err.code == ErrorCode::VaultCorrupt => err.clone(),
            _ => locked(),
        }
    }
}

fn locked() -> KontorError {
    KontorError::new(ErrorCode::VaultLocked, "The vault is locked. Unlock Kontor first.")
}
