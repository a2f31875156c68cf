//! The state one running Demo Bank shares between its HTTP handlers.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::NaiveDate;

use crate::config::DemoBankConfig;
use crate::faults::FaultSwitch;
use crate::finapi::banks::BankCatalog;
use crate::finapi::store::Store;
use crate::finx::store::FinxStore;

/// Configuration, directory, fault plan and the mutable [`Store`].
#[derive(Debug)]
pub struct DemoBankState {
    pub config: DemoBankConfig,
    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub base_url: String,
    pub faults: FaultSwitch,
    pub catalog: BankCatalog,
    pub today: NaiveDate,
    store: Mutex<Store>,
    /// The finX face's store (its handlers hold a clone of the `Arc`).
    pub finx_store: Arc<Mutex<FinxStore>>,
    /// The JSON last written to the state file (to skip writes when nothing changed).
    saved: Mutex<Option<String>>,
    /// Every request received (method, path, time), for tests.
    pub requests: crate::requests::RequestLog,
}

pub type SharedState = Arc<DemoBankState>;

impl DemoBankState {
    /// A fresh state; with a `state_file`, the stores saved there.
    pub fn new(config: DemoBankConfig, base_url: String, faults: FaultSwitch, today: NaiveDate) -> Self {
        let catalog = crate::finapi::banks::catalog(config.seed);
        let (store, finx) = config.state_file.as_deref().map(crate::persist::load).unwrap_or_default();
        Self {
            config,
            base_url,
            faults,
            catalog,
            today,
            store: Mutex::new(store),
            finx_store: Arc::new(Mutex::new(finx)),
            saved: Mutex::new(None),
            requests: crate::requests::RequestLog::default(),
        }
    }

    /// The store. Never hold the guard across an `.await`.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Writes both faces' stores to the state file if there is one and they changed since the last write.
    pub fn persist(&self) {
        let Some(path) = self.config.state_file.as_deref() else { return };
        // Held while snapshotting and writing, so that concurrent requests write in order.
        let mut saved = self.saved.lock().unwrap_or_else(PoisonError::into_inner);
        let snapshot = self.store().snapshot(self.config.seed);
        let finx = self.finx_store.lock().unwrap_or_else(PoisonError::into_inner).snapshot();
        let json = match crate::persist::to_json(&snapshot, &finx) {
            Ok(json) => json,
            Err(error) => {
                tracing::warn!(%error, "cannot serialise the Demo Bank's state");
                return;
            }
        };
        if saved.as_deref() == Some(json.as_str()) {
            return;
        }
        match crate::persist::write_atomically(path, &json) {
            Ok(()) => *saved = Some(json),
            Err(error) => tracing::warn!(path = %path.display(), %error, "cannot write the Demo Bank's state file"),
        }
    }
}
