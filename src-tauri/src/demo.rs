//! The Demo Bank, in process: with no real provider configured, Kontor starts
//! [`kontor_sandbox::DemoBank`] on a random loopback port and points the demo provider
//! configurations at it (its finAPI face and its finX face), so "Demo Bank (finAPI)" and
//! "Demo Bank (finX)" work without any account anywhere.
//!
//! [`DemoBankHost::ensure`] is idempotent and cheap once the bank runs; it is called at startup,
//! after an unlock, and before every linking or syncing command (so a command that races the
//! startup waits for the bank instead of reaching a stale port). The bank's own state (its users
//! and connections) lives in `<data dir>/demo-bank.json`, so linked demo accounts still sync after
//! a restart.

use std::path::PathBuf;

use kontor_core::api::Kontor;
use kontor_core::api::dto::VaultState;
use kontor_sandbox::{DemoBank, DemoBankConfig, RunningDemoBank};
use tokio::sync::Mutex;

#[derive(Debug)]
pub struct DemoBankHost {
    state_file: PathBuf,
    bank: Mutex<Option<RunningDemoBank>>,
}

impl DemoBankHost {
    pub fn new(data_dir: &std::path::Path) -> Self {
        Self { state_file: data_dir.join("demo-bank.json"), bank: Mutex::new(None) }
    }

    /// Starts the Demo Bank and registers it as the demo providers (finAPI and finX), unless the vault is not open
    /// yet or a real provider is configured. Problems are logged: linking then reports them.
    pub async fn ensure(&self, kontor: &Kontor) {
        if !matches!(kontor.status().vault, VaultState::Ready) {
            return;
        }
        match kontor.has_real_provider() {
            Ok(false) => {}
            Ok(true) => return,
            Err(err) => {
                tracing::warn!(code = ?err.code, "cannot read the provider configurations: {}", err.message);
                return;
            }
        }
        let mut bank = self.bank.lock().await;
        if bank.is_none() {
            let config = DemoBankConfig {
                state_file: Some(self.state_file.clone()),
                ..DemoBankConfig::default().with_environment()
            };
            match DemoBank::start(config).await {
                Ok(running) => {
                    tracing::info!("Demo Bank listening on {}", running.base_url());
                    *bank = Some(running);
                }
                Err(err) => {
                    tracing::warn!("the Demo Bank did not start: {err}");
                    return;
                }
            }
        }
        if let Some(running) = bank.as_ref() {
            if let Err(err) = kontor.ensure_demo_provider(&running.base_url()) {
                tracing::warn!(code = ?err.code, "cannot register the Demo Bank: {}", err.message);
            }
            // The same server speaks finX: "Demo Bank (finX)" next to "Demo Bank (finAPI)".
            if let Err(err) = kontor.ensure_demo_finx_provider(&running.base_url()) {
                tracing::warn!(code = ?err.code, "cannot register the Demo Bank's finX face: {}", err.message);
            }
        }
    }
}
