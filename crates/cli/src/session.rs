//! One command's view of Kontor: the vault opened the way the app opens it, and, where the command talks to
//! a bank, the Demo Bank started in-process when no real provider is configured.
//!
//! Unlocking: `Kontor::start()` opens a keyring-protected vault (or creates one in the OS keyring). A
//! passphrase-protected vault, or a first start where no keyring answers, needs the passphrase: from
//! `KONTOR_PASSPHRASE` (for automation) or a masked prompt on the terminal. With `KONTOR_PASSPHRASE` set and no
//! vault yet, the new vault is protected by that passphrase and the keyring is not asked for it.

use std::path::PathBuf;
use std::sync::Arc;

use kontor_core::api::Kontor;
use kontor_core::api::dto::{KeyringCause, VaultState};
use kontor_core::api::link::LinkOptions;
use kontor_core::api::link_dto::ProviderConfigSummary;
use kontor_core::secret::SecretString;
use kontor_core::vault::{OsKeyring, VaultPaths};
use kontor_core::{ErrorCode, KontorError, clock};
use kontor_sandbox::{DemoBank, DemoBankConfig, RunningDemoBank};

use crate::commands::{CommandFailure, note};

/// The vault passphrase for scripts. Environment variables can leak (other processes of the same user,
/// crash reports, CI logs): prefer the keyring or the prompt where a person is present.
pub const PASSPHRASE_ENV: &str = "KONTOR_PASSPHRASE";
/// Use an already running Demo Bank (e.g. the `kontor-sandbox` binary) instead of starting one in-process.
pub const DEMO_BANK_URL_ENV: &str = "KONTOR_DEMO_BANK_URL";
/// Spacing of decoupled ("approve in your app") polls in milliseconds; finAPI asks for at least 5000.
pub const POLL_INTERVAL_ENV: &str = "KONTOR_POLL_INTERVAL_MS";

/// Options every command shares.
#[derive(Debug, Clone)]
pub struct Globals {
    pub data_dir: Option<PathBuf>,
    pub json: bool,
}

/// An open vault, and the Demo Bank if this command started one.
#[derive(Debug)]
pub struct Session {
    pub kontor: Kontor,
    /// Kept alive for the command's duration; dropping it stops the server.
    demo_bank: Option<RunningDemoBank>,
}

impl Session {
    /// Opens the vault (asking for the passphrase if needed).
    pub fn open(globals: &Globals) -> Result<Self, CommandFailure> {
        let dir = match &globals.data_dir {
            Some(dir) => dir.clone(),
            None => kontor_core::paths::data_dir()?,
        };
        let kontor = Kontor::new(dir.clone(), Arc::new(OsKeyring::default()), clock::system());
        unlock(&kontor, &dir)?;
        Ok(Self { kontor, demo_bank: None })
    }

    /// Like [`Session::open`], then makes the Demo Bank reachable when it is (or may become) in use: with no
    /// real provider configured, or when a Demo Bank configuration exists whose connections may be synced.
    pub async fn open_online(globals: &Globals) -> Result<Self, CommandFailure> {
        let mut session = Self::open(globals)?;
        let has_demo = session.kontor.provider_configs()?.iter().any(|c| c.is_demo);
        if !session.kontor.has_real_provider()? || has_demo {
            session.start_demo_bank().await?;
        }
        Ok(session)
    }

    async fn start_demo_bank(&mut self) -> Result<(), CommandFailure> {
        let base_url = match std::env::var(DEMO_BANK_URL_ENV).ok().filter(|u| !u.trim().is_empty()) {
            Some(url) => url.trim().trim_end_matches('/').to_owned(),
            None => {
                // The bank's users and connections survive between commands, so `kontor sync` finds what
                // `kontor link` made (the same file the desktop app uses).
                let state_file = self.kontor.data_dir().join("demo-bank.json");
                let config =
                    DemoBankConfig { state_file: Some(state_file), ..DemoBankConfig::default().with_environment() };
                let bank = DemoBank::start(config).await.map_err(|err| {
                    KontorError::new(ErrorCode::ProviderUnavailable, format!("The Demo Bank could not start: {err}"))
                })?;
                let url = bank.base_url();
                self.demo_bank = Some(bank);
                url
            }
        };
        self.kontor.ensure_demo_provider(&base_url)?;
        Ok(())
    }

