//! The state one running Demo Bank shares between its HTTP handlers.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::NaiveDate;

use crate::config::DemoBankConfig;
use crate::faults::FaultSwitch;
use crate::finapi::banks::BankCatalog;
use crate::finapi::store::Store;

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
}

pub type SharedState = Arc<DemoBankState>;

impl DemoBankState {
    pub fn new(config: DemoBankConfig, base_url: String, faults: FaultSwitch, today: NaiveDate) -> Self {
        let catalog = crate::finapi::banks::catalog(config.seed);
        Self { config, base_url, faults, catalog, today, store: Mutex::new(Store::default()) }
    }

    /// The store. Never hold the guard across an `.await`.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