    /// The provider configuration to use: the one named, else the only real one, else the Demo Bank.
    pub fn provider(&self, wanted: Option<&str>) -> Result<ProviderConfigSummary, CommandFailure> {
        let configs = self.kontor.provider_configs()?;
        if let Some(wanted) = wanted {
            return configs.into_iter().find(|c| c.id == wanted).ok_or_else(|| {
                CommandFailure::Kontor(KontorError::not_found(format!(
                    "There is no provider configuration {wanted}; `kontor provider list` shows them."
                )))
            });
        }
        let (real, demo): (Vec<_>, Vec<_>) = configs.into_iter().partition(|c| !c.is_demo);
        match real.len() {
            0 => demo.into_iter().next().ok_or_else(|| {
                CommandFailure::Kontor(KontorError::not_found(
                    "No provider is configured; add one with `kontor provider add`.",
                ))
            }),
            1 => real.into_iter().next().ok_or_else(|| CommandFailure::InvalidInput(String::new())),
            _ => Err(CommandFailure::InvalidInput(
                "Several providers are configured; choose one with --provider (see `kontor provider list`).".to_owned(),
            )),
        }
    }

    /// Link settings for this command: the callback URL (a loopback listener) and a progress sink.
    pub fn set_link_options(
        &self,
        callback_url: Option<String>,
        progress: kontor_core::api::link::ProgressSink,
        finx_save_secrets: bool,
    ) {
        let mut options = LinkOptions { finx_save_secrets, ..LinkOptions::default() };
        if let Some(url) = callback_url {
            options.callback_url = url;
        }
        if let Some(ms) = std::env::var(POLL_INTERVAL_ENV).ok().and_then(|v| v.trim().parse::<i64>().ok()) {
            options.poll_interval_ms = ms.max(0);
        }
        options.progress = Some(progress);
        self.kontor.set_link_options(options);
    }

    /// Closes the vault and stops the Demo Bank.
    pub async fn close(mut self) {
        if let Err(err) = self.kontor.close() {
            tracing::warn!(code = ?err.code, "could not close the vault: {}", err.message);
        }
        if let Some(bank) = self.demo_bank.take() {
            bank.shutdown().await;
        }
    }
}

fn unlock(kontor: &Kontor, dir: &std::path::Path) -> Result<(), CommandFailure> {
    let from_env = std::env::var(PASSPHRASE_ENV).ok().filter(|p| !p.is_empty()).map(SecretString::new);
    if from_env.is_some() && !VaultPaths::new(dir).exists() {
        // Automation: a new vault protected by the given passphrase, without touching the keyring.
        if let Some(passphrase) = &from_env {
            kontor.create_with_passphrase(passphrase)?;
        }
        return Ok(());
    }
    match kontor.start().vault {
        VaultState::Ready => Ok(()),
        VaultState::NeedsPassphrase => {
            let passphrase = match from_env {
                Some(p) => p,
                None => prompt_secret("Passphrase for Kontor's vault: ")?,
            };
            kontor.unlock_with_passphrase(&passphrase)?;
            Ok(())
        }
        VaultState::KeyringUnavailable { error, cause } => {
            let passphrase = match from_env {
                Some(p) => p,
                None => {
                    let why = match cause {
                        KeyringCause::NoSessionBus => {
                            "This process has no D-Bus session bus (xvfb-run, SSH, a container), so no system keyring can be reached; run Kontor inside your desktop session to keep the key in the keyring.\n"
                        }
                        KeyringCause::ServiceFailed => "",
                    };
                    note(&format!(
                        "{}\n{why}Kontor creates a new vault at {} protected by a passphrase.",
                        error.message,
                        dir.display()
                    ));
                    let first = prompt_secret("New passphrase (at least 8 characters): ")?;
                    let again = prompt_secret("The same passphrase again: ")?;
                    if first.expose() != again.expose() {
                        return Err(CommandFailure::InvalidInput("The two passphrases differ.".to_owned()));
                    }
                    first
                }
            };
            kontor.create_with_passphrase(&passphrase)?;
            Ok(())
        }
        VaultState::Failed { error } => Err(CommandFailure::Kontor(error)),
    }
}

/// Asks for a secret on the terminal without echo. Without a terminal, fails with a hint to the environment
/// variable or flag that provides the value.
pub fn prompt_secret(prompt: &str) -> Result<SecretString, CommandFailure> {
    rpassword::prompt_password(prompt).map(SecretString::new).map_err(|err| {
        CommandFailure::InvalidInput(format!(
            "Kontor needs a secret but cannot ask for it on a terminal ({err}); see `docs/cli.md` for the environment variables."
        ))
    })
}
